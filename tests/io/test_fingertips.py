"""Tests for hwb_toolkit.io.fingertips: the real export, its published statistics, bad input, caching."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hwb_toolkit.errors import InputError, SchemaError
from hwb_toolkit.indicators.compare import compare_to_benchmark
from hwb_toolkit.indicators.intervals import byars_ci, exact_poisson_ci
from hwb_toolkit.io.fingertips import (
    FINGERTIPS_COLUMNS,
    read_fingertips_csv,
    read_indicator_folder,
    read_indicators,
)
from hwb_toolkit.io.fingertips.cache import CACHE_VERSION
from hwb_toolkit.io.writers import atomic_path
from hwb_toolkit.schema import ENGLAND_CODE, INDICATOR_COLUMNS

REAL_EXPORT = Path("indicators") / "fingertips_exports" / "indicators-CountyUA.data.csv"
HEADER = [
    *FINGERTIPS_COLUMNS[:22],
    "Compared to Region value or percentiles",
    *FINGERTIPS_COLUMNS[22:],
]


# --- the real export -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_export(reference_dir, tmp_path_factory) -> pd.DataFrame:
    cache = tmp_path_factory.mktemp("cache")  # the reference folder is read-only
    return read_fingertips_csv(reference_dir / REAL_EXPORT, cache_dir=cache)


@pytest.mark.reference
def test_real_export_reads_in_canonical_columns(real_export):
    assert len(real_export) == 852
    assert list(real_export.columns) == INDICATOR_COLUMNS
    # The export puts a newline inside the quoted name; it is stripped.
    assert real_export["indicator_name"].unique().tolist() == [
        "Campylobacter incidence rate/100,000"
    ]
    assert real_export[["lower_ci998", "upper_ci998"]].isna().all().all()
    assert real_export["compared_to_goal"].isna().all()  # the rows lack that field entirely
    assert real_export["new_data"].sum() == 182
    assert real_export["recent_trend"].value_counts().to_dict() == {"Cannot be calculated": 182}
    assert real_export["compared_to_parent"].value_counts()["Not compared"] == 402
    dtypes = real_export.dtypes
    assert str(dtypes["indicator_id"]) == "Int64" and str(dtypes["period_sortable"]) == "Int64"
    assert dtypes["value"] == np.float64 and dtypes["count"] == np.float64
    assert dtypes["new_data"] == np.dtype(bool) and str(dtypes["area_name"]) == "string"
    first = real_export.iloc[0]
    assert (first["area_code"], first["period"], first["period_sortable"]) == (
        ENGLAND_CODE,
        "2015",
        20150000,
    )
    assert first["count"] == 51897 and first["denominator"] == 54786327
    assert first["value"] == pytest.approx(94.7261896202678, rel=1e-15)


@pytest.mark.reference
def test_real_export_confidence_intervals_are_reproduced(real_export):
    """All ages: exact Poisson for every count; 0-9 yrs: Byar's (z = 1.96) for every count."""
    with_ci = real_export[real_export["lower_ci95"].notna()]
    per_100k = 100_000 / with_ci["denominator"].to_numpy()
    count = with_ci["count"].to_numpy()
    all_ages = (with_ci["age"] == "All ages").to_numpy()
    young = (with_ci["age"] == "0-9 yrs").to_numpy()
    assert all_ages.sum() == 453 and young.sum() == 302 and (all_ages | young).all()

    lower, upper = exact_poisson_ci(count[all_ages])
    np.testing.assert_allclose(
        lower * per_100k[all_ages], with_ci["lower_ci95"][all_ages], rtol=1e-6
    )
    np.testing.assert_allclose(
        upper * per_100k[all_ages], with_ci["upper_ci95"][all_ages], rtol=1e-6
    )
    lower, upper = byars_ci(count[young], z=1.96)
    np.testing.assert_allclose(lower * per_100k[young], with_ci["lower_ci95"][young], rtol=1e-9)
    np.testing.assert_allclose(upper * per_100k[young], with_ci["upper_ci95"][young], rtol=1e-9)
    # ...and the other method does NOT fit, so the split is real.
    lower, _ = byars_ci(count[all_ages & (count < 100)], z=1.96)
    published = with_ci["lower_ci95"][all_ages & (count < 100)].to_numpy()
    assert not np.allclose(lower * per_100k[all_ages & (count < 100)], published, rtol=1e-6)


@pytest.mark.reference
def test_real_export_comparison_labels_are_reproduced(real_export):
    rows = real_export[real_export["category_type"].isna()]
    keys = ["indicator_id", "sex", "age", "period"]
    england = rows.loc[rows["area_code"] == ENGLAND_CODE, [*keys, "value"]]
    regions = rows.loc[rows["area_type"] == "Region", ["area_code", *keys, "value"]]
    areas = rows[rows["area_type"] == "County & UA"]
    areas = areas.merge(england.rename(columns={"value": "england_value"}), on=keys, how="left")
    areas = areas.merge(
        regions.rename(columns={"area_code": "parent_code", "value": "parent_value"}),
        on=["parent_code", *keys],
        how="left",
    )
    assert len(areas) == 760
    value, lower, upper = (areas[c].to_numpy() for c in ("value", "lower_ci95", "upper_ci95"))
    to_england = compare_to_benchmark(value, lower, upper, areas["england_value"], "low_is_good")
    to_parent = compare_to_benchmark(
        value, lower, upper, areas["parent_value"].to_numpy(), "low_is_good"
    )
    assert (to_england == areas["compared_to_england"].to_numpy()).sum() == 760
    assert (to_parent == areas["compared_to_parent"].to_numpy()).sum() == 760
    assert set(to_england) == {"Better", "Similar", "Worse", "Not compared"}


# --- tiny inline exports ----------------------------------------------------------------


def record(**changes: str) -> dict[str, str]:
    """One data row of an all-data export, as text (keyword names: header with _ for spaces)."""
    row = {
        "Indicator ID": "93356",
        "Indicator Name": "Campylobacter incidence rate/100,000\n",
        "Parent Code": "E12000001",
        "Parent Name": "North East region",
        "Area Code": "E06000001",
        "Area Name": "Hartlepool",
        "Area Type": "County & UA",
        "Sex": "Persons",
        "Age": "All ages",
        "Category Type": "",
        "Category": "",
        "Time period": "2017",
        "Value": "127.131883",
        "Lower CI 95.0 limit": "105.23042",
        "Upper CI 95.0 limit": "152.247438",
        "Lower CI 99.8 limit": "",
        "Upper CI 99.8 limit": "",
        "Count": "118",
        "Denominator": "92817",
        "Value note": "",
        "Recent Trend": "",
        "Compared to England value or percentiles": "Worse",
        "Compared to Region value or percentiles": "Similar",
        "Time period Sortable": "20170000",
        "New data": "New data",
        "Compared to goal": "",
    }
    for key, value in changes.items():
        row[key.replace("_", " ")] = value
    return row


def export_text(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return buffer.getvalue()


def write_export(folder: Path, rows, *, name="export.csv", header=HEADER, encoding="utf-8") -> Path:
    path = folder / name
    path.write_bytes(export_text(rows, header).encode(encoding))
    return path


NO_CI = {"Lower CI 95.0 limit": "", "Upper CI 95.0 limit": ""}
TWO_ROWS = [
    record(),
    record(
        Area_Code="W06000001",
        Area_Name="Ynys Môn, Isle of Anglesey",
        Value="",
        Count="",
        **NO_CI,
        Value_note="Value suppressed for disclosure control",
        New_data="",
    ),
]


def expected_two_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator_id": pd.array([93356, 93356], dtype="Int64"),
            "indicator_name": pd.array(
                ["Campylobacter incidence rate/100,000"] * 2, dtype="string"
            ),
            "area_code": pd.array(["E06000001", "W06000001"], dtype="string"),
            "area_name": pd.array(["Hartlepool", "Ynys Môn, Isle of Anglesey"], dtype="string"),
            "category_type": pd.array([None, None], dtype="string"),
            "period": pd.array(["2017", "2017"], dtype="string"),
            "period_sortable": pd.array([20170000, 20170000], dtype="Int64"),
            "value": [127.131883, np.nan],
            "lower_ci95": [105.23042, np.nan],
            "lower_ci998": [np.nan, np.nan],
            "count": [118.0, np.nan],
            "denominator": [92817.0, 92817.0],
            "value_note": pd.array(
                [None, "Value suppressed for disclosure control"], dtype="string"
            ),
            "compared_to_parent": pd.array(["Similar", "Similar"], dtype="string"),
            "new_data": [True, False],
            "compared_to_goal": pd.array([None, None], dtype="string"),
        }
    )


def assert_two_rows(frame: pd.DataFrame) -> None:
    expected = expected_two_rows()
    pd.testing.assert_frame_equal(frame[list(expected.columns)], expected)


def test_tiny_export_reads_with_types_and_suppressed_value(tmp_path):
    frame = read_fingertips_csv(write_export(tmp_path, TWO_ROWS), cache=False)
    assert list(frame.columns) == INDICATOR_COLUMNS
    assert_two_rows(frame)


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-8", b"")]
)
def test_utf8_bom_and_windows_1252_are_read_correctly(tmp_path, encoding, prefix):
    path = tmp_path / "export.csv"
    path.write_bytes(prefix + export_text(TWO_ROWS).encode(encoding))
    assert_two_rows(read_fingertips_csv(path, cache=False))


def test_excel_file_in_the_same_layout_reads_the_same(tmp_path):
    frame = pd.read_csv(io.StringIO(export_text(TWO_ROWS)), dtype=str, keep_default_na=False)
    for column in ["Indicator ID", "Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
                   "Count", "Denominator", "Time period Sortable"]:  # fmt: skip
        frame[column] = pd.to_numeric(frame[column])  # numbers as Excel stores them
    path = tmp_path / "export.xlsx"
    frame.to_excel(path, index=False)
    from_excel = read_fingertips_csv(path, cache=False)
    assert_two_rows(from_excel)
    from_csv = read_fingertips_csv(write_export(tmp_path, TWO_ROWS), cache=False)
    pd.testing.assert_frame_equal(from_excel, from_csv)


def test_time_period_range_anywhere_becomes_a_trailing_column(tmp_path):
    header = [*HEADER[:12], "Time period range", *HEADER[12:]]
    rows = [record(Time_period_range="1y"), record(Time_period="2016", Time_period_range="1y")]
    frame = read_fingertips_csv(write_export(tmp_path, rows, header=header), cache=False)
    assert list(frame.columns) == [*INDICATOR_COLUMNS, "time_period_range"]
    assert frame["time_period_range"].tolist() == ["1y", "1y"]
    assert frame["period"].tolist() == ["2017", "2016"]


def test_parent_comparison_column_with_any_parent_name(tmp_path):
    parent = "Compared to CCGs (since 4/20) in England value or percentiles"
    header = [parent if c.startswith("Compared to Region") else c for c in HEADER]
    rows = [{**record(), parent: "Better"}]
    frame = read_fingertips_csv(write_export(tmp_path, rows, header=header), cache=False)
    assert frame["compared_to_parent"].tolist() == ["Better"]
    assert frame["compared_to_england"].tolist() == ["Worse"]


def test_rows_one_field_short_of_the_header_read_as_blank_goal(tmp_path):
    # The real export writes 25 fields under a 26-column header (no "Compared to goal").
    text = export_text([record(), record(Area_Code="E06000002")])
    short = "\r\n".join(line[:-1] if line.endswith(",") else line for line in text.split("\r\n"))
    path = tmp_path / "short.csv"
    path.write_text(short, encoding="utf-8")
    frame = read_fingertips_csv(path, cache=False)
    assert frame["area_code"].tolist() == ["E06000001", "E06000002"]
    assert frame["compared_to_goal"].isna().all()
    assert frame["new_data"].tolist() == [True, True]


def test_mixed_short_and_full_records_read_as_blanks(tmp_path):
    text = export_text([record(), record(Area_Code="E06000002", Compared_to_goal="Better")])
    lines = text.split("\r\n")
    assert lines[1].endswith(",New data,")
    lines[1] = lines[1][:-1]  # the first record loses its (blank) last field
    path = tmp_path / "mixed.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    frame = read_fingertips_csv(path, cache=False)
    assert frame["compared_to_goal"].tolist() == [pd.NA, "Better"]
    assert frame["value"].tolist() == [127.131883, 127.131883]


# --- bad input: one clear error naming file, row and column ---------------------------


def raises_at(path: Path, error=InputError, row=None, column=None, match=None):
    with pytest.raises(error) as caught:
        read_fingertips_csv(path, cache=False)
    assert caught.value.file == str(path)
    assert (caught.value.row, caught.value.column) == (row, column), str(caught.value)
    if match:
        assert match in str(caught.value), str(caught.value)
    return caught.value


def test_missing_column_is_a_schema_error(tmp_path):
    header = [c for c in HEADER if c != "Value"]
    raises_at(write_export(tmp_path, [record()], header=header), SchemaError, None, "Value",
              "missing required column(s): 'Value'")  # fmt: skip


def test_renamed_column_names_the_near_miss(tmp_path):
    header = ["Area_Code" if c == "Area Code" else c for c in HEADER]
    rows = [{**record(), "Area_Code": "E06000001"}]
    raises_at(write_export(tmp_path, rows, header=header), SchemaError, None, "Area Code",
              "'Area Code' (found 'Area_Code')")  # fmt: skip


def test_missing_parent_comparison_column(tmp_path):
    header = [c for c in HEADER if not c.startswith("Compared to Region")]
    raises_at(write_export(tmp_path, [record()], header=header), SchemaError, None,
              "Compared to <Parent> value or percentiles")  # fmt: skip


def test_non_numeric_value_after_a_multiline_record(tmp_path):
    rows = [record(), record(Area_Code="E06000002", Value="12.5 per 100k")]
    error = raises_at(write_export(tmp_path, rows), InputError, 3, "Value", "is not a number")
    assert "'12.5 per 100k'" in str(error)


def test_suppression_marks_are_missing_not_errors_or_zeros(tmp_path):
    rows = [record(Count="*", Value="*", **NO_CI)]
    frame = read_fingertips_csv(write_export(tmp_path, rows), cache=False)
    assert np.isnan(frame.loc[0, "value"]) and np.isnan(frame.loc[0, "count"])


def test_negative_count(tmp_path):
    rows = [record(), record(Area_Code="E06000002", Count="-3")]
    raises_at(write_export(tmp_path, rows), InputError, 3, "Count", "cannot be negative")


def test_zero_denominator_with_a_count(tmp_path):
    rows = [record(Denominator="0")]
    raises_at(write_export(tmp_path, rows), InputError, 2, "Denominator", "denominator is 0")


def test_zero_denominator_without_a_count_is_read(tmp_path):
    rows = [record(Denominator="0", Count="", Value="")]
    frame = read_fingertips_csv(write_export(tmp_path, rows), cache=False)
    assert frame.loc[0, "denominator"] == 0 and np.isnan(frame.loc[0, "count"])


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    raises_at(empty, InputError, None, None, "the file is empty")
    raises_at(write_export(tmp_path, []), InputError, None, None, "no data rows")


def test_blank_area_code(tmp_path):
    rows = [record(), record(Area_Code="")]
    raises_at(write_export(tmp_path, rows), InputError, 3, "Area Code", "blank")


def test_unknown_new_data_flag(tmp_path):
    rows = [record(New_data="Updated")]
    raises_at(write_export(tmp_path, rows), InputError, 2, "New data", "'Updated'")


def test_row_with_too_many_fields(tmp_path):
    path = tmp_path / "extra.csv"
    text = export_text([record(), record(Area_Code="E06000002")])
    lines = text.split("\r\n")
    lines[2] += ",surplus"  # line 2 is the newline inside the first record's name
    path.write_text("\r\n".join(lines), encoding="utf-8")
    raises_at(path, InputError, 3, None, "this row has 27 fields but the header has 26")


def test_duplicate_key_names_both_rows(tmp_path):
    rows = [record(), record(Area_Code="E06000002"), record(Value="130")]
    error = raises_at(write_export(tmp_path, rows), InputError, 4, None, "rows 2 and 4")
    assert "area_code E06000001" in str(error) and "period 2017" in str(error)


def test_rows_differing_only_by_category_are_not_duplicates(tmp_path):
    rows = [
        record(Area_Code="E92000001", Parent_Code="", Parent_Name=""),
        record(
            Area_Code="E92000001", Category_Type="Deprivation deciles", Category="Most deprived"
        ),
        record(
            Area_Code="E92000001", Category_Type="Deprivation deciles", Category="Least deprived"
        ),
    ]
    frame = read_fingertips_csv(write_export(tmp_path, rows), cache=False)
    assert frame["category"].tolist() == [pd.NA, "Most deprived", "Least deprived"]


# --- caching ----------------------------------------------------------------------------


def read_cache(cache: Path) -> pa.Table:
    with pa.memory_map(str(cache)) as source:
        return pa.ipc.open_file(source).read_all()


def replace_cache(cache: Path, table: pa.Table) -> None:
    """Replace a cache file with ``table`` (by rename, as the reader does: frames map the old one)."""
    with (
        atomic_path(cache) as temporary,
        pa.OSFile(str(temporary), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write_table(table)


def mark_cache(cache: Path, column: str, values: list) -> None:
    """Change one column of a cache file, keeping its key."""
    table = read_cache(cache)
    position = table.column_names.index(column)
    replace_cache(cache, table.set_column(position, column, pa.array(values, table[column].type)))


def test_cache_is_written_beside_the_file_and_reused(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)
    first = read_fingertips_csv(path)
    caches = list((tmp_path / ".cache").glob("*"))
    assert [cache.suffix for cache in caches] == [".arrow"]
    key = read_cache(caches[0]).schema.metadata[b"hwb_cache_key"].decode()
    assert key.startswith(f"v{CACHE_VERSION}|fingertips|{path.resolve()}|")
    # Prove the second read comes from the cache: make the cached copy differ.
    mark_cache(caches[0], "area_name", ["from cache"] * 2)
    assert read_fingertips_csv(path)["area_name"].tolist() == ["from cache", "from cache"]
    # ...and that it matches a fresh parse, in the canonical dtypes, when untouched.
    caches[0].unlink()
    pd.testing.assert_frame_equal(read_fingertips_csv(path), first)
    from_cache = read_fingertips_csv(path)
    pd.testing.assert_frame_equal(from_cache, first)
    assert from_cache["area_name"].dtype == pd.StringDtype("pyarrow")


def test_cache_holds_one_chunk_per_column(tmp_path):
    # ~2 MB: pyarrow's CSV parser reads it in several 1 MB blocks, one chunk each.
    rows = [record(Area_Code=f"E{k:08d}", Area_Name="x" * 300) for k in range(5000)]
    path = write_export(tmp_path, rows)
    cold = read_fingertips_csv(path)
    (cache,) = (tmp_path / ".cache").glob("*.arrow")
    with pa.memory_map(str(cache)) as source:
        reader = pa.ipc.open_file(source)
        assert reader.num_record_batches == 1 and reader.read_all().num_rows == 5000
    pd.testing.assert_frame_equal(read_fingertips_csv(path), cold)


def test_frames_from_the_cache_outlive_its_replacement(tmp_path):
    # A re-load maps the cache file: rebuilding or deleting the cache must not touch it.
    path = write_export(tmp_path, TWO_ROWS)
    read_fingertips_csv(path)
    loaded = read_fingertips_csv(path)
    kept = loaded.copy(deep=True)
    changed = [record(Area_Code=code, Area_Name="Changed") for code in ("E1", "E2", "E3")]
    write_export(tmp_path, changed)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_fingertips_csv(path)["area_name"].tolist() == ["Changed"] * 3
    for cache in (tmp_path / ".cache").glob("*"):
        cache.unlink()
    pd.testing.assert_frame_equal(loaded, kept)
    assert_two_rows(loaded)


def test_changed_file_invalidates_the_cache(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)
    read_fingertips_csv(path)
    write_export(tmp_path, [record(Value="149.5")])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_fingertips_csv(path)["value"].tolist() == [149.5]


def test_cache_of_another_version_is_rebuilt(tmp_path, monkeypatch):
    path = write_export(tmp_path, TWO_ROWS)
    read_fingertips_csv(path)
    (cache,) = (tmp_path / ".cache").glob("*.arrow")
    mark_cache(cache, "area_name", ["old"] * 2)
    monkeypatch.setattr("hwb_toolkit.io.fingertips.cache.CACHE_VERSION", CACHE_VERSION + 1)
    assert_two_rows(read_fingertips_csv(path))
    key = read_cache(cache).schema.metadata[b"hwb_cache_key"].decode()
    assert key.startswith(f"v{CACHE_VERSION + 1}|")


def test_parquet_cache_of_version_1_is_removed(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)
    read_fingertips_csv(path)
    (cache,) = (tmp_path / ".cache").glob("*.arrow")
    old = cache.with_suffix(".parquet")
    pq.write_table(read_cache(cache), old)
    cache.unlink()
    assert_two_rows(read_fingertips_csv(path))
    assert sorted(p.suffix for p in (tmp_path / ".cache").iterdir()) == [".arrow"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"ARROW1 this is not an Arrow file", id="garbage"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(
            lambda data: data[:-10] + bytes(b ^ 0xFF for b in data[-10:-6]) + data[-6:],
            id="footer-length",
        ),
    ],
)
def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, damage):
    path = write_export(tmp_path, TWO_ROWS)
    cache_dir = tmp_path / "elsewhere"
    expected = read_fingertips_csv(path, cache_dir=cache_dir)
    (cache_file,) = cache_dir.glob("*.arrow")
    good = cache_file.read_bytes()
    cache_file.unlink()  # a new file: `expected` does not map these bytes
    cache_file.write_bytes(damage(good))
    pd.testing.assert_frame_equal(read_fingertips_csv(path, cache_dir=cache_dir), expected)
    assert cache_file.read_bytes() == good
    assert [p.name for p in cache_dir.iterdir()] == [cache_file.name]  # no temporary left


def test_cache_with_other_columns_is_rebuilt(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)
    read_fingertips_csv(path)
    (cache,) = (tmp_path / ".cache").glob("*.arrow")
    table = read_cache(cache)
    position = table.column_names.index("period")
    # Same key, but "period" stored as numbers: not the canonical layout, so not used.
    replace_cache(cache, table.set_column(position, "period", pa.array([2015, 2016])))
    assert_two_rows(read_fingertips_csv(path))


def test_unwritable_cache_only_costs_speed(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    assert_two_rows(read_fingertips_csv(path, cache_dir=blocked))
    read_fingertips_csv(path, cache=False)
    assert not (tmp_path / ".cache").exists()


# --- tidy files and folders ------------------------------------------------------------------


TIDY = """indicator_id,area_code,area_name,sex,age,period,value,lower_ci95,upper_ci95,count,denominator
93014,E08000021,Newcastle upon Tyne,Persons,19+ yrs,2022/23,66.1,64.0,68.2,1200,1815
93014,E08000021,Newcastle upon Tyne,Persons,19+ yrs,2023/24,67.0,64.9,69.1,1230,1836
"""


def test_tidy_csv_fills_optional_columns(tmp_path):
    path = tmp_path / "tidy.csv"
    path.write_text(TIDY, encoding="utf-8")
    frame = read_indicators(path, cache=False)
    assert list(frame.columns) == INDICATOR_COLUMNS
    expected = pd.DataFrame(
        {
            "indicator_id": pd.array([93014, 93014], dtype="Int64"),
            "period": pd.array(["2022/23", "2023/24"], dtype="string"),
            "period_sortable": pd.array([20220000, 20230000], dtype="Int64"),
            "value": [66.1, 67.0],
            "count": [1200.0, 1230.0],
            "parent_code": pd.array([None, None], dtype="string"),
            "new_data": [False, False],
        }
    )
    pd.testing.assert_frame_equal(frame[list(expected.columns)], expected)


def test_tidy_parquet_and_excel_read_like_the_csv(tmp_path):
    csv_path = tmp_path / "tidy.csv"
    csv_path.write_text(TIDY, encoding="utf-8")
    expected = read_indicators(csv_path, cache=False)
    typed = pd.read_csv(io.StringIO(TIDY))  # numbers and text as pandas types them
    typed.to_parquet(tmp_path / "tidy.parquet")
    typed.to_excel(tmp_path / "tidy.xlsx", index=False)
    pd.testing.assert_frame_equal(read_indicators(tmp_path / "tidy.parquet", cache=False), expected)
    pd.testing.assert_frame_equal(read_indicators(tmp_path / "tidy.xlsx", cache=False), expected)


def test_tidy_near_miss_column_is_rejected(tmp_path):
    path = tmp_path / "tidy.csv"
    path.write_text(TIDY.replace("lower_ci95", "Lower_CI_95"), encoding="utf-8")
    with pytest.raises(SchemaError, match="'Lower_CI_95'.*did you mean 'lower_ci95'"):
        read_indicators(path, cache=False)


def test_tidy_missing_required_column(tmp_path):
    path = tmp_path / "tidy.csv"
    path.write_text(TIDY.replace("area_code", "area"), encoding="utf-8")
    with pytest.raises(SchemaError, match="'area_code'") as caught:
        read_indicators(path, cache=False)
    assert caught.value.column == "area_code"


def test_folder_stacks_exports_and_tidy_files(tmp_path):
    write_export(tmp_path, TWO_ROWS, name="a_export.csv")
    (tmp_path / "b_tidy.csv").write_text(TIDY, encoding="utf-8")
    (tmp_path / "README.md").write_text("not data", encoding="utf-8")
    (tmp_path / "~$a_export.xlsx").write_bytes(b"lock file")
    frame = read_indicator_folder(tmp_path, cache_dir=tmp_path / ".cache")
    assert list(frame.columns) == INDICATOR_COLUMNS
    assert frame["area_code"].tolist() == ["E06000001", "W06000001", "E08000021", "E08000021"]
    assert frame["indicator_id"].tolist() == [93356, 93356, 93014, 93014]
    assert str(frame["area_code"].dtype) == "string"


def test_folder_reads_come_from_the_cache_once_written(tmp_path):
    write_export(tmp_path, TWO_ROWS, name="a_export.csv")
    first = read_indicator_folder(tmp_path)
    (cache,) = (tmp_path / ".cache").glob("a_export.csv.fingertips.*.arrow")
    mark_cache(cache, "area_name", ["cached"] * 2)
    assert read_indicator_folder(tmp_path)["area_name"].tolist() == ["cached", "cached"]
    assert read_indicator_folder(tmp_path, cache=False).equals(first)


def test_folder_duplicate_across_files_names_both(tmp_path):
    write_export(tmp_path, TWO_ROWS, name="a.csv")
    write_export(tmp_path, [record(Area_Code="E06000009"), record(Value="131.5")], name="b.csv")
    with pytest.raises(InputError) as caught:
        read_indicator_folder(tmp_path, cache=False)
    message = str(caught.value)
    assert "in a.csv row 2 and in b.csv row 3" in message
    assert caught.value.file == str(tmp_path / "b.csv") and caught.value.row == 3


def test_folder_rejects_an_unrecognised_table(tmp_path):
    (tmp_path / "other.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="neither a Fingertips all-data export"):
        read_indicator_folder(tmp_path, cache=False)


def test_empty_folder_gives_an_empty_canonical_frame(tmp_path):
    frame = read_indicator_folder(tmp_path)
    assert list(frame.columns) == INDICATOR_COLUMNS and frame.empty


# --- round two: cut-off rows, impossible numbers, one bad byte ------------------------------
def test_a_file_cut_off_inside_the_last_value_is_refused(tmp_path):
    text = export_text([record(), record(Area_Code="E06000002")])
    cut = text[: text.rindex(",2017,127.131883") + len(",2017,12")]  # "...,2017,12"
    path = tmp_path / "cut.csv"
    path.write_text(cut, encoding="utf-8")
    error = raises_at(path, InputError, 3, None, "13 of the header's 26 fields")
    assert "cut short" in str(error)
    # The same cut in the real export's layout (records one field short of the header).
    short = [[*row[:-1]] for row in csv.reader(io.StringIO(text))]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *short[1:]])
    real_layout = buffer.getvalue()
    path.write_text(real_layout[: real_layout.rindex(",2017,127.131883") + 8], encoding="utf-8")
    raises_at(path, InputError, 3, None, "cut short")


def test_a_value_that_is_not_finite_is_refused(tmp_path):
    for bad in ("inf", "-Infinity"):
        path = write_export(tmp_path, [record(), record(Area_Code="E06000002", Value=bad)])
        raises_at(path, InputError, 3, "Value", "is not a finite number")
    path = write_export(tmp_path, [record(Count="inf")])
    raises_at(path, InputError, 2, "Count", "is not a finite number")


def test_limits_must_lie_around_the_value(tmp_path):
    swapped = record(**{"Lower CI 95.0 limit": "152.247438", "Upper CI 95.0 limit": "105.23042"})
    error = raises_at(write_export(tmp_path, [swapped]), InputError, 2, "Lower CI 95.0 limit")
    assert "lower 95% limit (152.247) is above the upper limit (105.23)" in str(error)
    outside = record(Area_Code="E06000002", Value="160")
    error = raises_at(write_export(tmp_path, [record(), outside]), InputError, 3, "Value")
    assert "above its upper 95% limit" in str(error)
    narrow = record(**{"Lower CI 99.8 limit": "130", "Upper CI 99.8 limit": "150"})
    raises_at(write_export(tmp_path, [narrow]), InputError, 2, "Value", "below its lower 99.8%")
    # A value on its limit (a count of 0 gives a lower limit of 0) is fine.
    zero = record(Value="0", Count="0", **{"Lower CI 95.0 limit": "0"})
    assert read_fingertips_csv(write_export(tmp_path, [zero]), cache=False)["value"].tolist() == [0]


def test_one_bad_byte_in_a_utf8_export_is_named(tmp_path):
    path = write_export(tmp_path, TWO_ROWS)  # UTF-8: "Ynys Môn" in row 3
    raw = path.read_bytes().replace(b"Hartlepool", b"Hartlepool \x96 town")  # a cp1252 dash
    path.write_bytes(raw)
    error = raises_at(path, InputError, 2, None, "byte 0x96")
    assert "'ô'" in str(error)  # why the file is taken as UTF-8
