"""The store's live workshop sessions: opening, closing and reading them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import StoreError
from hwb_toolkit.store.rows import _as_list, _frame, _now, _prepare_contributions
from hwb_toolkit.store.tables import SESSION_COLUMNS, sessions_table


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


class SessionsMixin:
    """Sessions (mixed into :class:`hwb_toolkit.store.Store`, which provides the transactions)."""

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
