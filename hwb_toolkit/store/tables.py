"""The store's tables, their schema version and migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.schema import (
    CONTRIBUTION_COLUMNS,
)

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


_ACTION_DATE_COLUMNS = ("start", "end")


_MAX_KEY_LENGTH = 255


_CHUNK = 400  # ids per IN (...) query, well under every database's parameter limit


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


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
