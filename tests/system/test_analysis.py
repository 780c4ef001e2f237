"""Tests for hwb_toolkit.system.analysis: coverage, gaps, connections and loop closure."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError, InputError, SchemaError
from hwb_toolkit.system import (
    connections,
    coverage,
    gaps,
    load_strategy,
    loop_closure,
    read_actions,
    top_voted,
)

REGISTER = """\
action_id,title,lead_org,partner_orgs,objectives,themes,status,linked_indicators,responds_to
A01,Led walks,Example City Council,Age Well,active-lives,walking-cycling,active,,pi-3
A02,Bike loans,Pedal Co,,,walking-cycling,planned,,walking-cycling
A03,Pocket parks,Example City Council,,,parks,done,93014,
A04,Park run,Example NHS Trust,,,parks,stopped,,
A05,Lunch club,Age Well,Cycle Hub,connected,,idea,,pi-9
A06,Befriending,Age Well,,,loneliness,active,,loneliness
A07,Social prescribing walks,example nhs trust,,,walking-cycling,planned,,
A08,Park cafe,Pedal Co,,,parks,idea,,
"""

VOICES = pd.DataFrame(
    {
        "item": ["walking-cycling", "pi-9", "parks", "pi-3", "loneliness", "pi-4"],
        "label": [
            "Walking and cycling",
            "A place to eat together",
            "Parks and green space",
            "Safer paths",
            "Loneliness",
            "Dog bins",
        ],
        "score": [12, 10, 10, 7, 2, 0],
        "theme": [None, "loneliness", None, "walking-cycling", None, "parks"],
    }
)

SUMMARY = pd.DataFrame(
    {
        "indicator_id": [93014, 93014, 90641, 92000],
        "indicator_name": ["Active adults", "Active adults", "Loneliness", "Other thing"],
        "sex": ["Persons", "Male", "Persons", "Female"],
        "age": ["19+ yrs", "19+ yrs", "18+ yrs", "All ages"],
        "period": ["2023/24"] * 4,
        "value": [60.1, 70.0, 25.0, 5.5],
        "england_value": [67.3, 67.0, 24.0, 4.0],
        "compared_to_england": ["Worse", "Better", "Similar", "Worst"],
        "recent_trend": [
            "No significant change",
            "Increasing and getting better",
            "Increasing and getting worse",
            "Cannot be calculated",
        ],
    }
)


@pytest.fixture
def actions(make_file):
    return read_actions(make_file("actions.csv", REGISTER))


def test_coverage(strategy, actions):
    result = coverage(strategy, actions)
    expected = pd.DataFrame(
        {
            "level": ["objective", "theme", "theme", "objective", "theme"],
            "objective": ["active-lives", "active-lives", "active-lives", "connected", "connected"],
            "theme": pd.Series([None, "walking-cycling", "parks", None, "loneliness"], dtype="str"),
            "title": [
                "Active lives",
                "Walking and cycling",
                "Parks and green space",
                "Connected communities",
                "Loneliness",
            ],
            "idea": [1, 0, 1, 1, 0],
            "planned": [2, 2, 0, 0, 0],
            "active": [1, 1, 0, 1, 1],
            "done": [1, 0, 1, 0, 0],
            "stopped": [1, 0, 1, 0, 0],
            "n_actions": [6, 3, 3, 2, 1],
            "organisations": [
                ["Age Well", "Example City Council", "Example NHS Trust", "Pedal Co"],
                ["Age Well", "Example City Council", "Example NHS Trust", "Pedal Co"],
                ["Example City Council", "Pedal Co"],
                ["Age Well", "Cycle Hub"],
                ["Age Well"],
            ],
            "n_organisations": [4, 4, 2, 2, 1],
            "sectors": [
                ["council", "nhs", "vcse", "business"],
                ["council", "nhs", "vcse", "business"],
                ["council", "business"],
                ["vcse", "unknown"],
                ["vcse"],
            ],
            "n_sectors": [4, 4, 2, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_coverage_of_an_empty_register_keeps_every_row(strategy, actions):
    result = coverage(strategy, actions.iloc[0:0])
    assert result["objective"].tolist() == [
        "active-lives",
        "active-lives",
        "active-lives",
        "connected",
        "connected",
    ]
    assert (
        result[["idea", "planned", "active", "done", "stopped", "n_actions"]].to_numpy().sum() == 0
    )
    assert result["organisations"].tolist() == [[]] * 5


def test_gaps(strategy, actions):
    before = actions.copy(deep=True), VOICES.copy(), SUMMARY.copy()
    result = gaps(strategy, actions, SUMMARY, VOICES)
    expected = pd.DataFrame(
        {
            "kind": [
                "voted_theme_without_action",
                "indicator_without_action",
                "indicator_without_action",
                "indicator_without_action",
                "single_sector_objective",
            ],
            "objective": pd.Series(
                ["active-lives", None, "active-lives", "connected", "connected"], dtype="str"
            ),
            "theme": pd.Series(["parks", None, "walking-cycling", None, None], dtype="str"),
            "item": ["parks", "92000", "93014", "90641", "connected"],
            "label": [
                "Parks and green space",
                "Other thing",
                "Physically active adults",
                "Loneliness",
                "Connected communities",
            ],
            "detail": [
                "voted high by partners (score 10, 2nd of 6 items) but no planned or active "
                "action names this theme or responds to it "
                "(other actions, done: A03; idea: A08; stopped: A04)",
                "Female, All ages: 'Worst' compared with England (5.5 vs 4) in 2023/24; "
                "no planned or active action lists indicator 92000 in linked_indicators",
                "Persons, 19+ yrs: 'Worse' compared with England (60.1 vs 67.3) in 2023/24; "
                "no planned or active action lists indicator 93014 in linked_indicators "
                "(other actions, done: A03); planned or active actions on its theme "
                "'walking-cycling' that could link it: A01, A02, A07",
                "Persons, 18+ yrs: trend 'Increasing and getting worse' in 2023/24; "
                "no planned or active action lists indicator 90641 in linked_indicators",
                "only vcse organisations (Age Well) work on its 1 planned or active action",
            ],
            "score": [10.0, 3.0, 2.0, 1.0, 1.0],
        }
    )
    pd.testing.assert_frame_equal(result, expected)
    # Pure: the inputs are unchanged.
    pd.testing.assert_frame_equal(actions, before[0])
    pd.testing.assert_frame_equal(VOICES, before[1])
    pd.testing.assert_frame_equal(SUMMARY, before[2])


def test_gaps_voted_contribution_places_its_theme(strategy, actions):
    # Only the contribution pi-4 (theme parks) is voted high; parks has no current action.
    voices = VOICES.assign(score=[0, 0, 0, 0, 0, 5])
    result = gaps(strategy, actions, None, voices)
    first = result.iloc[0]
    assert (first["kind"], first["theme"], first["score"]) == (
        "voted_theme_without_action",
        "parks",
        5.0,
    )
    assert first["detail"].startswith(
        "voted high by partners (pi-4 'Dog bins', score 5, 1st of 6 items) but no planned"
    )


def test_gaps_objective_without_action_and_single_sector(strategy, actions):
    result = gaps(strategy, actions.iloc[0:0], None, None)
    assert result[["kind", "item", "score"]].values.tolist() == [
        ["objective_without_action", "active-lives", 0.0],
        ["objective_without_action", "connected", 0.0],
    ]
    unknown_only = actions[actions["action_id"].isin(["A06"])].assign(
        lead_org="Cycle Hub", status="planned"
    )
    result = gaps(strategy, unknown_only, None, None)
    assert result.loc[result["item"] == "connected", "detail"].tolist() == [
        "the sector of every organisation on its 1 planned or active action is unknown; "
        "not in the stakeholder list, sector unknown: Cycle Hub"
    ]


def test_connections(strategy, actions):
    result = connections(actions, strategy)
    pd.testing.assert_frame_equal(
        result.nodes,
        pd.DataFrame(
            {
                "organisation": [
                    "Age Well",
                    "Example City Council",
                    "Pedal Co",
                    "Cycle Hub",
                    "Example NHS Trust",
                ],
                "sector": ["vcse", "council", "business", "unknown", "nhs"],
                "n_actions": [3, 2, 2, 1, 1],
                "n_led": [2, 2, 2, 0, 1],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        result.edges,
        pd.DataFrame(
            {
                "org_a": ["Age Well", "Age Well"],
                "org_b": ["Cycle Hub", "Example City Council"],
                "sector_a": ["vcse", "vcse"],
                "sector_b": ["unknown", "council"],
                "shared_actions": [1, 1],
                "action_ids": [["A05"], ["A01"]],
            }
        ),
    )
    suggestions = result.suggestions
    assert suggestions[["org_a", "org_b", "theme", "n_shared_themes"]].values.tolist() == [
        ["Example City Council", "Pedal Co", "walking-cycling", 2],
        ["Example City Council", "Pedal Co", "parks", 2],
        ["Age Well", "Example NHS Trust", "walking-cycling", 1],
        ["Age Well", "Pedal Co", "walking-cycling", 1],
        ["Example City Council", "Example NHS Trust", "walking-cycling", 1],
        ["Example NHS Trust", "Pedal Co", "walking-cycling", 1],
    ]
    assert suggestions["reason"].iloc[1] == (
        "both work on Parks and green space (Example City Council: A03; Pedal Co: A08) "
        "but share no action"
    )
    assert suggestions["actions_a"].iloc[0] == ["A01"]
    assert suggestions["actions_b"].iloc[0] == ["A02"]
    # Age Well and the council share A01, so they are never told to talk.
    pairs = set(zip(suggestions["org_a"], suggestions["org_b"], strict=True))
    assert ("Age Well", "Example City Council") not in pairs
    # Deterministic: row order of the register does not change the result.
    shuffled = connections(actions.iloc[::-1].reset_index(drop=True), strategy)
    pd.testing.assert_frame_equal(shuffled.nodes, result.nodes)
    pd.testing.assert_frame_equal(shuffled.suggestions, result.suggestions)


def test_loop_closure(actions):
    result = loop_closure(VOICES, actions)
    expected = pd.DataFrame(
        {
            "item": ["walking-cycling", "parks", "pi-9"],
            "label": ["Walking and cycling", "Parks and green space", "A place to eat together"],
            "score": [12.0, 10.0, 10.0],
            "theme": pd.Series([None, None, "loneliness"], dtype="str"),
            "rank": [1, 2, 2],
            "answered": [True, False, True],
            "answered_via": pd.Series(["item", None, "theme"], dtype="str"),
            "action_ids": [["A02"], [], ["A06", "A05"]],
            "statuses": [["planned"], [], ["active", "idea"]],
            "best_status": pd.Series(["planned", None, "active"], dtype="str"),
        }
    )
    pd.testing.assert_frame_equal(result.items, expected)
    assert result.share_answered == pytest.approx(2 / 3)


def test_loop_closure_over_every_positive_item(actions):
    result = loop_closure(VOICES, actions, top_share=None)
    assert result.items["item"].tolist() == [
        "walking-cycling",
        "parks",
        "pi-9",
        "pi-3",
        "loneliness",
    ]
    assert result.items["answered"].tolist() == [True, False, True, True, True]
    assert result.share_answered == pytest.approx(4 / 5)
    idea_only = actions.assign(status="idea")
    assert loop_closure(VOICES, idea_only).share_answered == 0.0
    nobody = VOICES.assign(score=0)
    assert np.isnan(loop_closure(nobody, actions).share_answered)


def test_top_voted_ties_and_bad_priorities():
    top = top_voted(VOICES)
    assert top[["item", "rank", "n_items"]].values.tolist() == [
        ["walking-cycling", 1, 6],
        ["parks", 2, 6],
        ["pi-9", 2, 6],
    ]
    assert top_voted(VOICES, 1 / 6)["item"].tolist() == ["walking-cycling"]
    with pytest.raises(InputError, match="item 'parks' appears more than once"):
        top_voted(pd.concat([VOICES, VOICES.iloc[[2]]]))
    with pytest.raises(SchemaError, match="'score'"):
        top_voted(VOICES.drop(columns="score"))
    with pytest.raises(InputError, match="the item id of row 1 \\(label 'A place to eat"):
        top_voted(VOICES.assign(item=["walking-cycling", " ", "parks", "pi-3", "x", "y"]))
    numbered = top_voted(pd.DataFrame({"item": [12.0, 7.0], "label": ["a", "b"], "score": [3, 1]}))
    assert numbered["item"].tolist() == ["12"]
    with pytest.raises(InputError, match="score 'lots' of item 'pi-9' is not a number"):
        top_voted(VOICES.astype({"score": object}).assign(score=[1, "lots", 1, 1, 1, 1]))


def test_analyses_refuse_unknown_ids_naming_the_row(strategy, actions):
    broken = actions.copy()
    broken.at[2, "themes"] = ["park"]
    broken.attrs.clear()
    for analysis in (
        lambda: coverage(strategy, broken),
        lambda: gaps(strategy, broken, None, None),
        lambda: connections(broken, strategy),
    ):
        with pytest.raises(ConfigError) as caught:
            analysis()
        assert (caught.value.row, caught.value.column) == (4, "themes")
        assert "'park' is not the id of any theme in the strategy (did you mean 'parks'?)" in str(
            caught.value
        )


def test_analyses_refuse_duplicate_action_ids(strategy, actions):
    doubled = pd.concat([actions, actions.iloc[[0]]], ignore_index=True)
    doubled.attrs.clear()
    with pytest.raises(
        InputError, match="row 10, column 'action_id': action id 'A01' is used twice"
    ):
        coverage(strategy, doubled)
    with pytest.raises(InputError, match="rows 2 and 10"):
        loop_closure(VOICES, doubled)


# --- the example workspace (written by another helper) --------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "hwb_toolkit" / "example_workspace"


def test_example_workspace_runs_all_four_analyses():
    strategy_file, actions_file = EXAMPLE / "strategy.yaml", EXAMPLE / "actions.csv"
    if not (strategy_file.exists() and actions_file.exists()):
        pytest.skip(f"example workspace not found at {EXAMPLE} (strategy.yaml and actions.csv)")
    strategy = load_strategy(strategy_file)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        actions = read_actions(actions_file, strategy)
    assert [str(w.message) for w in recorded] == [], "the example register should be clean"
    # The issue asks for a realistic register: 40+ actions from 15+ organisations, every sector.
    assert len(actions) >= 40
    assert actions["responds_to"].str.len().gt(0).any(), "some actions answer contributions"

    covered = coverage(strategy, actions)
    assert covered["n_actions"].sum() > 0
    objective_rows = covered[covered["level"] == "objective"]
    assert objective_rows["objective"].tolist() == [o.id for o in strategy.objectives]

    network = connections(actions, strategy)
    involved = network.nodes[network.nodes["n_actions"] > 0]
    assert len(involved) >= 15
    assert set(involved["sector"]) >= {"council", "nhs", "vcse", "business"}
    assert len(network.edges) > 0
    assert network.suggestions["reason"].str.startswith("both work on ").all()

    # Priorities: the workshop's dot votes on themes, tallied.
    dots = pd.read_csv(EXAMPLE / "voices" / "dot_votes.csv", dtype={"item": str})
    tally = dots.groupby("item", as_index=False)["vote"].sum().rename(columns={"vote": "score"})
    titles = dict(
        zip(strategy.themes_frame()["theme"], strategy.themes_frame()["title"], strict=True)
    )
    voices = tally.assign(label=tally["item"].map(titles).fillna(tally["item"]))

    summary = None
    fingertips = EXAMPLE / "indicators" / "fingertips_all_data.csv"
    if fingertips.exists() and strategy.home_area:
        from hwb_toolkit.io.fingertips import read_fingertips_csv

        data = read_fingertips_csv(fingertips, cache=False)
        home = data[(data["area_code"] == strategy.home_area) & data["category"].isna()]
        latest = home.groupby(["indicator_id", "sex", "age"])["period_sortable"].transform("max")
        summary = home[home["period_sortable"] == latest]
        assert len(summary) > 0

    found = gaps(strategy, actions, summary, voices)
    assert set(found["kind"]) <= {
        "voted_theme_without_action",
        "indicator_without_action",
        "single_sector_objective",
        "objective_without_action",
    }
    assert found["detail"].str.len().gt(20).all()
    closure = loop_closure(voices, actions)
    assert len(closure.items) >= 1
    assert 0.0 <= closure.share_answered <= 1.0
    assert closure.share_answered == closure.items["answered"].mean()
