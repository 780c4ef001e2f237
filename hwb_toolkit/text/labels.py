"""Labels as people read them: comparisons, trends, action statuses, sectors, and whom a figure
is about (its display name)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import (
    BEST,
    BETTER,
    HIGHER,
    LOWER,
    NOT_COMPARED,
    SECTOR_LABELS,
    SIMILAR,
    TREND_LABELS,
    WORSE,
    WORST,
)
from hwb_toolkit.values import is_missing

#: Fingertips' comparison labels, as the engines write them.
COMPARISON_LABELS = (BETTER, SIMILAR, WORSE, BEST, WORST, LOWER, HIGHER, NOT_COMPARED)


_COMPARISON_KEYS = {label.casefold(): label for label in COMPARISON_LABELS}


_TREND_KEYS = {label.casefold(): label for label in TREND_LABELS}


#: How a quote is attributed: to a sector, never to a person.
SECTOR_ATTRIBUTIONS: dict[str, str] = {
    "council": "a council colleague",
    "nhs": "an NHS colleague",
    "vcse": "a voluntary sector partner",
    "business": "a local business",
    "resident": "a resident",
    "other": "a partner",
}


_UNKNOWN_ATTRIBUTION = "a participant"


#: Action statuses as a board member reads them (keys: schema.ACTION_STATUSES).
STATUS_LABELS: dict[str, str] = {
    "idea": "Idea",
    "planned": "Planned",
    "active": "Under way",
    "done": "Done",
    "stopped": "Stopped",
}


def comparison_label(label: Any) -> str:
    """The canonical comparison label (``"Better"``...); missing means ``"Not compared"``.

    Raises :class:`InputError` for a label the narrative has no words for, so a
    new label can never be silently described as something else.
    """
    if is_missing(label) or (isinstance(label, str) and not label.strip()):
        return NOT_COMPARED
    key = str(label).strip().casefold()
    if key not in _COMPARISON_KEYS:
        raise InputError(
            f"unknown comparison label {label!r}; expected one of {', '.join(COMPARISON_LABELS)}"
        )
    return _COMPARISON_KEYS[key]


def trend_label(label: Any) -> str:
    """The canonical Fingertips trend label; missing means ``"Cannot be calculated"``.

    Accepts any capitalisation and ``&`` for ``and``. Raises :class:`InputError` otherwise.
    """
    if is_missing(label) or (isinstance(label, str) and not label.strip()):
        return "Cannot be calculated"
    key = " ".join(str(label).replace("&", " and ").split()).casefold()
    if key not in _TREND_KEYS:
        raise InputError(
            f"unknown trend label {label!r}; expected one of {', '.join(TREND_LABELS)}"
        )
    return _TREND_KEYS[key]


def status_label(status: Any) -> str:
    """An action's status as people read it: ``active`` -> ``Under way``."""
    key = "" if is_missing(status) else str(status).strip().casefold()
    if key not in STATUS_LABELS:
        raise InputError(
            f"unknown action status {status!r}; expected one of {', '.join(STATUS_LABELS)}"
        )
    return STATUS_LABELS[key]


def sector_label(sector: Any) -> str:
    """A sector id as a name (``vcse`` -> ``Voluntary and community``), as the charts name it."""
    if is_missing(sector) or not str(sector).strip():
        return "Not recorded"
    key = str(sector).strip().casefold()
    return SECTOR_LABELS.get(key, str(sector).strip())


def sector_attribution(sector: Any) -> str:
    """Who said it, as a sector: ``vcse`` -> ``a voluntary sector partner``; never a person."""
    if is_missing(sector):
        return _UNKNOWN_ATTRIBUTION
    return SECTOR_ATTRIBUTIONS.get(str(sector).strip().casefold(), _UNKNOWN_ATTRIBUTION)


# --- whom a figure is about ------------------------------------------------------------

SEX_ORDER = {"persons": 0, "male": 1, "males": 1, "female": 2, "females": 2}


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
