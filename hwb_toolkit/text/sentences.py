"""An indicator's plain-English sentence, worded by the labels the engines computed."""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.text.labels import comparison_label, trend_label
from hwb_toolkit.text.numbers import _NO_UNIT, _check_unit
from hwb_toolkit.text.templates import render
from hwb_toolkit.values import as_number, is_missing

_SUPPRESSION_NOTE = re.compile(r"suppress|small|disclos", re.IGNORECASE)


def _field(row: Any, key: str) -> Any:
    value = row.get(key) if isinstance(row, Mapping | pd.Series) else getattr(row, key, None)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return None if is_missing(value) else float(value)
    return None if is_missing(value) else value


def _text_field(row: Any, key: str) -> str | None:
    value = _field(row, key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def indicator_sentence(
    row: Any,
    area_name: str | None = None,
    *,
    unit: str | None = None,
    subject: str | None = None,
    benchmark: str = "England",
    override_dir: str | Path | None = None,
) -> str:
    """One plain-English sentence for one row of the indicator summary.

    ``row`` is a mapping or Series with the columns of ``summarise_area``
    (``indicator_name``, ``value``, ``lower_ci95``, ``upper_ci95``,
    ``compared_to_england``, ``england_value``, ``recent_trend``, ``period``,
    ``value_note``), and optionally ``unit``, ``subject`` (a short phrase
    such as "of adults are physically inactive"), ``display_name`` (the name with
    whom the row is about, used instead of ``indicator_name``) and ``breakdown``
    (whom the row is about, "males": said before a subject); the keyword
    arguments take precedence over those. The wording follows the labels exactly (see
    ``templates/_phrases.j2``): "significantly better/worse" only for
    Better/Best/Worse/Worst, "similar to England" for Similar, "significantly
    higher/lower" for Higher/Lower, "not compared" otherwise. A missing value
    gives a sentence saying the figure is suppressed (or, when ``value_note``
    gives another reason, that no figure is available), never a number.
    """
    name = _text_field(row, "display_name") or _text_field(row, "indicator_name")
    if name is None:
        raise InputError("the indicator row has no indicator_name", column="indicator_name")
    area = area_name or _text_field(row, "area_name")
    if area is None:
        raise InputError(f"no area name for the sentence about {name!r}", column="area_name")
    value = _field(row, "value")
    note = _text_field(row, "value_note")
    if unit is None and _field(row, "unit") == "":
        unit = ""  # an explicit empty unit in the row means a count
    context = {
        "indicator_name": name,
        "area_name": area,
        "period": _text_field(row, "period"),
        "subject": subject if subject is not None else _text_field(row, "subject"),
        "breakdown": _text_field(row, "breakdown"),
        "unit": _check_unit(unit if unit is not None else (_field(row, "unit") or _NO_UNIT)),
        "value": value,
        "lower": _field(row, "lower_ci95"),
        "upper": _field(row, "upper_ci95"),
        "england_value": _field(row, "england_value"),
        "benchmark": benchmark,
        "comparison": comparison_label(_field(row, "compared_to_england")),
        "trend": trend_label(_field(row, "recent_trend")),
        "missing_reason": note
        if value is None and note and not _SUPPRESSION_NOTE.search(note)
        else None,
    }
    for key in ("value", "lower", "upper", "england_value"):
        if context[key] is not None:
            as_number(context[key], key)
    text = render("indicator.txt.j2", override_dir=override_dir, **context)
    text = " ".join(text.split())
    return re.sub(r"\s+([,.;:)])", r"\1", text)
