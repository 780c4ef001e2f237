"""The tables a batch prepares once, and the light helpers that read them.

``hwb batch`` computes the tables every area's briefing shares (every area's
indicator summary, the workspace's contributions, votes and actions) once into
``reports/<period>/.prepared/*.parquet``; each area's briefing and the
Explorer page read them back. This module imports only pandas and the
narrative's unit names, so a page can load the tables and show its first
sentences without waiting for the engines (scikit-learn, SciPy) to import.
Computing the tables is :func:`hwb_toolkit.briefing.compute_shared_tables`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError

#: The folder, inside ``reports/<period>/``, where a batch keeps its shared tables.
PREPARED_DIR = ".prepared"
#: The shared tables, each written as ``<name>.parquet``.
SHARED_TABLES = ("indicator_data", "summaries", "contributions", "votes", "actions")
#: Action columns that hold lists (Parquet gives them back as arrays).
_LIST_COLUMNS = ("partner_orgs", "objectives", "themes", "linked_indicators", "responds_to")
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
        for column in _LIST_COLUMNS:
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
    from hwb_toolkit.narrative import unit_for

    specs = strategy.indicators_frame()
    specs = specs.assign(order=range(len(specs)))
    keep = ["indicator_id", "objective", "theme", "calculator", "multiplier", "subject", "order"]
    merged = summary.merge(specs[keep], on="indicator_id", how="inner")
    merged["unit"] = [
        unit_for(calculator, multiplier)
        for calculator, multiplier in zip(merged["calculator"], merged["multiplier"], strict=True)
    ]
    # Persons first, then males and females, as Fingertips lists them.
    merged["sex_order"] = merged["sex"].astype("str").str.casefold().map(_SEX_ORDER).fillna(len(_SEX_ORDER))
    merged = merged.sort_values(["order", "sex_order", "age"], kind="stable").drop(columns=["order", "sex_order"])
    return with_display_names(merged.reset_index(drop=True))


# --- who a figure is about ------------------------------------------------------------

_SEX_ORDER = {"persons": 0, "male": 1, "males": 1, "female": 2, "females": 2}
_SEX_WORDS = {"persons": "persons", "male": "males", "males": "males", "female": "females",
              "females": "females"}
# Words in an indicator's name that already say which ages it covers ("adults", "aged 18+",
# "Reception", "Year 6", "children"...): its age group is then not repeated.
_NAMES_AGES = re.compile(
    r"\b(?:ages?|aged|adults?|child|children|childhood|pupils|reception|year \d+|under|over"
    r"|infants?|babies|baby|young|youth|teenagers?|mothers?|older|elderly)\b|\d+\s*\+",
    re.IGNORECASE,
)
_UNDER = re.compile(r"^<\s*(\d+)\s*(?:yrs?|years?)?$", re.IGNORECASE)
_AND_OVER = re.compile(r"^(\d+)\s*\+\s*(?:yrs?|years?)?$", re.IGNORECASE)
_BETWEEN = re.compile(r"^(\d+)\s*-\s*(\d+)\s*(?:yrs?|years?)?$", re.IGNORECASE)
#: Ages up to this are children's or young people's: named even when the data has one age only.
_YOUNG_UP_TO = 18


def age_phrase(age: Any) -> str:
    """A Fingertips age label as people say it: ``<18 yrs`` -> ``under 18s``, ``18+ yrs`` ->
    ``aged 18 and over``, ``4-5 yrs`` -> ``aged 4 to 5``; other labels as they are."""
    text = "" if age is None or (isinstance(age, float) and math.isnan(age)) else str(age).strip()
    if match := _UNDER.match(text):
        return f"under {match.group(1)}s"
    if match := _AND_OVER.match(text):
        return f"aged {match.group(1)} and over"
    if match := _BETWEEN.match(text):
        return f"aged {match.group(1)} to {match.group(2)}"
    return text.lower() if text.lower() == "all ages" else text


def _young(age: Any) -> bool:
    """True for an age group that ends before adulthood (``<18 yrs``, ``4-5 yrs``, ``10-11 yrs``)."""
    text = str(age).strip()
    if match := _UNDER.match(text):
        return int(match.group(1)) <= _YOUNG_UP_TO
    if match := _BETWEEN.match(text):
        return int(match.group(2)) < _YOUNG_UP_TO
    return False


def with_display_names(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with ``breakdown`` (who a row is about, e.g. "males", "under 18s", or "")
    and ``display_name`` (the indicator's name with it: "Suicide rate, males").

    A row names its sex when the table holds more than one sex for the indicator or its
    only sex is not Persons; its age group when the table holds more than one age for the
    indicator, or when its one age group is a children's or young people's group (ending
    before 18) that the indicator's name does not already state ("Hospital admissions for
    mental health conditions, under 18s"; but "Reception prevalence of overweight" stays as
    it is); its category (a deprivation decile, an ethnic group) whenever it has one. So
    no two rows of an indicator read the same, and a figure never hides whom it is about.
    """
    out = summary.copy()
    if out.empty:
        out["breakdown"] = pd.Series(dtype="str")
        out["display_name"] = pd.Series(dtype="str")
        return out
    by_indicator = out.groupby("indicator_id", sort=False)
    sexes = by_indicator["sex"].transform("nunique") if "sex" in out else 0
    ages = by_indicator["age"].transform("nunique") if "age" in out else 0
    breakdowns, names = [], []
    for position, row in enumerate(out.to_dict("records")):
        name = str(row["indicator_name"])
        parts = []
        sex = row.get("sex")
        if isinstance(sex, str) and (int(sexes.iloc[position]) > 1 or sex.strip().casefold() != "persons"):
            parts.append(_SEX_WORDS.get(sex.strip().casefold(), sex.strip().lower()))
        age = row.get("age")
        if isinstance(age, str) and age.strip() and (
            int(ages.iloc[position]) > 1 or (_young(age) and not _NAMES_AGES.search(name))
        ):
            parts.append(age_phrase(age))
        category = row.get("category")
        if isinstance(category, str) and category.strip():
            parts.append(category.strip())
        breakdown = ", ".join(parts)
        breakdowns.append(breakdown)
        names.append(f"{name}, {breakdown}" if breakdown else name)
    out["breakdown"] = pd.Series(breakdowns, index=out.index, dtype="str")
    out["display_name"] = pd.Series(names, index=out.index, dtype="str")
    return out


def series_label(row: dict) -> str:
    """An indicator row's name as a reader needs it: its ``display_name`` (see
    :func:`with_display_names`), or for a row without one the name with its sex when not Persons."""
    shown = row.get("display_name")
    if isinstance(shown, str) and shown:
        return shown
    name = row["indicator_name"]
    return name if row["sex"] == "Persons" else f"{name}, {_SEX_WORDS.get(str(row['sex']).casefold(), row['sex'])}"
