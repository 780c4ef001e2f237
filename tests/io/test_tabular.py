"""Tests for hwb_toolkit.io.tabular: decoding, empty files, column checks, numeric cells."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.errors import InputError, SchemaError
from hwb_toolkit.io.tabular import (
    numeric_column,
    protect_formulas,
    read_table,
    require_columns,
    unprotect_formulas,
)


def test_utf8_with_bom_and_windows_1252_read_the_same(tmp_path):
    text = "Area,Value\nSaint-Étienne café,1\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cp1252 = tmp_path / "cp.csv"
    cp1252.write_bytes(text.encode("cp1252"))
    expected = pd.DataFrame({"Area": ["Saint-Étienne café"], "Value": ["1"]})
    pd.testing.assert_frame_equal(read_table(bom), expected, check_dtype=False)
    pd.testing.assert_frame_equal(read_table(cp1252), expected, check_dtype=False)


def test_empty_file_names_the_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        read_table(empty)


def test_missing_column_is_named_with_the_near_miss(tmp_path):
    frame = pd.DataFrame({"area code": ["E1"]})
    with pytest.raises(SchemaError) as caught:
        require_columns(frame, ["Area Code", "Value"], tmp_path / "x.csv")
    assert "'Area Code' (found 'area code')" in str(caught.value)
    assert "'Value'" in str(caught.value)
    assert caught.value.column == "Area Code"


def test_non_numeric_cell_names_row_and_column():
    frame = pd.DataFrame({"Count": ["1", "2,345", "", "n/a"]})
    with pytest.raises(InputError) as caught:
        numeric_column(frame, "Count", "data.csv")
    assert (caught.value.row, caught.value.column) == (5, "Count")
    assert str(caught.value) == "data.csv, row 5, column 'Count': 'n/a' is not a number"


def test_numeric_column_accepts_markers_and_checks_bounds():
    frame = pd.DataFrame({"Count": ["10", "*", "1,200"]})
    values = numeric_column(frame, "Count", "f.csv", minimum=0, integer=True, missing_markers=["*"])
    assert values.tolist()[0] == 10 and pd.isna(values.iloc[1]) and values.iloc[2] == 1200
    with pytest.raises(InputError, match="row 3, column 'Count'.*below"):
        numeric_column(pd.DataFrame({"Count": ["1", "-2"]}), "Count", "f.csv", minimum=0)
    with pytest.raises(InputError, match="row 2.*not a whole number"):
        numeric_column(pd.DataFrame({"Count": ["1.5"]}), "Count", "f.csv", integer=True)


def test_excel_reads_as_text(tmp_path):
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"Area": ["A", "B"], "Value": [1.5, None]}).to_excel(path, index=False)
    frame = read_table(path)
    assert frame["Area"].tolist() == ["A", "B"]
    assert numeric_column(frame, "Value", path).iloc[0] == 1.5


FORMULA_CELLS = ["=HYPERLINK(\"http://x\",\"click\")", "+1", "-2+3", "@SUM(A1)", "\tTab", "'quoted",
                 "'=already", "plain text", "2 + 2 = 4"]


def test_protect_formulas_defuses_every_formula_start_and_round_trips_through_csv(tmp_path):
    frame = pd.DataFrame({"text": FORMULA_CELLS, "count": range(-4, 5)})
    protected = protect_formulas(frame)
    assert protected["text"].tolist() == [
        "'=HYPERLINK(\"http://x\",\"click\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tTab", "''quoted",
        "''=already", "plain text", "2 + 2 = 4"]
    assert protected["count"].tolist() == list(range(-4, 5))  # numbers are left alone
    assert frame["text"].tolist() == FORMULA_CELLS  # the input is not changed
    path = tmp_path / "out.csv"
    protected.to_csv(path, index=False)
    back = unprotect_formulas(read_table(path))
    assert back["text"].tolist() == FORMULA_CELLS


def test_unprotect_formulas_leaves_other_text_alone():
    frame = pd.DataFrame({"text": ["'tis the season", "'", "it's", None]})
    assert unprotect_formulas(frame)["text"].tolist()[:3] == ["'tis the season", "'", "it's"]
