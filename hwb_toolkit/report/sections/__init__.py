"""The briefing's sections: which there are, in what order, and how each becomes HTML.

Each section has a builder ``(briefing, **extra) -> dict`` that gives its Jinja template's
context (the template of the same name in ``templates/``). The builders live by part of
the page: :mod:`.first_part` (title to "at a glance"), :mod:`.changes`, :mod:`.objectives`
and :mod:`.closing` (consensus, "you said, we did", conversations, data notes). Every number
they show comes from :mod:`hwb_toolkit.report.numbers`, the one place it is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hwb_toolkit.report.sections.changes import changes_context
from hwb_toolkit.report.sections.closing import (
    consensus_context,
    conversations_context,
    data_notes_context,
    loop_context,
)
from hwb_toolkit.report.sections.first_part import (
    done_context,
    glance_context,
    headline_context,
    said_context,
    title_context,
)
from hwb_toolkit.report.sections.objectives import objective_context
from hwb_toolkit.text import templates

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


# --- dispatch ------------------------------------------------------------------------
SECTIONS: dict[str, Callable[..., dict]] = {
    "title": title_context,
    "headline": headline_context,
    "glance": glance_context,
    "said": said_context,
    "done": done_context,
    "changes": changes_context,
    "objective": objective_context,
    "consensus": consensus_context,
    "loop": loop_context,
    "conversations": conversations_context,
    "data_notes": data_notes_context,
}


#: The order the briefing notebook shows the sections in ("objective" once per objective):
#: the first part (title to glance), then the rest. tests/report/test_briefing_story.py checks the
#: notebook follows it.
BRIEFING_ORDER = ("title", "headline", "said", "done", "glance", "changes", "objective",
                  "consensus", "loop", "conversations", "data_notes")


def briefing_parts(briefing: Briefing) -> list[tuple[str, dict]]:
    """The sections of the page in order, as ``(section, extra)`` (``extra``: the objective)."""
    return [
        (section, extra)
        for section in BRIEFING_ORDER
        for extra in ([{"objective": o} for o in briefing.objectives] if section == "objective" else [{}])
    ]


def section_context(briefing: Briefing, section: str, **extra: Any) -> dict:
    """The template context of one section (``extra`` goes to its builder, e.g. ``objective=``)."""
    try:
        builder = SECTIONS[section]
    except KeyError:
        raise KeyError(f"unknown section {section!r}; sections are {', '.join(SECTIONS)}") from None
    return builder(briefing, **extra)


def _prepared_key(section: str, extra: dict) -> tuple:
    return (section, *sorted(extra.items()))


def prepare_sections(briefing: Briefing) -> None:
    """Build the context of every section ahead of showing any.

    Charts are queued for drawing as their sections are built (see
    :func:`hwb_toolkit.charts.svg_later`), so building them all first lets a
    drawing process work through the queue while this one builds the rest;
    :func:`render_section` then uses each prepared context once. Sections with
    charts come first, so that the last chart is queued as early as possible, and
    the network of actions (the slowest to draw, about twice a trend chart) first
    of all, so that the drawing process is not left with it at the end.
    """
    charted = ("conversations", "consensus", "objective")
    for section in [*charted, *(name for name in SECTIONS if name not in charted)]:
        for extra in ({"objective": o} for o in briefing.objectives) if section == "objective" else [{}]:
            briefing.prepared_sections[_prepared_key(section, extra)] = section_context(
                briefing, section, **extra
            )


def show(briefing: Briefing, section: str, **extra: Any) -> None:
    """Display one section in the notebook (the briefing notebook's one call per section)."""
    from IPython.display import display

    display(render_section(briefing, section, **extra))


def render_section(briefing: Briefing, section: str, **extra: Any):
    """One section as an ``IPython.display.HTML`` object, from its template."""
    context = briefing.prepared_sections.pop(_prepared_key(section, extra), None)
    if context is None:
        context = section_context(briefing, section, **extra)
    return templates.show(section, **context)
