"""Tests for hwb_toolkit.indicators.methods: CIs and calculators against PHE oracles.

Oracle tests read ../shared/reference/indicators (PHEindicatormethods v2.1.0
fixtures and a real Fingertips export) and are marked ``reference``; the inline
tests use numbers transcribed from those fixtures and run without the folder.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators import funnels, intervals, methods, standardised

RTOL = 1e-6


def assert_close(actual, expected, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=rtol, atol=atol
    )


def pheim(reference_dir, name):
    return reference_dir / "indicators" / "PHEindicatormethods" / name


# ---------------------------------------------------------------------------
# Inline: confidence intervals (values transcribed from testdata_Byars_Wilson)
# ---------------------------------------------------------------------------


def test_wilson_known_values_both_levels():
    lower, upper = intervals.wilson_ci([65, 1045], [100, 5000], 0.95)
    assert_close(lower, [0.5525444329688797, 0.19795549880013297], rtol=1e-12)
    assert_close(upper, [0.7363575175690247, 0.22049130373189027], rtol=1e-12)
    lower, upper = intervals.wilson_ci(65, 100, 0.998)
    assert_close([lower, upper], [0.4954946574070431, 0.7783540614089697], rtol=1e-12)


def test_byars_known_values_and_small_count_at_998():
    lower, upper = intervals.byars_ci(np.array([65, 1045, 1]), 0.95)
    assert_close(lower, [50.163187710459454, 982.5932018073325, 0.01307213290150435], rtol=1e-12)
    assert_close(upper, [82.84913854593984, 1110.33121298565, 5.5637555824752605], rtol=1e-12)
    lower, upper = intervals.byars_ci(1, 0.998)
    # Byar's lower limit is negative here; PHE reports it as missing.
    assert np.isnan(lower)
    assert_close(upper, 9.362180217908362, rtol=1e-12)


def test_exact_poisson_matches_chi_square_definition():
    from scipy import stats

    x = np.array([1.0, 2.0, 5.0, 9.0, 250.0])
    for level in (0.95, 0.998, 0.9):
        lower, upper = intervals.exact_poisson_ci(x, level)
        alpha = 1 - level
        assert_close(lower, stats.chi2.ppf(alpha / 2, 2 * x) / 2, rtol=1e-10)
        assert_close(upper, stats.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2, rtol=1e-10)


def test_zero_counts_give_zero_lower_limits():
    lower, upper = intervals.exact_poisson_ci(0)
    assert lower == 0.0
    assert_close(upper, 3.6888794541139363, rtol=1e-10)
    assert intervals.byars_ci(0)[0] == 0.0
    lower, upper = intervals.wilson_ci(0, 10)
    assert lower == 0.0 and 0 < upper < 1


def test_nan_propagates_and_shapes_are_kept():
    x = np.array([[1.0, np.nan], [20.0, 3.0]])
    for lower, upper in (intervals.exact_poisson_ci(x), intervals.byars_ci(x), intervals.wilson_ci(x, 50)):
        assert lower.shape == upper.shape == (2, 2)
        assert np.isnan(lower[0, 1]) and np.isnan(upper[0, 1])
        assert np.isfinite(lower[1]).all()
    lower, upper = intervals.wilson_ci(pd.Series([5, 6]), pd.Series([10, 0]))
    assert np.isfinite(lower[0]) and np.isnan(lower[1]) and np.isnan(upper[1])


def test_normal_z_and_bad_confidence():
    assert intervals.normal_z(0.95) == pytest.approx(1.959963984540054)
    assert intervals.normal_z(0.998) == pytest.approx(3.090232306167813)
    with pytest.raises(InputError):
        intervals.wilson_ci(1, 2, confidence=95)


def test_standard_populations():
    assert standardised.ESP2013.sum() == 100_000 and standardised.ESP2013.size == 19 == len(standardised.ESP2013_AGE_BANDS)
    assert standardised.ESP1976.sum() == 100_000 and standardised.ESP1976.size == 18 == len(standardised.ESP1976_AGE_BANDS)
    assert standardised.ESP2013_AGE_BANDS[0] == "0-4" and standardised.ESP2013_AGE_BANDS[-1] == "90+"


# ---------------------------------------------------------------------------
# Inline: calculators
# ---------------------------------------------------------------------------

PROP_CSV = """area,num,den
A,65,100
B,1045,5000
C,,100
"""


def test_proportion_inline_frame():
    df = pd.read_csv(io.StringIO(PROP_CSV))
    out = methods.proportion(df, "num", "den", multiplier=100, confidence=0.95)
    expected = df.assign(
        value=[65.0, 20.9, np.nan],
        lower_ci95=[55.25444329688797, 19.795549880013297, np.nan],
        upper_ci95=[73.63575175690247, 22.049130373189027, np.nan],
    )
    pdt.assert_frame_equal(out, expected, rtol=1e-12)


def test_proportion_grouped_sums_and_missing_poisons_group():
    df = pd.read_csv(io.StringIO("g,x,n\na,1,100\na,1,100\nb,5,100\nb,,100\n"))
    out = methods.proportion(df, "x", "n", confidence=0.95, group_by="g")
    assert list(out.columns) == ["g", "x", "n", "value", "lower_ci95", "upper_ci95"]
    assert out["x"].tolist()[0] == 2 and out["n"].tolist()[0] == 200
    assert_close(out["lower_ci95"].iloc[0], 0.002746658133544438, rtol=1e-12)
    assert np.isnan(out["value"].iloc[1])


@pytest.mark.parametrize(
    ("csv", "column", "row"),
    [
        ("x,n\n1,10\n-1,10\n", "x", 3),
        ("x,n\n1,10\n2,0\n", "n", 3),
        ("x,n\n11,10\n", "x", 2),
        ("x,n\n1,10\nabc,10\n", "x", 3),
    ],
)
def test_proportion_bad_inputs_name_column_and_row(csv, column, row):
    df = pd.read_csv(io.StringIO(csv))
    with pytest.raises(InputError) as info:
        methods.proportion(df, "x", "n")
    assert info.value.column == column and info.value.row == row


def test_missing_column_is_named():
    with pytest.raises(InputError) as info:
        methods.crude_rate(pd.DataFrame({"x": [1]}), "x", "pop")
    assert info.value.column == "pop"


def test_crude_rate_switches_method_at_ten_and_allows_count_above_denominator():
    df = pd.DataFrame({"x": [9, 10, 250], "n": [1000, 1000, 220]})
    out = methods.crude_rate(df, "x", "n", multiplier=1000, confidence=0.95)
    assert out["method"].tolist() == ["Exact", "Byars", "Byars"]
    exact = intervals.exact_poisson_ci(9)
    assert_close(out["lower_ci95"].iloc[0], exact[0], rtol=1e-12)
    byars = intervals.byars_ci(10)
    assert_close(out["upper_ci95"].iloc[1], byars[1], rtol=1e-12)
    assert_close(out["value"].iloc[2], 250 / 220 * 1000)
    with pytest.raises(InputError) as info:
        methods.crude_rate(pd.DataFrame({"x": [1, 2], "n": [10, 0]}), "x", "n")
    assert info.value.row == 3


def test_dsr_needs_ten_events_and_one_row_per_band():
    df = pd.DataFrame({"area": ["a"] * 19, "count": [0] * 18 + [9], "pop": [100] * 19})
    out = standardised.dsr(df, "count", "pop", group_by="area")
    assert out["total_count"].iloc[0] == 9 and np.isnan(out["value"].iloc[0])
    assert np.isnan(out["lower_ci95"].iloc[0])
    with pytest.raises(InputError, match="19 values"):
        standardised.dsr(df.iloc[:18], "count", "pop", group_by="area")


def test_mean_ci_inline():
    df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]})
    out = methods.mean_ci(df, "v", confidence=0.95)
    from scipy import stats

    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert_close(out[["value", "lower_ci95", "upper_ci95"]].iloc[0], [2.5, 2.5 - half, 2.5 + half])


def test_quantile_group_inline_and_mixed_direction_error():
    df = pd.DataFrame({"g": ["a"] * 4, "v": [10.0, 20.0, 30.0, 40.0], "pol": ["low_is_good"] * 4})
    assert methods.quantile_group(df, "v", 2)["quantile"].tolist() == [1, 1, 2, 2]
    assert methods.quantile_group(df, "v", 2, invert="pol", group_by="g")["quantile"].tolist() == [
        2,
        2,
        1,
        1,
    ]
    assert methods.quantile_group(df, "v", 5)["quantile"].isna().all()
    mixed = df.assign(pol=["low_is_good", "high_is_good", "low_is_good", "low_is_good"])
    with pytest.raises(InputError) as info:
        methods.quantile_group(mixed, "v", 2, invert="pol", group_by="g")
    assert info.value.column == "pol"


def test_ci_column_names():
    assert methods.ci_columns(0.95) == ("lower_ci95", "upper_ci95")
    assert methods.ci_columns(0.998) == ("lower_ci998", "upper_ci998")
    assert methods.ci_columns(0.9) == ("lower_ci90", "upper_ci90")


def test_calculators_are_vectorised_on_many_rows():
    rng = np.random.default_rng(1)
    n = rng.integers(100, 10_000, 200_000)
    df = pd.DataFrame({"x": rng.binomial(n, 0.1), "n": n})
    out = methods.crude_rate(df, "x", "n")
    assert len(out) == len(df) and out["lower_ci998"].notna().all()


# ---------------------------------------------------------------------------
# Oracles: PHEindicatormethods fixtures
# ---------------------------------------------------------------------------

CI_PAIRS = [
    ("lower_ci95", "lower95_0cl"),
    ("upper_ci95", "upper95_0cl"),
    ("lower_ci998", "lower99_8cl"),
    ("upper_ci998", "upper99_8cl"),
]


@pytest.mark.reference
def test_oracle_byars_wilson(reference_dir):
    d = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Byars_Wilson__testdata_B_W.csv"))
    level = d["confidence"].str.rstrip("%").astype(float) / 100
    for i, row in d.iterrows():
        if row["method"] == "Byars":
            lower, upper = intervals.byars_ci(row["x"], level[i])
        else:
            lower, upper = intervals.wilson_ci(row["x"], row["n"], level[i])
        assert_close([lower, upper], [row["lowercl"], row["uppercl"]], rtol=1e-12)


@pytest.mark.reference
@pytest.mark.parametrize("multiplier", [1, 100])
def test_oracle_proportion(reference_dir, multiplier):
    d = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Proportion__testdata_Prop.csv"))
    d = d[d["multiplier"] == multiplier]
    out = methods.proportion(d, "Numerator", "Denominator", multiplier=multiplier)
    assert_close(out["value"], d["value"])
    for ours, theirs in CI_PAIRS:
        assert_close(out[ours], d[theirs])


@pytest.mark.reference
def test_oracle_proportion_grouped(reference_dir):
    src = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Proportion__testdata_Prop.csv"))
    src = src[src["multiplier"] == 1]
    expected = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_Proportion__testdata_Prop_g.csv")
    )
    out = methods.proportion(
        pd.concat([src, src]), "Numerator", "Denominator", confidence=0.95, group_by="Area"
    )
    assert out["Area"].tolist() == expected["Area"].tolist()
    summed = expected["Denominator"].notna()
    assert_close(out["Numerator"][summed], expected["Numerator"][summed])
    for ours, theirs in [("value", "value"), ("lower_ci95", "lowercl"), ("upper_ci95", "uppercl")]:
        assert_close(out[ours], expected[theirs])


@pytest.mark.reference
@pytest.mark.parametrize("multiplier", [100, 100_000])
def test_oracle_rate(reference_dir, multiplier):
    d = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Rate__testdata_Rate.csv"))
    d = d[d["multiplier"] == multiplier]
    out = methods.crude_rate(d, "Numerator", "Denominator", multiplier=multiplier)
    assert_close(out["value"], d["value"])
    for ours, theirs in CI_PAIRS:
        assert_close(out[ours], d[theirs])
    known = d["method"].notna() & d["Denominator"].notna()
    assert out["method"][known].tolist() == d["method"][known].tolist()


@pytest.mark.reference
def test_oracle_rate_grouped(reference_dir):
    src = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Rate__testdata_Rate.csv"))
    src = src[src["multiplier"] == 100_000]
    expected = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Rate__testdata_Rate_g.csv"))
    # Area12 (250 events in 220) appears once in the grouped sheet's source.
    doubled = pd.concat([src, src[src["Area"] != "Area12"]])
    out = methods.crude_rate(doubled, "Numerator", "Denominator", confidence=0.95, group_by="Area")
    assert out["Area"].tolist() == expected["Area"].tolist()
    for ours, theirs in [("value", "value"), ("lower_ci95", "lowercl"), ("upper_ci95", "uppercl")]:
        assert_close(out[ours], expected[theirs])


@pytest.fixture
def dsr_results(reference_dir):
    return pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testresults_DSR.csv"))


@pytest.mark.reference
@pytest.mark.parametrize(("multiplier", "rows"), [(10_000, [0, 1, 2]), (100_000, [4, 5, 6])])
def test_oracle_dsr_esp2013(reference_dir, dsr_results, multiplier, rows):
    data = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_multiarea.csv")
    )
    out = standardised.dsr(data, "count", "pop", multiplier=multiplier, group_by="area")
    expected = dsr_results.iloc[rows].reset_index(drop=True)
    assert out["area"].tolist() == expected["area"].tolist()
    for column in ("total_count", "total_pop", "value"):
        assert_close(out[column], expected[column])
    for ours, theirs in CI_PAIRS:
        assert_close(out[ours], expected[theirs])


@pytest.mark.reference
def test_oracle_dsr_esp1976(reference_dir, dsr_results):
    data = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_1976.csv"))
    np.testing.assert_array_equal(data["esp1976"], standardised.ESP1976)
    expected = dsr_results.iloc[7]
    for standard in ("esp1976", standardised.ESP1976):
        out = standardised.dsr(data, "count", "pop", standard_population=standard).iloc[0]
        assert_close(
            out[["value", "lower_ci95", "upper_ci95"]],
            expected[["value", "lower95_0cl", "upper95_0cl"]],
        )
        # The sheet's 99.8% limits are ten times too large (the R test skips them).
        assert_close(
            out[["lower_ci998", "upper_ci998"]] * 10, expected[["lower99_8cl", "upper99_8cl"]]
        )


@pytest.fixture
def isr_inputs(reference_dir):
    data = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_multiarea.csv")
    )
    ref = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__refdata.csv"))
    results = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testresults_ISR.csv")
    )
    return data, ref, results


ISR_COLUMNS = [("observed", "observed"), ("expected", "expected"), ("value", "value"), *CI_PAIRS]


@pytest.mark.reference
@pytest.mark.parametrize(
    ("function", "multiplier", "rows"),
    [
        ("isr", 100_000, [0, 1, 2]),
        ("isr", 1000, [3, 4, 5]),
        ("isratio", 1, [6, 7, 8]),
        ("isratio", 100, [9, 10, 11]),
    ],
)
def test_oracle_isr_and_isratio(isr_inputs, function, multiplier, rows):
    data, ref, results = isr_inputs
    calculate = getattr(standardised, function)
    out = calculate(
        data, "count", "pop", ref["refcount"], ref["refpop"], multiplier=multiplier, group_by="area"
    )
    expected = results.iloc[rows].reset_index(drop=True)
    for ours, theirs in ISR_COLUMNS:
        assert_close(out[ours], expected[theirs])
    assert out["method"].tolist() == expected["method"].tolist()
    if function == "isr":
        assert_close(out["ref_rate"], expected["ref_rate"])


@pytest.mark.reference
def test_oracle_isr_reference_as_columns_and_missing_reference_count(reference_dir, isr_inputs):
    _, ref, results = isr_inputs
    own = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_multiarea_isr.csv")
    )
    out = standardised.isr(own, "count", "pop", "refcount", "refpop", group_by="area", confidence=0.95)
    assert_close(out["value"], results["value"].iloc[:3])
    # A missing reference count adds no expected events (the 10-14 band's count is 0).
    gap = ref["refcount"].astype(float).where(ref["Age Band"] != "10-14")
    data = own.drop(columns=["refcount", "refpop"])
    out = standardised.isr(data, "count", "pop", gap.to_numpy(), ref["refpop"].to_numpy(), group_by="area")
    assert_close(out["value"], results["value"].iloc[:3])


@pytest.mark.reference
def test_oracle_isr_zero_population_band_and_observed_totals(reference_dir, isr_inputs):
    data, ref, results = isr_inputs
    err2 = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_err2.csv"))
    out = standardised.isr(
        err2, "count", "pop", ref["refcount"], ref["refpop"], group_by="area", confidence=0.95
    )
    for ours, theirs in ISR_COLUMNS[:5]:
        assert_close(out[ours], results[theirs].iloc[12:14])
    out = standardised.isratio(
        err2,
        "count",
        "pop",
        ref["refcount"],
        ref["refpop"],
        multiplier=100,
        group_by="area",
        confidence=0.95,
    )
    for ours, theirs in ISR_COLUMNS[:5]:
        assert_close(out[ours], results[theirs].iloc[14:16])
    totals = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_multiarea_lookup.csv")
    )
    out = standardised.isr(data.drop(columns="count").assign(count=np.nan), "count", "pop", ref["refcount"], ref["refpop"],
                group_by="area", observed_totals=totals)  # fmt: skip
    for ours, theirs in ISR_COLUMNS:
        assert_close(out[ours], results[theirs].iloc[:3])


@pytest.mark.reference
def test_oracle_isr_rejects_negative_counts(reference_dir, isr_inputs):
    _, ref, _ = isr_inputs
    bad = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_DSR_ISR__testdata_err1.csv"))
    count_column = "count"
    with pytest.raises(InputError) as info:
        standardised.isr(bad, count_column, "pop", ref["refcount"], ref["refpop"])
    assert info.value.column == count_column and info.value.row >= 2


@pytest.mark.reference
def test_oracle_mean(reference_dir):
    data = pd.read_csv(pheim(reference_dir, "csv_from_xlsx/testdata_Mean__testdata_Mean.csv"))
    expected = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_Mean__testdata_Mean_results.csv")
    )
    out = pd.concat(
        [methods.mean_ci(data, "values", group_by="area"), methods.mean_ci(data, "values")], ignore_index=True
    )
    for column in ("value_sum", "value_count", "stdev", "value"):
        assert_close(out[column], expected[column])
    for ours, theirs in CI_PAIRS:
        assert_close(out[ours], expected[theirs])


@pytest.mark.reference
def test_oracle_quantiles(reference_dir):
    data = pd.read_csv(
        pheim(reference_dir, "csv_from_xlsx/testdata_Quantiles__testdata_Quantiles.csv")
    )

    def check(frame, **kwargs):
        out = methods.quantile_group(frame, "Value", **kwargs)
        np.testing.assert_array_equal(
            out["quantile"].to_numpy(), frame["QuantileInGrp"].to_numpy(dtype=float)
        )

    by_region = data[data["GroupSet"] == "IndSexReg"]
    check(by_region, nquantiles=10, invert="Polarity", group_by=["IndSexRef", "ParentCode"])
    ungrouped = data[data["GroupSet"].isna()]
    check(ungrouped, nquantiles=4, invert=True)
    # The "BadPolarity" set mixes True/False in one group: we refuse that; its expected
    # quantiles are those of an inverted ranking (R took the group's first value).
    by_indicator = data[data["GroupSet"] == "IndSex"]
    with pytest.raises(InputError):
        methods.quantile_group(by_indicator, "Value", 7, invert="Polarity", group_by="IndSexRef")
    first_direction = by_indicator.groupby("IndSexRef")["Polarity"].transform("first")
    check(
        by_indicator.assign(Polarity=first_direction),
        nquantiles=7,
        invert="Polarity",
        group_by="IndSexRef",
    )


# ---------------------------------------------------------------------------
# Oracles: funnels
# ---------------------------------------------------------------------------


def read_fixture(path):
    frame = pd.read_csv(path, encoding="utf-8-sig")
    frame.columns = [c.strip() for c in frame.columns]
    return frame


@pytest.mark.reference
def test_oracle_funnel_proportion(reference_dir):
    inputs = read_fixture(pheim(reference_dir, "testdata_funnel_prop_inputs.csv"))
    for subset, name in (
        (inputs, "testdata_funnel_prop_outputs.csv"),
        (
            inputs[inputs["denominator"] < 31000],
            "testdata_funnel_prop_outputs_with_axis_variation.csv",
        ),
    ):
        expected = read_fixture(pheim(reference_dir, name))
        out = funnels.funnel_limits(
            subset, "numerator", "denominator", statistic="proportion", multiplier=100
        )
        assert out.shape == expected.shape
        # The fixture prints 6-8 significant figures.
        assert_close(out.to_numpy(), expected.to_numpy(), rtol=2e-7)
    labels = funnels.funnel_significance(inputs, "numerator", "denominator", statistic="proportion")
    assert labels.tolist() == inputs["significance"].tolist()


@pytest.mark.reference
@pytest.mark.parametrize("ratio_type", ["count", "isr"])
def test_oracle_funnel_ratio(reference_dir, ratio_type):
    inputs = read_fixture(pheim(reference_dir, "testdata_funnel_ratio_inputs.csv"))
    expected = read_fixture(pheim(reference_dir, "testdata_funnel_ratio_outputs.csv"))
    out = funnels.funnel_limits(inputs, "obs", "expected", statistic="ratio", ratio_type=ratio_type)
    assert_close(out["observed_events"], expected["Observed_events"], rtol=0)
    for column in out.columns[1:]:
        theirs = expected[column.replace("limit", ratio_type)]
        # Count limits are ratio - 1 (near zero), so compare them absolutely.
        tolerance = (
            {"atol": 1e-6, "rtol": 0}
            if (ratio_type == "count" and "limit" in column)
            else {"rtol": RTOL}
        )
        assert_close(out[column], theirs, **tolerance)
    labels = funnels.funnel_significance(inputs, "obs", "expected", statistic="ratio")
    assert labels.tolist() == inputs["significance"].tolist()


@pytest.mark.reference
def test_oracle_funnel_rates(reference_dir):
    source = read_fixture(pheim(reference_dir, "testdata_funnel_rate_input_funnels.csv"))
    dsr_in = source[["ev", "rate"]]
    crude_in = dsr_in.assign(ev=np.where(dsr_in["ev"] == dsr_in["ev"].max(), 5, dsr_in["ev"]))
    zero_in = dsr_in.assign(pop=100_000 * dsr_in["ev"] / dsr_in["rate"])
    biggest = zero_in["ev"] == zero_in["ev"].max()
    zero_in = zero_in.assign(
        rate=np.where(biggest, 0, zero_in["rate"]), ev=np.where(biggest, 0, zero_in["ev"])
    )
    zero_in = zero_in[zero_in["pop"] > zero_in["pop"].max() / 2]
    cases = [
        (dsr_in, None, "dsr", "testdata_funnel_rate_outputs.csv"),
        (crude_in, None, "crude", "testdata_funnel_rate_outputs_2.csv"),
        (zero_in, "pop", "crude", "testdata_funnel_rate_outputs_3.csv"),
    ]
    for data, denominator, rate_type, name in cases:
        expected = read_fixture(pheim(reference_dir, name))
        out = funnels.funnel_limits(data, "ev", denominator, statistic="rate", rate="rate", rate_type=rate_type,
                              multiplier=100_000, years_of_data=3)  # fmt: skip
        assert_close(out["events"], expected["Events"], rtol=0)
        for column in out.columns[1:]:
            assert_close(out[column], expected[column])


@pytest.mark.reference
def test_oracle_funnel_rate_significance(reference_dir):
    data = read_fixture(pheim(reference_dir, "testdata_funnel_rate_dsr_inputs.csv"))
    cases = [
        ("rate_dsr", "dsr", 100_000, "dsr_per_100000"),
        ("rate_crude_per_100", "crude", 100, "crude_per_100"),
        ("rate_crude_per_100000", "crude", 100_000, "crude_per_100000"),
    ]
    for rate, rate_type, multiplier, stem in cases:
        for frame, suffix in ((data, "_with_0"), (data[data["count"] > 0], "_without_0")):
            labels = funnels.funnel_significance(frame, "count", "pop", statistic="rate", rate=rate,
                                           rate_type=rate_type, multiplier=multiplier)  # fmt: skip
            expected = frame[stem + suffix]
            if rate_type == "dsr":
                # PHE's rule (R and Python) marks DSRs with < 10 events "Not applicable";
                # the sheet's one zero-event row says "Not significant".
                small = frame["count"] < 10
                assert (labels[small] == "Not applicable for events less than 10 for DSRs").all()
                labels, expected = labels[~small], expected[~small]
            assert labels.tolist() == expected.tolist()


# ---------------------------------------------------------------------------
# Oracle: a real Fingertips export (exact Poisson for all ages, Byar's for 0-9)
# ---------------------------------------------------------------------------


@pytest.mark.reference
def test_oracle_fingertips_export_confidence_intervals(reference_dir):
    path = reference_dir / "indicators" / "fingertips_exports" / "indicators-CountyUA.data.csv"
    data = pd.read_csv(path)
    data = data[data["Count"].notna() & data["Lower CI 95.0 limit"].notna()]
    scale = 100_000 / data["Denominator"]
    exact = intervals.exact_poisson_ci
    byars_fingertips = lambda x, level: intervals.byars_ci(x, level, z=intervals.FINGERTIPS_Z[level])  # noqa: E731
    # "All ages": exact Poisson for every count; "0-9 yrs": Byar's with z = 1.96 for every count.
    for age, ci, rtol in (("All ages", exact, 1e-6), ("0-9 yrs", byars_fingertips, 1e-8)):
        rows = data[data["Age"] == age]
        lower, upper = ci(rows["Count"].to_numpy(), 0.95)
        assert len(rows) > 100
        assert_close(lower * scale[rows.index], rows["Lower CI 95.0 limit"], rtol=rtol)
        assert_close(upper * scale[rows.index], rows["Upper CI 95.0 limit"], rtol=rtol)
    # With the exact z, Byar's would miss the published 0-9 limits by more than 1e-6.
    rows = data[data["Age"] == "0-9 yrs"]
    lower, _ = intervals.byars_ci(rows["Count"].to_numpy(), 0.95)
    assert np.max(np.abs(lower * scale[rows.index] / rows["Lower CI 95.0 limit"] - 1)) > 1e-5


def test_poisson_ci_keeps_scalars_scalar_and_switches_at_ten():
    lower, upper = methods.poisson_ci(5)
    assert np.ndim(lower) == 0 and np.ndim(upper) == 0
    assert_close([lower, upper], intervals.exact_poisson_ci(5), rtol=1e-12)
    assert_close(methods.poisson_ci([10])[0], intervals.byars_ci([10])[0], rtol=1e-12)


def test_funnel_poisson_bisection_agrees_with_gamma_quantiles():
    from scipy import special

    observed = np.array([1.0, 8.0, 328.0, 2000.0])
    low = intervals.poisson_mean_for_tail(observed, 0.025, "low")
    high = intervals.poisson_mean_for_tail(observed, 0.025, "high")
    # The bisection stops at a step of 6e-8 in v = m / (1 + observed + m), as PHE's does.
    assert_close(low, special.gammaincinv(observed, 0.025), rtol=1e-5)
    assert_close(high, special.gammainccinv(observed + 1, 0.025), rtol=1e-5)
    # ...which is what PHE's funnel sheet prints for one observed event (0.025317898).
    assert_close(low[0], 0.025317898, rtol=1e-8)


def test_funnel_inputs_are_checked():
    df = pd.DataFrame({"x": [1, 2, np.nan], "n": [10, 10, 10]})
    with pytest.raises(InputError) as info:
        funnels.funnel_limits(df, "x", "n", statistic="proportion")
    assert info.value.row == 4 and info.value.column == "x"
    with pytest.raises(InputError):
        funnels.funnel_limits(df.dropna(), "x", statistic="ratio", ratio_type="count")
