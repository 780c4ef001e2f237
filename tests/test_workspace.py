"""Tests for hwb_toolkit.io.workspace: paths kept inside, the YAML it reads, areas, checked values."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError, InputWarning
from hwb_toolkit.indicators import summarise_area
from hwb_toolkit.workspace import Workspace, check_area_code, init_workspace

HOME = "E08000021"  # Newcastle upon Tyne in the example workspace


@pytest.fixture()
def workspace(tmp_path):
    return init_workspace(tmp_path / "ws")


def test_an_open_workspace_is_passed_down_not_opened_again(workspace):
    opened = Workspace.open(workspace)
    assert Workspace.open(opened) is opened
    with pytest.raises(ConfigError, match="workspace folder not found"):
        Workspace.open(workspace / "nowhere")


def test_sources_yaml_cannot_name_a_file_outside_the_workspace(workspace, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("contribution_id,text\n1,the neighbour's PIN is 1234\n")
    sources = workspace / "voices" / "sources.yaml"
    sources.write_text("contributions:\n  - file: ../../secret.csv\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Workspace.open(workspace).contributions(include_store=False)
    assert caught.value.file == str(sources)
    assert "contributions[0]: '" in str(caught.value) and "leads outside the workspace" in str(
        caught.value
    )
    sources.write_text(f"polis:\n  - folder: {tmp_path}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"polis\[0\]: .* leads outside the workspace"):
        Workspace.open(workspace).votes(include_store=False)


def test_a_link_that_leads_out_of_the_workspace_is_refused(workspace, tmp_path):
    outside = tmp_path / "national.csv"
    (workspace / "indicators" / "fingertips_all_data.csv").rename(outside)
    (workspace / "indicators" / "fingertips_all_data.csv").symlink_to(outside)
    with pytest.raises(ConfigError, match="leads outside the workspace"):
        _ = Workspace.open(workspace).indicators


def test_the_same_alias_bomb_is_refused_in_sources_yaml_as_in_strategy_yaml(workspace):
    lines = ['a0: &a0 ["lol"]'] + [
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 7)
    ]
    # Under a key the sources model knows, so that nothing but the loader can refuse it.
    text = "\n".join(lines) + "\ncontributions:\n  - file: postits.csv\n    questions: *a6\n"
    (workspace / "voices" / "sources.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="entries once its aliases") as caught:
        _ = Workspace.open(workspace).voices_sources
    assert caught.value.row == 6


def test_area_codes_match_ignoring_case_and_a_wrong_one_gets_the_nearest(workspace):
    ws = Workspace.open(workspace)
    assert ws.resolve_area(" e08000021 ") == HOME
    with pytest.raises(ConfigError) as caught:
        ws.resolve_area("E08000091")
    message = str(caught.value)
    assert "area E08000091 is not in this workspace's indicator data; nearest: " in message
    assert "E08000021 (Newcastle upon Tyne)" in message and "'hwb areas'" in message


@pytest.mark.parametrize("text", ["../2026-11/E08000021", "E08000021/..", "", "E0800 0021"])
def test_text_that_is_not_an_area_code_is_refused_before_any_path_is_made(text):
    with pytest.raises(ConfigError, match="is not an area code"):
        check_area_code(text)


def test_a_row_left_out_with_a_warning_is_in_no_published_figure(workspace):
    path = workspace / "indicators" / "fingertips_all_data.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    mine = data.index[
        (data["Indicator ID"] == "93015") & (data["Area Code"] == HOME) & (data["Sex"] == "Persons")
    ]
    latest = mine[-1]
    data.loc[latest, ["Value", "Upper CI 95.0 limit", "Upper CI 99.8 limit"]] = "250"
    data.to_csv(path, index=False)
    ws = Workspace.open(workspace)
    with pytest.warns(InputWarning) as caught:
        indicators = ws.indicators
    assert (caught[0].message.file, caught[0].message.row) == (str(path), latest + 2)
    assert not (indicators["value"] == 250).any()
    summary = summarise_area(indicators, HOME, polarity=ws.strategy.polarity())
    row = summary[(summary["indicator_id"] == 93015) & (summary["sex"] == "Persons")].iloc[0]
    assert row["period"] == data.loc[mine[-2], "Time period"]  # the latest usable period
