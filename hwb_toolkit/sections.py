"""The briefing's sections: from a :class:`~hwb_toolkit.briefing.Briefing` to template contexts.

Each ``*_context`` function turns the briefing's tables into the plain dicts a
template in ``templates/`` expects (documented at the top of each template),
with charts already rendered to SVG. Wording lives in the templates, numbers
in :mod:`hwb_toolkit.narrative`, statistics in the engines: this module only
chooses what to show and in what order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwb_toolkit import charts, narrative
from hwb_toolkit.briefing import BETTER_LABELS, WORSE_LABELS, area_series
from hwb_toolkit.prepared import series_label
from hwb_toolkit.schema import ENGLAND_CODE

if TYPE_CHECKING:
    from hwb_toolkit.briefing import Briefing

#: How many headline items, suggested conversations, statements... a section shows.
HEADLINE_ITEMS = 3
CONVERSATIONS_SHOWN = 5
STATEMENTS_SHOWN = 5
QUOTES_PER_THEME = 2
NEW_CONTRIBUTIONS_SHOWN = 10

_STATUS_ORDER = {"active": 0, "planned": 1, "done": 2, "idea": 3, "stopped": 4}


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


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
        chart = charts.trend_chart(
            area,
            england[["period", "period_sortable", "value"]],
            title=f"{series_label(row)}: {briefing.area_name} and England",
            y_title=_axis_title(row["unit"]),
        )
        briefing.figures[key] = narrative.chart_figure(chart)
    return briefing.figures[key]


def queue_indicator_charts(briefing: Briefing) -> None:
    """Build the spine chart and every trend chart now, so they are drawn (in the background)
    while the rest of the briefing is analysed. Needs only the briefing's indicator tables."""
    _glance_figure(briefing)
    for row in briefing.indicators.to_dict("records"):
        if _text(row.get("objective")) is not None:  # objective_context shows only these
            _trend_figure(briefing, row)


def _axis_title(unit: str) -> str:
    return {"%": "Per cent", "": "Number", "number": "Value"}.get(unit, unit.capitalize())


# --- title and at a glance ---------------------------------------------------------
def title_context(briefing: Briefing) -> dict:
    return {
        "area_name": briefing.area_name,
        "area_code": briefing.area_code,
        "period": briefing.period,
        "partnership_name": briefing.strategy.name,
        "vision": briefing.strategy.vision.strip(),
    }


def glance_context(briefing: Briefing) -> dict:
    """The spine chart of every indicator against England and the range of areas."""
    persons = _glance_persons(briefing)
    labels = persons["compared_to_england"]  # the rows the chart shows, so words and chart agree
    return {
        "counts": {
            "better": int(labels.isin(BETTER_LABELS).sum()),
            "worse": int(labels.isin(WORSE_LABELS).sum()),
            "similar": int((labels == "Similar").sum()),
            "other": int((~labels.isin(BETTER_LABELS | WORSE_LABELS | {"Similar"})).sum()),
            "total": int(len(labels)),
        },
        **_glance_figure(briefing),
    }


def _glance_persons(briefing: Briefing) -> pd.DataFrame:
    summary = briefing.indicators
    return summary[summary["sex"] == "Persons"].drop_duplicates("indicator_id")


def _glance_figure(briefing: Briefing) -> dict:
    """The spine chart, built once per briefing."""
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
        latest[latest["sex"] == "Persons"].drop_duplicates(["indicator_id", "area_code"]),
        area_type=area_type,
    )
    chart = charts.spine_chart(_glance_persons(briefing), distribution, area_name=briefing.area_name,
                               title=f"{briefing.area_name} compared with England")
    briefing.figures[("glance",)] = narrative.chart_figure(chart)
    return briefing.figures[("glance",)]


# --- headline ------------------------------------------------------------------------
def headline_items(briefing: Briefing) -> list[dict]:
    """The three things that matter most this month, most pressing first.

    Candidates are scored so that a significantly worse indicator that is also
    getting worse outranks one that is merely worse, and a change of
    significance outranks steady news; among equals, the indicator furthest
    from England (relative difference) comes first. Partners' top priority
    (more pressing when nothing answers it) and their clearest consensus
    compete with the data. At most one item per kind of news and at most two
    from the data, so partners' voice is heard in the headline when there is any.
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
    for score, _, kind, row in sorted(candidates, key=lambda c: (-c[0], -c[1], c[3]["indicator_id"])):
        if kind in taken:
            continue
        taken.add(kind)
        title = {
            "worse": f"{series_label(row)}: worse than England",
            "changed": f"{series_label(row)}: " + (
                "a change since the last figures" if row["significance_changed"] else "getting worse"
            ),
            "better": f"{series_label(row)}: good news",
        }[kind]
        data_items.append((score, {"title": title, "text": indicator_sentence(briefing, row)}))

    voice_items: list[tuple[float, dict]] = []
    loop = briefing.loop.items
    if len(loop):
        top = loop.iloc[0]
        actions = _action_titles(briefing, top["action_ids"], only_answering=True)
        text = narrative.render(
            "headline_priority",
            label=top["label"],
            score=float(top["score"]),
            answered=bool(top["answered"]),
            actions=actions,
        )
        title = f"Partners' top priority: {top['label']}"
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


def _relative_distance(value: Any, benchmark: Any) -> float:
    """|value - benchmark| / |benchmark|, 0 when either is missing or the benchmark is 0."""
    if value is None or benchmark is None or pd.isna(value) or pd.isna(benchmark) or benchmark == 0:
        return 0.0
    return abs(float(value) - float(benchmark)) / abs(float(benchmark))


def headline_context(briefing: Briefing) -> dict:
    return {"items": headline_items(briefing)}


# --- what changed ------------------------------------------------------------------
def changes_context(briefing: Briefing) -> dict:
    """New data, indicators whose comparison with England changed, and emerging themes.

    With last month's ``summary.json`` the comparison is with what that briefing
    said; without it, with the previous data period and Fingertips' "New data" flag.
    """
    summary = briefing.indicators
    previous = {}
    if briefing.previous_summary:
        previous = {
            (item["indicator_id"], item["sex"], item["age"]): item
            for item in briefing.previous_summary.get("indicators", [])
        }
    data = briefing.indicator_data
    flagged = data[(data["area_code"] == briefing.area_code) & data["new_data"].fillna(False).astype(bool)]
    flagged_keys = set(zip(flagged["indicator_id"], flagged["sex"], flagged["age"], flagged["period"], strict=True))

    new_data, changed = [], []
    for row in summary.to_dict("records"):
        key = (int(row["indicator_id"]), row["sex"], row["age"])
        before = previous.get(key)
        if previous:
            is_new = before is None or before["period"] != row["period"]
            was = before["compared_to_england"] if before else None
            was_period = before["period"] if before else None
        else:
            is_new = (*key, row["period"]) in flagged_keys
            was = _text(row["previous_compared_to_england"])
            was_period = _text(row["previous_period"])
        if is_new:
            new_data.append({"indicator_name": series_label(row), "period": row["period"],
                             "sentence": indicator_sentence(briefing, row)})
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
        "new_data": new_data,
        "changed_significance": changed,
        "emerging_themes": emerging_themes(briefing),
        "new_contributions": [
            narrative.make_quote(row["text"], _text(row["sector"]), max_chars=400)
            for row in recent.head(NEW_CONTRIBUTIONS_SHOWN).to_dict("records")
        ],
        "new_contributions_total": int(len(recent)),
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
    """Themes the strategy does not name yet, found in what partners said (largest first)."""
    themes = briefing.voices.themes
    found = themes[(themes["origin"] == "discovered") & (themes["size"] > 0)]
    return [
        {
            "title": f"A new theme: {narrative.join_list(list(row['top_terms'])[:3])}",
            "count": int(row["size"]),
            "detail": _first_quote(briefing, row["quotes"]),
        }
        for row in found.to_dict("records")
    ]


def _first_quote(briefing: Briefing, quotes) -> str:
    for contribution_id, text in list(quotes)[:1]:
        sector = _sector_of(briefing, contribution_id)
        quote = narrative.make_quote(text, sector, max_chars=240)
        return f"\u201c{quote['text']}\u201d ({quote['attribution']})"
    return ""


def _sector_of(briefing: Briefing, contribution_id: str) -> str | None:
    contributions = briefing.voices.contributions
    match = contributions.loc[contributions["contribution_id"].astype(str) == str(contribution_id), "sector"]
    return None if match.empty else _text(match.iloc[0])


# --- objectives ---------------------------------------------------------------------
def objective_context(briefing: Briefing, objective: str) -> dict:
    """One objective: its indicators with charts, what partners said, actions and gaps."""
    strategy = briefing.strategy
    spec = next(o for o in strategy.objectives if o.id == objective)
    theme_ids = _theme_ids(briefing, objective)
    rows = briefing.indicators[briefing.indicators["objective"] == objective].to_dict("records")
    indicators = []
    for row in rows:
        figure = _trend_figure(briefing, row)
        indicators.append({
            "name": series_label(row),
            "sentence": indicator_sentence(briefing, row),
            "chart_svg": figure["chart_svg"],
            "chart_alt": figure["chart_alt"],
        })

    mine = _objective_themes(briefing, theme_ids)
    theme_items = []
    for row in mine.sort_values("size", ascending=False, kind="stable").to_dict("records"):
        sectors = sorted(((s, n) for s, n in row["sectors"].items() if s != "unknown"),
                         key=lambda pair: (isinstance(pair[1], str), -_number_or_zero(pair[1]), pair[0]))
        theme_items.append({
            "title": row["label"],
            "count": row["published_size"],
            "by_sector": [{"sector": s, "count": n} for s, n in sectors],
            "quotes": [
                narrative.make_quote(text, _sector_of(briefing, cid), max_chars=400)
                for cid, text in list(row["quotes"])[:QUOTES_PER_THEME]
            ],
        })
    context = {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description or "",
        "indicators": indicators,
        "themes": theme_items,
        "actions": _objective_actions(briefing, objective, theme_ids),
        "gaps": [{"detail": text} for text in gap_sentences(briefing, objective)],
    }
    if len(mine):
        figure = _theme_figure(briefing, objective, mine)
        context["voices_chart_svg"] = figure["chart_svg"]
        context["voices_chart_alt"] = figure["chart_alt"]
    return {"objective": context, "suppress_below": briefing.suppress_below}


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
        briefing.figures[("themes", objective)] = narrative.chart_figure(charts.theme_chart(mine))
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
    parts, which charts leave undrawn), ``size`` missing when it is a small
    count, and ``published_size`` the size as the text shows it."""
    out = themes.copy()
    out["sectors"] = [
        narrative.withhold_small_parts(dict(sectors), suppress_below) for sectors in out["sectors"]
    ]
    out["published_size"] = [narrative.suppress_small(int(n), suppress_below) for n in out["size"]]
    out["size"] = out["size"].where((out["size"] == 0) | (out["size"] >= suppress_below))
    return out


def _number_or_zero(value: Any) -> float:
    return 0.0 if isinstance(value, str) else float(value)


def _objective_actions(briefing: Briefing, objective: str, theme_ids: list[str]) -> list[dict]:
    actions = briefing.actions
    if actions.empty:
        return []
    on_objective = actions["objectives"].map(lambda ids: objective in ids) | actions["themes"].map(
        lambda ids: bool(set(ids) & set(theme_ids))
    )
    mine = actions[on_objective & (actions["status"] != "stopped")]
    mine = mine.assign(order=mine["status"].map(_STATUS_ORDER)).sort_values(["order", "action_id"])
    return [{"title": r["title"], "lead_org": r["lead_org"], "status": r["status"]}
            for r in mine.to_dict("records")]


def _theme_action_titles(briefing: Briefing, theme: str | None) -> list[str]:
    """Titles of planned or active actions that name ``theme``."""
    actions = briefing.actions
    if theme is None or actions.empty:
        return []
    on_theme = actions["themes"].map(lambda ids: theme in ids) & actions["status"].isin(["planned", "active"])
    return list(actions.loc[on_theme].sort_values("action_id")["title"])


def _action_titles(briefing: Briefing, action_ids, *, only_answering: bool = False) -> list[dict]:
    actions = briefing.actions.set_index("action_id")
    found = []
    for action_id in action_ids:
        if action_id not in actions.index:
            continue
        status = actions.at[action_id, "status"]
        if only_answering and status not in {"planned", "active", "done"}:
            continue
        found.append({"title": actions.at[action_id, "title"], "status": status})
    return found


def gap_sentences(briefing: Briefing, objective: str) -> list[str]:
    """Plain-English sentences for the gaps the whole-system engine found in one objective."""
    strategy = briefing.strategy
    theme_objective = {theme.id: theme.objective for theme in strategy.themes}
    theme_title = {theme.id: theme.title for theme in strategy.themes}
    sentences = []
    for gap in briefing.gaps.to_dict("records"):
        belongs = gap["objective"] == objective or theme_objective.get(_text(gap["theme"]) or "") == objective
        if not belongs:
            continue
        context: dict[str, Any] = {"kind": gap["kind"], "label": gap["label"]}
        if gap["kind"] == "indicator_without_action":
            rows = briefing.indicators[briefing.indicators["indicator_id"].astype(str) == str(gap["item"])]
            row = rows.iloc[0]
            theme = _text(row["theme"])
            context.update(
                indicator_name=row["indicator_name"],
                comparison=row["compared_to_england"],
                trend=_text(row["recent_trend"]) or "",
                theme_title=theme_title.get(theme or "", ""),
                candidates=_theme_action_titles(briefing, theme)[:3],
            )
        elif gap["kind"] == "voted_theme_without_action":
            context.update(theme_title=theme_title.get(gap["item"], gap["label"]), score=float(gap["score"]))
        elif gap["kind"] == "single_sector_objective":
            sectors = set()
            for org in _objective_orgs(briefing, objective):
                sector = strategy.sector_of(org)
                if sector:
                    sectors.add(sector)
            context.update(sector=next(iter(sectors), "other"))
        sentences.append(narrative.render("gap", **context).strip())
    return sentences


def _objective_orgs(briefing: Briefing, objective: str) -> set[str]:
    theme_ids = _theme_ids(briefing, objective)
    actions = briefing.actions
    current = actions[actions["status"].isin(["planned", "active"])]
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
        for item in items[:STATEMENTS_SHOWN]
    ]


def agreed_statements(briefing: Briefing) -> list[dict]:
    """Polis' majority-consensus "agree" statements, best first (``text, agree_share, voters``)."""
    return _consensus_entries(briefing, briefing.voices.consensus_agree, "agree_share")


def consensus_context(briefing: Briefing) -> dict:
    """Statements most agreed and disagreed with (Polis' majority consensus) and the most divisive."""
    voices = briefing.voices
    texts = _statement_texts(briefing)
    agreed = agreed_statements(briefing)
    disagreed = _consensus_entries(briefing, voices.consensus_disagree, "disagree_share")
    divisive = []
    if len(voices.divisive):
        group_columns = [c for c in voices.divisive.columns if c.startswith("p_agree_")]
        for row in voices.divisive.head(3).to_dict("records"):
            divisive.append({
                "text": texts.get(row["item"], row["item"]),
                "groups": [{"name": f"Group {chr(65 + int(c.removeprefix('p_agree_')))}", "agree_share": float(row[c])}
                           for c in group_columns],
            })
    context: dict[str, Any] = {
        "agreed": agreed,
        "disagreed": disagreed,
        "divisive": divisive,
        "suppress_below": briefing.suppress_below,
    }
    if voices.opinion is not None:
        context["participants"] = int(voices.opinion.coordinates.shape[0])
        figure = _opinion_figure(briefing)
        context["chart_svg"], context["chart_alt"] = figure["chart_svg"], figure["chart_alt"]
    return context


def _opinion_figure(briefing: Briefing) -> dict:
    """The opinion map of the poll (needs ``voices.opinion``), built once per briefing."""
    if ("opinion",) not in briefing.figures:
        voices = briefing.voices
        texts = _statement_texts(briefing)
        briefing.figures[("opinion",)] = narrative.chart_figure(
            charts.opinion_map(voices.opinion.coordinates, voices.opinion.groups,
                               [texts.get(item, item) for item in voices.consensus_agree[:2]])
        )
    return briefing.figures[("opinion",)]


# --- you said, we did ----------------------------------------------------------------
def loop_context(briefing: Briefing) -> dict:
    rows = []
    for item in briefing.loop.items.to_dict("records"):
        rows.append({
            "said": item["label"],
            "score": float(item["score"]),
            "answered": bool(item["answered"]),
            "actions": _action_titles(briefing, item["action_ids"]),
        })
    share = briefing.loop.share_answered
    return {"rows": rows, "share_answered": None if pd.isna(share) else float(share),
            "suppress_below": briefing.suppress_below}


# --- suggested conversations ----------------------------------------------------------
def conversations_context(briefing: Briefing) -> dict:
    """Organisations on the same theme with no shared action: one suggestion per pair."""
    suggestions = briefing.connections.suggestions.drop_duplicates(["org_a", "org_b"])
    context: dict[str, Any] = {
        "conversations": [
            {"org_a": r["org_a"], "org_b": r["org_b"],
             "reason": f"both work on {r['theme_title']} but share no action yet"}
            for r in suggestions.head(CONVERSATIONS_SHOWN).to_dict("records")
        ],
        "suppress_below": briefing.suppress_below,
    }
    if len(briefing.connections.edges):
        figure = _network_figure(briefing)
        context["chart_svg"], context["chart_alt"] = figure["chart_svg"], figure["chart_alt"]
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
        "Themes: contributions are tagged with the strategy's keywords; further themes are found "
        "with TF-IDF and non-negative matrix factorisation. Quotes are verbatim.",
        "Consensus and division: Polis' method (PCA of the vote matrix, k-means groups chosen by "
        "silhouette, Polis' consensus and representativeness tests).",
    ]


# --- dispatch ------------------------------------------------------------------------
SECTIONS: dict[str, Callable[..., dict]] = {
    "title": title_context,
    "glance": glance_context,
    "headline": headline_context,
    "changes": changes_context,
    "objective": objective_context,
    "consensus": consensus_context,
    "loop": loop_context,
    "conversations": conversations_context,
    "data_notes": data_notes_context,
}


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
