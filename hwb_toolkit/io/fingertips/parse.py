"""Parsing a Fingertips file: the CSV read with pyarrow (rows of the wrong length refused,
naming the line), workbooks and Parquet through pandas, and the header mapped onto canonical
names for either layout (Fingertips' own export or a tidy table).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hwb_toolkit.errors import HwbError, InputError, SchemaError
from hwb_toolkit.io.fingertips.checks import _complete, _convert, _flag_column, _validate
from hwb_toolkit.io.fingertips.columns import (
    _ARROW_TYPES,
    _EXCEL_SUFFIXES,
    _PARQUET_SUFFIXES,
    BOOL_COLUMNS,
    EXTRA_COLUMNS,
    FINGERTIPS_COLUMNS,
    FINGERTIPS_COLUMNS_BY_CANONICAL,
    FINGERTIPS_TO_CANONICAL,
    PARENT_COMPARISON,
    TIDY_REQUIRED,
)
from hwb_toolkit.io.tabular import (
    decode_text,
    read_table,
)
from hwb_toolkit.schema import INDICATOR_COLUMNS
from hwb_toolkit.values import require_columns


def _read_via_pandas(
    path: Path, kind: str, allowed_lengths: frozenset[int] | None = None
) -> tuple[pa.Table, dict[str, str]]:
    """The slower path: Excel, Parquet, and CSVs whose records are of two allowed lengths,
    read by :mod:`tabular` (which refuses a record of any other length, naming its row)."""
    frame = read_table(path, allowed_lengths=allowed_lengths)
    header = [str(column) for column in frame.columns]
    names = _map_header(header, kind, path)
    source_names = _source_names(header, names)
    frame = frame.set_axis([name or f"__ignored_{i}" for i, name in enumerate(names)], axis=1)
    frame = frame[[name for name in names if name is not None]]
    if frame.empty:
        raise InputError("the file has a header but no data rows", file=path)
    raw = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return _convert(raw, path, source_names, strip_all_text=True), source_names


def _source_names(header: list[str], names: list[str | None]) -> dict[str, str]:
    """Canonical name -> the column's name in the file, for error messages."""
    return {name: original for original, name in zip(header, names, strict=False) if name}


def _read_csv_header(path: Path) -> tuple[list[str], int]:
    """The header's column names, and how many fields the first data record has."""
    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
    if not sample.strip():
        raise InputError("the file is empty", file=path)
    text = decode_text(sample.split(b"\n", 1)[0], path, table=True).rstrip("\r")
    try:
        header = next(csv.reader([text]))
    except (csv.Error, StopIteration) as error:
        raise InputError(f"the header row cannot be read ({error})", file=path, row=1) from None
    # The real export ends data rows one field short of its header (no "Compared to goal"
    # field at all): count the first record's fields, honouring quoted newlines.
    records = csv.reader(io.StringIO(sample.decode("utf-8", errors="replace"), newline=""))
    next(records, None)
    first_record = next(records, None)
    first_record_fields = len(first_record) if first_record else len(header)
    return [column.strip() for column in header], first_record_fields


_FIELD_COUNT = re.compile(r"Expected (\d+) columns, got (\d+)")


def _read_csv(
    path: Path,
    kind: str,
    names: list[str | None],
    first_record_fields: int,
    source_names: dict[str, str],
) -> pa.Table:
    """Parse a CSV with pyarrow: typed first, then as text when a cell does not parse.

    Every record has the header's number of fields; a Fingertips export may have
    one fewer (the real export leaves out "Compared to goal", the last column), read
    as blank. A record of any other length (a file cut off mid-row) is refused.
    """
    header_fields = len(names)
    allowed = frozenset({header_fields})
    if kind == "fingertips" and first_record_fields == header_fields - 1:
        names = names[:-1]  # a missing trailing field reads as blank (filled in by _complete)
        allowed = frozenset({header_fields - 1, header_fields})
    source: Path | bytes = path
    try:
        return _parse_csv(source, names, typed=True)
    except pa.ArrowInvalid as error:
        problem = str(error)
    if "invalid UTF8" in problem:
        # Excel on Windows saves "CSV" as Windows-1252: decode it the project's one way.
        source = decode_text(path.read_bytes(), path, table=True).encode("utf-8")
        try:
            return _parse_csv(source, names, typed=True)
        except pa.ArrowInvalid as error:
            problem = str(error)
    if _FIELD_COUNT.search(problem):
        # Records of two lengths (both allowed), or a record of a wrong length: read by
        # pandas after tabular has checked every record's length (and named the bad row).
        return _read_via_pandas(path, kind, allowed)[0]
    if "conversion error" not in problem:
        _raise_parse_error(path, source, names, problem)
    try:
        text_table = _parse_csv(source, names, typed=False)
    except pa.ArrowInvalid as error:
        _raise_parse_error(path, source, names, str(error))
    return _convert(text_table, path, source_names, strip_all_text=False)


def _parse_csv(source: Path | bytes, names: list[str | None], *, typed: bool) -> pa.Table:
    column_names = [name or f"__ignored_{i}" for i, name in enumerate(names)]
    kept = [name for name in names if name is not None]
    types = {
        name: (_ARROW_TYPES[name] if typed and name not in BOOL_COLUMNS else pa.large_string())
        for name in kept
    }
    table = pacsv.read_csv(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        read_options=pacsv.ReadOptions(column_names=column_names, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=kept,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table


def _raise_parse_error(
    path: Path, source: Path | bytes, names: list[str | None], problem: str
) -> None:
    """Turn a pyarrow parse failure into an InputError with the spreadsheet row."""
    rows: list[int] = []

    def first_bad_row(row) -> str:
        rows.append(row.number)
        return "error"

    try:
        pacsv.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            read_options=pacsv.ReadOptions(
                column_names=[name or f"__ignored_{i}" for i, name in enumerate(names)],
                skip_rows=1,
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=first_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"__ignored_{i}": pa.string() for i in range(len(names))}
                | {name: pa.string() for name in names if name},
            ),
        )
    except pa.ArrowInvalid:
        pass
    detail = re.sub(r"^CSV parse error: (Row #\d+: )?", "", problem).split(":")[0]
    row = rows[0] if rows and rows[0] > 0 else None
    raise InputError(f"not a well-formed CSV file ({detail})", file=path, row=row) from None


def _map_header(header: list[str], kind: str, path: Path) -> list[str | None]:
    """Canonical name for each header position (None = ignored extra column)."""
    if kind == "fingertips":
        return _map_fingertips_header(header, path)
    return _map_tidy_header(header, path)


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _map_fingertips_header(header: list[str], path: Path) -> list[str | None]:
    # Capitalisation and spacing vary a little between Fingertips releases; accept those.
    def loose(name: str) -> str:
        return " ".join(name.split()).lower()

    known = {loose(name): canonical for name, canonical in FINGERTIPS_TO_CANONICAL.items()}
    known.update({loose(name): canonical for name, canonical in EXTRA_COLUMNS.items()})
    names: list[str | None] = []
    for column in header:
        canonical = known.get(loose(column))
        if canonical is None:
            match = PARENT_COMPARISON.match(column)
            if match and loose(match.group("parent")) != "england":
                canonical = "compared_to_parent"
        if canonical is not None and canonical in names:
            raise SchemaError(f"column '{column}' appears twice", file=path, column=column)
        names.append(canonical)
    if "compared_to_parent" not in names:
        parent_like = [
            c for c in header if c.lower().startswith("compared to") and "england" not in c.lower()
        ]
        hint = f" (found '{parent_like[0]}')" if parent_like else ""
        raise SchemaError(
            "missing required column(s): 'Compared to <Parent> value or percentiles'" + hint,
            file=path,
            column="Compared to <Parent> value or percentiles",
        )
    present = [
        FINGERTIPS_COLUMNS_BY_CANONICAL[n] for n in names if n in FINGERTIPS_COLUMNS_BY_CANONICAL
    ]
    missing = [name for name in FINGERTIPS_COLUMNS if name not in present]
    if missing:
        require_columns(pd.DataFrame(columns=header), FINGERTIPS_COLUMNS, path)
    return names


def _map_tidy_header(header: list[str], path: Path) -> list[str | None]:
    canonical = set(INDICATOR_COLUMNS) | set(EXTRA_COLUMNS.values())
    require_columns(pd.DataFrame(columns=header), TIDY_REQUIRED, path)
    by_squashed = {_squash(name): name for name in canonical}
    names: list[str | None] = []
    for column in header:
        if column in canonical:
            if column in names:
                raise SchemaError(f"column '{column}' appears twice", file=path, column=column)
            names.append(column)
            continue
        near = by_squashed.get(_squash(column))
        if near is not None:
            raise SchemaError(
                f"column '{column}' is not a canonical name: did you mean '{near}'?",
                file=path,
                column=column,
            )
        names.append(None)
    return names


def _detect_kind(path: Path) -> str:
    """'fingertips' or 'tidy', from the file's header."""
    suffix = path.suffix.lower()
    try:
        if suffix in _PARQUET_SUFFIXES:
            header = pq.read_schema(path).names
        elif suffix in _EXCEL_SUFFIXES:
            header = [str(c).strip() for c in pd.read_excel(path, nrows=0).columns]
        else:
            header = _read_csv_header(path)[0]
    except HwbError:
        raise
    except Exception as error:
        raise InputError(f"cannot read the header ({error})", file=path) from None
    loose = {" ".join(column.split()).lower() for column in header}
    if {"indicator id", "area code"} <= loose:
        return "fingertips"
    if {"indicator_id", "area_code"} <= set(header):
        return "tidy"
    raise SchemaError(
        "neither a Fingertips all-data export (no 'Indicator ID' and 'Area Code' columns) "
        "nor a tidy indicator file (no 'indicator_id' and 'area_code' columns)",
        file=path,
        column="Indicator ID",
    )


def _ingest(path: Path, kind: str) -> pa.Table:
    """Parse, convert and validate one file; returns the canonical Arrow table."""
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES and kind == "fingertips":
        raise InputError("a Fingertips export is a CSV or Excel file, not Parquet", file=path)
    if suffix in _EXCEL_SUFFIXES or suffix in _PARQUET_SUFFIXES:
        table, source_names = _read_via_pandas(path, kind)
    else:
        header, first_record_fields = _read_csv_header(path)
        names = _map_header(header, kind, path)
        source_names = _source_names(header, names)
        table = _read_csv(path, kind, names, first_record_fields, source_names)
    for flag in BOOL_COLUMNS:
        if flag in table.column_names and not pa.types.is_boolean(table[flag].type):
            converted = _flag_column(table[flag], path, source_names.get(flag, flag))
            table = table.set_column(table.column_names.index(flag), flag, converted)
    table = _complete(table)
    # One chunk per column (the CSV parser gives one per 1 MB block): a national file's
    # ~300 chunks made the cache re-load 3x and the area summaries 1.7x slower. Column
    # by column, so that each chunked column is freed before the next is copied.
    for position, name in enumerate(table.column_names):
        table = table.set_column(position, name, table.column(position).combine_chunks())
    _validate(table, path, source_names)
    return table
