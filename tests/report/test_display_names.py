"""Every figure says whom it is about: display names with sex, age and category."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hwb_toolkit.report.build import indicator_tables
from hwb_toolkit.report.shared import with_strategy_columns
from hwb_toolkit.text.labels import age_phrase, with_display_names
from hwb_toolkit.text.sentences import indicator_sentence
from hwb_toolkit.workspace import Workspace, init_workspace

HOME = "E08000021"
HWB = str(Path(sys.executable).with_name("hwb"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return init_workspace(tmp_path_factory.mktemp("ws") / "workspace")


@pytest.fixture(scope="module")
def home_summary(workspace) -> pd.DataFrame:
    ws = Workspace.open(workspace)
    _, summaries = indicator_tables(ws)
    return with_strategy_columns(summaries[summaries["area_code"] == HOME], ws.strategy)


@pytest.mark.parametrize(("age", "said"), [
    ("<18 yrs", "under 18s"), ("18+ yrs", "aged 18 and over"), ("4-5 yrs", "aged 4 to 5"),
    ("All ages", "all ages"), ("65+", "aged 65 and over"), ("Not an age", "Not an age"),
])
def test_age_labels_as_people_say_them(age, said):
    assert age_phrase(age) == said


def test_breakdowns_are_named_where_the_data_has_more_than_one_or_a_hidden_age(home_summary):
    names = home_summary.set_index(["indicator_id", "sex"])["display_name"]
    assert names[(41001, "Persons")] == "Suicide rate, persons"
    assert names[(41001, "Male")] == "Suicide rate, males"
    assert names[(41001, "Female")] == "Suicide rate, females"
    # Indicator 90812 counts under-18s only: its name does not say so, the display name does.
    assert names[(90812, "Persons")] == "Hospital admissions for mental health conditions, under 18s"
    # Names that already say whom they count are left as they are.
    assert names[(93014, "Persons")] == "Percentage of physically active adults"
    assert names[(20601, "Persons")] == "Reception prevalence of overweight (including obesity)"
    assert home_summary["display_name"].is_unique
    # Persons first, as Fingertips lists them.
    suicide = home_summary[home_summary["indicator_id"] == 41001]
    assert suicide["sex"].tolist() == ["Persons", "Male", "Female"]


def test_categories_and_several_ages_are_named():
    table = pd.DataFrame({
        "indicator_id": [1, 1, 2, 2],
        "indicator_name": ["Admissions", "Admissions", "Smoking prevalence", "Smoking prevalence"],
        "sex": ["Persons"] * 4,
        "age": ["<18 yrs", "18+ yrs", "18+ yrs", "18+ yrs"],
        "category": [None, None, "Most deprived decile", "Least deprived decile"],
    })
    assert with_display_names(table)["display_name"].tolist() == [
        "Admissions, under 18s", "Admissions, aged 18 and over",
        "Smoking prevalence, Most deprived decile", "Smoking prevalence, Least deprived decile",
    ]


def test_sentences_name_the_breakdown(home_summary):
    rows = home_summary.set_index(["indicator_id", "sex"])
    males = rows.loc[(41001, "Male")].to_dict()
    sentence = indicator_sentence(males, "Newcastle upon Tyne", unit="per 100,000")
    assert sentence.startswith("Suicide rate, males (2022 - 24): ")
    # A sentence led by a subject ("of adults are ...") says whom it is about before the value.
    with_subject = {**rows.loc[(93014, "Persons")].to_dict(), "breakdown": "males"}
    assert indicator_sentence(with_subject, "Newcastle upon Tyne", unit="%").startswith(
        "In 2023/24, for males, ")


def test_hwb_summary_prints_display_names(workspace):
    result = subprocess.run([HWB, "summary", "--workspace", str(workspace), "--area", HOME],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for name in ("Suicide rate, males", "Suicide rate, females", "Suicide rate, persons",
                 "Hospital admissions for mental health conditions, under 18s"):
        assert name in result.stdout
