"""The tables a batch prepares once, and the light helpers that read them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import ACTION_LIST_COLUMNS
from hwb_toolkit.text.labels import SEX_ORDER, with_display_names

#: The folder, inside ``reports/<period>/``, where a batch keeps its shared tables.
PREPARED_DIR = ".prepared"


#: The shared tables, each written as ``<name>.parquet``.
SHARED_TABLES = ("indicator_data", "summaries", "contributions", "votes", "actions")



_PERIOD = re.compile(r"\d{4}-\d{2}")


@dataclass
class SharedTables:
    """What every area's briefing reads: the workspace's tables and all areas' summaries."""

    indicator_data: pd.DataFrame
    summaries: pd.DataFrame
    contributions: pd.DataFrame
    votes: pd.DataFrame
    actions: pd.DataFrame

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in SHARED_TABLES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)

    @classmethod
    def load(cls, folder: str | Path) -> SharedTables:
        folder = Path(folder)
        tables = {}
        for name in SHARED_TABLES:
            path = folder / f"{name}.parquet"
            if not path.is_file():
                raise InputError("the prepared tables are incomplete; run the batch again", file=path)
            tables[name] = pd.read_parquet(path)
        for column in ACTION_LIST_COLUMNS:
            if column in tables["actions"]:
                tables["actions"][column] = tables["actions"][column].map(_as_list)
        return cls(**tables)


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(item) for item in value]


def latest_prepared(reports: str | Path) -> tuple[str, Path] | None:
    """The latest period in ``reports`` whose prepared tables are complete, as
    ``(period, folder)``; None when no batch left any."""
    reports = Path(reports)
    if not reports.is_dir():
        return None
    periods = sorted((p for p in reports.iterdir() if p.is_dir() and _PERIOD.fullmatch(p.name)),
                     key=lambda p: p.name, reverse=True)
    for period_dir in periods:
        folder = period_dir / PREPARED_DIR
        if all((folder / f"{name}.parquet").is_file() for name in SHARED_TABLES):
            return period_dir.name, folder
    return None


def with_strategy_columns(summary: pd.DataFrame, strategy) -> pd.DataFrame:
    """The indicator summary with the strategy's objective, theme, calculator, multiplier,
    subject and display unit added, and each row's ``display_name`` and ``breakdown``
    (:func:`with_display_names`), keeping only the strategy's indicators, in its order."""
    from hwb_toolkit.text.numbers import unit_for

    specs = strategy.indicators_frame()
    specs = specs.assign(order=range(len(specs)))
    keep = ["indicator_id", "objective", "theme", "calculator", "multiplier", "subject", "order"]
    merged = summary.merge(specs[keep], on="indicator_id", how="inner")
    merged["unit"] = [
        unit_for(calculator, multiplier)
        for calculator, multiplier in zip(merged["calculator"], merged["multiplier"], strict=True)
    ]
    # Persons first, then males and females, as Fingertips lists them.
    merged["sex_order"] = merged["sex"].astype("str").str.casefold().map(SEX_ORDER).fillna(len(SEX_ORDER))
    merged = merged.sort_values(["order", "sex_order", "age"], kind="stable").drop(columns=["order", "sex_order"])
    return with_display_names(merged.reset_index(drop=True))
