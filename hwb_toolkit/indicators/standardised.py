"""Directly and indirectly standardised rates (DSR, ISR, ISRatio) as PHEindicatormethods
computes them, with the European Standard Populations 2013 and 1976.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.intervals import byars_ci
from hwb_toolkit.indicators.methods import (
    Confidence,
    _add_cis,
    _group_keys,
    _levels,
    _non_negative,
    _numeric,
    _poisson_method,
    _positive,
    _require,
    poisson_ci,
)

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
