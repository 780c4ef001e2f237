"""The Fingertips export's columns and how they map onto the canonical indicator table.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa

from hwb_toolkit.schema import INDICATOR_COLUMNS

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


FINGERTIPS_COLUMNS_BY_CANONICAL = {
    canonical: name for name, canonical in FINGERTIPS_TO_CANONICAL.items()
}
