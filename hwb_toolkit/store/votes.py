"""The store's votes: one current vote per ballot, and a live session's dots."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import StoreError
from hwb_toolkit.schema import (
    VOTE_COLUMNS,
)
from hwb_toolkit.store.rows import WriteSummary, _ballot_id, _frame, _now, _prepare_votes
from hwb_toolkit.store.tables import contributions_table, sessions_table, votes_table


class VotesMixin:
    """Votes (mixed into :class:`hwb_toolkit.store.Store`, which provides the transactions)."""

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
