"""The trend chart: one area's figure over time, with its confidence intervals and England."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from hwb_toolkit.charts.base import (
    _comparison_encodings,
    _comparisons,
    _finish,
    _first_text,
    _inline_rows,
    _is_empty,
    _no_data,
    _numeric,
)
from hwb_toolkit.charts.style import (
    _BENCHMARK,
    COMPARISON_PHRASES,
    DEFAULT_WIDTH,
    _comparison_counts,
    _fmt,
    _missing_note,
    _plural,
)
from hwb_toolkit.values import require_columns

_OVERLAP_FROM_PERIODS = 13  # trend charts with this many periods or more thin out their labels


def _period_order(*frames: pd.DataFrame | None) -> list[str]:
    """The frames' periods in ``period_sortable`` order (periods without it last, in the
    order given), each once."""
    periods: list[tuple[float, str]] = []
    for frame in frames:
        if frame is None or "period" not in frame.columns:
            continue
        sortable = (
            _numeric(frame, "period_sortable", "trend").tolist()
            if "period_sortable" in frame.columns
            else [math.nan] * len(frame)
        )
        periods.extend(zip(sortable, frame["period"].astype(str).tolist(), strict=True))
    # sorted() is stable: equal or missing keys keep the order given.
    periods.sort(key=lambda pair: (math.isnan(pair[0]), 0.0 if math.isnan(pair[0]) else pair[0]))
    return list(dict.fromkeys(period for _, period in periods))


def trend_chart(
    series: pd.DataFrame,
    benchmark: pd.DataFrame | None = None,
    *,
    title: str | None = None,
    y_title: str = "Value",
    benchmark_name: str = "England",
    width: int = DEFAULT_WIDTH,
    height: int = 200,
    caption: str | None = None,
) -> alt.LayerChart | alt.Chart:
    """One area's indicator over time, with 95% confidence intervals and the benchmark.

    ``series``: canonical rows for one area and indicator: ``period``, ``value``;
    optional ``period_sortable`` (order; else the rows' order), ``lower_ci95``,
    ``upper_ci95`` (drawn as error bars), ``compared_to_england`` (marker colour
    and shape), ``indicator_name``, ``area_name`` (title), ``recent_trend``
    (latest row's, for the text). ``benchmark``: England's series (``period``,
    ``value``, optional ``period_sortable``), drawn as a black line.
    """
    what = "trend"
    indicator = None if _is_empty(series) else _first_text(series, "indicator_name")
    place = None if _is_empty(series) else _first_text(series, "area_name")
    title = title or " in ".join(p for p in (indicator or "Trend", place) if p)
    if _is_empty(series):
        return _no_data(title, "Trend chart", width)
    require_columns(series, ["period", "value"], table=what)
    order = _period_order(series, benchmark)
    position = {period: i for i, period in enumerate(order)}
    has_ci = {"lower_ci95", "upper_ci95"} <= set(series.columns)
    no_interval = [math.nan] * len(series)
    # One area's few periods as plain rows (period, value, comparison, lower, upper), in
    # period order: for a chart's ten or twenty rows pandas costs more than the work.
    points = sorted(
        zip(
            series["period"].astype(str).tolist(),
            _numeric(series, "value", what).tolist(),
            _comparisons(series, "compared_to_england", what).tolist(),
            _numeric(series, "lower_ci95", what).tolist() if has_ci else no_interval,
            _numeric(series, "upper_ci95", what).tolist() if has_ci else no_interval,
            strict=True,
        ),
        key=lambda point: position[point[0]],
    )

    # Slanted period labels overlap only when there are many (about 24 on a phone-width
    # chart); below _OVERLAP_FROM_PERIODS Vega is not asked to check, which saves about a
    # fifth of the time to draw a trend chart and changes nothing drawn.
    # Periods ("2019/20 Q3") and numbers are far shorter than Vega's default label limit
    # (180 px), so no limit: Vega then skips measuring each label to see whether it must be
    # cut, about a seventh of the time to draw a trend chart, and nothing drawn changes.
    axis = alt.Axis(labelAngle=0 if len(order) <= 5 else -45, labelLimit=0)
    if len(order) >= _OVERLAP_FROM_PERIODS:
        axis.labelOverlap = "greedy"
    x = alt.X("period:O", sort=order, title="Period", axis=axis)
    y_scale, y_axis = alt.Scale(zero=False), alt.Axis(labelLimit=0)
    shown = [point for point in points if not math.isnan(point[1])]
    layers = []
    intervals = [
        (period, lower, upper)
        for period, _, _, lower, upper in shown
        if not (math.isnan(lower) or math.isnan(upper))
    ]
    if intervals:
        layers.append(
            alt.Chart(_inline_rows(["period", "lower", "upper"], intervals))
            .mark_rule(color="#555555", strokeWidth=1.5)
            .encode(x=x, y=alt.Y("lower:Q", scale=y_scale, axis=y_axis, title=y_title), y2=alt.Y2("upper:Q"))
        )
    bench_note = ""
    if not _is_empty(benchmark):
        require_columns(benchmark, ["period", "value"], table="benchmark")
        line = [
            (period, value, benchmark_name, _fmt(value))
            for period, value in sorted(
                zip(
                    benchmark["period"].astype(str).tolist(),
                    _numeric(benchmark, "value", "benchmark").tolist(),
                    strict=True,
                ),
                key=lambda pair: position[pair[0]],
            )
            if not math.isnan(value)
        ]
        if line:
            bench_y = alt.Y("value:Q", scale=y_scale, axis=y_axis, title=y_title)
            layers.append(
                alt.Chart(_inline_rows(["period", "value", "name", "value_text"], line))
                .mark_line(
                    color=_BENCHMARK,
                    strokeWidth=1.5,
                    point=alt.OverlayMarkDef(color=_BENCHMARK, size=15),
                )
                .encode(
                    x=x,
                    y=bench_y,
                    tooltip=[
                        alt.Tooltip("name:N", title="Area"),
                        alt.Tooltip("period:O", title="Period"),
                        alt.Tooltip("value_text:N", title="Value"),
                    ],
                )
            )
            layers.append(
                alt.Chart(_inline_rows(["period", "value", "name"], [line[-1][:3]]))
                .mark_text(align="right", dy=-9, fontSize=10, color=_BENCHMARK)
                .encode(x=x, y=bench_y, text=alt.Text("name:N"))
            )
            bench_note = f" {benchmark_name} is shown as a black line."
    comparisons = [point[2] for point in shown]
    colour, shape = _comparison_encodings(comparisons, f"Compared with {benchmark_name}")
    layers.append(
        alt.Chart(
            _inline_rows(
                ["period", "value", "comparison", "value_text", "lower_text", "upper_text"],
                [
                    (period, value, comparison, _fmt(value), _fmt(lower), _fmt(upper))
                    for period, value, comparison, lower, upper in shown
                ],
            )
        )
        .mark_point(filled=True, size=90, stroke="black", strokeWidth=0.7, opacity=1)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=y_scale, axis=y_axis, title=y_title),
            color=colour,
            shape=shape,
            tooltip=[
                alt.Tooltip("period:O", title="Period"),
                alt.Tooltip("value_text:N", title="Value"),
                alt.Tooltip("lower_text:N", title="Lower 95% limit"),
                alt.Tooltip("upper_text:N", title="Upper 95% limit"),
                alt.Tooltip("comparison:N", title=f"Compared with {benchmark_name}"),
            ],
        )
    )

    subject = " in ".join(p for p in (indicator, place) if p) or "this indicator"
    description = f"Trend for {subject}: {_plural(len(points), 'period')}"
    if order:
        description += f" from {points[0][0]} to {points[-1][0]}"
    description += "."
    if shown:
        period, value, comparison, lower, upper = shown[-1]
        description += f" Latest value {_fmt(value)} ({period}"
        if math.isfinite(lower) and math.isfinite(upper):
            description += f", 95% confidence interval {_fmt(lower)} to {_fmt(upper)}"
        description += f"), {COMPARISON_PHRASES[comparison].format(benchmark=benchmark_name)}."
        description += f" Over all periods: {_comparison_counts(comparisons, benchmark_name)}."
    trend = _first_text(series.iloc[-1:], "recent_trend")
    if trend:
        description += f" Recent trend: {trend.lower()}."
    description += bench_note
    description += _missing_note(len(points) - len(shown), "period")
    if has_ci:
        description += " Vertical lines show 95% confidence intervals."
    if caption is None:
        caption = (
            f"{subject[:1].upper() + subject[1:]}"
            + (f", {points[0][0]} to {points[-1][0]}" if order else "")
            + ": each point is one period's value"
            + (" with its 95% confidence interval (vertical line)" if has_ci else "")
            + (f"; the black line is {benchmark_name}." if bench_note else ".")
        )
    return _finish(
        alt.layer(*layers), title=title, description=description, width=width, height=height,
        caption=caption,
    )
