"""Quotes: what partners said, word for word, attributed to a sector and never to a person."""

from __future__ import annotations

from typing import Any

from hwb_toolkit.errors import InputError
from hwb_toolkit.text.labels import sector_attribution
from hwb_toolkit.values import is_missing

ELLIPSIS = "\u2026"


def truncate_text(text: str, max_chars: int | None = None) -> str:
    """``text`` unchanged, or cut to at most ``max_chars`` characters ending in an ellipsis.

    The cut falls between words; only a single word longer than the limit is
    cut inside, and every cut is marked with "…", so a shortened quote never
    reads as if it were whole.
    """
    text = str(text).strip()
    if max_chars is None or len(text) <= max_chars:
        return text
    if max_chars < 2:
        raise InputError(f"max_chars must be at least 2, not {max_chars}")
    room = max_chars - len(ELLIPSIS)
    head = text[: room + 1]  # one more character shows whether the cut falls between words
    if head[-1].isspace():
        cut = head.rstrip()
    else:
        space = max((i for i, ch in enumerate(head) if ch.isspace()), default=-1)
        cut = head[:space].rstrip() if space > 0 else head[:room]
    return f"{cut}{ELLIPSIS}"


def make_quote(text: Any, sector: Any, max_chars: int | None = None) -> dict[str, str]:
    """A quote for a template: ``{"text": verbatim text, "attribution": "a resident"}``.

    The text is kept word for word (only outer whitespace removed; shortened
    with "…" when ``max_chars`` is given); it is escaped when rendered.
    """
    if is_missing(text) or not str(text).strip():
        raise InputError("a quote needs some text")
    return {"text": truncate_text(str(text), max_chars), "attribution": sector_attribution(sector)}
