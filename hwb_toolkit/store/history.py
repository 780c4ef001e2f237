"""The store's history of every change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
)
from hwb_toolkit.store.rows import WriteSummary, _frame, _missing, _naive_utc, _utc_column
from hwb_toolkit.store.tables import HISTORY_COLUMNS, history_table


class HistoryMixin:
    """History (mixed into :class:`hwb_toolkit.store.Store`, which provides the transactions)."""

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
