"""Tests for hwb_toolkit.system.actions: reading, checking and writing the actions register."""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError, InputError, SchemaError
from hwb_toolkit.schema import ACTION_COLUMNS
from hwb_toolkit.system import ActionWarning, read_actions, validate_actions, write_actions

REGISTER = """\
action_id,title,lead_org,partner_orgs,objectives,themes,status,start,end,linked_indicators,responds_to,area_code,updated_at,updated_by
A01,Led walks,Example City Council,Age Well; Example NHS Trust,active-lives,walking-cycling,Active,2026-01-05,31/12/2026,93014,pi-3;walking-cycling,E08000021,2026-02-01T09:30:00Z,kim
A02, Pocket parks ,Example City Council,,,parks,planned,,,,,,,
A03,Lunch club,Age Well,,connected,loneliness,idea,01/04/2026,,90641.0,,,2026-02-01 10:00,
"""


def expected_register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "action_id": ["A01", "A02", "A03"],
            "title": ["Led walks", "Pocket parks", "Lunch club"],
            "lead_org": ["Example City Council", "Example City Council", "Age Well"],
            "partner_orgs": [["Age Well", "Example NHS Trust"], [], []],
            "objectives": [["active-lives"], [], ["connected"]],
            "themes": [["walking-cycling"], ["parks"], ["loneliness"]],
            "status": ["active", "planned", "idea"],
            "start": pd.to_datetime(["2026-01-05", None, "2026-04-01"]).astype("datetime64[us]"),
            "end": pd.to_datetime(["2026-12-31", None, None]).astype("datetime64[us]"),
            "linked_indicators": [["93014"], [], ["90641"]],
            "responds_to": [["pi-3", "walking-cycling"], [], []],
            "area_code": pd.Series(["E08000021", None, None], dtype="str"),
            "updated_at": pd.to_datetime(
                ["2026-02-01T09:30:00Z", None, "2026-02-01T10:00:00Z"], utc=True
            ).astype("datetime64[us, UTC]"),
            "updated_by": pd.Series(["kim", None, None], dtype="str"),
        }
    )


def register_with(*rows: str) -> str:
    """The header of REGISTER and the given data rows."""
    return REGISTER.splitlines()[0] + "\n" + "\n".join(rows) + "\n"


def problems_of(make_file, text: str, error_type=InputError, strategy=None):
    path = make_file("actions.csv", text)
    with pytest.raises(error_type) as caught:
        frame = read_actions(path)
        if strategy is not None:
            validate_actions(frame, strategy)
    assert caught.value.file == str(path)
    return caught.value


def test_reads_the_canonical_register(make_file):
    path = make_file("actions.csv", REGISTER)
    actions = read_actions(path)
    pd.testing.assert_frame_equal(actions, expected_register())
    assert actions.columns.tolist() == ACTION_COLUMNS
    assert actions.attrs["source"] == str(path)


def test_xlsx_register_reads_the_same(tmp_path, make_file):
    frame = pd.read_csv(make_file("actions.csv", REGISTER), dtype=str)
    # Excel stores dates and numbers as typed cells: write them that way.
    frame["start"] = pd.to_datetime(["2026-01-05", None, "2026-04-01"])
    frame["linked_indicators"] = [93014, None, 90641]
    path = tmp_path / "actions.xlsx"
    frame.to_excel(path, index=False)
    pd.testing.assert_frame_equal(read_actions(path), expected_register())


def test_valid_register_against_strategy_has_no_warnings(make_file, strategy):
    actions = read_actions(make_file("actions.csv", REGISTER))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_actions(actions, strategy) == []


def test_duplicate_action_ids_name_both_rows(make_file):
    error = problems_of(
        make_file,
        register_with(
            "A01,One,Age Well,,connected,,idea,,,,,,,",
            "A02,Two,Age Well,,connected,,idea,,,,,,,",
            "A01,Three,Age Well,,connected,,idea,,,,,,,",
        ),
    )
    assert (error.row, error.column) == (4, "action_id")
    assert error.message == "action id 'A01' is used twice: rows 2 and 4"


def test_dates_in_the_wrong_format_are_errors_naming_row_column_value(make_file):
    error = problems_of(
        make_file,
        register_with(
            "A01,US date,Age Well,,connected,,idea,03/25/2026,,,,,,",
            "A02,Two-digit year,Age Well,,connected,,idea,,01/04/26,,,,,",
            "A03,Words,Age Well,,connected,,idea,next spring,,,,,,",
            "A04,Typo year,Age Well,,connected,,idea,2062-01-01,3026-01-01,,,,,",
            "A05,Ok UK,Age Well,,connected,,idea,1/4/2026,,,,,,",
            "A06,Bad stamp,Age Well,,connected,,idea,,,,,,yesterday,",
        ),
    )
    assert error.problems == [
        (2, "start", "'03/25/2026' is not a date in the form YYYY-MM-DD (or DD/MM/YYYY)"),
        (3, "end", "'01/04/26' is not a date in the form YYYY-MM-DD (or DD/MM/YYYY)"),
        (4, "start", "'next spring' is not a date in the form YYYY-MM-DD (or DD/MM/YYYY)"),
        (5, "end", "'3026-01-01' is outside 1900-2100; check the year"),
        (
            7,
            "updated_at",
            "'yesterday' is not a date and time (ISO 8601, e.g. 2026-05-01T09:30:00Z)",
        ),
    ]
    assert str(error).startswith(f"{error.file}, row 2, column 'start': '03/25/2026'")
    assert "and 4 more problem(s)" in error.message


def test_end_before_start_status_and_blank_cells(make_file):
    error = problems_of(
        make_file,
        register_with(
            "A01,Backwards,Age Well,,connected,,active,2026-05-01,2026-04-01,,,,,",
            "A02,Odd status,Age Well,,connected,,doing,,,,,,,",
            ",No id,,,connected,,,,,,,,,",
            "A04,Bad indicator,Age Well,,connected,,idea,,,93014; obesity,,,,",
        ),
    )
    assert error.problems == [
        (2, "end", "end 2026-04-01 is before start 2026-05-01"),
        (3, "status", "'doing' is not a status; use one of idea, planned, active, done, stopped"),
        (4, "action_id", "action_id is blank; every action needs one"),
        (4, "lead_org", "lead_org is blank; every action needs one"),
        (4, "status", "status is blank; every action needs one"),
        (
            5,
            "linked_indicators",
            "'obesity' is not a Fingertips indicator id (a whole number); "
            "separate several ids with ';'",
        ),
    ]


def test_unknown_objective_and_theme_ids_are_config_errors(make_file, strategy):
    error = problems_of(
        make_file,
        register_with(
            "A01,One,Age Well,,active-lives,walking-cycling,idea,,,,,,,",
            "A02,Two,Age Well,,conected,,idea,,,,,,,",
            'A03,Three,Age Well,,,"parks, loneliness",idea,,,,,,,',
        ),
        ConfigError,
        strategy,
    )
    assert error.problems == [
        (
            3,
            "objectives",
            "'conected' is not the id of any objective in the strategy (did you mean 'connected'?)",
        ),
        (
            4,
            "themes",
            "'parks, loneliness' is not the id of any theme in the strategy; "
            "separate several ids with ';'",
        ),
    ]


def test_read_with_strategy_checks_references(make_file, strategy):
    path = make_file("actions.csv", register_with("A01,One,Age Well,,health,,idea,,,,,,,"))
    with pytest.raises(ConfigError, match="row 2, column 'objectives': 'health'"):
        read_actions(path, strategy)


def test_unknown_organisation_is_a_warning_naming_the_row_and_nothing_is_dropped(
    make_file, strategy
):
    path = make_file(
        "actions.csv",
        register_with(
            "A01,One,Age Wel,Example NHS Trust;Cycle Hub,active-lives,,active,,,,,,,",
            "A02,Two,Age Well,,,,idea,,,12345,,,,",
        ),
    )
    actions = read_actions(path)
    with pytest.warns(ActionWarning) as recorded:
        found = validate_actions(actions, strategy)
    assert [str(w) for w in found] == [
        f"{path}, row 2, column 'lead_org': 'Age Wel' is not in the strategy's stakeholder list, "
        "so its sector is unknown (did you mean 'Age Well'?); add it under 'stakeholders' in "
        "strategy.yaml",
        f"{path}, row 2, column 'partner_orgs': 'Cycle Hub' is not in the strategy's stakeholder "
        "list, so its sector is unknown; add it under 'stakeholders' in strategy.yaml",
        f"{path}, row 3, column 'objectives': the action names no objective and no theme, "
        "so no coverage row counts it",
        f"{path}, row 3, column 'linked_indicators': indicator 12345 is not among the "
        "strategy's indicators",
    ]
    assert [w.row for w in found] == [2, 2, 3, 3]
    assert [str(r.message) for r in recorded] == [str(w) for w in found]
    assert actions["action_id"].tolist() == ["A01", "A02"]
    assert actions.loc[0, "lead_org"] == "Age Wel"


def test_extra_columns_are_warned_about_not_silently_dropped(make_file):
    path = make_file(
        "actions.csv", "action_id,title,lead_org,themes,status,notes\nA1,T,Age Well,parks,idea,hi\n"
    )
    with pytest.warns(ActionWarning, match="column 'notes' is not part of the actions register"):
        actions = read_actions(path)
    assert actions.columns.tolist() == ACTION_COLUMNS
    assert actions.loc[0, "partner_orgs"] == []


def test_missing_columns(make_file):
    with pytest.raises(SchemaError, match="'status' \\(found 'Status'\\)"):
        read_actions(
            make_file("a.csv", "action_id,title,lead_org,themes,Status\nA,T,O,parks,idea\n")
        )
    with pytest.raises(SchemaError, match="needs an 'objectives' or a 'themes' column"):
        read_actions(make_file("b.csv", "action_id,title,lead_org,status\nA,T,O,idea\n"))


def test_store_shaped_frame_with_date_objects_validates(strategy, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    actions["start"] = [dt.date(2026, 1, 5), None, dt.date(2026, 4, 1)]
    actions["end"] = pd.Series([dt.date(2026, 1, 1), None, None], dtype=object)
    actions.attrs.clear()
    with pytest.raises(InputError) as caught:
        validate_actions(actions, strategy)
    assert (caught.value.file, caught.value.row, caught.value.column) == (None, 2, "end")


def test_list_columns_must_hold_lists_in_memory(strategy, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    actions.loc[1, "themes"] = "parks"
    with pytest.raises(InputError, match="row 3, column 'themes': expected a list"):
        validate_actions(actions, strategy)


def test_write_then_read_round_trips(tmp_path, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    target = tmp_path / "out.csv"
    assert write_actions(actions, target) == target
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(ACTION_COLUMNS)
    assert text.splitlines()[1] == (
        "A01,Led walks,Example City Council,Age Well;Example NHS Trust,active-lives,"
        "walking-cycling,active,2026-01-05,2026-12-31,93014,pi-3;walking-cycling,E08000021,"
        "2026-02-01T09:30:00+00:00,kim"
    )
    again = read_actions(target)
    pd.testing.assert_frame_equal(again, actions)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_written_register_cannot_run_as_a_spreadsheet_formula(tmp_path, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    actions.at[0, "title"] = "=WEBSERVICE(\"http://evil.example\")"
    target = tmp_path / "out.csv"
    write_actions(actions, target)
    assert pd.read_csv(target, dtype=str).at[0, "title"] == "'=WEBSERVICE(\"http://evil.example\")"
    pd.testing.assert_frame_equal(read_actions(target), actions)


def test_write_refuses_separator_inside_an_element_and_keeps_the_old_file(tmp_path, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    target = tmp_path / "out.csv"
    target.write_text("old contents\n", encoding="utf-8")
    actions.at[0, "partner_orgs"] = ["Age Well; Example NHS Trust"]
    with pytest.raises(InputError, match="row 2, column 'partner_orgs'.*contains ';'"):
        write_actions(actions, target)
    assert target.read_text(encoding="utf-8") == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actions.csv", "out.csv"]


def test_write_replaces_atomically(tmp_path, make_file, monkeypatch):
    actions = read_actions(make_file("actions.csv", REGISTER))
    target = tmp_path / "out.csv"
    target.write_text("old contents\n", encoding="utf-8")

    def crash(src, dst):
        raise OSError("disk unplugged")

    monkeypatch.setattr("hwb_toolkit.system.actions.os.replace", crash)
    with pytest.raises(OSError, match="disk unplugged"):
        write_actions(actions, target)
    assert target.read_text(encoding="utf-8") == "old contents\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_into_missing_folder_is_an_input_error(tmp_path, make_file):
    actions = read_actions(make_file("actions.csv", REGISTER))
    with pytest.raises(InputError, match="cannot write the register here"):
        write_actions(actions, tmp_path / "missing" / "out.csv")
