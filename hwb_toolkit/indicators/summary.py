"""One area's indicator summary: the table the briefing, the charts and the partner pages read.

For each indicator (and sex and age) of an area, the latest period's value (or
the value of a chosen period), its confidence limits, England's and the parent
area's values for the same period, Fingertips' comparison labels against both,
the recent trend, and how things changed since the previous period.

Pure: takes a canonical indicator table (:data:`hwb_toolkit.schema.INDICATOR_COLUMNS`,
as returned by :mod:`hwb_toolkit.io.fingertips`) and returns a DataFrame. The
statistics are :func:`hwb_toolkit.indicators.compare.compare_to_benchmark` and
:func:`hwb_toolkit.indicators.compare.recent_trends` (the batch form of
:func:`~hwb_toolkit.indicators.compare.recent_trend`, identical series by
series); this module only lines the rows up, with numpy over all series at once.

Conventions
-----------
- Category rows (deprivation deciles, ethnic groups...: ``category_type`` not
  blank) are left out; a series is (area, indicator, sex, age).
- Periods are ordered by ``period_sortable`` (then ``period`` text); the chosen
  period is matched on the ``period`` text ("2015", "2015/16", "2013 - 15").
- Comparisons use the 95% limits (Fingertips' "confidence intervals overlapping
  reference value (95.0)", the method of most indicators): "Better"/"Similar"/
  "Worse" with a polarity, "Lower"/"Similar"/"Higher" without one, "Not
  compared" when a value, a limit or the benchmark is missing. England is not
  compared with itself, and an area with no parent has no parent comparison.
- Recent trend: Fingertips picks the method from the indicator's comparator:
  indicators compared by "SPC for proportions" get the chi-squared test for
  trend on counts and denominators; every other indicator gets the
  inverse-variance weighted regression on values and 95% limits. The data
  carries no comparator, so by default a series uses ``method="proportion"``
  when its last five points all have a count and a denominator and a value
  equal to count / denominator (x 1 or x 100); ``trend_method`` overrides this
  per indicator (for example from the strategy's ``calculator``). Either way a
  series' counts and denominators, when it has them, take part as in Fingertips:
  a point without them is skipped, and a count equal to its denominator makes
  the trend "Cannot be calculated".
- ``significance_changed`` is True when both this period's and the previous
  period's comparison with England were made and their labels differ
  (e.g. "Similar" -> "Worse").
- ``n_periods`` counts the periods with a value in the series up to and
  including the chosen period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators.compare import compare_to_benchmark, recent_trends
from hwb_toolkit.schema import ENGLAND_CODE, NOT_COMPARED, POLARITIES
from hwb_toolkit.values import require_columns

#: Columns of the summary table, in order.
SUMMARY_COLUMNS: list[str] = [
    "indicator_id",
    "indicator_name",
    "area_code",
    "area_name",
    "parent_code",
    "parent_name",
    "sex",
    "age",
    "period",
    "period_sortable",
    "value",
    "lower_ci95",
    "upper_ci95",
    "lower_ci998",
    "upper_ci998",
    "count",
    "denominator",
    "value_note",
    "polarity",
    "england_value",
    "parent_value",
    "compared_to_england",
    "compared_to_parent",
    "recent_trend",
    "trend_chi_squared",
    "previous_period",
    "previous_value",
    "previous_compared_to_england",
    "change",
    "significance_changed",
    "n_periods",
]

#: The columns of the indicator table the summary needs.
REQUIRED_COLUMNS = (
    "indicator_id",
    "indicator_name",
    "parent_code",
    "parent_name",
    "area_code",
    "area_name",
    "sex",
    "age",
    "category_type",
    "period",
    "period_sortable",
    "value",
    "lower_ci95",
    "upper_ci95",
    "lower_ci998",
    "upper_ci998",
    "count",
    "denominator",
    "value_note",
)

SERIES_KEYS = ["area_code", "indicator_id", "sex", "age"]
_BENCHMARK_KEYS = ["indicator_id", "sex", "age", "period"]
_TREND_METHODS = ("general", "proportion")
_PROPORTION_SCALES = (1.0, 100.0)
_TEXT = pd.StringDtype("pyarrow")
_TEXT_OUTPUT = (
    "indicator_name",
    "area_code",
    "area_name",
    "parent_code",
    "parent_name",
    "sex",
    "age",
    "period",
    "value_note",
)

Polarity = Mapping[int, str] | str | None


def summarise_area(
    data: pd.DataFrame,
    area_code: str,
    period: str | None = None,
    *,
    polarity: Polarity = None,
    trend_method: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Summarise one area: one row per (indicator_id, sex, age), columns :data:`SUMMARY_COLUMNS`.

    ``period``: the ``period`` text to report (default: each indicator's latest
    period for the area); indicators without that period are left out, and a
    period no indicator has raises :class:`InputError`. ``polarity``: mapping
    indicator_id -> "high_is_good" / "low_is_good" / "no_judgement" (unknown ids:
    "no_judgement"), or one polarity for all. ``trend_method``: mapping
    indicator_id -> "general" / "proportion" overriding the default choice
    (see the module notes). Values keep the indicator's published scale.
    """
    require_columns(data, REQUIRED_COLUMNS, table="indicator")
    in_area = (data["area_code"] == area_code).fillna(False).to_numpy(dtype=bool)
    if not in_area.any():
        raise InputError(f"area {area_code!r} is not in the indicator data", column="area_code")
    parents = data.loc[in_area, "parent_code"].dropna().unique().tolist()
    wanted = data["area_code"].isin([area_code, ENGLAND_CODE, *parents]).fillna(False)
    return _summarise(
        data.loc[wanted.to_numpy(dtype=bool)], [area_code], period, polarity, trend_method
    )


def summarise_all_areas(
    data: pd.DataFrame,
    period: str | None = None,
    *,
    polarity: Polarity = None,
    trend_method: Mapping[int, str] | None = None,
    area_codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Summarise every area of ``data`` (or those in ``area_codes``) in one grouped pass.

    Same rows and columns as :func:`summarise_area` for each area, stacked and
    sorted by area_code, indicator_id, sex, age. The whole table is ordered once
    and benchmarks are joined once, so a national file with ~150 areas costs
    about one scan, not one per area. England's own rows are included (with
    "Not compared" against itself).
    """
    require_columns(data, REQUIRED_COLUMNS, table="indicator")
    areas = None if area_codes is None else list(area_codes)
    return _summarise(data, areas, period, polarity, trend_method)


# --- implementation ---------------------------------------------------------------------


def _polarities(indicator_ids: pd.Series, polarity: Polarity) -> np.ndarray:
    if polarity is None:
        result = np.full(len(indicator_ids), "no_judgement", dtype=object)
    elif isinstance(polarity, str):
        result = np.full(len(indicator_ids), polarity, dtype=object)
    else:
        mapped = indicator_ids.map({int(k): v for k, v in polarity.items()})
        result = mapped.astype(object).where(mapped.notna(), "no_judgement").to_numpy(object)
    unknown = sorted({p for p in result if p not in POLARITIES})
    if unknown:
        raise InputError(
            f"unknown polarity {unknown[0]!r}: use one of {', '.join(POLARITIES)}",
            column="polarity",
        )
    return result


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _lexical_codes(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row that sorts like the tuple of ``columns`` (missing values last)."""
    codes = np.zeros(len(data), dtype=np.int64)
    span = 1
    for column in columns:
        column_codes, uniques = pd.factorize(data[column], sort=True, use_na_sentinel=False)
        if span * (len(uniques) + 1) >= 2**62:  # re-number before the product could overflow
            _, codes = np.unique(codes, return_inverse=True)
            span = int(codes.max()) + 1
        codes = codes * len(uniques) + column_codes
        span *= max(len(uniques), 1)
    return codes


def _summarise(
    data: pd.DataFrame,
    areas: list[str] | None,
    period: str | None,
    polarity: Polarity,
    trend_method: Mapping[int, str] | None,
) -> pd.DataFrame:
    # Work on row positions and numpy arrays; only the chosen rows are ever copied out.
    uncategorised = data["category_type"].isna().to_numpy(dtype=bool)
    base = np.flatnonzero(uncategorised)
    if base.size == 0:
        return _empty_summary()
    series_all = _lexical_codes(data, SERIES_KEYS)
    sortable_all = data["period_sortable"].to_numpy(dtype=np.float64, na_value=-np.inf)
    period_codes_all, period_names = pd.factorize(data["period"], sort=True)
    order = base[
        np.lexsort((period_codes_all[base], sortable_all[base], series_all[base]))
    ]  # positions in data: series by series, oldest period first
    series = series_all[order]
    period_codes = period_codes_all[order]
    same_as_previous = np.r_[False, series[1:] == series[:-1]]
    repeated = same_as_previous & np.r_[False, period_codes[1:] == period_codes[:-1]]
    if repeated.any():
        row = data.iloc[order[int(np.flatnonzero(repeated)[0])]]
        raise InputError(
            f"period {row['period']} of indicator {row['indicator_id']} ({row['sex']}, "
            f"{row['age']}) appears twice for area {row['area_code']}",
            column="period",
        )
    series_start = np.flatnonzero(~same_as_previous)
    start_of = series_start[np.cumsum(~same_as_previous) - 1]

    # The chosen row of each series: its latest, or the row of the requested period.
    if period is None:
        chosen = np.r_[series[1:] != series[:-1], True]
    else:
        wanted_code = np.flatnonzero(np.asarray(period_names, dtype=object) == period)
        if wanted_code.size == 0:
            latest = ", ".join(str(p) for p in list(period_names)[-8:])
            raise InputError(
                f"period {period!r} is not in the indicator data (latest periods: {latest})",
                column="period",
            )
        chosen = period_codes == wanted_code[0]
    if areas is not None:
        in_areas = data["area_code"].isin(areas).fillna(False).to_numpy(dtype=bool)
        chosen = chosen & in_areas[order]
    current = np.flatnonzero(chosen)
    if current.size == 0:
        return _empty_summary()
    has_previous = same_as_previous[current]
    previous = np.where(has_previous, current - 1, current)

    out = data.iloc[order[current]][[c for c in SUMMARY_COLUMNS if c in data.columns]]
    out = out.reset_index(drop=True)
    arrays = {
        column: _float(data, column)[order]
        for column in ("value", "lower_ci95", "upper_ci95", "count", "denominator")
    }
    previous_period = pd.Series(
        np.where(
            has_previous, np.asarray(period_names, dtype=object)[period_codes[previous]], None
        ),
        dtype=_TEXT,
    )

    def before(column: str) -> np.ndarray:
        return np.where(has_previous, arrays[column][previous], np.nan)

    previous_value = before("value")

    # Benchmarks: England and the parent, for this period and the previous one.
    candidates = _benchmark_rows(data, uncategorised, out)
    england_value = _benchmark(candidates, out, out["period"], ENGLAND_CODE)
    parent_value = _benchmark(candidates, out, out["period"], None)
    previous_england = _benchmark(candidates, out, previous_period, ENGLAND_CODE)
    is_england = (out["area_code"] == ENGLAND_CODE).fillna(False).to_numpy(dtype=bool)
    england_value[is_england] = np.nan
    previous_england[is_england] = np.nan

    polarities = _polarities(out["indicator_id"], polarity)
    value, lower, upper = (arrays[c][current] for c in ("value", "lower_ci95", "upper_ci95"))
    compared_england = compare_to_benchmark(value, lower, upper, england_value, polarities)
    compared_parent = compare_to_benchmark(value, lower, upper, parent_value, polarities)
    previous_compared = compare_to_benchmark(
        previous_value, before("lower_ci95"), before("upper_ci95"), previous_england, polarities
    )
    significance_changed = (
        (compared_england != NOT_COMPARED)
        & (previous_compared != NOT_COMPARED)
        & (compared_england != previous_compared)
    )

    labels, chi_squared = _trends(arrays, current, start_of, polarities, out, trend_method)

    valid_before = np.r_[0, np.cumsum(~np.isnan(arrays["value"]))]
    n_periods = valid_before[current + 1] - valid_before[start_of[current]]

    out["polarity"] = pd.array(polarities, dtype=_TEXT)
    out["england_value"] = england_value
    out["parent_value"] = parent_value
    out["compared_to_england"] = pd.array(compared_england, dtype=_TEXT)
    out["compared_to_parent"] = pd.array(compared_parent, dtype=_TEXT)
    out["recent_trend"] = pd.array(labels, dtype=_TEXT)
    out["trend_chi_squared"] = chi_squared
    out["previous_period"] = previous_period
    out["previous_value"] = previous_value
    out["previous_compared_to_england"] = pd.array(
        np.where(has_previous, previous_compared, None), dtype=_TEXT
    )
    out["change"] = value - previous_value
    out["significance_changed"] = significance_changed.astype(bool)
    out["n_periods"] = n_periods.astype(np.int64)
    for column in _TEXT_OUTPUT:
        out[column] = out[column].astype(_TEXT)
    out["indicator_id"] = out["indicator_id"].astype("Int64")
    out["period_sortable"] = out["period_sortable"].astype("Int64")
    return out[SUMMARY_COLUMNS]


def _benchmark_rows(data: pd.DataFrame, uncategorised: np.ndarray, out: pd.DataFrame):
    """The uncategorised rows of England and of every parent named in ``out``."""
    areas = [ENGLAND_CODE, *out["parent_code"].dropna().unique().tolist()]
    wanted = uncategorised & data["area_code"].isin(areas).fillna(False).to_numpy(dtype=bool)
    return data.loc[wanted, ["area_code", *_BENCHMARK_KEYS, "value"]]


def _benchmark(
    candidates: pd.DataFrame, out: pd.DataFrame, periods: pd.Series, benchmark_area: str | None
) -> np.ndarray:
    """Value of the benchmark area (England, or each row's parent when None) for ``periods``."""
    if benchmark_area is None:
        area = out["parent_code"]
    else:
        area = pd.Series(benchmark_area, index=out.index, dtype=_TEXT)
    wanted = pd.DataFrame(
        {
            "area_code": area.astype(_TEXT).to_numpy(),
            "indicator_id": out["indicator_id"].to_numpy(),
            "sex": out["sex"].to_numpy(),
            "age": out["age"].to_numpy(),
            "period": periods.astype(_TEXT).to_numpy(),
        }
    )
    keys = ["area_code", *_BENCHMARK_KEYS]
    # Missing areas or periods must not match each other across rows.
    usable = wanted["area_code"].notna() & wanted["period"].notna()
    joined = wanted.merge(candidates, on=keys, how="left", validate="many_to_one")
    result = joined["value"].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    result[~usable.to_numpy(dtype=bool)] = np.nan
    return result


def _looks_like_proportion(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """True where count and denominator are given and value = count / denominator x 1 or 100."""
    value, count, denominator = (arrays[c] for c in ("value", "count", "denominator"))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = count / denominator
        scale = value / ratio
    close = np.zeros(value.shape, dtype=bool)
    for multiplier in _PROPORTION_SCALES:
        close |= np.isclose(scale, multiplier, rtol=1e-4, atol=0.0)
    return close & (denominator > 0) & (count <= denominator)


#: Cells (series x points) of the trend windows built at once: bounds memory on long series.
_TREND_WINDOW_CELLS = 4_000_000


def _windows(array: np.ndarray, ends: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Rows ``array[start .. end]`` right-aligned in a (len(ends), width) array, NaN-padded left."""
    positions = ends[:, None] - np.arange(width - 1, -1, -1)
    outside = positions < starts[:, None]
    return np.where(outside, np.nan, array[np.where(outside, ends[:, None], positions)])


def _trends(
    arrays: Mapping[str, np.ndarray],
    current: np.ndarray,
    start_of: np.ndarray,
    polarities: np.ndarray,
    out: pd.DataFrame,
    trend_method: Mapping[int, str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Recent-trend label and chi-squared for each chosen row.

    Every series' window (its rows up to the chosen one) goes to
    :func:`~hwb_toolkit.indicators.compare.recent_trends` in one call per method,
    which gives what :func:`~hwb_toolkit.indicators.compare.recent_trend` gives
    series by series.
    """
    proportion_like = _looks_like_proportion(arrays)
    # Running count of proportion-like rows, to test "the last five all look like proportions".
    proportion_before = np.r_[0, np.cumsum(proportion_like)]
    methods = {} if trend_method is None else {int(k): v for k, v in trend_method.items()}
    bad = sorted({m for m in methods.values() if m not in _TREND_METHODS})
    if bad:
        raise InputError(f"unknown trend method {bad[0]!r}: use 'general' or 'proportion'")
    starts = start_of[current]
    first = np.maximum(starts, current + 1 - 5)
    looks_like_proportion = (current + 1 - first == 5) & (
        proportion_before[current + 1] - proportion_before[first] == 5
    )
    told = out["indicator_id"].map(methods).to_numpy(dtype=object, na_value=None)
    use_proportion = np.where(pd.isna(told), looks_like_proportion, told == "proportion")
    use_proportion = use_proportion.astype(bool)

    labels = np.empty(current.size, dtype=object)
    chi_squared = np.full(current.size, np.nan)
    lengths = current - starts + 1
    width = max(int(lengths.max(initial=0)), 5)
    step = max(_TREND_WINDOW_CELLS // width, 1)
    for chunk_start in range(0, current.size, step):  # one pass unless series are very long
        chunk = np.arange(chunk_start, min(chunk_start + step, current.size))
        for proportion in (False, True):
            rows = chunk[use_proportion[chunk] == proportion]
            if rows.size == 0:
                continue
            ends = current[rows]
            chunk_width = max(int(lengths[rows].max()), 5)
            window = {
                column: _windows(arrays[column], ends, starts[rows], chunk_width)
                for column in ("value", "lower_ci95", "upper_ci95", "count", "denominator")
            }
            # Counts and denominators decide which points are valid, and a count equal
            # to its denominator stops the trend, in both of Fingertips' methods; a
            # series with no count or no denominator at all is trended on its values
            # and limits alone.
            counted = proportion | (
                ~np.isnan(window["count"]).all(axis=1) & ~np.isnan(window["denominator"]).all(axis=1)
            )
            for with_counts in (False, True):
                part = counted == with_counts
                if not part.any():
                    continue
                counts = (
                    {"count": window["count"][part], "denominator": window["denominator"][part]}
                    if with_counts
                    else {}
                )
                result = recent_trends(
                    window["value"][part],
                    window["lower_ci95"][part],
                    window["upper_ci95"][part],
                    **counts,
                    polarity=polarities[rows[part]],
                    method="proportion" if proportion else "general",
                )
                labels[rows[part]] = result.label
                chi_squared[rows[part]] = result.chi_squared
    return labels, chi_squared


def _empty_summary() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=_TEXT) for column in SUMMARY_COLUMNS})
    for column in ("indicator_id", "period_sortable"):
        frame[column] = frame[column].astype("Int64")
    for column in (
        "value",
        "lower_ci95",
        "upper_ci95",
        "lower_ci998",
        "upper_ci998",
        "count",
        "denominator",
        "england_value",
        "parent_value",
        "trend_chi_squared",
        "previous_value",
        "change",
    ):
        frame[column] = frame[column].astype(np.float64)
    frame["significance_changed"] = frame["significance_changed"].astype(bool)
    frame["n_periods"] = frame["n_periods"].astype(np.int64)
    return frame
