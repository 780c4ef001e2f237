"""Tests for hwb_toolkit.io.tabular: decoding, empty files, column checks, numeric cells."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.errors import InputError, SchemaError
from hwb_toolkit.io.tabular import (
    numeric_column,
    protect_formulas,
    read_table,
    unprotect_formulas,
)
from hwb_toolkit.values import require_columns


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


# --- round two: cut-off rows, broken quotes, one bad byte -----------------------------------
@pytest.mark.parametrize(
    ("text", "row", "problem"),
    [
        # A file cut off mid-row: the 6 must not be read as a value.
        ("Area,Period,Value,Note\nE1,2023/24,6.5,ok\nE2,2023/24,6", 3,
         "this row has 3 of the header's 4 fields: it is cut short"),
        # pandas would read the surplus field of a first data row as the index, shifting
        # every value one column to the left.
        ("Area,Value\nE1,6,surplus\nE2,7\n", 2, "this row has 3 fields but the header has 2"),
    ],
)
def test_a_row_with_fewer_or_more_fields_than_the_header_is_refused(tmp_path, text, row, problem):
    path = tmp_path / "rows.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert caught.value.row == row and problem in str(caught.value)


def test_a_broken_quote_is_a_plain_sentence_naming_file_and_row(tmp_path):
    path = tmp_path / "postits.csv"
    rows = ["id,text,sector"] + [f"{n},note {n},council" for n in range(1, 9)]
    rows[5] = '5,he said "yes, and no",council'  # quotes mid-value: the comma splits it
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError) as caught:
        read_table(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, row 6: this row has 4 fields but the header has 3")
    assert "tokenizing" not in message and "C error" not in message
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('id,text\n1,fine\n2,"never closed\n3,lost\n')
    with pytest.raises(InputError, match=r"unclosed.csv, row 3: a quote .* is never closed"):
        read_table(unclosed)


def test_one_bad_byte_in_a_utf8_file_is_named_not_read_as_windows_1252(tmp_path):
    path = tmp_path / "prices.csv"
    good = "Item,Price\nTea,£4.50\nCake,£2.10\n".encode()
    path.write_bytes(good + b"Scone,\xa32.00\n")  # one "£" typed in Windows-1252
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert caught.value.row == 4
    assert "byte 0xa3" in str(caught.value) and "'£'" in str(caught.value)
    # A file that is Windows-1252 throughout is still read as such, every "£" intact.
    path.write_bytes("Item,Price\nTea,£4.50\nScone,£2.00\n".encode("cp1252"))
    assert read_table(path)["Price"].tolist() == ["£4.50", "£2.00"]


def test_a_bad_byte_after_a_byte_order_mark_is_named_with_its_row(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b'\xef\xbb\xbfid,text\n1,"two\nlines"\n2,caf\xe9\n')
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert caught.value.row == 3  # the spreadsheet row: the quoted line break stays in row 2
    assert "byte 0xe9" in str(caught.value) and "byte-order mark" in str(caught.value)
