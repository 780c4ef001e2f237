"""A built chart as a page or a report embeds it: its SVG (drawn in the background), its
text alternative and its caption."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt

from hwb_toolkit.charts import render
from hwb_toolkit.charts.base import _VL_VERSION
from hwb_toolkit.text.safe_markup import PendingChart


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
    # of the cost of to_dict): every builder's output is validated in tests/charts/test_charts.py.
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def to_svg(chart) -> str:
    """The chart as a self-contained SVG string, rendered offline by vl-convert.

    The root ``<svg>`` carries the text alternative as ``aria-label`` (with
    ``role="graphics-document document"``) and the title and description as
    ``<title>`` and ``<desc>``. Raises :class:`HwbError` if the SVG would fetch
    anything (an ``href``/``src``/``url()`` that is not a local ``#`` reference).
    """
    return render.spec_to_svg(_spec(chart), _VL_VERSION)


def svg_later(chart, *, draw_title: bool = True) -> render.SvgJob:
    """:func:`to_svg` on the background renderer: returns at once; ``result()`` gives the SVG.

    The Vega-Lite spec is taken from ``chart`` now, in the caller's thread, so
    later changes to the chart do not leak in; ``result()`` raises what
    :func:`to_svg` would. ``draw_title=False`` leaves the title and subtitle out
    of the drawing for the caller to show as text (the job's ``title`` and
    ``subtitle``); the SVG's ``<title>`` still names the chart.
    """
    return render.render_later(_spec(chart), _VL_VERSION, draw_title=draw_title)


def warm_up() -> None:
    """Start vl-convert's JavaScript engine in the background (about 0.4 s on first use)."""
    render.warm_up(_VL_VERSION)


def draw_in_background_process() -> None:
    """Have :func:`svg_later` draw in a child process from now on (see :mod:`hwb_toolkit.charts.render`)."""
    render.start_process(_VL_VERSION)


def chart_figure(chart, *, heading: bool = True) -> dict[str, Any]:
    """An Altair chart from :mod:`hwb_toolkit.charts` as template values.

    Returns ``{"chart_svg": PendingChart, "chart_alt": text alternative,
    "chart_caption": what the chart shows}``, ready to merge into an indicator's
    context entry: the caption (:func:`hwb_toolkit.charts.caption`) goes under the
    chart, the text alternative (with the chart's numbers) stays the SVG's label for
    screen readers. ``heading=False`` leaves the chart's title out of the page (when
    the section's own heading names it). The SVG is drawn in the
    background (:func:`hwb_toolkit.charts.svg_later`) while the caller builds
    the next chart; the template's ``require_svg`` waits for it and checks it.
    The title and subtitle are shown as page text above the drawing, not in it:
    they wrap and stay full size on a phone, where a wide SVG is scaled down,
    and each chart draws in about a fifth less time without them.
    """
    return {
        "chart_svg": PendingChart(svg_later(chart, draw_title=False), heading=heading),
        "chart_alt": text_alternative(chart),
        "chart_caption": caption(chart),
    }
