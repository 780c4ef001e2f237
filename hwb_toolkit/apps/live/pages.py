"""The live pages as HTML: the participant page, the projector screens and short messages.

Role: floor 4 (UI serving), presentation only. Jinja2 templates in ``templates/`` beside
this module render the first view of each page on the server (so a page is complete and
usable before, or without, its JavaScript); ``static/live.js`` then keeps it current from
the live stream. Autoescape is on: every contributed text is text, never markup. The QR
code of the join screen is drawn here, offline, as inline SVG (segno).

Nothing here reads the store: the handlers pass the channel's current state in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import segno

from hwb_toolkit.schema import SECTORS
from hwb_toolkit.text.labels import sector_label

LIVE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = LIVE_DIR / "templates"
STATIC_DIR = LIVE_DIR / "static"
#: URL path of the live pages' static files (CSS, JavaScript).
STATIC_URL = "/workshop-static/"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["static"] = lambda name: STATIC_URL + name
    environment.filters["plural"] = plural
    return environment


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word`` in agreement ("1 dot", "2 dots", "3 people" with ``many``)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def render(template: str, **context: Any) -> str:
    """Render one of the live templates with ``context``."""
    return _environment().get_template(template).render(**context)


def qr_svg(url: str, title: str) -> str:
    """``url`` as a QR code in inline SVG markup (medium error correction, so a projector's
    glare or a smudge does not stop a phone reading it), with ``title`` for screen readers."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=10, border=2, title=title, dark="#000", light="#fff",
                          svgclass="qr", omitsize=True)
    return svg.replace("<svg ", '<svg role="img" ', 1)  # announced as a picture, by its title


def sector_options() -> list[dict[str, str]]:
    """The "I am from" choices: sector id and name, in the schema's order."""
    return [{"id": sector, "label": sector_label(sector)} for sector in SECTORS]


def spaced_code(code: str) -> str:
    """A join code as it is read aloud and typed: two groups of three ("K7Q M2X")."""
    return f"{code[:3]} {code[3:]}"
