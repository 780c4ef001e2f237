"""Every count and list the briefing publishes, worked out once."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwb_toolkit.privacy import suppress_small, withhold_small_parts
from hwb_toolkit.schema import (
    ACTION_STATUS_ORDER,
    BETTER_LABELS,
    NOT_COMPARED,
    SIMILAR,
    WORSE_LABELS,
)
from hwb_toolkit.system.analysis import ANSWERED_STATUSES
from hwb_toolkit.text.quotes import make_quote

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


QUOTES_PER_THEME = 2


TOP_PRIORITIES = 3



def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


# --- the numbers, once ---------------------------------------------------------------
def comparison_counts(indicators: pd.DataFrame) -> dict:
    """How the briefing's figures (every row of its indicator summary) compare with England:
    ``total``, ``by_comparison`` (label -> count, in the table's order of labels) and
    ``better``, ``similar``, ``worse``, ``other`` (higher, lower, not compared)."""
    labels = indicators["compared_to_england"].fillna(NOT_COMPARED).astype(str)
    better, worse = int(labels.isin(BETTER_LABELS).sum()), int(labels.isin(WORSE_LABELS).sum())
    similar = int((labels == SIMILAR).sum())
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
    by_status = {status: int(statuses[status]) for status in ACTION_STATUS_ORDER if status in statuses}
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
            quotes.append(make_quote(text, sector, max_chars=400))
        if len(quotes) == limit:
            break
    return quotes


def _quotable_rows(briefing: Briefing, rows: pd.DataFrame, every: pd.DataFrame) -> list[dict]:
    """Quotes of ``rows`` whose sector has at least ``suppress_below`` contributions in ``every``."""
    counts = Counter(_group_of(sector) for sector in every["sector"])
    return [
        make_quote(row["text"], _text(row["sector"]), max_chars=400)
        for row in rows.to_dict("records")
        if counts[_group_of(row["sector"])] >= briefing.suppress_below
    ]


def published_themes(themes: pd.DataFrame, suppress_below: int) -> pd.DataFrame:
    """Themes with their counts made safe to publish: ``sectors`` withheld as
    :func:`hwb_toolkit.narrative.withhold_small_parts` says (texts for withheld
    parts, which charts draw together as "not shown"), ``size`` missing when it is a
    small count, and ``published_size`` the size as the text shows it."""
    out = themes.copy()
    out["sectors"] = [
        withhold_small_parts(dict(sectors), suppress_below) for sectors in out["sectors"]
    ]
    out["published_size"] = [suppress_small(int(n), suppress_below) for n in out["size"]]
    out["size"] = out["size"].where((out["size"] == 0) | (out["size"] >= suppress_below))
    return out


def _theme_links(briefing: Briefing, theme: str) -> list[dict]:
    """What is being done on ``theme``, from :attr:`Briefing.theme_links` (the table
    "you said, we did" reads too): title, status and whether it answers partners."""
    links = briefing.theme_links
    if links is None or links.empty:
        return []
    mine = links[(links["theme"] == theme) & (links["status"] != "stopped")]
    return [{"action_id": r["action_id"], "title": r["title"], "status": r["status"],
             "answers": bool(r["answers"])} for r in mine.to_dict("records")]


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
                                       ACTION_STATUS_ORDER.get(a["status"], 9), a["action_id"]))
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
