"""Who works with whom: :func:`connections`, the organisations that share actions and the
network they make (conventions in :mod:`hwb_toolkit.system.analysis`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hwb_toolkit.system.actions import check_register
from hwb_toolkit.system.analysis import (
    INVOLVED_STATUSES,
    _action_organisations,
    _action_themes,
    _join_ids,
    _sorted_names,
)
from hwb_toolkit.system.strategy import Strategy


@dataclass(frozen=True)
class Connections:
    """The organisation network and suggested conversations (see :func:`connections`)."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    suggestions: pd.DataFrame


def _ordered_pairs(left: pd.DataFrame, on: str) -> pd.DataFrame:
    """Self-join on ``on`` keeping each unordered pair of organisations once (rank_a < rank_b)."""
    pairs = left.merge(left, on=on, suffixes=("_a", "_b"))
    return pairs[pairs["rank_a"] < pairs["rank_b"]].reset_index(drop=True)


def connections(actions: pd.DataFrame, strategy: Strategy) -> Connections:
    """Who works with whom, and who should talk.

    Counts actions with a status in :data:`INVOLVED_STATUSES` (stopped ones are left out).

    - ``nodes``: organisation, sector ("unknown" when not in the stakeholder
      list), n_actions (as lead or partner), n_led. Every stakeholder is listed,
      with 0 when it has no action. Ordered by n_actions (most first), then name.
    - ``edges``: org_a, org_b (org_a before org_b by name, ignoring case),
      sector_a, sector_b, shared_actions (count), action_ids (sorted list).
      Ordered by shared_actions (most first), then names.
    - ``suggestions``: org_a, org_b, sector_a, sector_b, theme, theme_title,
      actions_a, actions_b (sorted lists), n_shared_themes, reason -- one row per
      theme on which both organisations have an action but they share no
      action at all, with the reason "both work on <theme title> (<org_a>:
      A03; <org_b>: A11) but share no action". Most useful first, each pair's
      rows together: pairs with more themes in common, then pairs across
      sectors, then pairs with more actions on those themes, then names; within
      a pair, themes with more actions first, then strategy order.
    """
    check_register(actions, strategy)
    organisations = _action_organisations(actions, strategy)
    organisations = organisations[organisations["status"].isin(INVOLVED_STATUSES)]

    everyone = pd.concat(
        [strategy.stakeholders_frame(), organisations[["organisation", "sector"]]],
        ignore_index=True,
    ).drop_duplicates("organisation")
    # One integer per organisation, in name order: pairs and sorting use it.
    names = _sorted_names(everyone["organisation"])
    rank = {name: position for position, name in enumerate(names)}
    organisations = organisations.assign(rank=organisations["organisation"].map(rank))

    counts = organisations.groupby("organisation").agg(
        n_actions=("action_id", "nunique"), n_led=("role", lambda r: int((r == "lead").sum()))
    )
    nodes = everyone.join(counts, on="organisation")
    for column in ("n_actions", "n_led"):
        # With no actions the join brings empty (text) columns: make them numbers first.
        nodes[column] = pd.to_numeric(nodes[column]).fillna(0).astype("int64")
    nodes["rank"] = nodes["organisation"].map(rank)
    nodes = nodes.sort_values(["n_actions", "rank"], ascending=[False, True], kind="stable")
    nodes = nodes.drop(columns="rank").reset_index(drop=True)
    nodes[["organisation", "sector"]] = nodes[["organisation", "sector"]].astype("str")

    pairs = _ordered_pairs(
        organisations[["action_id", "organisation", "sector", "rank"]].sort_values("action_id"),
        "action_id",
    )
    edges = (
        pairs.groupby(["organisation_a", "organisation_b"], sort=False)
        .agg(
            sector_a=("sector_a", "first"),
            sector_b=("sector_b", "first"),
            rank_a=("rank_a", "first"),
            rank_b=("rank_b", "first"),
            shared_actions=("action_id", "size"),
            action_ids=("action_id", list),
        )
        .reset_index()
        .rename(columns={"organisation_a": "org_a", "organisation_b": "org_b"})
    )
    edges = edges.sort_values(
        ["shared_actions", "rank_a", "rank_b"], ascending=[False, True, True], kind="stable"
    )
    edges = edges.drop(columns=["rank_a", "rank_b"]).reset_index(drop=True)
    edges["shared_actions"] = edges["shared_actions"].astype("int64")

    themes = _action_themes(actions, strategy)
    themes = themes[themes["status"].isin(INVOLVED_STATUSES)]
    on_theme = (
        themes[["action_id", "theme"]]
        .merge(organisations[["action_id", "organisation", "sector", "rank"]], on="action_id")
        .sort_values("action_id")
    )
    by_org_theme = (
        on_theme.groupby(["organisation", "sector", "rank", "theme"])["action_id"]
        .agg(list)
        .reset_index()
    )
    candidates = _ordered_pairs(by_org_theme, "theme")
    n_names = len(names)
    connected = edges["org_a"].map(rank) * n_names + edges["org_b"].map(rank)
    pair_key = candidates["rank_a"] * n_names + candidates["rank_b"]
    suggestions = candidates[~pair_key.isin(connected)].rename(
        columns={
            "organisation_a": "org_a",
            "organisation_b": "org_b",
            "action_id_a": "actions_a",
            "action_id_b": "actions_b",
        }
    )
    titles = {theme.id: theme.title for theme in strategy.themes}
    theme_order = {theme.id: n for n, theme in enumerate(strategy.themes)}
    suggestions["theme_title"] = suggestions["theme"].map(titles)
    suggestions["n_shared_themes"] = suggestions.groupby(["rank_a", "rank_b"])["theme"].transform(
        "size"
    )
    suggestions["cross_sector"] = suggestions["sector_a"] != suggestions["sector_b"]
    suggestions["n_theme_actions"] = (
        suggestions["actions_a"].str.len() + suggestions["actions_b"].str.len()
    )
    suggestions["n_pair_actions"] = suggestions.groupby(["rank_a", "rank_b"])[
        "n_theme_actions"
    ].transform("sum")
    suggestions["theme_order"] = suggestions["theme"].map(theme_order)
    # A pair's rows stay together: pair-level keys first, then themes within the pair.
    suggestions = suggestions.sort_values(
        [
            "n_shared_themes",
            "cross_sector",
            "n_pair_actions",
            "rank_a",
            "rank_b",
            "n_theme_actions",
            "theme_order",
        ],
        ascending=[False, False, False, True, True, False, True],
        kind="stable",
    )
    suggestions["reason"] = [
        f"both work on {title} ({a}: {_join_ids(ids_a)}; {b}: {_join_ids(ids_b)}) but share no action"
        for title, a, ids_a, b, ids_b in zip(
            suggestions["theme_title"].tolist(),
            suggestions["org_a"].tolist(),
            suggestions["actions_a"].tolist(),
            suggestions["org_b"].tolist(),
            suggestions["actions_b"].tolist(),
            strict=True,
        )
    ]
    columns = [
        "org_a",
        "org_b",
        "sector_a",
        "sector_b",
        "theme",
        "theme_title",
        "actions_a",
        "actions_b",
        "n_shared_themes",
        "reason",
    ]
    suggestions = suggestions[columns].reset_index(drop=True)
    suggestions["n_shared_themes"] = suggestions["n_shared_themes"].astype("int64")
    for frame, text_columns in (
        (edges, ["org_a", "org_b", "sector_a", "sector_b"]),
        (suggestions, ["org_a", "org_b", "sector_a", "sector_b", "theme", "theme_title", "reason"]),
    ):
        frame[text_columns] = frame[text_columns].astype("str")
    return Connections(nodes=nodes, edges=edges, suggestions=suggestions)
