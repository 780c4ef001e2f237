"""The shared store: contributions, votes, actions and workshop sessions that many partners write to.

The partner pages (workshop post-its, dots and agree/disagree, moderation, the
actions register) and the workspace all write here at once. The store is a
relational database reached through SQLAlchemy 2 Core: by default a SQLite file
in the workspace (``store.sqlite``), or any SQLAlchemy URL (for example
``postgresql+psycopg://...``) for a multi-user deployment. The SQL is portable;
only SQLite is tested.

Decisions (what a caller can rely on)
-------------------------------------
* **SQLite set-up.** Every connection sets ``busy_timeout`` (30 s by default),
  ``journal_mode=WAL`` (readers never block the writer and vice versa),
  ``foreign_keys=ON`` and ``synchronous=FULL`` (a committed post-it survives a
  power cut, not only a crashed process; ``Store(..., synchronous="NORMAL")``
  trades that for speed). Write transactions start with ``BEGIN IMMEDIATE``:
  the write lock is taken up front, so concurrent writers queue instead of
  failing with "database is locked" when a read snapshot cannot be upgraded.
  Before that, writers queue on an ``flock`` of ``<store>.lock`` polled every
  0.5-5 ms: SQLite's own busy handler naps up to 100 ms, leaving the lock idle
  and favouring the writer that just committed (measured: about 1.5x the
  throughput of 8 writers, and fairer). Reads use a plain ``BEGIN`` snapshot.
* **One call, one transaction.** Each ``add_*``/``save_action``/... call is one
  transaction: all its rows or none. A writer killed mid-transaction loses only
  its own unfinished write (SQLite discards the uncommitted WAL frames; other
  processes' commits are untouched). On databases that do not serialise writers
  (PostgreSQL), a unique-key race between two writers is retried a few times:
  the retry sees the other writer's row and treats it as already there.
* **History.** Every change writes a row to ``history`` (``entity``,
  ``entity_id``, ``action`` in insert/update/hide/unhide/approve/hold, ``by``,
  ``at`` UTC, ``reason``, ``before`` and ``after`` as JSON objects of the
  canonical row). Nothing is deleted: hiding a contribution only changes its
  status. A no-op (re-adding identical rows) writes no history.
* **Contributions** are keyed by ``contribution_id``. Re-adding the same id with
  identical content is a no-op; with different content it is a
  :class:`StoreError` naming the id and the differing columns (a contribution
  is what someone said: the store never rewrites it silently). The same id
  twice in one frame is kept once if identical, else an :class:`InputError`
  naming both rows. ``created_at`` is stored as given (NaT stays NaT), so that
  re-adding a frame stays a no-op. Text is kept verbatim (markup included:
  pages must escape it); other cells lose surrounding spaces.
* **Moderation.** A contribution's status is ``visible``, ``pending`` (awaiting
  a facilitator) or ``hidden``. ``add_contributions(screen=...)`` holds the rows
  the screening function flags as pending. :meth:`Store.contributions` returns
  visible rows unless asked for more. A status already in the store is never
  changed by re-adding or importing a row: only :meth:`Store.set_contribution_status`
  (history action hide/unhide/approve/hold) changes it.
* **Votes: one current vote per ballot.** A ballot is (``kind``, ``source``,
  ``session``, ``participant``, ``item``); its ``vote_id`` is a SHA-256 of that
  key, the table's unique key, so concurrent writers can never duplicate a
  ballot. A new vote on an existing ballot replaces the stored one (history
  ``update`` with before/after) unless it is older than the stored vote (both
  ``created_at`` known): then it is counted as ``stale`` and not applied. The
  same value again is a no-op (the first ``created_at`` is kept).
* **Dots.** The stored dot vote is the participant's current number of dots on
  the item (the canonical "dots given"). ``add_votes`` *sets* that number, so
  importing the same file twice does not double anyone's dots; rows of one
  frame with the same ballot are summed first (paper dots are often typed up
  one row per dot). A live workshop places and removes dots one at a time with
  :meth:`Store.place_dot` / :meth:`Store.remove_dot`, which change the count by
  one inside a write transaction and enforce the session's ``dots_per_person``
  (the participant's budget) and ``max_dots_per_item`` (the most dots one
  participant may put on one item; None = no limit), so two tabs of one person
  clicking at once can never exceed either. ``add_votes`` (imports of paper
  dots) does not apply the per-item cap: tallies apply it (``tally(cap=...)``).
  Other kinds with the same ballot twice in one frame are an :class:`InputError`
  naming both rows (which one counts is ambiguous).
* **Actions** are keyed by ``action_id``. :meth:`Store.new_action` adds an
  action under the next free id (``A001``, ``A002``, ...: one more than the
  largest in use), chosen *inside* its write transaction: SQLite writers are
  serialised, so two partners adding actions at the same moment always get
  two ids; on a database that does not serialise writers the unique key makes
  the second insert fail and the whole transaction is retried with a fresh
  id. A page must never compute "max + 1" itself from the register it read:
  saving under an id someone else has just taken would update their action.
  :meth:`Store.save_action` inserts or
  updates (history with before/after); it stamps ``updated_at`` (UTC, strictly
  increasing per action) and ``updated_by``. ``expected_updated_at`` gives
  optimistic concurrency: the save fails with :class:`StoreError` if someone
  saved the action since the caller read it. List columns are stored as JSON
  text and returned as Python lists of str; in CSV they are ";"-joined, so a
  list item may not contain ";".
* **Sessions** (live workshops): id, name, themes, statements (contribution ids
  of kind ``statement`` created with the session), ``dots_per_person``,
  ``max_dots_per_item`` (None = no limit), ``created_at``, ``created_by``, ``open``. Contributions and votes made in a
  session carry ``session`` = the session id and ``source`` = its name. A closed
  session refuses new contributions, votes and dots, checked inside the write
  transaction (:meth:`Store.import_csv` still restores an exported closed session whole).
* **Schema versions.** ``schema_version`` holds one row per version applied.
  Opening a store made by an older hwb-toolkit upgrades it in place, inside
  the write lock (so concurrent openers migrate once), adding what is missing:
  version 2 added ``sessions.max_dots_per_item`` (NULL, no limit, for the
  sessions already there). A store from a newer hwb-toolkit is refused.
* **CSV.** :meth:`Store.export_csv` writes contributions.csv (canonical columns
  plus ``status``), votes.csv, actions.csv, sessions.csv and history.csv from
  one consistent snapshot, each file replaced atomically. :meth:`Store.import_csv`
  reads whichever of them are present in one transaction, through the normal
  write paths (so importing twice is a no-op). Imported actions keep their
  ``updated_at``/``updated_by``; an action is only replaced by a *newer* one.
  history.csv rows are appended as they were (rows already present are skipped)
  and the import's own changes are recorded too, with reason "import from ...".
* ``by`` (who made the change) defaults to the row's ``author`` for
  contributions and ``participant`` for votes.
* **In memory** frames use pandas' default ``str`` dtype for text (missing =
  NaN), ``datetime64[us, UTC]`` for timestamps, float64 ``vote``; actions'
  ``start``/``end`` are ``datetime64[us]`` dates at midnight, list columns
  Python lists, as :func:`hwb_toolkit.system.actions.read_actions` returns.
  In the database every timestamp is naive UTC to the microsecond.
* Row numbers in errors about a DataFrame count like a spreadsheet (first data
  row = row 2), which matches the file the frame was read from with
  :func:`hwb_toolkit.io.tabular.read_table`. Columns beyond the canonical ones
  are ignored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy timeout alone queues the writers
    fcntl = None
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from hwb_toolkit.errors import InputError, StoreError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    numeric_column,
    protect_formulas,
    read_table,
    require_columns,
    unprotect_formulas,
)
from hwb_toolkit.io.writers import atomic_path
from hwb_toolkit.schema import (
    ACTION_COLUMNS,
    ACTION_STATUSES,
    CONTRIBUTION_COLUMNS,
    CONTRIBUTION_KINDS,
    SECTORS,
    VOTE_COLUMNS,
    VOTE_KINDS,
)

__all__ = [
    "Store",
    "next_action_id",
    "WriteSummary",
    "CONTRIBUTION_STATUSES",
    "HISTORY_COLUMNS",
    "SESSION_COLUMNS",
    "SCHEMA_VERSION",
    "DEFAULT_FILE",
]

#: Version of the tables below; bumped (with a migration) whenever they change.
SCHEMA_VERSION = 2
#: File name of the store inside a workspace folder.
DEFAULT_FILE = "store.sqlite"
#: Moderation states of a contribution.
CONTRIBUTION_STATUSES = ("visible", "pending", "hidden")
#: Columns of :meth:`Store.history` (``before``/``after`` are dicts, or None).
HISTORY_COLUMNS = ["history_id", "entity", "entity_id", "action", "by", "at", "reason", "before", "after"]
#: Columns of :meth:`Store.sessions` (``themes``/``statements`` are lists of str;
#: ``max_dots_per_item`` is nullable Int64, missing = no limit).
SESSION_COLUMNS = [
    "session_id",
    "name",
    "themes",
    "statements",
    "dots_per_person",
    "max_dots_per_item",
    "created_at",
    "created_by",
    "open",
]
#: Columns of contributions.csv as exported: the canonical ones plus the moderation status.
CONTRIBUTION_EXPORT_COLUMNS = [*CONTRIBUTION_COLUMNS, "status"]

_ACTION_LIST_COLUMNS = ("partner_orgs", "objectives", "themes", "linked_indicators", "responds_to")
_ACTION_DATE_COLUMNS = ("start", "end")
_MAX_KEY_LENGTH = 255
_CHUNK = 400  # ids per IN (...) query, well under every database's parameter limit
_WRITE_ATTEMPTS = 5

# --- Tables -----------------------------------------------------------------
# Database column names avoid SQL keywords (end, by, before, open) so that
# hand-written SQL against the store needs no quoting.
metadata = sa.MetaData()

schema_version_table = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

contributions_table = sa.Table(
    "contributions",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("contribution_id", sa.String(_MAX_KEY_LENGTH), nullable=False, unique=True),
    sa.Column("source", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("session", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("organisation", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("sector", sa.String(40)),
    sa.Column("created_at", sa.DateTime),
    sa.Column("theme", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("area_code", sa.String(40)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("added_at", sa.DateTime, nullable=False),
    sa.Column("added_by", sa.String(_MAX_KEY_LENGTH)),
    sa.Index("ix_contributions_session", "session"),
    sa.Index("ix_contributions_source", "source"),
    sa.Index("ix_contributions_status", "status"),
)

votes_table = sa.Table(
    "votes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("vote_id", sa.String(64), nullable=False, unique=True),
    sa.Column("source", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("session", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("participant", sa.String(_MAX_KEY_LENGTH), nullable=False),
    sa.Column("item", sa.String(_MAX_KEY_LENGTH), nullable=False),
    sa.Column("vote", sa.Float, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("created_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_votes_session_participant", "session", "participant"),
    sa.Index("ix_votes_item", "item"),
)

actions_table = sa.Table(
    "actions",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action_id", sa.String(_MAX_KEY_LENGTH), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("lead_org", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("partner_orgs", sa.Text, nullable=False),  # JSON list of str
    sa.Column("objectives", sa.Text, nullable=False),
    sa.Column("themes", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("linked_indicators", sa.Text, nullable=False),
    sa.Column("responds_to", sa.Text, nullable=False),
    sa.Column("area_code", sa.String(40)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(_MAX_KEY_LENGTH)),
)

sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", sa.String(_MAX_KEY_LENGTH), primary_key=True),
    sa.Column("name", sa.String(_MAX_KEY_LENGTH), nullable=False),
    sa.Column("themes", sa.Text, nullable=False),  # JSON list of theme ids
    sa.Column("statements", sa.Text, nullable=False),  # JSON list of contribution ids
    sa.Column("dots_per_person", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("is_open", sa.Boolean, nullable=False),
    # Schema version 2; NULL = no limit. Added last so ALTER TABLE gives old stores the same shape.
    sa.Column("max_dots_per_item", sa.Integer, nullable=True),
)

history_table = sa.Table(
    "history",
    metadata,
    sa.Column("history_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(_MAX_KEY_LENGTH), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("changed_by", sa.String(_MAX_KEY_LENGTH)),
    sa.Column("changed_at", sa.DateTime, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("before_json", sa.Text),
    sa.Column("after_json", sa.Text),
    sa.Index("ix_history_entity", "entity", "entity_id"),
)


def _add_missing_column(connection: Connection, column: sa.Column) -> None:
    """ALTER TABLE ... ADD COLUMN for a nullable column the table lacks (no-op when present)."""
    table = column.table.name
    present = {c["name"] for c in sa.inspect(connection).get_columns(table)}
    if column.name not in present:
        preparer = connection.dialect.identifier_preparer
        column_type = column.type.compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {preparer.quote(table)} "
                                   f"ADD COLUMN {preparer.quote(column.name)} {column_type}")


#: Migrations: version -> the step that upgrades a store from the version before.
#: Each runs inside the write transaction that records the new version, and is
#: written to be harmless if the change is already there.
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: lambda connection: _add_missing_column(connection, sessions_table.c.max_dots_per_item),
}


@dataclass(frozen=True)
class WriteSummary:
    """What one write did: rows inserted, updated, left as they were, held for review, stale."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    stale: int = 0


# --- Small conversions --------------------------------------------------------


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


def _read_export(path: Path) -> pd.DataFrame:
    """A CSV written by :meth:`Store.export_csv` (formula protection undone)."""
    return unprotect_formulas(read_table(path))


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


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# Rows are validated as plain Python values: they become DB-API parameter dicts
# anyway, and pandas' fixed cost per operation (about 0.1 ms here) would dominate
# the small batches the live pages write. Timestamps are parsed with pandas.


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
    for column in _ACTION_LIST_COLUMNS:
        action[column] = _as_list(record.get(column), column, row, file)
    for column in _ACTION_DATE_COLUMNS:
        action[column] = _as_date(record.get(column), column, row, file)
    if action["start"] and action["end"] and action["end"] < action["start"]:
        raise InputError(f"end {action['end']} is before start {action['start']}", file=file,
                         row=row, column="end")
    return action


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


# --- Row <-> database mapping --------------------------------------------------

_ACTION_DB_NAMES = {"start": "start_date", "end": "end_date"}


def _action_to_db(action: Mapping[str, Any]) -> dict[str, Any]:
    stored = {}
    for column, value in action.items():
        if column in _ACTION_LIST_COLUMNS:
            value = json.dumps(list(value), ensure_ascii=False)
        stored[_ACTION_DB_NAMES.get(column, column)] = value
    return stored


def _action_from_db(row: Mapping[str, Any]) -> dict[str, Any]:
    action = {}
    for column in ACTION_COLUMNS:
        value = row[_ACTION_DB_NAMES.get(column, column)]
        if column in _ACTION_LIST_COLUMNS:
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


def _session_from_db(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "session_id": row["session_id"],
        "name": row["name"],
        "themes": json.loads(row["themes"]),
        "statements": json.loads(row["statements"]),
        "dots_per_person": row["dots_per_person"],
        "max_dots_per_item": row["max_dots_per_item"],
        "created_at": row["created_at"],
        "created_by": row["created_by"],
        "open": bool(row["is_open"]),
    }


def _status_action(before: str, after: str) -> str:
    if after == "hidden":
        return "hide"
    if after == "pending":
        return "hold"
    return "approve" if before == "pending" else "unhide"


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


# --- The store ------------------------------------------------------------------


def _resolve_url(url_or_path: str | os.PathLike) -> tuple[str, Path | None]:
    """A SQLAlchemy URL and, for a SQLite file, its path (a folder means its store.sqlite)."""
    if isinstance(url_or_path, os.PathLike) or "://" not in str(url_or_path):
        path = Path(url_or_path)
        if path.is_dir():
            path = path / DEFAULT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}", path
    url = str(url_or_path)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        return url, path
    return url, None


class _WriterQueue:
    """Hands the SQLite write lock from one writer to the next without SQLite's long naps.

    SQLite's busy handler polls a locked database with sleeps growing to 100 ms,
    so with several writers the lock sits idle between transactions and a
    writer that just committed tends to win again. Writers of a store file
    therefore first take an exclusive ``flock`` on ``<store>.lock`` (polled
    every 0.5-5 ms, and a thread lock within a process), then ``BEGIN
    IMMEDIATE``. The kernel releases the flock when a process dies, so a
    killed writer never blocks the others. Without ``fcntl`` (Windows) or for
    server databases this is a no-op and the busy timeout alone applies.
    """

    def __init__(self, database: Path | None, timeout: float, *, file: Path | None) -> None:
        self._lock_path = None if database is None or fcntl is None else Path(f"{database}.lock")
        self._timeout = timeout
        self._file = file
        self._thread_lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self._lock_path is None:
            yield
            return
        deadline = time.monotonic() + self._timeout
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreError(f"the store is busy: another writer held it for more than "
                             f"{self._timeout:g} s; try again", file=self._file)
        # Opened per turn (a few microseconds): no descriptor outlives the
        # transaction, none is shared with a forked child.
        descriptor = None
        try:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            pause = 0.0005
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"the store is busy: another writer held it for more "
                                         f"than {self._timeout:g} s; try again",
                                         file=self._file) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.005)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            if descriptor is not None:
                os.close(descriptor)
            self._thread_lock.release()


def _switch_to_wal(cursor, timeout: float) -> None:
    """Put the file in WAL mode (a no-op once it is). Switching a rollback-journal file
    (one made by another tool, or before WAL was used) needs an exclusive lock; when
    another connection is mid-transaction SQLite answers "locked" at once instead of
    calling the busy handler (deadlock avoidance), so wait here, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class Store:
    """The shared store at a SQLite file path (or workspace folder) or a SQLAlchemy URL.

    ``Store("workspace/store.sqlite")``, ``Store(Path("workspace"))`` (its
    ``store.sqlite``), ``Store("sqlite:///abs/path.sqlite")`` or
    ``Store("postgresql+psycopg://user@host/db")``. Tables are created on first
    use. ``busy_timeout`` (seconds) is how long a SQLite writer waits for
    another writer's transaction before giving up with :class:`StoreError`.
    ``synchronous`` (SQLite): "FULL" (default) flushes every commit to disk;
    "NORMAL" is several times faster on slow disks and as safe against a
    crashed or killed process, but a power cut may lose the last commits.
    Use as a context manager, or call :meth:`close`, to release connections.
    """

    def __init__(self, url_or_path: str | os.PathLike = DEFAULT_FILE, *,
                 busy_timeout: float = 30.0, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise StoreError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.url, self.path = _resolve_url(url_or_path)
        self.busy_timeout = float(busy_timeout)
        self.synchronous = synchronous
        self._engine = self._create_engine()
        # Writers share the pool but start with BEGIN IMMEDIATE on SQLite (see "begin" below).
        self._writer = self._engine.execution_options(hwb_write=True)
        self._queue = _WriterQueue(self.path, self.busy_timeout, file=self.path)
        self._ensure_schema()

    # .. engine ...................................................................
    def _create_engine(self) -> Engine:
        url = sa.make_url(self.url)
        if url.get_backend_name() != "sqlite":
            return sa.create_engine(self.url, pool_pre_ping=True)
        if self.path is None:  # in-memory: one shared connection, no WAL
            engine = sa.create_engine(self.url, poolclass=sa.pool.StaticPool,
                                      connect_args={"check_same_thread": False})
        else:
            engine = sa.create_engine(self.url, connect_args={"timeout": self.busy_timeout})
        busy_ms = int(self.busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
            # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
            # transaction handling would start deferred transactions and commit before DDL).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")  # first: WAL switch may wait
            _switch_to_wal(cursor, self.busy_timeout)
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA synchronous = {self.synchronous}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # noqa: ANN001
            immediate = connection.get_execution_options().get("hwb_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for inspection and tests; write through the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # .. transactions ..............................................................
    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one write transaction; retry unique-key races; explain lock timeouts."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._queue.turn(), self._writer.begin() as connection:
                    return work(connection)
            except IntegrityError as error:
                # Only possible where writers are not serialised (not SQLite): another
                # writer inserted the same key between our check and our insert.
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise StoreError(f"could not save after {_WRITE_ATTEMPTS} attempts: "
                                     f"{error.orig}", file=self.path) from None
            except OperationalError as error:
                message = str(error.orig).lower()
                if "locked" in message or "busy" in message:
                    raise StoreError(
                        f"the store is busy: another writer held it for more than "
                        f"{self.busy_timeout:g} s; try again", file=self.path) from None
                if "serializ" in message or "deadlock" in message:
                    continue
                raise StoreError(f"the database refused the change: {error.orig}",
                                 file=self.path) from None
        raise StoreError("could not save: the database kept reporting conflicts", file=self.path)

    def _read(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one read snapshot."""
        try:
            with self._engine.connect() as connection:
                return work(connection)
        except OperationalError as error:
            raise StoreError(f"could not read the store: {error.orig}", file=self.path) from None

    def _ensure_schema(self) -> None:
        def installed(connection: Connection) -> int | None:
            if not sa.inspect(connection).has_table("schema_version"):
                return None
            return connection.execute(sa.select(sa.func.max(schema_version_table.c.version))).scalar()

        def create(connection: Connection) -> None:
            # Inside the write lock, so concurrent first openings create the tables once.
            metadata.create_all(connection, checkfirst=True)
            if connection.execute(sa.select(sa.func.count()).select_from(schema_version_table)).scalar() == 0:
                connection.execute(schema_version_table.insert().values(
                    version=SCHEMA_VERSION, applied_at=_now()))

        def migrate(connection: Connection) -> None:
            # Read again under the write lock: another process may have migrated meanwhile.
            current = installed(connection)
            if current is None or current >= SCHEMA_VERSION:
                return
            for target in range(current + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[target](connection)
                connection.execute(schema_version_table.insert().values(
                    version=target, applied_at=_now()))

        try:
            version = self._read(installed)
            if version is None:
                self._write(create)
                version = self._read(installed)
            if version is not None and version < SCHEMA_VERSION:
                self._write(migrate)
                version = self._read(installed)
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open the store: {error}", file=self.path) from None
        if version != SCHEMA_VERSION:
            newer = version is not None and version > SCHEMA_VERSION
            raise StoreError(
                f"the store has schema version {version}, this hwb-toolkit expects "
                f"{SCHEMA_VERSION}" + ("; upgrade hwb-toolkit" if newer else ""), file=self.path)

    @staticmethod
    def _record_history(connection: Connection, entries: list[dict[str, Any]]) -> None:
        if entries:
            connection.execute(history_table.insert(), entries)

    @staticmethod
    def _history_entry(entity: str, entity_id: str, action: str, by: str | None, at: dt.datetime,
                       before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                       reason: str | None = None) -> dict[str, Any]:
        return {
            "entity": entity, "entity_id": entity_id, "action": action, "changed_by": by,
            "changed_at": at, "reason": reason, "before_json": _dumps(before),
            "after_json": _dumps(after),
        }

    @staticmethod
    def _existing(connection: Connection, table: sa.Table, key: str,
                  ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        column = table.c[key]
        for chunk in _chunks(list(ids)):
            for row in connection.execute(sa.select(table).where(column.in_(chunk))).mappings():
                found[row[key]] = dict(row)
        return found

    # .. contributions .............................................................
    def add_contributions(self, frame: pd.DataFrame, by: str | None = None, *,
                          screen: Callable[[pd.DataFrame], Any] | None = None,
                          status: str = "visible") -> WriteSummary:
        """Add contributions (canonical columns) in one transaction.

        Required columns: contribution_id, kind, text; the other canonical
        columns are optional. ``by`` is recorded in the history (default: each
        row's author). ``screen(frame) -> booleans``, given the validated
        canonical rows, flags the ones to hold as "pending" for a facilitator;
        the others get ``status`` ("visible", or "pending" to review everything).
        Re-adding an identical contribution is a no-op; a different one with a
        stored id raises :class:`StoreError` naming the id. A row of a closed live
        session (``session`` names one) is refused with :class:`StoreError`.
        """
        if status not in ("visible", "pending"):
            raise StoreError(f"a new contribution's status must be 'visible' or 'pending', not {status!r}")
        records = _prepare_contributions(frame, status=status)
        self._screen(records, screen)

        def work(connection: Connection) -> WriteSummary:
            self._refuse_closed_sessions(connection, records)
            return self._add_contributions_tx(connection, records, by)

        return self._write(work)

    @staticmethod
    def _refuse_closed_sessions(connection: Connection, records: list[dict[str, Any]]) -> None:
        """Raise :class:`StoreError` when a record belongs to a closed live session (checked
        inside the write transaction, so a session closed a moment ago refuses too)."""
        named = sorted({r["session"] for r in records if r.get("session")})
        if not named:
            return
        closed = connection.execute(sa.select(sessions_table.c.name).where(
            sessions_table.c.session_id.in_(named), sessions_table.c.is_open.is_(False))).first()
        if closed is not None:
            raise StoreError(f"session {closed[0]!r} is closed: it takes no more post-its or votes")

    @staticmethod
    def _screen(records: list[dict[str, Any]], screen: Callable[[pd.DataFrame], Any] | None) -> None:
        """Hold the visible records that ``screen`` flags as pending (in place)."""
        if screen is None or not records:
            return
        try:
            flags = np.asarray(screen(_contributions_frame(records)), dtype=bool).reshape(-1)
        except Exception as error:  # a partner's screening function may fail in any way
            raise StoreError(f"the screening function failed: {error}") from error
        if flags.shape[0] != len(records):
            raise StoreError(f"the screening function returned {flags.shape[0]} flags for "
                             f"{len(records)} contributions")
        for record, flagged in zip(records, flags.tolist(), strict=True):
            if flagged and record["status"] == "visible":
                record["status"] = "pending"

    def _add_contributions_tx(self, connection: Connection, records: list[dict[str, Any]],
                              by: str | None, *, file: str | Path | None = None,
                              reason: str | None = None) -> WriteSummary:
        stored = self._existing(connection, contributions_table, "contribution_id",
                                [r["contribution_id"] for r in records])
        now = _now()
        inserts, history = [], []
        unchanged = 0
        for record in records:
            previous = stored.get(record["contribution_id"])
            if previous is not None:
                if any(previous[c] != record[c] for c in CONTRIBUTION_COLUMNS):
                    differing = [c for c in CONTRIBUTION_COLUMNS if previous[c] != record[c]]
                    raise StoreError(
                        f"contribution {record['contribution_id']!r} is already in the store with "
                        f"different {', '.join(differing)}; a contribution is never rewritten: "
                        "give the new one its own id", file=file, column=differing[0])
                unchanged += 1
                continue
            who = by if by is not None else record["author"]
            inserts.append({**record, "added_at": now, "added_by": who})
            history.append(self._history_entry("contribution", record["contribution_id"], "insert",
                                               who, now, None, record, reason))
        if inserts:
            connection.execute(contributions_table.insert(), inserts)
        self._record_history(connection, history)
        pending = sum(1 for row in inserts if row["status"] == "pending")
        return WriteSummary(inserted=len(inserts), unchanged=unchanged, pending=pending)

    def set_contribution_status(self, contribution_id: str, status: str, by: str,
                                reason: str | None = None) -> str:
        """Hide, unhide, approve or hold a contribution; returns its previous status.

        ``status`` is one of :data:`CONTRIBUTION_STATUSES`. The change is
        recorded in the history with ``by`` and ``reason``; nothing is deleted.
        Setting the status a contribution already has changes nothing.
        """
        if status not in CONTRIBUTION_STATUSES:
            raise StoreError(f"status {status!r} is not one of {', '.join(CONTRIBUTION_STATUSES)}")

        def work(connection: Connection) -> str:
            row = connection.execute(sa.select(contributions_table).where(
                contributions_table.c.contribution_id == contribution_id)).mappings().first()
            if row is None:
                raise StoreError(f"there is no contribution {contribution_id!r} in the store")
            before = row["status"]
            if before == status:
                return before
            connection.execute(contributions_table.update().where(
                contributions_table.c.seq == row["seq"]).values(status=status))
            content = {c: row[c] for c in CONTRIBUTION_COLUMNS}
            self._record_history(connection, [self._history_entry(
                "contribution", contribution_id, _status_action(before, status), by, _now(),
                {**content, "status": before}, {**content, "status": status}, reason)])
            return before

        return self._write(work)

    def contributions(self, *, include_hidden: bool = False, include_pending: bool = False,
                      session: str | None = None, source: str | None = None,
                      kind: str | None = None, author: str | None = None,
                      with_status: bool = False) -> pd.DataFrame:
        """Stored contributions in canonical columns, in the order they were added.

        Visible ones only unless ``include_pending``/``include_hidden``;
        optionally one ``session``, ``source``, ``kind`` or ``author``. ``with_status``
        adds the moderation ``status`` column (for the facilitator's page).
        """
        table = contributions_table
        wanted = ["visible"] + ["pending"] * include_pending + ["hidden"] * include_hidden
        query = sa.select(table).where(table.c.status.in_(wanted)).order_by(table.c.seq)
        for column, value in (("session", session), ("source", source), ("kind", kind),
                              ("author", author)):
            if value is not None:
                query = query.where(table.c[column] == value)
        rows = self._read(lambda c: [dict(r) for r in c.execute(query).mappings()])
        columns = CONTRIBUTION_COLUMNS + ["status"] * with_status
        strings = [c for c in columns if c != "created_at"]
        return _frame(rows, columns, strings=strings, utc=["created_at"])

    # .. votes ......................................................................
    def add_votes(self, frame: pd.DataFrame, by: str | None = None) -> WriteSummary:
        """Add or replace votes (canonical columns) in one transaction.

        Required columns: participant, item, vote, kind. One current vote per
        ballot (kind, source, session, participant, item): a different vote
        replaces the stored one (history "update"), an older one (by
        ``created_at``) is ``stale`` and ignored, the same one is a no-op. Dot
        rows of one frame on the same ballot are summed; the result *sets* the
        participant's dots on the item. ``by`` defaults to each row's participant.
        A row of a closed live session is refused with :class:`StoreError`.
        """
        records = _prepare_votes(frame)

        def work(connection: Connection) -> WriteSummary:
            self._refuse_closed_sessions(connection, records)
            return self._add_votes_tx(connection, records, by)

        return self._write(work)

    def _add_votes_tx(self, connection: Connection, records: list[dict[str, Any]], by: str | None,
                      *, reason: str | None = None) -> WriteSummary:
        stored = self._existing(connection, votes_table, "vote_id", [r["vote_id"] for r in records])
        now = _now()
        inserts, history = [], []
        updated = unchanged = stale = 0
        for record in records:
            who = by if by is not None else record["participant"]
            content = {c: record[c] for c in VOTE_COLUMNS}
            previous = stored.get(record["vote_id"])
            if previous is None:
                inserts.append({**record, "updated_at": now})
                history.append(self._history_entry("vote", record["vote_id"], "insert", who, now,
                                                   None, content, reason))
                continue
            if previous["vote"] == record["vote"]:
                unchanged += 1
                continue
            if (record["created_at"] is not None and previous["created_at"] is not None
                    and record["created_at"] < previous["created_at"]):
                stale += 1
                continue
            connection.execute(votes_table.update().where(votes_table.c.seq == previous["seq"]).values(
                vote=record["vote"], created_at=record["created_at"], updated_at=now))
            history.append(self._history_entry("vote", record["vote_id"], "update", who, now,
                                               {c: previous[c] for c in VOTE_COLUMNS}, content, reason))
            updated += 1
        if inserts:
            connection.execute(votes_table.insert(), inserts)
        self._record_history(connection, history)
        return WriteSummary(inserted=len(inserts), updated=updated, unchanged=unchanged, stale=stale)

    def votes(self, *, session: str | None = None, source: str | None = None,
              kind: str | None = None, item: str | None = None,
              participant: str | None = None) -> pd.DataFrame:
        """Current votes in canonical columns (one row per ballot), in the order first cast;
        optionally only one ``session``, ``source``, ``kind``, ``item`` or ``participant``."""
        table = votes_table
        query = sa.select(table).order_by(table.c.seq)
        for column, value in (("session", session), ("source", source), ("kind", kind),
                              ("item", item), ("participant", participant)):
            if value is not None:
                query = query.where(table.c[column] == value)
        rows = self._read(lambda c: [dict(r) for r in c.execute(query).mappings()])
        frame = _frame(rows, VOTE_COLUMNS, utc=["created_at"],
                       strings=[c for c in VOTE_COLUMNS if c not in ("vote", "created_at")])
        frame["vote"] = frame["vote"].astype("float64")
        return frame

    def _change_dots(self, session_id: str, participant: str, item: str, step: int,
                     by: str | None) -> int:
        participant, item = str(participant).strip(), str(item).strip()
        if not participant or not item:
            raise StoreError("a dot needs a participant and an item")

        def work(connection: Connection) -> int:
            session = connection.execute(sa.select(sessions_table).where(
                sessions_table.c.session_id == session_id)).mappings().first()
            if session is None:
                raise StoreError(f"there is no session {session_id!r}")
            if not session["is_open"]:
                raise StoreError(f"session {session['name']!r} is closed")
            themes = json.loads(session["themes"])
            if themes and item not in themes:
                known = connection.execute(sa.select(contributions_table.c.contribution_id).where(
                    contributions_table.c.contribution_id == item,
                    contributions_table.c.session == session_id)).first()
                if known is None:
                    raise StoreError(f"{item!r} is not a theme or contribution of session "
                                     f"{session['name']!r}")
            ballot = {"kind": "dot", "source": session["name"], "session": session_id,
                      "participant": participant, "item": item}
            vote_id = _ballot_id(ballot)
            placed = connection.execute(sa.select(sa.func.coalesce(sa.func.sum(votes_table.c.vote), 0))
                                        .where(votes_table.c.session == session_id,
                                               votes_table.c.participant == participant,
                                               votes_table.c.kind == "dot")).scalar()
            previous = connection.execute(sa.select(votes_table).where(
                votes_table.c.vote_id == vote_id)).mappings().first()
            current = previous["vote"] if previous is not None else 0.0
            if step > 0 and placed + step > session["dots_per_person"]:
                raise StoreError(f"{participant!r} has placed all {session['dots_per_person']} dots "
                                 f"in session {session['name']!r}")
            cap = session["max_dots_per_item"]
            if step > 0 and cap is not None and current + step > cap:
                raise StoreError(f"{participant!r} already has {int(current)} dots on {item!r}: at "
                                 f"most {cap} dots per item in session {session['name']!r}")
            if current + step < 0:
                raise StoreError(f"{participant!r} has no dot on {item!r} to remove")
            now = _now()
            after = {**ballot, "vote": float(current + step), "created_at": now}
            who = by if by is not None else participant
            if previous is None:
                connection.execute(votes_table.insert().values(**after, vote_id=vote_id, updated_at=now))
                self._record_history(connection, [self._history_entry(
                    "vote", vote_id, "insert", who, now, None, after)])
            else:
                connection.execute(votes_table.update().where(votes_table.c.seq == previous["seq"])
                                   .values(vote=after["vote"], created_at=now, updated_at=now))
                self._record_history(connection, [self._history_entry(
                    "vote", vote_id, "update", who, now, {c: previous[c] for c in VOTE_COLUMNS}, after)])
            return int(after["vote"])

        return self._write(work)

    def place_dot(self, session_id: str, participant: str, item: str, by: str | None = None) -> int:
        """Place one more of ``participant``'s dots on ``item`` in an open session.

        ``item`` must be one of the session's themes (or a contribution of the
        session). Raises :class:`StoreError` when the participant has no dots
        left, or already has the session's ``max_dots_per_item`` on the item
        (both checked inside the write transaction). Returns the participant's
        dots now on the item.
        """
        return self._change_dots(session_id, participant, item, +1, by)

    def remove_dot(self, session_id: str, participant: str, item: str, by: str | None = None) -> int:
        """Take back one of ``participant``'s dots from ``item``; returns the dots left on it."""
        return self._change_dots(session_id, participant, item, -1, by)

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
        strings = [c for c in ACTION_COLUMNS if c not in (*_ACTION_LIST_COLUMNS,
                                                           *_ACTION_DATE_COLUMNS, "updated_at")]
        frame = _frame(rows, ACTION_COLUMNS, strings=strings, utc=["updated_at"])
        for column in _ACTION_LIST_COLUMNS:
            frame[column] = frame[column].astype(object)
        for column in _ACTION_DATE_COLUMNS:
            frame[column] = pd.to_datetime(frame[column].astype(object)).astype("datetime64[us]")
        return frame

    # .. sessions ...................................................................
    def open_session(self, session_id: str, name: str, themes: Sequence[str],
                     statements: Sequence[str] | Mapping[str, str], by: str, *,
                     dots_per_person: int = 3, max_dots_per_item: int | None = None,
                     ) -> dict[str, Any]:
        """Open a live workshop session (or reopen a closed one with the same content).

        ``dots_per_person``: each participant's budget of dots (0 or more);
        ``max_dots_per_item``: the most of them one participant may put on one
        item (1 or more; None = no limit). :meth:`place_dot` enforces both.
        ``themes``: theme ids participants put post-its and dots on.
        ``statements``: texts to agree/disagree on (or a mapping id -> text);
        each becomes a contribution of kind "statement" in the session, with id
        ``"<session_id>-s<n>"`` when not given. Opening an existing id with
        different content raises :class:`StoreError`. Returns the session.
        """
        session_id, name = str(session_id).strip(), str(name).strip()
        if not session_id or not name:
            raise StoreError("a session needs an id and a name")
        if int(dots_per_person) < 0:
            raise StoreError("dots_per_person must be 0 or more")
        if max_dots_per_item is not None:
            whole = (isinstance(max_dots_per_item, (int, float, np.integer, np.floating))
                     and not isinstance(max_dots_per_item, bool)
                     and float(max_dots_per_item).is_integer())
            if not whole or max_dots_per_item < 1:
                raise StoreError(f"max_dots_per_item must be a whole number, 1 or more (or None for "
                                 f"no limit), not {max_dots_per_item!r}")
            max_dots_per_item = int(max_dots_per_item)
        themes = _as_list(list(themes), "themes", None, None)
        if isinstance(statements, Mapping):
            statement_items = [(str(k).strip(), str(v)) for k, v in statements.items()]
        else:
            statement_items = [(f"{session_id}-s{n}", str(text))
                               for n, text in enumerate(statements, start=1)]
        now = _now()
        statement_frame = pd.DataFrame({
            "contribution_id": [i for i, _ in statement_items],
            "source": name, "session": session_id, "kind": "statement",
            "text": [t for _, t in statement_items], "author": by,
            "created_at": pd.Timestamp(now, tz="UTC"),
        })
        session = {
            "session_id": session_id, "name": name, "themes": themes,
            "statements": [i for i, _ in statement_items],
            "dots_per_person": int(dots_per_person), "max_dots_per_item": max_dots_per_item,
            "created_at": now, "created_by": by, "open": True,
        }
        statements = _prepare_contributions(statement_frame)
        return self._write(lambda c: self._open_session_tx(c, session, statements, by))

    def _open_session_tx(self, connection: Connection, session: dict[str, Any],
                         statements: list[dict[str, Any]], by: str, *, reason: str | None = None,
                         file: str | Path | None = None) -> dict[str, Any]:
        previous_row = connection.execute(sa.select(sessions_table).where(
            sessions_table.c.session_id == session["session_id"])).mappings().first()
        content_keys = ("name", "themes", "statements", "dots_per_person", "max_dots_per_item")
        if previous_row is not None:
            previous = _session_from_db(previous_row)
            if any(previous[k] != session[k] for k in content_keys):
                differing = [k for k in content_keys if previous[k] != session[k]]
                raise StoreError(f"session {session['session_id']!r} already exists with different "
                                 f"{', '.join(differing)}", file=file)
            if previous["open"] == session["open"]:
                return previous
            connection.execute(sessions_table.update().where(
                sessions_table.c.session_id == session["session_id"]).values(is_open=session["open"]))
            after = {**previous, "open": session["open"]}
            self._record_history(connection, [self._history_entry(
                "session", session["session_id"], "update", by, _now(), previous, after, reason)])
            return after
        if statements:
            self._add_contributions_tx(connection, statements, by, reason=reason)
        stored = {k: v for k, v in session.items() if k != "open"}
        stored.update(themes=json.dumps(session["themes"], ensure_ascii=False),
                      statements=json.dumps(session["statements"], ensure_ascii=False),
                      is_open=session["open"])
        connection.execute(sessions_table.insert().values(**stored))
        self._record_history(connection, [self._history_entry(
            "session", session["session_id"], "insert", by, _now(), None, session, reason)])
        return session

    def close_session(self, session_id: str, by: str) -> None:
        """Close a session: no more dots can be placed in it (recorded in the history)."""
        def work(connection: Connection) -> None:
            row = connection.execute(sa.select(sessions_table).where(
                sessions_table.c.session_id == session_id)).mappings().first()
            if row is None:
                raise StoreError(f"there is no session {session_id!r}")
            if row["is_open"]:
                before = _session_from_db(row)
                connection.execute(sessions_table.update().where(
                    sessions_table.c.session_id == session_id).values(is_open=False))
                self._record_history(connection, [self._history_entry(
                    "session", session_id, "update", by, _now(), before, {**before, "open": False})])

        self._write(work)

    def sessions(self, *, open_only: bool = False) -> pd.DataFrame:
        """Workshop sessions (SESSION_COLUMNS), oldest first."""
        query = sa.select(sessions_table).order_by(sessions_table.c.created_at,
                                                   sessions_table.c.session_id)
        if open_only:
            query = query.where(sessions_table.c.is_open.is_(True))
        rows = self._read(lambda c: [_session_from_db(r) for r in c.execute(query).mappings()])
        frame = _frame(rows, SESSION_COLUMNS, strings=["session_id", "name", "created_by"],
                       utc=["created_at"])
        frame["dots_per_person"] = frame["dots_per_person"].astype("int64")
        frame["max_dots_per_item"] = frame["max_dots_per_item"].astype("Int64")
        frame["open"] = frame["open"].astype(bool)
        return frame

    def last_change(self) -> int:
        """A number that grows with every change anyone makes to the store (the newest
        history row's id; 0 for an empty store): cheap to poll for "anything new?"."""
        query = sa.select(sa.func.coalesce(sa.func.max(history_table.c.history_id), 0))
        return int(self._read(lambda c: c.execute(query).scalar()))

    # .. history ....................................................................
    def history(self, *, entity: str | None = None, entity_id: str | None = None,
                since: Any = None) -> pd.DataFrame:
        """Every recorded change (HISTORY_COLUMNS), oldest first.

        ``entity`` is "contribution", "vote", "action" or "session"; ``since`` a
        timestamp (naive = UTC). ``before``/``after`` are dicts of the canonical
        row (timestamps as ISO text), or None for an insert's ``before``.
        """
        table = history_table
        query = sa.select(table).order_by(table.c.changed_at, table.c.history_id)
        if entity is not None:
            query = query.where(table.c.entity == entity)
        if entity_id is not None:
            query = query.where(table.c.entity_id == entity_id)
        if since is not None:
            query = query.where(table.c.changed_at >= _naive_utc(since))
        rows = self._read(lambda c: [dict(r) for r in c.execute(query).mappings()])
        shaped = [{
            "history_id": r["history_id"], "entity": r["entity"], "entity_id": r["entity_id"],
            "action": r["action"], "by": r["changed_by"], "at": r["changed_at"],
            "reason": r["reason"],
            "before": None if r["before_json"] is None else json.loads(r["before_json"]),
            "after": None if r["after_json"] is None else json.loads(r["after_json"]),
        } for r in rows]
        frame = _frame(shaped, HISTORY_COLUMNS, utc=["at"],
                       strings=["entity", "entity_id", "action", "by", "reason"])
        frame["history_id"] = frame["history_id"].astype("int64")
        return frame

    # .. CSV ........................................................................
    def export_csv(self, folder: str | os.PathLike) -> dict[str, Path]:
        """Write contributions.csv, votes.csv, actions.csv, sessions.csv and history.csv.

        All five come from one read snapshot; each file is written to a
        temporary file and moved into place only once all five are written.
        Contributions include hidden and pending ones (with ``status``).
        Returns the paths written.
        """
        folder = Path(folder)
        tables = self._read(self._snapshot)
        texts = {name: self._csv_text(name, frame) for name, frame in tables.items()}
        # Every temporary file is written before any is moved into place.
        with ExitStack() as stack:
            for name, text in texts.items():
                temporary = stack.enter_context(atomic_path(folder / f"{name}.csv"))
                temporary.write_text(text, encoding="utf-8")
        return {name: folder / f"{name}.csv" for name in texts}

    def _snapshot(self, connection: Connection) -> dict[str, pd.DataFrame]:
        contributions = pd.DataFrame(
            [dict(r) for r in connection.execute(sa.select(contributions_table)
                                                 .order_by(contributions_table.c.seq)).mappings()],
            columns=[c.name for c in contributions_table.columns])
        votes = pd.DataFrame(
            [dict(r) for r in connection.execute(sa.select(votes_table)
                                                 .order_by(votes_table.c.seq)).mappings()],
            columns=[c.name for c in votes_table.columns])
        actions = pd.DataFrame(
            [_action_from_db(r) for r in connection.execute(sa.select(actions_table)
                                                            .order_by(actions_table.c.seq)).mappings()],
            columns=ACTION_COLUMNS)
        sessions = pd.DataFrame(
            [_session_from_db(r) for r in connection.execute(
                sa.select(sessions_table).order_by(sessions_table.c.created_at,
                                                   sessions_table.c.session_id)).mappings()],
            columns=SESSION_COLUMNS)
        sessions["max_dots_per_item"] = sessions["max_dots_per_item"].astype("Int64")  # no "3.0"
        history = pd.DataFrame(
            [dict(r) for r in connection.execute(sa.select(history_table).order_by(
                history_table.c.changed_at, history_table.c.history_id)).mappings()],
            columns=[c.name for c in history_table.columns])
        return {"contributions": contributions, "votes": votes, "actions": actions,
                "sessions": sessions, "history": history}

    @staticmethod
    def _csv_text(name: str, frame: pd.DataFrame) -> str:
        out = frame.copy()
        for column in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[column].dtype):
                out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            elif column in (*_ACTION_DATE_COLUMNS, "created_at", "updated_at", "changed_at"):
                out[column] = out[column].map(_iso)  # all-missing columns, dates
        if name == "contributions":
            out = out[CONTRIBUTION_EXPORT_COLUMNS]
        elif name == "votes":
            out = out[VOTE_COLUMNS]
        elif name in ("actions", "sessions"):
            for column in (*_ACTION_LIST_COLUMNS, "statements"):
                if column in out.columns:
                    out[column] = out[column].map(";".join)
        elif name == "history":
            out = out.rename(columns={"changed_by": "by", "changed_at": "at",
                                      "before_json": "before", "after_json": "after"})
            out = out[HISTORY_COLUMNS]
        return protect_formulas(out).to_csv(index=False, lineterminator="\n")

    def import_csv(self, folder: str | os.PathLike, by: str, *,
                   screen: Callable[[pd.DataFrame], Any] | None = None) -> dict[str, WriteSummary]:
        """Read the CSV files :meth:`export_csv` writes (any that are present) in one transaction.

        Contributions keep their ``status`` (default visible; ``screen`` can
        still hold new rows as pending); stored contributions keep theirs. Votes
        follow :meth:`add_votes`; actions keep their ``updated_at``/``updated_by``
        and replace a stored action only when newer; history rows are appended
        unless already present. Bad cells raise :class:`InputError` naming the
        file, row and column; nothing is written then. Returns a summary per file.
        """
        folder = Path(folder)
        reason = f"import from {folder.name or folder}"
        files = {name: folder / f"{name}.csv" for name in
                 ("history", "sessions", "contributions", "votes", "actions")}
        present = {name: path for name, path in files.items() if path.is_file()}
        if not present:
            raise InputError("no contributions.csv, votes.csv, actions.csv, sessions.csv or "
                             "history.csv to import", file=folder)
        steps: list[Callable[[Connection], tuple[str, WriteSummary]]] = []

        if "history" in present:
            path = present["history"]
            table = _read_export(path)
            require_columns(table, ["entity", "entity_id", "action", "at"], path)
            entries = self._decode_history(table, path)
            steps.append(lambda c: ("history", self._import_history_tx(c, entries)))
        if "sessions" in present:
            path = present["sessions"]
            table = _read_export(path)
            require_columns(table, ["session_id", "name", "dots_per_person", "created_at"], path)
            dots = numeric_column(table, "dots_per_person", path, minimum=0, integer=True)
            # Absent from exports made before schema version 2: no limit.
            caps = (numeric_column(table, "max_dots_per_item", path, minimum=1, integer=True)
                    if "max_dots_per_item" in table.columns
                    else pd.Series(np.nan, index=table.index))
            created = _utc_column(table, "created_at", path)
            sessions = []
            for position, record in enumerate(table.to_dict("records")):
                sessions.append({
                    "session_id": str(record["session_id"]).strip(), "name": str(record["name"]),
                    "themes": _as_list(record.get("themes"), "themes", position + 2, path),
                    "statements": _as_list(record.get("statements"), "statements", position + 2, path),
                    "dots_per_person": int(dots.iloc[position]),
                    "max_dots_per_item": (None if math.isnan(caps.iloc[position])
                                          else int(caps.iloc[position])),
                    "created_at": _naive_utc(created.iloc[position]),
                    "created_by": None if _missing(record.get("created_by")) else record["created_by"],
                    "open": str(record.get("open", "True")).strip().lower() in ("true", "1", "yes"),
                })

            def import_sessions(connection: Connection) -> tuple[str, WriteSummary]:
                inserted = unchanged = updated = 0
                for session in sessions:
                    before = connection.execute(sa.select(sessions_table.c.is_open).where(
                        sessions_table.c.session_id == session["session_id"])).first()
                    self._open_session_tx(connection, session, [], by, reason=reason,
                                          file=present["sessions"])
                    if before is None:
                        inserted += 1
                    elif bool(before[0]) != session["open"]:
                        updated += 1
                    else:
                        unchanged += 1
                return "sessions", WriteSummary(inserted=inserted, updated=updated, unchanged=unchanged)

            steps.append(import_sessions)
        if "contributions" in present:
            path = present["contributions"]
            table = _read_export(path)
            records = _prepare_contributions(table, path, status_column=True)
            self._screen(records, screen)
            steps.append(lambda c: ("contributions", self._add_contributions_tx(
                c, records, by, file=path, reason=reason)))
        if "votes" in present:
            prepared_votes = _prepare_votes(_read_export(present["votes"]), present["votes"])
            steps.append(lambda c: ("votes", self._add_votes_tx(c, prepared_votes, by, reason=reason)))
        if "actions" in present:
            from hwb_toolkit.system.actions import read_actions  # the register's one reader

            path = present["actions"]
            register = read_actions(path)
            steps.append(lambda c: ("actions", self._save_actions_tx(
                c, register, by, keep_stamps=True, newer_only=True, file=path, reason=reason)))

        def work(connection: Connection) -> dict[str, WriteSummary]:
            return dict(step(connection) for step in steps)

        return self._write(work)

    @staticmethod
    def _decode_history(table: pd.DataFrame, path: Path) -> list[dict[str, Any]]:
        at = _utc_column(table, "at", path)
        entries = []
        for position, record in enumerate(table.to_dict("records")):
            entry = {"entity": record["entity"], "entity_id": record["entity_id"],
                     "action": record["action"], "changed_at": _naive_utc(at.iloc[position])}
            for column, target in (("by", "changed_by"), ("reason", "reason"),
                                   ("before", "before_json"), ("after", "after_json")):
                value = record.get(column)
                entry[target] = None if _missing(value) else str(value)
            for column in ("before_json", "after_json"):
                if entry[column] is not None:
                    try:
                        json.loads(entry[column])
                    except json.JSONDecodeError:
                        raise InputError("not a JSON object", file=path, row=position + FIRST_DATA_ROW,
                                         column=column.removesuffix("_json")) from None
            if entry["changed_at"] is None:
                raise InputError("at is blank", file=path, row=position + FIRST_DATA_ROW, column="at")
            entries.append(entry)
        return entries

    @staticmethod
    def _import_history_tx(connection: Connection, entries: list[dict[str, Any]]) -> WriteSummary:
        if not entries:
            return WriteSummary()
        key_columns = ("entity", "entity_id", "action", "changed_by", "changed_at", "before_json",
                       "after_json")
        times = [e["changed_at"] for e in entries]
        present = {
            tuple(row) for row in connection.execute(
                sa.select(*(history_table.c[k] for k in key_columns)).where(
                    history_table.c.changed_at.between(min(times), max(times))))
        }
        fresh = [e for e in entries if tuple(e[k] for k in key_columns) not in present]
        if fresh:
            connection.execute(history_table.insert(), fresh)
        return WriteSummary(inserted=len(fresh), unchanged=len(entries) - len(fresh))
