"""Numbers as people read them: values with their units, confidence intervals, changes, shares
(a proportion 0-1 shown as a percentage), counts, months, plurals and lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hwb_toolkit.errors import InputError
from hwb_toolkit.values import as_number, is_missing

NOT_AVAILABLE = "not available"


_NO_UNIT = "number"  # an indicator without a unit: one decimal, nothing after the number


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
    if is_missing(value):
        return NOT_AVAILABLE
    unit = _check_unit(unit)
    number = as_number(value, "value")
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
    if is_missing(lower) or is_missing(upper):
        return ""
    unit = _check_unit(unit)
    low = format_value(lower, "number", _places(as_number(lower, "lower"), unit, decimals))
    high = format_value(upper, "number", _places(as_number(upper, "upper"), unit, decimals))
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
    if is_missing(change):
        return NOT_AVAILABLE
    unit = _check_unit(unit)
    number = as_number(change, "change")
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
    if is_missing(share):
        return NOT_AVAILABLE
    number = as_number(share, "share")
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
    if is_missing(count):
        return NOT_AVAILABLE
    number = as_number(count, "count")
    return _digits(number, 0 if number.is_integer() else 1)


def format_period(period: Any) -> str:
    """A reporting month ``YYYY-MM`` as ``November 2026``; other periods (``2023/24``) unchanged."""
    if is_missing(period):
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
    one = not isinstance(count, str) and not is_missing(count) and float(count) == 1
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
    multiplier = as_number(multiplier, "multiplier")
    if calculator == "proportion" and multiplier == 100:
        return "%"
    if calculator in ("proportion", "crude_rate", "dsr") and multiplier > 1:
        return f"per {_digits(multiplier, 0)}"
    return "number"
