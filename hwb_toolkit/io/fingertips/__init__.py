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

The package: :mod:`.read` (the public readers), :mod:`.parse` (CSV, workbooks, headers),
:mod:`.checks` (types and values), :mod:`.cache` (the Parquet cache), :mod:`.columns`.
"""

from hwb_toolkit.io.fingertips.columns import FINGERTIPS_COLUMNS
from hwb_toolkit.io.fingertips.read import (
    read_fingertips_csv,
    read_indicator_folder,
    read_indicators,
)

__all__ = ["FINGERTIPS_COLUMNS", "read_fingertips_csv", "read_indicators", "read_indicator_folder"]
