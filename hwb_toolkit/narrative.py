"""Narrative: results turned into plain English, and the briefing turned into one HTML page.

Role: presentation (floor 1, beside :mod:`hwb_toolkit.charts`). The words live
in Jinja2 templates in the repository's top-level ``templates/`` folder, so an
analyst can change them without touching Python; a workspace may hold its own
``templates/`` folder whose files take precedence (``override_dir``). This
module holds the pure pieces the templates need and the rendering around them:

- number formatting as people read them (:func:`format_value`,
  :func:`format_ci`, :func:`format_change`, :func:`format_share`,
  :func:`format_count`), registered as template filters;
- wording that follows the statistics (:func:`indicator_sentence`): the
  comparison and trend phrases are chosen by the labels the engines computed
  (``templates/_phrases.j2``), never re-derived from the numbers;
- quotes (:func:`make_quote`): verbatim, attributed to a sector, never a person;
- small-number suppression (:func:`suppress_small`, :func:`suppress_small_counts`);
- section rendering for the notebook (:func:`render`, :func:`show`);
- the executed briefing notebook to a self-contained HTML report
  (:func:`notebook_to_html`): outputs only, no code, no request to any URL.

Conventions:

- Units: ``"%"`` (a percentage 0-100), ``"per 100,000"``, ``"per 1,000"`` (any
  ``"per ..."``), ``"years"``, ``""`` or ``"count"`` (a count: no decimals),
  ``"number"`` (a plain number, one decimal). Percentages and rates get one
  decimal place. Rounding is half up, as people round (22.05 -> 22.1).
- A share is a proportion 0-1 before it is shown as a percentage.
- A missing number (None or NaN) is shown as "not available", or, for an
  indicator's value, as a sentence saying the figure is suppressed.
- Templates render with ``StrictUndefined`` (a misspelt variable fails loudly,
  as a :class:`~hwb_toolkit.errors.ConfigError` naming the template file and
  line) and HTML templates (``*.html.j2``) are autoescaped: contributed text is
  always shown as text, never interpreted as HTML. A template printing None or
  NaN directly fails too: missing numbers go through a filter.
- Charts enter templates only as SVG that passed :func:`trusted_svg` (made by
  our chart code); a plain string in a chart slot is refused.
"""

from __future__ import annotations

import copy
import functools
import html
import math
import numbers
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from hwb_toolkit.errors import ConfigError, HwbError, InputError, PipelineError
from hwb_toolkit.markup import external_references, svg_problems
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

__all__ = [
    "TEMPLATES_DIR",
    "REPORT_TEMPLATE",
    "DEFAULT_SUPPRESS_BELOW",
    "COMPARISON_LABELS",
    "TREND_LABELS",
    "SECTOR_ATTRIBUTIONS",
    "format_value",
    "format_ci",
    "format_change",
    "format_share",
    "format_count",
    "format_period",
    "pluralise",
    "join_list",
    "unit_for",
    "comparison_label",
    "trend_label",
    "status_label",
    "sector_label",
    "sector_attribution",
    "truncate_text",
    "make_quote",
    "suppress_small",
    "withhold_small_parts",
    "suppress_small_counts",
    "indicator_sentence",
    "indicator_sentences",
    "trusted_svg",
    "chart_figure",
    "chart_heading",
    "template_environment",
    "render",
    "show",
    "external_references",
    "notebook_to_html",
]

#: The repository's templates folder (editable by an analyst).
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
#: The nbconvert template (a folder under ``templates/nbconvert``) used by :func:`notebook_to_html`.
REPORT_TEMPLATE = "hwb_report"
#: Counts from 1 to DEFAULT_SUPPRESS_BELOW - 1 are hidden in anything published.
DEFAULT_SUPPRESS_BELOW = 5

NOT_AVAILABLE = "not available"
_NO_UNIT = "number"  # an indicator without a unit: one decimal, nothing after the number
ELLIPSIS = "\u2026"

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

_SUPPRESSION_NOTE = re.compile(r"suppress|small|disclos", re.IGNORECASE)


# --- numbers ---------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, numbers.Real):
        return not math.isfinite(float(value))
    return False


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what} must be a number, not {value!r}")
    return float(value)


def _rounded(value: float, decimals: int) -> Decimal:
    """``value`` rounded half up to ``decimals`` places (as people round, not banker's)."""
    # repr gives the shortest decimal that round-trips, so 22.05 rounds as "22.05", not 22.0499...
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # never "-0.0"


def _digits(value: float, decimals: int) -> str:
    return f"{_rounded(value, decimals):,.{decimals}f}"


def _places(value: float, unit: str, decimals: int | None) -> int:
    """Decimal places: ``decimals`` if given; a count none (one if it is not whole); else one."""
    if decimals is not None:
        return decimals
    if unit in ("", "count"):
        # a non-whole "count" (a weighted score, a limit) keeps a decimal rather than rounding to 0
        return 0 if float(value).is_integer() else 1
    return 1


def _check_unit(unit: Any) -> str:
    if unit is None:
        return ""
    if not isinstance(unit, str):
        raise InputError(f"unit must be text such as '%' or 'per 100,000', not {unit!r}")
    return unit.strip()


def format_value(value: Any, unit: str = "", decimals: int | None = None) -> str:
    """A value as people read it: ``22.1%``, ``45.6 per 100,000``, ``1,234``, ``79.3 years``.

    ``unit`` is ``"%"`` (value already 0-100), ``"per 100,000"`` / ``"per 1,000"``
    (any ``"per ..."``), ``"years"``, ``""`` or ``"count"`` (a count: no decimals;
    one if the value is not whole, so 0.43 never shows as 0), ``"number"`` (one
    decimal, no unit) or any other word, written after the number. One decimal
    place for percentages and rates unless ``decimals`` says otherwise. None or
    NaN gives "not available".
    """
    if _is_missing(value):
        return NOT_AVAILABLE
    unit = _check_unit(unit)
    number = _number(value, "value")
    text = _digits(number, _places(number, unit, decimals))
    if unit == "%":
        return f"{text}%"
    if unit in ("", "count", "number"):
        return text
    return f"{text} {unit}"


def format_ci(
    lower: Any, upper: Any, unit: str = "", level: float = 95, decimals: int | None = None
) -> str:
    """A confidence interval: ``95% CI 20.4% to 23.9%``, ``95% CI 40.1 to 51.2 per 100,000``.

    Empty text when either limit is missing (the sentence then shows no interval).
    """
    if _is_missing(lower) or _is_missing(upper):
        return ""
    unit = _check_unit(unit)
    low = format_value(lower, "number", _places(_number(lower, "lower"), unit, decimals))
    high = format_value(upper, "number", _places(_number(upper, "upper"), unit, decimals))
    level_text = _digits(float(level), 0 if float(level).is_integer() else 1)
    if unit == "%":
        return f"{level_text}% CI {low}% to {high}%"
    if unit in ("", "count", "number"):
        return f"{level_text}% CI {low} to {high}"
    return f"{level_text}% CI {low} to {high} {unit}"


def format_change(change: Any, unit: str = "", decimals: int | None = None) -> str:
    """A change between two periods: ``up 1.2 percentage points``, ``down 3.4 per 100,000``.

    A change that rounds to zero is ``no change``; a missing one "not available".
    Percentages change by percentage points, not per cent.
    """
    if _is_missing(change):
        return NOT_AVAILABLE
    unit = _check_unit(unit)
    number = _number(change, "change")
    places = _places(number, unit, decimals)
    if _rounded(number, places) == 0:
        return "no change"
    direction = "up" if number > 0 else "down"
    size = _digits(abs(number), places)
    if unit == "%":
        return f"{direction} {size} percentage {'point' if size in ('1', '1.0') else 'points'}"
    if unit in ("", "count", "number"):
        return f"{direction} {size}"
    return f"{direction} {size} {unit}"


def format_share(share: Any, decimals: int = 0) -> str:
    """A proportion 0-1 as a percentage: ``0.43`` -> ``43%``.

    Never rounds a part to nothing or to everything: a share above 0 that
    rounds to 0 is "less than 1%", one below 1 that rounds to 100 is "more
    than 99%". Raises :class:`InputError` outside 0-1 (a share must be a proportion).
    """
    if _is_missing(share):
        return NOT_AVAILABLE
    number = _number(share, "share")
    if number < -1e-12 or number > 1 + 1e-12:
        raise InputError(f"a share must be a proportion between 0 and 1, not {number!r}")
    number = min(max(number, 0.0), 1.0)
    percent = number * 100
    step = Decimal(1).scaleb(-decimals)
    rounded = _rounded(percent, decimals)
    if number > 0 and rounded == 0:
        return f"less than {step:f}%"
    if number < 1 and rounded == 100:
        return f"more than {Decimal(100) - step:f}%"
    return f"{rounded:,.{decimals}f}%"


def format_count(count: Any) -> str:
    """A count with thousands separators (``1,234``); a non-whole number keeps one decimal.

    Text (such as a suppressed "fewer than 5") is returned unchanged.
    """
    if isinstance(count, str):
        return count
    if _is_missing(count):
        return NOT_AVAILABLE
    number = _number(count, "count")
    return _digits(number, 0 if number.is_integer() else 1)


def format_period(period: Any) -> str:
    """A reporting month ``YYYY-MM`` as ``November 2026``; other periods (``2023/24``) unchanged."""
    if _is_missing(period):
        return NOT_AVAILABLE
    text = str(period).strip()
    if re.fullmatch(r"\d{4}-\d{2}", text):
        try:
            return datetime.strptime(text, "%Y-%m").strftime("%B %Y")
        except ValueError:
            return text
    return text


def pluralise(
    count: Any, singular: str, plural: str | None = None, *, with_count: bool = True
) -> str:
    """``3 contributions``, ``1 contribution``, ``fewer than 5 votes`` (a suppressed count is plural).

    ``plural`` defaults to ``singular + "s"``; ``with_count=False`` gives the word alone.
    """
    plural = plural or f"{singular}s"
    one = not isinstance(count, str) and not _is_missing(count) and float(count) == 1
    word = singular if one else plural
    return f"{format_count(count)} {word}" if with_count else word


def join_list(items: Iterable[Any], conjunction: str = "and") -> str:
    """``A, B and C`` (no serial comma); ``A and B``; ``A``; empty text for no items."""
    parts = [str(item) for item in items]
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"


def unit_for(calculator: str, multiplier: float) -> str:
    """The display unit of an indicator from its strategy entry (calculator and multiplier).

    A proportion times 100 is ``"%"``; a rate (or proportion) per 1,000 or
    100,000 is ``"per 1,000"`` / ``"per 100,000"``; a mean or a standardised
    ratio is a plain ``"number"``. Life expectancy and other units are best
    given explicitly (``unit`` in :func:`indicator_sentence`).
    """
    multiplier = _number(multiplier, "multiplier")
    if calculator == "proportion" and multiplier == 100:
        return "%"
    if calculator in ("proportion", "crude_rate", "dsr") and multiplier > 1:
        return f"per {_digits(multiplier, 0)}"
    return "number"


# --- labels --------------------------------------------------------------------------


def comparison_label(label: Any) -> str:
    """The canonical comparison label (``"Better"``...); missing means ``"Not compared"``.

    Raises :class:`InputError` for a label the narrative has no words for, so a
    new label can never be silently described as something else.
    """
    if _is_missing(label) or (isinstance(label, str) and not label.strip()):
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
    if _is_missing(label) or (isinstance(label, str) and not label.strip()):
        return "Cannot be calculated"
    key = " ".join(str(label).replace("&", " and ").split()).casefold()
    if key not in _TREND_KEYS:
        raise InputError(
            f"unknown trend label {label!r}; expected one of {', '.join(TREND_LABELS)}"
        )
    return _TREND_KEYS[key]


def status_label(status: Any) -> str:
    """An action's status as people read it: ``active`` -> ``Under way``."""
    key = "" if _is_missing(status) else str(status).strip().casefold()
    if key not in STATUS_LABELS:
        raise InputError(
            f"unknown action status {status!r}; expected one of {', '.join(STATUS_LABELS)}"
        )
    return STATUS_LABELS[key]


def sector_label(sector: Any) -> str:
    """A sector id as a name (``vcse`` -> ``Voluntary and community``), as the charts name it."""
    if _is_missing(sector) or not str(sector).strip():
        return "Not recorded"
    key = str(sector).strip().casefold()
    return SECTOR_LABELS.get(key, str(sector).strip())


def sector_attribution(sector: Any) -> str:
    """Who said it, as a sector: ``vcse`` -> ``a voluntary sector partner``; never a person."""
    if _is_missing(sector):
        return _UNKNOWN_ATTRIBUTION
    return SECTOR_ATTRIBUTIONS.get(str(sector).strip().casefold(), _UNKNOWN_ATTRIBUTION)


# --- quotes --------------------------------------------------------------------------


def truncate_text(text: str, max_chars: int | None = None) -> str:
    """``text`` unchanged, or cut to at most ``max_chars`` characters ending in an ellipsis.

    The cut falls between words; only a single word longer than the limit is
    cut inside, and every cut is marked with "…", so a shortened quote never
    reads as if it were whole.
    """
    text = str(text).strip()
    if max_chars is None or len(text) <= max_chars:
        return text
    if max_chars < 2:
        raise InputError(f"max_chars must be at least 2, not {max_chars}")
    room = max_chars - len(ELLIPSIS)
    head = text[: room + 1]  # one more character shows whether the cut falls between words
    if head[-1].isspace():
        cut = head.rstrip()
    else:
        space = max((i for i, ch in enumerate(head) if ch.isspace()), default=-1)
        cut = head[:space].rstrip() if space > 0 else head[:room]
    return f"{cut}{ELLIPSIS}"


def make_quote(text: Any, sector: Any, max_chars: int | None = None) -> dict[str, str]:
    """A quote for a template: ``{"text": verbatim text, "attribution": "a resident"}``.

    The text is kept word for word (only outer whitespace removed; shortened
    with "…" when ``max_chars`` is given); it is escaped when rendered.
    """
    if _is_missing(text) or not str(text).strip():
        raise InputError("a quote needs some text")
    return {"text": truncate_text(str(text), max_chars), "attribution": sector_attribution(sector)}


# --- small numbers ----------------------------------------------------------------------


#: A count withheld only so that a smaller, suppressed one cannot be worked out from a total.
WITHHELD_TEXT = "not shown"


def _suppressed_text(below: int) -> str:
    return f"fewer than {below}"


def _check_below(below: Any) -> int:
    if isinstance(below, bool) or not isinstance(below, numbers.Integral) or below < 1:
        raise ConfigError(f"suppress_below must be a whole number of at least 1, not {below!r}")
    return int(below)


def suppress_small(count: Any, below: int = DEFAULT_SUPPRESS_BELOW) -> Any:
    """``"fewer than 5"`` for a count from 1 to ``below - 1``; any other count unchanged.

    0 stays 0 (nobody is identified by nobody); None/NaN stay missing. Raises
    :class:`InputError` for a negative count.
    """
    below = _check_below(below)
    if _is_missing(count) or isinstance(count, str):  # missing, or already withheld
        return count
    number = _number(count, "count")
    if number < 0:
        raise InputError(f"a count cannot be negative: {count!r}")
    return _suppressed_text(below) if 0 < number < below else count


def withhold_small_parts(parts: Mapping[Any, Any], below: int = DEFAULT_SUPPRESS_BELOW) -> dict:
    """Counts that add up to a published total (contributions by sector...), safe to publish with it.

    Primary suppression: a part from 1 to ``below - 1`` becomes "fewer than N".
    Secondary suppression: when exactly one part is withheld, the total minus the
    parts shown would give it away, so the smallest other non-zero part is
    withheld too, as "not shown" (the statistical-disclosure practice of the
    ONS and NHS England). Parts of 0 are shown. Returns the parts in their
    order, each an int or a text; missing parts stay missing.
    """
    below = _check_below(below)
    out: dict = {}
    for key, count in parts.items():
        out[key] = count if _is_missing(count) else int(_number(count, "count"))
        if not _is_missing(count) and out[key] < 0:
            raise InputError(f"a count cannot be negative: {count!r}")
    withheld = [key for key, n in out.items() if isinstance(n, int) and 0 < n < below]
    for key in withheld:
        out[key] = _suppressed_text(below)
    if len(withheld) == 1:
        shown = [(n, position) for position, n in enumerate(out.values()) if isinstance(n, int) and n > 0]
        if shown:
            out[list(out)[min(shown)[1]]] = WITHHELD_TEXT
    return out


def suppress_small_counts(
    frame: pd.DataFrame, columns: Iterable[str] | None = None, below: int = DEFAULT_SUPPRESS_BELOW
) -> pd.DataFrame:
    """A copy of a table of counts with counts 1 to ``below - 1`` replaced by "fewer than N".

    ``columns`` defaults to every numeric column. Those columns become object
    columns holding the original numbers (whole floats as ints) and the text.
    Only primary suppression: a total shown beside the cells can reveal a
    suppressed cell, so publish totals from unsuppressed groups or not at all.
    """
    below = _check_below(below)
    columns = list(frame.select_dtypes("number").columns if columns is None else columns)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"no column {missing[0]!r} to suppress", column=missing[0])
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column].notna() & values.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 2
            raise InputError(
                f"count is not a number: {frame[column][bad].iloc[0]!r}", row=row, column=column
            )
        if (values < 0).any():
            row = int((values < 0).to_numpy().argmax()) + 2
            raise InputError("a count cannot be negative", row=row, column=column)
        whole = values.dropna()
        if (whole == whole.round()).all():
            values = values.astype("Int64")
        small = (values >= 1) & (values < below)
        out[column] = values.astype(object).mask(small.fillna(False), _suppressed_text(below))
    return out


# --- indicator sentences ---------------------------------------------------------------


def _field(row: Any, key: str) -> Any:
    value = row.get(key) if isinstance(row, Mapping | pd.Series) else getattr(row, key, None)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return None if _is_missing(value) else float(value)
    return None if _is_missing(value) else value


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
            _number(context[key], key)
    text = render("indicator.txt.j2", override_dir=override_dir, **context)
    text = " ".join(text.split())
    return re.sub(r"\s+([,.;:)])", r"\1", text)


def indicator_sentences(
    summary: pd.DataFrame,
    area_name: str | None = None,
    *,
    units: Mapping[Any, str] | None = None,
    subjects: Mapping[Any, str] | None = None,
    override_dir: str | Path | None = None,
) -> pd.Series:
    """:func:`indicator_sentence` for every row of an indicator summary (same index).

    ``units`` and ``subjects`` map ``indicator_id`` to a unit / subject phrase.
    """
    units, subjects = units or {}, subjects or {}
    sentences = [
        indicator_sentence(
            row,
            area_name,
            unit=units.get(row.get("indicator_id")),
            subject=subjects.get(row.get("indicator_id")),
            override_dir=override_dir,
        )
        for row in summary.to_dict(orient="records")
    ]
    return pd.Series(sentences, index=summary.index, dtype="str", name="sentence")


# --- charts in templates ------------------------------------------------------------------

def trusted_svg(svg: str) -> Markup:
    """Mark an SVG made by :func:`hwb_toolkit.charts.to_svg` safe to embed in a template.

    The only way a chart enters a template unescaped. Checks it is one
    ``<svg>`` element with no script, event handler, embedded HTML or
    reference to anything outside itself, in its markup (its text may say
    anything: :func:`hwb_toolkit.markup.svg_problems`); raises :class:`HwbError`
    otherwise. Never use it on contributed text.
    """
    if not isinstance(svg, str):
        raise HwbError(f"a chart must be SVG text, not {type(svg).__name__}")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
    if not (text.startswith("<svg") and text.endswith("</svg>")):
        raise HwbError("a chart must be a single <svg> element")
    problems = svg_problems(text)
    if problems:
        raise HwbError(f"the chart's SVG holds {problems[0]}")
    return Markup(text)


class PendingChart:
    """A chart's SVG still being drawn on the background renderer (see :func:`chart_figure`).

    A template's ``require_svg`` waits for it and embeds it through
    :func:`trusted_svg`, so only checked :class:`Markup` reaches the page. When
    the SVG is drawn without its title, the title and subtitle come first as
    escaped text (``<p class="hwb-chart-title">``, ``<p class="hwb-chart-subtitle">``).
    """

    def __init__(self, job, *, heading: bool = True) -> None:
        # job: anything with result() -> SVG text, draws_title, title and subtitle
        # (hwb_toolkit.vega_svg.SvgJob); heading: show the title above the drawing
        self._job = job
        self._heading = heading
        self._markup: Markup | None = None

    def markup(self) -> Markup:
        """The checked SVG, after its title when not drawn in it (waits for the drawing)."""
        if self._markup is None:
            svg = trusted_svg(self._job.result())
            if not self._job.draws_title and self._heading:
                svg = chart_heading(self._job.title, self._job.subtitle) + svg
            self._markup = svg
        return self._markup

    # Code that puts a context's chart into its own markup (the Explorer's pages) gets
    # the same checked SVG, never the object's repr.
    __html__ = markup

    def __str__(self) -> str:
        return str(self.markup())


def chart_heading(title: str, subtitle: str = "") -> Markup:
    """A chart's title (and subtitle) as escaped HTML paragraphs ("" when there is no title)."""
    heading = Markup('<p class="hwb-chart-title">{}</p>').format(title) if title else Markup("")
    if subtitle:
        heading += Markup('<p class="hwb-chart-subtitle">{}</p>').format(subtitle)
    return heading


def chart_figure(chart, *, heading: bool = True) -> dict[str, Any]:
    """An Altair chart from :mod:`hwb_toolkit.charts` as template values.

    Returns ``{"chart_svg": PendingChart, "chart_alt": text alternative,
    "chart_caption": what the chart shows}``, ready to merge into an indicator's
    context entry: the caption (:func:`hwb_toolkit.charts.caption`) goes under the
    chart, the text alternative (with the chart's numbers) stays the SVG's label for
    screen readers. ``heading=False`` leaves the chart's title out of the page (when
    the section's own heading names it). The SVG is drawn in the
    background (:func:`hwb_toolkit.charts.svg_later`) while the caller builds
    the next chart; the template's ``require_svg`` waits for it and checks it.
    The title and subtitle are shown as page text above the drawing, not in it:
    they wrap and stay full size on a phone, where a wide SVG is scaled down,
    and each chart draws in about a fifth less time without them.
    """
    from hwb_toolkit import charts

    return {
        "chart_svg": PendingChart(charts.svg_later(chart, draw_title=False), heading=heading),
        "chart_alt": charts.text_alternative(chart),
        "chart_caption": charts.caption(chart),
    }


def _require_svg(svg: Any) -> Markup:
    if isinstance(svg, PendingChart):  # from chart_figure: wait for it, checked by trusted_svg
        return svg.markup()
    if not isinstance(svg, Markup):
        raise ConfigError(
            "a chart must be passed as SVG checked by hwb_toolkit.narrative.trusted_svg "
            "(or chart_figure), not as plain text"
        )
    return svg


# --- templates -------------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Refuse to print a missing number or a table: they must go through a filter."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise ConfigError(
            "a template printed a missing value directly; format it with a filter "
            "(format_value, format_share, count_text...) or test it with 'is none'"
        )
    if isinstance(value, pd.DataFrame | pd.Series):
        raise ConfigError("a template printed a table; pass plain values (dicts and lists)")
    return value


@jinja2.pass_context
def _count_text(context: jinja2.runtime.Context, count: Any, below: int | None = None) -> str:
    """A count for publication: suppressed below ``suppress_below`` (context) and formatted."""
    if below is None:
        below = context.get("suppress_below", DEFAULT_SUPPRESS_BELOW)
    return format_count(suppress_small(count, below))


@jinja2.pass_context
def _count_phrase(
    context: jinja2.runtime.Context, count: Any, singular: str, plural: str | None = None
) -> str:
    """``12 contributions`` / ``fewer than 5 contributions``: suppressed, formatted, pluralised."""
    below = context.get("suppress_below", DEFAULT_SUPPRESS_BELOW)
    return pluralise(suppress_small(count, below), singular, plural)


def _strict(function):
    """A filter that fails like StrictUndefined when handed an undefined variable."""

    @functools.wraps(function)  # keeps jinja's pass_context marker
    def wrapper(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
        return function(*args, **kwargs)

    return wrapper


FILTERS = {
    "format_value": format_value,
    "format_ci": format_ci,
    "format_change": format_change,
    "format_share": format_share,
    "format_count": format_count,
    "format_period": format_period,
    "count_text": _count_text,
    "count_phrase": _count_phrase,
    "suppress_small": suppress_small,
    "pluralise": pluralise,
    "join_list": join_list,
    "comparison_label": comparison_label,
    "trend_label": trend_label,
    "status_label": status_label,
    "sector_label": sector_label,
    "attribution": sector_attribution,
    "quote_text": truncate_text,
}
GLOBALS = {"format_ci": format_ci, "require_svg": _require_svg}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's cache of compiled templates, in its own per-user folder (mode 700) under the
    temporary folder: compiling the briefing's templates takes about 40 ms in every run, loading
    them compiled about 2 ms. Entries are keyed by template file and source, so an edited
    template is compiled again. None (compile every time) where that folder cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@functools.lru_cache(maxsize=16)
def _environment(search_path: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(search_path)),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update({name: _strict(function) for name, function in FILTERS.items()})
    env.globals.update({name: _strict(function) for name, function in GLOBALS.items()})
    return env


def template_environment(override_dir: str | Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: ``override_dir`` (e.g. a workspace's ``templates/``) first, then the repo's.

    Autoescaping is on for ``*.html.j2`` (and html/xml) templates, off for
    ``*.txt.j2``; undefined variables raise. Environments are cached per folder.
    """
    if not TEMPLATES_DIR.is_dir():
        raise ConfigError(f"the templates folder {TEMPLATES_DIR} is missing")
    folders = [str(TEMPLATES_DIR)]
    if override_dir is not None:
        override = Path(override_dir).resolve()
        if not override.is_dir():
            raise ConfigError(f"the templates folder {override} does not exist")
        folders.insert(0, str(override))
    return _environment(tuple(folders))


def _plain_context(value: Any, where: str) -> None:
    """Contexts are plain values (dicts, lists, text, numbers, Markup): never a table."""
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        raise TypeError(f"template context {where} is a pandas object; pass dicts and lists")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _plain_context(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _plain_context(item, f"{where}[{n}]")


def _template_location(error: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an error happened at (Jinja puts template frames in tracebacks)."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return error.filename, error.lineno
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return None, None


def render(template_name: str, /, *, override_dir: str | Path | None = None, **context: Any) -> str:
    """Render a template from ``templates/`` with plain-value ``context``; returns text.

    ``template_name`` is a file name (``"headline.html.j2"``) or a section name
    (``"headline"`` finds ``headline.html.j2``, then ``headline.txt.j2``). Each
    template's header comment lists the variables it expects. A missing
    variable or template raises :class:`ConfigError` naming the file and line.
    """
    env = template_environment(override_dir)
    names = (
        [template_name]
        if template_name.endswith(".j2")
        else [f"{template_name}.html.j2", f"{template_name}.txt.j2"]
    )
    _plain_context(context, "")
    try:
        template = env.select_template(names)
        return template.render(**context)
    except jinja2.TemplateNotFound as error:
        missing = getattr(error, "templates", None) or [error.name]
        raise ConfigError(
            f"no template named {' or '.join(map(str, missing))} "
            f"in {' or '.join(env.loader.searchpath)}"
        ) from None
    except (jinja2.TemplateError, ConfigError) as error:
        file, line = _template_location(error)
        message = error.message if isinstance(error, HwbError) else str(error)
        raise ConfigError(
            f"template {names[0] if len(names) == 1 else template_name}: {message}",
            file=file,
            row=line,
        ) from error


def show(template_name: str, /, *, override_dir: str | Path | None = None, **context: Any):
    """:func:`render` wrapped as an ``IPython.display.HTML`` object for a notebook cell.

    Returned, not displayed: a cell shows it when it is the cell's last
    expression; inside a loop pass it to ``IPython.display.display``.
    """
    from IPython.display import HTML

    return HTML(render(template_name, override_dir=override_dir, **context))


# --- the HTML report ------------------------------------------------------------------

_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2\s*>", re.IGNORECASE | re.DOTALL)
_ID_ATTRIBUTE = re.compile(r"""\bid\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "section"


_SVG_PROLOGUE = re.compile(
    r"<\?xml.*?\?>|<!DOCTYPE[^>]*>|<!--.*?-->|<metadata\b.*?</metadata\s*>",
    re.IGNORECASE | re.DOTALL,
)


def _bare_svg(svg: Any) -> str:
    """An SVG output without XML declaration, DOCTYPE, comments or metadata.

    Inline in HTML they mean nothing, and they carry URLs (DTD, generator, RDF
    vocabularies) that would read as references in a self-contained page.
    """
    svg = "".join(svg) if isinstance(svg, list) else str(svg)
    return _SVG_PROLOGUE.sub("", svg).strip()


class _Headings:
    """Gives every h2 a unique id and collects them for the table of contents."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self._used: set[str] = set()

    def __call__(self, match: re.Match) -> str:
        attributes, inner = match.group(1), match.group(2)
        found = _ID_ATTRIBUTE.search(attributes)
        text = _plain(inner)
        wanted = html.unescape(found.group(2)) if found else f"section-{_slug(text)}"
        unique, n = wanted, 2
        while unique in self._used:
            unique, n = f"{wanted}-{n}", n + 1
        self._used.add(unique)
        self.entries.append((unique, text))
        if found:
            attributes = attributes[: found.start()] + attributes[found.end() :]
        attributes = " " + attributes.strip() if attributes.strip() else ""
        return f'<h2 id="{html.escape(unique)}"{attributes}>{inner}</h2>'


def _contents(entries: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>'
        for anchor, text in entries
    )
    return (
        '<nav class="hwb-toc" aria-label="Contents"><p class="hwb-toc-title">Contents</p>'
        f"<ol>{items}</ol></nav>"
    )


_FIRST_PART = 'data-hwb-part="first"'


def _prepare_report(notebook) -> tuple[Any, str | None]:
    """Give h2s ids, put a table of contents after the first part (the outputs marked
    ``data-hwb-part="first"``; else after the title), and find the page title."""
    headings = _Headings()
    title, title_output, html_outputs, first_part = None, None, [], None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" in data:
                data["image/svg+xml"] = _bare_svg(data["image/svg+xml"])
            if "text/html" not in data:
                continue
            source = data["text/html"]
            source = "".join(source) if isinstance(source, list) else source
            source = _H2.sub(headings, source)
            data["text/html"] = source
            html_outputs.append(output)
            if _FIRST_PART in source:
                first_part = output
            if title is None:
                found = _H1.search(source)
                if found:
                    title, title_output = _plain(found.group(1)), output
    if len(headings.entries) >= 2 and html_outputs:
        nav = _contents(headings.entries)
        if first_part is not None:
            first_part["data"]["text/html"] += nav
        elif title_output is not None:
            title_output["data"]["text/html"] += nav
        else:
            html_outputs[0]["data"]["text/html"] = nav + html_outputs[0]["data"]["text/html"]
    return notebook, title


_THREAD = threading.local()


def _exporter():
    """nbconvert's HTMLExporter with our template, one per thread (it is not thread-safe)."""
    exporter = getattr(_THREAD, "exporter", None)
    if exporter is not None:
        return exporter
    from nbconvert import HTMLExporter
    from nbconvert.exporters.html import WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from traitlets.config import Config

    class ReportExporter(HTMLExporter):
        """HTMLExporter without its final BeautifulSoup pass (alt text on ``<img>`` without
        one, ``tabindex`` on code cells): our template writes every image's alt and shows
        no code cell, and the pass re-parsed the whole page (about 0.4 s a briefing)."""

        def from_notebook_node(self, nb, resources=None, **kw):
            lexer = nb.metadata.get("language_info", {}).get("pygments_lexer")
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    exporter = ReportExporter(
        config=config,
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=True,
        exclude_raw=True,
        exclude_unknown=True,
    )
    _THREAD.exporter = exporter
    return exporter


def notebook_to_html(executed_notebook_path: str | Path, *, title: str | None = None) -> str:
    """The executed briefing notebook as one self-contained HTML page.

    Only outputs appear: HTML outputs as they are (they come from our escaped
    templates), SVG inline, PNG/JPEG as ``data:`` images; code, prompts,
    markdown cells, streams, errors and plain-text results are left out. The
    page uses nbconvert's ``HTMLExporter`` with the ``templates/nbconvert/hwb_report``
    template (inline CSS for phones and print), gets a table of contents built
    from the h2 headings, and its ``<title>`` from ``title`` or else the first
    h1 (the briefing's title). Raises :class:`PipelineError` when the page
    would make any request (a ``<script>``, or a URL in ``src``, ``href``,
    ``url(...)``, ``@import``...).
    """
    import nbformat

    path = Path(executed_notebook_path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:
        raise PipelineError(f"cannot read the executed notebook: {error}", file=path) from None
    notebook, found_title = _prepare_report(copy.deepcopy(notebook))
    page_title = title or found_title or notebook.metadata.get("title") or "Briefing"
    page, _ = _exporter().from_notebook_node(notebook, resources={"hwb_title": page_title})
    references = external_references(page)
    if references:
        raise PipelineError(
            f"the report would load {references[0]}"
            + (f" (and {len(references) - 1} more)" if len(references) > 1 else "")
            + "; a published briefing must be self-contained",
            file=path,
        )
    return page
