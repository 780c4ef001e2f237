"""Benchmark: ingesting a national-scale Fingertips all-data export.

Generates a seeded, realistic all-data CSV (default 1,000,000 rows: real
column layout, quoted indicator names with commas and the trailing newline the
real export carries, a varying parent column, blank 99.8% limits, category
rows, suppressed values with blank counts) in a temporary folder, then in the
same run measures:

- ``pyarrow.csv.read_csv`` of the file (the floor: the fastest correct parse),
- :func:`hwb_toolkit.io.fingertips.read_fingertips_csv` cold (no cache),
- the first cached read (parse + cache written),
- the re-load from the cache (a memory-mapped Arrow IPC file),
- the same re-load followed by reading every text value once (the mapped pages
  are read when first touched: this shows that deferred cost),
- (what-if) the same table cached as Parquet the way version 1 of the cache did
  (lz4, one row group), and the two fastest Parquet variants found: uncompressed
  and memory-mapped, and text read dictionary-encoded then cast to strings,
  each into the same dtypes the readers return,

in interleaved rounds, and prints min and median seconds, ratios against
pyarrow (goals: ingest <= 1.5x, re-load <= 0.1x), and the peak resident memory
of a fresh process doing each read. It then times ``summarise_all_areas`` on
the whole national table, and its recent-trend step against the per-series
:func:`~hwb_toolkit.indicators.compare.recent_trend` loop it replaced (on a
sample of series, checked equal, scaled to all series); ``--no-summary`` skips
that.

Run: ``.venv/bin/python bench/bench_ingest.py [--rows N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hwb_toolkit.indicators.compare import recent_trend, recent_trends
from hwb_toolkit.indicators.summary import summarise_all_areas
from hwb_toolkit.io.fingertips import FINGERTIPS_COLUMNS, read_fingertips_csv
from hwb_toolkit.io.fingertips.checks import _to_pandas

GOAL_INGEST = 1.5
GOAL_RELOAD = 0.1

_REGIONS = [
    ("E12000001", "North East region"),
    ("E12000002", "North West region"),
    ("E12000003", "Yorkshire and the Humber region"),
    ("E12000004", "East Midlands region"),
    ("E12000005", "West Midlands region"),
    ("E12000006", "East of England region"),
    ("E12000007", "London region"),
    ("E12000008", "South East region"),
    ("E12000009", "South West region"),
]
_SEXES = ["Persons", "Male", "Female"]
_AGES = ["All ages", "18+ yrs", "0-9 yrs", "65+ yrs"]
_NAME_PARTS = [
    "Campylobacter incidence rate/100,000",
    "Under 75 mortality rate from all causes, (persons)",
    'Percentage of physically active adults, "current method"',
    "Emergency hospital admissions for intentional self-harm",
    "Loneliness: percentage of adults who feel lonely often, always or some of the time",
]


def generate_export(path: Path, rows: int, seed: int = 20261126) -> None:
    """Write a Fingertips-layout all-data CSV with ``rows`` data rows (unique keys)."""
    rng = np.random.default_rng(seed)
    n_areas = 150
    per_indicator = n_areas * len(_SEXES) * len(_AGES)  # one period's rows for one indicator
    n_periods = 8
    n_indicators = -(-rows // (per_indicator * n_periods))
    index = np.arange(rows)
    area = index % n_areas
    sex = (index // n_areas) % len(_SEXES)
    age = (index // (n_areas * len(_SEXES))) % len(_AGES)
    period = (index // per_indicator) % n_periods
    indicator = index // (per_indicator * n_periods)
    assert indicator.max() < n_indicators

    indicator_ids = 90000 + np.arange(n_indicators) * 7
    names = np.array(
        [f"{_NAME_PARTS[i % len(_NAME_PARTS)]} ({i})\n" for i in range(n_indicators)], dtype=object
    )
    area_codes = np.array([f"E{6 + k % 4:02d}{k:06d}" for k in range(n_areas)], dtype=object)
    area_names = np.array(
        [f"Area {k}, {'upon Tyne' if k % 5 == 0 else 'and District'}" for k in range(n_areas)],
        dtype=object,
    )
    region = np.arange(n_areas) % len(_REGIONS)
    parent_codes = np.array([code for code, _ in _REGIONS], dtype=object)[region]
    parent_names = np.array([name for _, name in _REGIONS], dtype=object)[region]
    years = 2015 + np.arange(n_periods)
    periods = np.array([f"{y}/{(y + 1) % 100:02d}" for y in years], dtype=object)

    denominator = rng.integers(20_000, 1_500_000, rows).astype(np.float64)
    count = rng.poisson(denominator * rng.uniform(2e-4, 5e-3, rows)).astype(np.float64)
    value = count / denominator * 100_000
    half = 1.96 * np.sqrt(np.maximum(count, 1)) / denominator * 100_000
    suppressed = rng.random(rows) < 0.01
    labels = np.array(["Better", "Similar", "Worse", "Not compared"], dtype=object)

    columns = {
        "Indicator ID": indicator_ids[indicator],
        "Indicator Name": names[indicator],
        "Parent Code": parent_codes[area],
        "Parent Name": parent_names[area],
        "Area Code": area_codes[area],
        "Area Name": area_names[area],
        "Area Type": np.full(rows, "Counties & UAs (from Apr 2023)", dtype=object),
        "Sex": np.array(_SEXES, dtype=object)[sex],
        "Age": np.array(_AGES, dtype=object)[age],
        "Category Type": np.full(rows, None, dtype=object),
        "Category": np.full(rows, None, dtype=object),
        "Time period": periods[period],
        "Value": np.where(suppressed, np.nan, value),
        "Lower CI 95.0 limit": np.where(suppressed, np.nan, value - half),
        "Upper CI 95.0 limit": np.where(suppressed, np.nan, value + half),
        "Lower CI 99.8 limit": np.full(rows, np.nan),
        "Upper CI 99.8 limit": np.full(rows, np.nan),
        "Count": pd.Series(count.astype(np.int64), dtype="Int64").where(~suppressed),
        "Denominator": denominator.astype(np.int64),
        "Value note": np.where(suppressed, "Value suppressed for disclosure control", None),
        "Recent Trend": np.where(period == n_periods - 1, "No significant change", None),
        "Compared to England value or percentiles": labels[rng.integers(0, 4, rows)],
        "Compared to Region value or percentiles": labels[rng.integers(0, 4, rows)],
        "Time period Sortable": years[period] * 10000,
        "New data": np.where(period == n_periods - 1, "New data", None),
        "Compared to goal": np.full(rows, None, dtype=object),
    }
    assert (
        list(columns)
        == FINGERTIPS_COLUMNS[:22]
        + ["Compared to Region value or percentiles"]
        + FINGERTIPS_COLUMNS[22:]
    )
    # Fingertips writes CRLF line ends and quotes only the fields that need it
    # (the newline inside the indicator name stays a bare LF, as in the real export).
    pd.DataFrame(columns).to_csv(path, index=False, lineterminator="\r\n")


def _peak_in_subprocess(statement: str, path: Path, cache_dir: Path | None = None) -> float:
    """Peak resident memory (MB) of a fresh Python process running ``statement`` on ``path``."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import pyarrow.csv as pacsv\n"
        "from hwb_toolkit.io.fingertips import read_fingertips_csv\n"
        f"path, cache_dir = Path({str(path)!r}), {str(cache_dir)!r}\n"
        f"result = {statement}\n"
        # VmHWM is this process's own high-water mark (ru_maxrss survives fork + exec).
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(int(l.split()[1]) for l in status if l.startswith('VmHWM')) / 1024)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return float(output.strip().splitlines()[-1])


def _text_columns(schema: pa.Schema) -> list[str]:
    return [field.name for field in schema if pa.types.is_large_string(field.type)]


def _write_parquet_what_ifs(cache_file: Path) -> dict[str, Path]:
    """What-if: the same table cached as Parquet (outside the cache folder)."""
    with pa.memory_map(str(cache_file)) as source:
        table = pa.ipc.open_file(source).read_all().replace_schema_metadata(None)
    folder = cache_file.parent.parent
    files = {"lz4": folder / "what-if-lz4.parquet", "none": folder / "what-if-none.parquet"}
    pq.write_table(table, files["lz4"], compression="lz4", row_group_size=table.num_rows)
    pq.write_table(table, files["none"], compression="none", row_group_size=table.num_rows)
    return files


def _parquet_reload(parquet_file: Path, **options) -> pd.DataFrame:
    return _to_pandas(pq.read_table(parquet_file, **options))


def _parquet_dictionary_reload(parquet_file: Path) -> pd.DataFrame:
    """Text read dictionary-encoded (fast), then cast to strings on both cores."""
    text = _text_columns(pq.read_schema(parquet_file))
    table = pq.read_table(parquet_file, read_dictionary=text)

    def to_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
        return column.cast(pa.large_string()) if pa.types.is_dictionary(column.type) else column

    with ThreadPoolExecutor(2) as pool:
        columns = list(pool.map(to_strings, table.columns))
    return _to_pandas(pa.table(columns, names=table.column_names))


def _reload_and_touch(path: Path, cache_dir: Path) -> pd.DataFrame:
    """Re-load from the cache, then read every text value once (faults in the mapped pages)."""
    frame = read_fingertips_csv(path, cache_dir=cache_dir)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            pc.sum(pc.utf8_length(pa.array(frame[column].array)))
    return frame


def _time_trends(frame: pd.DataFrame, sample: int = 2000) -> tuple[float, float, int]:
    """Seconds for recent_trends on every series, the per-series loop's estimate, series.

    Series are the national table's (area, indicator, sex, age) runs of periods,
    oldest first; the loop is timed on ``sample`` of them (after checking it gives
    what the batch gives) and scaled to all.
    """
    keys = ["area_code", "indicator_id", "sex", "age"]
    plain = frame[frame["category_type"].isna()].sort_values([*keys, "period_sortable"])
    n_periods = plain.groupby(keys)["period"].transform("size").to_numpy()
    # The generator's last indicator may stop part-way through its periods: leave it out.
    plain = plain[n_periods == n_periods.max()]
    shape = (-1, int(n_periods.max()))
    value, lower, upper = (
        plain[c].to_numpy(np.float64).reshape(shape) for c in ("value", "lower_ci95", "upper_ci95")
    )
    start = time.perf_counter()
    batch = recent_trends(value, lower, upper)
    t_batch = time.perf_counter() - start
    rows = np.random.default_rng(1).choice(len(value), min(sample, len(value)), replace=False)
    start = time.perf_counter()
    labels = [recent_trend(value[i], lower[i], upper[i]).label for i in rows]
    t_loop = (time.perf_counter() - start) / len(rows) * len(value)
    assert labels == batch.label[rows].tolist()
    return t_batch, t_loop, len(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds of every measure")
    parser.add_argument(
        "--no-summary",
        dest="summary",
        action="store_false",
        help="skip timing summarise_all_areas and the recent-trend step",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hwb-bench-ingest-") as folder:
        path = Path(folder) / "national.data.csv"
        start = time.perf_counter()
        generate_export(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows, {size_mb:.0f} MB in {time.perf_counter() - start:.1f} s"
        )
        cache_dir = Path(folder) / ".cache"
        # The file has newlines inside quoted names (as the real export has), so the
        # plain pyarrow read must be told so to parse it correctly.
        parse = pacsv.ParseOptions(newlines_in_values=True)

        def first_cached():
            for stale in cache_dir.glob("*"):
                stale.unlink()
            return read_fingertips_csv(path, cache_dir=cache_dir)

        read_fingertips_csv(path, cache_dir=cache_dir)  # the cache the what-ifs start from
        parquet = _write_parquet_what_ifs(next(cache_dir.glob("*.arrow")))
        measures = {
            "pyarrow.csv.read_csv": lambda: pacsv.read_csv(path, parse_options=parse),
            "read_fingertips_csv cold": lambda: read_fingertips_csv(path, cache=False),
            "first read + cache": first_cached,
            "re-load from cache": lambda: read_fingertips_csv(path, cache_dir=cache_dir),
            "re-load, then read all text": lambda: _reload_and_touch(path, cache_dir),
            "(what-if) Parquet lz4 (cache v1)": lambda: _parquet_reload(parquet["lz4"]),
            "(what-if) Parquet none, mmap": lambda: _parquet_reload(
                parquet["none"], memory_map=True, pre_buffer=False
            ),
            "(what-if) Parquet dict + cast": lambda: _parquet_dictionary_reload(parquet["lz4"]),
        }
        times: dict[str, list[float]] = {name: [] for name in measures}
        # Rounds interleave the measures so that load from other processes on the
        # machine falls on all of them alike; min and median are both reported.
        for _ in range(args.repeat):
            for name, function in measures.items():
                gc.collect()
                start = time.perf_counter()
                result = function()
                times[name].append(time.perf_counter() - start)
                assert len(result) == args.rows
                del result
        frame = read_fingertips_csv(path, cache_dir=cache_dir)
        cache_mb = sum(p.stat().st_size for p in cache_dir.glob("*.arrow")) / 1e6
        parquet_mb = parquet["lz4"].stat().st_size / 1e6
        frame_mb = frame.memory_usage(deep=True).sum() / 1e6
        peaks = {
            "pyarrow.csv.read_csv": _peak_in_subprocess(
                "pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True))",
                path,
            ),
            "read_fingertips_csv cold": _peak_in_subprocess(
                "read_fingertips_csv(path, cache=False)", path
            ),
            "re-load from cache": _peak_in_subprocess(
                "read_fingertips_csv(path, cache_dir=cache_dir)", path, cache_dir
            ),
        }
        if args.summary:
            start = time.perf_counter()
            summary = summarise_all_areas(frame)
            t_summary = time.perf_counter() - start
            n_areas = summary["area_code"].nunique()
            t_batch, t_loop, n_series = _time_trends(frame)
        del frame

    base = times["pyarrow.csv.read_csv"]
    goals = {"read_fingertips_csv cold": GOAL_INGEST, "re-load from cache": GOAL_RELOAD}
    print(f"{'':32s} {'min s':>8s} {'median s':>9s} {'min/min':>8s} {'median round ratio':>19s}")
    for name, values in times.items():
        low, mid = min(values), statistics.median(values)
        # Each round's ratio compares runs made seconds apart, under the same machine load.
        per_round = statistics.median(v / b for v, b in zip(values, base, strict=True))
        line = f"{name:32s} {low:8.3f} {mid:9.3f} {low / min(base):7.2f}x {per_round:18.2f}x"
        if name in goals:
            met = per_round <= goals[name]
            line += f"   goal <= {goals[name]}x: {'met' if met else 'NOT met'}"
        print(line)
    print(
        f"cache file (Arrow IPC) {cache_mb:.0f} MB, as lz4 Parquet {parquet_mb:.0f} MB; "
        f"DataFrame in memory {frame_mb:.0f} MB"
    )
    print(
        "peak resident memory of a fresh process doing only that read: "
        + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items())
    )
    if args.summary:
        print(f"summarise_all_areas: {len(summary):,} series in {n_areas} areas, {t_summary:.2f} s")
        print(
            f"recent trend of {n_series:,} series: recent_trends {t_batch:.3f} s; "
            f"per-series recent_trend loop (estimated from 2,000) {t_loop:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
