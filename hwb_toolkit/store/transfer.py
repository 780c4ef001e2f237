"""The store to CSV files and back."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.tabular import (
    numeric_column,
    protect_formulas,
    read_table,
    unprotect_formulas,
)
from hwb_toolkit.io.writers import atomic_path
from hwb_toolkit.schema import (
    ACTION_COLUMNS,
    ACTION_LIST_COLUMNS,
    VOTE_COLUMNS,
)
from hwb_toolkit.store.actions import _action_from_db
from hwb_toolkit.store.rows import (
    WriteSummary,
    _as_list,
    _iso,
    _missing,
    _naive_utc,
    _prepare_contributions,
    _prepare_votes,
    _utc_column,
)
from hwb_toolkit.store.sessions import _session_from_db
from hwb_toolkit.store.tables import (
    _ACTION_DATE_COLUMNS,
    CONTRIBUTION_EXPORT_COLUMNS,
    HISTORY_COLUMNS,
    SESSION_COLUMNS,
    actions_table,
    contributions_table,
    history_table,
    sessions_table,
    votes_table,
)
from hwb_toolkit.values import require_columns


def _read_export(path: Path) -> pd.DataFrame:
    """A CSV written by :meth:`Store.export_csv` (formula protection undone)."""
    return unprotect_formulas(read_table(path))


class TransferMixin:
    """CSV export and import (mixed into :class:`hwb_toolkit.store.Store`)."""

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
            for column in (*ACTION_LIST_COLUMNS, "statements"):
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
