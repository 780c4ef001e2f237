"""What a browser would run or fetch in a piece of markup: the one place that inspects tags.

Role: presentation safety, below :mod:`hwb_toolkit.narrative` (published pages)
and :mod:`hwb_toolkit.vega_svg` (charts); standard library only, so the chart
process can use it without loading pandas.

Both checks parse the markup as a browser's HTML parser would and look at
elements and attributes only, never at text: a chart label or a post-it that
says "javascript:", "members only = free" or "url(https://...)" is text and
passes, while an attribute that would run or fetch something is reported.

- :func:`external_references`: every URL a page would fetch or follow elsewhere.
- :func:`svg_problems`: for a chart's SVG, that plus anything that could run
  code (a script, an event handler, embedded HTML, an animation that rewrites a
  link, a ``javascript:`` link).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Attributes that make a browser fetch (or navigate to) another resource.
_URL_ATTRIBUTES = frozenset(
    {
        "src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data",
        "background", "cite", "longdesc", "manifest", "ping", "usemap", "codebase",
        "archive", "lowsrc", "dynsrc", "imagesrcset",
    }
)  # fmt: skip
_CSS_URL = re.compile(
    r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import\s+(['\"])(.*?)\3", re.IGNORECASE | re.DOTALL
)
_INLINE = re.compile(r"^(#|data:|mailto:|tel:)", re.IGNORECASE)
# Whatever _ReferenceFinder reports needs one of these in the document's text once character
# references are decoded and letters lowered: a URL attribute name followed by "=", a CSS url(
# or @import, a meta refresh's "url=", or a <script> tag. A text with white space before an
# "=" (attributes written "href = ...") is always parsed. Most charts' SVGs have none of these,
# and then the parse (about 1.5 ms a chart) is skipped.
_REFERENCE_NEEDLES = (
    *(f"{name}=" for name in sorted(_URL_ATTRIBUTES)), "url(", "url=", "@import", "<script",
)
_SPACED_EQUALS = re.compile(r"\s=")


def _may_refer_elsewhere(document: str) -> bool:
    text = html.unescape(document).lower()
    return bool(_SPACED_EQUALS.search(text)) or any(needle in text for needle in _REFERENCE_NEEDLES)


class _ReferenceFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def _check_url(self, url: str, where: str) -> None:
        url = url.strip()
        if url and not _INLINE.match(url):
            self.found.append(f"{where} {url!r}")

    def _check_css(self, css: str, where: str) -> None:
        for match in _CSS_URL.finditer(css):
            self._check_url(match.group(2) if match.group(2) is not None else match.group(4), where)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append("<script> element")
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    self._check_url(candidate.strip().split(" ")[0], f"<{tag} {name}>")
            elif name in _URL_ATTRIBUTES:
                self._check_url(value, f"<{tag} {name}>")
            elif name == "style":
                self._check_css(value, f"<{tag} style>")
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self._check_url(value.lower().split("url=", 1)[1], "<meta refresh>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._check_css(data, "<style>")


def external_references(document: str) -> list[str]:
    """Every reference in an HTML (or SVG) document that a browser would fetch or follow elsewhere.

    Looks at URL attributes (``src``, ``href``, ``xlink:href``, ``srcset``...),
    CSS ``url(...)`` and ``@import`` in ``<style>`` and ``style=``, meta
    refreshes and ``<script>`` elements (a self-contained report has none).
    Fragments (``#id``) and ``data:`` URIs are inline and allowed; namespace
    declarations (``xmlns="http://www.w3.org/2000/svg"``) are names, not
    requests, and are not reported. Text content is never inspected, so a
    quoted URL in contributed text is not a reference.
    """
    if not _may_refer_elsewhere(document):
        return []
    finder = _ReferenceFinder()
    finder.feed(document)
    finder.close()
    return finder.found


#: SVG elements that run code, embed HTML or other documents, or change attributes (an
#: ``<animate>`` or ``<set>`` can turn a link into ``javascript:``). No chart needs them.
ACTIVE_ELEMENTS = frozenset(
    {
        "script", "foreignobject", "iframe", "object", "embed", "handler", "listener",
        "set", "animate", "animatemotion", "animatetransform", "discard",
    }
)  # fmt: skip
_SCRIPT_URL = re.compile(r"^(javascript|vbscript):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20]+")
# Whatever _ActiveContentFinder reports needs one of these in the text once character
# references are decoded and letters lowered: an active element's tag, a <style>, an
# attribute named on...= (text such as "members only = free" matches too, and then costs a
# parse), or a script link (looked for with white space and control characters removed). A chart's SVG usually has none, and the parse (about 1.5 ms) is skipped.
_ACTIVE_NEEDLES = (*(f"<{name}" for name in sorted(ACTIVE_ELEMENTS)), "<style")
# Browsers drop tabs, line breaks and other control characters inside a URL.
_SCRIPT_NEEDLES = ("javascript:", "vbscript:")
_DROP_INVISIBLE = dict.fromkeys(range(0x21))
_HANDLER_NEEDLE = re.compile(r"""[\s/"']on[^\s/>=]*\s*=""")


class _ActiveContentFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_ELEMENTS:
            self.found.append(f"a <{tag}> element")
        self._in_style = tag == "style"
        for attribute, value in attrs:
            if attribute.startswith("on"):
                self.found.append(f"an event handler ({attribute}=) on <{tag}>")
            elif value is not None and attribute in _URL_ATTRIBUTES:
                if _SCRIPT_URL.match(_INVISIBLE.sub("", value)):
                    self.found.append(f"a script link in <{tag} {attribute}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        # Inside an SVG a browser parses a <style>'s content as markup, not as raw CSS.
        if self._in_style and "<" in data:
            self.found.append("markup inside a <style> element")


def svg_problems(svg: str) -> list[str]:
    """What in a chart's SVG could run code or fetch something: [] when it is safe to embed.

    Reports active elements (:data:`ACTIVE_ELEMENTS`), event-handler attributes
    (``on...``), ``javascript:``/``vbscript:`` links, markup inside ``<style>``
    and every reference :func:`external_references` finds. Text is never
    inspected: a label reading "javascript:" or "only = free" is fine. The
    markup is parsed only when it might hide a problem (about 1.5 ms a chart).
    """
    found: list[str] = []
    text = html.unescape(svg).lower()
    if (
        any(needle in text for needle in _ACTIVE_NEEDLES)
        or _HANDLER_NEEDLE.search(text)
        or any(needle in text.translate(_DROP_INVISIBLE) for needle in _SCRIPT_NEEDLES)
    ):
        finder = _ActiveContentFinder()
        finder.feed(svg)
        finder.close()
        found += finder.found
    return found + [f"a reference to {where}" for where in external_references(svg)]
