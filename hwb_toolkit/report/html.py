"""The executed briefing notebook as one self-contained HTML page."""

from __future__ import annotations

import copy
import html
import re
import threading
from pathlib import Path
from typing import Any

from hwb_toolkit.errors import PipelineError
from hwb_toolkit.markup import external_references
from hwb_toolkit.resources import templates_dir

#: The nbconvert template (a folder under ``templates/nbconvert``) used by :func:`notebook_to_html`.
REPORT_TEMPLATE = "hwb_report"


_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)


_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2\s*>", re.IGNORECASE | re.DOTALL)


_ID_ATTRIBUTE = re.compile(r"""\bid\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)


_TAG = re.compile(r"<[^>]*>")


def _visible_text(fragment: str) -> str:
    """The words an HTML fragment shows, white space collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "section"


_SVG_PROLOGUE = re.compile(
    r"<\?xml.*?\?>|<!DOCTYPE[^>]*>|<!--.*?-->|<metadata\b.*?</metadata\s*>",
    re.IGNORECASE | re.DOTALL,
)


def _bare_svg(svg: Any) -> str:
    """An SVG output without XML declaration, DOCTYPE, comments or metadata.

    Inline in HTML they mean nothing, and they carry URLs (DTD, generator, RDF
    vocabularies) that would read as references in a self-contained page.
    """
    svg = "".join(svg) if isinstance(svg, list) else str(svg)
    return _SVG_PROLOGUE.sub("", svg).strip()


class _Headings:
    """Gives every h2 a unique id and collects them for the table of contents."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self._used: set[str] = set()

    def __call__(self, match: re.Match) -> str:
        attributes, inner = match.group(1), match.group(2)
        found = _ID_ATTRIBUTE.search(attributes)
        text = _visible_text(inner)
        wanted = html.unescape(found.group(2)) if found else f"section-{_slug(text)}"
        unique, n = wanted, 2
        while unique in self._used:
            unique, n = f"{wanted}-{n}", n + 1
        self._used.add(unique)
        self.entries.append((unique, text))
        if found:
            attributes = attributes[: found.start()] + attributes[found.end() :]
        attributes = " " + attributes.strip() if attributes.strip() else ""
        return f'<h2 id="{html.escape(unique)}"{attributes}>{inner}</h2>'


def _contents(entries: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>'
        for anchor, text in entries
    )
    return (
        '<nav class="hwb-toc" aria-label="Contents"><p class="hwb-toc-title">Contents</p>'
        f"<ol>{items}</ol></nav>"
    )


_FIRST_PART = 'data-hwb-part="first"'


def _prepare_report(notebook) -> tuple[Any, str | None]:
    """Give h2s ids, put a table of contents after the first part (the outputs marked
    ``data-hwb-part="first"``; else after the title), and find the page title."""
    headings = _Headings()
    title, title_output, html_outputs, first_part = None, None, [], None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" in data:
                data["image/svg+xml"] = _bare_svg(data["image/svg+xml"])
            if "text/html" not in data:
                continue
            source = data["text/html"]
            source = "".join(source) if isinstance(source, list) else source
            source = _H2.sub(headings, source)
            data["text/html"] = source
            html_outputs.append(output)
            if _FIRST_PART in source:
                first_part = output
            if title is None:
                found = _H1.search(source)
                if found:
                    title, title_output = _visible_text(found.group(1)), output
    if len(headings.entries) >= 2 and html_outputs:
        nav = _contents(headings.entries)
        if first_part is not None:
            first_part["data"]["text/html"] += nav
        elif title_output is not None:
            title_output["data"]["text/html"] += nav
        else:
            html_outputs[0]["data"]["text/html"] = nav + html_outputs[0]["data"]["text/html"]
    return notebook, title


_THREAD = threading.local()


def _exporter():
    """nbconvert's HTMLExporter with our template, one per thread (it is not thread-safe)."""
    exporter = getattr(_THREAD, "exporter", None)
    if exporter is not None:
        return exporter
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    exporter = HTMLExporter(
        config=config,
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(templates_dir() / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=True,
        exclude_raw=True,
        exclude_unknown=True,
    )
    _THREAD.exporter = exporter
    return exporter


def notebook_to_html(executed_notebook_path: str | Path, *, title: str | None = None) -> str:
    """The executed briefing notebook as one self-contained HTML page.

    Only outputs appear: HTML outputs as they are (they come from our escaped
    templates), SVG inline, PNG/JPEG as ``data:`` images; code, prompts,
    markdown cells, streams, errors and plain-text results are left out. The
    page uses nbconvert's ``HTMLExporter`` with the ``templates/nbconvert/hwb_report``
    template (inline CSS for phones and print), gets a table of contents built
    from the h2 headings, and its ``<title>`` from ``title`` or else the first
    h1 (the briefing's title). Raises :class:`PipelineError` when the page
    would make any request (a ``<script>``, or a URL in ``src``, ``href``,
    ``url(...)``, ``@import``...).
    """
    import nbformat

    path = Path(executed_notebook_path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:
        raise PipelineError(f"cannot read the executed notebook: {error}", file=path) from None
    notebook, found_title = _prepare_report(copy.deepcopy(notebook))
    page_title = title or found_title or notebook.metadata.get("title") or "Briefing"
    page, _ = _exporter().from_notebook_node(notebook, resources={"hwb_title": page_title})
    references = external_references(page)
    if references:
        raise PipelineError(
            f"the report would load {references[0]}"
            + (f" (and {len(references) - 1} more)" if len(references) > 1 else "")
            + "; a published briefing must be self-contained",
            file=path,
        )
    return page
