"""The only way our own markup enters a template unescaped: a chart's SVG, checked."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from hwb_toolkit.errors import ConfigError, HwbError
from hwb_toolkit.markup import svg_problems


def trusted_svg(svg: str) -> Markup:
    """Mark an SVG made by :func:`hwb_toolkit.charts.to_svg` safe to embed in a template.

    The only way a chart enters a template unescaped. Checks it is one
    ``<svg>`` element with no script, event handler, embedded HTML or
    reference to anything outside itself, in its markup (its text may say
    anything: :func:`hwb_toolkit.markup.svg_problems`); raises :class:`HwbError`
    otherwise. Never use it on contributed text.
    """
    if not isinstance(svg, str):
        raise HwbError(f"a chart must be SVG text, not {type(svg).__name__}")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
    if not (text.startswith("<svg") and text.endswith("</svg>")):
        raise HwbError("a chart must be a single <svg> element")
    problems = svg_problems(text)
    if problems:
        raise HwbError(f"the chart's SVG holds {problems[0]}")
    return Markup(text)


class PendingChart:
    """A chart's SVG still being drawn on the background renderer (see :func:`chart_figure`).

    A template's ``require_svg`` waits for it and embeds it through
    :func:`trusted_svg`, so only checked :class:`Markup` reaches the page. When
    the SVG is drawn without its title, the title and subtitle come first as
    escaped text (``<p class="hwb-chart-title">``, ``<p class="hwb-chart-subtitle">``).
    """

    def __init__(self, job, *, heading: bool = True) -> None:
        # job: anything with result() -> SVG text, draws_title, title and subtitle
        # (hwb_toolkit.vega_svg.SvgJob); heading: show the title above the drawing
        self._job = job
        self._heading = heading
        self._markup: Markup | None = None

    def markup(self) -> Markup:
        """The checked SVG, after its title when not drawn in it (waits for the drawing)."""
        if self._markup is None:
            svg = trusted_svg(self._job.result())
            if not self._job.draws_title and self._heading:
                svg = chart_heading(self._job.title, self._job.subtitle) + svg
            self._markup = svg
        return self._markup

    # Code that puts a context's chart into its own markup (the Explorer's pages) gets
    # the same checked SVG, never the object's repr.
    __html__ = markup

    def __str__(self) -> str:
        return str(self.markup())


def chart_heading(title: str, subtitle: str = "") -> Markup:
    """A chart's title (and subtitle) as escaped HTML paragraphs ("" when there is no title)."""
    heading = Markup('<p class="hwb-chart-title">{}</p>').format(title) if title else Markup("")
    if subtitle:
        heading += Markup('<p class="hwb-chart-subtitle">{}</p>').format(subtitle)
    return heading


def _require_svg(svg: Any) -> Markup:
    if isinstance(svg, PendingChart):  # from chart_figure: wait for it, checked by trusted_svg
        return svg.markup()
    if not isinstance(svg, Markup):
        raise ConfigError(
            "a chart must be passed as SVG checked by hwb_toolkit.narrative.trusted_svg "
            "(or chart_figure), not as plain text"
        )
    return svg
