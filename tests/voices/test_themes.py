"""Tests for hwb_toolkit.voices.themes: keyword tagging, discovered themes, quotes, meta statements."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.voices import read_polis_export
from hwb_toolkit.voices.themes import find_themes, is_meta_statement, keyword_regex

TAXONOMY = {
    "walking-cycling": ["walk", "cycle", "bike", "path"],
    "healthy-food": ["food", "cooking", "allotment"],
    "loneliness": ["lonely", "isolation", "befriending"],
}


def contributions(texts, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"contribution_id": [f"c{i}" for i in range(len(texts))], "text": texts})
    for name, values in columns.items():
        frame[name] = values
    return frame


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("walk", "We walk to school", True),
        ("walk", "more WALKS", True),                # plurals, any case
        ("walk", "Walking groups for carers", False),  # another word: list "walking" to mean it
        ("park", "cars parked on the pavement", False),
        ("balance", "a balanced diet", False),
        ("walk", "a sidewalk cafe", False),          # whole words only
        ("walk", "the walkway is dark", False),
        ("cycle", "recycle more", False),
        ("path", "paths by the canal", True),
        ("bus", "two buses away", True),             # -es plural
        ("allotment", "Allotments!", True),
        ("befriending", "a befriending service", True),
        ("city", "cities", True),                    # y -> ies
        ("older people", "older people's groups", True),  # possessive
        ("green space", "more green  spaces", True),  # multi-word
        ("green space", "green open space", False),
    ],
)
def test_keyword_matching(keyword, text, matches):
    assert bool(keyword_regex([keyword]).search(text)) is matches


def test_keyword_tagging_picks_the_theme_with_most_hits():
    frame = contributions([
        "Safer cycle paths and somewhere to lock a bike",     # 3 walking-cycling hits
        "Cooking classes and food banks near the path",       # 2 food vs 1 walking
        "I feel lonely since my husband died",
        "Fix the potholes",                                    # nothing
        "Walk to the allotment",                               # tie 1-1: both themes
    ])
    result = find_themes(frame, TAXONOMY, n_themes=0)
    assignments = result.assignments.set_index("contribution_id")
    assert assignments["theme"].tolist()[:3] == ["walking-cycling", "healthy-food", "loneliness"]
    assert pd.isna(assignments.loc["c3", "theme"])
    assert assignments.loc["c4", "theme"] == "walking-cycling"  # the first is its main theme
    assert assignments.loc["c4", "themes"] == ["walking-cycling", "healthy-food"]
    assert assignments.loc["c1", "themes"] == ["healthy-food"]  # 2 hits to 1: one theme only
    assert assignments.loc["c3", "themes"] == []
    assert assignments["origin"].tolist() == ["keyword", "keyword", "keyword", "unthemed", "keyword"]
    themes = result.themes.set_index("theme")
    # A contribution under two themes counts in each.
    assert themes["size"].to_dict() == {"walking-cycling": 2, "healthy-food": 2, "loneliness": 1}
    assert "c4" in [cid for cid, _ in themes.loc["healthy-food", "quotes"]]
    assert set(themes["origin"]) == {"strategy"}


def test_given_themes_are_kept_and_unused_strategy_themes_listed_with_size_zero():
    frame = contributions(
        ["More benches", "Bike racks", "Bus passes for carers"],
        theme=["older-people", None, "older-people"],
    )
    result = find_themes(frame, TAXONOMY, n_themes=0)
    assert result.assignments["theme"].tolist() == ["older-people", "walking-cycling", "older-people"]
    assert result.assignments["origin"].tolist() == ["given", "keyword", "given"]
    themes = result.themes.set_index("theme")
    assert themes.loc["older-people", "origin"] == "given"
    assert themes.loc["healthy-food", "size"] == 0 and themes.loc["healthy-food", "quotes"] == []


def test_strategy_titles_become_labels():
    @dataclass
    class Theme:
        id: str
        title: str

    class Strategy:
        themes = [Theme("walking-cycling", "Walking and cycling")]

        def taxonomy(self):
            return {"walking-cycling": ["walk"]}

    result = find_themes(contributions(["walk more"]), Strategy(), n_themes=0)
    assert result.themes.loc[0, "label"] == "Walking and cycling"
    assert result.themes.loc[0, "size"] == 1


TRANSPORT = [
    "The bus service to the hospital is unreliable",
    "Buses stop running before evening shifts end",
    "Bus fares are too expensive for families",
    "We need a bus route to the retail park",
    "The bus timetable changes without notice",
    "Night buses would help shift workers",
    "Bus stops lack shelters and seating",
    "Cheaper bus fares for young people",
]
HOUSING = [
    "Damp housing is making children ill",
    "Landlords ignore mould in rented housing",
    "Social housing waiting lists are too long",
    "Overcrowded housing harms mental health",
    "Cold housing in winter because of energy costs",
    "Private landlords should fix damp quickly",
    "More affordable housing for local families",
    "Housing repairs take months to happen",
]


def test_discovered_themes_separate_clear_topics_deterministically():
    frame = contributions(TRANSPORT + HOUSING, sector=["nhs"] * 8 + ["vcse"] * 6 + [None] * 2)
    first = find_themes(frame, n_themes=2, seed=0)
    again = find_themes(frame, n_themes=2, seed=0)
    pd.testing.assert_frame_equal(first.assignments, again.assignments)
    pd.testing.assert_frame_equal(first.themes, again.themes)
    themes = first.assignments["theme"]
    # "Private landlords should fix damp quickly" does not use the housing theme's name: it
    # is left with what no phrase names rather than counted under "Housing".
    assert themes.iloc[:8].nunique() == 1 and themes.iloc[8:].drop(index=13).nunique() == 1
    assert themes.iloc[13] == "discovered-other"
    assert themes.iloc[0] != themes.iloc[8]
    assert set(first.assignments["origin"]) == {"discovered"}
    table = first.themes.set_index("theme")
    bus_theme, housing_theme = themes.iloc[0], themes.iloc[8]
    assert table.loc[bus_theme, "top_terms"][0] == "bus"
    assert table.loc[housing_theme, "top_terms"][0] == "housing"
    assert table.loc[housing_theme, "sectors"] == {"vcse": 5, "unknown": 2}
    assert table.loc[bus_theme, "sectors"] == {"nhs": 8}
    # Named by their most representative phrase, as written in a contribution.
    assert table.loc[housing_theme, "label"] == "Housing"
    assert table.loc[bus_theme, "label"].lower().startswith("bus")
    assert sorted(first.themes["theme"]) == ["discovered-1", "discovered-2", "discovered-other"]


def test_quotes_are_verbatim_traceable_and_not_repeated():
    texts = TRANSPORT + ["The bus service to the hospital is unreliable"]
    frame = contributions(texts)
    result = find_themes(frame, {"buses": ["bus"]}, n_themes=0)
    quotes = result.themes.loc[0, "quotes"]
    assert len(quotes) == 3
    by_id = frame.set_index("contribution_id")["text"]
    for contribution_id, quote in quotes:
        assert by_id[contribution_id] == quote
    assert len({quote for _, quote in quotes}) == 3
    # The first quote is the one closest to the theme's centre.
    membership = result.assignments.set_index("contribution_id")["membership"]
    assert membership[quotes[0][0]] == membership.max()


def test_automatic_number_of_themes_and_too_few_to_cluster():
    frame = contributions(TRANSPORT + HOUSING)
    result = find_themes(frame)
    assert 2 <= len(result.themes) <= 8
    tiny = find_themes(contributions(["One idea", "Another idea"]))
    assert tiny.themes.empty
    assert tiny.assignments["origin"].tolist() == ["unthemed", "unthemed"]


def test_missing_columns_and_duplicate_ids():
    with pytest.raises(InputError, match="'text'"):
        find_themes(pd.DataFrame({"contribution_id": ["a"]}))
    with pytest.raises(InputError, match="appears twice"):
        find_themes(pd.DataFrame({"contribution_id": ["a", "a"], "text": ["x", "y"]}))


@pytest.mark.parametrize(
    ("text", "meta"),
    [
        ("I am 55 years of age or older", True),
        ("I live in a rural area", True),
        ("I voted to Leave.", True),
        ("I identify as female.", True),
        ("My ethnicity is Arab.", True),
        ("English is my first language.", True),
        ("I had at least one encounter (good or bad) with the police.", True),
        ("Are you between 15 and 19 years old?", True),
        ("I think there are better ways to implement this.", False),
        ("I am opposed to the neoliberal economics the EU stands for, but voted to remain.", False),
        ("I have advocated for some time that the minimum wage needs to be increased.", False),
        ("The Single Market is important for the prosperity of the country.", False),
    ],
)
def test_meta_statement_detection(text, meta):
    assert bool(is_meta_statement(pd.Series([text])).iloc[0]) is meta


def test_meta_statements_only_among_poll_statements():
    frame = contributions(["I live in a town", "I live in a town"], kind=["statement", "post_it"])
    result = find_themes(frame, n_themes=0)
    assert result.meta_statements == ["c0"]
    assert result.assignments["origin"].tolist() == ["meta", "unthemed"]


@pytest.mark.reference
def test_meta_statements_flagged_in_real_polis_conversations(reference_dir):
    folder = reference_dir / "workshop" / "polis" / "scoop-hivemind.ubi"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    frame, _ = read_polis_export(folder)
    result = find_themes(frame, seed=0)
    # Statements 32-42 are the conversation's demographic questions ("I am male",
    # "I live in a city", "I am receiving ... WINZ allowance", ...).
    assert sorted(result.meta_statements, key=int) == [str(i) for i in range(32, 43)]
    assignments = result.assignments.set_index("contribution_id")
    assert (assignments.loc[result.meta_statements, "origin"] == "meta").all()
    assert assignments.loc[result.meta_statements, "theme"].isna().all()
    themed = assignments.drop(index=result.meta_statements)
    assert themed["theme"].notna().all()
    assert result.themes["size"].sum() == len(themed)


@pytest.mark.reference
@pytest.mark.parametrize(
    ("name", "meta_ids"),
    [
        ("london.youth.policing", ["1", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"]),
        ("scoop-hivemind.freshwater", [str(i) for i in range(24, 37)]),
        ("brexit-consensus", ["0", "1", "3", "10", "11", "15"]),
        ("15-per-hour-seattle", []),
    ],
)
def test_meta_statements_other_conversations(reference_dir, name, meta_ids):
    folder = reference_dir / "workshop" / "polis" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    frame, _ = read_polis_export(folder)
    assert sorted(find_themes(frame, n_themes=0).meta_statements, key=int) == meta_ids


def test_label_contributions_fills_the_theme_column():
    frame = contributions(["Bike racks please", "Fix the potholes"], theme=[None, None])
    result = find_themes(frame, TAXONOMY, n_themes=0)
    labelled = result.label_contributions(frame)
    assert labelled["theme"].iloc[0] == "walking-cycling" and pd.isna(labelled["theme"].iloc[1])
    assert frame["theme"].isna().all()  # the input is left as it was


def test_a_discovered_theme_is_named_by_a_phrase_its_contributions_use_and_counts_only_them():
    damp = ["Damp and mould in our flat, the kids have asthma",
            "Damp and mould reports doubled in two years",
            "The landlord will not fix the damp and mould",
            "Cold homes with damp and mould make people ill"]
    other = ["More things in the evening for people who work in the day",
             "Good day. First time I have been asked",
             "Thank you all for coming on Thursday",
             "Couldn't make it on the day because of work"]
    frame = contributions(damp + other + TRANSPORT)
    result = find_themes(frame, n_themes=3, seed=0)
    themes = result.themes[result.themes["origin"] == "discovered"].set_index("label")
    assert "Damp and mould" in themes.index and themes.loc["Damp and mould", "size"] == 4
    # Its first quote uses its name; a word as common as "day" names nothing.
    assert "damp and mould" in themes.loc["Damp and mould", "quotes"][0][1].lower()
    assert not any(label.lower() in {"day", "people", "work", "time"} for label in themes.index)
    # What no phrase names is one group, called what it is.
    assert themes.loc["Other things partners said", "theme"] == "discovered-other"
    damp_theme = themes.loc["Damp and mould", "theme"]
    members = result.assignments.loc[result.assignments["theme"] == damp_theme, "contribution_id"]
    assert sorted(members) == ["c0", "c1", "c2", "c3"]
    # Every contribution the factorisation grouped is under one group, once.
    assert result.themes["size"].sum() == len(frame)
