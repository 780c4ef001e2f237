"""The briefing's sections: from a :class:`~hwb_toolkit.briefing.Briefing` to template contexts.

Each ``*_context`` function turns the briefing's tables into the plain dicts a
template in ``templates/`` expects (documented at the top of each template),
with charts already rendered to SVG. Wording lives in the templates, numbers
in :mod:`hwb_toolkit.narrative`, statistics in the engines: this module only
chooses what to show and in what order.

The page reads as a board member needs it: a first part (title, what matters most,
how the area compares, what partners said most strongly, what is being done) on one
screen and a bit, then what changed, then each objective with its detail (indicator
sentences, charts, quotes, actions) folded away as marked detail, then the poll, "you
said, we did", suggested conversations and the data notes. Every count comes from
:func:`key_numbers` (also what ``summary.json`` is written from), and what is being
done on a theme from :attr:`Briefing.theme_links`, so no two places disagree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwb_toolkit import charts, narrative
from hwb_toolkit.briefing import BETTER_LABELS, STATUS_ORDER, WORSE_LABELS, area_series
from hwb_toolkit.prepared import series_label
from hwb_toolkit.schema import ENGLAND_CODE

if TYPE_CHECKING:
    from hwb_toolkit.briefing import Briefing

#: How many headline items, suggested conversations, statements... a section shows.
HEADLINE_ITEMS = 3
CONVERSATIONS_SHOWN = 5
STATEMENTS_SHOWN = 3
QUOTES_PER_THEME = 2
NEW_CONTRIBUTIONS_SHOWN = 10
TOP_PRIORITIES = 3
LARGEST_THEMES = 3

#: Action statuses that count as "something is being done now" (the gaps' rule).
CURRENT_STATUSES = ("planned", "active")
#: Statuses that answer what partners said (the loop's rule).
ANSWERED_STATUSES = ("planned", "active", "done")


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


# --- the numbers, once ---------------------------------------------------------------
def comparison_counts(indicators: pd.DataFrame) -> dict:
    """How the briefing's figures (every row of its indicator summary) compare with England:
    ``total``, ``by_comparison`` (label -> count, in the table's order of labels) and
    ``better``, ``similar``, ``worse``, ``other`` (higher, lower, not compared)."""
    labels = indicators["compared_to_england"].fillna("Not compared").astype(str)
    better, worse = int(labels.isin(BETTER_LABELS).sum()), int(labels.isin(WORSE_LABELS).sum())
    similar = int((labels == "Similar").sum())
    return {
        "total": int(len(labels)),
        "by_comparison": {str(k): int(v) for k, v in labels.value_counts().items()},
        "better": better, "similar": similar, "worse": worse,
        "other": int(len(labels)) - better - similar - worse,
        "higher": int((labels == "Higher").sum()), "lower": int((labels == "Lower").sum()),
    }


def key_numbers(briefing: Briefing) -> dict:
    """Every count the briefing publishes, from the engines' tables (unsuppressed here;
    the templates and ``summary.json`` suppress small ones): ``figures``
    (:func:`comparison_counts`), ``contributions``, ``participants``, ``sources``,
    ``top_priorities``, ``themes`` (strategy and discovered themes partners spoke about,
    largest first, with ``published_size``), ``actions`` (``total``, ``by_status``),
    ``loop`` (``items``, ``answered``, ``rows``: the "you said, we did" rows) and ``gaps``."""
    voices = briefing.voices
    said = voices.contributions
    themes = published_themes(voices.themes[voices.themes["size"] > 0], briefing.suppress_below)
    themes = themes[themes["theme"] != "discovered-other"]
    themes = themes.assign(_raw=voices.themes.set_index("theme").loc[themes["theme"], "size"].to_numpy())
    themes = themes.sort_values(["_raw", "label"], ascending=[False, True], kind="stable")
    statuses = briefing.actions["status"].value_counts()
    by_status = {status: int(statuses[status]) for status in STATUS_ORDER if status in statuses}
    rows = loop_rows(briefing)
    return {
        "figures": comparison_counts(briefing.indicators),
        "contributions": int(len(said)),
        "participants": int(said["author"].nunique()),
        "sources": sorted(said["source"].dropna().astype(str).unique()),
        "top_priorities": briefing.voices.priorities.head(TOP_PRIORITIES).to_dict("records"),
        "themes": themes.drop(columns="_raw").to_dict("records"),
        "actions": {"total": int(len(briefing.actions)), "by_status": by_status},
        "loop": {"items": len(rows), "answered": sum(row["answered"] for row in rows), "rows": rows},
        "gaps": int(len(briefing.gaps)),
    }


# --- indicators --------------------------------------------------------------------
def indicator_sentence(briefing: Briefing, row: dict) -> str:
    """The plain-English sentence for one row of the briefing's indicator summary."""
    return narrative.indicator_sentence(
        row, briefing.area_name, unit=row["unit"], subject=_text(row.get("subject"))
    )


def _trend_figure(briefing: Briefing, row: dict) -> dict:
    key = ("trend", row["indicator_id"], row["sex"], row["age"])
    if key not in briefing.figures:
        area, england = area_series(briefing, row["indicator_id"], row["sex"], row["age"])
        name = series_label(row)
        chart = charts.trend_chart(
            area,
            england[["period", "period_sortable", "value"]],
            title=f"{name}: {briefing.area_name} and England",
            y_title=_axis_title(row["unit"]),
            caption=_trend_caption(briefing, name, area),
        )
        # The section's heading names the indicator: the chart's title is not repeated.
        briefing.figures[key] = narrative.chart_figure(chart, heading=False)
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
    briefing.figures[("glance",)] = narrative.chart_figure(chart)
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
        text = narrative.render(
            "headline_priority", label=top["said"], score=float(top["score"]),
            answered=top["answered"], actions=[a for a in top["actions"] if a["answers"]],
            others=[a for a in top["actions"] if not a["answers"]],
        )
        title = f"Partners' top priority: {top['said']}"
        voice_items.append((9.5 if not top["answered"] else 6, {"title": title, "text": text}))
    agreed = agreed_statements(briefing)
    if agreed:
        first = agreed[0]
        text = narrative.render(
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
        "comparison": narrative.comparison_label(row["compared_to_england"]),
        "previous_comparison": narrative.comparison_label(row.get("previous_compared_to_england"))
        if row["significance_changed"] else "",
        "previous_period": _text(row.get("previous_period")) or "",
        "trend": narrative.trend_label(row["recent_trend"]),
        "actions": linked,
        "say_no_action": say_no_action,
    }
    return {"title": narrative.render("headline_indicator.txt.j2", part="title", **context).strip(),
            "text": " ".join(narrative.render("headline_indicator.txt.j2", part="text", **context).split())}


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _linked_actions(briefing: Briefing, indicator_id: Any) -> list[dict]:
    """Planned and active actions that list the indicator in ``linked_indicators``."""
    actions = briefing.actions
    if actions.empty:
        return []
    linked = actions["linked_indicators"].map(lambda ids: str(indicator_id) in [str(i) for i in ids or []])
    mine = actions[linked & actions["status"].isin(CURRENT_STATUSES)]
    mine = mine.assign(_order=mine["status"].map(STATUS_ORDER)).sort_values(["_order", "action_id"])
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


# --- what changed ------------------------------------------------------------------
def changes_context(briefing: Briefing) -> dict:
    """New data, indicators whose comparison with England changed, and emerging themes.

    With last month's ``summary.json`` the comparison is with what that briefing
    said; without it (a first briefing) nothing is called new, and changes of
    comparison are those since the previous data period.
    """
    summary = briefing.indicators
    previous = {}
    if briefing.previous_summary:
        previous = {
            (item["indicator_id"], item["sex"], item["age"]): item
            for item in briefing.previous_summary.get("indicators", [])
        }
    new_data, changed = [], []
    for row in summary.to_dict("records"):
        key = (int(row["indicator_id"]), row["sex"], row["age"])
        before = previous.get(key)
        if previous:
            if before is None or before["period"] != row["period"]:
                new_data.append({"indicator_name": series_label(row), "period": row["period"]})
            was = before["compared_to_england"] if before else None
            was_period = before["period"] if before else None
        else:
            was = _text(row["previous_compared_to_england"])
            was_period = _text(row["previous_period"])
        now = row["compared_to_england"]
        if was and now != was and "Not compared" not in (now, was):
            changed.append({
                "indicator_name": series_label(row),
                "period": row["period"],
                "previous_period": was_period or "the previous period",
                "compared_to_england": now,
                "previous_compared_to_england": was,
            })
    recent = contributions_this_month(briefing)
    return {
        "area_name": briefing.area_name,
        "first_briefing": briefing.first_briefing,
        "new_data": new_data,
        "changed_significance": changed,
        "emerging_themes": emerging_themes(briefing),
        "new_contributions": _quotable_rows(briefing, recent.head(NEW_CONTRIBUTIONS_SHOWN), recent),
        "new_contributions_total": int(len(recent)),
        "has_voices": not briefing.voices.empty,
        "suppress_below": briefing.suppress_below,
    }


def contributions_this_month(briefing: Briefing) -> pd.DataFrame:
    """Contributions (not poll statements) made in the reporting month, newest first."""
    contributions = briefing.voices.contributions
    created = pd.to_datetime(contributions["created_at"], utc=True, errors="coerce")
    month = created.dt.strftime("%Y-%m") == briefing.period
    recent = contributions[month.fillna(False).to_numpy(bool)].assign(_created=created[month.fillna(False)])
    return recent.sort_values("_created", ascending=False, kind="stable").drop(columns="_created")


def emerging_themes(briefing: Briefing) -> list[dict]:
    """Themes the strategy does not name yet, found in what partners said (largest first),
    each named by its most representative phrase."""
    themes = briefing.voices.themes
    found = themes[(themes["origin"] == "discovered") & (themes["size"] > 0)
                   & (themes["theme"] != "discovered-other")]
    found = published_themes(found, briefing.suppress_below)
    items = []
    for row in found.to_dict("records"):
        quotes = quotable(briefing, row, limit=1)
        items.append({"title": row["label"], "count": row["published_size"],
                      "quote": quotes[0] if quotes else None})
    return items


# --- quotes: never from a group whose count is hidden ----------------------------------
def _group_of(sector: Any) -> str:
    text = _text(sector)
    return text if text and text.strip() else "unknown"


def _sector_of(briefing: Briefing, contribution_id: str) -> str | None:
    contributions = briefing.voices.contributions
    match = contributions.loc[contributions["contribution_id"].astype(str) == str(contribution_id), "sector"]
    return None if match.empty else _text(match.iloc[0])


def quotable(briefing: Briefing, theme_row: dict, limit: int = QUOTES_PER_THEME) -> list[dict]:
    """A published theme's quotes (most representative first), only from sectors whose count
    beside it is shown: a quote attributed to "a local business" under a business count of
    "fewer than 5" would say what the suppression hides. None when the theme's own count is
    hidden."""
    if not isinstance(theme_row["published_size"], int):
        return []
    shown = theme_row["sectors"]
    quotes = []
    for contribution_id, text in list(theme_row["quotes"]):
        sector = _sector_of(briefing, contribution_id)
        count = shown.get(_group_of(sector))
        if isinstance(count, int) and count >= briefing.suppress_below:
            quotes.append(narrative.make_quote(text, sector, max_chars=400))
        if len(quotes) == limit:
            break
    return quotes


def _quotable_rows(briefing: Briefing, rows: pd.DataFrame, every: pd.DataFrame) -> list[dict]:
    """Quotes of ``rows`` whose sector has at least ``suppress_below`` contributions in ``every``."""
    counts = Counter(_group_of(sector) for sector in every["sector"])
    return [
        narrative.make_quote(row["text"], _text(row["sector"]), max_chars=400)
        for row in rows.to_dict("records")
        if counts[_group_of(row["sector"])] >= briefing.suppress_below
    ]


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
    return [{"status": s, "count": counts[s]} for s in STATUS_ORDER if counts[s]]


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
        briefing.figures[("themes", objective)] = narrative.chart_figure(chart)
    return briefing.figures[("themes", objective)]


def queue_network_chart(briefing: Briefing) -> None:
    """Build the network of actions now (the slowest chart to draw, about twice a trend
    chart), so it is drawn in the background while the voices are read and analysed. Needs
    only the briefing's connections."""
    if len(briefing.connections.edges):
        _network_figure(briefing)


def queue_voices_charts(briefing: Briefing) -> None:
    """Build the theme charts and the opinion map now, so they are drawn (in the background)
    while the gaps, coverage and texts are worked out. Needs only the briefing's voices."""
    if briefing.voices.opinion is not None:
        _opinion_figure(briefing)
    for objective in briefing.objectives:
        mine = _objective_themes(briefing, _theme_ids(briefing, objective))
        if len(mine):
            _theme_figure(briefing, objective, mine)


def published_themes(themes: pd.DataFrame, suppress_below: int) -> pd.DataFrame:
    """Themes with their counts made safe to publish: ``sectors`` withheld as
    :func:`hwb_toolkit.narrative.withhold_small_parts` says (texts for withheld
    parts, which charts draw together as "not shown"), ``size`` missing when it is a
    small count, and ``published_size`` the size as the text shows it."""
    out = themes.copy()
    out["sectors"] = [
        narrative.withhold_small_parts(dict(sectors), suppress_below) for sectors in out["sectors"]
    ]
    out["published_size"] = [narrative.suppress_small(int(n), suppress_below) for n in out["size"]]
    out["size"] = out["size"].where((out["size"] == 0) | (out["size"] >= suppress_below))
    return out


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
    mine = mine.assign(order=mine["status"].map(STATUS_ORDER)).sort_values(["order", "action_id"])
    listed, elsewhere = [], []
    for r in mine.to_dict("records"):
        home = first_objective(r)
        entry = {"title": r["title"], "lead_org": r["lead_org"], "status": r["status"],
                 "listed_under": next(o.title for o in briefing.strategy.objectives if o.id == home)
                 if home else ""}
        (listed if home in (objective, None) else elsewhere).append(entry)
    return listed, elsewhere


def _theme_links(briefing: Briefing, theme: str) -> list[dict]:
    """What is being done on ``theme``, from :attr:`Briefing.theme_links` (the table
    "you said, we did" reads too): title, status and whether it answers partners."""
    links = briefing.theme_links
    if links is None or links.empty:
        return []
    mine = links[(links["theme"] == theme) & (links["status"] != "stopped")]
    return [{"action_id": r["action_id"], "title": r["title"], "status": r["status"],
             "answers": bool(r["answers"])} for r in mine.to_dict("records")]


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
    return narrative.render("gap", **context).strip()


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


# --- consensus and division --------------------------------------------------------
def _statement_texts(briefing: Briefing) -> dict[str, str]:
    statements = briefing.voices.statements
    return dict(zip(statements["contribution_id"].astype(str), statements["text"].astype(str), strict=True))


def _consensus_entries(briefing: Briefing, items: list[str], share: str) -> list[dict]:
    """Poll statements with their share agreeing (or disagreeing) and their number of voters."""
    if not items:
        return []
    texts = _statement_texts(briefing)
    poll = briefing.voices.poll.set_index("item")
    return [
        {"text": texts.get(item, item), share: float(poll.at[item, share]),
         "voters": int(poll.at[item, "votes"])}
        for item in items
    ]


def agreed_statements(briefing: Briefing) -> list[dict]:
    """Polis' majority-consensus "agree" statements, best first (``text, agree_share, voters``)."""
    return _consensus_entries(briefing, briefing.voices.consensus_agree, "agree_share")


def divisive_entries(briefing: Briefing) -> list[dict]:
    """The statements that divide the opinion groups most, with each group's share agreeing."""
    voices = briefing.voices
    if not len(voices.divisive):
        return []
    texts = _statement_texts(briefing)
    group_columns = [c for c in voices.divisive.columns if c.startswith("p_agree_")]
    return [
        {"text": texts.get(row["item"], row["item"]),
         "groups": [{"name": f"Group {chr(65 + int(c.removeprefix('p_agree_')))}", "agree_share": float(row[c])}
                    for c in group_columns]}
        for row in voices.divisive.head(3).to_dict("records")
    ]


def consensus_context(briefing: Briefing) -> dict:
    """Statements most agreed and disagreed with (Polis' majority consensus) and the most
    divisive, besides the two the first part already quotes."""
    voices = briefing.voices
    # The first part quotes the most agreed statement (and the next when the headline has
    # the first) and the most divisive one: they are not repeated here.
    agreed = agreed_statements(briefing)[2 if _headline_quotes_consensus(briefing) else 1:]
    disagreed = _consensus_entries(briefing, voices.consensus_disagree, "disagree_share")
    context: dict[str, Any] = {
        "has_poll": bool(len(voices.poll)),
        "agreed": agreed[:STATEMENTS_SHOWN],
        "agreed_more": agreed[STATEMENTS_SHOWN:],
        "disagreed": disagreed[:STATEMENTS_SHOWN],
        "disagreed_more": disagreed[STATEMENTS_SHOWN:],
        "divisive": divisive_entries(briefing)[1:],
        "suppress_below": briefing.suppress_below,
    }
    if voices.opinion is not None:
        context["participants"] = int(voices.opinion.coordinates.shape[0])
        figure = _opinion_figure(briefing)
        context["chart_svg"], context["chart_alt"] = figure["chart_svg"], figure["chart_alt"]
        context["chart_caption"] = figure["chart_caption"]
    return context


def _opinion_figure(briefing: Briefing) -> dict:
    """The opinion map of the poll (needs ``voices.opinion``), built once per briefing."""
    if ("opinion",) not in briefing.figures:
        voices = briefing.voices
        # Without the consensus statements under its title: the section lists them.
        briefing.figures[("opinion",)] = narrative.chart_figure(
            charts.opinion_map(voices.opinion.coordinates, voices.opinion.groups)
        )
    return briefing.figures[("opinion",)]


# --- you said, we did ----------------------------------------------------------------
def loop_rows(briefing: Briefing) -> list[dict]:
    """The things partners voted for most, each with whether it is answered and every action
    on it (:attr:`Briefing.theme_links` for a theme; the actions responding to it otherwise)."""
    rows = []
    actions = briefing.actions.set_index("action_id") if not briefing.actions.empty else None
    for item in briefing.loop.items.to_dict("records"):
        theme = _text(item["theme"])
        on = _theme_links(briefing, theme) if theme else []
        if not on and actions is not None:
            on = [{"action_id": a, "title": actions.at[a, "title"], "status": actions.at[a, "status"],
                   "answers": True} for a in item["action_ids"] if a in actions.index]
        on = sorted(on, key=lambda a: (not (a["answers"] and a["status"] in ANSWERED_STATUSES),
                                       STATUS_ORDER.get(a["status"], 9), a["action_id"]))
        rows.append({
            "item": str(item["item"]),
            "said": str(item["label"]),
            "score": float(item["score"]),
            "answered": bool(item["answered"]),
            "actions": [{"title": a["title"], "status": a["status"],
                         "answers": a["answers"] and a["status"] in ANSWERED_STATUSES} for a in on],
            "action_ids": [a["action_id"] for a in on],
        })
    return rows


def loop_context(briefing: Briefing) -> dict:
    numbers = briefing.numbers["loop"]
    return {"rows": numbers["rows"], "answered": numbers["answered"], "items": numbers["items"],
            "suppress_below": briefing.suppress_below}


# --- suggested conversations ----------------------------------------------------------
def conversation_reason(theme_title: str) -> str:
    """Why two organisations should talk, in words: they work on the same theme apart."""
    return f"both work on {theme_title} but share no action yet"


def conversations_context(briefing: Briefing) -> dict:
    """Organisations on the same theme with no shared action: one suggestion per pair."""
    suggestions = briefing.connections.suggestions.drop_duplicates(["org_a", "org_b"])
    context: dict[str, Any] = {
        "has_actions": not briefing.actions.empty,
        "conversations": [
            {"org_a": r["org_a"], "org_b": r["org_b"], "reason": conversation_reason(r["theme_title"])}
            for r in suggestions.head(CONVERSATIONS_SHOWN).to_dict("records")
        ],
        "suppress_below": briefing.suppress_below,
    }
    if len(briefing.connections.edges):
        figure = _network_figure(briefing)
        context["chart_svg"], context["chart_alt"] = figure["chart_svg"], figure["chart_alt"]
        context["chart_caption"] = figure["chart_caption"]
    return context


def _network_figure(briefing: Briefing) -> dict:
    """The network of organisations and shared actions, built once per briefing."""
    if ("network",) not in briefing.figures:
        nodes = briefing.connections.nodes
        briefing.figures[("network",)] = narrative.chart_figure(
            charts.network_chart(nodes[nodes["n_actions"] > 0], briefing.connections.edges)
        )
    return briefing.figures[("network",)]


# --- data notes --------------------------------------------------------------------
def data_notes_context(briefing: Briefing) -> dict:
    summary = briefing.indicators
    suppressed = summary[summary["value"].isna()]
    sources = [{
        "name": "Public health indicators",
        "detail": (
            f"{summary['indicator_id'].nunique()} indicators in the Fingertips format "
            f"(Office for Health Improvement and Disparities), latest periods "
            f"{narrative.join_list(sorted(summary['period'].unique()))}."
        ),
    }]
    for source, count in briefing.voices.contributions["source"].value_counts().sort_index().items():
        sources.append({"name": str(source), "detail": f"{narrative.suppress_small(int(count), briefing.suppress_below)} contributions."})
    if len(briefing.voices.statements):
        sources.append({"name": "Agree/disagree poll",
                        "detail": f"{len(briefing.voices.statements)} statements; votes analysed the Polis way."})
    if not briefing.actions.empty:
        sources.append({"name": "Actions register", "detail": f"{len(briefing.actions)} actions in the shared store."})
    return {
        "sources": sources,
        "methods": narrative_methods(),
        "suppressed": [{"indicator_name": series_label(r), "period": r["period"]} for r in suppressed.to_dict("records")],
        "suppress_below": briefing.suppress_below,
    }


def narrative_methods() -> list[str]:
    return [
        "Confidence intervals: Wilson score for proportions; exact Poisson below 10 events and "
        "Byar's method otherwise for rates; Dobson's method for directly standardised rates.",
        "Comparisons with England use the 95% confidence interval: 'significantly better' or "
        "'worse' means the interval does not include England's value.",
        "Recent trends follow Fingertips' method on the last five points: a chi-squared test for "
        "trend on counts for proportions, a weighted regression otherwise, significant at the 99.8% level.",
        "Themes: contributions are filed under the strategy's themes by their keywords and phrases "
        "(whole words, with plurals), under each theme whose keywords they use as much; further "
        "themes are found with TF-IDF and non-negative matrix factorisation and named by the phrase "
        "their contributions share. Quotes are verbatim, and only from groups whose count is shown.",
        "Consensus and division: Polis' method (PCA of the vote matrix, k-means groups chosen by "
        "silhouette, Polis' consensus and representativeness tests).",
    ]


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
#: the first part (title to glance), then the rest. tests/test_briefing_story.py checks the
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


def render_briefing(briefing: Briefing) -> str:
    """Every section of the briefing as HTML, in the notebook's order (the page's body
    without the report's frame and contents): what tests and checks read."""
    return "\n".join(
        narrative.render(section, **section_context(briefing, section, **extra))
        for section, extra in briefing_parts(briefing)
    )


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


def render_section(briefing: Briefing, section: str, **extra: Any):
    """One section as an ``IPython.display.HTML`` object, from its template."""
    context = briefing.prepared_sections.pop(_prepared_key(section, extra), None)
    if context is None:
        context = section_context(briefing, section, **extra)
    return narrative.show(section, **context)
