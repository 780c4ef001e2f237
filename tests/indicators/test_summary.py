"""Tests for hwb_toolkit.indicators.summary: one area's latest values, comparisons, trend, change."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.compare import recent_trend
from hwb_toolkit.indicators.summary import (
    SUMMARY_COLUMNS,
    summarise_all_areas,
    summarise_area,
)
from hwb_toolkit.io.fingertips import read_fingertips_csv
from hwb_toolkit.schema import ENGLAND_CODE, INDICATOR_COLUMNS

AREA, REGION = "E06000001", "E12000001"
YEARS = [2018, 2019, 2020, 2021, 2022, 2023]

# indicator, area, parent, sex, age, category_type, year, value, lower, upper, count, denominator
# 90001: a rate per 100,000 rising by 10 a year in the area (England 100, region 148).
# 90002: a percentage (count / denominator x 100) that dips below England in 2023.
_ROWS = (
    [(90001, AREA, REGION, "Persons", "All ages", "", y, v, v - 5, v + 5, v, 100_000)
     for y, v in zip(YEARS, [100, 110, 120, 130, 140, 150], strict=True)]
    + [(90001, REGION, ENGLAND_CODE, "Persons", "All ages", "", y, 148, 147, 149, 1480, 1_000_000)
       for y in YEARS]
    + [(90001, ENGLAND_CODE, "", "Persons", "All ages", "", y, 100, 99.5, 100.5, 50_000, 50_000_000)
       for y in YEARS]
    + [(90001, AREA, REGION, "Persons", "65+ yrs", "", y, v, v - 30, v + 30, v / 10, 10_000)
       for y, v in [(2022, 300), (2023, 200)]]
    + [(90002, AREA, REGION, "Persons", "19+ yrs", "", y, c / 10, c / 10 - 3, c / 10 + 3, c, 1000)
       for y, c in zip(YEARS, [600, 610, 600, 590, 630, 560], strict=True)]
    + [(90002, REGION, ENGLAND_CODE, "Persons", "19+ yrs", "", y, 57, 56, 58, 5700, 10_000)
       for y in YEARS]
    + [(90002, ENGLAND_CODE, "", "Persons", "19+ yrs", "", y, 65, 64.5, 65.5, 65_000, 100_000)
       for y in YEARS]
    + [(90002, AREA, REGION, "Persons", "19+ yrs", "Deprivation deciles", 2023, 40, 35, 45, 40, 100)]
)  # fmt: skip


def make_data(rows=_ROWS) -> pd.DataFrame:
    """The rows above as a canonical indicator table (types as the readers return them)."""
    text = io.StringIO()
    text.write(
        "indicator_id,area_code,parent_code,sex,age,category_type,year,value,"
        "lower_ci95,upper_ci95,count,denominator\n"
    )
    for row in rows:
        text.write(",".join(str(x) for x in row) + "\n")
    text.seek(0)
    raw = pd.read_csv(text, keep_default_na=False, na_values=[""])
    names = {AREA: "Hartlepool", REGION: "North East region", ENGLAND_CODE: "England"}
    frame = pd.DataFrame(
        {
            "indicator_id": raw["indicator_id"].astype("Int64"),
            "indicator_name": raw["indicator_id"].map({90001: "Rate", 90002: "Active"}),
            "parent_code": raw["parent_code"],
            "parent_name": raw["parent_code"].map(names),
            "area_code": raw["area_code"],
            "area_name": raw["area_code"].map(names),
            "area_type": "UA",
            "sex": raw["sex"],
            "age": raw["age"],
            "category_type": raw["category_type"],
            "category": raw["category_type"].where(raw["category_type"].isna(), "Most deprived"),
            "period": raw["year"].astype(str),
            "period_sortable": (raw["year"] * 10000).astype("Int64"),
            "value": raw["value"].astype(float),
            "lower_ci95": raw["lower_ci95"].astype(float),
            "upper_ci95": raw["upper_ci95"].astype(float),
            "lower_ci998": np.nan,
            "upper_ci998": np.nan,
            "count": raw["count"].astype(float),
            "denominator": raw["denominator"].astype(float),
            "value_note": pd.NA,
            "recent_trend": pd.NA,
            "compared_to_england": pd.NA,
            "compared_to_parent": pd.NA,
            "new_data": False,
            "compared_to_goal": pd.NA,
        }
    )
    numeric = ("indicator_id", "period_sortable", "value", "lower_ci95", "upper_ci95",
               "lower_ci998", "upper_ci998", "count", "denominator", "new_data")  # fmt: skip
    text_columns = [c for c in INDICATOR_COLUMNS if c not in numeric]
    for column in text_columns:
        frame[column] = frame[column].astype("string")
    return frame[INDICATOR_COLUMNS].iloc[::-1].reset_index(drop=True)  # order must not matter


POLARITY = {90001: "low_is_good", 90002: "high_is_good"}
KEY = ["indicator_id", "age", "period", "value", "england_value", "parent_value"]
LABELS = ["compared_to_england", "compared_to_parent", "previous_period", "previous_value",
          "previous_compared_to_england", "change", "significance_changed", "n_periods"]  # fmt: skip


def expected(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=KEY + LABELS)
    frame["indicator_id"] = frame["indicator_id"].astype("Int64")
    for column in ("age", "period", "compared_to_england", "compared_to_parent",
                   "previous_period", "previous_compared_to_england"):  # fmt: skip
        frame[column] = frame[column].astype("string")
    for column in ("value", "england_value", "parent_value", "previous_value", "change"):
        frame[column] = frame[column].astype(float)
    return frame


def test_latest_period_summary():
    summary = summarise_area(make_data(), AREA, polarity=POLARITY)
    assert list(summary.columns) == SUMMARY_COLUMNS
    want = expected(
        [
            (90001, "65+ yrs", "2023", 200.0, np.nan, np.nan,
             "Not compared", "Not compared", "2022", 300.0, "Not compared", -100.0, False, 2),
            (90001, "All ages", "2023", 150.0, 100.0, 148.0,
             "Worse", "Similar", "2022", 140.0, "Worse", 10.0, False, 6),
            (90002, "19+ yrs", "2023", 56.0, 65.0, 57.0,
             "Worse", "Similar", "2022", 63.0, "Similar", -7.0, True, 6),
        ]
    )  # fmt: skip
    pd.testing.assert_frame_equal(summary[KEY + LABELS], want)
    assert summary["polarity"].tolist() == ["low_is_good", "low_is_good", "high_is_good"]
    assert summary["area_name"].tolist() == ["Hartlepool"] * 3
    assert summary["parent_name"].tolist() == ["North East region"] * 3


def test_trend_uses_weighted_regression_for_rates():
    summary = summarise_area(make_data(), AREA, polarity=POLARITY).set_index("age")
    # Five points 110..150, every 95% CI 10 wide: slope 10 per period, weight (3.92/10)^2.
    weight = (3.92 / 10) ** 2
    chi_squared = 10**2 * weight * ((np.arange(1, 6) - 3) ** 2).sum()
    assert summary.loc["All ages", "trend_chi_squared"] == pytest.approx(chi_squared, rel=1e-12)
    assert summary.loc["All ages", "recent_trend"] == "Increasing and getting worse"
    assert summary.loc["65+ yrs", "recent_trend"] == "Cannot be calculated"
    assert np.isnan(summary.loc["65+ yrs", "trend_chi_squared"])


def test_trend_uses_counts_for_proportions_unless_told_otherwise():
    counts = np.array([610, 600, 590, 630, 560.0])
    by_counts = recent_trend(counts / 10, counts / 10 - 3, counts / 10 + 3, counts,
                             np.full(5, 1000.0), polarity="high_is_good", method="proportion")  # fmt: skip
    general = recent_trend(counts / 10, counts / 10 - 3, counts / 10 + 3, polarity="high_is_good")
    assert by_counts.chi_squared != pytest.approx(general.chi_squared)

    summary = summarise_area(make_data(), AREA, polarity=POLARITY).set_index("indicator_id")
    assert summary.loc[90002, "trend_chi_squared"] == pytest.approx(by_counts.chi_squared)
    assert summary.loc[90002, "recent_trend"] == by_counts.label

    told = summarise_area(make_data(), AREA, polarity=POLARITY, trend_method={90002: "general"})
    told = told.set_index("indicator_id")
    assert told.loc[90002, "trend_chi_squared"] == pytest.approx(general.chi_squared)



def test_trend_of_a_rate_stops_where_a_count_equals_its_denominator():
    # Fingertips checks count = denominator before either trend method runs, so the
    # weighted regression of a rate is stopped too when its series has counts.
    data = make_data()
    point = (data["area_code"] == AREA) & (data["period"] == "2019") & (data["age"] == "All ages")
    data.loc[point, "count"] = data.loc[point, "denominator"]
    summary = summarise_area(data, AREA, polarity=POLARITY).set_index("age")
    assert summary.loc["All ages", "recent_trend"] == "Cannot be calculated"
    assert np.isnan(summary.loc["All ages", "trend_chi_squared"])
    # A series without counts is trended on its values and limits alone.
    data.loc[data["indicator_id"] == 90001, "count"] = np.nan
    summary = summarise_area(data, AREA, polarity=POLARITY).set_index("age")
    assert summary.loc["All ages", "recent_trend"] == "Increasing and getting worse"

def test_chosen_period_and_its_previous():
    # 2020, indicator 90002: 60 (57-63) against the region's 57, on the lower limit: Similar.
    summary = summarise_area(make_data(), AREA, "2020", polarity=POLARITY)
    want = expected(
        [
            (90001, "All ages", "2020", 120.0, 100.0, 148.0,
             "Worse", "Better", "2019", 110.0, "Worse", 10.0, False, 3),
            (90002, "19+ yrs", "2020", 60.0, 65.0, 57.0,
             "Worse", "Similar", "2019", 61.0, "Worse", -1.0, False, 3),
        ]
    )  # fmt: skip
    pd.testing.assert_frame_equal(summary[KEY + LABELS], want)
    assert summary["recent_trend"].tolist() == ["Cannot be calculated"] * 2


def test_first_period_has_no_previous():
    summary = summarise_area(make_data(), AREA, "2018", polarity=POLARITY)
    assert summary["previous_period"].isna().all()
    assert summary["previous_compared_to_england"].isna().all()
    assert np.isnan(summary["change"]).all() and not summary["significance_changed"].any()
    assert summary["n_periods"].tolist() == [1, 1]


def test_without_polarity_labels_are_lower_similar_higher():
    summary = summarise_area(make_data(), AREA)
    assert summary["polarity"].unique().tolist() == ["no_judgement"]
    assert summary["compared_to_england"].tolist() == ["Not compared", "Higher", "Lower"]
    assert summary.loc[1, "recent_trend"] == "Increasing"


def test_suppressed_latest_value_is_not_compared_and_not_counted():
    data = make_data()
    latest = (data["area_code"] == AREA) & (data["period"] == "2023") & (data["age"] == "All ages")
    data.loc[latest, ["value", "lower_ci95", "upper_ci95", "count"]] = np.nan
    data.loc[latest, "value_note"] = "Value suppressed for disclosure control"
    row = summarise_area(data, AREA, polarity=POLARITY).set_index("age").loc["All ages"]
    assert np.isnan(row["value"]) and row["compared_to_england"] == "Not compared"
    assert row["value_note"] == "Value suppressed for disclosure control"
    assert row["n_periods"] == 5 and np.isnan(row["change"])
    # The trend skips the suppressed point and uses the five valid ones before it,
    # 2018-2022 (FingertipsNext's rule): still rising, and low is good.
    assert row["recent_trend"] == "Increasing and getting worse"


def test_england_is_not_compared_with_itself_and_has_no_parent():
    summary = summarise_area(make_data(), ENGLAND_CODE, polarity=POLARITY)
    assert summary["compared_to_england"].tolist() == ["Not compared"] * 2
    assert summary["compared_to_parent"].tolist() == ["Not compared"] * 2
    assert summary["england_value"].isna().all() and summary["parent_value"].isna().all()


def test_all_areas_in_one_pass_match_one_area_at_a_time():
    data = make_data()
    everything = summarise_all_areas(data, polarity=POLARITY)
    assert everything["area_code"].unique().tolist() == [AREA, REGION, ENGLAND_CODE]
    for area in (AREA, REGION, ENGLAND_CODE):
        one = summarise_area(data, area, polarity=POLARITY)
        pd.testing.assert_frame_equal(
            everything[everything["area_code"] == area].reset_index(drop=True), one
        )
    region = everything[everything["area_code"] == REGION].set_index("indicator_id")
    assert region.loc[90001, "compared_to_england"] == "Worse"  # 148 vs 100, low is good


def test_unknown_area_period_or_polarity_is_an_input_error():
    data = make_data()
    with pytest.raises(InputError, match="area 'E06000099' is not in the indicator data"):
        summarise_area(data, "E06000099")
    with pytest.raises(InputError, match="period '2030' is not in the indicator data"):
        summarise_area(data, AREA, "2030")
    with pytest.raises(InputError, match="unknown polarity 'up_is_good'"):
        summarise_area(data, AREA, polarity={90001: "up_is_good"})


def test_a_period_given_twice_is_an_input_error():
    data = make_data()
    row = data[(data["area_code"] == AREA) & data["category_type"].isna()].iloc[[0]]
    twice = pd.concat([data, row], ignore_index=True)
    with pytest.raises(InputError, match="appears twice"):
        summarise_area(twice, AREA)


@pytest.mark.reference
def test_real_export_labels_are_reproduced_for_every_period(reference_dir, tmp_path):
    data = read_fingertips_csv(
        reference_dir / Path("indicators/fingertips_exports/indicators-CountyUA.data.csv"),
        cache_dir=tmp_path,
    )
    published = data.loc[
        data["category_type"].isna() & (data["area_type"] == "County & UA"),
        ["area_code", "sex", "age", "period", "compared_to_england", "compared_to_parent"],
    ]
    checked = 0
    for period in ("2015", "2016", "2017"):
        summary = summarise_all_areas(data, period, polarity={93356: "low_is_good"})
        joined = summary.merge(published, on=["area_code", "sex", "age", "period"],
                               suffixes=("", "_published"))  # fmt: skip
        for column in ("compared_to_england", "compared_to_parent"):
            assert (joined[column] == joined[f"{column}_published"]).all()
        checked += len(joined)
    assert checked == 760


def random_national_data(seed: int) -> pd.DataFrame:
    """Seeded canonical data: 12 years, 3 indicators, 2 sexes, 30 areas and their parents.

    91001 is a percentage (value = count / denominator x 100), 91002 a rate per
    100,000, 91003 a percentage whose trend method is overridden in the test.
    Series start late or lose a row, and some values are suppressed (NaN value,
    limits and count), so trend windows differ in length and in validity.
    """
    rng = np.random.default_rng(seed)
    areas = [f"E06{k:06d}" for k in range(30)]
    parent = {area: REGION if k % 2 else "E12000002" for k, area in enumerate(areas)}
    parent.update({REGION: ENGLAND_CODE, "E12000002": ENGLAND_CODE, ENGLAND_CODE: pd.NA})
    years = np.arange(2012, 2024)
    rows = []
    for area in [*areas, REGION, "E12000002", ENGLAND_CODE]:
        for indicator in (91001, 91002, 91003):
            for sex in ("Male", "Female"):
                first_year = rng.choice([2012, 2012, 2016, 2019, 2021])
                dropped = rng.choice(years) if rng.random() < 0.3 else None
                level, slope = rng.uniform(0.05, 0.6), rng.normal(0, 0.03)
                for year in years[years >= first_year]:
                    if year == dropped:
                        continue
                    denominator = float(rng.integers(50, 20_000))
                    p = float(np.clip(level + slope * (year - 2012), 0.001, 0.999))
                    count = float(rng.binomial(int(denominator), p))
                    if indicator == 91002:
                        value = count / denominator * 100_000
                        half = 1.96 * np.sqrt(max(count, 1)) / denominator * 100_000
                    else:
                        value = count / denominator * 100
                        half = 196 * np.sqrt(max(p * (1 - p), 1e-4) / denominator)
                    lower, upper = value - half, value + half
                    if rng.random() < 0.06:
                        value = lower = upper = count = np.nan
                    rows.append((indicator, area, parent[area], sex, year, value, lower, upper,
                                 count, denominator))  # fmt: skip
    raw = pd.DataFrame(rows, columns=["indicator_id", "area_code", "parent_code", "sex", "year",
                                      "value", "lower_ci95", "upper_ci95", "count",
                                      "denominator"])  # fmt: skip
    frame = pd.DataFrame(index=raw.index)
    for column in INDICATOR_COLUMNS:
        if column in raw.columns:
            frame[column] = raw[column]
        elif column in ("lower_ci998", "upper_ci998"):
            frame[column] = np.nan
        elif column == "new_data":
            frame[column] = False
        else:
            frame[column] = pd.Series(pd.NA, index=raw.index, dtype="string")
    frame["indicator_id"] = frame["indicator_id"].astype("Int64")
    frame["period"] = raw["year"].astype(str).astype("string")
    frame["period_sortable"] = (raw["year"] * 10000).astype("Int64")
    frame["age"] = pd.Series("All ages", index=raw.index, dtype="string")
    for column in ("area_code", "parent_code", "sex"):
        frame[column] = frame[column].astype("string")
    frame["area_name"] = frame["area_code"]
    frame["parent_name"] = frame["parent_code"]
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # recent_trend warns on 0/0 scalars
@pytest.mark.parametrize("period", [None, "2019", "2023"])
def test_every_series_trend_is_recent_trend_of_its_window(period):
    # summarise_all_areas computes all trends in one batch: check each against the scalar.
    data = random_national_data(seed=11)
    polarity = {91001: "high_is_good", 91002: "low_is_good"}
    summary = summarise_all_areas(data, period, polarity=polarity, trend_method={91003: "general"})
    assert len(summary) > 150
    plain = data[data["category_type"].isna()].sort_values("period_sortable")
    series = {key: rows for key, rows in plain.groupby(["area_code", "indicator_id", "sex"])}
    methods_used = set()
    for row in summary.itertuples():
        rows = series[(row.area_code, row.indicator_id, row.sex)]
        window = rows[rows["period_sortable"] <= row.period_sortable]
        last_five = window.tail(5)
        method = "general"
        if row.indicator_id == 91001 and len(last_five) == 5 and (last_five["count"] > 0).all():
            # Every point a percentage of its count and denominator (a zero count cannot
            # show that its value is count / denominator x 100, nor can a suppressed one).
            method = "proportion"
        methods_used.add(method)
        # Counts take part in both methods wherever the series has them (Fingertips' rules).
        has_counts = window["count"].notna().any() and window["denominator"].notna().any()
        counts = (window["count"], window["denominator"]) if has_counts else ()
        expected = recent_trend(window["value"], window["lower_ci95"], window["upper_ci95"],
                                *counts, polarity=row.polarity, method=method)  # fmt: skip
        assert row.recent_trend == expected.label, row
        chi = np.nan if expected.chi_squared is None else expected.chi_squared
        np.testing.assert_array_equal(row.trend_chi_squared, chi)
    assert methods_used == {"general", "proportion"}
    assert summary["recent_trend"].nunique() >= 5
