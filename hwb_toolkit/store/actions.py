"""The store's actions register: saving, numbering and reading actions."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import InputError, StoreError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
)
from hwb_toolkit.schema import (
    ACTION_COLUMNS,
    ACTION_LIST_COLUMNS,
)
from hwb_toolkit.store.rows import (
    WriteSummary,
    _bad_row,
    _frame,
    _iso,
    _missing,
    _naive_utc,
    _now,
    _prepare_action,
)
from hwb_toolkit.store.tables import _ACTION_DATE_COLUMNS, actions_table
from hwb_toolkit.values import require_columns


def next_action_id(existing: Iterable[Any], prefix: str = "A") -> str:
    """The next free action id like "A049": one more than the largest "<prefix><number>" in use.

    Numbers keep the widest zero-padding in use (at least 3 digits: "A001");
    ids that do not look like "<prefix><digits>" are ignored, except that the
    result is never one of ``existing``. Pure: :meth:`Store.new_action` calls
    it inside its write transaction, which is what makes the id safe to use.
    """
    existing = [str(value) for value in existing if isinstance(value, str)]
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
    digits = [match.group(1) for value in existing if (match := pattern.fullmatch(value))]
    width = max([3] + [len(d) for d in digits])
    candidate = max((int(d) for d in digits), default=0) + 1
    taken = set(existing)
    while f"{prefix}{candidate:0{width}d}" in taken:
        candidate += 1
    return f"{prefix}{candidate:0{width}d}"


_ACTION_DB_NAMES = {"start": "start_date", "end": "end_date"}


def _action_to_db(action: Mapping[str, Any]) -> dict[str, Any]:
    stored = {}
    for column, value in action.items():
        if column in ACTION_LIST_COLUMNS:
            value = json.dumps(list(value), ensure_ascii=False)
        stored[_ACTION_DB_NAMES.get(column, column)] = value
    return stored


def _action_from_db(row: Mapping[str, Any]) -> dict[str, Any]:
    action = {}
    for column in ACTION_COLUMNS:
        value = row[_ACTION_DB_NAMES.get(column, column)]
        if column in ACTION_LIST_COLUMNS:
            value = json.loads(value)
        action[column] = value
    return action


def _action_for_caller(saved: Mapping[str, Any]) -> dict[str, Any]:
    """A stored action as returned to callers: dates as Timestamps (NaT), updated_at UTC."""
    return {
        **saved,
        "start": pd.Timestamp(saved["start"]) if saved["start"] else pd.NaT,
        "end": pd.Timestamp(saved["end"]) if saved["end"] else pd.NaT,
        "updated_at": pd.Timestamp(saved["updated_at"], tz="UTC"),
    }


def _action_content(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action without its stamps: what a save compares to decide whether anything changed."""
    return {k: v for k, v in action.items() if k not in ("updated_at", "updated_by")}


class ActionsMixin:
    """Actions (mixed into :class:`hwb_toolkit.store.Store`, which provides the transactions)."""

    # .. actions ....................................................................
    def save_action(self, record: Mapping[str, Any] | pd.Series, by: str, *,
                    expected_updated_at: Any = None, keep_stamps: bool = False) -> dict[str, Any]:
        """Insert or update one action (ACTION_COLUMNS; lists or ";"-joined text).

        The store stamps ``updated_at`` (now, UTC) and ``updated_by`` = ``by``
        (``keep_stamps=True`` keeps the record's own, for imports). An update
        records before/after in the history; saving identical content is a
        no-op. With ``expected_updated_at`` (the ``updated_at`` the caller read),
        the save fails with :class:`StoreError` if the action has changed since.
        Returns the action as stored (lists as lists, ``updated_at`` UTC).
        To add an action that has no id yet, use :meth:`new_action`: an id
        worked out from a register read earlier may have been taken since, and
        saving under it would update that other action.
        """
        action = _prepare_action(record)
        stamps = None
        if keep_stamps:
            stamps = (_naive_utc(record.get("updated_at")), None if _missing(record.get("updated_by"))
                      else str(record.get("updated_by")))
        expected = _naive_utc(expected_updated_at) if expected_updated_at is not None else None
        saved, _ = self._write(lambda c: self._save_action_tx(c, action, by, expected, stamps))
        return _action_for_caller(saved)

    def new_action(self, record: Mapping[str, Any] | pd.Series, by: str, *,
                   prefix: str = "A") -> dict[str, Any]:
        """Add a new action under the next free id; returns it as stored (with its id).

        The id is :func:`next_action_id` of the ids in the store ("A049" after
        "A048"), chosen inside the write transaction that inserts the action,
        so concurrent callers always get distinct ids and never update each
        other's action (see the module notes). ``record`` is as for
        :meth:`save_action` but without an ``action_id`` (blank or absent): a
        record that names one raises :class:`StoreError` (use
        :meth:`save_action` to save under an id of your choosing). The store
        stamps ``updated_at`` and ``updated_by`` = ``by``; the history records
        an insert by ``by``.
        """
        if isinstance(record, pd.Series):
            record = record.to_dict()
        if not isinstance(record, Mapping):
            raise InputError(f"an action must be a mapping, not {type(record).__name__}")
        given = record.get("action_id")
        if not _missing(given) and str(given).strip():
            raise StoreError(f"new_action gives the action its id, but this one already has "
                             f"{str(given).strip()!r}; use save_action to save under a chosen id")
        prefix = str(prefix)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,19}", prefix):
            raise StoreError(f"an action id prefix must be a letter then up to 19 letters, digits, "
                             f"'-' or '_', not {prefix!r}")
        # Validated with a stand-in id; the real one is chosen under the write lock.
        action = _prepare_action({**record, "action_id": prefix})

        def work(connection: Connection) -> dict[str, Any]:
            taken = connection.execute(sa.select(actions_table.c.action_id).where(
                actions_table.c.action_id.startswith(prefix, autoescape=True))).scalars().all()
            chosen = {**action, "action_id": next_action_id(taken, prefix)}
            saved, outcome = self._save_action_tx(connection, chosen, by, None, None)
            if outcome != "inserted":  # cannot happen: the id was free in this transaction
                raise StoreError(f"action {chosen['action_id']!r} appeared while being added")
            return saved

        # On databases that do not serialise writers, a concurrent insert of the same id
        # fails the unique key and _write runs ``work`` again, choosing the next id.
        return _action_for_caller(self._write(work))

    def _save_action_tx(self, connection: Connection, action: dict[str, Any], by: str,
                        expected: dt.datetime | None,
                        stamps: tuple[dt.datetime | None, str | None] | None, *,
                        newer_only: bool = False, row: int | None = None,
                        file: str | Path | None = None, reason: str | None = None,
                        ) -> tuple[dict[str, Any], str]:
        """Insert or update one validated action; returns (stored action, outcome).

        ``stamps`` = (updated_at, updated_by) to keep instead of (now, by);
        ``newer_only`` refuses to replace a stored action whose updated_at is
        not older than the stamp (imports never roll an action back).
        """
        table = actions_table
        previous_row = connection.execute(sa.select(table).where(
            table.c.action_id == action["action_id"])).mappings().first()
        now = _now()
        kept = stamps is not None and stamps[0] is not None
        if previous_row is None:
            if expected is not None:
                raise StoreError(f"action {action['action_id']!r} is not in the store, so it cannot "
                                 "have the expected updated_at", file=file, row=row)
            stamp, who = stamps if kept else (now, by)
            saved = {**action, "updated_at": stamp, "updated_by": who}
            connection.execute(table.insert().values(**_action_to_db(saved)))
            self._record_history(connection, [self._history_entry(
                "action", action["action_id"], "insert", by, now, None, saved, reason)])
            return saved, "inserted"

        previous = _action_from_db(previous_row)
        if expected is not None and previous["updated_at"] != expected:
            raise StoreError(
                f"action {action['action_id']!r} was changed by {previous['updated_by']} at "
                f"{_iso(previous['updated_at'])} after you opened it; reload it and save again",
                file=file, row=row)
        if _action_content(previous) == _action_content(action):
            return previous, "unchanged"
        if newer_only and (not kept or stamps[0] <= previous["updated_at"]):
            raise StoreError(
                f"action {action['action_id']!r}: the store holds a different version saved at "
                f"{_iso(previous['updated_at'])}, and this one is not newer "
                f"({_iso(stamps[0]) if kept else 'no updated_at'}); it was not replaced",
                file=file, row=row, column="updated_at")
        if kept:
            stamp, who = stamps
        else:
            # Strictly increasing, so an optimistic check can never match a stale read.
            stamp = max(now, previous["updated_at"] + dt.timedelta(microseconds=1))
            who = by
        saved = {**action, "updated_at": stamp, "updated_by": who}
        result = connection.execute(
            table.update()
            .where(table.c.action_id == action["action_id"],
                   table.c.updated_at == previous_row["updated_at"])
            .values(**_action_to_db(saved)))
        if result.rowcount != 1:  # another writer got in between (databases without BEGIN IMMEDIATE)
            raise StoreError(f"action {action['action_id']!r} was changed by someone else while "
                             "saving; reload it and save again", file=file, row=row)
        self._record_history(connection, [self._history_entry(
            "action", action["action_id"], "update", by, now, previous, saved, reason)])
        return saved, "updated"

    def save_actions(self, frame: pd.DataFrame, by: str, *, keep_stamps: bool = False,
                     newer_only: bool = False) -> WriteSummary:
        """Save every action of a register frame (ACTION_COLUMNS) in one transaction.

        As :meth:`save_action` row by row (row numbers in errors count from 2).
        With ``keep_stamps`` the frame's ``updated_at``/``updated_by`` are kept
        (seeding the store from ``actions.csv``); with ``newer_only`` a stored
        action is replaced only by one with a later ``updated_at``.
        """
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"actions must be a DataFrame, not {type(frame).__name__}")
        require_columns(frame, ["action_id", "title", "lead_org", "status"], None)
        return self._write(lambda c: self._save_actions_tx(
            c, frame, by, keep_stamps=keep_stamps, newer_only=newer_only, file=None, reason=None))

    def _save_actions_tx(self, connection: Connection, frame: pd.DataFrame, by: str, *,
                         keep_stamps: bool, newer_only: bool, file: str | Path | None,
                         reason: str | None) -> WriteSummary:
        prepared = []
        for position, record in enumerate(frame.to_dict("records")):
            row = position + FIRST_DATA_ROW
            stamps = None
            if keep_stamps:
                who = record.get("updated_by")
                stamps = (_naive_utc(record.get("updated_at")), None if _missing(who) else str(who))
            prepared.append((row, _prepare_action(record, row=row, file=file), stamps))
        ids = pd.Series([action["action_id"] for _, action, _ in prepared], dtype=object)
        _bad_row(ids.duplicated(), "action_id", lambda value: f"action_id {value!r} appears twice",
                 ids, file)
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        for row, action, stamps in prepared:
            _, outcome = self._save_action_tx(connection, action, by, None, stamps,
                                              newer_only=newer_only, row=row, file=file,
                                              reason=reason)
            counts[outcome] += 1
        return WriteSummary(**counts)

    def actions(self) -> pd.DataFrame:
        """The actions register in ACTION_COLUMNS order (list columns as lists of str).

        ``start``/``end`` are datetime64 dates at midnight (NaT when blank), as
        :func:`hwb_toolkit.system.actions.read_actions` returns them;
        ``updated_at`` is datetime64[us, UTC].
        """
        query = sa.select(actions_table).order_by(actions_table.c.seq)
        rows = self._read(lambda c: [_action_from_db(r) for r in c.execute(query).mappings()])
        strings = [c for c in ACTION_COLUMNS if c not in (*ACTION_LIST_COLUMNS,
                                                           *_ACTION_DATE_COLUMNS, "updated_at")]
        frame = _frame(rows, ACTION_COLUMNS, strings=strings, utc=["updated_at"])
        for column in ACTION_LIST_COLUMNS:
            frame[column] = frame[column].astype(object)
        for column in _ACTION_DATE_COLUMNS:
            frame[column] = pd.to_datetime(frame[column].astype(object)).astype("datetime64[us]")
        return frame
