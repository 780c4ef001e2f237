"""Funnel plots' control limits and the significance of each area against them (PHE technical
guidance "Funnel plots"; PHEindicatormethods' calculate_funnel_limits and
assign_funnel_significance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.intervals import poisson_mean_for_tail
from hwb_toolkit.indicators.methods import (
    _bad_row,
    _non_negative,
    _numeric,
    _positive,
    _require,
    poisson_ci,
)

#: Funnel control limits: 2 sigma (two-sided 95%, 0.025 each tail) and 3 sigma (99.8%, 0.001).
FUNNEL_LEVELS = {"2s": 0.025, "3s": 0.001}


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
