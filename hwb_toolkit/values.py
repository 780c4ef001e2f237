"""What counts as a missing value, a value checked to be a number, and a table checked to
have the columns it needs: the one rule for each that every layer uses (readers, engines,
text, charts, privacy, the store)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError, SchemaError


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


def require_columns(
    frame: pd.DataFrame, required: Iterable[str], path: str | Path | None = None, *,
    table: str | None = None,
) -> None:
    """Raise :class:`SchemaError` listing every required column ``frame`` lacks: the one
    check of a table's columns, for files (``path``: the file it was read from) and for
    tables passed to the engines and charts (``table``: what the table is, e.g. "votes").

    Near misses (same name ignoring case, spaces and underscores) are named so a
    renamed column is easy to spot.
    """
    present = list(frame.columns)
    missing = [column for column in required if column not in present]
    if not missing:
        return

    def squash(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    by_squashed = {squash(column): column for column in present}
    hints = [
        f"'{name}' (found '{by_squashed[squash(name)]}')"
        if squash(name) in by_squashed
        else f"'{name}'"
        for name in missing
    ]
    what = f"the {table} table lacks column(s)" if table else "missing required column(s)"
    raise SchemaError(f"{what}: " + ", ".join(hints), file=path, column=missing[0])
