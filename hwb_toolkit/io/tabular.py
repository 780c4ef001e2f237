"""Reading tabular files safely: the one place that decodes CSV/XLSX/Parquet.

Every reader in :mod:`hwb_toolkit.io` goes through :func:`read_table` and the
column helpers here, so that every input problem comes back as one
:class:`~hwb_toolkit.errors.HwbError` naming the file, the row (spreadsheet
convention: header = row 1, first data row = row 2) and the column, and so
that encodings are handled the same way everywhere: UTF-8 (with or without a
byte-order mark) first, then Windows-1252, the encoding Excel on Windows
writes "CSV" in, but only for a file with nothing UTF-8 in it (see
:func:`decode_text`). Every CSV record must have the header's number of fields,
so a file cut off mid-row is refused rather than read with a short last value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError

#: Row number, in a spreadsheet, of the first data row (the header is row 1).
FIRST_DATA_ROW = 2

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


#: One well-formed multi-byte UTF-8 character (RFC 3629): its presence shows a file is UTF-8.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_UTF8_BOM = b"\xef\xbb\xbf"


def decode_text(raw: bytes, path: str | Path, *, table: bool = False) -> str:
    """Decode the bytes of a text file as what it is: UTF-8, or else Windows-1252.

    UTF-8 (byte-order mark stripped) is tried first. A file that is not valid
    UTF-8 is read as Windows-1252 (what Excel on Windows saves "CSV" in) only
    when nothing in it is UTF-8: a file with a byte-order mark, or with any
    well-formed UTF-8 character ("£" as two bytes), is a UTF-8 file with a
    damaged byte, and reading all of it as Windows-1252 would garble every
    other such character ("£4.50" as "Â£4.50"). That raises
    :class:`InputError` naming the row (``table``: the spreadsheet row of a
    CSV, header = row 1, counting quoted line breaks as a spreadsheet does;
    otherwise the line) and the byte. So does a file that is neither (for
    example a binary file given as CSV).
    """
    bom = len(_UTF8_BOM) if raw.startswith(_UTF8_BOM) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        start = bom + utf8_error.start
    example = _UTF8_MULTIBYTE.search(raw, bom)
    if bom or example is not None:
        evidence = (
            f"the rest of the file is UTF-8 (for example {example.group(0).decode('utf-8')!r})"
            if example is not None
            else "the file starts with UTF-8's byte-order mark"
        )
        raise InputError(
            f"byte 0x{raw[start]:02x} (character {_column_of(raw, start)} of its line) is not "
            f"UTF-8, while {evidence}: the file is damaged or has "
            "text pasted in from another encoding; correct that character or save the file "
            "again as UTF-8",
            file=path,
            **_where_in_text(raw, start, table),
        )
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as cp1252_error:
        start = min(start, cp1252_error.start)
        raise InputError(
            "the file is neither UTF-8 nor Windows-1252 text "
            f"(undecodable byte 0x{raw[start]:02x})",
            file=path,
            **_where_in_text(raw, start, table),
        ) from None


def _column_of(raw: bytes, offset: int) -> int:
    """1-based position, in characters, of the byte at ``offset`` within its line."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1


def _where_in_text(raw: bytes, offset: int, table: bool) -> dict[str, int]:
    """``row=`` (CSV record, header = row 1) or ``line=`` of the byte at ``offset``."""
    if not table:
        return {"line": raw[:offset].count(b"\n") + 1}
    # The CSV records up to the byte; the sentinel makes the record holding it count too.
    before = raw[:offset].decode("utf-8", errors="replace") + "x"
    return {"row": sum(1 for _ in csv.reader(io.StringIO(before, newline="")))}


def check_record_lengths(
    text: str, path: str | Path, *, sep: str = ",", allowed: Collection[int] | None = None
) -> None:
    """Raise :class:`InputError` at the first CSV record whose field count is wrong.

    Every record must have as many fields as the header (``allowed``: the
    accepted counts, when a format allows others). A short record is what a file
    cut off mid-row leaves ("...,2023/24,6" would read 6 as a value); a long one
    is a comma outside quotes or a broken quote that ran on into the next row.
    A quote opened and never closed (the rest of the file would be one value)
    is refused too. Blank lines are skipped, as the readers skip them. The row
    is the record's spreadsheet row (header = row 1).
    """
    records = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    row = 0
    try:
        for row, fields in enumerate(records, start=1):  # noqa: B007 - row is used after
            pass
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise InputError(
                'a quote (") opened in this row is never closed, so the rest of the file '
                "would be read as one value; add the closing quote or remove the stray one",
                file=path,
                row=row + 1,
            ) from None
        # Other strict-mode complaints (a space after a closing quote) are read as pandas
        # reads them; only the field counts below matter then.
    records = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = next(records, None)
    if header is None:
        return
    expected = len(header)
    allowed = {expected} if allowed is None else set(allowed)
    for row, fields in enumerate(records, start=FIRST_DATA_ROW):
        if not fields or len(fields) in allowed:
            continue
        if len(fields) < expected:
            problem = (
                f"this row has {len(fields)} of the header's {expected} fields: it is cut "
                "short (was the file cut off, or a comma lost?)"
            )
        else:
            problem = (
                f"this row has {len(fields)} fields but the header has {expected}: a comma in "
                'a value that is not in quotes, or a stray quote (") in this row or the one '
                "before"
            )
        raise InputError(problem + "; nothing was read from the file", file=path, row=row)


def read_table(
    path: str | Path,
    *,
    sheet: str | int = 0,
    sep: str | None = None,
    allowed_lengths: Collection[int] | None = None,
) -> pd.DataFrame:
    """Read a CSV, TSV, Excel or Parquet file with every column as text.

    Values stay as strings (empty cells become missing) so that each reader
    validates and converts its own columns with :func:`numeric_column` and
    reports bad cells precisely. Parquet files keep their stored types.
    Column names are stripped of surrounding white space. Every CSV record must
    have the header's number of fields (``allowed_lengths``: the counts a format
    accepts besides; see :func:`check_record_lengths`).

    Raises :class:`InputError` for a missing, empty or unreadable file, naming
    the row of a cut-off or malformed record.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except Exception as error:  # pyarrow raises several unrelated types
            raise InputError(f"not a readable Parquet file ({error})", file=path) from None
    elif suffix in _EXCEL_SUFFIXES:
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
        except ValueError as error:
            raise InputError(f"cannot read the Excel sheet {sheet!r}: {error}", file=path) from None
        except Exception as error:
            raise InputError(f"not a readable Excel workbook ({error})", file=path) from None
        frame = frame.replace({"": pd.NA})
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise InputError("the file is empty", file=path)
        text = decode_text(raw, path, table=True)
        if sep is None:
            sep = "\t" if suffix == ".tsv" else ","
        check_record_lengths(text, path, sep=sep, allowed=allowed_lengths)
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                index_col=False,
            )
        except pd.errors.ParserError:
            raise InputError("not a well-formed CSV file", file=path) from None
        except pd.errors.EmptyDataError:
            raise InputError("the file is empty", file=path) from None
    frame.columns = [str(column).strip() for column in frame.columns]
    if frame.empty and len(frame.columns) == 0:
        raise InputError("the file is empty", file=path)
    return frame


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    path: str | Path | None,
    *,
    minimum: float | None = None,
    integer: bool = False,
    missing_markers: Iterable[str] = (),
) -> pd.Series:
    """Convert one text column to float, naming the first bad cell if any.

    Blank cells and any of ``missing_markers`` (for example suppression marks
    such as ``"*"``) become NaN. Thousands separators (``1,234``) are accepted.
    With ``minimum``, values below it are rejected (e.g. ``minimum=0`` for
    counts); with ``integer``, non-whole numbers are rejected.
    """
    text = frame[column]
    if pd.api.types.is_numeric_dtype(text):
        values = text.astype("float64")
        bad = pd.Series(False, index=frame.index)
    else:
        cleaned = text.astype("string").str.strip().str.replace(",", "", regex=False)
        markers = set(missing_markers)
        blank = cleaned.isna() | (cleaned == "") | cleaned.isin(markers)
        values = pd.to_numeric(cleaned.where(~blank), errors="coerce").astype("float64")
        bad = values.isna() & ~blank
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{text.iloc[position]!r} is not a number",
            file=path,
            row=position + FIRST_DATA_ROW,
            column=column,
        )
    if minimum is not None:
        below = values < minimum
        if below.any():
            position = int(np.flatnonzero(below.to_numpy())[0])
            raise InputError(
                f"{values.iloc[position]:g} is below the smallest allowed value {minimum:g}",
                file=path,
                row=position + FIRST_DATA_ROW,
                column=column,
            )
    if integer:
        fractional = values.notna() & (values != np.floor(values))
        if fractional.any():
            position = int(np.flatnonzero(fractional.to_numpy())[0])
            raise InputError(
                f"{values.iloc[position]:g} is not a whole number",
                file=path,
                row=position + FIRST_DATA_ROW,
                column=column,
            )
    return values


# --- spreadsheet formulas in text we write -------------------------------------------------
#: First characters that make Excel, LibreOffice or Google Sheets read a CSV cell as a
#: formula ("CSV injection"): contributed text such as ``=HYPERLINK(...)`` would run when
#: a partner opens an export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def protect_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A text cell starting with one of :data:`FORMULA_STARTS` (or with ``'``, so that the
    change can be undone) gets a leading ``'``, which spreadsheets show as text, as
    OWASP advises. Numbers and other non-text cells are unchanged. For every CSV the
    toolkit writes that people open in a spreadsheet; :func:`unprotect_formulas` undoes it.
    """
    return _rewrite_text_cells(
        frame, lambda text: text.startswith((*FORMULA_STARTS, _QUOTE)), lambda text: _QUOTE + text
    )


def unprotect_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`protect_formulas` on a table read back from the toolkit's own CSV."""
    return _rewrite_text_cells(
        frame,
        lambda text: text[:1] == _QUOTE and text[1:].startswith((*FORMULA_STARTS, _QUOTE)),
        lambda text: text[1:],
    )


def _rewrite_text_cells(frame: pd.DataFrame, matches, rewrite) -> pd.DataFrame:
    """A copy of ``frame`` with ``rewrite(text)`` in every text cell where ``matches(text)``."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        hit = values.map(lambda v: isinstance(v, str) and matches(v)).astype(bool)
        if hit.any():
            out[column] = values.where(~hit, values[hit].map(rewrite))
    return out
