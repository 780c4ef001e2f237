"""Indicator statistics in the manner of PHE/OHID Fingertips and PHEindicatormethods.

Pure functions over numpy arrays and pandas DataFrames: the calculators that turn counts
and denominators into indicator values with 95% and 99.8% confidence limits (proportion,
crude rate, mean, quantiles), and the checks and column conventions every calculator
shares. The intervals themselves are in :mod:`.intervals`, the standardised rates (DSR,
ISR, ISRatio, with the European Standard Populations) in :mod:`.standardised`, funnel
limits in :mod:`.funnels`.

Conventions
-----------
- A proportion is 0-1 before any ``multiplier`` (``multiplier=100`` gives a percentage).
- ``confidence`` is a level such as 0.95 or 0.998 (a tuple asks for several);
  output columns are named ``lower_ci95``/``upper_ci95``, ``lower_ci998``/``upper_ci998``
  (``lower_ci<level*100 without the dot>`` for other levels, e.g. 0.9 -> ``lower_ci90``).
- The normal quantile is the exact one from :func:`scipy.special.ndtri`
  (1.959964 for 95%, 3.090232 for 99.8%), as PHEindicatormethods uses ``qnorm``.
- Missing inputs (NaN) give missing outputs; invalid inputs (negative counts,
  numerator above denominator for a proportion, a zero denominator) raise
  :class:`hwb_toolkit.errors.InputError` naming the column and the row
  (spreadsheet row: first data row = row 2).

The algorithms follow the published PHE technical guidance ("Confidence intervals",
"Directly standardised rates", "Funnel plots") and are checked against the
PHEindicatormethods and Fingertips fixtures in the tests; no GPL code is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import special

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.intervals import _check_level, byars_ci, exact_poisson_ci, wilson_ci
from hwb_toolkit.values import require_columns

Confidence = float | Sequence[float] | None


def _levels(confidence: Confidence) -> tuple[float, ...]:
    if confidence is None:
        return ()
    if isinstance(confidence, int | float | np.floating):
        return (_check_level(confidence),)
    return tuple(_check_level(level) for level in confidence)


def ci_suffix(confidence: float) -> str:
    """Column suffix for a confidence level: 0.95 -> "95", 0.998 -> "998", 0.9 -> "90"."""
    return f"{float(confidence) * 100:.10g}".replace(".", "")


def ci_columns(confidence: float) -> tuple[str, str]:
    """Names of the lower and upper limit columns for a level: ("lower_ci95", "upper_ci95")."""
    suffix = ci_suffix(confidence)
    return f"lower_ci{suffix}", f"upper_ci{suffix}"


def _group_keys(group_by: str | Sequence[str] | None) -> list[str]:
    if group_by is None:
        return []
    if isinstance(group_by, str):
        return [group_by]
    return list(group_by)


def _require(df: pd.DataFrame, columns: Iterable[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    require_columns(df, columns)


def _bad_row(df: pd.DataFrame, column: str, bad: np.ndarray, message: str) -> InputError:
    position = int(np.flatnonzero(bad)[0])
    label = df.index[position]
    count = int(bad.sum())
    more = f" ({count - 1} more rows like it)" if count > 1 else ""
    value = df[column].iloc[position]
    shown = repr(value) if isinstance(value, str) else str(value)
    return InputError(
        f"{message}: {shown} (index {label}){more}",
        row=position + 2,
        column=column,
    )


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64; non-numeric cells raise InputError naming the first one."""
    series = df[column]
    if pd.api.types.is_bool_dtype(series):
        raise InputError("expected numbers, found true/false values", column=column)
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    bad = (converted.isna() & series.notna()).to_numpy()
    if bad.any():
        raise _bad_row(df, column, bad, "not a number")
    return converted.to_numpy(dtype=float, na_value=np.nan)


def _non_negative(df: pd.DataFrame, column: str, values: np.ndarray, what: str = "count") -> None:
    bad = values < 0
    if bad.any():
        raise _bad_row(df, column, bad, f"a {what} cannot be negative")


def _positive(df: pd.DataFrame, column: str, values: np.ndarray, what: str = "denominator") -> None:
    bad = values <= 0
    if bad.any():
        raise _bad_row(df, column, bad, f"a {what} must be greater than zero")


def _sum_by_group(
    df: pd.DataFrame, keys: list[str], columns: dict[str, np.ndarray], *, skipna: bool = False
) -> pd.DataFrame:
    """Sum arrays within groups of ``df[keys]`` (first-seen group order).

    With ``skipna=False`` a group containing a missing value sums to NaN, as
    PHEindicatormethods does, so a gap is never silently read as zero.
    """
    frame = pd.DataFrame(columns, index=df.index)
    grouper = [df[k] for k in keys]
    grouped = frame.groupby(grouper, sort=False, dropna=False)
    sums = grouped.sum()
    if not skipna:
        has_nan = frame.isna().groupby(grouper, sort=False, dropna=False).any()
        sums = sums.mask(has_nan)
    return sums.reset_index()


def _add_cis(out: pd.DataFrame, levels: tuple[float, ...], limits, scale=1.0) -> pd.DataFrame:
    """Append lower/upper columns for each level; ``limits(level) -> (lower, upper)``."""
    for level in levels:
        lower, upper = limits(level)
        lower_name, upper_name = ci_columns(level)
        out[lower_name] = np.asarray(lower) * scale
        out[upper_name] = np.asarray(upper) * scale
    return out


def proportion(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    multiplier: float = 1,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Proportions with Wilson score confidence limits (PHE ``phe_proportion``).

    ``value = numerator / denominator * multiplier`` (``multiplier=100`` gives a
    percentage). Without ``group_by`` each row is one result and the input
    columns are kept; with ``group_by`` numerators and denominators are summed
    per group (a group holding a missing value gives a missing result).

    Raises InputError for a negative numerator, a denominator of zero or less,
    or a numerator above its denominator.
    """
    _require(df, [numerator, denominator, *_group_keys(group_by)])
    levels = _levels(confidence)
    x = _numeric(df, numerator)
    n = _numeric(df, denominator)
    _non_negative(df, numerator, x)
    _positive(df, denominator, n)
    above = x > n
    if above.any():
        raise _bad_row(
            df, numerator, above, f"numerator is larger than its denominator ({denominator!r})"
        )
    keys = _group_keys(group_by)
    if keys:
        out = _sum_by_group(df, keys, {numerator: x, denominator: n})
        x = out[numerator].to_numpy(dtype=float)
        n = out[denominator].to_numpy(dtype=float)
    else:
        out = df.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = x / n * multiplier
    return _add_cis(out, levels, lambda c: wilson_ci(x, n, c), multiplier)


def poisson_ci(
    x, confidence: float = 0.95, exact_below: float = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits of a COUNT: exact Poisson when x < ``exact_below``, Byar's otherwise.

    This is the PHE rule for crude rates and indirectly standardised ratios.
    Exact limits are computed only for the small counts (they cost more).
    """
    x = np.asarray(x, dtype=float)
    flat = np.atleast_1d(x)
    lower, upper = byars_ci(flat, confidence)
    small = flat < exact_below
    if small.any():
        lower[small], upper[small] = exact_poisson_ci(flat[small], confidence)
    return lower.reshape(x.shape), upper.reshape(x.shape)


def _poisson_method(x: np.ndarray, exact_below: float = 10) -> np.ndarray:
    return np.where(np.isnan(x), None, np.where(x < exact_below, "Exact", "Byars")).astype(object)


def crude_rate(
    df: pd.DataFrame,
    count: str,
    denominator: str,
    multiplier: float = 100_000,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Crude rates per ``multiplier`` with Poisson confidence limits (PHE ``phe_rate``).

    Limits are exact (chi-square) when the count is below 10, Byar's otherwise;
    the ``method`` column says which. A count above its denominator is allowed.
    Raises InputError for a negative count or a denominator of zero or less.
    """
    _require(df, [count, denominator, *_group_keys(group_by)])
    levels = _levels(confidence)
    x = _numeric(df, count)
    n = _numeric(df, denominator)
    _non_negative(df, count, x)
    _positive(df, denominator, n)
    keys = _group_keys(group_by)
    if keys:
        out = _sum_by_group(df, keys, {count: x, denominator: n})
        x = out[count].to_numpy(dtype=float)
        n = out[denominator].to_numpy(dtype=float)
    else:
        out = df.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = multiplier / n
    out["value"] = x * scale
    out = _add_cis(out, levels, lambda c: poisson_ci(x, c), scale)
    out["method"] = _poisson_method(x)
    return out


def mean_ci(
    df: pd.DataFrame,
    values: str,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Means with Student's t confidence limits (PHE ``phe_mean``).

    Missing values are left out of a group's mean (and counted out of ``value_count``).
    Output: group columns, ``value_sum``, ``value_count``, ``stdev`` (n - 1), ``value``, limits.
    """
    keys = _group_keys(group_by)
    _require(df, [values, *keys])
    v = _numeric(df, values)
    frame = pd.DataFrame({"v": v}, index=df.index)
    if keys:
        grouped = frame.groupby([df[k] for k in keys], sort=False, dropna=False)["v"]
        out = pd.DataFrame(
            {
                "value_sum": grouped.sum(),
                "value_count": grouped.count(),
                "stdev": grouped.std(ddof=1),
            }
        ).reset_index()
    else:
        out = pd.DataFrame(
            {"value_sum": [np.nansum(v)], "value_count": [int(np.sum(~np.isnan(v)))],
             "stdev": [frame["v"].std(ddof=1)]}
        )  # fmt: skip
    count = out["value_count"].to_numpy(dtype=float)
    sd = out["stdev"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = out["value_sum"].to_numpy(dtype=float) / count

    def student(level):
        with np.errstate(invalid="ignore", divide="ignore"):
            half = special.stdtrit(count - 1, 0.5 + level / 2.0) * sd / np.sqrt(count)
        centre = out["value"].to_numpy()
        return centre - half, centre + half

    return _add_cis(out, _levels(confidence), student)


_INVERT_WORDS = {
    "true": True, "false": False, "1": True, "0": False,
    "low_is_good": True, "high_is_good": False,
    "rag - low is good": True, "rag - high is good": False,
}  # fmt: skip


def _invert_flags(df: pd.DataFrame, column: str) -> np.ndarray:
    series = df[column]
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=bool)
    words = series.astype("string").str.strip().str.lower()
    mapped = words.map(_INVERT_WORDS)
    bad = mapped.isna().to_numpy()
    if bad.any():
        raise _bad_row(
            df, column, bad,
            "cannot tell the direction: use True/False or a polarity (low_is_good, high_is_good)",
        )  # fmt: skip
    return mapped.to_numpy(dtype=bool)


def quantile_group(
    df: pd.DataFrame,
    values: str,
    nquantiles: int = 10,
    invert: bool | str = False,
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Assign rows to quantiles of ``values`` within groups (PHE ``phe_quantile``).

    Quantile 1 holds the lowest values unless ``invert`` is true, when it holds
    the highest. ``invert`` may name a column (booleans, or polarity labels:
    "low_is_good"/"RAG - Low is good" invert, "high_is_good" does not) whose value
    must be the same within a group. Ties share the lowest rank. Groups with fewer
    non-missing values than ``nquantiles`` get no quantiles (NaN), as do missing values.

    Returns a copy of ``df`` with a ``quantile`` column (float, 1..nquantiles or NaN).
    """
    keys = _group_keys(group_by)
    _require(df, [values, *keys])
    if int(nquantiles) != nquantiles or nquantiles < 1:
        raise InputError(f"nquantiles must be a positive whole number, got {nquantiles!r}")
    v = _numeric(df, values)
    grouper = [df[k] for k in keys] if keys else np.zeros(len(df))
    if isinstance(invert, str):
        _require(df, [invert])
        flags = pd.Series(_invert_flags(df, invert), index=df.index)
        varies = flags.groupby(grouper, dropna=False).transform("nunique").to_numpy() > 1
        if varies.any():
            raise _bad_row(df, invert, varies, "the direction must be the same within each group")
        flip = flags.to_numpy()
    else:
        flip = np.full(len(df), bool(invert))
    ranked = pd.Series(np.where(flip, -v, v), index=df.index)
    rank = ranked.groupby(grouper, dropna=False).rank(method="min").to_numpy()
    rows = ranked.groupby(grouper, dropna=False).transform("count").to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.floor((nquantiles + 1) - np.ceil(((rows + 1) - rank) / (rows / nquantiles)))
    q = np.where(q == 0, 1.0, q)
    q = np.where(rows < nquantiles, np.nan, q)
    out = df.copy()
    out["quantile"] = q
    return out
