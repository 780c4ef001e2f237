"""Comparisons and trends the way Fingertips labels them.

Pure functions over scalars and numpy arrays that turn indicator values and
their confidence limits into the words Fingertips shows:

- :func:`compare_to_benchmark`: overlapping confidence intervals against a
  benchmark value (England, the region), at 95% and optionally 99.8%
  ("Better"/"Similar"/"Worse", "Best"/"Worst", or "Lower"/"Similar"/"Higher").
- :func:`quintile_bounds` and :func:`quintile_labels`: Fingertips' quintiles.
- :func:`compare_spc_proportion` and :func:`compare_spc_dsr`: the control-limit
  (SPC) comparers Fingertips uses for some proportions and DSRs.
- :func:`recent_trend`: the recent-trend marker over the last five points, and
  :func:`recent_trends`, the same marker for many series at once (one numpy
  pass, identical results: used by the area summaries of a national file).

The rules are transcribed from Fingertips' own C# source (fingertips-open,
MIT licence, Crown copyright PHE): ``SingleOverlappingCIsComparer``,
``SingleOverlappingCIsForTwoCILevelsComparer``, ``QuintilesCalculator``,
``SpcForProportionsComparer``, ``SpcForDsrComparer`` and
``TrendMarkers/TrendMarkerCalculator`` (with FingertipsNext's port of the
last, dhsc-govuk/FingertipsNext, MIT: see the notes on the recent trend). Where
Fingertips says "Same" the all-data export (and this module) says "Similar".

Polarity is one of ``"high_is_good"``, ``"low_is_good"``, ``"no_judgement"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.intervals import poisson_mean_for_tail
from hwb_toolkit.schema import (
    BEST,
    BETTER,
    HIGHER,
    LOWER,
    NOT_COMPARED,
    POLARITIES,
    SIMILAR,
    TREND_LABELS,
    WORSE,
    WORST,
)

__all__ = [
    "POLARITIES",
    "TREND_LABELS",
    "TrendResult",
    "TrendResults",
    "compare_to_benchmark",
    "quintile_bounds",
    "quintile_labels",
    "compare_spc_proportion",
    "compare_spc_dsr",
    "recent_trend",
    "recent_trends",
]


# Raw outcomes say where the AREA lies relative to the benchmark; polarity turns them into words.
_RAW_LOWER, _RAW_HIGHER, _RAW_LOWEST, _RAW_HIGHEST = "lower", "higher", "lowest", "highest"
_WORDS = {
    "high_is_good": {_RAW_LOWER: WORSE, _RAW_HIGHER: BETTER, _RAW_LOWEST: WORST, _RAW_HIGHEST: BEST},
    "low_is_good": {_RAW_LOWER: BETTER, _RAW_HIGHER: WORSE, _RAW_LOWEST: BEST, _RAW_HIGHEST: WORST},
    "no_judgement": {_RAW_LOWER: LOWER, _RAW_HIGHER: HIGHER, _RAW_LOWEST: LOWER, _RAW_HIGHEST: HIGHER},
}  # fmt: skip

#: Fingertips' confidence variables for the SPC comparers (rounded as Fingertips has them).
SPC_PROPORTION_Z = {0.95: 1.96, 0.998: 3.0902}
SPC_DSR_TAIL = {0.95: 0.025, 0.998: 0.001}


def _polarity_array(polarity, shape) -> np.ndarray:
    values = np.broadcast_to(np.asarray(polarity, dtype=object), shape)
    unknown = ~np.isin(values, POLARITIES)
    if unknown.any():
        bad = values[unknown].ravel()[0]
        raise InputError(f"unknown polarity {bad!r}: use one of {', '.join(POLARITIES)}")
    return values


def _as_float(*arrays):
    return [np.asarray(np.nan if a is None else a, dtype=float) for a in arrays]


def _label(raw: np.ndarray, polarity: np.ndarray, compared: np.ndarray) -> np.ndarray:
    out = np.full(raw.shape, NOT_COMPARED, dtype=object)
    out[compared & (raw == "same")] = SIMILAR
    for pol, words in _WORDS.items():
        for key, word in words.items():
            out[compared & (polarity == pol) & (raw == key)] = word
    return out


def _finish(labels: np.ndarray, scalar: bool):
    return str(labels.reshape(-1)[0]) if scalar else labels.astype(str)


def compare_to_benchmark(value, lower, upper, benchmark, polarity, lower998=None, upper998=None):
    """Fingertips' comparison of a value with a benchmark by its confidence intervals.

    The benchmark inside the 95% interval (limits included) is "Similar";
    otherwise the area is better/worse according to ``polarity``. With 99.8%
    limits, a benchmark outside the 95% but inside the 99.8% interval gives
    "Better"/"Worse" and one outside the 99.8% interval gives "Best"/"Worst".
    ``no_judgement`` gives "Lower"/"Similar"/"Higher". Missing value, limits or
    benchmark give "Not compared"; rows whose 99.8% limits are missing fall back
    to the 95% rule. Scalars in, a str out; arrays in, an array of str out.
    """
    scalar = all(
        np.ndim(a) == 0 for a in (value, lower, upper, benchmark, polarity, lower998, upper998)
    )
    value, lower, upper, benchmark, lower998, upper998 = np.broadcast_arrays(
        *_as_float(value, lower, upper, benchmark, lower998, upper998)
    )
    pol = _polarity_array(polarity, value.shape)
    compared = ~(np.isnan(value) | np.isnan(lower) | np.isnan(upper) | np.isnan(benchmark))
    two_level = compared & ~(np.isnan(lower998) | np.isnan(upper998))
    with np.errstate(invalid="ignore"):
        inside95 = (benchmark <= upper) & (benchmark >= lower)
        raw = np.where(value < benchmark, _RAW_LOWER, _RAW_HIGHER).astype(object)
        between_lower = (benchmark <= lower) & (benchmark >= lower998)
        between_upper = (benchmark <= upper998) & (benchmark >= upper)
        beyond = np.where(value < benchmark, _RAW_LOWEST, _RAW_HIGHEST)
    raw2 = np.where(between_lower, _RAW_HIGHER, np.where(between_upper, _RAW_LOWER, beyond))
    raw = np.where(two_level, raw2, raw)
    raw = np.where(inside95, "same", raw)
    return _finish(_label(raw, pol, compared), scalar)


def quintile_bounds(values) -> np.ndarray:
    """Fingertips' quintile boundaries: min, the 20/40/60/80th percentiles, max.

    Percentiles interpolate linearly at rank (n - 1) p + 1 of the sorted valid
    values and are rounded to 10 decimals, as Fingertips does. Fewer than 4
    valid values give an empty array.
    """
    data = np.sort(np.asarray(values, dtype=float).ravel())
    data = data[~np.isnan(data)]
    if data.size <= 3:
        return np.array([], dtype=float)
    inner = np.round(np.quantile(data, [0.2, 0.4, 0.6, 0.8], method="linear"), 10)
    return np.concatenate([[data[0]], inner, [data[-1]]])


_QUINTILE_WORDS = {
    "no_judgement": ("Lowest", "Low", "Middle", "High", "Highest"),
    "high_is_good": ("Worst", "Worse", "Middle", "Better", "Best"),
    "low_is_good": ("Best", "Better", "Middle", "Worse", "Worst"),
}


def quintile_labels(values, polarity="no_judgement", reference=None) -> np.ndarray:
    """Label each value by the quintile of ``reference`` (default: the values themselves).

    A value falls in the first quintile whose upper bound it does not exceed.
    Labels: "Lowest", "Low", "Middle", "High", "Highest" (``no_judgement``), or
    "Best"/"Better"/"Middle"/"Worse"/"Worst" ordered by ``polarity``. Missing values,
    and every value when the reference has fewer than 5 valid values (Fingertips'
    minimum), are "Not compared".
    """
    if polarity not in POLARITIES:
        raise InputError(f"unknown polarity {polarity!r}: use one of {', '.join(POLARITIES)}")
    v = np.asarray(values, dtype=float)
    ref = v if reference is None else np.asarray(reference, dtype=float)
    valid_ref = ref[~np.isnan(ref)]
    out = np.full(v.shape, NOT_COMPARED, dtype=object)
    if valid_ref.size < 5:
        return out.astype(str)
    bounds = quintile_bounds(valid_ref)
    category = np.searchsorted(bounds[1:], v, side="left")  # first bound >= value
    words = np.array(_QUINTILE_WORDS[polarity] + (NOT_COMPARED,), dtype=object)
    ok = ~np.isnan(v) & (category < 5)
    out[ok] = words[category[ok]]
    return out.astype(str)


def _from_control_limits(value, lower_limit, upper_limit, polarity, compared, scalar):
    with np.errstate(invalid="ignore"):
        raw = np.where(
            upper_limit < value, _RAW_HIGHER, np.where(lower_limit > value, _RAW_LOWER, "same")
        )
    pol = _polarity_array(polarity, raw.shape)
    return _finish(_label(raw.astype(object), pol, compared & ~np.isnan(lower_limit)), scalar)


def _spc_level(table: dict, confidence: float):
    try:
        return table[confidence]
    except KeyError:
        raise InputError(
            f"confidence must be 0.95 or 0.998 for the SPC comparers, got {confidence!r}"
        ) from None


def compare_spc_proportion(
    value, denominator, benchmark, polarity, multiplier=100, confidence=0.95
):
    """Fingertips' SPC-for-proportions comparer (``SpcForProportionsComparer``).

    Control limits around the benchmark proportion for the area's denominator
    (a Wilson-score interval with expected count N x P0) with z = 1.96 (95%) or
    3.0902 (99.8%); a value beyond a limit is better/worse by ``polarity``.
    ``value`` and ``benchmark`` are per ``multiplier`` (100: percentages).
    """
    z = _spc_level(SPC_PROPORTION_Z, confidence)
    scalar = all(np.ndim(a) == 0 for a in (value, denominator, benchmark, polarity))
    value, n, benchmark = np.broadcast_arrays(*_as_float(value, denominator, benchmark))
    p1 = value / multiplier
    expected = n * benchmark / multiplier
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = z * np.sqrt(z**2 + 4.0 * expected * (1.0 - expected / n))
        centre = 2.0 * expected + z**2
        lower = (centre - spread) / (2.0 * (n + z**2))
        upper = (centre + spread) / (2.0 * (n + z**2))
    compared = ~(np.isnan(p1) | np.isnan(n) | np.isnan(benchmark)) & (n > 0)
    return _from_control_limits(p1, lower, upper, polarity, compared, scalar)


def compare_spc_dsr(value, denominator, benchmark, polarity, multiplier=100_000, confidence=0.95):
    """Fingertips' SPC-for-DSR comparer (``SpcForDsrComparer``).

    Expected events E = benchmark x denominator / multiplier; Poisson control
    limits are the means at which E sits at tail probability 0.025 (95%) or
    0.001 (99.8%), converted back to rates. ``denominator`` is the population
    (Fingertips' Denominator2).
    """
    tail = _spc_level(SPC_DSR_TAIL, confidence)
    scalar = all(np.ndim(a) == 0 for a in (value, denominator, benchmark, polarity))
    value, n, benchmark = np.broadcast_arrays(*_as_float(value, denominator, benchmark))
    compared = ~(np.isnan(value) | np.isnan(n) | np.isnan(benchmark)) & (n > 0)
    expected = np.where(compared, benchmark * n / multiplier, 0.0)
    lower = poisson_mean_for_tail(expected, tail, "low") / n * multiplier
    upper = poisson_mean_for_tail(expected, tail, "high") / n * multiplier
    return _from_control_limits(value, lower, upper, polarity, compared, scalar)


# ---------------------------------------------------------------------------
# Recent trend
# ---------------------------------------------------------------------------
#
# The rules and the arithmetic are Fingertips' TrendMarkerCalculator (fingertips-open,
# PholioVisualisationWS/Analysis/TrendMarkers/) as FingertipsNext ports it
# (dhsc-govuk/FingertipsNext, trend-analysis/TrendAnalysisApp/Calculator/Legacy/):
# - which points: TrendRequest.IsDataValid (value, count and denominator present, the
#   denominator above 0) and GetMostRecentData (the 95% limits present), then the five
#   most recent. FingertipsNext's GetValidDataList skips an invalid point ("Years don't
#   need to be consecutive"); fingertips-open stopped at the first one.
# - TrendRequest.IsPossibleDivideByZeroErrors: a valid point whose count equals its
#   denominator makes the trend "Cannot be calculated", checked in IsValid before
#   either method runs.
# - The arithmetic is done in Fingertips' order, so that a slope Fingertips computes
#   as exactly 0.0 is 0.0 here too (weighting first and dividing last, a published
#   marker's leave-one-out slope came out -7.4e-15 and its chi-squared of 62.2 was
#   called "No significant change"). General method (IsSignificant, NoOutliersCheck):
#   per point Val1..Val5 = 1/d, (value * t)/d, t/d, value/d, t^2/d with
#   d = Math.Pow((upper - lower) / 3.92, 2); slope = (s1 s2 - s3 s4) / (s1 s5 - s3^2),
#   chi-squared = (slope / sqrt(s1 / (s1 s5 - s3^2)))^2. SPC for proportions
#   (fingertips-open only: IsSignificantForProportions, NoOutliersCheckForProportion):
#   the chi-squared test for trend on the sums of counts and denominators, and the
#   least-squares slope of the logits. Sums run point by point, oldest first (numpy
#   sums five or four numbers left to right); Math.Pow is C pow(), as np.float_power is.
# - NoOutliersCheck: a slope counts -1 when it is below 0 and +1 otherwise (0.0,
#   and NaN, count +1); significant when all six (all points, and each left out)
#   agree and chi-squared exceeds ChiSquareConfidence.
#
# recent_trend and recent_trends share every helper below, on the last axis (one
# series, or one row per series), so the batch gives the same bits series by series.

TREND_POINTS = 5
#: Chi-squared with 1 degree of freedom at 99.8% (3.0902^2): Fingertips' ChiSquareConfidence.
TREND_CHI_SQUARED = 9.54953570608324

_CANNOT = "Cannot be calculated"
_NO_CHANGE = "No significant change"
_TREND_TIMES = np.arange(1.0, TREND_POINTS + 1)
#: Positions of the five points, then of each leave-one-out subset (NoOutliersCheck's checkCounter).
_TREND_SUBSETS = [np.arange(TREND_POINTS)] + [
    np.delete(np.arange(TREND_POINTS), left_out) for left_out in range(TREND_POINTS)
]


@dataclass(frozen=True)
class TrendResult:
    """Outcome of :func:`recent_trend`.

    ``label``: one of :data:`TREND_LABELS`. ``chi_squared``: the test statistic
    (None when the trend cannot be calculated). ``slope``: the fitted slope on the
    five points used (value units per period for ``general``, logit per period for
    ``proportion``). ``significant``: chi-squared above 9.5495 and the slope's sign
    unchanged whichever single point is left out. ``message`` says why a trend
    cannot be calculated.
    """

    label: str
    chi_squared: float | None
    slope: float | None
    significant: bool
    points_used: int
    message: str = ""


def _cannot(message: str) -> TrendResult:
    return TrendResult(_CANNOT, None, None, False, 0, message)


def _direction_label(slope: float, polarity: str) -> str:
    direction = "Increasing" if slope > 0 else "Decreasing"
    if polarity == "no_judgement":
        return direction
    better = (slope > 0) == (polarity == "high_is_good")
    return f"{direction} and getting {'better' if better else 'worse'}"


def _trend_validity(columns: list[np.ndarray], denominator) -> np.ndarray:
    """Points Fingertips can use: every given column present and the denominator above 0."""
    valid = np.logical_and.reduce([~np.isnan(c) for c in columns])
    if denominator is not None:
        with np.errstate(invalid="ignore"):
            valid &= denominator > 0
    return valid


def _weighted_terms(values, lower, upper):
    """Fingertips' Val1..Val5 of each point (last axis: the five points, oldest first)."""
    times = _TREND_TIMES
    divisor = np.float_power((upper - lower) / 3.92, 2.0)
    return (
        1 / divisor,
        (values * times) / divisor,
        times / divisor,
        values / divisor,
        np.float_power(times, 2.0) / divisor,
    )


def _weighted_slope(terms, columns):
    """Weighted slope and chi-squared over the points at ``columns`` (NoOutliersCheck's loop body)."""
    s1, s2, s3, s4, s5 = (term[..., columns].sum(axis=-1) for term in terms)
    spread = (s1 * s5) - np.float_power(s3, 2.0)
    slope = ((s1 * s2) - (s3 * s4)) / spread
    beta = np.sqrt(s1 / spread)
    return slope, np.float_power(slope / beta, 2.0)


def _proportion_chi_squared(x, n):
    """Chi-squared test for trend in counts ``x`` over denominators ``n`` (IsSignificantForProportions)."""
    times = _TREND_TIMES
    nn, xx = n.sum(axis=-1), x.sum(axis=-1)
    numerator = nn * np.float_power(
        (nn * (x * times).sum(axis=-1)) - (xx * (n * times).sum(axis=-1)), 2.0
    )
    spread = (nn * (n * np.float_power(times, 2.0)).sum(axis=-1)) - np.float_power(
        (n * times).sum(axis=-1), 2.0
    )
    return numerator / (xx * (nn - xx) * spread)


def _logit_slope(logit, columns):
    """Least-squares slope of the logits at ``columns`` on time (NoOutliersCheckForProportion)."""
    values, times = logit[..., columns], _TREND_TIMES[columns]
    n = len(columns)
    return ((n * (values * times).sum(axis=-1)) - (values.sum(axis=-1) * times.sum())) / (
        (n * np.float_power(times, 2.0).sum()) - np.float_power(times.sum(), 2.0)
    )


def _keeps_its_sign(slope_of_columns) -> np.ndarray:
    """True where the slope on all points and with each one left out counts the same sign."""
    negative = np.stack([np.asarray(slope_of_columns(columns)) < 0 for columns in _TREND_SUBSETS])
    return negative.all(axis=0) | ~negative.any(axis=0)


def recent_trend(
    values,
    lower,
    upper,
    count=None,
    denominator=None,
    polarity: str = "no_judgement",
    method: str = "general",
) -> TrendResult:
    """Fingertips' recent-trend marker on the five most recent valid points (oldest first).

    A point is valid when its value, its 95% limits (``general``) and, when
    given, its count and denominator are present and the denominator is above 0;
    invalid points are skipped and the last five valid ones used, as
    FingertipsNext does. Fewer than five valid points, or a valid point whose
    count equals its denominator (either method), give "Cannot be calculated".
    ``method="general"``: inverse-variance weighted regression of the value on
    time, the variance from the 95% interval ((upper - lower) / 3.92)^2,
    chi-squared = (slope / se)^2. ``method="proportion"`` (Fingertips' SPC for
    proportions): chi-squared test for trend in the counts over the denominators,
    and the slope of the logit (log(count / (denominator - count))) on time.
    Significant when chi-squared > 9.5495 (1 df, 99.8%) and the slope keeps its
    sign with each point left out (a slope of exactly 0 counts as positive).
    Labels combine direction and ``polarity``. The arithmetic follows
    Fingertips' order of operations (see the notes above this function).
    """
    if polarity not in POLARITIES:
        raise InputError(f"unknown polarity {polarity!r}: use one of {', '.join(POLARITIES)}")
    if method not in ("general", "proportion"):
        raise InputError(f"method must be 'general' or 'proportion', got {method!r}")
    if method == "proportion" and (count is None or denominator is None):
        raise InputError("the proportion trend method needs counts and denominators")
    v, lo, hi = (np.asarray(a, dtype=float).ravel() for a in (values, lower, upper))
    if not (v.size == lo.size == hi.size):
        raise InputError("values, lower and upper must have the same length")
    x, n = (None if a is None else np.asarray(a, dtype=float).ravel() for a in (count, denominator))
    columns = [v] + ([lo, hi] if method == "general" else [])
    columns += [c for c in (x, n) if c is not None]
    if any(c.size != v.size for c in columns):
        raise InputError("values, limits, counts and denominators must have the same length")
    if v.size < TREND_POINTS:
        return _cannot("Not enough data points to calculate recent trend")
    valid = _trend_validity(columns, n)
    if valid.sum() < TREND_POINTS:
        return _cannot("Not enough data points with valid values to calculate recent trend")
    if x is not None and n is not None and (x == n)[valid].any():
        return _cannot("The recent trend cannot be calculated")
    last = np.flatnonzero(valid)[-TREND_POINTS:]

    if method == "proportion":
        chi_squared = _proportion_chi_squared(x[last], n[last])
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.log(x[last] / (n[last] - x[last]))
            slope = _logit_slope(logit, _TREND_SUBSETS[0])
            stable = _keeps_its_sign(lambda columns: _logit_slope(logit, columns))
    else:
        with np.errstate(divide="ignore"):
            terms = _weighted_terms(v[last], lo[last], hi[last])
        if not np.isfinite(terms[0]).all():
            return _cannot(
                "The recent trend cannot be calculated (a confidence interval has zero width)"
            )
        slope, chi_squared = _weighted_slope(terms, _TREND_SUBSETS[0])
        stable = _keeps_its_sign(lambda columns: _weighted_slope(terms, columns)[0])
    chi_squared = float(chi_squared)
    significant = bool(stable and chi_squared > TREND_CHI_SQUARED)
    label = _direction_label(slope, polarity) if significant else _NO_CHANGE
    return TrendResult(label, chi_squared, float(slope), significant, TREND_POINTS)


# ---------------------------------------------------------------------------
# Recent trend for many series at once
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendResults:
    """Outcome of :func:`recent_trends`: arrays with one element per series (row).

    ``label``: str, one of :data:`TREND_LABELS`. ``chi_squared`` and ``slope``:
    float, NaN where :class:`TrendResult` has None (the trend cannot be
    calculated). ``significant``: bool. ``points_used``: 5, or 0 when the trend
    cannot be calculated. Element ``i`` equals the matching field of
    :func:`recent_trend` on row ``i``.
    """

    label: np.ndarray
    chi_squared: np.ndarray
    slope: np.ndarray
    significant: np.ndarray
    points_used: np.ndarray

    def __len__(self) -> int:
        return len(self.label)


def _as_series_points(name: str, array, shape=None) -> np.ndarray:
    result = np.asarray(array, dtype=float)
    if result.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D array (one row per series, oldest point first), "
            f"got {result.ndim} dimension(s)"
        )
    if shape is not None and result.shape != shape:
        raise InputError(
            f"{name} has shape {result.shape} but values have shape {shape}: "
            "values, limits, counts and denominators must have the same shape"
        )
    return result


def recent_trends(
    values,
    lower,
    upper,
    count=None,
    denominator=None,
    polarity="no_judgement",
    method: str = "general",
) -> TrendResults:
    """:func:`recent_trend` for many series at once, with identical results.

    Each argument is a 2-D array of shape (n_series, n_points): one row per
    series, oldest point first, the latest point in the last column. Series
    shorter than ``n_points`` are padded with NaN on the left (invalid points are
    skipped, so the result is that of the unpadded series). ``polarity`` is one
    polarity for all series or one per series (length n_series); ``method``
    ("general" or "proportion") applies to every row, and counts and
    denominators, when given, decide which points are valid and stop a trend
    where a count equals its denominator, as in :func:`recent_trend`. Row ``i``
    of the result equals ``recent_trend(values[i], lower[i], upper[i],
    count[i], denominator[i], polarity[i], method)``; see :class:`TrendResults`.
    """
    if method not in ("general", "proportion"):
        raise InputError(f"method must be 'general' or 'proportion', got {method!r}")
    if method == "proportion" and (count is None or denominator is None):
        raise InputError("the proportion trend method needs counts and denominators")
    v = _as_series_points("values", values)
    lo, hi = (_as_series_points(n, a, v.shape) for n, a in (("lower", lower), ("upper", upper)))
    x = None if count is None else _as_series_points("count", count, v.shape)
    n = None if denominator is None else _as_series_points("denominator", denominator, v.shape)
    n_series, n_points = v.shape
    if np.ndim(polarity) not in (0, 1) or (np.ndim(polarity) == 1 and len(polarity) != n_series):
        raise InputError(f"polarity must be one polarity or one per series ({n_series})")
    polarities = _polarity_array(polarity, (n_series,))

    columns = [v] + ([lo, hi] if method == "general" else [])
    columns += [c for c in (x, n) if c is not None]
    valid = _trend_validity(columns, n)
    calculable = (n_points >= TREND_POINTS) & (valid.sum(axis=1) >= TREND_POINTS)
    if x is not None and n is not None:
        calculable &= ~((x == n) & valid).any(axis=1)
    # The five most recent valid points of each row: valid, and at most five valid from there on.
    valid_from_here = np.cumsum(valid[:, ::-1], axis=1)[:, ::-1]
    last = valid & (valid_from_here <= TREND_POINTS)
    chi_squared = np.full(n_series, np.nan)
    slope = np.full(n_series, np.nan)
    stable = np.zeros(n_series, dtype=bool)

    def points(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return array[rows][last[rows]].reshape(len(rows), TREND_POINTS)

    with np.errstate(all="ignore"):  # recent_trend's NaN/inf cases give NaN/inf here too
        rows = np.flatnonzero(calculable)
        if method == "proportion":
            xs, ns = points(x, rows), points(n, rows)
            chi_squared[rows] = _proportion_chi_squared(xs, ns)
            logit = np.log(xs / (ns - xs))
            slope[rows] = _logit_slope(logit, _TREND_SUBSETS[0])
            stable[rows] = _keeps_its_sign(lambda columns: _logit_slope(logit, columns))
        else:
            terms = _weighted_terms(points(v, rows), points(lo, rows), points(hi, rows))
            finite = np.isfinite(terms[0]).all(axis=1)
            calculable[rows[~finite]] = False
            rows, terms = rows[finite], tuple(term[finite] for term in terms)
            slope[rows], chi_squared[rows] = _weighted_slope(terms, _TREND_SUBSETS[0])
            stable[rows] = _keeps_its_sign(lambda columns: _weighted_slope(terms, columns)[0])

    significant = calculable & stable & (chi_squared > TREND_CHI_SQUARED)
    increasing = slope > 0
    direction = np.where(increasing, "Increasing", "Decreasing").astype(object)
    judged = polarities != "no_judgement"
    better = increasing == (polarities == "high_is_good")
    direction[judged] += np.where(better[judged], " and getting better", " and getting worse")
    label = np.where(significant, direction, _NO_CHANGE)
    label = np.where(calculable, label, _CANNOT).astype(str)
    return TrendResults(
        label=label,
        chi_squared=np.where(calculable, chi_squared, np.nan),
        slope=np.where(calculable, slope, np.nan),
        significant=significant,
        points_used=np.where(calculable, TREND_POINTS, 0),
    )
