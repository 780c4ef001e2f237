"""Vega-Lite specs to self-contained SVG with vl-convert, here or in a renderer process.

Role: presentation plumbing under :mod:`hwb_toolkit.charts` (which builds the
specs); the one module that calls vl-convert (SVG, and PNG for print). It
imports neither pandas nor Altair, so a renderer process starts in a fraction
of a second.

Why a renderer process: vl-convert holds the GIL for most of each chart
(measured: a chart drawn on a background thread slowed the Python thread beside
it as much as drawing it in line), so a thread cannot overlap drawing with
building the next chart. A briefing draws about 20 charts (about 50 ms each
to draw and 45 ms each to build), so :func:`start_process` moves the drawing to
one child process and the kernel builds chart n+1 while chart n is drawn.
Without it, :func:`render_later` draws on a background thread, which still
overlaps vl-convert's start-up (about 0.4 s, GIL released) with other work.
"""

from __future__ import annotations

import html
import multiprocessing
import os
import re
import signal
import threading
import time
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)

import vl_convert as vlc

from hwb_toolkit.errors import HwbError
from hwb_toolkit.markup import svg_problems

_OPEN_SVG = re.compile(r"\s*<svg\b[^>]*>")
_WARM_UP_SPEC = {
    "data": {"values": [{"x": 0}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}},
}


def title_text(spec: dict, part: str = "text") -> str:
    """A Vega-Lite spec's title (``part="subtitle"``: its subtitle) as one line of text ("" if none)."""
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get(part, "")
    elif part != "text":
        title = ""
    if isinstance(title, list):
        title = " ".join(title)
    return str(title)


def spec_to_svg(spec: dict, vl_version: str | None, *, draw_title: bool = True) -> str:
    """The Vega-Lite ``spec`` as one self-contained ``<svg>`` element.

    The root carries the spec's ``description`` as ``aria-label`` (with
    ``role="graphics-document document"``) and the title and description as
    ``<title>`` and ``<desc>``. ``draw_title=False``: the title and subtitle are
    left out of the drawing (the caller shows them as text; the ``<title>`` is
    kept). Raises :class:`HwbError` if the SVG's markup would fetch anything (an
    ``href``/``src``/``url()`` that is not a local ``#`` reference) or run code
    (:func:`hwb_toolkit.markup.svg_problems`; the text in the chart may say anything).
    """
    drawn = spec if draw_title else {key: value for key, value in spec.items() if key != "title"}
    svg = vlc.vegalite_to_svg(drawn, vl_version=vl_version)
    match = _OPEN_SVG.match(svg)
    if match is None:
        raise HwbError("vl-convert returned something that is not an SVG")
    description = str(spec.get("description", ""))
    label = html.escape(description, quote=True)
    opening = match.group(0).rstrip(">").rstrip("/")
    opening += (
        f' role="graphics-document document" aria-roledescription="chart" aria-label="{label}">'
    )
    inner = f"<title>{html.escape(title_text(spec))}</title><desc>{html.escape(description)}</desc>"
    svg = opening + inner + svg[match.end() :]
    problems = svg_problems(svg)
    if problems:
        raise HwbError(
            f"the chart's SVG holds {problems[0]}: a chart may embed no external resource "
            "and no active content"
        )
    return svg


class SvgJob:
    """A chart being drawn in the background; :meth:`result` waits for its SVG.

    ``title`` and ``subtitle``: the spec's, as text; ``draws_title``: whether the
    SVG shows them. If the renderer process dies (killed, out of memory), the
    chart is drawn here instead, so a lost helper process never loses a chart.
    """

    def __init__(
        self, future: Future | None, spec: dict, vl_version: str, draw_title: bool = True
    ) -> None:
        self._future, self._spec, self._vl_version = future, spec, vl_version
        self.draws_title = draw_title
        self.title, self.subtitle = title_text(spec), title_text(spec, "subtitle")

    def result(self) -> str:
        if self._future is not None:
            try:
                return self._future.result()
            except BrokenExecutor:
                pass  # the renderer process died: draw it here
        return spec_to_svg(self._spec, self._vl_version, draw_title=self.draws_title)


_LOCK = threading.Lock()
_RENDERER: Executor | None = None


def _renderer() -> Executor:
    global _RENDERER
    with _LOCK:
        if _RENDERER is None:
            # One thread: vl-convert draws one chart at a time whatever the number of callers.
            _RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hwb-charts")
        return _RENDERER


def start_process(vl_version: str | None = None) -> None:
    """Draw charts from now on in one child process, started (and warmed) now in the background.

    For a run that draws many charts in a row (the briefing), which starts it
    before importing pandas and Altair so that it warms up meanwhile (this
    module imports neither). ``vl_version``: the Vega-Lite version of the
    warm-up chart (None: vl-convert's newest); each chart names its own.
    Idempotent. The child is started with ``spawn`` (forking a kernel that has
    threads is not safe) and ends with this process.
    """
    global _RENDERER
    with _LOCK:
        if isinstance(_RENDERER, ProcessPoolExecutor):
            return
        previous = _RENDERER
        _RENDERER = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_setup,
            initargs=(os.getpid(),),
        )
        _RENDERER.submit(spec_to_svg, _WARM_UP_SPEC, vl_version)
    if previous is not None:
        previous.shutdown(wait=False)


def _child_setup(parent_pid: int) -> None:
    """In the renderer process: leave Ctrl-C to the parent (a kernel being stopped signals its whole process group; the child would print
    a KeyboardInterrupt traceback), and end when the parent is gone, even if it was killed
    without a chance to stop us."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch_parent() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True, name="hwb-parent-watch").start()


def warm_up(vl_version: str) -> None:
    """Start vl-convert's JavaScript engine in the background (cheap when already started)."""
    _renderer().submit(spec_to_svg, _WARM_UP_SPEC, vl_version)


def render_later(spec: dict, vl_version: str, *, draw_title: bool = True) -> SvgJob:
    """:func:`spec_to_svg` on the background renderer; returns at once."""
    try:
        future = _renderer().submit(spec_to_svg, spec, vl_version, draw_title=draw_title)
    except BrokenExecutor:  # the renderer process died earlier: draw here, when asked
        future = None
    return SvgJob(future, spec, vl_version, draw_title)


def shutdown() -> None:
    """Stop the background renderer (the next background chart starts a thread again)."""
    global _RENDERER
    with _LOCK:
        renderer, _RENDERER = _RENDERER, None
    if renderer is not None:
        renderer.shutdown(wait=True, cancel_futures=True)
