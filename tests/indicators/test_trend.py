"""Tests for recent_trend and recent_trends: Fingertips' trend marker (TrendMarkerCalculator)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.compare import (
    TREND_CHI_SQUARED,
    TREND_LABELS,
    TrendResult,
    TrendResults,
    recent_trend,
    recent_trends,
)

# Fingertips' TrendMarkerCalculatorTest set 1 (2014..2018), oldest first.
SET1 = pd.DataFrame(
    {
        "count": [994, 1023, 1199, 1332, 1367],
        "denominator": [40299, 41527, 42811, 44064, 44701],
        "value": [24.67, 24.6, 28.0, 30.2, 30.6],
        "lower": [23.16, 23.15, 26.44, 28.63, 28.98],
        "upper": [26.25, 26.19, 29.64, 31.9, 32.25],
    }
)


def run(frame, **kwargs):
    return recent_trend(
        frame["value"],
        frame["lower"],
        frame["upper"],
        frame["count"],
        frame["denominator"],
        **kwargs,
    )


def test_threshold_is_chi_squared_one_df_at_998():
    from scipy import stats

    assert TREND_CHI_SQUARED == pytest.approx(stats.chi2.ppf(0.998, 1), rel=1e-12)


def test_general_method_set1_inline():
    result = run(SET1)
    assert isinstance(result, TrendResult)
    assert round(result.chi_squared, 2) == 46.77
    assert result.significant and result.label == "Increasing" and result.slope > 0


def test_proportion_method_set1_inline():
    result = run(SET1, method="proportion")
    assert round(result.chi_squared, 2) == 47.90 and result.significant


@pytest.mark.parametrize(
    ("polarity", "rising", "falling"),
    [
        ("high_is_good", "Increasing and getting better", "Decreasing and getting worse"),
        ("low_is_good", "Increasing and getting worse", "Decreasing and getting better"),
        ("no_judgement", "Increasing", "Decreasing"),
    ],
)
def test_labels_combine_direction_and_polarity(polarity, rising, falling):
    assert run(SET1, polarity=polarity).label == rising
    falling_set = SET1.iloc[::-1].reset_index(drop=True)
    assert run(falling_set, polarity=polarity).label == falling
    assert {rising, falling} <= set(TREND_LABELS)


def test_only_the_last_five_points_count():
    older = pd.DataFrame(
        {
            "count": [1, 1],
            "denominator": [10, 10],
            "value": [90.0, 95.0],
            "lower": [80.0, 85.0],
            "upper": [99.0, 99.5],
        }
    )
    assert run(pd.concat([older, SET1], ignore_index=True)).chi_squared == pytest.approx(
        run(SET1).chi_squared
    )


def test_a_gap_breaks_the_run():
    gapped = SET1.copy()
    gapped.loc[1, "value"] = np.nan
    result = run(gapped)
    assert result.label == "Cannot be calculated" and result.chi_squared is None
    assert run(SET1.iloc[1:]).label == "Cannot be calculated"


def test_outlier_check_blocks_unstable_trend():
    # A large chi-squared driven by one point: leaving it out flips the slope.
    frame = pd.DataFrame(
        {
            "value": [10.0, 10.0, 10.0, 9.0, 30.0],
            "lower": [9.9] * 4 + [29.9],
            "upper": [10.1] * 4 + [30.1],
        }
    )
    result = recent_trend(frame["value"], frame["lower"], frame["upper"])
    assert result.chi_squared > TREND_CHI_SQUARED
    assert not result.significant and result.label == "No significant change"


def test_bad_arguments():
    with pytest.raises(InputError):
        recent_trend(SET1["value"], SET1["lower"], SET1["upper"], method="proportion")
    with pytest.raises(InputError):
        run(SET1, polarity="up")
    with pytest.raises(InputError):
        run(SET1, method="poisson")


@pytest.mark.reference
def test_oracle_trend_marker_cases(reference_dir):
    cases = pd.read_csv(
        reference_dir / "indicators" / "fingertips_open_tests" / "trend_marker_cases.csv"
    )
    assert cases["case"].nunique() == 4
    for case, rows in cases.groupby("case", sort=False):
        rows = rows.sort_values("year")
        method = (
            "proportion"
            if rows["comparator_method"].iloc[0].startswith("SpcForProportions")
            else "general"
        )
        result = recent_trend(rows["value"], rows["lower_ci95"], rows["upper_ci95"], rows["count"],
                              rows["denominator"], method=method)  # fmt: skip
        batch = recent_trends(*(rows[[c]].to_numpy().T for c in ("value", "lower_ci95",
                              "upper_ci95", "count", "denominator")), method=method)  # fmt: skip
        assert batch.label.tolist() == [result.label], case
        assert batch.significant.tolist() == [result.significant], case
        assert result.label == rows["expected_marker"].iloc[0], case
        assert result.significant == bool(rows["expected_is_significant"].iloc[0]), case
        expected_chi = rows["expected_chi_square_2dp"].iloc[0]
        if result.label == "Cannot be calculated":
            assert result.chi_squared is None and expected_chi == 0.0  # Fingertips reports 0 there
        elif not np.isnan(expected_chi):
            assert round(result.chi_squared, 2) == expected_chi, case


# --- recent_trends: the batch form must equal recent_trend series by series -----------------


def random_series(rng: np.random.Generator, n_series: int, n_points: int) -> dict[str, np.ndarray]:
    """Series (one per row, oldest first) mixing every case the trend rules distinguish.

    Proportions x / n (x 100) with sampling noise, some trending; zero counts and
    all-zero series; count = denominator; flat series; zero-width and reversed
    intervals; and missing points anywhere (including within the last five).
    """
    shape = (n_series, n_points)
    n = rng.integers(1, 3000, shape).astype(float)
    trend = rng.normal(0, 0.08, (n_series, 1)) * np.arange(n_points)
    p = 1 / (1 + np.exp(-(rng.normal(-1, 1, (n_series, 1)) + trend)))
    x = rng.binomial(n.astype(int), p).astype(float)
    kind = rng.integers(0, 10, n_series)
    x[kind == 0] = 0.0  # no events at all
    x[rng.random(shape) < 0.03] = 0.0
    full = rng.random(shape) < 0.03
    x[full] = n[full]  # count = denominator
    v = x / n * 100
    half = 1.96 * np.sqrt(np.maximum(v * (100 - v), 1.0) / n)
    flat = kind == 1
    v[flat], half[flat], x[flat], n[flat] = 40.0, 2.0, 400.0, 1000.0
    half[rng.random(shape) < 0.02] = 0.0  # zero-width interval
    lo, hi = v - half, v + half
    swapped = rng.random(shape) < 0.01
    lo[swapped], hi[swapped] = hi[swapped], lo[swapped]
    for array in (v, lo, hi, x, n):
        array[rng.random(shape) < 0.03] = np.nan
    polarity = rng.choice(["high_is_good", "low_is_good", "no_judgement"], n_series)
    return {
        "values": v,
        "lower": lo,
        "upper": hi,
        "count": x,
        "denominator": n,
        "polarity": polarity,
    }


def assert_batch_equals_scalar(batch: TrendResults, scalars: list[TrendResult]) -> None:
    """Every field of every series equal, to the last bit (None in a scalar = NaN in the batch)."""

    def field(name):
        return np.array([np.nan if getattr(r, name) is None else getattr(r, name) for r in scalars])

    assert len(batch) == len(scalars)
    assert batch.label.tolist() == [r.label for r in scalars]
    np.testing.assert_array_equal(batch.chi_squared, field("chi_squared"), strict=True)
    np.testing.assert_array_equal(batch.slope, field("slope"), strict=True)
    assert batch.significant.tolist() == [r.significant for r in scalars]
    assert batch.points_used.tolist() == [r.points_used for r in scalars]


# recent_trend's numpy scalars warn on 0/0 (series without events); results are compared.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("method", "with_counts"),
    [("general", False), ("general", True), ("proportion", True)],
)
@pytest.mark.parametrize("n_points", [3, 5, 8])
def test_recent_trends_equal_recent_trend_for_every_series(method, with_counts, n_points):
    rng = np.random.default_rng([20261126, n_points, len(method), with_counts])
    data = random_series(rng, 1500, n_points)
    counts = (data["count"], data["denominator"]) if with_counts else (None, None)
    batch = recent_trends(
        data["values"],
        data["lower"],
        data["upper"],
        *counts,
        polarity=data["polarity"],
        method=method,
    )
    scalars = [
        recent_trend(
            data["values"][i],
            data["lower"][i],
            data["upper"][i],
            *(None if c is None else c[i] for c in counts),
            polarity=data["polarity"][i],
            method=method,
        )
        for i in range(len(data["values"]))
    ]
    assert_batch_equals_scalar(batch, scalars)
    if n_points >= 5:  # the random series reach every label, so the comparison is not vacuous
        expected = set(TREND_LABELS)
        assert set(batch.label) == expected, expected - set(batch.label)
    else:
        assert set(batch.label) == {"Cannot be calculated"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_recent_trends_of_padded_short_series_equal_the_unpadded_series():
    rng = np.random.default_rng(7)
    data = random_series(rng, 600, 9)
    lengths = rng.integers(0, 10, 600)
    padded = {
        name: np.where(np.arange(9) >= 9 - lengths[:, None], data[name], np.nan)
        for name in ("values", "lower", "upper", "count", "denominator")
    }
    for method in ("general", "proportion"):
        batch = recent_trends(
            padded["values"],
            padded["lower"],
            padded["upper"],
            padded["count"],
            padded["denominator"],
            polarity=data["polarity"],
            method=method,
        )
        scalars = [
            recent_trend(
                *(
                    data[name][i, 9 - lengths[i] :]
                    for name in ("values", "lower", "upper", "count", "denominator")
                ),
                polarity=data["polarity"][i],
                method=method,
            )
            for i in range(600)
        ]
        assert_batch_equals_scalar(batch, scalars)


def test_recent_trends_hand_made_cases():
    rising = [24.67, 24.6, 28.0, 30.2, 30.6]
    values = np.array([rising, rising[::-1], [10.0, 10.0, 10.0, 9.0, 30.0], [5.0] * 5])
    lower = values - np.array([[1.5] * 5, [1.5] * 5, [0.1] * 5, [0.0] * 5])
    upper = values + np.array([[1.6] * 5, [1.6] * 5, [0.1] * 5, [0.0] * 5])
    result = recent_trends(values, lower, upper, polarity="low_is_good")
    assert result.label.tolist() == [
        "Increasing and getting worse",
        "Decreasing and getting better",
        "No significant change",  # one point drives it: leaving it out flips the slope
        "Cannot be calculated",  # zero-width intervals
    ]
    assert result.chi_squared[2] > TREND_CHI_SQUARED and np.isnan(result.chi_squared[3])
    assert result.points_used.tolist() == [5, 5, 5, 0]
    empty = recent_trends(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5)))
    assert len(empty) == 0 and empty.label.dtype.kind == "U"


def test_recent_trends_bad_arguments():
    grid = np.ones((2, 5))
    with pytest.raises(InputError, match="2-D"):
        recent_trends(np.ones(5), np.ones(5), np.ones(5))
    with pytest.raises(InputError, match="same shape"):
        recent_trends(grid, grid, np.ones((2, 4)))
    with pytest.raises(InputError, match="one per series"):
        recent_trends(grid, grid, grid, polarity=["low_is_good"] * 3)
    with pytest.raises(InputError, match="unknown polarity"):
        recent_trends(grid, grid, grid, polarity="up")
    with pytest.raises(InputError, match="counts and denominators"):
        recent_trends(grid, grid, grid, method="proportion")
    with pytest.raises(InputError, match="method"):
        recent_trends(grid, grid, grid, method="poisson")


# --- Fingertips' own rules (TrendMarkerCalculator, as FingertipsNext ports it) --------------


def both(values, lower, upper, count=None, denominator=None, **kwargs):
    """recent_trend and recent_trends on one series: the batch must agree with the scalar."""
    scalar = recent_trend(values, lower, upper, count, denominator, **kwargs)
    rows = [None if a is None else np.asarray(a, dtype=float)[None] for a in
            (values, lower, upper, count, denominator)]  # fmt: skip
    assert_batch_equals_scalar(recent_trends(*rows, **kwargs), [scalar])
    return scalar


@pytest.mark.parametrize("method", ["general", "proportion"])
def test_a_count_equal_to_its_denominator_stops_every_method(method):
    # TrendRequest.IsPossibleDivideByZeroErrors runs before either method: a valid point
    # whose count equals its denominator, even an old one, gives "Cannot be calculated".
    frame = pd.concat([SET1.iloc[:1].assign(count=120.0, denominator=120.0), SET1], ignore_index=True)
    result = both(frame["value"], frame["lower"], frame["upper"], frame["count"],
                  frame["denominator"], method=method)  # fmt: skip
    assert result.label == "Cannot be calculated" and result.chi_squared is None
    assert result.message == "The recent trend cannot be calculated"
    # Without counts the general method cannot see it.
    assert both(frame["value"], frame["lower"], frame["upper"]).label == "Increasing"


@pytest.mark.parametrize("method", ["general", "proportion"])
def test_invalid_points_are_skipped_and_the_last_five_valid_used(method):
    # FingertipsNext's GetValidDataList keeps every valid point ("years don't need to be
    # consecutive"): a gap inside the series no longer stops the trend.
    gapped = pd.concat([SET1.iloc[:2], SET1.iloc[:1] * np.nan, SET1.iloc[2:]], ignore_index=True)
    result = both(gapped["value"], gapped["lower"], gapped["upper"], gapped["count"],
                  gapped["denominator"], method=method)  # fmt: skip
    full = run(SET1, method=method)
    assert (result.label, result.chi_squared, result.slope) == (full.label, full.chi_squared, full.slope)
    assert result.label == "Increasing" and round(result.chi_squared, 2) in (46.77, 47.90)
    # A missing count or a denominator of 0 makes a point invalid too.
    for column, bad in (("count", np.nan), ("denominator", 0.0)):
        broken = gapped.copy()
        broken.loc[4, column] = bad
        assert both(broken["value"], broken["lower"], broken["upper"], broken["count"],
                    broken["denominator"], method=method).label == "Cannot be calculated"  # fmt: skip


def test_a_leave_one_out_slope_of_exactly_zero_counts_as_positive():
    # Four equal values after a lower first one: leaving the first out, the slope is 0 in
    # exact arithmetic. Fingertips' order of operations (per point 1/d, (value * t)/d, t/d,
    # value/d, t^2/d, summed point by point) gives exactly 0.0, which counts as positive:
    # the rise is significant. Weighting first and dividing later gave -1.3e-14 here and
    # "No significant change".
    values = [37.2, 41.8, 41.8, 41.8, 41.8]
    lower = [36.48, 41.08, 41.08, 41.08, 41.08]
    upper = [37.92, 42.52, 42.52, 42.52, 42.52]
    result = both(values, lower, upper)
    assert result.significant and result.label == "Increasing"
    assert round(result.chi_squared, 2) == 62.72
    from hwb_toolkit.indicators.compare import _TREND_SUBSETS, _weighted_slope, _weighted_terms

    terms = _weighted_terms(*map(np.asarray, (values, lower, upper)))
    assert _weighted_slope(terms, _TREND_SUBSETS[1])[0] == 0.0  # the first point left out
