"""What counts as a missing value, and a value checked to be a number: the one rule every
layer uses (text, charts, privacy, the store)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError


def is_missing(value: Any) -> bool:
    """True for None, pandas' NA and NaT, and a number that is not finite (NaN, infinity)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, numbers.Real):
        return not math.isfinite(float(value))
    return False


def as_number(value: Any, what: str) -> float:
    """``value`` as a float, or :class:`InputError` naming ``what`` when it is not a number
    (text, a boolean)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what} must be a number, not {value!r}")
    return float(value)
