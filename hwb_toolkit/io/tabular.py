"""Reading tabular files safely: the one place that decodes CSV/XLSX/Parquet.

Every reader in :mod:`hwb_toolkit.io` goes through :func:`read_table` and the
column helpers here, so that every input problem comes back as one
:class:`~hwb_toolkit.errors.HwbError` naming the file, the row (spreadsheet
convention: header = row 1, first data row = row 2) and the column, and so
that encodings are handled the same way everywhere: UTF-8 (with or without a
byte-order mark) first, then Windows-1252, the encoding Excel on Windows
writes "CSV" in.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError, SchemaError

#: Row number, in a spreadsheet, of the first data row (the header is row 1).
FIRST_DATA_ROW = 2

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


def decode_text(raw: bytes, path: str | Path) -> str:
    """Decode the bytes of a text file: UTF-8 (BOM stripped) or else Windows-1252.

    Raises :class:`InputError` naming the file and line when neither fits (for
    example a binary file given as CSV).
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            line = raw[: utf8_error.start].count(b"\n") + 1
            raise InputError(
                "the file is neither UTF-8 nor Windows-1252 text "
                f"(undecodable byte 0x{raw[utf8_error.start]:02x})",
                file=path,
                row=line,
            ) from None


def read_table(path: str | Path, *, sheet: str | int = 0, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV, TSV, Excel or Parquet file with every column as text.

    Values stay as strings (empty cells become missing) so that each reader
    validates and converts its own columns with :func:`numeric_column` and
    reports bad cells precisely. Parquet files keep their stored types.
    Column names are stripped of surrounding white space.

    Raises :class:`InputError` for a missing, empty or unreadable file.
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
        text = decode_text(raw, path)
        if sep is None:
            sep = "\t" if suffix == ".tsv" else ","
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
            )
        except pd.errors.ParserError as error:
            raise InputError(f"not a well-formed CSV file ({error})", file=path) from None
        except pd.errors.EmptyDataError:
            raise InputError("the file is empty", file=path) from None
    frame.columns = [str(column).strip() for column in frame.columns]
    if frame.empty and len(frame.columns) == 0:
        raise InputError("the file is empty", file=path)
    return frame


def require_columns(
    frame: pd.DataFrame, required: Iterable[str], path: str | Path | None
) -> None:
    """Raise :class:`SchemaError` listing every required column the table lacks.

    Near misses (same name ignoring case, spaces and underscores) are named so a
    renamed column is easy to spot.
    """
    present = list(frame.columns)
    missing = [column for column in required if column not in present]
    if not missing:
        return

    def squash(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    by_squashed = {squash(column): column for column in present}
    hints = [
        f"'{name}' (found '{by_squashed[squash(name)]}')"
        if squash(name) in by_squashed
        else f"'{name}'"
        for name in missing
    ]
    raise SchemaError(
        "missing required column(s): " + ", ".join(hints), file=path, column=missing[0]
    )


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
