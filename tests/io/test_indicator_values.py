"""Tests for hwb_toolkit.io.indicator_values: values checked against their calculator, by file and row."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError, InputError, InputWarning
from hwb_toolkit.io.fingertips import read_indicator_folder

#: indicator id -> (calculator, multiplier), as strategy.yaml gives them.
CALCULATORS = {93015: ("proportion", 100.0), 41001: ("dsr", 100000.0), 90000: ("mean", 1.0)}


def tidy_file(folder, rows, name="tidy.csv"):
    """A tidy indicator file: rows of (indicator_id, area_code, period, value, count, denominator)."""
    frame = pd.DataFrame(
        rows, columns=["indicator_id", "area_code", "period", "value", "count", "denominator"]
    )
    frame.to_csv(folder / name, index=False)
    return folder / name


GOOD = [
    (93015, "E08000021", "2021/22", 22.5, 450, 2000),
    (93015, "E08000021", "2022/23", 23.0, 460, 2000),
    (41001, "E08000021", "2020 - 22", 11.2, 90, 800000),
    (90000, "E08000021", "2022/23", -3.5, None, None),  # a mean may be negative
]


def test_plausible_values_are_all_kept_without_a_warning(tmp_path):
    tidy_file(tmp_path, GOOD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = read_indicator_folder(tmp_path, cache=False, calculators=CALCULATORS)
    assert len(data) == 4


def test_a_proportion_above_100_percent_is_left_out_with_a_warning(tmp_path):
    path = tidy_file(tmp_path, [*GOOD, (93015, "E08000021", "2023/24", 250.0, 500, 200)])
    with pytest.warns(InputWarning) as caught:
        data = read_indicator_folder(tmp_path, cache=False, calculators=CALCULATORS)
    assert "2023/24" not in set(data["period"])  # left out of every figure
    assert len(data) == 4
    first = caught[0].message
    assert (first.file, first.row, first.column) == (str(path), 6, "value")
    assert "a proportion above its multiplier (250 > 100) is left out of every figure" in str(first)


def test_a_count_above_its_denominator_is_left_out_with_a_warning(tmp_path):
    # Within 100% (the value is as published) but the count cannot be a part of the whole.
    tidy_file(tmp_path, [*GOOD, (93015, "E08000021", "2023/24", 95.0, 2100, 2000)])
    with pytest.warns(InputWarning, match=r"row 6, column 'count': a count above its denominator"):
        data = read_indicator_folder(tmp_path, cache=False, calculators=CALCULATORS)
    assert len(data) == 4 and "2023/24" not in set(data["period"])


def test_a_negative_proportion_or_rate_is_an_error_naming_the_row(tmp_path):
    path = tidy_file(tmp_path, [*GOOD, (41001, "E08000021", "2021 - 23", -1.0, None, None)])
    with pytest.raises(InputError) as caught:
        read_indicator_folder(tmp_path, cache=False, calculators=CALCULATORS)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), 6, "value")
    assert "a rate or ratio cannot be negative" in str(caught.value)


def test_a_multiplier_that_cannot_be_right_is_an_error_not_every_row_left_out(tmp_path):
    tidy_file(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="every value of indicator 93015 is above 1"):
        read_indicator_folder(tmp_path, cache=False, calculators={93015: ("proportion", 1.0)})


def test_rows_are_named_in_their_own_file_when_a_folder_has_several(tmp_path):
    tidy_file(tmp_path, GOOD, name="a.csv")
    second = tidy_file(
        tmp_path,
        [(93015, "E06000001", "2022/23", 20.0, 4, 20), (93015, "E06000001", "2023/24", 101, 5, 4)],
        name="b.csv",
    )
    with pytest.warns(InputWarning) as caught:
        data = read_indicator_folder(tmp_path, cache=False, calculators=CALCULATORS)
    assert {(w.message.file, w.message.row) for w in caught} == {(str(second), 3)}
    assert len(data) == 5
