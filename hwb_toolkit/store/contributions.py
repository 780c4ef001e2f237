"""The store's contributions: adding, moderating and reading them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import StoreError
from hwb_toolkit.schema import (
    CONTRIBUTION_COLUMNS,
)
from hwb_toolkit.store.rows import (
    WriteSummary,
    _contributions_frame,
    _frame,
    _now,
    _prepare_contributions,
)
from hwb_toolkit.store.tables import CONTRIBUTION_STATUSES, contributions_table, sessions_table


def _status_action(before: str, after: str) -> str:
    if after == "hidden":
        return "hide"
    if after == "pending":
        return "hold"
    return "approve" if before == "pending" else "unhide"


class ContributionsMixin:
    """Contributions (mixed into :class:`hwb_toolkit.store.Store`, which provides the transactions)."""

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
