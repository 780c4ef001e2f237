"""The briefing's first part: title, what matters most, what partners said, what is being done, how the area compares."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwb_toolkit import charts
from hwb_toolkit.charts.figure import chart_figure
from hwb_toolkit.report.numbers import _text, agreed_statements, divisive_entries
from hwb_toolkit.schema import ACTION_STATUS_ORDER, BETTER_LABELS, ENGLAND_CODE, WORSE_LABELS
from hwb_toolkit.system.analysis import CURRENT_STATUSES
from hwb_toolkit.text.labels import comparison_label, series_label, trend_label
from hwb_toolkit.text.templates import render

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


#: How many headline items, suggested conversations, statements... a section shows.
HEADLINE_ITEMS = 3


LARGEST_THEMES = 3


# --- title --------------------------------------------------------------------------
def other_area_names(briefing: Briefing) -> list[str]:
    """Names of the other areas in the briefing's data (not this area, England or its region)."""
    names = set(briefing.indicator_data["area_name"].dropna().astype(str))
    names -= {briefing.area_name, "England", briefing.parent_name or ""}
    return sorted(names, key=len, reverse=True)


def names_another_area(briefing: Briefing, text: str) -> bool:
    """True when ``text`` names an area other than the briefing's (whole words)."""
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) for name in other_area_names(briefing))


def title_context(briefing: Briefing) -> dict:
    """The title block. The partnership's vision is shown unless it names another area (a
    partnership's own place, on the briefing of a neighbour it benchmarks against)."""
    vision = briefing.strategy.vision.strip()
    previous = briefing.previous_summary or {}
    return {
        "area_name": briefing.area_name,
        "area_code": briefing.area_code,
        "period": briefing.period,
        "partnership_name": briefing.strategy.name,
        "vision": "" if names_another_area(briefing, vision) else vision,
        "first_briefing": briefing.first_briefing,
        "previous_period": _text(previous.get("period")) or "",
    }


# --- how the area compares (spine chart) ---------------------------------------------
def glance_context(briefing: Briefing) -> dict:
    """The spine chart of every figure against England and the range of areas, with the
    counts of how they compare (the same counts as ``summary.json``)."""
    return {"area_name": briefing.area_name, "counts": briefing.numbers["figures"],
            **_glance_figure(briefing)}


def _glance_figure(briefing: Briefing) -> dict:
    """The spine chart, built once per briefing: one row per figure of the summary."""
    if ("glance",) in briefing.figures:
        return briefing.figures[("glance",)]
    summary = briefing.indicators
    data = briefing.indicator_data
    area_type = data.loc[data["area_code"] == briefing.area_code, "area_type"].iloc[0]
    latest = data.merge(
        summary[["indicator_id", "sex", "age", "period"]], on=["indicator_id", "sex", "age", "period"]
    )
    latest = latest[(latest["area_type"] == area_type) | (latest["area_code"] == ENGLAND_CODE)]
    latest = latest.merge(summary[["indicator_id", "sex", "age", "polarity"]].drop_duplicates(),
                          on=["indicator_id", "sex", "age"])
    distribution = charts.spine_distribution(
        latest.drop_duplicates(["indicator_id", "sex", "age", "area_code"]), area_type=area_type,
    )
    chart = charts.spine_chart(summary, distribution, area_name=briefing.area_name,
                               title=f"{briefing.area_name} compared with England")
    briefing.figures[("glance",)] = chart_figure(chart)
    return briefing.figures[("glance",)]


# --- what matters most ------------------------------------------------------------------
def headline_items(briefing: Briefing) -> list[dict]:
    """The three things that matter most this month, most pressing first, each with why.

    Candidates are scored so that a significantly worse indicator that is also
    getting worse outranks one that is merely worse, and a change of
    significance outranks steady news; among equals, the indicator furthest
    from England (relative difference) comes first. Partners' top priority
    (more pressing when nothing answers it) and their clearest consensus
    compete with the data. At most one item per kind of news and at most two
    from the data, so partners' voice is heard in the headline when there is any.
    Each item says why: how the figure compares, what changed, the trend and what
    is being done about it.
    """
    candidates: list[tuple[float, float, str, dict]] = []
    for row in briefing.indicators.to_dict("records"):
        label, trend = row["compared_to_england"], str(row["recent_trend"] or "")
        worsening = "getting worse" in trend
        distance = _relative_distance(row["value"], row["england_value"])
        if label in WORSE_LABELS:
            score = 10 + (3 if worsening else 0) + (2 if row["significance_changed"] else 0)
            candidates.append((score, distance, "worse", row))
        elif row["significance_changed"] or worsening:
            candidates.append((9 if row["significance_changed"] else 8, distance, "changed", row))
        elif label in BETTER_LABELS or "getting better" in trend:
            candidates.append((5, distance, "better", row))

    data_items: list[tuple[float, dict]] = []
    taken: set[str] = set()
    # "No action is linked" is said once, and only where the area has actions at all.
    say_no_action = not briefing.actions.empty
    for score, _, kind, row in sorted(candidates, key=lambda c: (-c[0], -c[1], c[3]["indicator_id"])):
        if kind in taken:
            continue
        taken.add(kind)
        item = _indicator_headline(briefing, row, kind, say_no_action=say_no_action)
        say_no_action = say_no_action and bool(_linked_actions(briefing, row["indicator_id"]))
        data_items.append((score, item))

    voice_items: list[tuple[float, dict]] = []
    rows = briefing.numbers["loop"]["rows"]
    if rows:
        top = rows[0]
        text = render(
            "headline_priority", label=top["said"], score=float(top["score"]),
            answered=top["answered"], actions=[a for a in top["actions"] if a["answers"]],
            others=[a for a in top["actions"] if not a["answers"]],
        )
        title = f"Partners' top priority: {top['said']}"
        voice_items.append((9.5 if not top["answered"] else 6, {"title": title, "text": text}))
    agreed = agreed_statements(briefing)
    if agreed:
        first = agreed[0]
        text = render(
            "headline_consensus",
            statement=first["text"],
            agree_share=first["agree_share"],
            voters=first["voters"],
            suppress_below=briefing.suppress_below,
        )
        voice_items.append((7, {"title": "Where partners agree", "text": text}))

    data_items.sort(key=lambda item: -item[0])
    voice_items.sort(key=lambda item: -item[0])
    chosen = data_items[:2] + voice_items[:1]
    rest = sorted(data_items[2:] + voice_items[1:], key=lambda item: -item[0])
    chosen = (chosen + rest)[:HEADLINE_ITEMS]
    chosen.sort(key=lambda item: -item[0])
    return [item for _, item in chosen]


def _indicator_headline(briefing: Briefing, row: dict, kind: str, *, say_no_action: bool) -> dict:
    """A headline item on one figure: a title saying what the news is, and why it matters."""
    linked = _linked_actions(briefing, row["indicator_id"])
    context = {
        "kind": kind,
        "name": series_label(row),
        "unit": row["unit"],
        "value": _number(row["value"]),
        "period": _text(row["period"]) or "",
        "england_value": _number(row["england_value"]),
        "comparison": comparison_label(row["compared_to_england"]),
        "previous_comparison": comparison_label(row.get("previous_compared_to_england"))
        if row["significance_changed"] else "",
        "previous_period": _text(row.get("previous_period")) or "",
        "trend": trend_label(row["recent_trend"]),
        "actions": linked,
        "say_no_action": say_no_action,
    }
    return {"title": render("headline_indicator.txt.j2", part="title", **context).strip(),
            "text": " ".join(render("headline_indicator.txt.j2", part="text", **context).split())}


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _linked_actions(briefing: Briefing, indicator_id: Any) -> list[dict]:
    """Planned and active actions that list the indicator in ``linked_indicators``."""
    actions = briefing.actions
    if actions.empty:
        return []
    linked = actions["linked_indicators"].map(lambda ids: str(indicator_id) in [str(i) for i in ids or []])
    mine = actions[linked & actions["status"].isin(CURRENT_STATUSES)]
    mine = mine.assign(_order=mine["status"].map(ACTION_STATUS_ORDER)).sort_values(["_order", "action_id"])
    return [{"title": r["title"], "status": r["status"]} for r in mine.to_dict("records")]


def _relative_distance(value: Any, benchmark: Any) -> float:
    """|value - benchmark| / |benchmark|, 0 when either is missing or the benchmark is 0."""
    if value is None or benchmark is None or pd.isna(value) or pd.isna(benchmark) or benchmark == 0:
        return 0.0
    return abs(float(value) - float(benchmark)) / abs(float(benchmark))


def headline_context(briefing: Briefing) -> dict:
    return {"items": headline_items(briefing)}


# --- what partners said most strongly, what is being done (the first part) -------------
def _headline_quotes_consensus(briefing: Briefing) -> bool:
    return any(item["title"] == "Where partners agree" for item in headline_items(briefing))


def said_context(briefing: Briefing) -> dict:
    """What partners said most strongly: how many spoke, what they voted for most, the
    statement most agreed (the next one when the headline already quotes the first), the
    most divided one and the themes talked about most."""
    numbers = briefing.numbers
    agreed = agreed_statements(briefing)[1 if _headline_quotes_consensus(briefing) else 0:]
    divided = divisive_entries(briefing)
    return {
        "area_name": briefing.area_name,
        "contributions": numbers["contributions"],
        "participants": numbers["participants"],
        "sources": len(numbers["sources"]),
        "top_priorities": [{"label": r["label"], "score": float(r["score"])} for r in numbers["top_priorities"]],
        "agreed": agreed[0] if agreed else None,
        "agreed_also": _headline_quotes_consensus(briefing),
        "divided": divided[0] if divided else None,
        "themes": [{"title": r["label"], "count": r["published_size"]}
                   for r in numbers["themes"][:LARGEST_THEMES]],
        "suppress_below": briefing.suppress_below,
    }


def done_context(briefing: Briefing) -> dict:
    """What is being done: the actions by status and how many top-voted things are answered."""
    numbers = briefing.numbers
    rows = numbers["loop"]["rows"]
    worse = int(briefing.indicators["compared_to_england"].isin(WORSE_LABELS).sum())
    return {
        "area_name": briefing.area_name,
        "total": numbers["actions"]["total"],
        "by_status": [{"status": s, "count": n} for s, n in numbers["actions"]["by_status"].items()],
        "loop_items": numbers["loop"]["items"],
        "loop_answered": numbers["loop"]["answered"],
        "unanswered": [row["said"] for row in rows if not row["answered"]],
        "gaps": numbers["gaps"],
        "worse": worse,
        "suppress_below": briefing.suppress_below,
    }
