"""Tests for hwb_toolkit.system.strategy: loading, look-ups, frames and located errors."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError
from hwb_toolkit.system import load_strategy

# A valid base, each hostile test changes one thing; line numbers are counted from 1.
BASE = """\
name: Mini
vision: Healthy lives.
objectives:
  - id: active-lives
    title: Active lives
themes:
  - id: walking
    objective: active-lives
    title: Walking
indicators:
  - id: 93014
    name: Active adults
    polarity: high_is_good
    calculator: proportion
    multiplier: 100
    objective: active-lives
    theme: walking
stakeholders:
  - organisation: Example City Council
    sector: council
"""


def located(make_file, text: str) -> ConfigError:
    path = make_file("strategy.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_strategy(path)
    assert caught.value.file == str(path)
    return caught.value


def test_loads_fields_and_lookups(strategy):
    assert strategy.name == "Tiny Partnership"
    assert strategy.home_area == "E08000021"
    assert strategy.vision == "Everyone lives an active, connected life."
    assert [o.id for o in strategy.objectives] == ["active-lives", "connected"]
    assert strategy.objectives[1].description == ""
    assert strategy.taxonomy() == {
        "walking-cycling": ["walk", "cycle"],
        "parks": ["park"],
        "loneliness": [],
    }
    assert strategy.polarity() == {93014: "high_is_good", 90641: "low_is_good"}
    assert strategy.theme_objectives() == {
        "walking-cycling": "active-lives",
        "parks": "active-lives",
        "loneliness": "connected",
    }
    assert strategy.sector_of("Age Well") == "vcse"
    assert strategy.sector_of("  example   city COUNCIL ") == "council"
    assert strategy.sector_of("Unknown Trust") is None
    assert strategy.canonical_organisation("age well") == "Age Well"


def test_frames(strategy):
    pd.testing.assert_frame_equal(
        strategy.objectives_frame(),
        pd.DataFrame(
            {
                "objective": ["active-lives", "connected"],
                "title": ["Active lives", "Connected communities"],
                "description": ["More people moving more.", ""],
            }
        ),
    )
    themes = strategy.themes_frame()
    assert themes.columns.tolist() == ["theme", "objective", "title", "keywords"]
    assert themes["theme"].tolist() == ["walking-cycling", "parks", "loneliness"]
    assert themes["keywords"].tolist() == [["walk", "cycle"], ["park"], []]
    pd.testing.assert_frame_equal(
        strategy.indicators_frame(),
        pd.DataFrame(
            {
                "indicator_id": pd.Series([93014, 90641], dtype="int64"),
                "indicator_name": ["Physically active adults", "Loneliness"],
                "polarity": ["high_is_good", "low_is_good"],
                "calculator": ["proportion", "proportion"],
                "multiplier": [100.0, 100.0],
                "objective": ["active-lives", "connected"],
                "theme": pd.Series(["walking-cycling", None], dtype="str"),
                "goal": [float("nan"), 20.0],
                "subject": pd.Series([None, None], dtype="str"),
            }
        ),
    )
    pd.testing.assert_frame_equal(
        strategy.stakeholders_frame(),
        pd.DataFrame(
            {
                "organisation": [
                    "Example City Council",
                    "Example NHS Trust",
                    "Age Well",
                    "Pedal Co",
                ],
                "sector": ["council", "nhs", "vcse", "business"],
            }
        ),
    )


def test_readme_example_loads(make_file):
    # The example of README.md, section "strategy.yaml", transcribed.
    strategy = load_strategy(
        make_file(
            "strategy.yaml",
            """\
            name: Example Health and Wellbeing Partnership
            home_area: E08000021            # optional: the partnership's own area (ONS code)
            vision: >
              Everyone in our place lives an active, connected, healthy life.
            objectives:
              - id: active-lives            # lowercase letters, digits and hyphens
                title: Active lives
                description: More people moving more, every day.
            themes:
              - id: walking-cycling
                objective: active-lives
                title: Walking and cycling
                keywords: [walk, walking, cycle, cycling, bike, path]
            indicators:
              - id: 93014                   # Fingertips indicator ID
                name: Percentage of physically active adults
                polarity: high_is_good      # high_is_good | low_is_good | no_judgement
                calculator: proportion      # proportion | crude_rate | dsr | isr | mean
                multiplier: 100             # scale of the published value (100 = a percentage)
                objective: active-lives
                theme: walking-cycling
            stakeholders:
              - organisation: Example City Council
                sector: council             # council | nhs | vcse | business | resident | other
            """,
        )
    )
    assert strategy.indicators[0].multiplier == 100.0
    assert strategy.indicators[0].goal is None


def test_windows_1252_file_is_decoded(tmp_path):
    path = tmp_path / "strategy.yaml"
    path.write_bytes(BASE.replace("Healthy lives.", "Café culture.").encode("cp1252"))
    assert load_strategy(path).vision == "Café culture."


def test_broken_yaml_names_the_line(make_file):
    error = located(make_file, BASE.replace("title: Walking", "title: [Walking"))
    assert error.row == 10  # the flow list opened on line 9 is broken on line 10
    assert "not valid YAML" in error.message and "line 9" in error.message


def test_tab_indentation_is_a_yaml_error_with_line(make_file):
    error = located(make_file, BASE.replace("    title: Active lives", "\ttitle: Active lives"))
    assert error.row == 5
    assert error.message.startswith("not valid YAML")


def test_unknown_key_is_named_with_line_and_near_miss(make_file):
    error = located(
        make_file, BASE.replace("    title: Walking\n", "    title: Walking\n    keyword: [walk]\n")
    )
    assert error.row == 10
    assert error.message == (
        "themes[0].keyword: unknown key 'keyword'; did you mean 'keywords'? "
        "allowed keys: id, objective, title, keywords"
    )
    assert str(error).startswith(f"{error.file}, line 10: themes[0].keyword")


def test_unknown_top_level_key(make_file):
    error = located(make_file, BASE + "mission: be nice\n")
    assert (error.row, error.message.split(";")[0]) == (21, "mission: unknown key 'mission'")


def test_theme_with_unknown_objective(make_file):
    error = located(
        make_file,
        BASE.replace(
            "    objective: active-lives\n    title: Walking",
            "    objective: actve-lives\n    title: Walking",
        ),
    )
    assert error.row == 8
    assert error.message == (
        "themes[0].objective: 'actve-lives' is not the id of any objective in this file "
        "(did you mean 'active-lives'?)"
    )


def test_indicator_with_unknown_theme_and_mismatched_objective(make_file):
    error = located(make_file, BASE.replace("    theme: walking\n", "    theme: running\n"))
    assert (error.row, error.column) == (17, None)
    assert error.message.startswith("indicators[0].theme: 'running' is not the id of any theme")
    two_objectives = BASE.replace(
        "themes:\n",
        "  - id: connected\n    title: Connected\nthemes:\n",
    ).replace(
        "    objective: active-lives\n    theme: walking",
        "    objective: connected\n    theme: walking",
    )
    error = located(make_file, two_objectives)
    assert error.message == (
        "indicators[0].theme: theme 'walking' sits under objective 'active-lives', not 'connected'"
    )
    assert error.row == 19


def test_duplicate_ids_and_organisations(make_file):
    text = (
        BASE.replace("themes:\n", "  - id: active-lives\n    title: Again\nthemes:\n")
        + "  - organisation: ' example city council'\n    sector: council\n"
    )
    error = located(make_file, text)
    assert [(line, message) for line, _, message in error.problems] == [
        (6, "objective id 'active-lives' is already used at objectives[0]"),
        (23, "organisation 'example city council' is already used at stakeholders[0]"),
    ]
    assert "and 1 more problem(s):\n  line 23: stakeholders[1].organisation" in error.message


def test_vocabularies_are_enforced(make_file):
    text = (
        BASE.replace("high_is_good", "higher")
        .replace("calculator: proportion", "calculator: percentage")
        .replace("sector: council", "sector: government")
    )
    error = located(make_file, text)
    assert [(line, path) for line, path, _ in error.problems] == [
        (13, ("indicators", 0, "polarity")),
        (14, ("indicators", 0, "calculator")),
        (20, ("stakeholders", 0, "sector")),
    ]
    assert error.problems[0][2] == (
        "'higher' is not allowed here; use one of 'high_is_good', 'low_is_good' or 'no_judgement'"
    )
    assert "'government' is not allowed here" in error.problems[2][2]


def test_wrong_types_are_explained(make_file):
    text = (
        BASE.replace("    title: Walking\n", "    title: Walking\n    keywords: walk\n")
        .replace("multiplier: 100", "multiplier: lots")
        .replace("id: 93014", "id: yes")
    )
    error = located(make_file, text)
    messages = {path: message for _, path, message in error.problems}
    assert messages[("themes", 0, "keywords")] == (
        "expected a list (lines starting with '- ' or [a, b]), got 'walk'"
    )
    assert messages[("indicators", 0, "id")].startswith("True is a true/false value here")
    assert messages[("indicators", 0, "multiplier")].endswith("(got 'lots')")
    assert [line for line, _, _ in error.problems] == [10, 12, 16]


def test_unquoted_no_in_keywords_is_caught(make_file):
    error = located(
        make_file,
        BASE.replace("    title: Walking\n", "    title: Walking\n    keywords: [walk, no]\n"),
    )
    assert error.row == 10
    assert "themes[0].keywords[1]: False is a true/false value here" in error.message
    assert "put the text in quotes" in error.message


def test_missing_required_key_points_at_its_block(make_file):
    error = located(make_file, BASE.replace("    multiplier: 100\n", ""))
    assert error.row == 11
    assert error.message == "indicators[0].multiplier: the required key 'multiplier' is missing"


def test_ids_must_be_slugs(make_file):
    error = located(
        make_file,
        BASE.replace("  - id: walking", "  - id: Walking Routes").replace(
            "theme: walking", "theme: Walking Routes"
        ),
    )
    assert error.row == 7
    assert error.message.startswith(
        "themes[0].id: 'Walking Routes' is not a valid id: use lowercase letters, digits and hyphens"
    )


def test_repeated_key_in_one_block(make_file):
    error = located(
        make_file, BASE.replace("    title: Walking\n", "    title: Walking\n    title: Walks\n")
    )
    assert error.row == 10
    assert "the key 'title' appears twice in the same block (first on line 9)" in error.message


def test_empty_values_and_non_mapping_files(make_file):
    error = located(
        make_file,
        BASE.replace(
            "objectives:\n  - id: active-lives\n    title: Active lives\n", "objectives:\n"
        ),
    )
    assert error.row == 3
    assert (
        error.problems[0][2]
        == "this key has no value (an empty entry); fill it in or remove the key"
    )
    assert located(make_file, "").message == "the file is empty"
    assert located(make_file, "- a\n- b\n").message.startswith("the file must be a block of keys")
    error = located(make_file, BASE.replace("name: Mini\n", "name: Mini\nhome_area: Leeds\n"))
    assert (error.row, error.message) == (
        2,
        "home_area: 'Leeds' is not an ONS area code (like 'E08000021')",
    )


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_strategy(tmp_path / "nope.yaml")


def test_a_yaml_alias_bomb_is_refused_before_it_grows(make_file):
    # Six levels of aliases to aliases stand for a million entries (nine made 4.3 GB in 90 s).
    lines = ['a0: &a0 ["lol"]'] + [
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 7)
    ]
    error = located(make_file, BASE + "\n".join(lines) + "\n")
    assert "entries once its aliases" in error.message and error.row == 26  # a5: 10**5
