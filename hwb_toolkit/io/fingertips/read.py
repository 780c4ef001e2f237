"""The three public readers: one Fingertips export or tidy file, one indicator folder
(every file in it, checked against the strategy's calculators), and the pair behind
:func:`read_indicators`. See :mod:`hwb_toolkit.io.fingertips` for the table they return."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.fingertips.cache import _cached_frame, _read_cached
from hwb_toolkit.io.fingertips.checks import (
    _describe_key,
    _empty_table,
    _first_duplicate_pair,
    _to_pandas,
)
from hwb_toolkit.io.fingertips.columns import (
    _STRING,
    DATA_SUFFIXES,
    FINGERTIPS_COLUMNS_BY_CANONICAL,
)
from hwb_toolkit.io.fingertips.parse import _detect_kind
from hwb_toolkit.io.indicator_values import check_indicator_values
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
)


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


