"""Charts: the engines' tables drawn as Altair charts that read well on a phone.

Role: presentation. Each builder takes an engine's output table and returns an Altair
chart; it reads no files and computes nothing beyond layout (positions, ranks, order) --
the one exception is :func:`spine_distribution`, which gathers the spread of areas that a
spine chart is drawn against. One module per chart family:

- :mod:`.spine`: the Fingertips-style spine chart; :mod:`.trend`: a figure over time;
  :mod:`.voices`: themes by sector and the opinion map; :mod:`.network`: who works with whom.
- :mod:`.style` (colours, shapes, words) and :mod:`.base` (Altair plumbing) are shared.
- :mod:`.figure`: a chart as a page embeds it (SVG drawn in the background, text
  alternative, caption); :mod:`.render`: Vega-Lite to SVG with vl-convert, here or in a
  renderer process.

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
- :func:`to_svg` renders offline with vl-convert; the SVG refers to no external
  resource (no web fonts, images or scripts). :func:`svg_later` draws in the
  background (a thread, or a child process after :func:`draw_in_background_process`)
  while the caller builds the next chart.
"""

from __future__ import annotations

import importlib

#: Public name -> the module of this package that defines it. Loaded on first use, so that
#: the renderer process (which imports :mod:`.render`, and so this package) starts without
#: loading pandas and Altair.
_EXPORTS = {
    "COMPARISON_COLOURS": "style",
    "COMPARISON_PHRASES": "style",
    "COMPARISON_SHAPES": "style",
    "DEFAULT_WIDTH": "style",
    "SECTOR_COLOURS": "style",
    "spine_distribution": "spine",
    "spine_positions": "spine",
    "spine_chart": "spine",
    "trend_chart": "trend",
    "theme_chart": "voices",
    "opinion_map": "voices",
    "network_layout": "network",
    "network_chart": "network",
    "text_alternative": "figure",
    "caption": "figure",
    "chart_figure": "figure",
    "to_svg": "figure",
    "svg_later": "figure",
    "warm_up": "figure",
    "draw_in_background_process": "figure",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
