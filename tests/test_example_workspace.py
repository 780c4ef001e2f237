"""The bundled example workspace: committed files equal the generator's output, and hold
what the brief promises (Fingertips layout, areas, indicators, voices, actions, planted gaps)."""

from __future__ import annotations

import io
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hwb_toolkit.indicators.compare import compare_to_benchmark
from hwb_toolkit.indicators.intervals import byars_ci, exact_poisson_ci, wilson_ci
from hwb_toolkit.schema import ACTION_STATUSES, CONTRIBUTION_COLUMNS, SECTORS
from hwb_toolkit.system.actions import read_actions
from hwb_toolkit.system.strategy import load_strategy

REPO_ROOT = Path(__file__).resolve().parents[1]
# The generator is a development tool in tools/, not part of the installed package.
sys.path.insert(0, str(REPO_ROOT / "tools"))
import synthetic  # noqa: E402

COMMITTED = REPO_ROOT / "hwb_toolkit" / "example_workspace"
FINGERTIPS_FILE = "indicators/fingertips_all_data.csv"

# Spelled out here (not imported) so a change to the generator's constant cannot pass unnoticed.
FINGERTIPS_HEADER = [
    "Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name",
    "Area Type", "Sex", "Age", "Category Type", "Category", "Time period", "Value",
    "Lower CI 95.0 limit", "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit",
    "Count", "Denominator", "Value note", "Recent Trend",
    "Compared to England value or percentiles", "Compared to Region value or percentiles",
    "Time period Sortable", "New data", "Compared to goal",
]  # fmt: skip
UTLA_CODE = re.compile(r"^E0[6-9]\d{6}$|^E1[0-2]\d{6}$")
NUMERIC = ["Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit", "Lower CI 99.8 limit",
           "Upper CI 99.8 limit", "Count", "Denominator"]  # fmt: skip


def committed_files() -> dict[str, bytes]:
    return {
        path.relative_to(COMMITTED).as_posix(): path.read_bytes()
        for path in sorted(COMMITTED.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and ".cache" not in path.parts
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> dict[str, bytes]:
    """The workspace as write_example_workspace writes it today (generated once per module)."""
    destination = tmp_path_factory.mktemp("example")
    written = synthetic.write_example_workspace(destination)
    return {path.relative_to(destination).as_posix(): path.read_bytes() for path in written}


def fingertips_text_frame(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def fingertips() -> pd.DataFrame:
    """The committed Fingertips CSV with text cells and numeric copies of the number columns."""
    frame = fingertips_text_frame((COMMITTED / FINGERTIPS_FILE).read_bytes())
    for column in NUMERIC:
        frame[column + " #"] = pd.to_numeric(frame[column].replace("", np.nan))
    return frame


@pytest.fixture(scope="module")
def strategy():
    return load_strategy(COMMITTED / "strategy.yaml")


def voices(name: str) -> pd.DataFrame:
    return pd.read_csv(COMMITTED / "voices" / name, dtype=str, keep_default_na=False)


# --- reproducibility -------------------------------------------------------------------


def test_committed_files_are_exactly_what_the_generator_writes(regenerated):
    committed = committed_files()
    assert sorted(committed) == sorted(regenerated)
    for name, data in regenerated.items():
        if name == FINGERTIPS_FILE:
            continue  # compared below with a tolerance on the floating-point cells
        assert committed[name] == data, f"{name} differs from the generator's output: regenerate it"


def test_committed_fingertips_csv_equals_the_generated_one(regenerated):
    committed = fingertips_text_frame((COMMITTED / FINGERTIPS_FILE).read_bytes())
    fresh = fingertips_text_frame(regenerated[FINGERTIPS_FILE])
    text_columns = [c for c in FINGERTIPS_HEADER if c not in NUMERIC]
    pd.testing.assert_frame_equal(committed[text_columns], fresh[text_columns])
    for column in NUMERIC:
        expected = pd.to_numeric(fresh[column].replace("", np.nan))
        actual = pd.to_numeric(committed[column].replace("", np.nan))
        pd.testing.assert_series_equal(actual, expected, check_exact=False, rtol=1e-9)


def test_a_different_seed_gives_different_data():
    assert not synthetic.postits(seed=1)["author"].equals(synthetic.postits()["author"])
    assert not synthetic.poll_votes(seed=1).equals(synthetic.poll_votes())


def test_workspace_readme_says_synthetic_and_how_to_regenerate():
    text = (COMMITTED / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    assert f"seed {synthetic.SEED}" in text
    assert "python tools/synthetic.py" in text


# --- Fingertips layout and content --------------------------------------------------------


def test_fingertips_csv_has_the_real_export_header_and_line_ends():
    raw = (COMMITTED / FINGERTIPS_FILE).read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("utf-8")
    assert header.split(",") == FINGERTIPS_HEADER
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert len(raw) < 2_000_000


def test_fingertips_areas_regions_and_england(fingertips):
    utlas = fingertips[fingertips["Area Type"] == synthetic.UTLA_TYPE]
    codes = utlas["Area Code"].unique()
    assert len(codes) >= 20
    assert all(UTLA_CODE.match(code) for code in codes)
    assert utlas.groupby("Area Code")["Area Name"].nunique().eq(1).all()
    regions = fingertips[fingertips["Area Type"] == synthetic.REGION_TYPE]
    assert set(regions["Area Code"]) == set(utlas["Parent Code"]) == set(synthetic.REGIONS)
    assert (regions["Parent Code"] == "E92000001").all() and (regions["Parent Name"] == "England").all()
    region_names = dict(zip(regions["Area Code"], regions["Area Name"], strict=False))
    assert (utlas["Parent Name"] == utlas["Parent Code"].map(region_names)).all()
    england = fingertips[fingertips["Area Code"] == "E92000001"]
    assert (england["Area Name"] == "England").all()
    assert (england["Parent Code"] == "").all() and (england["Parent Name"] == "").all()
    assert "Newcastle upon Tyne" in set(utlas["Area Name"])


def test_fingertips_indicators_and_periods(fingertips, strategy):
    ids = fingertips["Indicator ID"].astype(int)
    assert 8 <= ids.nunique() <= 15
    assert set(ids) == {indicator.id for indicator in strategy.indicators}
    names = fingertips.groupby("Indicator ID")["Indicator Name"].unique()
    assert names.map(len).eq(1).all()
    assert {int(i): n[0] for i, n in names.items()} == {i.id: i.name for i in strategy.indicators}
    periods = fingertips.groupby("Indicator ID")["Time period"].nunique()
    assert (periods >= 5).all()
    sortable = fingertips["Time period Sortable"].astype(int)
    assert (sortable == fingertips["Time period"].str[:4].astype(int) * 10000).all()


def test_each_row_is_one_area_sex_age_category_and_period(fingertips):
    keys = ["Indicator ID", "Area Code", "Sex", "Age", "Category Type", "Category", "Time period"]
    assert not fingertips.duplicated(keys).any()


def test_proportion_cis_agree_with_wilson_recomputed(fingertips, strategy):
    proportions = {str(i.id): i.multiplier for i in strategy.indicators if i.calculator == "proportion"}
    rows = fingertips[fingertips["Indicator ID"].isin(proportions) & fingertips["Value #"].notna()]
    assert len(rows) > 1000
    multiplier = rows["Indicator ID"].map(proportions).to_numpy(float)
    x, n = rows["Count #"].to_numpy(), rows["Denominator #"].to_numpy()
    np.testing.assert_allclose(rows["Value #"], x / n * multiplier, rtol=1e-12)
    for level, lower, upper in ((0.95, "Lower CI 95.0 limit #", "Upper CI 95.0 limit #"),
                                (0.998, "Lower CI 99.8 limit #", "Upper CI 99.8 limit #")):
        expected_lower, expected_upper = wilson_ci(x, n, level)
        np.testing.assert_allclose(rows[lower], expected_lower * multiplier, rtol=1e-12)
        np.testing.assert_allclose(rows[upper], expected_upper * multiplier, rtol=1e-12)


def test_crude_rate_cis_agree_with_byars_or_exact_poisson_recomputed(fingertips, strategy):
    rates = {str(i.id): i.multiplier for i in strategy.indicators if i.calculator == "crude_rate"}
    assert rates
    rows = fingertips[fingertips["Indicator ID"].isin(rates) & fingertips["Value #"].notna()]
    scale = rows["Indicator ID"].map(rates).to_numpy(float) / rows["Denominator #"].to_numpy()
    x = rows["Count #"].to_numpy()
    np.testing.assert_allclose(rows["Value #"], x * scale, rtol=1e-12)
    for level, lower, upper in ((0.95, "Lower CI 95.0 limit #", "Upper CI 95.0 limit #"),
                                (0.998, "Lower CI 99.8 limit #", "Upper CI 99.8 limit #")):
        byars_lower, byars_upper = byars_ci(x, level)
        exact_lower, exact_upper = exact_poisson_ci(x, level)
        expected_lower = np.where(x < 10, exact_lower, byars_lower)
        expected_upper = np.where(x < 10, exact_upper, byars_upper)
        np.testing.assert_allclose(rows[lower], expected_lower * scale, rtol=1e-12)
        np.testing.assert_allclose(rows[upper], expected_upper * scale, rtol=1e-12)


def test_dsr_rows_are_plausible(fingertips, strategy):
    ids = {str(i.id) for i in strategy.indicators if i.calculator == "dsr"}
    rows = fingertips[fingertips["Indicator ID"].isin(ids) & fingertips["Value #"].notna()]
    assert len(rows) > 0 and set(rows["Sex"]) == {"Persons", "Male", "Female"}
    assert (rows["Count #"] >= 10).all()
    assert (rows["Lower CI 99.8 limit #"] < rows["Lower CI 95.0 limit #"]).all()
    assert (rows["Lower CI 95.0 limit #"] < rows["Value #"]).all()
    assert (rows["Value #"] < rows["Upper CI 95.0 limit #"]).all()
    assert (rows["Upper CI 95.0 limit #"] < rows["Upper CI 99.8 limit #"]).all()
    england = rows[(rows["Area Code"] == "E92000001") & (rows["Sex"] == "Persons")]
    assert england["Value #"].between(8, 14).all()  # per 100,000, as England's suicide rate


def test_regions_and_england_aggregate_their_areas(fingertips):
    plain = fingertips[(fingertips["Category"] == "") & fingertips["Count #"].notna()]
    keys = ["Indicator ID", "Sex", "Age", "Time period"]
    utlas = plain[plain["Area Type"] == synthetic.UTLA_TYPE]
    by_region = utlas.groupby(["Parent Code", *keys])[["Count #", "Denominator #"]].sum()
    regions = plain[plain["Area Type"] == synthetic.REGION_TYPE].set_index(["Area Code", *keys])
    regions.index.names = by_region.index.names
    joined = regions[["Count #", "Denominator #"]].join(by_region.add_suffix(" areas"), how="inner")
    # Every region holds at least its listed areas (the rest of a region is not listed)...
    assert (joined["Denominator #"] >= joined["Denominator # areas"]).all()
    # ...and the North East, listed in full, is exactly their sum where nothing was suppressed.
    complete = utlas[utlas["Parent Code"] == "E12000001"].groupby(keys)["Area Code"].count() == 12
    north_east = joined.xs("E12000001", level="Parent Code").loc[complete[complete].index]
    assert len(north_east) > 50
    assert (north_east["Count #"] == north_east["Count # areas"]).all()
    assert (north_east["Denominator #"] == north_east["Denominator # areas"]).all()
    england = plain[plain["Area Code"] == "E92000001"].set_index(keys)["Denominator #"]
    region_sum = plain[plain["Area Type"] == synthetic.REGION_TYPE].groupby(keys)["Denominator #"].sum()
    assert (england.loc[region_sum.index] > region_sum).all()
    assert (regions["Value note"] == synthetic.AGGREGATED_NOTE).all()


def test_suppressed_values_and_the_deprivation_block(fingertips):
    suppressed = fingertips[fingertips["Value note"] == synthetic.SUPPRESSED_NOTE]
    assert 1 <= len(suppressed) <= 30
    assert (suppressed[["Value", "Count", "Lower CI 95.0 limit", "Upper CI 95.0 limit"]] == "").all().all()
    assert (suppressed["Compared to England value or percentiles"] == "Not compared").all()
    block = fingertips[fingertips["Category"] != ""]
    assert set(block["Area Code"]) == {"E92000001"}
    assert set(block["Category"]) == set(synthetic.DEPRIVATION_DECILES)
    per_period = block.groupby("Time period")["Count #"].sum()
    totals = fingertips[(fingertips["Area Code"] == "E92000001") & (fingertips["Category"] == "")
                        & (fingertips["Indicator ID"] == block["Indicator ID"].iloc[0])]
    # Deciles hold about all of England's children measured, and the most deprived have the highest rates.
    assert np.allclose(block.groupby("Time period")["Denominator #"].sum(),
                       totals.set_index("Time period")["Denominator #"].loc[per_period.index], rtol=0.01)
    latest = block[block["New data"] == "New data"].set_index("Category")["Value #"]
    assert latest[synthetic.DEPRIVATION_DECILES[0]] > latest[synthetic.DEPRIVATION_DECILES[-1]]


def test_published_comparisons_follow_the_compare_engine(fingertips, strategy):
    polarity = {str(k): v for k, v in strategy.polarity().items()}
    plain = fingertips[fingertips["Category"] == ""]
    keys = ["Indicator ID", "Sex", "Age", "Time period"]
    england = plain[plain["Area Code"] == "E92000001"].set_index(keys)["Value #"]
    areas = plain[(plain["Area Type"] != synthetic.ENGLAND_TYPE) & plain["Value #"].notna()]
    benchmark = england.reindex(pd.MultiIndex.from_frame(areas[keys])).to_numpy()
    labels = [
        compare_to_benchmark(v, lo, hi, b, polarity[i])
        for v, lo, hi, b, i in zip(areas["Value #"], areas["Lower CI 95.0 limit #"],
                                   areas["Upper CI 95.0 limit #"], benchmark, areas["Indicator ID"],
                                   strict=True)
    ]
    assert list(areas["Compared to England value or percentiles"]) == [str(label) for label in labels]
    counts = areas["Compared to England value or percentiles"].value_counts()
    assert {"Better", "Similar", "Worse", "Higher"} <= set(counts.index)


def test_recent_trend_is_shown_on_the_latest_period_only(fingertips):
    plain = fingertips[fingertips["Category"] == ""]
    latest = plain["New data"] == "New data"
    assert (plain.loc[~latest, "Recent Trend"] == "").all()
    trends = plain.loc[latest, "Recent Trend"]
    assert (trends != "").all()
    assert {"No significant change", "Increasing and getting better", "Decreasing and getting worse"} <= set(trends)


def test_planted_stories_for_the_home_area(fingertips):
    home = fingertips[(fingertips["Area Code"] == synthetic.HOME_AREA) & (fingertips["Sex"] == "Persons")
                      & (fingertips["New data"] == "New data")].set_index("Indicator ID")
    compared = home["Compared to England value or percentiles"]
    assert compared["93015"] == "Worse" and compared["20602"] == "Worse" and compared["90812"] == "Worse"
    assert home.loc["90280", "Recent Trend"] == "Decreasing and getting worse"
    assert home.loc["93014", "Recent Trend"] == "Increasing and getting better"


# --- strategy -------------------------------------------------------------------------


def test_strategy_objectives_themes_indicators_and_stakeholders(strategy):
    assert strategy.home_area == synthetic.HOME_AREA
    assert [o.id for o in strategy.objectives] == [
        "active-lives", "healthy-food", "connected-communities", "mental-wellbeing"]
    themes = pd.Series([t.objective for t in strategy.themes]).value_counts()
    assert themes.between(3, 4).all() and len(themes) == 4
    assert all(len(t.keywords) >= 8 for t in strategy.themes)
    assert {i.calculator for i in strategy.indicators} == {"proportion", "crude_rate", "dsr"}
    assert 15 <= len(strategy.stakeholders) <= 25
    assert {s.sector for s in strategy.stakeholders} == set(SECTORS)


# --- voices ---------------------------------------------------------------------------


def test_sources_yaml_names_files_that_exist():
    sources = yaml.safe_load((COMMITTED / "voices" / "sources.yaml").read_text(encoding="utf-8"))
    files = [item["file"] for item in sources["contributions"] + sources["votes"]]
    assert len(files) == 6
    for name in files:
        assert (COMMITTED / "voices" / name).is_file(), name


def test_postit_wall(strategy):
    postits = voices("unconference_postits.csv")
    assert list(postits.columns) == CONTRIBUTION_COLUMNS
    assert len(postits) >= 150 and postits["contribution_id"].is_unique
    assert (postits["kind"] == "post_it").all() and (postits["theme"] == "").all()
    assert (postits["area_code"] == synthetic.HOME_AREA).all()
    assert 40 <= postits["author"].nunique() <= 60
    sectors = postits["sector"].value_counts()
    assert set(sectors.index) == set(SECTORS)
    assert sectors.idxmin() in ("business", "other") and sectors["business"] < sectors["resident"] / 4
    assert pd.to_datetime(postits["created_at"], format="ISO8601", utc=True).notna().all()
    text = postits["text"]
    assert text.str.contains(r"[\w.]+@[\w.]+\.\w+", regex=True).any()  # an email address to mask
    assert text.str.contains(r"07700 ?900\d{3}", regex=True).any()  # a phone number to mask
    # A showcase, not a test bench: no markup or formulas (hostile text is in the tests).
    assert not text.str.contains(r"<\w+|^[=+@-]", regex=True).any()
    assert text.str.len().max() > 300
    listed = {s.organisation for s in strategy.stakeholders} | {""}
    assert set(postits["organisation"]) <= listed


def test_open_space_proceedings():
    reports = voices("open_space_proceedings.csv")
    assert list(reports.columns) == ["Convener", "Topic", "Participants", "Summary", "Recommendations"]
    assert 8 <= len(reports) <= 12
    assert (reports[["Topic", "Summary", "Recommendations"]] != "").all().all()


def test_dot_vote_on_themes(strategy):
    dots = pd.read_csv(COMMITTED / "voices" / "dot_votes.csv")
    assert list(dots.columns) == ["participant", "item", "vote"]
    assert (dots.groupby("participant")["vote"].sum() == 5).all()
    assert dots["vote"].between(1, 3).all()
    assert not dots.duplicated(["participant", "item"]).any()
    themes = {t.id for t in strategy.themes}
    emergent = set(dots["item"]) - themes
    assert 1 <= len(emergent) <= 2
    assert dots["participant"].nunique() >= 40


def test_poll_has_consensus_and_division():
    statements = voices("poll_statements.csv")
    assert list(statements.columns) == CONTRIBUTION_COLUMNS
    assert list(statements["contribution_id"]) == [f"s{i:02d}" for i in range(1, 21)]
    assert (statements["kind"] == "statement").all()
    votes = pd.read_csv(COMMITTED / "voices" / "poll_votes.csv", dtype={"participant": str, "item": str})
    assert set(votes["vote"]) == {-1, 0, 1}
    assert set(votes["item"]) <= set(statements["contribution_id"])
    assert not votes.duplicated(["participant", "item"]).any()
    assert votes["participant"].nunique() >= 40
    sector = synthetic.participants().set_index("participant")["sector"]
    group = votes["participant"].map(sector).map(
        {"resident": "community", "vcse": "community", "council": "system", "nhs": "system"})
    agree = (votes["vote"] == 1).groupby([votes["item"], group]).mean().unstack()
    assert (agree.loc[["s01", "s05"]] > 0.7).all().all()  # broad agreement
    assert (agree.loc["s07"] < 0.2).all()  # broad disagreement
    division = (agree["system"] - agree["community"]).abs()
    assert (division.loc[["s03", "s10", "s20"]] > 0.4).all()


def test_forum_posts():
    posts = voices("forum_posts.csv")
    assert list(posts.columns) == CONTRIBUTION_COLUMNS
    assert len(posts) >= 30 and (posts["kind"] == "forum_post").all()
    assert posts["contribution_id"].is_unique


# --- actions --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actions(strategy) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example register must be clean
        return read_actions(COMMITTED / "actions.csv", strategy=strategy)


def test_actions_register_size_organisations_sectors_and_statuses(actions, strategy):
    assert len(actions) >= 40
    organisations = set(actions["lead_org"]) | {o for orgs in actions["partner_orgs"] for o in orgs}
    assert len(organisations) >= 15
    assert {strategy.sector_of(o) for o in organisations} == set(SECTORS)
    assert set(actions["status"]) == set(ACTION_STATUSES)


def test_actions_answer_real_contributions_and_themes(actions, strategy):
    known = set(voices("unconference_postits.csv")["contribution_id"]) | set(
        voices("forum_posts.csv")["contribution_id"]) | {t.id for t in strategy.themes}
    answered = [item for items in actions["responds_to"] for item in items]
    assert len(answered) >= 40
    assert set(answered) <= known
    assert any(item.startswith("PI-") for item in answered) and any(item.startswith("F-") for item in answered)


def test_deliberate_gaps(actions, strategy, fingertips):
    dots = pd.read_csv(COMMITTED / "voices" / "dot_votes.csv")
    top_three = dots.groupby("item")["vote"].sum().nlargest(3).index
    assert "food-environment" in top_three
    on_theme = actions[actions["themes"].map(lambda themes: "food-environment" in themes)]
    assert len(on_theme) > 0 and not on_theme["status"].isin(["active", "planned"]).any()
    linked = {i for items in actions["linked_indicators"] for i in items}
    assert "90812" not in linked
    home = fingertips[(fingertips["Area Code"] == synthetic.HOME_AREA) & (fingertips["New data"] == "New data")
                      & (fingertips["Indicator ID"] == "90812")]
    assert (home["Compared to England value or percentiles"] == "Worse").all()
    by_objective = actions.explode("objectives").assign(
        organisations=lambda a: [[lead, *partners] for lead, partners in zip(a["lead_org"], a["partner_orgs"],
                                                                               strict=True)]
    ).explode("organisations")
    sectors = by_objective["organisations"].map(strategy.sector_of).groupby(by_objective["objectives"]).nunique()
    assert sectors["connected-communities"] == 1 and (sectors.drop("connected-communities") > 1).all()
