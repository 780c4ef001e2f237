"""Helpers every partner page uses: friendly errors, escaped text, layout, paths.

Role: floor 4 (UI). The pages (Explorer, Workshop, Actions) build ipywidgets trees
from these pieces so that they look and fail alike:

- **No tracebacks.** :func:`friendly_errors` wraps an event handler: an exception is
  logged (``logging``, logger ``hwb_toolkit.apps``) and shown as one plain sentence in
  the page's status line. :func:`build_page` does the same for building a whole page,
  so a page whose data cannot be read shows a message instead of an error cell.
  A :class:`~hwb_toolkit.errors.HwbError` is explained (file name, row, column,
  message); anything else is "something went wrong" (the detail goes to the log only).
- **Contributed text is never HTML.** :func:`escape` and :func:`text_html` are the
  only ways text enters a ``widgets.HTML``; the only other markup is our own charts'
  SVG, checked by ``narrative.trusted_svg`` (the sections' ``PendingChart``).
- **Phone width and keyboard.** :func:`row` wraps (flex-wrap) and :func:`column`
  is 100% wide; :func:`dropdown` and the other inputs are real, labelled widgets.
- **Where things are.** A page reads the workspace from ``HWB_WORKSPACE`` and the
  reports from ``HWB_REPORTS`` (set by ``hwb serve``), via :func:`workspace_path`
  and :func:`reports_path`.
- Every page's root widget carries the CSS class :data:`PAGE_CLASS`, so tests and
  benchmarks can tell the page was drawn (the widget exists in the browser only once
  the kernel's widget state reached it).
"""

from __future__ import annotations

import functools
import html
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import ipywidgets as widgets

from hwb_toolkit.errors import HwbError

logger = logging.getLogger("hwb_toolkit.apps")

#: CSS class on the root widget of every page.
PAGE_CLASS = "hwb-page"
#: CSS class added to a page's root when it could not be built (it shows a message).
PAGE_ERROR_CLASS = "hwb-page-error"
#: CSS class of the status line a page shows messages in.
STATUS_CLASS = "hwb-status"

#: Environment variables ``hwb serve`` sets for the page kernels.
WORKSPACE_ENV = "HWB_WORKSPACE"
REPORTS_ENV = "HWB_REPORTS"

GENERIC_PROBLEM = (
    "Sorry, something went wrong on this page. The problem has been logged; "
    "please try again, or tell the person who runs this site."
)

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

#: Styles shared by the pages (no external fonts or images: nothing is fetched).
PAGE_CSS = """
.hwb-page { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
            font-size: 16px; line-height: 1.45; max-width: 72rem; box-sizing: border-box;
            padding: 0 0.5rem; }
.hwb-page h1 { font-size: 1.6rem; margin: 0.6rem 0 0.3rem; }
.hwb-page h2 { font-size: 1.25rem; margin: 1rem 0 0.3rem; }
.hwb-page h3 { font-size: 1.05rem; margin: 0.8rem 0 0.2rem; }
.hwb-page p, .hwb-page li { max-width: 45rem; }
.hwb-page figure { margin: 0.4rem 0; max-width: 100%; }
.hwb-page figure svg { max-width: 100%; height: auto; }
.hwb-page figcaption { font-size: 0.85rem; color: #444; max-width: 40rem; }
.hwb-page .hwb-chart-title { font-weight: 600; margin: 0.3rem 0 0.1rem; }
.hwb-page .hwb-chart-subtitle { font-size: 0.85rem; color: #444; margin: 0 0 0.2rem; }
.hwb-page blockquote { margin: 0.3rem 0 0.3rem 0.4rem; padding-left: 0.6rem;
                       border-left: 3px solid #999; box-sizing: border-box; max-width: 100%; }
.hwb-page .hwb-muted { color: #555; }
.hwb-page .widget-html { max-width: 100%; min-width: 0; }
.hwb-page .widget-html > .widget-html-content { white-space: normal; overflow-wrap: break-word;
                                               max-width: 100%; }
.hwb-status { min-height: 1.5em; }
.hwb-status-error { color: #8a1c1c; background: #fdecec; padding: 0.4rem 0.6rem;
                    border-radius: 4px; }
.hwb-status-ok { color: #1d5e20; }
.hwb-page .widget-label, .hwb-page .widget-dropdown > select { font-size: 1rem; }
"""


#: Form styles for phones: a field's label goes above its input when both do not fit.
FORM_CSS = """
.hwb-page .widget-button { min-height: 2.5rem; }
.hwb-page .widget-inline-hbox { flex-wrap: wrap; max-width: calc(100% - 4px);
                                box-sizing: border-box; }
.hwb-page .widget-inline-hbox > .widget-label { white-space: normal; max-width: 100%;
                                                 overflow: visible; }
.hwb-page .widget-inline-hbox > select, .hwb-page .widget-inline-hbox > input,
.hwb-page .widget-inline-hbox > textarea { min-width: 12rem; max-width: 100%;
                                           flex: 1 1 12rem; }
"""


# --- where the workspace and the reports are --------------------------------------------


def workspace_path(default: str | Path | None = None) -> Path:
    """The workspace folder for this page: ``$HWB_WORKSPACE``, else ``default``,
    else ``./workspace``."""
    value = os.environ.get(WORKSPACE_ENV) or default or "workspace"
    return Path(value).expanduser().resolve()


def reports_path(default: str | Path | None = None) -> Path:
    """The reports folder (``reports/<period>/<area>/briefing.html``): ``$HWB_REPORTS``,
    else ``default``, else ``./reports``."""
    value = os.environ.get(REPORTS_ENV) or default or "reports"
    return Path(value).expanduser().resolve()


# --- text ---------------------------------------------------------------------------------


def escape(text: Any) -> str:
    """``text`` as HTML-escaped plain text (quotes too); a missing value is ""."""
    if text is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(text):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(text), quote=True)


def text_html(text: Any, *, tag: str = "p", css_class: str | None = None) -> widgets.HTML:
    """A ``widgets.HTML`` showing ``text`` as plain text inside one ``<tag>``."""
    return widgets.HTML(value=text_markup(text, tag=tag, css_class=css_class))


def text_markup(text: Any, *, tag: str = "p", css_class: str | None = None) -> str:
    """``<tag class=...>escaped text</tag>``: the markup :func:`text_html` shows."""
    if not tag.isalnum():
        raise ValueError(f"not an HTML tag name: {tag!r}")
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<{tag}{attribute}>{escape(text)}</{tag}>"


def heading(text: Any, level: int = 2) -> widgets.HTML:
    """A heading (``<h1>``..``<h4>``) with escaped text."""
    if level not in (1, 2, 3, 4):
        raise ValueError(f"heading level must be 1-4, not {level}")
    return text_html(text, tag=f"h{level}")


def bullet_markup(items: Iterable[Any]) -> str:
    """An escaped ``<ul>`` of plain-text items ("" when there are none)."""
    entries = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<ul>{entries}</ul>" if entries else ""


def link_markup(href: str, text: Any, *, download: bool = False) -> str:
    """An ``<a>`` to a same-site address (relative or starting with "/"), escaped.

    External addresses are refused: the pages link only to what this server serves.
    """
    if "://" in href or href.startswith("//") or href.lower().startswith(("javascript:", "data:")):
        raise ValueError(f"the pages link only to this site, not to {href!r}")
    extra = " download" if download else ""
    return f'<a href="{escape(href)}"{extra}>{escape(text)}</a>'


# --- errors -------------------------------------------------------------------------------


def friendly_message(error: BaseException) -> str:
    """One plain sentence about ``error`` for a partner (no traceback, no server paths).

    An :class:`HwbError` says where (file name only, row, column) and what; anything
    else is :data:`GENERIC_PROBLEM`.
    """
    if isinstance(error, HwbError):
        parts = []
        if error.file:
            parts.append(Path(error.file).name)
        if error.row is not None:
            parts.append(f"{getattr(error, 'row_word', 'row')} {error.row}")
        if error.column:
            parts.append(f"column '{error.column}'")
        where = ", ".join(parts)
        return f"There is a problem with {where}: {error.message}" if where else error.message
    return GENERIC_PROBLEM


def status_line() -> widgets.HTML:
    """An empty status line for messages (announced to screen readers)."""
    line = widgets.HTML(value="", layout=widgets.Layout(width="100%"))
    line.add_class(STATUS_CLASS)
    return line


def show_status(line: widgets.HTML, text: Any, kind: str = "info") -> None:
    """Show ``text`` (escaped) in a :func:`status_line`; ``kind`` is info, ok or error.

    Errors use ``role="alert"``, the others ``role="status"``; "" clears the line.
    """
    if kind not in ("info", "ok", "error"):
        raise ValueError(f"status kind must be info, ok or error, not {kind!r}")
    if text is None or text == "":
        line.value = ""
        return
    role = "alert" if kind == "error" else "status"
    line.value = (
        f'<div role="{role}" class="{STATUS_CLASS}-{kind}">{escape(text)}</div>'
    )


def friendly_errors(
    status: widgets.HTML | None = None, *, what: str = "page event"
) -> Callable[[_Handler], _Handler]:
    """Decorator for event handlers: an exception is logged and shown as a plain message.

    ``status`` is a :func:`status_line` (messages are only logged without one);
    ``what`` names the handler in the log. The handler returns None after an error.
    A successful call clears a previous error message from the status line.

    >>> status = status_line()
    >>> @friendly_errors(status, what="area change")
    ... def on_change(change): ...
    """

    def decorate(handler: _Handler) -> _Handler:
        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = handler(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - every failure becomes a message
                where = getattr(handler, "__qualname__", handler)
                if isinstance(error, HwbError):  # a partner's input was refused: no traceback
                    logger.warning("%s refused in %s: %s", what, where, error)
                else:
                    logger.exception("%s failed in %s", what, where)
                if status is not None:
                    show_status(status, friendly_message(error), "error")
                return None
            if status is not None and f"{STATUS_CLASS}-error" in status.value:
                show_status(status, "")
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def error_page(error: BaseException, title: str = "This page could not be opened") -> widgets.VBox:
    """A page root that only explains ``error`` in plain words."""
    status = status_line()
    show_status(status, friendly_message(error), "error")
    page = column(style_widget(), heading(title, 1), status)
    page.add_class(PAGE_CLASS)
    page.add_class(PAGE_ERROR_CLASS)
    return page


def build_page(builder: Callable[..., widgets.Widget], *args: Any, **kwargs: Any) -> widgets.Widget:
    """Call ``builder(*args, **kwargs)`` and return its root widget, marked with
    :data:`PAGE_CLASS`; if it raises, log it and return :func:`error_page` instead."""
    try:
        page = builder(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - a page never shows a traceback
        logger.exception("building the page with %s failed", getattr(builder, "__name__", builder))
        return error_page(error)
    page.add_class(PAGE_CLASS)
    return page


def show_page(builder: Callable[..., widgets.Widget], *args: Any, **kwargs: Any) -> widgets.Widget:
    """:func:`build_page`, then display the result (the one call a page notebook makes)."""
    from IPython.display import display

    page = build_page(builder, *args, **kwargs)
    display(page)
    return page


# --- layout -------------------------------------------------------------------------------


def style_widget() -> widgets.HTML:
    """The pages' shared stylesheet (:data:`PAGE_CSS`) as a widget to put first in a page."""
    return widgets.HTML(value=f"<style>{PAGE_CSS}</style>", layout=widgets.Layout(height="0"))


def row(*children: widgets.Widget, gap: str = "0.5rem 1rem") -> widgets.HBox:
    """Children side by side, wrapping onto new lines on a narrow (phone) screen."""
    return widgets.HBox(
        list(children),
        layout=widgets.Layout(
            width="100%", flex_flow="row wrap", align_items="flex-start", grid_gap=gap
        ),
    )


def column(*children: widgets.Widget) -> widgets.VBox:
    """Children one under the other, full width."""
    return widgets.VBox(list(children), layout=widgets.Layout(width="100%"))


def panel(title: str | None, *children: widgets.Widget, min_width: str = "18rem") -> widgets.VBox:
    """A titled block that takes a share of a :func:`row` (and the full width on a phone)."""
    parts = ([heading(title, 2)] if title else []) + list(children)
    return widgets.VBox(
        parts, layout=widgets.Layout(flex="1 1 " + min_width, min_width="0", max_width="100%")
    )


def section(title: str | None, *children: widgets.Widget, level: int = 2) -> widgets.VBox:
    """A titled block, full width, its children one under the other (pages stack these;
    :func:`hwb_toolkit.apps.common.panel` is for blocks side by side in a row)."""
    parts = ([heading(title, level)] if title else []) + list(children)
    box = widgets.VBox(parts, layout=widgets.Layout(width="100%", margin="0 0 0.8rem 0"))
    box.add_class("hwb-section")
    return box


def dropdown(
    label: str,
    options: Sequence[tuple[str, Any]] | Sequence[str],
    value: Any = None,
    *,
    width: str = "100%",
    max_width: str = "28rem",
) -> widgets.Dropdown:
    """A labelled dropdown (a real ``<select>``: usable with a keyboard and screen reader)."""
    box = widgets.Dropdown(
        options=list(options),
        description=label,
        style={"description_width": "initial"},
        layout=widgets.Layout(width=width, max_width=max_width),
    )
    if value is not None:
        box.value = value
    return box
