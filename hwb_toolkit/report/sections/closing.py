"""The rest of the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hwb_toolkit import charts
from hwb_toolkit.charts.figure import chart_figure
from hwb_toolkit.privacy import suppress_small
from hwb_toolkit.report.numbers import _consensus_entries, agreed_statements, divisive_entries
from hwb_toolkit.report.sections.first_part import _headline_quotes_consensus
from hwb_toolkit.text.labels import series_label
from hwb_toolkit.text.numbers import join_list

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


CONVERSATIONS_SHOWN = 5


STATEMENTS_SHOWN = 3


def queue_network_chart(briefing: Briefing) -> None:
    """Build the network of actions now (the slowest chart to draw, about twice a trend
    chart), so it is drawn in the background while the voices are read and analysed. Needs
    only the briefing's connections."""
    if len(briefing.connections.edges):
        _network_figure(briefing)


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
        briefing.figures[("opinion",)] = chart_figure(
            charts.opinion_map(voices.opinion.coordinates, voices.opinion.groups)
        )
    return briefing.figures[("opinion",)]


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
        briefing.figures[("network",)] = chart_figure(
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
            f"{join_list(sorted(summary['period'].unique()))}."
        ),
    }]
    for source, count in briefing.voices.contributions["source"].value_counts().sort_index().items():
        sources.append({"name": str(source), "detail": f"{suppress_small(int(count), briefing.suppress_below)} contributions."})
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
