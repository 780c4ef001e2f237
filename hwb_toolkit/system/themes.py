"""Which actions work on which themes."""

from __future__ import annotations

import pandas as pd

from hwb_toolkit.schema import ACTION_STATUS_ORDER
from hwb_toolkit.system.strategy import Strategy


def with_contribution_themes(actions: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The actions with ``responds_to`` completed by the themes of the contributions each
    responds to: an action that answers a post-it filed under "Loneliness and isolation"
    answers what partners said on loneliness (the themes engine's ``themes``, every theme
    the contribution sits under). Ids already listed stay first, in their order."""
    if actions.empty:
        return actions
    themes_of: dict[str, list[str]] = {}
    if len(assignments) and "themes" in assignments.columns:
        for contribution_id, themes in zip(assignments["contribution_id"].astype(str),
                                           assignments["themes"], strict=True):
            if isinstance(themes, list) and themes:
                themes_of[contribution_id] = themes
    completed = [
        list(dict.fromkeys([*targets, *(t for target in targets for t in themes_of.get(str(target), []))]))
        for targets in actions["responds_to"]
    ]
    return actions.assign(responds_to=pd.Series(completed, index=actions.index, dtype=object))


#: Columns of :func:`theme_action_links`.
THEME_LINK_COLUMNS = ["theme", "action_id", "title", "lead_org", "status", "answers"]


def theme_action_links(actions: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Which actions work on which of the strategy's themes: one row per (theme, action).

    An action works on a theme when it names it in ``themes`` or responds to it
    (``responds_to`` as completed by :func:`with_contribution_themes`); ``answers`` is
    True when it responds to it (what counts in "you said, we did", as in
    :func:`hwb_toolkit.system.loop_closure`). Columns :data:`THEME_LINK_COLUMNS`;
    themes in strategy order, then actions by status (under way first) and id.
    """
    rows = []
    theme_ids = [theme.id for theme in strategy.themes]
    for action in actions.to_dict("records"):
        named = set(action["themes"] or [])
        responds = set(action["responds_to"] or [])
        for theme_id in theme_ids:
            if theme_id in named or theme_id in responds:
                rows.append({"theme": theme_id, "action_id": action["action_id"], "title": action["title"],
                             "lead_org": action["lead_org"], "status": action["status"],
                             "answers": theme_id in responds})
    links = pd.DataFrame(rows, columns=THEME_LINK_COLUMNS)
    if links.empty:
        return links
    order = {theme_id: n for n, theme_id in enumerate(theme_ids)}
    links = links.assign(_t=links["theme"].map(order), _s=links["status"].map(ACTION_STATUS_ORDER))
    return links.sort_values(["_t", "_s", "action_id"], kind="stable").drop(columns=["_t", "_s"]).reset_index(drop=True)
