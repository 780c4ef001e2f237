"""The checks a Fingertips table passes before anything is published: types, whole numbers,
flags, suppressed values, ordered limits, duplicate keys; each failure names file, row and
column.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.fingertips.columns import (
    _ARROW_TYPES,
    _NEW_DATA_FALSE,
    _NEW_DATA_TRUE,
    _TYPES_MAPPER,
    BOOL_COLUMNS,
    EXTRA_COLUMNS,
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    KEY_COLUMNS,
    MISSING_MARKERS,
    REQUIRED_VALUES,
)
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    numeric_column,
)
from hwb_toolkit.schema import INDICATOR_COLUMNS


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
