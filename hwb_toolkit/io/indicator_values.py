"""Whether each indicator value is one its calculator can produce: the checks that need the strategy.

Role: I/O validation, called by :func:`hwb_toolkit.io.fingertips.read_indicator_folder`
for each file, so that problems name the file and the row (header = row 1). The
Fingertips reader itself checks what holds for every indicator (finite numbers,
lower limit <= value <= upper limit, counts and denominators not negative). What
else a value may be depends on how it was calculated, which only the strategy
says (each indicator's ``calculator`` and ``multiplier``):

- a proportion lies between 0 and its multiplier (0-100 for a percentage), and
  its count is at most its denominator;
- a crude rate, a directly standardised rate (DSR) or an indirectly standardised
  ratio (ISR) is never negative;
- a mean may be any number.

Error or warning, decided from how Fingertips publishes its data:

- **Impossible anywhere, so an error** (:class:`~hwb_toolkit.errors.InputError`,
  nothing read): a negative proportion, rate or ratio. Fingertips never publishes
  one; it means a damaged or shifted row.
- **Published by Fingertips, so a warning** (:class:`~hwb_toolkit.errors.InputWarning`)
  **and the row left out**: a proportion above its multiplier, or a count above
  its denominator. Fingertips does publish these where the count and the
  denominator come from different sources, for example a dementia diagnosis rate
  (people on GP registers over the number estimated to have dementia) or a
  vaccination coverage over an ONS population estimate, both of which pass 100%
  in some areas. The file is not wrong, but the toolkit's proportion methods
  (Wilson intervals, the trend test on counts) assume a count within its
  denominator, so no interval, comparison or trend computed from such a row
  would be right: the row is left out of every figure (the workspace's
  indicator table is what every briefing, page and summary reads).
- **A multiplier that cannot be right, so an error**
  (:class:`~hwb_toolkit.errors.ConfigError`): when every value of a proportion
  lies above its multiplier (a percentage given ``multiplier: 1``), leaving all
  its rows out would hide a mistake in ``strategy.yaml``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError, InputWarning
from hwb_toolkit.io.tabular import FIRST_DATA_ROW

#: Calculators whose value cannot be negative.
NON_NEGATIVE = ("proportion", "crude_rate", "dsr", "isr")
#: Rows listed in one warning before "and N more".
_ROWS_SHOWN = 5


def check_indicator_values(
    frame: pd.DataFrame,
    file: str | Path,
    calculators: Mapping[int, tuple[str, float]],
    column_names: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Check one file's rows against their indicators' calculators; return the rows to keep.

    ``frame``: the file's rows in canonical columns, in file order (position 0 is
    spreadsheet row 2). ``calculators``: indicator id -> (calculator, multiplier),
    as in ``strategy.yaml``; rows of other indicators are not checked here.
    ``column_names``: canonical name -> the file's own column name, for messages.
    Returns a boolean mask (True = keep). Raises or warns as the module explains.
    """
    names = column_names or {}
    keep = np.ones(len(frame), dtype=bool)
    if frame.empty or not calculators:
        return keep
    ids = frame["indicator_id"].astype("Int64")
    calculator = ids.map({key: spec[0] for key, spec in calculators.items()}).to_numpy(object)
    multiplier = ids.map({key: float(spec[1]) for key, spec in calculators.items()})
    multiplier = multiplier.astype("float64").to_numpy(na_value=np.nan)
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    count = frame["count"].to_numpy(dtype="float64", na_value=np.nan)
    denominator = frame["denominator"].to_numpy(dtype="float64", na_value=np.nan)
    proportion = calculator == "proportion"

    negative = np.isin(calculator, NON_NEGATIVE) & (value < 0)
    if negative.any():
        position = int(np.flatnonzero(negative)[0])
        kind = "proportion" if proportion[position] else "rate or ratio"
        raise InputError(
            f"a {kind} cannot be negative ({value[position]:g}; indicator "
            f"{ids.iloc[position]} is a {calculator[position]} in strategy.yaml)",
            file=file,
            row=position + FIRST_DATA_ROW,
            column=names.get("value", "value"),
        )

    above = proportion & (value > multiplier * (1 + 1e-9))
    for indicator in pd.unique(ids[above]):
        mine = (ids == indicator).to_numpy(dtype=bool) & ~np.isnan(value)
        if above[mine].all():
            position = int(np.flatnonzero(mine)[0])
            raise ConfigError(
                f"every value of indicator {indicator} is above {multiplier[position]:g}, the "
                f"largest a proportion can be with the multiplier strategy.yaml gives it "
                f"(values up to {np.nanmax(value[mine]):g}): is the multiplier right "
                "(100 for a percentage)?",
                file=file,
                row=position + FIRST_DATA_ROW,
                column=names.get("value", "value"),
            )
    _leave_out(
        above, keep, file, names.get("value", "value"),
        lambda i: f"a proportion above its multiplier ({value[i]:g} > {multiplier[i]:g})",
    )
    over = proportion & (count > denominator)
    _leave_out(
        over, keep, file, names.get("count", "count"),
        lambda i: f"a count above its denominator ({count[i]:g} > {denominator[i]:g})",
    )
    return keep


def _leave_out(mask: np.ndarray, keep: np.ndarray, file, column: str, describe) -> None:
    """Mark ``mask``'s rows as left out, with one warning naming the first rows."""
    mask = mask & keep
    if not mask.any():
        return
    positions = np.flatnonzero(mask)
    rows = [str(p + FIRST_DATA_ROW) for p in positions[:_ROWS_SHOWN]]
    listed = ", ".join(rows) + (
        f" and {len(positions) - _ROWS_SHOWN} more" if len(positions) > _ROWS_SHOWN else ""
    )
    warnings.warn(
        InputWarning(
            f"{describe(int(positions[0]))} is left out of every figure (row"
            f"{'s' if len(positions) > 1 else ''} {listed}): Fingertips publishes a few such "
            "values (a count from one source over a population estimated from another), but "
            "no interval, comparison or trend can be computed from them",
            file=file,
            row=int(positions[0]) + FIRST_DATA_ROW,
            column=column,
        ),
        stacklevel=3,
    )
    keep &= ~mask
