"""Charts: the engines' tables drawn as Altair charts that read well on a phone.

Role: presentation only (floor 1, beside the narrative). Each builder takes an
engine's output table, as agreed in the project's interfaces, and returns an
Altair chart; it reads no files and computes nothing beyond layout (positions,
ranks, order) -- the one exception is :func:`spine_distribution`, which gathers
the spread of areas that a spine chart is drawn against.

Conventions shared by every builder:

- Colours keep Fingertips' meaning (:data:`COMPARISON_COLOURS`): green better,
  amber similar, red worse, blues lower/higher where there is no judgement, grey
  not compared. Colour is never the only cue: each label also has its own marker
  shape (:data:`COMPARISON_SHAPES`) and appears in the legend and the text.
- Every chart has a title, axis titles in plain words and a text alternative:
  the Vega-Lite ``description`` (read back with :func:`text_alternative`), built
  from the data ("Spine chart for Leeds: 3 better than England, ...").
  :func:`to_svg` writes it into the SVG as ``aria-label`` and ``<desc>``.
- Charts are a fixed ``width`` in pixels (default 340, so they fit a 360 px
  phone) with ``autosize`` "fit-x": the whole chart, axis labels and legend
  included, is that wide. Static SVG cannot use ``width="container"``.
  (Vega-Lite allows ``autosize`` only at the top level: to layer or concatenate
  a chart from here, clear it first with ``chart.autosize = alt.Undefined``.)
- Missing values (NaN: suppressed small counts or no data) are not drawn, and
  the text alternative says how many there were. Nothing is ever guessed.
- An empty or missing table gives a chart saying "No data", not an exception.
- Text from contributions (labels, statements) is drawn as SVG text, escaped by
  Vega; it is never interpreted as markup.
- :func:`to_svg` and :func:`to_png` render offline with vl-convert; the SVG
  refers to no external resource (no web fonts, images or scripts).
  :func:`svg_later` draws in the background (a thread, or a child process after
  :func:`draw_in_background_process`) while the caller builds the next chart;
  :func:`warm_up` starts vl-convert (about 0.4 s on first use) in the background
  while data is still being read. See :mod:`hwb_toolkit.vega_svg`.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

import altair as alt
import numpy as np
import pandas as pd

from hwb_toolkit import vega_svg
from hwb_toolkit.errors import InputError, SchemaError
from hwb_toolkit.schema import ENGLAND_CODE, POLARITIES, SECTOR_LABELS, SECTORS

__all__ = [
    "COMPARISON_COLOURS",
    "COMPARISON_SHAPES",
    "COMPARISON_PHRASES",
    "SECTOR_COLOURS",
    "SECTOR_LABELS",
    "DEFAULT_WIDTH",
    "spine_distribution",
    "spine_positions",
    "spine_chart",
    "trend_chart",
    "comparison_chart",
    "funnel_chart",
    "theme_chart",
    "votes_chart",
    "opinion_map",
    "network_layout",
    "network_chart",
    "balance_chart",
    "text_alternative",
    "caption",
    "to_svg",
    "svg_later",
    "warm_up",
    "draw_in_background_process",
    "to_png",
]

#: Width of every chart in pixels, legend and axis labels included: fits a 360 px phone.
DEFAULT_WIDTH = 340
#: Height of one row (an indicator, an area, a theme) in pixels.
ROW_HEIGHT = 26
_ROW_LINE, _ROW_BAR, _ROW_GAP = 13, 14, 10  # labelled rows: label line, bar, gap (px)
# Text is wrapped and shortened here (``_wrap``, ``_shorten``) rather than with Vega's
# ``limit``: vl-convert measures text glyph by glyph, and a limit measures each line again.
_NODE_LABEL_CHARS = 19  # a network label: about 95 px at 9 px (average glyph 0.55 em)
_OVERLAP_FROM_PERIODS = 13  # trend charts with this many periods or more thin out their labels

#: Fingertips' comparison colours. Better/Similar/Worse, Lower/Higher and Not compared
#: are the Fingertips site's own (fingertips-open ``colours``: better, same, worse,
#: bobLower, bobHigher, noComparison). Fingertips has no separate colour for a
#: difference significant at 99.8%; "Best"/"Worst" take a darker green and red.
COMPARISON_COLOURS: dict[str, str] = {
    "Best": "#00B050",
    "Better": "#92D050",
    "Similar": "#FFC000",
    "Worse": "#C00000",
    "Worst": "#8B0000",
    "Lower": "#5555E6",
    "Higher": "#C2CCFF",
    "Not compared": "#C9C9C9",
}

# Custom marker paths, drawn in the -1..1 box Vega expects (y grows downwards).
_DOUBLE_UP = "M-1,0L0,-1L1,0Z M-1,1L0,0L1,1Z"
_DOUBLE_DOWN = "M-1,-1L0,0L1,-1Z M-1,0L0,1L1,0Z"
_ARROW_UP = "M0,-1L1,0H0.4V1H-0.4V0H-1Z"
_ARROW_DOWN = "M0,1L1,0H0.4V-1H-0.4V0H-1Z"

#: A distinct marker per label, so the meaning survives without colour:
#: up for better, down for worse, doubled at 99.8%, arrows for higher/lower.
COMPARISON_SHAPES: dict[str, str] = {
    "Best": _DOUBLE_UP,
    "Better": "triangle-up",
    "Similar": "circle",
    "Worse": "triangle-down",
    "Worst": _DOUBLE_DOWN,
    "Lower": _ARROW_DOWN,
    "Higher": _ARROW_UP,
    "Not compared": "diamond",
}

#: How each label reads in a sentence ("{benchmark}" is replaced by its name).
COMPARISON_PHRASES: dict[str, str] = {
    "Best": "better than {benchmark} at the 99.8% level",
    "Better": "better than {benchmark}",
    "Similar": "similar to {benchmark}",
    "Worse": "worse than {benchmark}",
    "Worst": "worse than {benchmark} at the 99.8% level",
    "Lower": "lower than {benchmark}",
    "Higher": "higher than {benchmark}",
    "Not compared": "not compared",
}

# Spellings met in Fingertips exports and older tables, mapped to the canonical labels.
_COMPARISON_ALIASES: dict[str, str] = {
    "better": "Better",
    "better 95%": "Better",
    "better 99.8%": "Best",
    "best": "Best",
    "similar": "Similar",
    "same": "Similar",
    "worse": "Worse",
    "worse 95%": "Worse",
    "worse 99.8%": "Worst",
    "worst": "Worst",
    "lower": "Lower",
    "higher": "Higher",
    "not compared": "Not compared",
    "none": "Not compared",
    "": "Not compared",
}

#: Sector names as people read them (keys: :data:`hwb_toolkit.schema.SECTORS`).
_NOT_RECORDED = "Not recorded"
#: The segment of a theme's bar holding its withheld (small) sector counts together.
_WITHHELD_SECTOR = "Small numbers, not shown"
_WITHHELD_GREY = "#BBBBBB"

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
SECTOR_COLOURS: dict[str, str] = {
    "Council": "#E69F00",
    "NHS": "#0072B2",
    "Voluntary and community": "#009E73",
    "Business": "#CC79A7",
    "Residents": "#D55E00",
    "Other": "#56B4E9",
    _NOT_RECORDED: "#BBBBBB",
}
_GROUP_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]
_GROUP_SHAPES = ["circle", "square", "triangle-up", "diamond", "triangle-down", "cross", "wedge"]
_UNGROUPED = "Not grouped"

_BAND_OUTER, _BAND_INNER = "#C9C9C9", "#8B8B8B"  # Fingertips' spine: outer quarters, middle half
_BENCHMARK = "#000000"  # Fingertips draws the comparator in black
_LIMIT_95, _LIMIT_998 = "#444444", "#A8A8CC"  # Fingertips' funnel limit colours
_BAR = "#0072B2"
_TEXT = "#333333"

_VL_VERSION = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
_FIT = alt.AutoSizeParams(type="fit-x", contains="padding")
_NO_FRAME = alt.ViewBackground(stroke=None)


# --- small helpers ------------------------------------------------------------


def _is_empty(frame) -> bool:
    return frame is None or len(frame) == 0


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise SchemaError(f"the {what} table has no column '{column}'", column=column)


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


def _built_unchecked(builder):
    """Run a chart builder with Altair's check of each object as it is made switched off.

    Altair validates every schema object at construction (its debug mode), about 15% of
    the time spent building a chart; the finished chart of every builder is validated
    against the Vega-Lite schema in tests/test_charts.py instead. The switch is
    process-wide, so it is restored on return, and analysts' own charts are still checked.
    """

    @functools.wraps(builder)
    def build(*args, **kwargs):
        with alt.utils.schemapi.debug_mode(False):
            return builder(*args, **kwargs)

    return build


def _records(frame: pd.DataFrame) -> alt.Data:
    """Inline data (NaN -> null) so each layer carries its own rows and no row limit applies."""
    # Column lists and one pass in Python: ten times faster than astype(object).where().to_dict()
    # on a chart's few rows, and tolist() already gives plain Python values.
    columns = [frame[name].tolist() for name in frame.columns]
    return _inline_rows([str(name) for name in frame.columns], zip(*columns, strict=True))


def _inline_rows(names: Sequence[str], rows: Iterable[Sequence]) -> alt.Data:
    """Inline data from rows of plain Python values in ``names`` order (NaN -> null)."""
    return alt.Data(values=_Rows([
        dict(zip(names, [None if _is_missing_cell(v) else v for v in row], strict=True))
        for row in rows
    ]))


def _nothing_to_lift(layers: Sequence) -> bool:
    """True when ``alt.LayerChart`` would lift nothing out of ``layers`` into the chart:
    no parameters, size or facet in any layer, and no two layers sharing their data."""
    data_ids = [id(layer.data) for layer in layers]
    return len(set(data_ids)) == len(data_ids) and all(
        isinstance(layer, alt.Chart)
        and layer.data is not alt.Undefined
        and all(
            getattr(layer, name, alt.Undefined) is alt.Undefined
            for name in ("params", "width", "height", "view")
        )
        and all(
            getattr(layer.encoding, channel, alt.Undefined) is alt.Undefined
            for channel in ("row", "column", "facet")
        )
        for layer in layers
    )


class _LayerChart(alt.LayerChart):
    """An ``alt.LayerChart`` made without Altair's two deep copies of every layer.

    While it looks for selection parameters to lift, ``alt.LayerChart`` copies each layer
    twice over, when made and again each time it is copied (``to_dict`` copies it): about
    a third of the time to build a trend chart. When there is nothing to lift (the
    builders' layers each carry their own rows and no parameters), the layers are kept as
    given, as Altair would have had them. tests/test_charts.py checks that every
    builder's spec is the same as with ``alt.layer``.
    """

    def __init__(self, data=alt.Undefined, layer: Sequence = (), **kwargs) -> None:
        if data is alt.Undefined and _nothing_to_lift(layer):
            # What alt.LayerChart.__init__ starts with; the rest only lifts.
            super(alt.LayerChart, self).__init__(data=data, layer=list(layer), **kwargs)
        else:
            super().__init__(data=data, layer=layer, **kwargs)


def _layer(*layers: alt.Chart) -> alt.LayerChart:
    """``alt.layer(*layers)`` (a :class:`_LayerChart` when there is nothing to lift)."""
    return _LayerChart(layer=layers) if _nothing_to_lift(layers) else alt.layer(*layers)


class _Rows:
    """A layer's inline rows (plain JSON values), passed by reference inside Altair.

    Altair deep-copies every layer, rows included, each time layers are combined (about a
    third of the time spent building a layered chart). It leaves objects it does not know
    uncopied, and gives back ``to_dict()`` of those that follow its ``SchemaLike``
    protocol (``_schema`` and ``to_dict``), so the spec is the same. The rows are never
    changed after the chart is built. Iterable, so an Altair that dropped the protocol
    would still convert them, row by row.
    """

    _schema: ClassVar[dict] = {"type": "array"}
    __slots__ = ("rows",)

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def to_dict(self, *args, **kwargs) -> list[dict]:
        return self.rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _is_missing_cell(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _fmt(value) -> str:
    """A number as people read it: thousands separated, one decimal place for most values."""
    if value is None or not np.isfinite(value):
        return "no value"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1 or value == 0:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _count(value) -> str:
    return "no value" if value is None or not np.isfinite(value) else f"{value:,.0f}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _join(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _comparison_counts(labels: Iterable[str], benchmark: str) -> str:
    counts = Counter(labels)
    parts = [
        f"{counts[label]} {COMPARISON_PHRASES[label].format(benchmark=benchmark)}"
        for label in COMPARISON_COLOURS
        if counts.get(label, 0)
    ]
    return _join(parts)


def _wrap(text: str, width_px: int, font_px: float) -> list[str]:
    """Split text into lines that fit ``width_px`` (average glyph about 0.55 em)."""
    chars = max(12, int(width_px / (font_px * 0.55)))
    return textwrap.wrap(str(text), chars) or [""]


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
    # tests/test_charts.py validates every builder's chart.
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


def _missing_note(n_missing: int, thing: str) -> str:
    if not n_missing:
        return ""
    verb = "has" if n_missing == 1 else "have"
    return (
        f" {_plural(n_missing, thing)} {verb} no value (suppressed or not available), "
        f"so nothing is drawn for {'it' if n_missing == 1 else 'them'}."
    )


def _sector_label(values: pd.Series) -> pd.Series:
    keys = values.astype(object).where(values.notna(), "")
    keys = keys.map(lambda v: str(v).strip())
    return keys.map(
        lambda v: SECTOR_LABELS.get(v.lower(), v[:1].upper() + v[1:] if v else _NOT_RECORDED)
    )


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
        + [float(v) for v in segments["end"].tolist() if not _is_missing_cell(v)]
        + [float(v) for v in total_ends if not _is_missing_cell(v)]
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
        if not _is_missing_cell(end)
    ]
    text_layer = (
        alt.Chart(_inline_rows(["end", "y_mid", "text"], written))
        .mark_text(align="left", baseline="middle", dx=4, fontSize=10, color=_TEXT)
        .encode(x=x("end"), y=y("y_mid"), text=alt.Text("text:N"))
    )
    return [label_layer, bar_layer, text_layer], x_scale, y_scale, rows, height


# --- spine chart ------------------------------------------------------------------


def _group_keys(*frames: pd.DataFrame) -> list[str]:
    """indicator_id plus sex and age where every frame has them (summaries are per sex/age)."""
    return ["indicator_id"] + [
        c for c in ("sex", "age") if all(c in frame.columns for frame in frames)
    ]


def spine_distribution(
    all_area_latest: pd.DataFrame,
    *,
    england_code: str = ENGLAND_CODE,
    area_type: str | None = None,
) -> pd.DataFrame:
    """The spread of areas that a spine chart draws each indicator against.

    ``all_area_latest``: canonical indicator rows for one period per indicator,
    one row per area (columns ``indicator_id``, ``area_code``, ``value``; optional
    ``polarity``, ``sex``, ``age``, ``period``, ``area_type``, ``category_type``).
    The England row (``england_code``) gives ``england_value`` and is left out of
    the spread; category rows (a non-empty ``category_type``) are left out; with
    ``area_type`` only that area type is used (compare like with like, as
    Fingertips does). Values stay on the indicator's published scale.

    Returns one row per indicator (and sex/age where present): ``indicator_id``,
    ``england_value``, ``min``, ``q25``, ``q75``, ``max``, ``n_areas`` (areas with
    a value) and ``polarity`` when given. Quartiles are interpolated linearly
    (numpy's default, R's type 7, as PHE's fingertipscharts computes them).
    Raises :class:`InputError` when an indicator has several periods or an area
    appears twice for one indicator.
    """
    columns = ["indicator_id", "england_value", "min", "q25", "q75", "max", "n_areas"]
    if _is_empty(all_area_latest):
        return pd.DataFrame(columns=columns)
    what = "area values"
    _require(all_area_latest, ["indicator_id", "area_code", "value"], what)
    data = all_area_latest.copy()
    data["value"] = _numeric(data, "value", what)
    if "category_type" in data.columns:
        category = data["category_type"].astype(object)
        data = data[category.isna() | (category.astype(str).str.strip() == "")]
    is_england = data["area_code"].astype(str) == england_code
    if area_type is not None and "area_type" in data.columns:
        data = data[is_england | (data["area_type"].astype(str) == area_type)]
        is_england = data["area_code"].astype(str) == england_code
    keys = _group_keys(data)
    if "period" in data.columns:
        periods = data.groupby(keys, dropna=False)["period"].nunique()
        if (periods > 1).any():
            which = periods[periods > 1].index[0]
            raise InputError(
                f"indicator {which} has values for several periods; keep one period per "
                "indicator before drawing a spine chart",
                column="period",
            )
    areas = data[~is_england]
    repeated = areas.duplicated(keys + ["area_code"])
    if repeated.any():
        position = int(np.flatnonzero(repeated.to_numpy())[0])
        row = all_area_latest.index.get_loc(areas.index[position])
        raise InputError(
            f"area {areas['area_code'].iloc[position]} appears more than once for indicator "
            f"{areas['indicator_id'].iloc[position]}",
            row=int(row) + 2,
            column="area_code",
        )
    grouped = areas.dropna(subset=["value"]).groupby(keys, dropna=False)["value"]
    spread = grouped.quantile([0.0, 0.25, 0.75, 1.0]).unstack()
    spread.columns = ["min", "q25", "q75", "max"]
    spread["n_areas"] = grouped.size()
    england = data[is_england].groupby(keys, dropna=False)["value"].first().rename("england_value")
    every = data.groupby(keys, dropna=False).size().index
    out = pd.DataFrame(index=every).join(england).join(spread)
    out["n_areas"] = out["n_areas"].fillna(0).astype(int)
    if "polarity" in data.columns:
        out = out.join(data.groupby(keys, dropna=False)["polarity"].first())
        columns = columns + ["polarity"]
    out = out.reset_index()
    return out[keys[1:] + columns] if len(keys) > 1 else out[columns]


def _unique_labels(frame: pd.DataFrame) -> pd.Series:
    """Row labels for people: the display name when given (it says whom a row is about),
    else the indicator name, with sex/age (then id) only when needed."""
    if "display_name" in frame.columns:
        names = frame["display_name"].astype(object)
        fallback = frame["indicator_name"] if "indicator_name" in frame.columns else None
        if fallback is not None:
            names = names.where(names.notna(), fallback)
        frame = frame.assign(indicator_name=names)
    if "indicator_name" in frame.columns:
        names = frame["indicator_name"].astype(object)
        names = names.where(names.notna(), "Indicator " + frame["indicator_id"].astype(str))
    else:
        names = "Indicator " + frame["indicator_id"].astype(str)
    names = names.astype(str)
    if names.duplicated(keep=False).any():
        extra = [c for c in ("sex", "age") if c in frame.columns]
        if extra:
            detail = frame[extra].astype(str).agg(", ".join, axis=1)
            names = names.where(~names.duplicated(keep=False), names + " (" + detail + ")")
    if names.duplicated(keep=False).any():
        names = names.where(
            ~names.duplicated(keep=False), names + " [" + frame["indicator_id"].astype(str) + "]"
        )
    return names


def spine_positions(summary: pd.DataFrame, distribution: pd.DataFrame) -> pd.DataFrame:
    """Where each part of a spine chart goes, on a 0-1 axis with England at 0.5.

    Fingertips' spine layout: the axis is centred on the England value and its half
    width is the larger distance from England to the lowest or highest area, so the
    chart is symmetric about England. For ``low_is_good`` indicators the axis is
    flipped so that better is always to the right; ``high_is_good`` and
    ``no_judgement`` indicators run from lowest (left) to highest (right).

    ``summary``: the indicator summary (``indicator_id``, ``value``; optional
    ``indicator_name``, ``compared_to_england``, ``polarity``, ``england_value``,
    ``sex``, ``age``). ``distribution``: :func:`spine_distribution`'s table
    (``indicator_id``, ``min``, ``q25``, ``q75``, ``max``; optional
    ``england_value``, ``polarity``). The distribution's England value is used,
    else the summary's; the summary's polarity, else the distribution's, else
    "no_judgement".

    Returns one row per summary row: ``indicator_id``, ``label``, ``polarity``,
    ``comparison``, ``value``, ``england_value``, the ends of the spine in the
    indicator's units (``left_end``, ``left_quartile``, ``right_quartile``,
    ``right_end``; for ``low_is_good`` left_end is the highest value) and their
    positions ``x_left_end``, ``x_left_quartile``, ``x_right_quartile``,
    ``x_right_end``, ``x_area`` (the area's marker, clipped to 0-1), ``x_england``
    (0.5), and ``has_spine`` (False when England's value or the spread is missing:
    then every position is NaN).
    """
    what = "indicator summary"
    _require(summary, ["indicator_id", "value"], what)
    if _is_empty(distribution):  # nothing to draw against: every row says so
        distribution = pd.DataFrame(
            {"indicator_id": summary["indicator_id"].drop_duplicates()}
        ).assign(min=np.nan, q25=np.nan, q75=np.nan, max=np.nan)
    _require(distribution, ["indicator_id", "min", "q25", "q75", "max"], "spine distribution")
    keys = _group_keys(summary, distribution)
    wanted = (
        keys
        + ["min", "q25", "q75", "max"]
        + [c for c in ("england_value", "polarity") if c in distribution.columns]
    )
    spread = distribution[wanted].rename(
        columns={"england_value": "_dist_england", "polarity": "_dist_polarity"}
    )
    try:
        merged = summary.reset_index(drop=True).merge(
            spread, on=keys, how="left", validate="many_to_one"
        )
    except pd.errors.MergeError as error:
        raise InputError(
            "the spine distribution has more than one row for an indicator", column="indicator_id"
        ) from error

    value = _numeric(merged, "value", what)
    england = (
        _numeric(merged, "_dist_england", "spine distribution")
        if "_dist_england" in merged.columns
        else pd.Series(np.nan, index=merged.index)
    )
    if "england_value" in merged.columns:
        england = england.fillna(_numeric(merged, "england_value", what))
    polarity = pd.Series(pd.NA, index=merged.index, dtype=object)
    for column in ("polarity", "_dist_polarity"):
        if column in merged.columns:
            polarity = polarity.fillna(merged[column].astype(object))
    polarity = polarity.fillna("no_judgement").astype(str).str.strip()
    bad = ~polarity.isin(POLARITIES)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"polarity {polarity.iloc[position]!r} is not one of {', '.join(POLARITIES)}",
            row=position + 2,
            column="polarity",
        )

    low, q25, q75, high = (
        _numeric(merged, c, "spine distribution").to_numpy() for c in ("min", "q25", "q75", "max")
    )
    centre = england.to_numpy()
    flipped = (polarity == "low_is_good").to_numpy()
    sign = np.where(flipped, -1.0, 1.0)
    half = np.fmax(np.abs(centre - low), np.abs(high - centre))
    has_spine = np.isfinite(centre) & np.isfinite(low) & np.isfinite(high)

    def position(values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(half > 0, 0.5 + sign * (values - centre) / (2 * half), 0.5)
        return np.where(has_spine, x, np.nan)

    out = pd.DataFrame(
        {
            "indicator_id": merged["indicator_id"],
            "label": _unique_labels(merged),
            "polarity": polarity,
            "comparison": _comparisons(merged, "compared_to_england", what),
            "value": value,
            "england_value": england,
            "left_end": np.where(flipped, high, low),
            "left_quartile": np.where(flipped, q75, q25),
            "right_quartile": np.where(flipped, q25, q75),
            "right_end": np.where(flipped, low, high),
        }
    )
    for column in ("left_end", "left_quartile", "right_quartile", "right_end"):
        out["x_" + column] = position(out[column].to_numpy())
    out["x_area"] = np.clip(position(value.to_numpy()), 0.0, 1.0)
    out["x_england"] = np.where(has_spine, 0.5, np.nan)
    out["has_spine"] = has_spine
    return out


@_built_unchecked
def spine_chart(
    summary: pd.DataFrame,
    distribution: pd.DataFrame,
    *,
    area_name: str | None = None,
    benchmark_name: str = "England",
    title: str | None = None,
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """Fingertips-style spine chart: one area's indicators against England and all areas.

    One row per summary row (see :func:`spine_positions` for the columns read and
    the layout). Each row: the indicator's name across the full width (phone
    friendly), then the range of areas as a bar (lighter outer quarters, darker
    middle half, Fingertips' greys), England as a black line at the centre, and the
    area's value as a marker coloured and shaped by ``compared_to_england``.
    Better is to the right; indicators with no judgement run from lowest to highest.
    ``area_name`` defaults to the summary's ``area_name``. Under each name, as in
    Fingertips' health profiles, the area's value, England's value and the range of
    areas (its worse end first); with a ``unit`` column ("%", "per 100,000") the values
    are written as the briefing's sentences write them
    (:func:`hwb_toolkit.narrative.format_value`), and a rate's unit follows the name.
    """
    if area_name is None and not _is_empty(summary) and "area_name" in summary.columns:
        names = summary["area_name"].dropna()
        area_name = str(names.iloc[0]) if len(names) else None
    place = area_name or "this area"
    title = title or f"{place} compared with {benchmark_name}"
    if _is_empty(summary):
        return _no_data(title, f"Spine chart for {place}", width)
    spine = spine_positions(summary, distribution)
    units = (
        summary["unit"].astype(object).where(summary["unit"].notna(), "").astype(str).tolist()
        if "unit" in summary.columns else [None] * len(spine)
    )
    periods = (
        summary["period"].astype(object).where(summary["period"].notna(), "").astype(str).tolist()
        if "period" in summary.columns else [""] * len(spine)
    )
    names = [
        label + " (" + ", ".join(p for p in (period, unit if unit and unit.startswith("per ") else "") if p) + ")"
        if period or (unit and unit.startswith("per ")) else label
        for label, period, unit in zip(spine["label"].tolist(), periods, units, strict=True)
    ]
    notes = [
        _spine_values(value, england, left, right, unit, benchmark_name)
        for value, england, left, right, unit in zip(
            spine["value"].tolist(), spine["england_value"].tolist(), spine["left_end"].tolist(),
            spine["right_end"].tolist(), units, strict=True,
        )
    ]
    rows, total = _row_layout(names, width, max_lines=3, notes=notes)
    spine = pd.concat([spine, rows.set_index(spine.index)], axis=1)

    x_scale = alt.Scale(domain=[0, 1], nice=False, zero=False)
    x_axis = alt.Axis(
        values=[0, 0.5, 1],
        labelExpr=(
            "datum.value == 0 ? 'Worse' : datum.value == 1 ? 'Better' : "
            + json.dumps(benchmark_name)
        ),
        labelFlush=True,
        grid=False,
        ticks=False,
        domain=False,
    )
    y_scale = _row_y(total)

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", scale=x_scale, axis=x_axis, title=None)

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", scale=y_scale, axis=_HIDDEN)

    drawn = spine[spine["has_spine"]]
    bands = pd.concat(
        [
            pd.DataFrame(
                {
                    "x": drawn[a],
                    "x2": drawn[b],
                    "band": band,
                    "y_bar": drawn["y_bar"],
                    "y_bar2": drawn["y_bar2"],
                }
            )
            for a, b, band in (
                ("x_left_end", "x_left_quartile", "outer"),
                ("x_left_quartile", "x_right_quartile", "middle"),
                ("x_right_quartile", "x_right_end", "outer"),
            )
        ],
        ignore_index=True,
    )
    label_layer = (
        alt.Chart(_records(spine[["label_text", "y_label"]].assign(x=0.0)))
        .mark_text(
            align="left", baseline="top", fontSize=11, lineBreak="\n", color=_TEXT
        )
        .encode(x=x("x"), y=y("y_label"), text=alt.Text("label_text:N"))
    )
    band_layer = (
        alt.Chart(_records(bands))
        .mark_rect()
        .encode(
            x=x("x"),
            x2=alt.X2("x2:Q"),
            y=y("y_bar"),
            y2=alt.Y2("y_bar2:Q"),
            color=alt.Color(
                "band:N",
                scale=alt.Scale(domain=["outer", "middle"], range=[_BAND_OUTER, _BAND_INNER]),
                legend=None,
            ),
        )
    )
    centre_layer = (
        alt.Chart(_records(drawn[["x_england", "y_bar", "y_bar2"]]))
        .mark_rule(color=_BENCHMARK, strokeWidth=2)
        .encode(x=x("x_england"), y=y("y_bar"), y2=alt.Y2("y_bar2:Q"))
    )
    markers = spine[spine["has_spine"] & spine["value"].notna()].assign(
        value_text=lambda d: d["value"].map(_fmt),
        england_text=lambda d: d["england_value"].map(_fmt),
    )
    colour, shape = _comparison_encodings(markers["comparison"], f"Compared with {benchmark_name}")
    marker_layer = (
        alt.Chart(
            _records(
                markers[["label", "x_area", "y_mid", "comparison", "value_text", "england_text"]]
            )
        )
        .mark_point(filled=True, size=110, stroke="black", strokeWidth=0.7, opacity=1)
        .encode(
            x=x("x_area"),
            y=y("y_mid"),
            color=colour,
            shape=shape,
            tooltip=[
                alt.Tooltip("label:N", title="Indicator"),
                alt.Tooltip("value_text:N", title=place),
                alt.Tooltip("england_text:N", title=benchmark_name),
                alt.Tooltip("comparison:N", title=f"Compared with {benchmark_name}"),
            ],
        )
    )
    layers = [label_layer, band_layer, centre_layer, marker_layer]
    no_spine = spine[~spine["has_spine"]]
    if len(no_spine):
        layers.append(
            alt.Chart(_records(no_spine[["y_mid"]].assign(x=0.5, note="No comparison available")))
            .mark_text(fontSize=10, fontStyle="italic", color=_TEXT)
            .encode(x=x("x"), y=y("y_mid"), text=alt.Text("note:N"))
        )

    n = len(spine)
    caption = (
        f"Each row is one figure for {place}, with its value, {benchmark_name}'s value and the "
        f"range of areas of the same kind (worse end first). The marker is {place}'s value, "
        f"coloured by how it compares with {benchmark_name}; the black line is {benchmark_name}; "
        "the grey bar runs from the worst area on the left to the best on the right, darker "
        "for the middle half (lowest to highest for figures that are neither better nor worse)."
    )
    description = (
        f"Spine chart for {place}: {_plural(n, 'indicator')} compared with {benchmark_name}; "
        f"{_comparison_counts(spine['comparison'], benchmark_name)}."
        f" Each bar shows the range across areas, darker for the middle half, with "
        f"{benchmark_name} at the centre; better is to the right (for indicators with no "
        "judgement, higher is to the right)."
    )
    description += _missing_note(int(spine["value"].isna().sum()), "indicator")
    without = int((~spine["has_spine"]).sum())
    if without:
        description += (
            f" {_plural(without, 'indicator')} cannot be placed on a spine "
            f"(no {benchmark_name} value or no spread of areas)."
        )
    chart = _layer(*layers).resolve_scale(color="independent", shape="independent")
    return _finish(
        chart,
        title=title,
        description=description,
        width=width,
        height=int(np.ceil(total)),
        caption=caption,
    )


def _spine_values(value, england, left, right, unit: str | None, benchmark_name: str) -> str:
    """A spine row's numbers: "64.0% · England 67.0% · range 55.2% to 72.3%" (worse end first)."""

    def number(x) -> str:
        if x is None or not np.isfinite(x):
            return "no value"
        if unit is None:
            return _fmt(x)
        from hwb_toolkit.narrative import format_value

        return format_value(x, unit if unit in ("%", "", "count") else "number")

    parts = [number(value), f"{benchmark_name} {number(england)}"]
    if left is not None and right is not None and np.isfinite(left) and np.isfinite(right):
        parts.append(f"range {number(left)} to {number(right)}")
    return " · ".join(parts)


# --- trends and comparisons -------------------------------------------------------


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


def _first_text(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame.columns:
        return None
    return next((str(v) for v in frame[column].tolist() if not _is_missing_cell(v)), None)


@_built_unchecked
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
    _require(series, ["period", "value"], what)
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
        _require(benchmark, ["period", "value"], "benchmark")
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
        _layer(*layers), title=title, description=description, width=width, height=height,
        caption=caption,
    )


def _highlight_flags(frame: pd.DataFrame, highlight: str | None) -> pd.Series:
    if highlight is None:
        return pd.Series(False, index=frame.index)
    return frame["area_code"].astype(str) == str(highlight)


@_built_unchecked
def comparison_chart(
    values: pd.DataFrame,
    highlight: str | None = None,
    benchmark: float | None = None,
    kind: str = "caterpillar",
    *,
    title: str | None = None,
    y_title: str = "Value",
    benchmark_name: str = "England",
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """Many areas for one indicator and period, ordered by value, with 95% intervals.

    ``values``: ``area_code``, ``area_name``, ``value``; optional ``lower_ci95``,
    ``upper_ci95``, ``compared_to_england``, ``indicator_name``, ``period``.
    ``highlight``: an area code drawn larger, outlined and named. ``benchmark``:
    England's value, drawn as a black line. ``kind``: "caterpillar" (points in
    value order, lowest to highest, for many areas) or "bar" (one named bar per
    area, highest first, for a handful of areas).
    """
    if kind not in ("caterpillar", "bar"):
        raise ValueError(f"kind must be 'caterpillar' or 'bar', not {kind!r}")
    what = "area values"
    indicator = None if _is_empty(values) else _first_text(values, "indicator_name")
    period = None if _is_empty(values) else _first_text(values, "period")
    title = title or (f"{indicator}: areas compared" if indicator else "Areas compared")
    if _is_empty(values):
        return _no_data(title, "Comparison of areas", width)
    _require(values, ["area_code", "area_name", "value"], what)
    data = pd.DataFrame(
        {
            "area_code": values["area_code"].astype(str).to_numpy(),
            "area_name": values["area_name"].astype(str).to_numpy(),
            "value": _numeric(values, "value", what).to_numpy(),
            "comparison": _comparisons(values, "compared_to_england", what).to_numpy(),
        }
    )
    has_ci = {"lower_ci95", "upper_ci95"} <= set(values.columns)
    data["lower"] = _numeric(values, "lower_ci95", what).to_numpy() if has_ci else np.nan
    data["upper"] = _numeric(values, "upper_ci95", what).to_numpy() if has_ci else np.nan
    data["highlighted"] = _highlight_flags(data, highlight).to_numpy()
    shown = data[data["value"].notna()].sort_values(["value", "area_name"], kind="stable")
    shown = shown.reset_index(drop=True)
    shown["rank"] = np.arange(1, len(shown) + 1)
    shown["value_text"] = shown["value"].map(_fmt)
    colour, shape = _comparison_encodings(shown["comparison"], f"Compared with {benchmark_name}")
    tooltip = [
        alt.Tooltip("area_name:N", title="Area"),
        alt.Tooltip("value_text:N", title="Value"),
        alt.Tooltip("comparison:N", title=f"Compared with {benchmark_name}"),
    ]
    columns = [
        "area_name",
        "value",
        "lower",
        "upper",
        "comparison",
        "highlighted",
        "rank",
        "value_text",
    ]
    layers = []
    if kind == "caterpillar":
        x = alt.X(
            "rank:Q",
            title="Areas, from lowest to highest value",
            scale=alt.Scale(domain=[0.5, len(shown) + 0.5], nice=False, zero=False),
            axis=alt.Axis(labels=False, ticks=False, grid=False),
        )
        y = alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False))
        if has_ci:
            layers.append(
                alt.Chart(_records(shown.dropna(subset=["lower", "upper"])[columns]))
                .mark_rule(color="#777777")
                .encode(
                    x=x,
                    y=alt.Y("lower:Q", title=y_title, scale=alt.Scale(zero=False)),
                    y2=alt.Y2("upper:Q"),
                )
            )
        layers.append(
            alt.Chart(_records(shown[columns]))
            .mark_point(filled=True, stroke="black", opacity=1)
            .encode(
                x=x,
                y=y,
                color=colour,
                shape=shape,
                tooltip=tooltip,
                size=alt.condition("datum.highlighted", alt.value(170), alt.value(45)),
                strokeWidth=alt.condition("datum.highlighted", alt.value(2), alt.value(0.4)),
            )
        )
        chosen = shown[shown["highlighted"]]
        if len(chosen):
            layers.append(
                alt.Chart(_records(chosen[columns]))
                .mark_text(
                    dy=-14,
                    fontSize=11,
                    fontWeight="bold",
                    color=_TEXT,
                    align="left" if chosen["rank"].iloc[0] <= len(shown) / 2 else "right",
                )
                .encode(x=x, y=y, text=alt.Text("area_name:N"))
            )
        if benchmark is not None and np.isfinite(benchmark):
            line = pd.DataFrame({"value": [float(benchmark)], "name": [benchmark_name]})
            layers.append(
                alt.Chart(_records(line))
                .mark_rule(color=_BENCHMARK, strokeWidth=1.5)
                .encode(y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)))
            )
            layers.append(
                alt.Chart(_records(line.assign(rank=0.5)))
                .mark_text(align="left", dy=-7, fontSize=10, color=_BENCHMARK)
                .encode(
                    x=x,
                    y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
                    text=alt.Text("name:N"),
                )
            )
        height = 220
    else:
        ordered = shown.sort_values("rank", ascending=False).reset_index(drop=True)
        ordered["row"] = np.arange(len(ordered))
        segments = ordered[columns + ["row"]].assign(start=0.0, end=ordered["value"])
        # The comparison is written beside each bar, so colour is not the only cue.
        totals = pd.DataFrame(
            {
                "row": ordered["row"],
                "end": ordered[["value", "upper"]].max(axis=1),
                "text": ordered["value_text"]
                + " "
                + ordered["comparison"]
                .str.lower()
                .where(ordered["comparison"] != "Not compared", ""),
            }
        )
        low = (
            min(0.0, float(np.nanmin(ordered[["value", "lower"]].to_numpy())))
            if len(ordered)
            else 0.0
        )
        layers, x_scale, y_scale, rows, total = _row_bars(
            ordered["area_name"].tolist(),
            segments,
            totals,
            colour=colour.legend(None),
            tooltip=tooltip,
            x_title=y_title,
            width=width,
            low=low,
            high=benchmark,
            stroke_field="highlighted",
        )
        x_axis = alt.Axis(grid=True, gridColor="#EEEEEE", tickCount=5, labelOverlap="greedy")
        if has_ci:
            placed = ordered.dropna(subset=["lower", "upper"]).merge(
                rows[["row", "y_mid"]], on="row"
            )
            layers.append(
                alt.Chart(_records(placed[["lower", "upper", "y_mid"]]))
                .mark_rule(color="#333333", strokeWidth=1.5)
                .encode(
                    x=alt.X("lower:Q", scale=x_scale, axis=x_axis, title=y_title),
                    x2=alt.X2("upper:Q"),
                    y=alt.Y("y_mid:Q", scale=y_scale, axis=_HIDDEN),
                )
            )
        if benchmark is not None and np.isfinite(benchmark):
            line = pd.DataFrame({"value": [float(benchmark)], "y": [0.0], "y2": [total]})
            layers.append(
                alt.Chart(_records(line))
                .mark_rule(color=_BENCHMARK, strokeWidth=1.5)
                .encode(
                    x=alt.X("value:Q", scale=x_scale, axis=x_axis, title=y_title),
                    y=alt.Y("y:Q", scale=y_scale, axis=_HIDDEN),
                    y2=alt.Y2("y2:Q"),
                )
            )
        height = int(np.ceil(total))

    subject = indicator or "the indicator"
    description = f"Comparison of {_plural(len(data), 'area')} for {subject}"
    description += f" ({period})." if period else "."
    if len(shown):
        description += (
            f" Values range from {_fmt(shown['value'].iloc[0])} ({shown['area_name'].iloc[0]}) "
            f"to {_fmt(shown['value'].iloc[-1])} ({shown['area_name'].iloc[-1]}); "
            f"{_comparison_counts(shown['comparison'], benchmark_name)}."
        )
    if benchmark is not None and np.isfinite(benchmark):
        description += f" {benchmark_name}: {_fmt(float(benchmark))}, the black line."
    chosen = shown[shown["highlighted"]]
    if len(chosen):
        row = chosen.iloc[0]
        description += (
            f" {row['area_name']} ({_fmt(row['value'])}) is {_ordinal(len(shown) - int(row['rank']) + 1)}"
            f" highest of {len(shown)}, "
            f"{COMPARISON_PHRASES[row['comparison']].format(benchmark=benchmark_name)}."
        )
    elif highlight is not None:
        description += f" Area {highlight} has no value here."
    description += _missing_note(int(data["value"].isna().sum()), "area")
    return _finish(
        _layer(*layers), title=title, description=description, width=width, height=height
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


#: Accepted names for the funnel limit columns, the canonical one first.
_FUNNEL_LIMITS = {
    "lower_ci95": ("lower_ci95", "lower_95", "lower_95_limit", "lower_2s_limit"),
    "upper_ci95": ("upper_ci95", "upper_95", "upper_95_limit", "upper_2s_limit"),
    "lower_ci998": ("lower_ci998", "lower_998", "lower_99_8_limit", "lower_3s_limit"),
    "upper_ci998": ("upper_ci998", "upper_998", "upper_99_8_limit", "upper_3s_limit"),
}


@_built_unchecked
def funnel_chart(
    values: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    highlight: str | None = None,
    benchmark: float | None = None,
    title: str | None = None,
    x_title: str = "Population size (denominator)",
    y_title: str = "Value",
    benchmark_name: str = "England",
    width: int = DEFAULT_WIDTH,
    height: int = 240,
) -> alt.LayerChart | alt.Chart:
    """Funnel plot: each area's value against its denominator, inside control limits.

    ``values``: ``area_code``, ``area_name``, ``value``, ``denominator``; optional
    ``compared_to_england`` (marker colour and shape), ``indicator_name``.
    ``limits``: ``denominator`` and the limits at each denominator, as
    ``lower_ci95``, ``upper_ci95``, ``lower_ci998``, ``upper_ci998`` (also accepted:
    ``lower_95_limit``/``lower_2s_limit`` style names). 95% limits are drawn dark,
    99.8% limits light and dashed, in Fingertips' colours; ``benchmark`` (England)
    is the black centre line.
    """
    what = "area values"
    indicator = None if _is_empty(values) else _first_text(values, "indicator_name")
    title = title or (f"{indicator}: funnel plot" if indicator else "Funnel plot")
    if _is_empty(values):
        return _no_data(title, "Funnel plot", width)
    _require(values, ["area_code", "area_name", "value", "denominator"], what)
    data = pd.DataFrame(
        {
            "area_name": values["area_name"].astype(str).to_numpy(),
            "area_code": values["area_code"].astype(str).to_numpy(),
            "value": _numeric(values, "value", what).to_numpy(),
            "denominator": _numeric(values, "denominator", what).to_numpy(),
            "comparison": _comparisons(values, "compared_to_england", what).to_numpy(),
        }
    )
    data["highlighted"] = _highlight_flags(data, highlight).to_numpy()
    data["value_text"] = data["value"].map(_fmt)
    data["denominator_text"] = data["denominator"].map(_count)
    shown = data.dropna(subset=["value", "denominator"])
    x = alt.X(
        "denominator:Q",
        title=x_title,
        scale=alt.Scale(zero=False, nice=False),
        axis=alt.Axis(format="~s", labelOverlap="greedy"),
    )
    y_scale = alt.Scale(zero=False)
    layers = []
    if not _is_empty(limits):
        _require(limits, ["denominator"], "funnel limits")
        lines = []
        for canonical, names in _FUNNEL_LIMITS.items():
            found = next((n for n in names if n in limits.columns), None)
            if found is None:
                raise SchemaError(
                    f"the funnel limits table has no column '{canonical}'", column=canonical
                )
            lines.append(
                pd.DataFrame(
                    {
                        "denominator": _numeric(limits, "denominator", "funnel limits").to_numpy(),
                        "limit": _numeric(limits, found, "funnel limits").to_numpy(),
                        "line": canonical,
                        "level": "95% limits" if canonical.endswith("95") else "99.8% limits",
                    }
                )
            )
        lines = pd.concat(lines, ignore_index=True).dropna().sort_values(["line", "denominator"])
        layers.append(
            alt.Chart(_records(lines))
            .mark_line(strokeWidth=1.3)
            .encode(
                x=x,
                y=alt.Y("limit:Q", title=y_title, scale=y_scale),
                detail=alt.Detail("line:N"),
                color=alt.Color(
                    "level:N",
                    title="Control limits",
                    scale=alt.Scale(
                        domain=["95% limits", "99.8% limits"], range=[_LIMIT_95, _LIMIT_998]
                    ),
                    legend=alt.Legend(orient="bottom", direction="horizontal"),
                ),
                strokeDash=alt.StrokeDash(
                    "level:N",
                    legend=None,
                    scale=alt.Scale(domain=["95% limits", "99.8% limits"], range=[[1, 0], [5, 3]]),
                ),
            )
        )
    if benchmark is not None and np.isfinite(benchmark):
        layers.append(
            alt.Chart(_records(pd.DataFrame({"value": [float(benchmark)]})))
            .mark_rule(color=_BENCHMARK, strokeWidth=1.5)
            .encode(y=alt.Y("value:Q", title=y_title, scale=y_scale))
        )
    colour, shape = _comparison_encodings(shown["comparison"], f"Compared with {benchmark_name}")
    layers.append(
        alt.Chart(_records(shown))
        .mark_point(filled=True, stroke="black", opacity=1)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title, scale=y_scale),
            color=colour,
            shape=shape,
            size=alt.condition("datum.highlighted", alt.value(170), alt.value(45)),
            strokeWidth=alt.condition("datum.highlighted", alt.value(2), alt.value(0.4)),
            tooltip=[
                alt.Tooltip("area_name:N", title="Area"),
                alt.Tooltip("value_text:N", title="Value"),
                alt.Tooltip("denominator_text:N", title=x_title),
            ],
        )
    )
    chosen = shown[shown["highlighted"]]
    if len(chosen):
        layers.append(
            alt.Chart(_records(chosen))
            .mark_text(dy=-14, fontSize=11, fontWeight="bold", color=_TEXT)
            .encode(x=x, y=alt.Y("value:Q", title=y_title, scale=y_scale), text=alt.Text("area_name:N"))
        )
    description = (
        f"Funnel plot of {_plural(len(data), 'area')} for {indicator or 'the indicator'}: "
        f"each area's value against its population size, with 95% and 99.8% control limits"
    )
    description += (
        f" around {benchmark_name} ({_fmt(float(benchmark))})."
        if (benchmark is not None and np.isfinite(benchmark))
        else "."
    )
    if len(shown):
        counts = _comparison_counts(shown["comparison"], benchmark_name)
        description += f" {counts[:1].upper()}{counts[1:]}."
    if len(chosen):
        row = chosen.iloc[0]
        description += f" {row['area_name']}: {_fmt(row['value'])}."
    description += _missing_note(len(data) - len(shown), "area")
    chart = _layer(*layers).resolve_scale(color="independent", shape="independent")
    return _finish(chart, title=title, description=description, width=width, height=height)


# --- voices -------------------------------------------------------------------------


@_built_unchecked
def theme_chart(
    themes: pd.DataFrame,
    *,
    title: str = "What people talked about",
    x_title: str = "Number of contributions",
    width: int = DEFAULT_WIDTH,
    caption: str | None = None,
) -> alt.LayerChart | alt.Chart:
    """Themes by size, each bar split by the sectors the contributions came from.

    ``themes``: ``theme``, ``label``, ``size`` (contributions in the theme), and the
    split by sector either as a ``sectors`` column of dicts (sector -> count) or
    as one column per sector named as :data:`hwb_toolkit.schema.SECTORS`. Without
    either, plain bars. Contributions whose sector is unknown (size minus the
    sector counts, or a sector "unknown") show as "Not recorded". Sector counts given
    as text (withheld: "fewer than 5", "not shown") are drawn together as one grey
    segment, "Small numbers, not shown", so every bar runs to its total. Largest
    theme first.
    """
    if _is_empty(themes):
        return _no_data(title, "Themes", width)
    what = "themes"
    _require(themes, ["theme", "label", "size"], what)
    # A few themes: plain Python rows, which cost less here than pandas' operations.
    ids = themes["theme"].astype(str).tolist()
    unsorted_sizes = _numeric(themes, "size", what).tolist()
    unsorted_labels = [
        theme if _is_missing_cell(label) else str(label)
        for theme, label in zip(ids, themes["label"].tolist(), strict=True)
    ]
    # Largest first, then by label; themes without a size last.
    order = sorted(
        range(len(ids)),
        key=lambda i: (
            math.isnan(unsorted_sizes[i]),
            0.0 if math.isnan(unsorted_sizes[i]) else -unsorted_sizes[i],
            unsorted_labels[i],
        ),
    )
    sizes = [unsorted_sizes[i] for i in order]
    labels = [unsorted_labels[i] for i in order]
    has_sectors = "sectors" in themes.columns or any(s in themes.columns for s in SECTORS)
    if has_sectors:
        # (row, sector, count) for each theme's split by sector, rows in size order.
        if "sectors" in themes.columns:
            split = themes["sectors"].tolist()
            entries = [
                (row, sector, count)
                for row, i in enumerate(order)
                if isinstance(split[i], Mapping)
                for sector, count in split[i].items()
            ]
        else:
            entries = [
                (row, sector, column[i])
                for sector, column in (
                    (sector, themes[sector].tolist()) for sector in SECTORS if sector in themes
                )
                for row, i in enumerate(order)
            ]
        counts = pd.to_numeric(pd.Series([c for *_, c in entries], dtype=object), errors="coerce")
        entries = [
            (row, sector, count)
            for (row, sector, _), count in zip(entries, counts.astype(float).tolist(), strict=True)
        ]
        suppressed = sum(math.isnan(count) for *_, count in entries)
        recorded = [0.0] * len(order)
        withheld = [False] * len(order)
        for row, _, count in entries:
            if math.isnan(count):
                withheld[row] = True
            else:
                recorded[row] += count
        # A withheld (NaN) sector count must not reappear inside "Not recorded": what the
        # shown counts leave of a bar's total is drawn as one "not shown" segment instead.
        rest = [
            math.nan if withheld[row] else size - recorded[row] for row, size in enumerate(sizes)
        ]
        entries += [(row, "", count) for row, count in enumerate(rest) if not count <= 0]
        entries = [(row, sector, count) for row, sector, count in entries if not math.isnan(count)]
        entries += [
            (row, _WITHHELD_SECTOR, size - recorded[row])
            for row, size in enumerate(sizes)
            if withheld[row] and not math.isnan(size) and size - recorded[row] > 0
        ]
        sector_names = _sector_label(pd.Series(
            ["" if sector == "unknown" else sector for _, sector, _ in entries], dtype=object
        ))
        entries = [
            (row, sector, count)
            for (row, _, count), sector in zip(entries, sector_names.tolist(), strict=True)
        ]
    else:
        entries = [(row, "All contributions", size) for row, size in enumerate(sizes)]
        suppressed = 0  # a missing size is reported as a missing theme below
    entries = [entry for entry in entries if entry[2] > 0]  # NaN is not > 0
    sector_order = {s: i for i, s in enumerate(SECTOR_COLOURS)}
    ranks = [sector_order.get(sector) for _, sector, _ in entries]
    if None in ranks:  # as pandas would give them: whole numbers as floats
        ranks = [float(len(sector_order) if rank is None else rank) for rank in ranks]
    ranked = sorted(
        zip(entries, ranks, strict=True), key=lambda pair: (pair[0][0], pair[1], pair[0][1])
    )
    segments, ends = [], {}
    for (row, sector, count), rank in ranked:
        end = ends.get(row, 0.0) + count
        ends[row] = end
        segments.append((row, sector, count, rank, end, end - count, labels[row]))
    long = pd.DataFrame(
        segments, columns=["row", "sector", "count", "rank", "end", "start", "label"]
    )
    # A hidden total ("fewer than 5", given as published_size) is written at the start of its
    # empty row rather than left out, so the row does not read as nobody.
    published = (
        [themes["published_size"].tolist()[i] for i in order]
        if "published_size" in themes.columns else [None] * len(sizes)
    )
    totals = pd.DataFrame({
        "row": range(len(sizes)),
        "end": [0.0 if math.isnan(size) and isinstance(text, str) else size
                for size, text in zip(sizes, published, strict=True)],
        "text": [text if math.isnan(size) and isinstance(text, str) else _count(size)
                 for size, text in zip(sizes, published, strict=True)],
    })
    colour = alt.Color(
        "sector:N",
        scale=_sector_scale(long["sector"].tolist()),
        legend=_sector_legend() if has_sectors else None,
        title="Sector",
    )
    tooltip = [
        alt.Tooltip("label:N", title="Theme"),
        alt.Tooltip("sector:N", title="Sector"),
        alt.Tooltip("count:Q", title="Contributions", format=",.0f"),
    ]
    layers, *_, height = _row_bars(
        labels,
        long,
        totals,
        colour=colour,
        tooltip=tooltip,
        x_title=x_title,
        width=width,
    )
    top = [(label, size) for label, size in zip(labels, sizes, strict=True) if not math.isnan(size)][:3]
    description = (
        f"Themes: {_plural(len(labels), 'theme')}, largest first. "
        + "; ".join(f"{label}: {_count(size)}" for label, size in top)
        + ("." if top else "")
    )
    if has_sectors:
        by_sector: dict[str, float] = {}
        for _, sector, count, *_ in sorted(segments, key=lambda segment: segment[1]):
            by_sector[sector] = by_sector.get(sector, 0.0) + count
        description += (
            (" By sector, counts shown (withheld ones left out): " if suppressed else " By sector overall: ")
            + ", ".join(
                f"{sector} {_count(count)}"
                for sector, count in sorted(by_sector.items(), key=lambda pair: -pair[1])
            )
            + "."
        )
    description += _missing_note(sum(math.isnan(size) for size in sizes), "theme")
    if suppressed:
        description += (
            f" {_plural(suppressed, 'sector count')} suppressed (small numbers), drawn together "
            "as small numbers, not shown."
        )
    if caption is None:
        caption = (
            "Contributions on each theme, largest first"
            + (", coloured by the sector they came from; small counts are drawn together in grey, "
               "not by sector." if has_sectors else ".")
        )
    return _finish(
        _layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(np.ceil(height)),
        caption=caption,
    )


@_built_unchecked
def votes_chart(
    tally: pd.DataFrame,
    by_sector: pd.DataFrame | None = None,
    *,
    title: str = "What people voted for",
    x_title: str = "Votes",
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """Voted items, best first, optionally split by the voters' sector.

    ``tally``: ``item``, ``label``, ``voters`` (people), ``score`` (higher = more
    wanted, e.g. dots). ``by_sector``: ``item``, ``sector``, ``score`` (each item's
    score split by sector; its items must be in ``tally``).
    """
    if _is_empty(tally):
        return _no_data(title, "Votes", width)
    what = "tally"
    _require(tally, ["item", "label", "voters", "score"], what)
    data = tally.reset_index(drop=True).copy()
    data["item"] = data["item"].astype(str)
    data["label"] = data["label"].astype(object).where(data["label"].notna(), data["item"])
    data["label"] = data["label"].astype(str)
    data["score"] = _numeric(data, "score", what)
    data["voters"] = _numeric(data, "voters", what)
    data = data.sort_values(
        ["score", "label"], ascending=[False, True], kind="stable", na_position="last"
    ).reset_index(drop=True)
    data["row"] = np.arange(len(data))
    tooltip = [
        alt.Tooltip("label:N", title="Item"),
        alt.Tooltip("score:Q", title=x_title, format=",.4~g"),
    ]
    if not _is_empty(by_sector):
        _require(by_sector, ["item", "sector", "score"], "votes by sector")
        split = pd.DataFrame(
            {
                "item": by_sector["item"].astype(str).to_numpy(),
                "sector": _sector_label(by_sector["sector"]).to_numpy(),
                "score": _numeric(by_sector, "score", "votes by sector").to_numpy(),
            }
        )
        unknown = ~split["item"].isin(data["item"])
        if unknown.any():
            position = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"item {split['item'].iloc[position]!r} is not in the tally",
                row=position + 2,
                column="item",
            )
        split = split.merge(data[["item", "row", "label"]], on="item").dropna(subset=["score"])
        split["rank"] = split["sector"].map({s: i for i, s in enumerate(SECTOR_COLOURS)})
        split = split.sort_values(["row", "rank", "sector"], kind="stable")
        split["end"] = split.groupby("row")["score"].cumsum()
        split["start"] = split["end"] - split["score"]
        colour = alt.Color(
            "sector:N",
            scale=_sector_scale(split["sector"]),
            legend=_sector_legend(),
            title="Sector",
        )
        segments = split
        tooltip.insert(1, alt.Tooltip("sector:N", title="Sector"))
    else:
        segments = data[["row", "label", "score"]].assign(start=0.0, end=data["score"])
        segments = segments.dropna(subset=["score"])
        colour = alt.value(_BAR)
    shown = data.dropna(subset=["score"])
    totals = pd.DataFrame(
        {
            "row": shown["row"],
            "end": shown["score"],
            "text": [
                f"{score:,.4g}"
                + (
                    ""
                    if not np.isfinite(voters)
                    else f" ({_plural(int(voters), 'person', 'people')})"
                )
                for score, voters in zip(shown["score"], shown["voters"], strict=True)
            ],
        }
    )
    layers, *_, height = _row_bars(
        data["label"].tolist(),
        segments,
        totals,
        colour=colour,
        tooltip=tooltip,
        x_title=x_title,
        width=width,
    )
    description = f"Votes on {_plural(len(data), 'item')}, most wanted first"
    if len(shown):
        description += ": " + "; ".join(
            f"{row.label}: {row.score:,.4g}"
            + (
                f" from {_plural(int(row.voters), 'person', 'people')}"
                if np.isfinite(row.voters)
                else ""
            )
            for row in shown.head(3).itertuples()
        )
    description += "."
    if not _is_empty(by_sector):
        description += " Bars are split by the voters' sector."
    description += _missing_note(len(data) - len(shown), "item")
    return _finish(
        _layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(np.ceil(height)),
    )


def _group_names(groups: pd.Series) -> pd.Series:
    """Polis names groups by letter: group 0 is "Group A"."""

    def name(group) -> str:
        if group is None or (isinstance(group, float) and np.isnan(group)) or group is pd.NA:
            return _UNGROUPED
        try:
            number = int(group)
        except (TypeError, ValueError):
            return f"Group {group}"
        return (
            f"Group {chr(65 + number)}"
            if 0 <= number < 26 and number == group
            else f"Group {group}"
        )

    return groups.astype(object).map(name)


@_built_unchecked
def opinion_map(
    coordinates: pd.DataFrame,
    groups: pd.Series | Mapping | pd.DataFrame | None = None,
    consensus_items: Sequence[str] | pd.DataFrame | None = None,
    *,
    title: str = "How people's views group together",
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """The opinion-group map: each participant a dot, people who voted alike close together.

    ``coordinates``: ``participant``, ``x``, ``y`` (as ``OpinionGroups.coordinates``).
    ``groups``: participant -> group id (a Series or mapping, or a DataFrame with
    ``participant`` and ``group``; default: a ``group`` column in ``coordinates``);
    group ids 0, 1, ... are named "Group A", "Group B" as Polis does; people in no
    group are "Not grouped". ``consensus_items``: statements most people agree on
    (texts, or a DataFrame with ``label`` and optional ``direction`` "agree" /
    "disagree"), listed under the title. The axes have no units and are not drawn.
    """
    if _is_empty(coordinates):
        return _no_data(title, "Opinion groups", width)
    what = "coordinates"
    _require(coordinates, ["participant", "x", "y"], what)
    data = pd.DataFrame(
        {
            "participant": coordinates["participant"].astype(str).to_numpy(),
            "x": _numeric(coordinates, "x", what).to_numpy(),
            "y": _numeric(coordinates, "y", what).to_numpy(),
        }
    )
    if groups is None:
        membership = (
            coordinates["group"]
            if "group" in coordinates.columns
            else pd.Series(np.nan, index=coordinates.index)
        )
        membership = pd.Series(membership.to_numpy(), index=data["participant"])
    elif isinstance(groups, pd.DataFrame):
        _require(groups, ["participant", "group"], "groups")
        membership = pd.Series(groups["group"].to_numpy(), index=groups["participant"].astype(str))
    else:
        membership = pd.Series(groups)
        membership.index = membership.index.astype(str)
    membership = membership[~membership.index.duplicated()]
    data["group"] = _group_names(membership.reindex(data["participant"]).reset_index(drop=True))
    shown = data.dropna(subset=["x", "y"])
    names = sorted(set(shown["group"]) - {_UNGROUPED})
    domain = names + ([_UNGROUPED] if _UNGROUPED in set(shown["group"]) else [])
    colours = [_GROUP_COLOURS[i % len(_GROUP_COLOURS)] for i in range(len(names))] + (
        ["#BBBBBB"] if _UNGROUPED in domain else []
    )
    shapes = [_GROUP_SHAPES[i % len(_GROUP_SHAPES)] for i in range(len(names))] + (
        ["circle"] if _UNGROUPED in domain else []
    )
    blank = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    x = alt.X("x:Q", axis=blank, scale=alt.Scale(zero=False, padding=14))
    y = alt.Y("y:Q", axis=blank, scale=alt.Scale(zero=False, padding=14))
    sizes = shown.groupby("group").size()
    points = (
        alt.Chart(_records(shown))
        .mark_point(filled=True, size=55, opacity=0.75)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "group:N",
                scale=alt.Scale(domain=domain, range=colours),
                legend=_legend(
                    "Opinion group", orient="bottom", direction="horizontal", columns=3
                ),
            ),
            shape=alt.Shape(
                "group:N",
                scale=alt.Scale(domain=domain, range=shapes),
                legend=_legend(
                    "Opinion group", orient="bottom", direction="horizontal", columns=3
                ),
            ),
            tooltip=[alt.Tooltip("group:N", title="Opinion group")],
        )
    )
    centres = shown[shown["group"] != _UNGROUPED].groupby("group")[["x", "y"]].mean().reset_index()
    centres["text"] = [f"{g.replace('Group ', '')} ({sizes[g]})" for g in centres["group"]]
    halo = (
        alt.Chart(_records(centres))
        .mark_text(fontSize=13, fontWeight="bold", stroke="white", strokeWidth=4)
        .encode(x=x, y=y, text=alt.Text("text:N"))
    )
    label = (
        alt.Chart(_records(centres))
        .mark_text(fontSize=13, fontWeight="bold", color=_TEXT)
        .encode(x=x, y=y, text=alt.Text("text:N"))
    )

    statements: list[tuple[str, str]] = []
    if consensus_items is not None and len(consensus_items):
        if isinstance(consensus_items, pd.DataFrame):
            _require(consensus_items, ["label"], "consensus")
            direction = (
                consensus_items["direction"].astype(str).str.lower()
                if "direction" in consensus_items.columns
                else pd.Series("agree", index=consensus_items.index)
            )
            statements = list(zip(direction, consensus_items["label"].astype(str), strict=True))
        else:
            statements = [("agree", str(text)) for text in consensus_items]
    subtitle = [
        ("Most disagree: " if d == "disagree" else "Most agree: ") + f"“{_shorten(text, 140)}”"
        for d, text in statements
    ]
    group_text = _join(
        [f"{name} ({_plural(int(sizes[name]), 'person', 'people')})" for name in names]
    )
    description = (
        f"Opinion map of {_plural(len(data), 'participant')} in "
        f"{_plural(len(names), 'opinion group')}"
        + (f": {group_text}" if names else "")
        + ". Position has no units: people who voted alike are close together."
    )
    ungrouped = int((shown["group"] == _UNGROUPED).sum())
    if ungrouped:
        description += f" {_plural(ungrouped, 'person', 'people')} not in a group (too few votes)."
    if statements:
        description += (
            " Common ground: "
            + "; ".join(
                ("most disagree: " if d == "disagree" else "most agree: ") + f"“{text}”"
                for d, text in statements
            )
            + "."
        )
    description += _missing_note(len(data) - len(shown), "participant")
    return _finish(
        _layer(points, halo, label),
        title=title,
        description=description,
        width=width,
        height=int(width * 0.75),
        subtitle=subtitle or None,
        caption=(
            "Each dot is one person who voted, placed so that people who voted alike sit close "
            "together; colour and shape show the opinion group the votes put them in. The axes "
            "have no units."
        ),
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- whole system ----------------------------------------------------------------------


def network_layout(
    nodes: pd.DataFrame,
    edges: pd.DataFrame | None = None,
    *,
    iterations: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """A deterministic force-directed layout (Fruchterman-Reingold, numpy only).

    ``nodes``: ``organisation`` (optional ``sector``, used to order the starting
    circle so sectors start together). ``edges``: ``org_a``, ``org_b``, optional
    ``shared_actions`` (link strength, default 1). Nodes start on a circle in
    (sector, name) order with a small jitter from ``seed``; linked organisations
    attract (more strongly the more actions they share), all repel, a weak pull to
    the centre keeps separate groups on the page. Same input, same picture.

    Returns ``organisation``, ``x``, ``y`` with both in 0.05-0.95 (aspect kept).
    """
    if _is_empty(nodes):
        return pd.DataFrame(columns=["organisation", "x", "y"])
    _require(nodes, ["organisation"], "organisations")
    frame = pd.DataFrame({"organisation": nodes["organisation"].astype(str).to_numpy()})
    frame["sector"] = nodes["sector"].astype(str).to_numpy() if "sector" in nodes.columns else ""
    frame = frame.drop_duplicates("organisation").sort_values(["sector", "organisation"])
    names = frame["organisation"].tolist()
    n = len(names)
    if n == 1:
        return pd.DataFrame({"organisation": names, "x": [0.5], "y": [0.5]})
    index = {name: i for i, name in enumerate(names)}
    weights = np.zeros((n, n))
    if not _is_empty(edges):
        a = edges["org_a"].astype(str).map(index)
        b = edges["org_b"].astype(str).map(index)
        strength = (
            _numeric(edges, "shared_actions", "links").fillna(1.0).to_numpy()
            if "shared_actions" in edges.columns
            else np.ones(len(edges))
        )
        known = (a.notna() & b.notna()).to_numpy()
        ia, ib = a[known].astype(int).to_numpy(), b[known].astype(int).to_numpy()
        np.add.at(weights, (ia, ib), np.log1p(strength[known]))
        np.add.at(weights, (ib, ia), np.log1p(strength[known]))
        np.fill_diagonal(weights, 0.0)
        if weights.max() > 0:
            weights /= weights.max()
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(n) / n
    pos = 0.5 * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.uniform(-0.01, 0.01, (n, 2))
    k = 1.0 / np.sqrt(n)
    temperature = np.linspace(0.1, 0.001, iterations)
    for step in temperature:
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.sqrt((delta**2).sum(-1)), 1e-3)
        force = k * k / distance**2 - weights * distance / k  # repulsion minus attraction
        np.fill_diagonal(force, 0.0)
        move = (force[:, :, None] * delta).sum(1) - 0.5 * pos / k
        length = np.maximum(np.sqrt((move**2).sum(-1)), 1e-12)
        pos += move / length[:, None] * np.minimum(length, step)[:, None]
    pos -= pos.min(0)
    span = pos.max()
    pos = 0.05 + 0.9 * pos / span if span > 0 else np.full_like(pos, 0.5)
    pos += (0.9 - (pos.max(0) - 0.05)) / 2  # centre the shorter side
    out = pd.DataFrame({"organisation": names, "x": pos[:, 0], "y": pos[:, 1]})
    return out.sort_values("organisation", kind="stable").reset_index(drop=True)


@_built_unchecked
def network_chart(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    title: str = "Who works with whom",
    width: int = DEFAULT_WIDTH,
    seed: int = 0,
) -> alt.LayerChart | alt.Chart:
    """Organisations as circles (size: their actions, colour: sector) linked by shared actions.

    ``nodes``: ``organisation``, ``sector``, ``n_actions``. ``edges``: ``org_a``,
    ``org_b``, ``shared_actions``; both ends must be in ``nodes``. Layout:
    :func:`network_layout` (deterministic).
    """
    if _is_empty(nodes):
        return _no_data(title, "Network of organisations", width)
    _require(nodes, ["organisation", "sector", "n_actions"], "organisations")
    edges = (
        edges if edges is not None else pd.DataFrame(columns=["org_a", "org_b", "shared_actions"])
    )
    if len(edges):
        _require(edges, ["org_a", "org_b", "shared_actions"], "links")
    known = set(nodes["organisation"].astype(str))
    for column in ("org_a", "org_b"):
        unknown = ~edges[column].astype(str).isin(known)
        if unknown.any():
            position = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"organisation {edges[column].iloc[position]!r} is linked but not listed "
                "among the organisations",
                row=position + 2,
                column=column,
            )
    layout = network_layout(nodes, edges, seed=seed)
    spots = layout.set_index("organisation")
    node_data = nodes.assign(organisation=nodes["organisation"].astype(str)).drop_duplicates(
        "organisation"
    )
    node_data = pd.DataFrame(
        {
            "organisation": node_data["organisation"].to_numpy(),
            "sector": _sector_label(node_data["sector"]).to_numpy(),
            "n_actions": _numeric(node_data, "n_actions", "organisations").to_numpy(),
        }
    ).join(spots, on="organisation")
    link = pd.DataFrame(
        {
            "org_a": edges["org_a"].astype(str).to_numpy(),
            "org_b": edges["org_b"].astype(str).to_numpy(),
            "shared": (
                _numeric(edges, "shared_actions", "links").to_numpy()
                if len(edges)
                else np.array([], dtype=float)
            ),
        }
    )
    link = link.join(spots, on="org_a").join(
        spots.rename(columns={"x": "x2", "y": "y2"}), on="org_b"
    )
    unit = alt.Scale(domain=[0, 1], nice=False, zero=False)
    blank = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    x = alt.X("x:Q", scale=unit, axis=blank)
    y = alt.Y("y:Q", scale=unit, axis=blank)
    layers = []
    if len(link):
        layers.append(
            alt.Chart(_records(link))
            .mark_rule(color="#999999", opacity=0.8)
            .encode(
                x=x,
                y=y,
                x2=alt.X2("x2:Q"),
                y2=alt.Y2("y2:Q"),
                strokeWidth=alt.StrokeWidth(
                    "shared:Q", scale=alt.Scale(range=[0.8, 4]), legend=None
                ),
                tooltip=[
                    alt.Tooltip("org_a:N", title="Organisation"),
                    alt.Tooltip("org_b:N", title="Works with"),
                    alt.Tooltip("shared:Q", title="Shared actions"),
                ],
            )
        )
    layers.append(
        alt.Chart(_records(node_data))
        .mark_circle(opacity=1, stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "sector:N", scale=_sector_scale(node_data["sector"]), legend=_sector_legend()
            ),
            size=alt.Size("n_actions:Q", scale=alt.Scale(range=[40, 400]), legend=None),
            tooltip=[
                alt.Tooltip("organisation:N", title="Organisation"),
                alt.Tooltip("sector:N", title="Sector"),
                alt.Tooltip("n_actions:Q", title="Actions"),
            ],
        )
    )
    # Shortened here, not with Vega's ``limit`` (see _NODE_LABEL_CHARS): truncating in Vega
    # measured each long name about eight times, 0.2 s for this chart.
    labels = node_data.assign(label=_node_labels(node_data, width, int(width * 0.85)))
    labels = labels[labels["label"] != ""]
    layers.append(
        alt.Chart(_records(labels[["x", "y", "label"]]))
        .mark_text(dy=13, baseline="top", fontSize=9, lineBreak="\n", color=_TEXT)
        .encode(x=x, y=y, text=alt.Text("label:N"))
    )
    pairs = link[link["org_a"] != link["org_b"]]
    partners = pd.concat(
        [pairs[["org_a", "org_b"]], pairs[["org_b", "org_a"]].set_axis(["org_a", "org_b"], axis=1)]
    )
    degree = (
        partners.drop_duplicates()
        .groupby("org_a")
        .size()
        .sort_values(ascending=False, kind="stable")
    )
    degree = degree.reindex(sorted(degree.index, key=lambda o: (-degree[o], o)))
    description = (
        f"Network of {_plural(len(node_data), 'organisation')} and "
        f"{_plural(len(pairs), 'link')} between organisations that share actions."
    )
    if len(degree):
        description += (
            " Most connected: "
            + ", ".join(
                f"{org} ({_plural(int(d), 'partner')})" for org, d in degree.head(3).items()
            )
            + "."
        )
    alone = sorted(set(node_data["organisation"]) - set(degree.index))
    if alone:
        description += f" Working alone: {_join(alone[:5])}" + (
            f" and {len(alone) - 5} more." if len(alone) > 5 else "."
        )
    return _finish(
        _layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(width * 0.85),
        caption=(
            "Each circle is an organisation, sized by how many actions it leads or joins and "
            "coloured by sector; a line joins two organisations that share an action, thicker "
            "for more. Where two names would overlap, the organisation with more actions is named."
        ),
    )


def _node_labels(nodes: pd.DataFrame, width: int, height: int) -> list[str]:
    """Each node's label (:func:`_node_label`), or "" where it would overlap a label already
    placed: nodes with more actions are named first, so crowded names never sit on top of
    each other (as drawn: 9 px text about 5 px a character, lines 11 px, 13 px under the dot)."""
    order = sorted(range(len(nodes)), key=lambda i: (-float(nodes["n_actions"].iat[i]),
                                                    str(nodes["organisation"].iat[i])))
    placed: list[tuple[float, float, float, float]] = []
    labels = [""] * len(nodes)
    for i in order:
        text = _node_label(nodes["organisation"].iat[i])
        lines = text.split("\n")
        half = max(len(line) for line in lines) * 5.0 / 2
        x = float(nodes["x"].iat[i]) * width
        y = (1 - float(nodes["y"].iat[i])) * height + 13
        box = (x - half, y, x + half, y + 11.0 * len(lines))
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        labels[i] = text
    return labels


def _node_label(name: str) -> str:
    """An organisation's name on up to two lines of about 19 characters (the second
    shortened with "…" only when the name is longer than both)."""
    lines = textwrap.wrap(" ".join(str(name).split()), _NODE_LABEL_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], _shorten(" ".join(lines[1:]), _NODE_LABEL_CHARS)]
    return "\n".join(lines)


@_built_unchecked
def balance_chart(
    by_sector: pd.DataFrame,
    stakeholders: pd.DataFrame | None = None,
    *,
    title: str = "Whose voices we heard",
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """Contributions and people taking part, by sector, with missing sectors flagged.

    ``by_sector``: ``sector`` and ``contributions`` and/or ``participants``.
    ``stakeholders``: the strategy's stakeholders (``organisation``, ``sector``):
    the sectors expected to be heard; default every sector in
    :data:`hwb_toolkit.schema.SECTORS` except "other". An expected sector with no
    row (or a count of 0) is drawn at zero and flagged "none yet"; a missing
    count (NaN: suppressed small number) is not drawn and is said so.
    """
    if by_sector is None or (len(by_sector) == 0 and stakeholders is None):
        return _no_data(title, "Voices by sector", width)
    _require(by_sector, ["sector"], "voices by sector")
    measures = {"contributions": "Contributions", "participants": "People taking part"}
    present = [m for m in measures if m in by_sector.columns]
    if not present:
        raise SchemaError(
            "the voices by sector table has no column 'contributions'", column="contributions"
        )
    data = pd.DataFrame({"sector": _sector_label(by_sector["sector"]).to_numpy()})
    for measure in present:
        data[measure] = _numeric(by_sector, measure, "voices by sector").to_numpy()
    data = data.groupby("sector", sort=False).sum(min_count=1).reset_index()
    if stakeholders is not None and len(stakeholders):
        _require(stakeholders, ["sector"], "stakeholders")
        expected = list(dict.fromkeys(_sector_label(stakeholders["sector"])))
    else:
        expected = [SECTOR_LABELS[s] for s in SECTORS if s != "other"]
    sectors = [s for s in SECTOR_COLOURS if s in set(expected) | set(data["sector"])]
    sectors += [s for s in list(expected) + data["sector"].tolist() if s not in sectors]
    sectors = list(dict.fromkeys(sectors))
    full = pd.DataFrame({"sector": sectors}).merge(data, on="sector", how="left")
    absent = ~full["sector"].isin(data["sector"])
    for measure in present:
        full.loc[absent, measure] = 0.0
    first = present[0]
    missing = full[(full[first] == 0)]["sector"].tolist()
    long = full.melt(id_vars="sector", value_vars=present, var_name="measure", value_name="count")
    long["measure"] = long["measure"].map(measures)
    long["count_text"] = long["count"].map(_count)
    suppressed = int(long["count"].isna().sum())
    y = alt.Y(
        "sector:N",
        sort=sectors,
        title=None,
        scale=alt.Scale(domain=sectors),
        axis=alt.Axis(labelLimit=int(width * 0.42), ticks=False, domain=False),
    )
    measure_domain = [measures[m] for m in present]
    colour = alt.Color(
        "measure:N",
        title=None,
        scale=alt.Scale(domain=measure_domain, range=["#0072B2", "#56B4E9"][: len(present)]),
        legend=alt.Legend(orient="bottom", direction="horizontal"),
    )
    offset = alt.YOffset("measure:N", scale=alt.Scale(domain=measure_domain))
    x = alt.X("count:Q", title="Number")
    shown = long.dropna(subset=["count"])
    bars = (
        alt.Chart(_records(shown))
        .mark_bar()
        .encode(
            x=x,
            y=y,
            yOffset=offset,
            color=colour,
            tooltip=[
                alt.Tooltip("sector:N", title="Sector"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("count_text:N", title="Number"),
            ],
        )
    )
    text = (
        alt.Chart(_records(shown))
        .mark_text(align="left", dx=3, fontSize=9, color=_TEXT)
        .encode(x=x, y=y, yOffset=offset, text=alt.Text("count_text:N"))
    )
    layers = [bars, text]
    hidden_rows = full[full[present].isna().all(axis=1)]["sector"].tolist()
    flags = pd.DataFrame(
        {
            "sector": missing + hidden_rows,
            "count": 0.0,
            "flag": ["none yet"] * len(missing) + ["small numbers, not shown"] * len(hidden_rows),
        }
    )
    if len(flags):
        layers.append(
            alt.Chart(_records(flags))
            .mark_text(align="left", dx=18, fontSize=10, fontWeight="bold", color="#C00000")
            .encode(x=x, y=y, text=alt.Text("flag:N"))
        )
    parts = []
    for row in full.itertuples():
        counts = [getattr(row, m) for m in present]
        if all(not np.isfinite(c) for c in counts):
            parts.append(f"{row.sector}: small numbers, not shown")
            continue
        bits = [f"{_count(c)} {measures[m].lower()}" for c, m in zip(counts, present, strict=True)]
        parts.append(f"{row.sector}: {', '.join(bits)}")
    description = "Voices by sector: " + "; ".join(parts) + "."
    if missing:
        description += f" No {measures[first].lower()} yet from {_join(missing)}."
    if suppressed:
        description += f" {_plural(suppressed, 'count')} suppressed (small numbers) and not drawn."
    return _finish(
        _layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(ROW_HEIGHT * len(sectors) * (1 if len(present) == 1 else 1.4)),
    )


# --- output -------------------------------------------------------------------------------


def text_alternative(chart) -> str:
    """The chart's text alternative (its Vega-Lite ``description``), or "" if none."""
    description = getattr(chart, "description", alt.Undefined)
    if description is alt.Undefined:
        description = _spec(chart).get("description", "")
    return str(description)


def caption(chart) -> str:
    """What the chart shows, for a caption under it (its ``usermeta`` caption), or else
    its text alternative."""
    meta = getattr(chart, "usermeta", alt.Undefined)
    if meta is alt.Undefined:
        meta = _spec(chart).get("usermeta", {})
    if isinstance(meta, Mapping) and meta.get("caption"):
        return str(meta["caption"])
    return text_alternative(chart)


def _spec(chart) -> dict:
    # Rendering skips altair's JSON-schema validation (about 60 ms a chart, two thirds
    # of the cost of to_dict): every builder's output is validated in tests/test_charts.py.
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def to_svg(chart) -> str:
    """The chart as a self-contained SVG string, rendered offline by vl-convert.

    The root ``<svg>`` carries the text alternative as ``aria-label`` (with
    ``role="graphics-document document"``) and the title and description as
    ``<title>`` and ``<desc>``. Raises :class:`HwbError` if the SVG would fetch
    anything (an ``href``/``src``/``url()`` that is not a local ``#`` reference).
    """
    return vega_svg.spec_to_svg(_spec(chart), _VL_VERSION)


def svg_later(chart, *, draw_title: bool = True) -> vega_svg.SvgJob:
    """:func:`to_svg` on the background renderer: returns at once; ``result()`` gives the SVG.

    The Vega-Lite spec is taken from ``chart`` now, in the caller's thread, so
    later changes to the chart do not leak in; ``result()`` raises what
    :func:`to_svg` would. ``draw_title=False`` leaves the title and subtitle out
    of the drawing for the caller to show as text (the job's ``title`` and
    ``subtitle``); the SVG's ``<title>`` still names the chart.
    """
    return vega_svg.render_later(_spec(chart), _VL_VERSION, draw_title=draw_title)


def warm_up() -> None:
    """Start vl-convert's JavaScript engine in the background (about 0.4 s on first use)."""
    vega_svg.warm_up(_VL_VERSION)


def draw_in_background_process() -> None:
    """Have :func:`svg_later` draw in a child process from now on (see :mod:`hwb_toolkit.vega_svg`)."""
    vega_svg.start_process(_VL_VERSION)


def to_png(chart, scale: float = 1) -> bytes:
    """The chart as PNG bytes, rendered offline by vl-convert (``scale`` 2 for sharp print)."""
    return vega_svg.spec_to_png(_spec(chart), _VL_VERSION, scale=scale)
