"""Tests for hwb_toolkit.io.tabular: decoding, empty files, column checks, numeric cells."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.errors import InputError, SchemaError
from hwb_toolkit.io.tabular import numeric_column, read_table, require_columns


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
