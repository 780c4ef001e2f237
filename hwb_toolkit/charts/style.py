"""The charts' shared look and words: Fingertips' comparison colours and marker shapes,
sector colours, sizes, and how numbers and lists are written in a chart's text."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hwb_toolkit.schema import (
    BEST,
    BETTER,
    HIGHER,
    LOWER,
    NOT_COMPARED,
    SECTOR_LABELS,
    SIMILAR,
    WORSE,
    WORST,
)

#: Width of every chart in pixels, legend and axis labels included: fits a 360 px phone.
DEFAULT_WIDTH = 340


_ROW_LINE, _ROW_BAR, _ROW_GAP = 13, 14, 10  # labelled rows: label line, bar, gap (px)


#: Fingertips' comparison colours. Better/Similar/Worse, Lower/Higher and Not compared
#: are the Fingertips site's own (fingertips-open ``colours``: better, same, worse,
#: bobLower, bobHigher, noComparison). Fingertips has no separate colour for a
#: difference significant at 99.8%; "Best"/"Worst" take a darker green and red.
COMPARISON_COLOURS: dict[str, str] = {
    BEST: "#00B050",
    BETTER: "#92D050",
    SIMILAR: "#FFC000",
    WORSE: "#C00000",
    WORST: "#8B0000",
    LOWER: "#5555E6",
    HIGHER: "#C2CCFF",
    NOT_COMPARED: "#C9C9C9",
}


# Custom marker paths, drawn in the -1..1 box Vega expects (y grows downwards).
_DOUBLE_UP = "M-1,0L0,-1L1,0Z M-1,1L0,0L1,1Z"


_DOUBLE_DOWN = "M-1,-1L0,0L1,-1Z M-1,0L0,1L1,0Z"


_ARROW_UP = "M0,-1L1,0H0.4V1H-0.4V0H-1Z"


_ARROW_DOWN = "M0,1L1,0H0.4V-1H-0.4V0H-1Z"


#: A distinct marker per label, so the meaning survives without colour:
#: up for better, down for worse, doubled at 99.8%, arrows for higher/lower.
COMPARISON_SHAPES: dict[str, str] = {
    BEST: _DOUBLE_UP,
    BETTER: "triangle-up",
    SIMILAR: "circle",
    WORSE: "triangle-down",
    WORST: _DOUBLE_DOWN,
    LOWER: _ARROW_DOWN,
    HIGHER: _ARROW_UP,
    NOT_COMPARED: "diamond",
}


#: How each label reads in a sentence ("{benchmark}" is replaced by its name).
COMPARISON_PHRASES: dict[str, str] = {
    BEST: "better than {benchmark} at the 99.8% level",
    BETTER: "better than {benchmark}",
    SIMILAR: "similar to {benchmark}",
    WORSE: "worse than {benchmark}",
    WORST: "worse than {benchmark} at the 99.8% level",
    LOWER: "lower than {benchmark}",
    HIGHER: "higher than {benchmark}",
    NOT_COMPARED: "not compared",
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


_TEXT = "#333333"


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


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
