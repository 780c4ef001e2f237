"""Tests for the Fingertips comparers in hwb_toolkit.indicators.compare.

Oracles: fingertips-open's C# unit-test cases (transcribed in ../shared/reference)
and a real Fingertips export whose published comparison labels we reproduce.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.compare import (
    compare_spc_dsr,
    compare_spc_proportion,
    compare_to_benchmark,
    quintile_bounds,
    quintile_labels,
)


def fingertips_words(labels):
    """Fingertips' C# says "Same" where the export says "Similar"."""
    return ["Similar" if label == "Same" else label for label in labels]


# ---------------------------------------------------------------------------
# Inline
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("benchmark", "low_is_good", "high_is_good", "no_judgement"),
    [
        (3.0, "Better", "Worse", "Lower"),
        (2.7, "Similar", "Similar", "Similar"),  # a limit touching the benchmark is similar
        (2.5, "Similar", "Similar", "Similar"),
        (2.0, "Worse", "Better", "Higher"),
    ],
)
def test_single_level_rule(benchmark, low_is_good, high_is_good, no_judgement):
    for polarity, expected in (
        ("low_is_good", low_is_good),
        ("high_is_good", high_is_good),
        ("no_judgement", no_judgement),
    ):
        assert compare_to_benchmark(2.6, 2.5, 2.7, benchmark, polarity) == expected


def test_two_level_rule_no_judgement_and_missing():
    assert compare_to_benchmark(2.6, 2.5, 2.7, 3.0, "no_judgement", 2.3, 2.9) == "Lower"
    assert compare_to_benchmark(2.6, 2.5, 2.7, 2.2, "no_judgement", 2.3, 2.9) == "Higher"
    assert compare_to_benchmark(np.nan, 2.5, 2.7, 3.0, "low_is_good") == "Not compared"
    assert compare_to_benchmark(2.6, 2.5, 2.7, None, "low_is_good") == "Not compared"
    # Missing 99.8% limits fall back to the 95% rule (no Best/Worst).
    out = compare_to_benchmark(
        [2.6, 2.6], [2.5, 2.5], [2.7, 2.7], 3.0, "low_is_good", [2.3, np.nan], [2.9, np.nan]
    )
    assert out.tolist() == ["Best", "Better"]


def test_vectorised_with_per_row_polarity():
    out = compare_to_benchmark(
        np.array([1.0, 1.0, 1.0]),
        0.9,
        1.1,
        2.0,
        np.array(["low_is_good", "high_is_good", "no_judgement"]),
    )
    assert out.tolist() == ["Better", "Worse", "Lower"]
    with pytest.raises(InputError, match="polarity"):
        compare_to_benchmark(1.0, 0.9, 1.1, 2.0, "RAG")


def test_quintile_labels_by_polarity():
    values = np.arange(1.0, 11.0)
    assert (
        quintile_labels(values).tolist()
        == ["Lowest"] * 2 + ["Low"] * 2 + ["Middle"] * 2 + ["High"] * 2 + ["Highest"] * 2
    )
    assert quintile_labels(values, "low_is_good")[[0, -1]].tolist() == ["Best", "Worst"]
    assert quintile_labels(values, "high_is_good")[[0, -1]].tolist() == ["Worst", "Best"]
    assert quintile_labels([1.0, 2.0, 3.0, 4.0]).tolist() == ["Not compared"] * 4
    assert quintile_labels([np.nan, 1, 2, 3, 4, 5]).tolist()[0] == "Not compared"
    assert quintile_bounds([1.0, 2.0, 3.0]).size == 0


def test_spc_bad_level():
    with pytest.raises(InputError):
        compare_spc_proportion(1.0, 100, 2.0, "low_is_good", confidence=0.9)


# ---------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------


def fingertips_case(reference_dir, name):
    return pd.read_csv(reference_dir / "indicators" / "fingertips_open_tests" / name)


@pytest.mark.reference
def test_oracle_two_ci_level_comparer(reference_dir):
    cases = fingertips_case(reference_dir, "two_ci_level_comparer_cases.csv")
    for polarity, column in (
        ("low_is_good", "expected_rag_low_is_good"),
        ("high_is_good", "expected_rag_high_is_good"),
    ):
        labels = compare_to_benchmark(
            cases["value"], cases["lower_ci95"], cases["upper_ci95"], cases["benchmark_value"], polarity,
            cases["lower_ci99_8"], cases["upper_ci99_8"],
        )  # fmt: skip
        assert labels.tolist() == fingertips_words(cases[column])


@pytest.mark.reference
def test_oracle_quintile_bounds(reference_dir):
    case = fingertips_case(reference_dir, "quintile_bounds_case.csv").iloc[0]
    expected = [float(b) for b in case["expected_bounds"].split(";")]
    np.testing.assert_array_equal(quintile_bounds(np.arange(1, 51)), expected)


@pytest.mark.reference
def test_oracle_spc_comparers(reference_dir):
    cases = fingertips_case(reference_dir, "spc_comparer_cases.csv")
    assert set(cases["polarity"]) == {"RagLowIsGood"}
    for method, compare in (
        ("SpcForProportions", compare_spc_proportion),
        ("SpcForDsr", compare_spc_dsr),
    ):
        rows = cases[cases["method"] == method]
        for level, column in ((0.95, "expected_at_95"), (0.998, "expected_at_99_8")):
            labels = compare(rows["value"], rows["denominator"], rows["benchmark_value"], "low_is_good",
                             multiplier=rows["unit"].iloc[0], confidence=level)  # fmt: skip
            assert labels.tolist() == fingertips_words(rows[column]), (method, level)


@pytest.mark.reference
def test_oracle_fingertips_export_comparisons(reference_dir):
    """The export's 760 county comparisons to England and to the region, reproduced."""
    path = reference_dir / "indicators" / "fingertips_exports" / "indicators-CountyUA.data.csv"
    data = pd.read_csv(path)
    plain = data[data["Category Type"].isna()]
    keys = ["Time period", "Sex", "Age"]
    england = plain[plain["Area Type"] == "Country"][[*keys, "Value"]].rename(
        columns={"Value": "england"}
    )
    regions = plain[plain["Area Type"] == "Region"][[*keys, "Area Code", "Value"]].rename(
        columns={"Area Code": "Parent Code", "Value": "region"}
    )
    counties = plain[plain["Area Type"] == "County & UA"]
    counties = counties.merge(england, on=keys, how="left").merge(
        regions, on=[*keys, "Parent Code"], how="left"
    )
    assert len(counties) == 760
    for benchmark, column in (("england", "Compared to England value or percentiles"),
                              ("region", "Compared to Region value or percentiles")):  # fmt: skip
        labels = compare_to_benchmark(
            counties["Value"], counties["Lower CI 95.0 limit"], counties["Upper CI 95.0 limit"],
            counties[benchmark], "low_is_good",
        )  # fmt: skip
        assert (labels == counties[column].to_numpy()).sum() == 760
