"""Rows on their way into and out of the store: validated, converted, as DataFrames."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    numeric_column,
)
from hwb_toolkit.schema import (
    ACTION_LIST_COLUMNS,
    ACTION_STATUSES,
    CONTRIBUTION_COLUMNS,
    CONTRIBUTION_KINDS,
    SECTORS,
    VOTE_COLUMNS,
    VOTE_KINDS,
)
from hwb_toolkit.store.tables import _ACTION_DATE_COLUMNS, _MAX_KEY_LENGTH, CONTRIBUTION_STATUSES
from hwb_toolkit.values import require_columns


@dataclass(frozen=True)
class WriteSummary:
    """What one write did: rows inserted, updated, left as they were, held for review, stale."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    stale: int = 0


def _now() -> dt.datetime:
    """The current UTC time, naive (the store keeps every timestamp as naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive_utc(value: Any) -> dt.datetime | None:
    """One timestamp (aware, naive = UTC, ISO text) as naive UTC to the microsecond, or None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("us").tz_localize(None).to_pydatetime()


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO text for JSON and CSV: datetimes as UTC with a Z, dates as YYYY-MM-DD."""
    if _missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds") + "Z"
    return value.isoformat()


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _iso(value) if isinstance(value, dt.date) else value for key, value in row.items()
    }


def _dumps(row: Mapping[str, Any] | None) -> str | None:
    return None if row is None else json.dumps(_jsonable(row), ensure_ascii=False, sort_keys=True)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _raise_at(position: int, column: str, message: str, file: str | Path | None) -> None:
    raise InputError(message, file=file, row=position + FIRST_DATA_ROW, column=column)


def _first(flags: Iterable[bool]) -> int | None:
    """Position of the first True, or None."""
    return next((position for position, flag in enumerate(flags) if flag), None)


def _bad_row(mask: pd.Series, column: str, message: Callable[[Any], str], values: pd.Series,
             file: str | Path | None) -> None:
    """Raise InputError for the first True in ``mask`` (positions count from the first data row)."""
    position = _first(mask.to_numpy(dtype=bool))
    if position is not None:
        _raise_at(position, column, message(values.iloc[position]), file)


def _clean(value: Any, strip: bool) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    text = value if isinstance(value, str) else str(value)
    stripped = text.strip()
    if not stripped:
        return None
    return stripped if strip else text


def _texts(frame: pd.DataFrame, column: str, *, strip: bool = True) -> list[str | None]:
    """One column as str values (surrounding space stripped; blank -> None); absent -> all None."""
    if column not in frame.columns:
        return [None] * len(frame)
    return [_clean(value, strip) for value in frame[column].tolist()]


def _utc_column(frame: pd.DataFrame, column: str, file: str | Path | None) -> pd.Series:
    """A timestamp column as datetime64[us, UTC]; naive values are taken as UTC; bad cells raise."""
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=range(len(frame)), dtype="datetime64[us, UTC]")
    raw = frame[column].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw.dt.tz_localize("UTC") if raw.dt.tz is None else raw.dt.tz_convert("UTC")
    else:
        candidates = pd.Series([_clean(v, True) if not isinstance(v, dt.datetime) else v
                                for v in raw.tolist()], dtype=object)
        blank = candidates.isna()
        parsed = pd.to_datetime(candidates, utc=True, errors="coerce", format="ISO8601")
        _bad_row(parsed.isna() & ~blank, column,
                 lambda value: f"{value!r} is not a date and time (use ISO 8601, e.g. 2026-09-01T10:30:00Z)",
                 raw, file)
    return parsed.dt.floor("us").dt.as_unit("us")


def _timestamps(frame: pd.DataFrame, column: str, file: str | Path | None) -> list[dt.datetime | None]:
    """A timestamp column as naive-UTC datetimes (None when blank); bad cells raise."""
    if column not in frame.columns:
        return [None] * len(frame)
    naive = _utc_column(frame, column, file).dt.tz_convert(None)
    return [None if stamp is pd.NaT else stamp.to_pydatetime() for stamp in naive.tolist()]


def _check_rows(records: list[dict[str, Any]], file: str | Path | None, *,
                required: Iterable[str] = (), vocabularies: Mapping[str, Iterable[str]] = {},
                keys: Iterable[str] = ()) -> None:
    """Blank required cells, values outside a vocabulary, over-long keys: the first one raises."""
    for column in required:
        position = _first(record[column] is None for record in records)
        if position is not None:
            _raise_at(position, column, f"{column} is blank", file)
    for column, allowed in vocabularies.items():
        allowed = tuple(allowed)
        position = _first(record[column] is not None and record[column] not in allowed
                          for record in records)
        if position is not None:
            _raise_at(position, column, f"{column} {records[position][column]!r} is not one of "
                      f"{', '.join(allowed)}", file)
    for column in keys:
        position = _first(record[column] is not None and len(record[column]) > _MAX_KEY_LENGTH
                          for record in records)
        if position is not None:
            _raise_at(position, column, f"{records[position][column][:40]!r}... is longer than "
                      f"{_MAX_KEY_LENGTH} characters", file)


def _prepare_contributions(frame: pd.DataFrame, file: str | Path | None = None, *,
                           status: str = "visible", status_column: bool = False,
                           ) -> list[dict[str, Any]]:
    """Validate a contributions frame; return its rows as dicts of the canonical columns + status.

    Text is kept verbatim; other values lose surrounding spaces; blank is None;
    ``created_at`` is a naive UTC datetime. ``status`` is the frame's own
    ``status`` column when ``status_column`` (blank = ``status``), else ``status``.
    A row repeated exactly is kept once; the same id with other content raises.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"contributions must be a DataFrame, not {type(frame).__name__}", file=file)
    require_columns(frame, ["contribution_id", "kind", "text"], file)
    columns = {column: _timestamps(frame, column, file) if column == "created_at"
               else _texts(frame, column, strip=column != "text")
               for column in CONTRIBUTION_COLUMNS}
    records = [dict(zip(CONTRIBUTION_COLUMNS, values, strict=True))
               for values in zip(*columns.values(), strict=True)]
    _check_rows(records, file, required=("contribution_id", "text", "kind"),
                vocabularies={"kind": CONTRIBUTION_KINDS, "sector": SECTORS},
                keys=("contribution_id", "source", "session", "author", "organisation", "theme"))
    statuses = _texts(frame, "status") if status_column else [None] * len(records)
    position = _first(s is not None and s not in CONTRIBUTION_STATUSES for s in statuses)
    if position is not None:
        _raise_at(position, "status", f"status {statuses[position]!r} is not one of "
                  f"{', '.join(CONTRIBUTION_STATUSES)}", file)
    unique: dict[str, dict[str, Any]] = {}
    first_position: dict[str, int] = {}
    for position, (record, given) in enumerate(zip(records, statuses, strict=True)):
        identifier = record["contribution_id"]
        if identifier in unique:
            if {c: unique[identifier][c] for c in CONTRIBUTION_COLUMNS} != record:
                _raise_at(position, "contribution_id", f"contribution_id {identifier!r} appears twice "
                          f"with different content (rows {first_position[identifier] + FIRST_DATA_ROW} "
                          f"and {position + FIRST_DATA_ROW})", file)
            continue
        unique[identifier] = {**record, "status": given or status}
        first_position[identifier] = position
    return list(unique.values())


def _contributions_frame(records: list[dict[str, Any]], columns: list[str] = CONTRIBUTION_COLUMNS
                         ) -> pd.DataFrame:
    """Contribution rows as the canonical DataFrame (str columns, created_at UTC)."""
    return _frame(records, columns, strings=[c for c in columns if c != "created_at"],
                  utc=["created_at"])


def _ballot_id(record: Mapping[str, Any]) -> str:
    """A vote's ``vote_id``: SHA-256 of (kind, source, session, participant, item)."""
    # \x1f separates fields and \x00 marks a missing one, so no two keys collide.
    key = "\x1f".join("\x00" if record[c] is None else record[c]
                      for c in ("kind", "source", "session", "participant", "item"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


_VOTE_RULES: dict[str, tuple[Callable[[float], bool], str]] = {
    "agree_disagree": (lambda v: v in (-1.0, 0.0, 1.0), "1 (agree), -1 (disagree) or 0 (pass)"),
    "approval": (lambda v: v in (0.0, 1.0), "1 (approved) or 0"),
    "dot": (lambda v: v >= 0 and v.is_integer(), "a whole number of dots, 0 or more"),
    "rank": (lambda v: v >= 1 and v.is_integer(), "a whole-number rank, 1 = top"),
}


def _prepare_votes(frame: pd.DataFrame, file: str | Path | None = None) -> list[dict[str, Any]]:
    """Validate a votes frame; return one dict per ballot (canonical columns plus ``vote_id``)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"votes must be a DataFrame, not {type(frame).__name__}", file=file)
    require_columns(frame, ["participant", "item", "vote", "kind"], file)
    columns = {}
    for column in VOTE_COLUMNS:
        if column == "created_at":
            columns[column] = _timestamps(frame, column, file)
        elif column == "vote":
            columns[column] = numeric_column(frame.reset_index(drop=True), "vote", file).tolist()
        else:
            columns[column] = _texts(frame, column)
    records = [dict(zip(VOTE_COLUMNS, values, strict=True))
               for values in zip(*columns.values(), strict=True)]
    _check_rows(records, file, required=("participant", "item", "kind"),
                vocabularies={"kind": VOTE_KINDS}, keys=("source", "session", "participant", "item"))
    position = _first(not math.isfinite(r["vote"]) for r in records)
    if position is not None:
        _raise_at(position, "vote", "vote is blank", file)
    for position, record in enumerate(records):
        valid, wanted = _VOTE_RULES[record["kind"]]
        if not valid(record["vote"]):
            _raise_at(position, "vote", f"{record['vote']:g} is not a valid {record['kind']} vote "
                      f"(use {wanted})", file)

    ballots: dict[str, dict[str, Any]] = {}
    first_position: dict[str, int] = {}
    for position, record in enumerate(records):
        record["vote_id"] = vote_id = _ballot_id(record)
        held = ballots.get(vote_id)
        if held is None:
            ballots[vote_id], first_position[vote_id] = record, position
        elif record["kind"] == "dot":
            # Paper dots typed up one row per dot: the ballot's dots are their sum.
            latest = [t for t in (held["created_at"], record["created_at"]) if t is not None]
            ballots[vote_id] = {**held, "vote": held["vote"] + record["vote"],
                                "created_at": max(latest) if latest else None}
        else:
            rows = f"rows {first_position[vote_id] + FIRST_DATA_ROW}, {position + FIRST_DATA_ROW}"
            _raise_at(position, "vote", f"participant {record['participant']!r} has more than one "
                      f"{record['kind']} vote on item {record['item']!r} ({rows}); keep one", file)
    return list(ballots.values())


def _as_list(value: Any, column: str, row: int | None, file: str | Path | None) -> list[str]:
    """A list column value (list, ";"-joined text, or missing) as a list of non-blank str."""
    if _missing(value):
        return []
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = list(value)
    else:
        items = [value]
    cleaned: list[str] = []
    for item in items:
        if _missing(item):
            continue
        if isinstance(item, float) and item.is_integer():
            item = int(item)  # an indicator id read as a number
        text = str(item).strip()
        if ";" in text:
            raise InputError(f"{text!r}: a list item may not contain ';'", file=file, row=row,
                             column=column)
        if text:
            cleaned.append(text)
    return cleaned


def _as_date(value: Any, column: str, row: int | None, file: str | Path | None) -> dt.date | None:
    """A date cell (date, datetime, Timestamp or ISO YYYY-MM-DD text) as a date, or None."""
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{value!r} is not a date (use YYYY-MM-DD)", file=file, row=row,
                         column=column) from None


def _prepare_action(record: Mapping[str, Any] | pd.Series, *, row: int | None = None,
                    file: str | Path | None = None) -> dict[str, Any]:
    """Validate one action record; return its stored fields (lists as lists, dates as dates)."""
    if isinstance(record, pd.Series):
        record = record.to_dict()
    if not isinstance(record, Mapping):
        raise InputError(f"an action must be a mapping, not {type(record).__name__}", file=file, row=row)

    def text(column: str, *, required: bool) -> str | None:
        value = record.get(column)
        value = None if _missing(value) else str(value).strip() or None
        if required and value is None:
            raise InputError(f"{column} is blank", file=file, row=row, column=column)
        if value is not None and column in ("action_id", "lead_org") and len(value) > _MAX_KEY_LENGTH:
            raise InputError(f"{column} is longer than {_MAX_KEY_LENGTH} characters", file=file,
                             row=row, column=column)
        return value

    action = {
        "action_id": text("action_id", required=True),
        "title": text("title", required=True),
        "lead_org": text("lead_org", required=True),
        "status": text("status", required=True),
        "area_code": text("area_code", required=False),
    }
    if action["status"] not in ACTION_STATUSES:
        raise InputError(f"status {action['status']!r} is not one of {', '.join(ACTION_STATUSES)}",
                         file=file, row=row, column="status")
    for column in ACTION_LIST_COLUMNS:
        action[column] = _as_list(record.get(column), column, row, file)
    for column in _ACTION_DATE_COLUMNS:
        action[column] = _as_date(record.get(column), column, row, file)
    if action["start"] and action["end"] and action["end"] < action["start"]:
        raise InputError(f"end {action['end']} is before start {action['start']}", file=file,
                         row=row, column="end")
    return action


def _frame(rows: list[dict[str, Any]], columns: list[str], *, strings: Iterable[str] = (),
           utc: Iterable[str] = ()) -> pd.DataFrame:
    """Rows as a DataFrame in ``columns`` order with string and UTC-datetime dtypes applied."""
    frame = pd.DataFrame(rows, columns=columns)
    for column in strings:
        frame[column] = frame[column].astype("str")
    for column in utc:
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC").dt.as_unit("us") \
            if len(frame) else pd.Series(dtype="datetime64[us, UTC]")
    return frame
