"""The narrative's Jinja2 templates: the environment, its filters and rendering."""

from __future__ import annotations

import functools
import math
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from hwb_toolkit.errors import ConfigError, HwbError
from hwb_toolkit.privacy import DEFAULT_SUPPRESS_BELOW, suppress_small
from hwb_toolkit.resources import templates_dir
from hwb_toolkit.text.labels import (
    comparison_label,
    sector_attribution,
    sector_label,
    status_label,
    trend_label,
)
from hwb_toolkit.text.numbers import (
    format_change,
    format_ci,
    format_count,
    format_period,
    format_share,
    format_value,
    join_list,
    pluralise,
)
from hwb_toolkit.text.quotes import truncate_text
from hwb_toolkit.text.safe_markup import _require_svg

#: The templates folder (the repository's, editable by an analyst; see hwb_toolkit.resources).
TEMPLATES_DIR = templates_dir()


def _finalize(value: Any) -> Any:
    """Refuse to print a missing number or a table: they must go through a filter."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise ConfigError(
            "a template printed a missing value directly; format it with a filter "
            "(format_value, format_share, count_text...) or test it with 'is none'"
        )
    if isinstance(value, pd.DataFrame | pd.Series):
        raise ConfigError("a template printed a table; pass plain values (dicts and lists)")
    return value


@jinja2.pass_context
def _count_text(context: jinja2.runtime.Context, count: Any, below: int | None = None) -> str:
    """A count for publication: suppressed below ``suppress_below`` (context) and formatted."""
    if below is None:
        below = context.get("suppress_below", DEFAULT_SUPPRESS_BELOW)
    return format_count(suppress_small(count, below))


@jinja2.pass_context
def _count_phrase(
    context: jinja2.runtime.Context, count: Any, singular: str, plural: str | None = None
) -> str:
    """``12 contributions`` / ``fewer than 5 contributions``: suppressed, formatted, pluralised."""
    below = context.get("suppress_below", DEFAULT_SUPPRESS_BELOW)
    return pluralise(suppress_small(count, below), singular, plural)


def _strict(function):
    """A filter that fails like StrictUndefined when handed an undefined variable."""

    @functools.wraps(function)  # keeps jinja's pass_context marker
    def wrapper(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
        return function(*args, **kwargs)

    return wrapper


FILTERS = {
    "format_value": format_value,
    "format_ci": format_ci,
    "format_change": format_change,
    "format_share": format_share,
    "format_count": format_count,
    "format_period": format_period,
    "count_text": _count_text,
    "count_phrase": _count_phrase,
    "suppress_small": suppress_small,
    "pluralise": pluralise,
    "join_list": join_list,
    "comparison_label": comparison_label,
    "trend_label": trend_label,
    "status_label": status_label,
    "sector_label": sector_label,
    "attribution": sector_attribution,
    "quote_text": truncate_text,
}


GLOBALS = {"format_ci": format_ci, "require_svg": _require_svg}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's cache of compiled templates, in its own per-user folder (mode 700) under the
    temporary folder: compiling the briefing's templates takes about 40 ms in every run, loading
    them compiled about 2 ms. Entries are keyed by template file and source, so an edited
    template is compiled again. None (compile every time) where that folder cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@functools.lru_cache(maxsize=16)
def _environment(search_path: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(search_path)),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update({name: _strict(function) for name, function in FILTERS.items()})
    env.globals.update({name: _strict(function) for name, function in GLOBALS.items()})
    return env


def template_environment(override_dir: str | Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: ``override_dir`` (e.g. a workspace's ``templates/``) first, then the repo's.

    Autoescaping is on for ``*.html.j2`` (and html/xml) templates, off for
    ``*.txt.j2``; undefined variables raise. Environments are cached per folder.
    """
    if not TEMPLATES_DIR.is_dir():
        raise ConfigError(f"the templates folder {TEMPLATES_DIR} is missing")
    folders = [str(TEMPLATES_DIR)]
    if override_dir is not None:
        override = Path(override_dir).resolve()
        if not override.is_dir():
            raise ConfigError(f"the templates folder {override} does not exist")
        folders.insert(0, str(override))
    return _environment(tuple(folders))


def _plain_context(value: Any, where: str) -> None:
    """Contexts are plain values (dicts, lists, text, numbers, Markup): never a table."""
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        raise TypeError(f"template context {where} is a pandas object; pass dicts and lists")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _plain_context(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _plain_context(item, f"{where}[{n}]")


def _template_location(error: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an error happened at (Jinja puts template frames in tracebacks)."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return error.filename, error.lineno
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return None, None


def render(template_name: str, /, *, override_dir: str | Path | None = None, **context: Any) -> str:
    """Render a template from ``templates/`` with plain-value ``context``; returns text.

    ``template_name`` is a file name (``"headline.html.j2"``) or a section name
    (``"headline"`` finds ``headline.html.j2``, then ``headline.txt.j2``). Each
    template's header comment lists the variables it expects. A missing
    variable or template raises :class:`ConfigError` naming the file and line.
    """
    env = template_environment(override_dir)
    names = (
        [template_name]
        if template_name.endswith(".j2")
        else [f"{template_name}.html.j2", f"{template_name}.txt.j2"]
    )
    _plain_context(context, "")
    try:
        template = env.select_template(names)
        return template.render(**context)
    except jinja2.TemplateNotFound as error:
        missing = getattr(error, "templates", None) or [error.name]
        raise ConfigError(
            f"no template named {' or '.join(map(str, missing))} "
            f"in {' or '.join(env.loader.searchpath)}"
        ) from None
    except (jinja2.TemplateError, ConfigError) as error:
        file, line = _template_location(error)
        message = error.message if isinstance(error, HwbError) else str(error)
        raise ConfigError(
            f"template {names[0] if len(names) == 1 else template_name}: {message}",
            file=file,
            row=line,
        ) from error


def show(template_name: str, /, *, override_dir: str | Path | None = None, **context: Any):
    """:func:`render` wrapped as an ``IPython.display.HTML`` object for a notebook cell.

    Returned, not displayed: a cell shows it when it is the cell's last
    expression; inside a loop pass it to ``IPython.display.display``.
    """
    from IPython.display import HTML

    return HTML(render(template_name, override_dir=override_dir, **context))
