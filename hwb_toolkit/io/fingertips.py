"""Reading indicator data: Fingertips all-data exports and tidy canonical files.

Every indicator table enters the toolkit here and leaves in the canonical
columns of :data:`hwb_toolkit.schema.INDICATOR_COLUMNS`, in that order, with
these types:

- ``indicator_id``, ``period_sortable``: pandas ``Int64`` (nullable integer);
- ``value``, the four CI limits, ``count``, ``denominator``: ``float64``
  (missing = NaN; suppressed values are NaN, never 0);
- ``new_data``: ``bool`` (True where the export says "New data", False where
  it is blank);
- every other column: pandas ``string`` dtype (missing = ``<NA>``).

When the export has the newer ``Time period range`` column (27-column
layout), it is kept as an extra trailing text column ``time_period_range``
after the canonical columns; 26-column exports have no such column.

Three readers:

- :func:`read_fingertips_csv` for the Fingertips all-data export (CSV, or the
  same layout saved as Excel);
- :func:`read_indicators` for a tidy CSV/XLSX/Parquet already in canonical
  snake_case columns;
- :func:`read_indicator_folder` for a workspace's ``indicators/`` folder.

Speed: CSV files are parsed by ``pyarrow.csv`` with every column's type given
(numbers straight to float64/int64, text as strings), and every check is
vectorised. Only when that fails (a cell that is not a number, a suppression
mark such as ``*``, a Windows-1252 file) does the reader fall back to reading
text and converting it column by column with :mod:`hwb_toolkit.io.tabular`,
which names the first bad cell.

Cache: each ingested file is cached in a ``.cache/`` folder beside it (or
``cache_dir``) as an uncompressed Arrow IPC file (Feather v2, ``.arrow``),
keyed by the file's resolved path, size and modification time and by
:data:`CACHE_VERSION` (stored in the file's schema metadata). It is written
atomically (:func:`hwb_toolkit.io.writers.atomic_path`); a stale, unreadable or
malformed cache is ignored and rebuilt, and a failure to write one only costs
speed. Re-loading memory-maps the file: numbers are copied into pandas' blocks,
text columns wrap the mapped Arrow strings zero-copy as the canonical
``pd.StringDtype("pyarrow")`` (pages are read when first touched).

Why Arrow IPC and not Parquet: the goal is a re-load in at most 0.1x the time
``pyarrow.csv.read_csv`` takes to parse the same file. Measured with
``bench/bench_ingest.py`` on its generated 1,000,000-row national export
(294 MB CSV; 2-core machine shared with other work; median of per-round
ratios over 5 interleaved rounds, four runs): the memory-mapped Arrow IPC
cache re-loads at 0.01-0.02x, and at 0.05-0.09x even when every text value
is then read once (the deferred page reads); reading the IPC file into memory
instead of mapping it gave 0.06x. Parquet stays above the goal: as cached
before (lz4, one row group) 0.19-0.58x, and the best variants tried 0.13-0.31x
(uncompressed with ``memory_map``; text read with ``read_dictionary`` then cast
to strings on both cores; 128k-row groups and plain encoding were no better).
Parquet cannot get there because pandas' string dtype needs ``large_string``
arrays, so ~390 MB of repetitive text must be decoded and copied out of
Parquet's pages on every load (dictionary-encoded reads are fast, but the
dictionary-to-string cast then costs as much); Arrow IPC stores the
``large_string`` buffers themselves and needs no decoding. The costs: disk
(~390 MB of cache against ~32 MB as lz4 Parquet); no check of the data bytes
(the footer, schema, key and array structure are checked on every load, but a
checksum over the body would read every page and lose the speed, so bit rot
inside a cache goes unnoticed, where lz4 Parquet caught about half of random
byte flips); and the mapping's lifetime: the cache is only ever replaced by
:func:`os.replace`, never rewritten in place, so frames still mapping an older
cache stay valid, but on Windows a cache file mapped by a live frame cannot
be replaced, and the rebuilt cache is then not written (logged) until that
frame is gone.

Cleaning: the trailing newline the export puts inside "Indicator Name" is
stripped; in CSV files other text is kept as written, while Excel and Parquet
cells (typed by people) are stripped of surrounding spaces. Blank cells are
missing. In a Fingertips export, records one field short of the header (the
real export writes 25 fields under its 26-column header, leaving out "Compared
to goal") read the missing trailing field as blank; a record of any other
length is refused. In numeric columns the marks of
:data:`MISSING_MARKERS` ("*", "..", "[c]", "NA", ...) read as NaN.

Validation, each as one :class:`~hwb_toolkit.errors.InputError` (or
:class:`~hwb_toolkit.errors.SchemaError`) naming file, row (header = row 1)
and column: missing or renamed columns (with near-miss hints), a cell that is
not a number, a value that is not finite (``inf``), a lower confidence limit
above its upper limit or a value outside them, a record with more or fewer
fields than the header (a file cut off mid-row), a negative count or
denominator, a denominator of zero where a count is given, a blank indicator
ID / area code / time period, an unknown
"New data" flag, an empty file, and duplicate keys (same indicator, area, sex,
age, category type, category and period on two rows, naming both rows).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hwb_toolkit.errors import HwbError, InputError, SchemaError
from hwb_toolkit.io.indicator_values import check_indicator_values
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    decode_text,
    numeric_column,
    read_table,
    require_columns,
)
from hwb_toolkit.io.writers import atomic_path
from hwb_toolkit.schema import INDICATOR_COLUMNS

log = logging.getLogger(__name__)

#: Bump when the canonical output (columns, types, cleaning) or the cache format changes:
#: old caches are then ignored and rebuilt. 2: Arrow IPC instead of Parquet. 3: values
#: checked finite and inside their limits (a cache of version 2 may hold a row that is not).
CACHE_VERSION = 3
#: Schema-metadata key holding the cache key (version, kind, path, size, mtime).
_CACHE_KEY = b"hwb_cache_key"

#: The fixed columns of the Fingertips all-data export and their canonical names. The
#: parent comparison column ("Compared to <Parent> value or percentiles") varies with the
#: parent area type and is matched by :data:`PARENT_COMPARISON`.
FINGERTIPS_TO_CANONICAL: dict[str, str] = {
    "Indicator ID": "indicator_id",
    "Indicator Name": "indicator_name",
    "Parent Code": "parent_code",
    "Parent Name": "parent_name",
    "Area Code": "area_code",
    "Area Name": "area_name",
    "Area Type": "area_type",
    "Sex": "sex",
    "Age": "age",
    "Category Type": "category_type",
    "Category": "category",
    "Time period": "period",
    "Value": "value",
    "Lower CI 95.0 limit": "lower_ci95",
    "Upper CI 95.0 limit": "upper_ci95",
    "Lower CI 99.8 limit": "lower_ci998",
    "Upper CI 99.8 limit": "upper_ci998",
    "Count": "count",
    "Denominator": "denominator",
    "Value note": "value_note",
    "Recent Trend": "recent_trend",
    "Compared to England value or percentiles": "compared_to_england",
    "Time period Sortable": "period_sortable",
    "New data": "new_data",
    "Compared to goal": "compared_to_goal",
}
#: The fixed Fingertips header names, in export order (the parent column sits after England's).
FINGERTIPS_COLUMNS: list[str] = list(FINGERTIPS_TO_CANONICAL)
#: The parent comparison column; the group is the parent's name ("Region", "CCGs (since 4/20) ...").
PARENT_COMPARISON = re.compile(r"^Compared to (?P<parent>.+) value or percentiles$", re.IGNORECASE)
#: Optional column of the 27-column layout, kept as a trailing extra column.
TIME_PERIOD_RANGE = "Time period range"
EXTRA_COLUMNS: dict[str, str] = {TIME_PERIOD_RANGE: "time_period_range"}

#: The columns that identify one published figure; two rows may not share them.
KEY_COLUMNS: list[str] = [
    "indicator_id",
    "area_code",
    "sex",
    "age",
    "category_type",
    "category",
    "period",
]
INTEGER_COLUMNS = ("indicator_id", "period_sortable")
FLOAT_COLUMNS = (
    "value",
    "lower_ci95",
    "upper_ci95",
    "lower_ci998",
    "upper_ci998",
    "count",
    "denominator",
)
BOOL_COLUMNS = ("new_data",)
TEXT_COLUMNS = tuple(
    column
    for column in INDICATOR_COLUMNS
    if column not in INTEGER_COLUMNS + FLOAT_COLUMNS + BOOL_COLUMNS
)
#: Columns that may not be blank on any row.
REQUIRED_VALUES = ("indicator_id", "area_code", "period")
#: Columns a tidy file must have; the others are optional and filled with missing values.
TIDY_REQUIRED = ("indicator_id", "area_code", "period", "value")

#: Cells in numeric columns read as missing (NaN), not as errors: suppression and
#: "not available" marks used by Fingertips, ONS/GSS tables and R/pandas.
MISSING_MARKERS = ("*", "**", "..", ":", "-", "x", "c", "[c]", "[x]", "[z]", "[low]", "NA", "NaN")
#: Accepted spellings of the "New data" flag (compared lower-case); blank means False.
_NEW_DATA_TRUE = ("new data", "true", "yes", "y", "1")
_NEW_DATA_FALSE = ("false", "no", "n", "0")

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_CSV_SUFFIXES = {".csv", ".txt"}
DATA_SUFFIXES = _EXCEL_SUFFIXES | _PARQUET_SUFFIXES | _CSV_SUFFIXES

_STRING = pd.StringDtype("pyarrow")
_TYPES_MAPPER = {
    pa.string(): _STRING,
    pa.large_string(): _STRING,
    pa.int64(): pd.Int64Dtype(),
}.get
_ARROW_TYPES: dict[str, pa.DataType] = {
    **{column: pa.int64() for column in INTEGER_COLUMNS},
    **{column: pa.float64() for column in FLOAT_COLUMNS},
    **{column: pa.bool_() for column in BOOL_COLUMNS},
    # large_string is what pandas' pyarrow-backed "string" dtype holds: no conversion later.
    **{column: pa.large_string() for column in TEXT_COLUMNS},
    "time_period_range": pa.large_string(),
}

#: (name, Arrow type) of the canonical columns, in order: what a cache must start with.
_CANONICAL_FIELDS = [(name, _ARROW_TYPES[name]) for name in INDICATOR_COLUMNS]


# --- public readers -----------------------------------------------------------------


def read_fingertips_csv(
    path: str | os.PathLike,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read a Fingertips all-data export (CSV, or the same layout as .xlsx) into canonical columns.

    ``value`` and the CI limits stay on the indicator's published scale (e.g. a rate
    per 100,000); ``count`` and ``denominator`` are raw. The trailing newline the
    export puts in "Indicator Name" is stripped. Both "Compared to England ..." and
    the "Compared to <Parent> value or percentiles" column (whatever the parent
    area type) are required; "Time period range" becomes a trailing extra column.

    With ``cache`` (default), the result is stored as an Arrow IPC file in
    ``cache_dir`` (default: ``.cache/`` beside the file) and re-used, memory-mapped,
    while the file is unchanged (see the module notes).

    Raises :class:`SchemaError` for missing/renamed columns and :class:`InputError`
    for any bad cell, naming file, row and column.
    """
    return _read_cached(Path(path), "fingertips", cache, cache_dir)


def read_indicators(
    path: str | os.PathLike,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read a tidy CSV/XLSX/Parquet file already in canonical snake_case columns.

    ``indicator_id``, ``area_code``, ``period`` and ``value`` are required; other
    canonical columns are optional and filled with missing values (``new_data``
    with False). When ``period_sortable`` is absent it is derived from the first
    four-digit year in ``period`` (year x 10000, Fingertips' convention for
    annual and financial-year periods). A column whose name is a near miss of a
    canonical one (``Lower_CI95``, ``area code``) is rejected rather than ignored.
    Same types, checks and caching as :func:`read_fingertips_csv`.
    """
    return _read_cached(Path(path), "tidy", cache, cache_dir)


def read_indicator_folder(
    folder: str | os.PathLike,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    calculators: Mapping[int, tuple[str, float]] | None = None,
) -> pd.DataFrame:
    """Read every .csv/.xlsx/.parquet file in ``folder`` and stack them in canonical columns.

    Each file is recognised by its header: a Fingertips export has "Indicator ID"
    and "Area Code" columns; a tidy file has ``indicator_id`` and ``area_code``.
    Hidden files, Excel lock files (``~$...``) and sub-folders are skipped; any
    other data file raises :class:`SchemaError`. The same key on two rows, within
    one file or across two files, raises :class:`InputError` naming both.
    Files are read in name order; an empty folder gives an empty canonical frame.

    ``calculators`` (indicator id -> (calculator, multiplier), from the strategy):
    each file's values are also checked against what their calculator can produce
    (:func:`hwb_toolkit.io.indicator_values.check_indicator_values`): an impossible
    value raises, and a row Fingertips may publish but no figure can use (a
    proportion above 100%) is left out with an :class:`InputWarning`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("indicator folder not found", file=folder)
    files = sorted(
        entry
        for entry in folder.iterdir()
        if entry.is_file()
        and entry.suffix.lower() in DATA_SUFFIXES
        and not entry.name.startswith((".", "~$"))
    )
    frames: list[pd.DataFrame] = []
    kept: list[np.ndarray] = []
    for file in files:
        cached = _cached_frame(file, cache_dir) if cache else None
        if cached is None:
            cached = _read_cached(file, _detect_kind(file), cache, cache_dir)
        frames.append(cached)
        kept.append(
            check_indicator_values(cached, file, calculators, _column_names(file))
            if calculators
            else np.ones(len(cached), dtype=bool)
        )
    if not frames:
        return _to_pandas(_empty_table())
    if len(frames) == 1:
        return _kept_rows(frames[0], kept[0])
    combined = pd.concat(frames, ignore_index=True)
    if "time_period_range" in combined.columns:
        combined["time_period_range"] = combined["time_period_range"].astype(_STRING)
    sources = np.repeat(np.arange(len(frames)), [len(frame) for frame in frames])
    offsets = np.concatenate([[0], np.cumsum([len(frame) for frame in frames])])
    pair = _first_duplicate_pair(combined)
    if pair is not None:
        first, second = pair
        first_file, second_file = files[sources[first]], files[sources[second]]
        first_row = int(first - offsets[sources[first]]) + FIRST_DATA_ROW
        second_row = int(second - offsets[sources[second]]) + FIRST_DATA_ROW
        raise InputError(
            f"the same figure ({_describe_key(combined, second)}) is given twice: "
            f"in {first_file.name} row {first_row} and in {second_file.name} row {second_row}",
            file=second_file,
            row=second_row,
        )
    return _kept_rows(combined, np.concatenate(kept))


def _kept_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def _column_names(file: Path) -> dict[str, str]:
    """Canonical name -> the column's name in ``file`` (for messages about its cells)."""
    if _detect_kind(file) == "fingertips":
        return FINGERTIPS_COLUMNS_BY_CANONICAL
    return {}


# --- caching ----------------------------------------------------------------------------


def _read_cached(
    path: Path, kind: str, cache: bool, cache_dir: str | os.PathLike | None
) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=path)
    if not path.is_file():
        raise InputError("not a file", file=path)
    if not cache:
        return _to_pandas(_ingest(path, kind))
    cache_path = _cache_path(path, kind, cache_dir)
    key = _cache_key(path, kind)
    table = _load_cache(cache_path, key)
    if table is None:
        table = _ingest(path, kind)
        _write_cache(table, cache_path, key)
    return _to_pandas(table)


def _cached_frame(path: Path, cache_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """A valid cache of ``path`` of either kind, without reading the file (None if none)."""
    for kind in ("fingertips", "tidy"):
        table = _load_cache(_cache_path(path, kind, cache_dir), _cache_key(path, kind))
        if table is not None:
            return _to_pandas(table)
    return None


def _cache_path(path: Path, kind: str, cache_dir: str | os.PathLike | None) -> Path:
    folder = Path(cache_dir) if cache_dir is not None else path.parent / ".cache"
    digest = hashlib.sha1(f"{kind}|{path.resolve()}".encode()).hexdigest()[:12]
    return folder / f"{path.name}.{kind}.{digest}.arrow"


def _cache_key(path: Path, kind: str) -> bytes:
    stat = path.stat()
    return f"v{CACHE_VERSION}|{kind}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()


def _load_cache(cache_path: Path, key: bytes) -> pa.Table | None:
    """The cached table when it exists and matches ``key``; None when absent, stale or corrupt.

    The file is memory-mapped: the table's buffers point into the mapping, which
    lives as long as they do (closing the file does not unmap it).
    """
    if not cache_path.is_file():
        return None
    try:
        with pa.memory_map(str(cache_path)) as source:
            reader = pa.ipc.open_file(source)
            if (reader.schema.metadata or {}).get(_CACHE_KEY) != key:
                return None
            table = reader.read_all()
        # Structure only (lengths, buffer sizes, offsets' ends): cheap, unlike full validation,
        # which would read every string and cost more than the load itself.
        table.validate()
    except Exception as error:  # a corrupt cache is never fatal: rebuild it
        log.info("ignoring unreadable cache %s (%s)", cache_path, error)
        return None
    found = [(field.name, field.type) for field in table.schema][: len(_CANONICAL_FIELDS)]
    if found != _CANONICAL_FIELDS:
        return None
    return table.replace_schema_metadata(None)


def _write_cache(table: pa.Table, cache_path: Path, key: bytes) -> None:
    """Write the cache atomically; a failure (read-only folder, disk full) only costs speed."""
    table = table.replace_schema_metadata({_CACHE_KEY: key})
    try:
        with (
            atomic_path(cache_path) as temporary,
            pa.OSFile(str(temporary), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as writer,
        ):
            writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    except (OSError, pa.ArrowException) as error:
        log.info("could not write cache %s (%s)", cache_path, error)
        return
    # Caches of CACHE_VERSION 1 were Parquet files of the same name: remove the one replaced.
    with contextlib.suppress(OSError):
        cache_path.with_suffix(".parquet").unlink(missing_ok=True)


# --- ingest -----------------------------------------------------------------------------


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


FINGERTIPS_COLUMNS_BY_CANONICAL = {
    canonical: name for name, canonical in FINGERTIPS_TO_CANONICAL.items()
}


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


# --- conversion -------------------------------------------------------------------------


def _convert(
    raw: pa.Table, path: Path, source_names: Mapping[str, str], *, strip_all_text: bool
) -> pa.Table:
    """Text (or loosely typed) columns -> canonical Arrow types, naming the first bad cell."""
    columns = {}
    for name in raw.column_names:
        array = raw[name]
        target = _ARROW_TYPES[name]
        label = source_names.get(name, name)
        if name in FLOAT_COLUMNS or name in INTEGER_COLUMNS:
            if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
                values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
            else:
                series = pd.Series(array.to_pandas(types_mapper=_TYPES_MAPPER), name=label)
                values = numeric_column(
                    series.to_frame(),
                    label,
                    path,
                    integer=name in INTEGER_COLUMNS,
                    missing_markers=MISSING_MARKERS,
                ).to_numpy()
            if name in INTEGER_COLUMNS:
                _check_whole(values, path, label)
                array = pa.array(values, mask=np.isnan(values)).cast(pa.int64())
            else:
                array = pa.array(values, type=pa.float64(), from_pandas=True)
        elif name in BOOL_COLUMNS:
            array = _flag_column(array, path, label)
        else:
            if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
                if pa.types.is_floating(array.type):
                    # A year stored as a float in Excel/Parquet (2015.0) should read "2015".
                    values = array.to_numpy(zero_copy_only=False)
                    whole = np.isfinite(values) & (values == np.floor(values))
                    if whole[~np.isnan(values)].all():
                        array = pa.array(values, mask=np.isnan(values)).cast(pa.int64())
                array = array.cast(pa.string())
            array = array.cast(target)
            array = pc.utf8_trim_whitespace(array) if strip_all_text else array
            array = pc.if_else(pc.equal(array, ""), pa.scalar(None, target), array)
        columns[name] = array
    return pa.table(columns)


def _check_whole(values: np.ndarray, path: Path, label: str) -> None:
    bad = ~np.isnan(values) & (values != np.floor(values))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{values[position]:g} is not a whole number",
            file=path,
            row=position + FIRST_DATA_ROW,
            column=label,
        )


def _flag_column(array: pa.ChunkedArray, path: Path, label: str) -> pa.ChunkedArray:
    """Map "New data" / blank (or true/false, yes/no, 1/0) to bool, rejecting anything else."""
    if pa.types.is_boolean(array.type):
        return pc.fill_null(array, False)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    exact = pc.equal(array, "New data")
    if pc.all(pc.fill_null(exact, True)).as_py():  # the export's own spelling: the fast path
        return pc.fill_null(exact, False)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(array))
    is_true = pc.is_in(text, value_set=pa.array(_NEW_DATA_TRUE))
    is_false = pc.or_kleene(
        pc.is_in(text, value_set=pa.array(_NEW_DATA_FALSE)),
        pc.or_kleene(pc.is_null(text), pc.equal(text, "")),
    )
    unknown = pc.invert(pc.or_(pc.fill_null(is_true, False), pc.fill_null(is_false, True)))
    if pc.any(unknown).as_py():
        position = int(np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[0])
        raise InputError(
            f"{array[position].as_py()!r} is not a 'New data' flag (expected 'New data' or blank)",
            file=path,
            row=position + FIRST_DATA_ROW,
            column=label,
        )
    return pc.fill_null(is_true, False)


def _complete(table: pa.Table) -> pa.Table:
    """Canonical column order and types; optional columns of tidy files filled in."""
    rows = table.num_rows
    columns = {}
    for name in INDICATOR_COLUMNS:
        if name in table.column_names:
            array = table[name]
        elif name == "period_sortable" and "period" in table.column_names:
            year = pc.extract_regex(table["period"], r"(?P<year>\d{4})")
            array = pc.multiply(pc.struct_field(year, "year").cast(pa.int64()), 10000)
        elif name in BOOL_COLUMNS:
            array = pa.array(np.zeros(rows, dtype=bool))
        else:
            array = pa.nulls(rows, _ARROW_TYPES[name])
        if name == "indicator_name":
            # The real export ends every name with a newline inside the quotes.
            array = pc.utf8_trim_whitespace(array)
        columns[name] = array.cast(_ARROW_TYPES[name])
    for extra in EXTRA_COLUMNS.values():
        if extra in table.column_names:
            columns[extra] = table[extra].cast(pa.large_string())
    return pa.table(columns)


def _empty_table() -> pa.Table:
    return pa.table({name: pa.array([], _ARROW_TYPES[name]) for name in INDICATOR_COLUMNS})


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_TYPES_MAPPER)


# --- validation -------------------------------------------------------------------------


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    return table[name].to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _fail_at(mask: np.ndarray, message, path: Path, column: str) -> None:
    if mask.any():
        position = int(np.flatnonzero(mask)[0])
        raise InputError(message(position), file=path, row=position + FIRST_DATA_ROW, column=column)


def _validate(table: pa.Table, path: Path, source_names: Mapping[str, str]) -> None:
    """Vectorised checks that need whole columns: blanks, signs, zero denominators, duplicates."""
    if table.num_rows == 0:
        raise InputError("the file has a header but no data rows", file=path)
    for name in REQUIRED_VALUES:
        blank = table[name].is_null().to_numpy(zero_copy_only=False)
        _fail_at(
            blank,
            lambda _: "this cell is blank but is required",
            path,
            source_names.get(name, name),
        )
    for name in FLOAT_COLUMNS:
        values = _numbers(table, name)
        _fail_at(
            np.isinf(values),
            lambda i, values=values: f"{values[i]} is not a finite number",
            path,
            source_names.get(name, name),
        )
    _check_limits(table, path, source_names)
    count = _numbers(table, "count")
    denominator = _numbers(table, "denominator")
    count_name = source_names.get("count", "count")
    denominator_name = source_names.get("denominator", "denominator")
    _fail_at(count < 0, lambda i: f"a count cannot be negative ({count[i]:g})", path, count_name)
    _fail_at(
        denominator < 0,
        lambda i: f"a denominator cannot be negative ({denominator[i]:g})",
        path,
        denominator_name,
    )
    _fail_at(
        (denominator == 0) & ~np.isnan(count),
        lambda i: f"the denominator is 0 but a count ({count[i]:g}) is given",
        path,
        denominator_name,
    )
    keys = table.select(KEY_COLUMNS).to_pandas(types_mapper=_TYPES_MAPPER)
    pair = _first_duplicate_pair(keys)
    if pair is not None:
        first, second = pair
        raise InputError(
            f"rows {first + FIRST_DATA_ROW} and {second + FIRST_DATA_ROW} give the same figure "
            f"({_describe_key(keys, second)})",
            file=path,
            row=second + FIRST_DATA_ROW,
        )


#: (lower, upper, level) of the two confidence intervals the export gives.
_LIMITS = (("lower_ci95", "upper_ci95", "95%"), ("lower_ci998", "upper_ci998", "99.8%"))


def _check_limits(table: pa.Table, path: Path, source_names: Mapping[str, str]) -> None:
    """Lower limit <= value <= upper limit wherever they are given (a confidence interval
    is built around its value: any other order is a damaged or shifted row)."""
    value = _numbers(table, "value")
    # Both are printed from the same double by the same export; allow only float noise.
    slack = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(value)))
    for lower_name, upper_name, level in _LIMITS:
        lower, upper = _numbers(table, lower_name), _numbers(table, upper_name)
        checks = (
            (lower - upper > slack, lower_name,
             lambda i, lo=lower, hi=upper, lv=level:
             f"the lower {lv} limit ({lo[i]:g}) is above the upper limit ({hi[i]:g})"),
            (lower - value > slack, "value",
             lambda i, lo=lower, lv=level:
             f"the value ({value[i]:g}) is below its lower {lv} limit ({lo[i]:g})"),
            (value - upper > slack, "value",
             lambda i, hi=upper, lv=level:
             f"the value ({value[i]:g}) is above its upper {lv} limit ({hi[i]:g})"),
        )
        for mask, column, describe in checks:
            _fail_at(mask, describe, path, source_names.get(column, column))


def _first_duplicate_pair(frame: pd.DataFrame) -> tuple[int, int] | None:
    """Positions (first, second) of the earliest row repeating an earlier row's key, or None."""
    repeated = frame.duplicated(KEY_COLUMNS, keep="first").to_numpy()
    if not repeated.any():
        return None
    second = int(np.flatnonzero(repeated)[0])
    keys = frame[KEY_COLUMNS]
    same = np.ones(len(frame), dtype=bool)
    for column in KEY_COLUMNS:
        values = keys[column]
        target = values.iloc[second]
        same &= (values.isna() if pd.isna(target) else values.eq(target).fillna(False)).to_numpy(
            dtype=bool
        )
    first = int(np.flatnonzero(same)[0])
    return first, second


def _describe_key(frame: pd.DataFrame, position: int) -> str:
    row = frame.iloc[position]
    parts = []
    for column in KEY_COLUMNS:
        value = row[column]
        parts.append(f"{column} {'(blank)' if pd.isna(value) else value}")
    return ", ".join(parts)
