"""Altair plumbing every chart builder shares: checked inputs, inline data, layers, rows of
labelled bars, legends, and the finishing touches (title, text alternative, caption, size)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import altair as alt
import numpy as np
import pandas as pd

from hwb_toolkit.charts.style import (
    _COMPARISON_ALIASES,
    _GROUP_COLOURS,
    _ROW_BAR,
    _ROW_GAP,
    _ROW_LINE,
    _TEXT,
    _WITHHELD_GREY,
    _WITHHELD_SECTOR,
    COMPARISON_COLOURS,
    COMPARISON_SHAPES,
    SECTOR_COLOURS,
    _shorten,
    _wrap,
)
from hwb_toolkit.errors import InputError
from hwb_toolkit.values import is_missing

_VL_VERSION = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]


_FIT = alt.AutoSizeParams(type="fit-x", contains="padding")


_NO_FRAME = alt.ViewBackground(stroke=None)


def _is_empty(frame) -> bool:
    return frame is None or len(frame) == 0


def _numeric(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    """A column as floats; text that is not a number raises (never silently NaN)."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.astype(float)  # nothing to check: no text among numbers
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"the {what} table holds {raw.iloc[position]!r}, which is not a number",
            row=position + 2,
            column=column,
        )
    return values


def _comparisons(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Canonical comparison labels; a missing column or value means "Not compared"."""
    if column not in frame.columns:
        return pd.Series("Not compared", index=frame.index, dtype=object)
    raw = frame[column]
    keys = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip().lower())
    labels = keys.map(_COMPARISON_ALIASES)
    unknown = labels.isna()
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"the {what} table holds the comparison {raw.iloc[position]!r}; expected one of "
            + ", ".join(COMPARISON_COLOURS),
            row=position + 2,
            column=column,
        )
    return labels.astype(object)


def _records(frame: pd.DataFrame) -> alt.Data:
    """Inline data (NaN -> null) so each layer carries its own rows and no row limit applies."""
    # Column lists and one pass in Python: ten times faster than astype(object).where().to_dict()
    # on a chart's few rows, and tolist() already gives plain Python values.
    columns = [frame[name].tolist() for name in frame.columns]
    return _inline_rows([str(name) for name in frame.columns], zip(*columns, strict=True))


def _inline_rows(names: Sequence[str], rows: Iterable[Sequence]) -> alt.Data:
    """Inline data from rows of plain Python values in ``names`` order (NaN -> null)."""
    return alt.Data(values=[
        dict(zip(names, [None if is_missing(v) else v for v in row], strict=True))
        for row in rows
    ])


def _title(text: str, width: int, subtitle: str | Sequence[str] | None = None) -> alt.TitleParams:
    sub: list[str] = []
    for line in [subtitle] if isinstance(subtitle, str) else list(subtitle or []):
        sub.extend(_wrap(line, width, 11))
    params = dict(text=_wrap(text, width, 14), anchor="start", fontSize=14, color=_TEXT)
    if sub:
        params.update(subtitle=sub, subtitleFontSize=11, subtitleColor=_TEXT)
    return alt.TitleParams(**params)


def _finish(chart, *, title: str, description: str, width: int, subtitle=None, height=None,
            caption: str | None = None):
    properties = dict(
        title=_title(title, width, subtitle),
        description=description,
        width=width,
        autosize=_FIT,
        view=_NO_FRAME,
    )
    if caption:
        # What the chart shows, for the page's caption (the description, with its numbers,
        # is the SVG's text alternative): kept in Vega-Lite's free-form usermeta.
        properties["usermeta"] = {"caption": caption}
    if height is not None:
        properties["height"] = height
    # Set on the chart itself: every builder passes the chart it has just made. Not through
    # .properties(), which validates each value against the schema (about 9 ms a chart), nor
    # on a copy: copying a layered chart copies every layer twice over (about 5 ms a chart).
    # tests/charts/test_charts.py validates every builder's chart.
    for name, value in properties.items():
        setattr(chart, name, value)
    return chart


def _no_data(title: str, what: str, width: int, reason: str = "no data") -> alt.Chart:
    chart = (
        alt.Chart(_records(pd.DataFrame({"message": ["No data"]})))
        .mark_text(fontSize=14, color=_TEXT)
        .encode(text=alt.Text("message:N"))
    )
    return _finish(chart, title=title, description=f"{what}: {reason}.", width=width, height=60)


# Vega cuts a legend title longer than the legend's titleLimit (180 px by default) and
# measures the title on every drawing to know whether it must. A title of at most this many
# characters (11 px bold, at most about 7 px a character) never comes near the limit, so it
# is given none: Vega then does not measure it, nothing drawn changes (checked on every chart
# of the example briefing), and the 21 charts draw in about 8% less time.
_SHORT_LEGEND_TITLE = 24


def _legend(title: str | None, **properties) -> alt.Legend:
    """``alt.Legend(title=title, **properties)``, with no title limit for a short title."""
    if isinstance(title, str) and len(title) <= _SHORT_LEGEND_TITLE:
        properties["titleLimit"] = 0
    return alt.Legend(title=title, **properties)


def _comparison_encodings(labels: Iterable[str], legend_title: str | None):
    """Colour and shape from the comparison label, domain limited to the labels present."""
    present = set(labels)
    domain = [label for label in COMPARISON_COLOURS if label in present]
    legend = (
        _legend(
            legend_title,
            orient="bottom",
            direction="horizontal",
            columns=2,
            # The labels are COMPARISON_COLOURS' short words: no limit, so Vega never
            # measures them to check (each text measured costs about 0.5 ms to draw).
            labelLimit=0,
            symbolStrokeColor="black",
            symbolStrokeWidth=0.5,
        )
        if legend_title
        else None
    )
    colour = alt.Color(
        "comparison:N",
        scale=alt.Scale(domain=domain, range=[COMPARISON_COLOURS[d] for d in domain]),
        legend=legend,
        title=legend_title,
    )
    shape = alt.Shape(
        "comparison:N",
        scale=alt.Scale(domain=domain, range=[COMPARISON_SHAPES[d] for d in domain]),
        legend=legend,
        title=legend_title,
    )
    return colour, shape


def _sector_scale(present: Iterable[str]) -> alt.Scale:
    present = list(dict.fromkeys(present))
    domain = [s for s in SECTOR_COLOURS if s in present] + [
        s for s in present if s not in SECTOR_COLOURS and s != _WITHHELD_SECTOR
    ] + ([_WITHHELD_SECTOR] if _WITHHELD_SECTOR in present else [])
    extra = iter(_GROUP_COLOURS[::-1])
    colours = [
        _WITHHELD_GREY if s == _WITHHELD_SECTOR else SECTOR_COLOURS.get(s) or next(extra, "#777777")
        for s in domain
    ]
    return alt.Scale(domain=domain, range=colours)


def _sector_legend(title: str = "Sector") -> alt.Legend:
    return _legend(title, orient="bottom", direction="horizontal", columns=2, labelLimit=150)


def _row_layout(
    labels: Sequence[str], width: int, *, max_lines: int = 2, notes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, float]:
    """Rows with their label across the full width above a bar (phone friendly).

    A label wraps onto up to ``max_lines`` lines (the last shortened with "…" when
    longer); each of ``notes`` (one per row, "" for none) is one more line under it.
    Positions are pixels from the top: ``y_label`` (top of the label lines),
    ``y_bar``/``y_bar2`` (the bar), ``y_mid`` (its centre); also the total height.
    """
    wrapped = [_wrap(label, width, 11) for label in labels]
    wrapped = [
        w[: max_lines - 1] + [_shorten(" ".join(w[max_lines - 1:]), len(w[0]) + 2)]
        if len(w) > max_lines else w
        for w in wrapped
    ]
    if notes is not None:
        wrapped = [w + [note] if note else w for w, note in zip(wrapped, notes, strict=True)]
    lines = ["\n".join(w) for w in wrapped]
    label_heights = np.array([len(w) * _ROW_LINE for w in wrapped], dtype=float)
    heights = label_heights + 2 + _ROW_BAR + _ROW_GAP
    tops = np.concatenate([[0.0], np.cumsum(heights)[:-1]])
    bar_top = tops + label_heights + 2
    rows = pd.DataFrame(
        {
            "row": np.arange(len(lines)),
            "label_text": lines,
            "y_label": tops,
            "y_bar": bar_top,
            "y_bar2": bar_top + _ROW_BAR,
            "y_mid": bar_top + _ROW_BAR / 2,
        }
    )
    return rows, float(heights.sum())


def _row_y(total: float) -> alt.Scale:
    # Domain reversed so that a value is its distance in pixels from the top.
    return alt.Scale(domain=[total, 0], nice=False, zero=False)


_HIDDEN = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)


def _row_bars(
    labels: Sequence[str],
    segments: pd.DataFrame,
    totals: pd.DataFrame,
    *,
    colour: alt.Color | alt.ColorValue,
    tooltip: list,
    x_title: str,
    width: int,
    low: float = 0.0,
    high: float | None = None,
    stroke_field: str | None = None,
) -> tuple[list, alt.Scale, alt.Scale, pd.DataFrame, float]:
    """Horizontal bars, one row per label, each label written above its bar.

    ``segments``: ``row`` (0-based, in ``labels`` order), ``start``, ``end`` and the
    fields used by ``colour``/``tooltip``; ``totals``: ``row``, ``end``, ``text``
    written just after the bar. Returns the layers, the x and y scales, the row
    layout and the height, so callers can add layers (intervals, a benchmark).
    """
    rows, height = _row_layout(labels, width)
    # Rows are looked up by position (``row`` is 0..n-1) in plain lists, not merged:
    # a chart has a few rows, and each pandas merge cost more than the whole lookup.
    y_bar, y_bar2, y_mid = (rows[column].tolist() for column in ("y_bar", "y_bar2", "y_mid"))
    segment_rows = [int(row) for row in segments["row"].tolist()]
    total_ends = totals["end"].tolist()
    top = max(
        [0.0, low]
        + [float(v) for v in segments["end"].tolist() if not is_missing(v)]
        + [float(v) for v in total_ends if not is_missing(v)]
        + ([] if high is None or not np.isfinite(high) else [float(high)])
    )
    longest = max((len(str(t)) for t in totals["text"]), default=0)
    room = min(0.6, (longest * 6 + 8) / max(width - 16, 50))  # space for the text after a bar
    span = top - low if top > low else 1.0
    x_scale = alt.Scale(domain=[low, low + span / (1 - room)], nice=False, zero=False)
    y_scale = _row_y(height)
    x_axis = alt.Axis(grid=True, gridColor="#EEEEEE", tickCount=5, labelOverlap="greedy")

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", scale=x_scale, axis=x_axis, title=x_title)

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", scale=y_scale, axis=_HIDDEN)

    label_layer = (
        alt.Chart(
            _inline_rows(
                ["label_text", "y_label", "x"],
                [(text, top_y, float(low)) for text, top_y in zip(
                    rows["label_text"].tolist(), rows["y_label"].tolist(), strict=True
                )],
            )
        )
        .mark_text(
            align="left", baseline="top", fontSize=11, lineBreak="\n", color=_TEXT
        )
        .encode(x=x("x"), y=y("y_label"), text=alt.Text("label_text:N"))
    )
    placed = _inline_rows(
        [*map(str, segments.columns), "y_bar", "y_bar2"],
        zip(
            *(segments[column].tolist() for column in segments.columns),
            [y_bar[row] for row in segment_rows],
            [y_bar2[row] for row in segment_rows],
            strict=True,
        ),
    )
    encoding = dict(
        x=x("start"), x2=alt.X2("end:Q"), y=y("y_bar"), y2=alt.Y2("y_bar2:Q"), color=colour, tooltip=tooltip
    )
    if stroke_field:
        encoding["strokeWidth"] = alt.condition(f"datum.{stroke_field}", alt.value(2), alt.value(0))
    mark = (
        alt.MarkDef(type="rect", stroke="black")
        if stroke_field
        else alt.MarkDef(type="rect", stroke="white", strokeWidth=1)
    )
    bar_layer = alt.Chart(placed, mark=mark).encode(**encoding)
    written = [
        (end, y_mid[int(row)], text)
        for row, end, text in zip(
            totals["row"].tolist(), total_ends, totals["text"].tolist(), strict=True
        )
        if not is_missing(end)
    ]
    text_layer = (
        alt.Chart(_inline_rows(["end", "y_mid", "text"], written))
        .mark_text(align="left", baseline="middle", dx=4, fontSize=10, color=_TEXT)
        .encode(x=x("end"), y=y("y_mid"), text=alt.Text("text:N"))
    )
    return [label_layer, bar_layer, text_layer], x_scale, y_scale, rows, height


def _first_text(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame.columns:
        return None
    return next((str(v) for v in frame[column].tolist() if not is_missing(v)), None)
