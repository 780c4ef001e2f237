"""Indicator statistics in the manner of PHE/OHID Fingertips and PHEindicatormethods.

Pure functions over numpy arrays and pandas DataFrames: confidence intervals
(Wilson, Byar's, exact Poisson), the European Standard Populations, and the
calculators that turn counts and denominators into indicator values with
95% and 99.8% confidence limits (proportion, crude rate, directly and
indirectly standardised rates and ratios, mean, quantiles, funnel limits).

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

__all__ = [
    "ESP2013",
    "ESP1976",
    "ESP2013_AGE_BANDS",
    "ESP1976_AGE_BANDS",
    "normal_z",
    "FINGERTIPS_Z",
    "wilson_ci",
    "byars_ci",
    "exact_poisson_ci",
    "poisson_ci",
    "ci_suffix",
    "ci_columns",
    "proportion",
    "crude_rate",
    "dsr",
    "isr",
    "isratio",
    "mean_ci",
    "quantile_group",
    "poisson_mean_for_tail",
    "funnel_limits",
    "funnel_significance",
    "FUNNEL_LABELS",
]

# European Standard Population 2013: 19 five-year bands, 0-4 ... 85-89, 90+ (total 100,000).
ESP2013_AGE_BANDS: tuple[str, ...] = (
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
    "45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
)  # fmt: skip
ESP2013: np.ndarray = np.array(
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000,
     7000, 7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000],
    dtype=float,
)  # fmt: skip
ESP2013.setflags(write=False)

# European Standard Population 1976 in five-year bands: 0-4 (the 0 and 1-4 bands, 1,600 + 6,400
# combined), 5-9, ..., 80-84, 85+ (18 bands, total 100,000), as PHE used it before 2013.
ESP1976_AGE_BANDS: tuple[str, ...] = (
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
    "45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85+",
)  # fmt: skip
ESP1976: np.ndarray = np.array(
    [8000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000,
     7000, 7000, 6000, 5000, 4000, 3000, 2000, 1000, 1000],
    dtype=float,
)  # fmt: skip
ESP1976.setflags(write=False)


def normal_z(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level (0.95 -> 1.959964)."""
    confidence = _check_level(confidence)
    return float(special.ndtri(0.5 + confidence / 2.0))


def _check_level(confidence: float) -> float:
    level = float(confidence)
    if not 0.0 < level < 1.0:
        raise InputError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return level


def wilson_ci(x, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the proportion ``x / n`` (0-1, no multiplier).

    ``x`` and ``n`` are scalars or array-likes (broadcast together). Returns
    ``(lower, upper)`` as float arrays; NaN where an input is NaN or ``n`` is 0.
    The limits are clipped to [0, 1] to absorb rounding at x = 0 and x = n.
    """
    z = normal_z(confidence)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2.0 * x + z2
        spread = z * np.sqrt(z2 + 4.0 * x * (1.0 - x / n))
        denom = 2.0 * (n + z2)
        lower = (centre - spread) / denom
        upper = (centre + spread) / denom
    lower = np.where(n == 0, np.nan, np.clip(lower, 0.0, 1.0))
    upper = np.where(n == 0, np.nan, np.clip(upper, 0.0, 1.0))
    return lower, upper


#: The rounded normal quantiles Fingertips' own calculations use (e.g. Byar's limits
#: of some published indicators): pass ``z=FINGERTIPS_Z[level]`` to reproduce them.
FINGERTIPS_Z = {0.95: 1.96, 0.998: 3.0902}


def byars_ci(
    x, confidence: float = 0.95, *, z: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the Poisson confidence limits of a COUNT ``x``.

    ``z`` overrides the normal quantile of ``confidence`` (Fingertips publishes
    some indicators computed with the rounded 1.96: see :data:`FINGERTIPS_Z`).

    lower = x (1 - 1/(9x) - z/(3 sqrt x))^3,
    upper = (x+1) (1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3.
    The lower limit is 0 for x = 0. For very small x at high confidence (x = 1 at 99.8%)
    the approximation gives a negative lower limit: it is returned as NaN, as
    PHEindicatormethods does (use :func:`exact_poisson_ci` for small counts).
    """
    z = normal_z(confidence) if z is None else float(z)
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * np.sqrt(x))) ** 3
        x1 = x + 1.0
        upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3
    lower = np.where(x == 0, 0.0, np.where(lower < 0, np.nan, lower))
    return lower, upper


def exact_poisson_ci(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood, chi-square) Poisson confidence limits of a COUNT ``x``.

    lower = chi2.ppf(alpha/2, 2x) / 2 (0 when x = 0), upper = chi2.ppf(1 - alpha/2, 2x + 2) / 2,
    computed through the equivalent gamma quantiles (``scipy.special.gammaincinv``)
    which is fast on large arrays.
    """
    level = _check_level(confidence)
    alpha = 1.0 - level
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        # chi2.ppf(p, 2k) / 2 == gamma.ppf(p, k) == gammaincinv(k, p)
        lower = np.where(x > 0, special.gammaincinv(np.where(x > 0, x, 1.0), alpha / 2.0), 0.0)
        upper = special.gammaincinv(x + 1.0, 1.0 - alpha / 2.0)
    lower = np.where(np.isnan(x), np.nan, lower)
    return lower, upper


# ---------------------------------------------------------------------------
# Input checks shared by the calculators
# ---------------------------------------------------------------------------

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
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"column {missing[0]!r} not found (columns present: {', '.join(map(str, df.columns))})",
            column=str(missing[0]),
        )


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


# ---------------------------------------------------------------------------
# Calculators
# ---------------------------------------------------------------------------


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


def _standard_weights(df: pd.DataFrame, standard, band_counts: np.ndarray, what: str) -> np.ndarray:
    """Per-row standard/reference values from a column name or a per-band sequence."""
    if isinstance(standard, str):
        _require(df, [standard])
        return _numeric(df, standard)
    weights = np.asarray(standard, dtype=float).ravel()
    bad = band_counts != weights.size
    if bad.any():
        raise InputError(
            f"{what} has {weights.size} values but a group has {int(band_counts[bad][0])} rows: "
            "each group must hold one row per band, in the standard order"
        )
    return np.tile(weights, band_counts.size)


def _ordered_groups(
    df: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows sorted so each group is contiguous (band order kept); group codes and sizes."""
    if not keys:
        return df, np.zeros(len(df), dtype=np.int64), np.array([len(df)])
    codes = df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    return df.iloc[order], codes[order], sizes


def _group_frame(
    df: pd.DataFrame, keys: list[str], codes: np.ndarray, n_groups: int
) -> pd.DataFrame:
    if not keys:
        return pd.DataFrame(index=range(1))
    first = np.searchsorted(codes, np.arange(n_groups))
    return df[keys].iloc[first].reset_index(drop=True)


def dsr(
    df: pd.DataFrame,
    count: str,
    population: str,
    standard_population=ESP2013,
    multiplier: float = 100_000,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Directly standardised rates with Dobson confidence limits (PHE ``calculate_dsr``).

    Rows of each group (``group_by`` gives the areas; without it the whole frame
    is one area) are the standardisation bands in the order of
    ``standard_population`` (default :data:`ESP2013`, 19 bands 0-4 ... 90+), or
    ``standard_population`` names a column of per-row standard populations.
    A missing count in a band counts as zero events; a missing population gives
    a missing result. DSR and limits are NaN when the total count is below 10.

    Output: group columns, ``total_count``, ``total_pop``, ``value`` and limits.
    """
    keys = _group_keys(group_by)
    _require(df, [count, population, *keys])
    levels = _levels(confidence)
    ordered, codes, sizes = _ordered_groups(df, keys)
    x = _numeric(ordered, count)
    n = _numeric(ordered, population)
    _non_negative(ordered, count, x)
    _positive(ordered, population, n, "population")
    w = _standard_weights(ordered, standard_population, sizes, "standard_population")
    _non_negative(
        ordered,
        standard_population if isinstance(standard_population, str) else count,
        w,
        "standard population",
    )
    x0 = np.nan_to_num(x, nan=0.0)
    n_groups = sizes.size
    total_count = np.bincount(codes, x0, n_groups)
    total_pop = np.bincount(codes, n, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.bincount(codes, x0 * w / n, n_groups)
        squared = np.bincount(codes, x0 * (w / n) ** 2, n_groups)
        total_w = np.bincount(codes, w, n_groups)
        value = weighted / total_w * multiplier
        variance = squared / total_w**2
    too_few = total_count < 10
    value = np.where(too_few, np.nan, value)
    out = _group_frame(ordered, keys, codes, n_groups)
    out["total_count"] = total_count
    out["total_pop"] = total_pop
    out["value"] = value

    def dobson(level):
        o_lower, o_upper = byars_ci(total_count, level)
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.sqrt(variance / total_count) * multiplier
        return value + spread * (o_lower - total_count), value + spread * (o_upper - total_count)

    return _add_cis(out, levels, dobson)


def _indirect(
    df, count, population, reference_count, reference_population, group_by, observed_totals
):
    keys = _group_keys(group_by)
    _require(df, [count, population, *keys])
    ordered, codes, sizes = _ordered_groups(df, keys)
    x = _numeric(ordered, count)
    n = _numeric(ordered, population)
    _non_negative(ordered, count, x)
    _non_negative(ordered, population, n, "population")
    ref_x = _standard_weights(ordered, reference_count, sizes, "reference_count")
    ref_n = _standard_weights(ordered, reference_population, sizes, "reference_population")
    ref_name = reference_count if isinstance(reference_count, str) else count
    _non_negative(ordered, ref_name, ref_x, "reference count")
    ref_n_name = reference_population if isinstance(reference_population, str) else population
    _positive(ordered, ref_n_name, ref_n, "reference population")
    n_groups = sizes.size
    # A band with a missing population or reference count contributes no expected
    # events, as PHEindicatormethods sums them (na.rm).
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.bincount(codes, np.nan_to_num(n * ref_x / ref_n, nan=0.0), n_groups)
    observed = np.bincount(codes, np.nan_to_num(x, nan=0.0), n_groups)
    out = _group_frame(ordered, keys, codes, n_groups)
    if observed_totals is not None:
        observed = _observed_from_totals(out, keys, observed_totals)
    # Reference rate: first group's bands (every group shares the reference).
    first = codes == 0
    ref_rate = np.nansum(ref_x[first]) / np.nansum(ref_n[first])
    return out, observed, expected, ref_rate


def _observed_from_totals(groups: pd.DataFrame, keys: list[str], totals) -> np.ndarray:
    if isinstance(totals, pd.DataFrame):
        if not keys:
            raise InputError("observed_totals as a table needs group_by to join on")
        value_cols = [c for c in totals.columns if c not in keys]
        if len(value_cols) != 1:
            raise InputError("observed_totals must hold the group columns and one count column")
        merged = groups[keys].merge(totals, on=keys, how="left")
        observed = _numeric(merged, value_cols[0])
    else:
        observed = np.asarray(totals, dtype=float).ravel()
        if observed.size != len(groups):
            raise InputError(f"observed_totals has {observed.size} values for {len(groups)} groups")
    if (observed < 0).any():
        raise InputError("observed_totals cannot be negative")
    return observed


def isratio(
    df: pd.DataFrame,
    count: str,
    population: str,
    reference_count,
    reference_population,
    multiplier: float = 1,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
    observed_totals=None,
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected, e.g. an SMR with multiplier 100).

    ``reference_count``/``reference_population`` are per-band sequences (one value
    per row of each group, in order) or column names. Expected events are
    ``sum(population * reference_count / reference_population)``. Limits are exact
    Poisson when observed < 10, Byar's otherwise (``method`` column).
    ``observed_totals`` (optional) gives the observed total per group when the
    counts are not available by band: a sequence in group order or a table of
    group columns plus one count column. A band with a missing count, population
    or reference count adds nothing to observed or expected (PHE's convention).
    """
    out, observed, expected, _ = _indirect(
        df, count, population, reference_count, reference_population, group_by, observed_totals
    )
    return _standardised(out, observed, expected, multiplier, confidence)


def isr(
    df: pd.DataFrame,
    count: str,
    population: str,
    reference_count,
    reference_population,
    multiplier: float = 100_000,
    confidence: Confidence = (0.95, 0.998),
    group_by: str | Sequence[str] | None = None,
    observed_totals=None,
) -> pd.DataFrame:
    """Indirectly standardised rate per ``multiplier``: the ratio times the reference rate.

    Same inputs as :func:`isratio`; adds ``ref_rate`` (reference events per
    ``multiplier`` population) to the output.
    """
    out, observed, expected, ref_rate = _indirect(
        df, count, population, reference_count, reference_population, group_by, observed_totals
    )
    rate = ref_rate * multiplier
    return _standardised(out, observed, expected, rate, confidence, ref_rate=rate)


def _standardised(
    out, observed, expected, numerator, confidence: Confidence, **extra_columns
) -> pd.DataFrame:
    """Indirect standardisation's common tail: value = observed x numerator / expected, with
    Poisson limits on the observed count scaled the same way (exact below 10, Byar's after).
    ``extra_columns`` follow ``observed`` and ``expected`` in the output."""
    out["observed"] = observed
    out["expected"] = expected
    for name, column in extra_columns.items():
        out[name] = column
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = numerator / expected
    out["value"] = observed * scale
    out = _add_cis(out, _levels(confidence), lambda c: poisson_ci(observed, c), scale)
    out["method"] = _poisson_method(observed)
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


# ---------------------------------------------------------------------------
# Funnel plots (PHE technical guidance "Funnel plots"; PHEindicatormethods calculate_funnel_limits)
# ---------------------------------------------------------------------------

#: Funnel control limits: 2 sigma (two-sided 95%, 0.025 each tail) and 3 sigma (99.8%, 0.001).
FUNNEL_LEVELS = {"2s": 0.025, "3s": 0.001}


def _poisson_at_least(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X >= k) for X ~ Poisson(mean); 1 for k <= 0 (``pdtrc`` gives NaN below zero)."""
    return np.where(k <= 0, 1.0, special.pdtrc(np.maximum(k - 1, 0), mean))


def _poisson_at_most(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X <= k) for X ~ Poisson(mean); 0 for k < 0."""
    return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0), mean))


def poisson_mean_for_tail(observed, tail: float, side: str) -> np.ndarray:
    """Poisson mean at which ``observed`` sits at tail probability ``tail``.

    ``side="low"``: the mean m with P(X >= observed | m) = tail (a lower limit);
    ``side="high"``: the mean m with P(X <= observed | m) = tail (an upper limit).
    Found by the same 23-step bisection on v = m / (1 + observed + m) that
    Fingertips (``StatisticalMethods.PoisLow/PoisHigh``) and the PHE funnel
    macro use, so the limits agree with theirs to the last digit they print;
    vectorised over ``observed`` with scipy's Poisson tails (``pdtr``/``pdtrc``).
    Non-integer ``observed`` (expected counts) count whole events only, as theirs do.
    """
    observed = np.asarray(observed, dtype=float)
    if side not in ("low", "high"):
        raise ValueError(f"side must be 'low' or 'high', got {side!r}")
    v = np.full(observed.shape, 0.5)
    step = 0.5
    while step > 1e-7:
        step /= 2
        mean = (1 + observed) * v / (1 - v)
        if side == "low":
            overshoot = _poisson_at_least(np.ceil(observed), mean) > tail
        else:
            overshoot = _poisson_at_most(np.floor(observed), mean) < tail
        v = np.where(overshoot, v - step, v + step)
    return (1 + observed) * v / (1 - v)


def _funnel_proportion_limit(tail_z: float, population, average: float, side: str) -> np.ndarray:
    """Proportion (0-1) at the funnel limit for ``population`` around ``average``.

    The Wilson-score interval around the average solved for the observed
    proportion (PHE funnel guidance), ``tail_z`` the normal quantile.
    """
    n = np.asarray(population, dtype=float)
    z2 = tail_z**2
    centre = average * (n / z2 + 1)
    root = np.sqrt(
        (-8 * average * (n / z2 + 1)) ** 2
        - 64 * (1 / z2 + 1 / n) * average * (n * (average * (n / z2 + 2) - 1) + z2 * (average - 1))
    )
    sign = -1.0 if side == "low" else 1.0
    return (centre + sign * root / 8) / (1 / z2 + 1 / n) / n


def _signif_floor(x: float) -> float:
    """Round 95% of x down to one significant figure (0 stays 0)."""
    if x == 0:
        return 0.0
    scaled = x * 0.95
    power = len(str(int(np.floor(scaled)))) - 1
    return float(np.floor(scaled / 10**power) * 10**power)


def _signif_ceiling(x: float) -> float:
    """Round 105% of x up to two significant figures (0 stays 0)."""
    if x == 0:
        return 0.0
    scaled = x * 1.05
    power = len(str(int(np.ceil(scaled)))) - 2
    return float(np.ceil(scaled / 10.0**power) * 10.0**power)


def _funnel_denominators(df, numerator, x, denominator, rate, rate_type, multiplier, statistic):
    if statistic != "rate":
        return _numeric(df, denominator)
    if rate is None or rate_type not in ("dsr", "crude") or multiplier is None:
        raise InputError(
            "rate funnels need rate (a column), rate_type ('dsr' or 'crude') and multiplier"
        )
    _require(df, [rate])
    r = _numeric(df, rate)
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = multiplier * x / r
    if rate_type == "dsr":
        return np.where(x == 0, np.nan, derived)
    if denominator is None:
        if (x == 0).any():
            raise _bad_row(
                df, numerator, x == 0, "a crude-rate funnel with zero events needs the denominator"
            )
        return derived
    return np.where(x == 0, _numeric(df, denominator), derived)


def _funnel_inputs(df, numerator, denominator, statistic):
    if statistic not in ("proportion", "rate", "ratio"):
        raise InputError(f"statistic must be 'proportion', 'rate' or 'ratio', got {statistic!r}")
    if statistic in ("proportion", "ratio") and denominator is None:
        raise InputError(f"a {statistic} funnel needs the denominator column")
    _require(df, [numerator] + ([denominator] if denominator else []))
    x = _numeric(df, numerator)
    missing = np.isnan(x)
    if missing.any():
        raise _bad_row(df, numerator, missing, "funnels need every count (give 0 for none)")
    _non_negative(df, numerator, x)
    if denominator is not None:
        n = _numeric(df, denominator)
        if np.isnan(n).any():
            raise _bad_row(df, denominator, np.isnan(n), "funnels need every denominator")
        _positive(df, denominator, n)
        if statistic == "proportion" and (x > n).any():
            raise _bad_row(df, numerator, x > n, "numerator is larger than its denominator")
    return x


def funnel_limits(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None = None,
    *,
    statistic: str,
    multiplier: float | None = None,
    rate: str | None = None,
    rate_type: str | None = None,
    ratio_type: str | None = None,
    years_of_data: float | None = None,
) -> pd.DataFrame:
    """The 100-point funnel-plot control limits of PHE ``calculate_funnel_limits``.

    ``statistic``:
    - ``"proportion"``: x = population; limits as proportion x ``multiplier`` (100: %),
      clipped to [0, multiplier]; plus ``baseline`` (the pooled proportion).
    - ``"rate"`` (``rate_type`` ``"dsr"`` or ``"crude"``, ``rate`` the column of rates per
      ``multiplier``, ``years_of_data``): x = events; the population giving each limit
      (``*_population_1_year``, per year) and the limit rates; plus ``baseline``.
    - ``"ratio"`` (``ratio_type`` ``"count"``: limits as ratio - 1, ``"isr"``: ratio x 100):
      x = observed events, ``denominator`` the expected events.

    Limits are at 2 sigma (0.025 each tail: ``*_2s_*``) and 3 sigma (0.001: ``*_3s_*``).
    """
    x = _funnel_inputs(df, numerator, denominator, statistic)
    if statistic == "rate" and years_of_data is None:
        raise InputError("rate funnels need years_of_data")
    if statistic == "ratio" and ratio_type not in ("count", "isr"):
        raise InputError(f"ratio_type must be 'count' or 'isr', got {ratio_type!r}")
    if statistic == "proportion" and multiplier is None:
        multiplier = 100
    derived = _funnel_denominators(
        df, numerator, x, denominator, rate, rate_type, multiplier, statistic
    )
    average = x.sum() / np.nansum(derived)
    low, high = np.nanmin(derived), np.nanmax(derived)
    per_year = years_of_data if statistic == "rate" else 1
    axis_min = 0.0 if high > 2 * low else _signif_floor(low / per_year) * per_year
    axis_max = _signif_ceiling(high / per_year) * per_year
    if statistic == "rate":
        axis_min = float(np.floor(axis_min * average))
        axis_max = float(np.ceil(axis_max * average))
    # Points spaced geometrically from the axis minimum to the maximum, as PHE's macro does.
    points = [max(1.0, axis_min)]
    for j in range(2, 101):
        offset = j - 1 if statistic == "ratio" else j
        previous = points[-1]
        points.append(
            max(round((axis_max / previous) ** (1 / (101 - offset)) * previous), previous + 1)
        )
    grid = np.array(points, dtype=float)

    if statistic == "proportion":
        out = pd.DataFrame({"population": grid})
        for name, tail in FUNNEL_LEVELS.items():
            z = special.ndtri(1 - tail)
            out[f"lower_{name}_limit"] = np.maximum(
                0, _funnel_proportion_limit(z, grid, average, "low") * multiplier
            )
            out[f"upper_{name}_limit"] = np.minimum(
                multiplier, _funnel_proportion_limit(z, grid, average, "high") * multiplier
            )
        out = out[
            ["population", "lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"]
        ]
        out["baseline"] = average * multiplier
        return out
    if statistic == "ratio":
        out = pd.DataFrame({"observed_events": grid})
        for name, tail in FUNNEL_LEVELS.items():
            for bound, side in (("lower", "high"), ("upper", "low")):
                expected = poisson_mean_for_tail(grid, tail, side)
                ratio = grid / expected
                out[f"{bound}_{name}_exp_events"] = expected
                out[f"{bound}_{name}_limit"] = ratio - 1 if ratio_type == "count" else ratio * 100
        return out
    out = pd.DataFrame({"events": grid})
    for name, tail in FUNNEL_LEVELS.items():
        for bound, side in (("lower", "high"), ("upper", "low")):
            population = poisson_mean_for_tail(grid, tail, side) / average
            out[f"{bound}_{name}_population_1_year"] = population / years_of_data
            out[f"{bound}_{name}_limit"] = grid / population * multiplier
    out["baseline"] = average * multiplier
    return out


FUNNEL_LABELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)", "Not significant")


def funnel_significance(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None = None,
    *,
    statistic: str,
    rate: str | None = None,
    rate_type: str | None = None,
    multiplier: float | None = None,
) -> pd.Series:
    """Label each row against the funnel of the whole frame (PHE ``assign_funnel_significance``).

    Labels: "High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)",
    "Not significant"; for DSR rates with fewer than 10 events
    "Not applicable for events less than 10 for DSRs". Returns a Series
    aligned to ``df`` named ``significance``.
    """
    x = _funnel_inputs(df, numerator, denominator, statistic)
    if statistic == "proportion":
        n = _numeric(df, denominator)
        average = x.sum() / n.sum()
        p = x / n
        tests = [
            p < _funnel_proportion_limit(special.ndtri(0.999), n, average, "low"),
            p < _funnel_proportion_limit(special.ndtri(0.975), n, average, "low"),
            p > _funnel_proportion_limit(special.ndtri(0.999), n, average, "high"),
            p > _funnel_proportion_limit(special.ndtri(0.975), n, average, "high"),
        ]
        labels = ["Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"]
    else:
        if statistic == "ratio":
            expected = _numeric(df, denominator)
            baseline = 1.0
        else:
            expected = _funnel_denominators(
                df, numerator, x, denominator, rate, rate_type, multiplier, statistic
            )
            baseline = x.sum() / np.nansum(expected)
        with np.errstate(invalid="ignore", divide="ignore"):
            low998, high998 = (limit / expected for limit in poisson_ci(x, 0.998))
            low95, high95 = (limit / expected for limit in poisson_ci(x, 0.95))
        tests = [baseline < low998, baseline < low95, baseline > high998, baseline > high95]
        labels = ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"]
    result = np.select(tests, labels, default="Not significant").astype(object)
    if statistic == "rate" and rate_type == "dsr":
        result = np.where(x < 10, "Not applicable for events less than 10 for DSRs", result)
    return pd.Series(result, index=df.index, name="significance", dtype=object)
