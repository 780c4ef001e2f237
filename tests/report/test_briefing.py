"""Tests for hwb_toolkit.briefing and hwb_toolkit.sections on the example workspace.

The briefing is assembled in-process here (fast); tests/report/test_monthly_briefing.py
executes the notebook itself with Papermill.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from hwb_toolkit import charts
from hwb_toolkit.indicators import summarise_area
from hwb_toolkit.report.build import belongs_to_area, build_briefing, compute_shared_tables
from hwb_toolkit.report.numbers import published_themes
from hwb_toolkit.report.sections import SECTIONS, render_section, section_context
from hwb_toolkit.report.sections.first_part import headline_items
from hwb_toolkit.report.sections.objectives import gap_sentences
from hwb_toolkit.report.shared import SharedTables
from hwb_toolkit.report.summary import summary_json, write_summary
from hwb_toolkit.text.numbers import format_value
from hwb_toolkit.text.templates import render
from hwb_toolkit.workspace import Workspace, init_workspace

HOME = "E08000021"  # Newcastle upon Tyne, the example partnership's home area
OTHER = "E06000001"  # Hartlepool: indicator data only


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("ws") / "workspace")


@pytest.fixture(scope="module")
def home(workspace):
    return build_briefing(workspace, HOME, "2026-11")


@pytest.fixture(scope="module")
def other(workspace):
    return build_briefing(workspace, OTHER, "2026-11")


def test_area_rule_for_voices_and_actions():
    codes = pd.Series(["E1", None, "", "E2"], dtype="string")
    assert belongs_to_area(codes, "E1", "E1").tolist() == [True, True, True, False]
    assert belongs_to_area(codes, "E2", "E1").tolist() == [False, False, False, True]
    assert belongs_to_area(codes, "E2", None).tolist() == [False, True, True, True]


def test_indicator_rows_match_the_engine(workspace, home):
    ws = Workspace.open(workspace)
    engine = summarise_area(ws.indicators[ws.indicators["category_type"].isna()], HOME,
                            polarity=ws.strategy.polarity())
    merged = home.indicators.merge(engine, on=["indicator_id", "sex", "age"], suffixes=("", "_engine"))
    assert len(merged) == len(home.indicators) == len(engine)
    pd.testing.assert_series_equal(merged["value"], merged["value_engine"], check_names=False)
    assert (merged["compared_to_england"] == merged["compared_to_england_engine"]).all()
    # Strategy order and units come from strategy.yaml.
    assert home.indicators["indicator_id"].drop_duplicates().tolist()[:3] == [93014, 93015, 93088]
    units = dict(zip(home.indicators["indicator_id"], home.indicators["unit"], strict=False))
    assert units[93014] == "%" and units[41001] == "per 100,000"


def test_voices_and_actions_belong_to_the_home_area_only(home, other):
    assert len(home.voices.contributions) > 150
    assert home.voices.opinion is not None and home.voices.opinion.k >= 2
    assert len(home.actions) >= 40
    assert other.voices.empty and other.actions.empty
    assert other.loop.items.empty


def test_headline_has_three_items_led_by_the_data(home):
    items = headline_items(home)
    assert len(items) == 3
    # Under-18 mental health admissions are planted far worse than England in the example data.
    assert items[0]["title"].startswith("Hospital admissions for mental health conditions")
    row = home.indicators.set_index("indicator_id").loc[90812]
    assert format_value(row["value"], "per 100,000") in items[0]["text"]
    assert any(item["title"].startswith(("Partners", "Where partners")) for item in items)


def test_gap_sentences_are_plain_and_name_the_gap(home):
    mental = gap_sentences(home, "mental-wellbeing")
    assert any(s.startswith("Hospital admissions for mental health conditions, under 18s, is significantly worse")
               for s in mental)
    assert not any("linked_indicators" in s or re.search(r"\bA\d{3}\b", s) for s in mental)
    assert any("Takeaways, shops and advertising" in s for s in gap_sentences(home, "healthy-food"))


@pytest.mark.parametrize("section", [s for s in SECTIONS if s != "objective"])
def test_every_section_renders_for_both_areas(home, other, section):
    for briefing in (home, other):
        html = render(section, **section_context(briefing, section))
        # An area without voices or actions has no poll, "you said, we did" or conversations
        # to show: those sections are left out rather than saying so.
        if briefing is other and section in ("consensus", "loop", "conversations"):
            assert html.strip() == ""
        else:
            assert re.search(r"<h[12][ >]", html)


def test_objective_sections_show_each_indicator_sentence_and_chart(home):
    context = section_context(home, "objective", objective="active-lives")["objective"]
    rows = home.indicators[home.indicators["objective"] == "active-lives"]
    assert [i["name"] for i in context["indicators"]] == rows["indicator_name"].tolist()
    html = render("objective", objective=context)
    for row in rows.to_dict("records"):
        assert format_value(row["value"], row["unit"]) in html
    assert html.count("<svg") >= len(rows)
    assert context["themes"] and all(q["attribution"] for t in context["themes"] for q in t["quotes"])


def test_sections_built_ahead_are_the_ones_shown_and_used_once(workspace, home):
    ahead = build_briefing(workspace, HOME, "2026-11", charts_in_child_process=True)
    # The spine, every trend chart shown and the voices' charts (the network of actions, the
    # opinion map, each objective's themes) are built once, ahead, and kept.
    shown_rows = ahead.indicators[ahead.indicators["objective"].notna()]
    spoken = set(home.voices.themes.loc[home.voices.themes["size"] > 0, "theme"])
    with_themes = {theme.objective for theme in home.strategy.themes if theme.id in spoken}
    assert with_themes and home.voices.opinion is not None and len(home.connections.edges)
    assert set(ahead.figures) == {("glance",), ("network",), ("opinion",)} | {
        ("themes", objective) for objective in with_themes
    } | {("trend", r["indicator_id"], r["sex"], r["age"]) for r in shown_rows.to_dict("records")}
    keys = set(ahead.prepared_sections)
    assert ("glance",) in keys and ("data_notes",) in keys
    assert {key for key in keys if key[0] == "objective"} == {
        ("objective", ("objective", o)) for o in ahead.objectives
    }
    # The page built ahead is the page built on demand (charts drawn in the child process).
    for key in sorted(keys):
        section, extra = key[0], dict(key[1:])
        shown = render_section(ahead, section, **extra).data
        assert (section, *sorted(extra.items())) not in ahead.prepared_sections
        assert shown == render(section, **section_context(home, section, **extra))
    assert not ahead.prepared_sections
    # Without a drawing process nothing is built ahead.
    assert not home.prepared_sections


def test_hostile_contribution_text_is_escaped_in_sections(workspace):
    ws = Workspace.open(workspace)
    shared = compute_shared_tables(ws)
    hostile = shared.contributions.iloc[[0]].copy()
    hostile["contribution_id"] = "hostile-1"
    hostile["text"] = "<img src=x onerror=alert(1)> walking paths <script>alert(1)</script>"
    shared.contributions = pd.concat([shared.contributions, hostile], ignore_index=True)
    folder = workspace / ".prepared-test"
    shared.save(folder)
    briefing = build_briefing(workspace, HOME, "2026-11", prepared=folder)
    html = "".join(
        render("objective", **section_context(briefing, "objective", objective=o))
        for o in briefing.objectives
    )
    assert "<script>alert" not in html and "<img src=x" not in html


def test_prepared_tables_round_trip(workspace, tmp_path):
    shared = compute_shared_tables(Workspace.open(workspace))
    shared.save(tmp_path)
    loaded = SharedTables.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.summaries, shared.summaries)
    assert loaded.actions["responds_to"].map(type).eq(list).all()
    assert loaded.actions["partner_orgs"].tolist() == shared.actions["partner_orgs"].tolist()


def test_summary_json_matches_the_engine_tables(home, tmp_path):
    path = write_summary(home, tmp_path)
    summary = json.loads(path.read_text())
    assert summary["area_code"] == HOME and summary["area_name"] == "Newcastle upon Tyne"
    assert len(summary["headline"]) == 3
    by_id = {(i["indicator_id"], i["sex"]): i for i in summary["indicators"]}
    row = home.indicators.set_index(["indicator_id", "sex"]).loc[(93015, "Persons")]
    assert by_id[(93015, "Persons")]["value"] == pytest.approx(row["value"], rel=1e-12)
    assert by_id[(93015, "Persons")]["compared_to_england"] == row["compared_to_england"]
    assert summary["actions"]["total"] == len(home.actions)


def test_small_counts_are_suppressed_in_the_summary(workspace, tmp_path):
    briefing = build_briefing(workspace, HOME, "2026-11", suppress_below=500)
    summary = summary_json(briefing)
    assert summary["voices"]["contributions"] == "fewer than 500"
    assert summary["voices"]["participants"] == "fewer than 500"


@pytest.mark.parametrize("below", [5, 8, 12])
def test_sector_counts_beside_a_theme_total_cannot_give_a_small_count_away(workspace, below):
    briefing = build_briefing(workspace, HOME, "2026-11", suppress_below=below)
    themes = briefing.voices.themes[briefing.voices.themes["size"] > 0]
    withheld_somewhere = False
    for objective in briefing.objectives:
        context = section_context(briefing, "objective", objective=objective)["objective"]
        for theme in context["themes"]:
            raw = themes.loc[themes["label"] == theme["title"]].iloc[0]
            counts = [part["count"] for part in theme["by_sector"]]
            assert not any(isinstance(n, int) and 0 < n < below for n in counts)
            # Contributions with no sector are a part too ("sector not recorded").
            hidden = [dict(raw["sectors"])[part["sector"] or "unknown"] for part in theme["by_sector"]
                      if isinstance(part["count"], str)]
            # A total shown beside its parts leaves at least two parts unknown, or none; the
            # parts add up to it; a hidden total has no split beside it.
            if isinstance(theme["count"], int):
                assert len(hidden) != 1
                assert sum(dict(raw["sectors"]).values()) == theme["count"]
                assert len(theme["by_sector"]) == len(raw["sectors"])
            else:
                assert theme["by_sector"] == []
            withheld_somewhere |= bool(hidden)
    assert withheld_somewhere or below == 5  # the larger thresholds do withhold something
    published = published_themes(themes, below)
    chart = charts.theme_chart(published)
    drawn = [row for layer in chart.to_dict()["layer"] for row in layer.get("data", {}).get("values", [])
             if "sector" in row and "count" in row]
    by_sector = [row for row in drawn if row["sector"] != "Small numbers, not shown"]
    assert (by_sector or below > 5) and not any(0 < row["count"] < below for row in by_sector)
    # The withheld counts are drawn together, as what the shown ones leave of the total:
    # nothing a reader could not work out from the numbers printed beside it.
    for row in drawn:
        if row["sector"] == "Small numbers, not shown":
            shown = sum(r["count"] for r in by_sector if r["row"] == row["row"])
            total = max(r["end"] for r in drawn if r["row"] == row["row"])
            assert row["count"] == total - shown


def test_changes_compare_with_last_months_summary(workspace, home, tmp_path):
    last_month = summary_json(home)
    moved = next(i for i in last_month["indicators"] if i["indicator_id"] == 93015)
    moved["compared_to_england"] = "Similar"
    stale = next(i for i in last_month["indicators"] if i["indicator_id"] == 93014)
    stale["period"] = "2022/23"
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(last_month))
    briefing = build_briefing(workspace, HOME, "2026-12", previous_summary=path)
    changes = section_context(briefing, "changes")
    assert [c["indicator_name"] for c in changes["new_data"]] == ["Percentage of physically active adults"]
    changed = {c["indicator_name"]: c for c in changes["changed_significance"]}
    assert changed["Percentage of physically inactive adults"]["previous_compared_to_england"] == "Similar"


def test_unknown_area_is_a_clear_error(workspace):
    from hwb_toolkit.errors import InputError

    with pytest.raises(InputError, match="E06999999"):
        build_briefing(workspace, "E06999999", "2026-11")


def test_a_post_it_added_in_the_store_reaches_next_months_briefing_escaped(tmp_path):
    workspace = init_workspace(tmp_path / "workspace")
    store = Workspace.open(workspace).store()
    hostile = "<img src=x onerror=alert(1)> we need benches on the riverside walk <script>alert(2)</script>"
    # Five residents' post-its: a sector's contributions are quoted only when their count is shown.
    store.add_contributions(pd.DataFrame([{
        "contribution_id": f"live-{n}", "source": "Workshop page", "session": "december-event",
        "kind": "post_it", "text": hostile if n == 1 else f"more benches by the river, please ({n})",
        "author": f"p_012345678900000{n}", "organisation": None,
        "sector": "resident", "created_at": pd.Timestamp(f"2026-12-0{n}T10:15:00Z"), "theme": None,
        "area_code": HOME,
    } for n in range(1, 6)]), by="test")
    briefing = build_briefing(workspace, HOME, "2026-12")
    context = section_context(briefing, "changes")
    assert context["new_contributions_total"] == 5
    assert {"text": hostile, "attribution": "a resident"} in context["new_contributions"]
    html = render("changes", **context)
    assert "&lt;img src=x onerror=alert(1)&gt; we need benches" in html
    assert "<img" not in html and "<script" not in html


def test_summary_json_is_valid_json_whatever_the_numbers(home, tmp_path):
    import copy

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    broken = copy.copy(home)
    broken.indicators = home.indicators.copy()
    broken.indicators.loc[broken.indicators.index[0], ["value", "upper_ci95"]] = float("inf")
    broken.indicators.loc[broken.indicators.index[1], "lower_ci95"] = float("-inf")
    path = write_summary(broken, tmp_path)
    summary = json.loads(path.read_text(), parse_constant=refuse)
    assert summary["indicators"][0]["value"] is None
    assert summary["indicators"][0]["upper_ci95"] is None
    assert summary["indicators"][1]["lower_ci95"] is None
