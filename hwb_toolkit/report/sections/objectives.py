"""Each objective of the strategy."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwb_toolkit import charts
from hwb_toolkit.charts.figure import chart_figure
from hwb_toolkit.report.numbers import (
    _text,
    _theme_links,
    comparison_counts,
    published_themes,
    quotable,
)
from hwb_toolkit.report.sections.closing import _opinion_figure
from hwb_toolkit.report.sections.first_part import _glance_figure
from hwb_toolkit.schema import ACTION_STATUS_ORDER, WORSE_LABELS
from hwb_toolkit.system.analysis import CURRENT_STATUSES
from hwb_toolkit.text import sentences
from hwb_toolkit.text.labels import series_label
from hwb_toolkit.text.templates import render

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


# --- indicators --------------------------------------------------------------------
def indicator_sentence(briefing: Briefing, row: dict) -> str:
    """The plain-English sentence for one row of the briefing's indicator summary."""
    return sentences.indicator_sentence(
        row, briefing.area_name, unit=row["unit"], subject=_text(row.get("subject"))
    )


def _trend_figure(briefing: Briefing, row: dict) -> dict:
    key = ("trend", row["indicator_id"], row["sex"], row["age"])
    if key not in briefing.figures:
        area, england = briefing.series(row["indicator_id"], row["sex"], row["age"])
        name = series_label(row)
        chart = charts.trend_chart(
            area,
            england[["period", "period_sortable", "value"]],
            title=f"{name}: {briefing.area_name} and England",
            y_title=_axis_title(row["unit"]),
            caption=_trend_caption(briefing, name, area),
        )
        # The section's heading names the indicator: the chart's title is not repeated.
        briefing.figures[key] = chart_figure(chart, heading=False)
    return briefing.figures[key]


def _trend_caption(briefing: Briefing, name: str, area: pd.DataFrame) -> str:
    periods = area["period"].astype(str).tolist()
    span = f" from {periods[0]} to {periods[-1]}" if periods else ""
    return f"{name} in {briefing.area_name}{span}, with England as the black line."


def queue_indicator_charts(briefing: Briefing) -> None:
    """Build the spine chart and every trend chart now, so they are drawn (in the background)
    while the rest of the briefing is analysed. Needs only the briefing's indicator tables."""
    _glance_figure(briefing)
    for row in briefing.indicators.to_dict("records"):
        if _text(row.get("objective")) is not None:  # objective_context shows only these
            _trend_figure(briefing, row)


def _axis_title(unit: str) -> str:
    return {"%": "Per cent", "": "Number", "number": "Value"}.get(unit, unit.capitalize())


# --- objectives ---------------------------------------------------------------------
def objective_context(briefing: Briefing, objective: str) -> dict:
    """One objective: a short summary and its gaps, then the detail (indicators with
    charts, themes with counts, quotes and what is being done on each, the actions)."""
    strategy = briefing.strategy
    spec = next(o for o in strategy.objectives if o.id == objective)
    theme_ids = _theme_ids(briefing, objective)
    rows = briefing.indicators[briefing.indicators["objective"] == objective]
    indicators = []
    for row in rows.to_dict("records"):
        figure = _trend_figure(briefing, row)
        indicators.append({
            "name": series_label(row),
            "sentence": indicator_sentence(briefing, row),
            "chart_svg": figure["chart_svg"],
            "chart_alt": figure["chart_alt"],
            "chart_caption": figure["chart_caption"],
        })

    mine = _objective_themes(briefing, theme_ids)
    raw = briefing.voices.themes.set_index("theme")["size"]
    theme_items = []
    for row in mine.assign(_raw=mine["theme"].map(raw)).sort_values(
            ["_raw", "label"], ascending=[False, True], kind="stable").to_dict("records"):
        parts = sorted(row["sectors"].items(),
                       key=lambda pair: (pair[0] == "unknown", isinstance(pair[1], str),
                                         -_number_or_zero(pair[1]), pair[0]))
        theme_items.append({
            "title": row["label"],
            "count": row["published_size"],
            # Beside a hidden total, a split of hidden counts says nothing more.
            "by_sector": [{"sector": None if s == "unknown" else s, "count": n} for s, n in parts]
            if isinstance(row["published_size"], int) else [],
            "quotes": quotable(briefing, row),
            "actions": _theme_links(briefing, row["theme"]),
        })
    listed, elsewhere = _objective_actions(briefing, objective, theme_ids)
    counts = comparison_counts(rows)
    spoken = _contributions_on(briefing, theme_ids)
    context = {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description or "",
        "figures": counts,
        "contributions": spoken,
        "has_voices": not briefing.voices.empty,
        "has_actions": not briefing.actions.empty,
        "action_counts": _status_counts(listed + elsewhere),
        "indicators": indicators,
        "themes": theme_items,
        "actions": listed,
        "actions_elsewhere": elsewhere,
        "gaps": ([{"detail": text} for text in gap_sentences(briefing, objective)]
                 if not briefing.actions.empty else []),
    }
    if len(mine):
        figure = _theme_figure(briefing, objective, mine)
        context["voices_chart_svg"] = figure["chart_svg"]
        context["voices_chart_alt"] = figure["chart_alt"]
        context["voices_chart_caption"] = figure["chart_caption"]
    return {"objective": context, "suppress_below": briefing.suppress_below}


def _contributions_on(briefing: Briefing, theme_ids: list[str]) -> int:
    """Contributions under any of ``theme_ids`` (one under two of them counted once)."""
    assignments = briefing.voices.assignments
    if assignments.empty or "themes" not in assignments.columns:
        return 0
    wanted = set(theme_ids)
    return int(assignments["themes"].map(lambda ts: bool(set(ts or []) & wanted)).sum())


def _status_counts(actions: list[dict]) -> list[dict]:
    counts = Counter(action["status"] for action in actions)
    return [{"status": s, "count": counts[s]} for s in ACTION_STATUS_ORDER if counts[s]]


def _theme_ids(briefing: Briefing, objective: str) -> list[str]:
    """The ids of the strategy's themes under ``objective``, in strategy order."""
    return [theme.id for theme in briefing.strategy.themes if theme.objective == objective]


def _objective_themes(briefing: Briefing, theme_ids: list[str]) -> pd.DataFrame:
    """The themes found in ``theme_ids`` that partners spoke about, safe to publish."""
    themes = briefing.voices.themes
    return published_themes(
        themes[themes["theme"].isin(theme_ids) & (themes["size"] > 0)], briefing.suppress_below
    )


def _theme_figure(briefing: Briefing, objective: str, mine: pd.DataFrame) -> dict:
    """The chart of an objective's themes (``mine``, from :func:`_objective_themes`), built once."""
    if ("themes", objective) not in briefing.figures:
        title = next(o.title for o in briefing.strategy.objectives if o.id == objective)
        chart = charts.theme_chart(
            mine, title=f"What partners said on {title}",
            caption=(f"Contributions on each {title} theme, largest first, coloured by the sector "
                     "they came from; small counts are drawn together in grey, not by sector."),
        )
        briefing.figures[("themes", objective)] = chart_figure(chart)
    return briefing.figures[("themes", objective)]


def queue_voices_charts(briefing: Briefing) -> None:
    """Build the theme charts and the opinion map now, so they are drawn (in the background)
    while the gaps, coverage and texts are worked out. Needs only the briefing's voices."""
    if briefing.voices.opinion is not None:
        _opinion_figure(briefing)
    for objective in briefing.objectives:
        mine = _objective_themes(briefing, _theme_ids(briefing, objective))
        if len(mine):
            _theme_figure(briefing, objective, mine)


def _number_or_zero(value: Any) -> float:
    return 0.0 if isinstance(value, str) else float(value)


def _objective_actions(briefing: Briefing, objective: str, theme_ids: list[str]) -> tuple[list[dict], list[dict]]:
    """The actions working toward ``objective`` (naming it or one of its themes; not stopped):
    those listed here, and those listed under an earlier objective (each action is listed once)."""
    actions = briefing.actions
    if actions.empty:
        return [], []
    order = briefing.objectives
    theme_objective = {theme.id: theme.objective for theme in briefing.strategy.themes}

    def first_objective(row) -> str | None:
        mine = set(row["objectives"]) | {theme_objective.get(t) for t in row["themes"]}
        return next((o for o in order if o in mine), None)

    on_objective = actions["objectives"].map(lambda ids: objective in ids) | actions["themes"].map(
        lambda ids: bool(set(ids) & set(theme_ids))
    )
    mine = actions[on_objective & (actions["status"] != "stopped")]
    mine = mine.assign(order=mine["status"].map(ACTION_STATUS_ORDER)).sort_values(["order", "action_id"])
    listed, elsewhere = [], []
    for r in mine.to_dict("records"):
        home = first_objective(r)
        entry = {"title": r["title"], "lead_org": r["lead_org"], "status": r["status"],
                 "listed_under": next(o.title for o in briefing.strategy.objectives if o.id == home)
                 if home else ""}
        (listed if home in (objective, None) else elsewhere).append(entry)
    return listed, elsewhere


# --- gaps ----------------------------------------------------------------------------
def gap_sentence(gap: dict, *, strategy, indicators: pd.DataFrame | None, theme_links: pd.DataFrame | None,
                 organisations: set[str] = frozenset()) -> str:
    """One gap of :func:`hwb_toolkit.system.gaps` as a plain sentence (``templates/gap.txt.j2``).

    ``indicators``: the indicator summary with display names (for indicator gaps);
    ``theme_links``: :func:`hwb_toolkit.briefing.theme_action_links` (actions on the
    indicator's theme that could take it on); ``organisations``: those on the objective's
    current actions (for a gap of one sector only).
    """
    theme_title = {theme.id: theme.title for theme in strategy.themes}
    context: dict[str, Any] = {"kind": gap["kind"], "label": gap["label"]}
    if gap["kind"] == "indicator_without_action":
        rows = (indicators[indicators["indicator_id"].astype(str) == str(gap["item"])]
                if indicators is not None else pd.DataFrame())
        worst = rows.assign(_worse=rows["compared_to_england"].isin(WORSE_LABELS)).sort_values(
            "_worse", ascending=False, kind="stable") if len(rows) else rows
        theme = _text(gap["theme"])
        candidates = []
        if theme_links is not None and len(theme_links) and theme:
            on_theme = theme_links[(theme_links["theme"] == theme) & theme_links["status"].isin(CURRENT_STATUSES)]
            candidates = list(dict.fromkeys(on_theme["title"]))[:3]
        row = worst.iloc[0] if len(worst) else None
        name = series_label(row) if row is not None else gap["label"]
        # "..., under 18s, is worse": a breakdown after the name is set off on both sides.
        breakdown = row is not None and bool(_text(row.get("breakdown")))
        context.update(
            indicator_name=f"{name}," if breakdown else name,
            comparison=row["compared_to_england"] if row is not None else "Not compared",
            trend=(_text(row["recent_trend"]) or "") if row is not None else "",
            theme_title=theme_title.get(theme or "", ""),
            candidates=candidates,
        )
    elif gap["kind"] == "voted_theme_without_action":
        context.update(theme_title=theme_title.get(gap["item"], gap["label"]), score=float(gap["score"]))
    elif gap["kind"] == "single_sector_objective":
        sectors = {strategy.sector_of(org) for org in organisations} - {None}
        context.update(sector=next(iter(sorted(sectors)), "other"))
    return render("gap", **context).strip()


def gap_sentences(briefing: Briefing, objective: str) -> list[str]:
    """Plain-English sentences for the gaps the whole-system engine found in one objective."""
    theme_objective = {theme.id: theme.objective for theme in briefing.strategy.themes}
    sentences = []
    for gap in briefing.gaps.to_dict("records"):
        belongs = gap["objective"] == objective or theme_objective.get(_text(gap["theme"]) or "") == objective
        if belongs:
            sentences.append(gap_sentence(
                gap, strategy=briefing.strategy, indicators=briefing.indicators,
                theme_links=briefing.theme_links,
                organisations=objective_organisations(briefing.strategy, briefing.actions, objective),
            ))
    return sentences


def objective_organisations(strategy, actions: pd.DataFrame, objective: str) -> set[str]:
    """Organisations leading or joining a planned or active action on ``objective`` (naming it
    or one of its themes)."""
    theme_ids = [theme.id for theme in strategy.themes if theme.objective == objective]
    current = actions[actions["status"].isin(CURRENT_STATUSES)]
    orgs: set[str] = set()
    for row in current.to_dict("records"):
        if objective in row["objectives"] or set(row["themes"]) & set(theme_ids):
            orgs.add(row["lead_org"])
            orgs.update(row["partner_orgs"])
    return orgs
