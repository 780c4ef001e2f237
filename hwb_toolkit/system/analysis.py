"""Whole-system analyses: coverage, gaps, connections and "you said, we did".

Pure functions over the strategy (:class:`~hwb_toolkit.system.strategy.Strategy`)
and DataFrames in the canonical shapes (the actions register of
:mod:`hwb_toolkit.system.actions`, the indicator summary and the priorities
frame of INTERFACES.md). They read no files and change nothing they are given.

Conventions shared by all four (decisions, also stated where they apply):

- An action works toward an objective if it names the objective in
  ``objectives`` OR names one of the objective's themes in ``themes``.
- Statuses are grouped for three questions:
  :data:`CURRENT_STATUSES` (planned, active) answer "is anyone doing something
  about it now?" (gaps); :data:`ANSWERED_STATUSES` (planned, active, done)
  answer "was the voice answered?" (loop closure); :data:`INVOLVED_STATUSES`
  (every status but stopped) answer "who is involved?" (coverage's
  organisations and sectors, and the network of connections).
- Organisations are matched to the stakeholder list ignoring case and extra
  spaces and shown with the stakeholder list's spelling; an organisation not in
  the list has sector :data:`UNKNOWN_SECTOR` (``validate_actions`` warns about it).
- "Voted high" (gaps, loop closure): the items of the priorities frame whose
  score is positive and at least the score of the item ranked
  ``ceil(top_share * n)`` (n = items with a score; ties included). With the
  default ``top_share = 1/3`` that is the top tercile.
- Every analysis first checks the register
  (:func:`~hwb_toolkit.system.actions.check_register`: duplicate ids, unknown
  statuses, end before start and, given the strategy, objective and theme ids
  it does not define), so no action is silently miscounted or left out.
- Output order is deterministic: strategy order for objectives and themes,
  then scores, then ids / names (case-insensitive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import ACTION_STATUSES, SECTORS
from hwb_toolkit.system.actions import check_register
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.values import require_columns

#: Statuses that count as "something is being done about it now" (gaps).
CURRENT_STATUSES = ("planned", "active")


#: Statuses that count as an answer to a voice (loop closure).
ANSWERED_STATUSES = ("planned", "active", "done")


#: Statuses that count as an organisation being involved (coverage, connections).
INVOLVED_STATUSES = ("idea", "planned", "active", "done")


#: Best first: which status of several answering actions is reported.
STATUS_PREFERENCE = ("done", "active", "planned", "idea", "stopped")


#: Sector given to an organisation that is not in the stakeholder list.
UNKNOWN_SECTOR = "unknown"


_SECTOR_ORDER = {sector: position for position, sector in enumerate((*SECTORS, UNKNOWN_SECTOR))}


def _name_key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _sorted_names(names) -> list[str]:
    return sorted(set(names), key=lambda name: (_name_key(name), name))


def _join_ids(ids) -> str:
    return ", ".join(ids)


def _long(actions: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """(action_id, status, <name>) for each element of a list column, deduplicated.

    Elements are written as text; missing ones are left out. A cell that is not a list
    is one element, as with ``DataFrame.explode``.
    """
    # One pass in Python over the register's rows: the analyses of one briefing call this
    # about 25 times, and explode, dropna and drop_duplicates took 3 ms a call on 50 actions.
    first_status: dict[tuple, object] = {}
    for action_id, status, cell in zip(
        actions["action_id"], actions["status"], actions[column], strict=True
    ):
        for element in cell if pd.api.types.is_list_like(cell) else [cell]:
            if not pd.isna(element):
                first_status.setdefault((action_id, str(element)), status)
    return pd.DataFrame(
        {
            "action_id": pd.Series([key[0] for key in first_status], dtype=actions["action_id"].dtype),
            "status": pd.Series(list(first_status.values()), dtype=actions["status"].dtype),
            name: pd.Series([key[1] for key in first_status], dtype="str"),
        }
    )


def _action_organisations(actions: pd.DataFrame, strategy: Strategy | None) -> pd.DataFrame:
    """(action_id, status, organisation, sector, role): lead and partners, one row each."""
    lead = actions[["action_id", "status", "lead_org"]].rename(columns={"lead_org": "organisation"})
    lead = lead.assign(role="lead").dropna(subset=["organisation"])
    partners = _long(actions, "partner_orgs", "organisation").assign(role="partner")
    both = pd.concat([lead, partners], ignore_index=True)
    names = both["organisation"].astype("str").unique()
    if strategy is not None:
        spelling = {
            name: strategy.canonical_organisation(name) or " ".join(name.split()) for name in names
        }
        sector = {name: strategy.sector_of(name) or UNKNOWN_SECTOR for name in names}
    else:
        spelling = {name: " ".join(name.split()) for name in names}
        sector = dict.fromkeys(names, UNKNOWN_SECTOR)
    both["sector"] = both["organisation"].map(sector).astype("str")
    both["organisation"] = both["organisation"].map(spelling).astype("str")
    # A lead also listed as partner is one organisation on the action, as lead.
    both = both.drop_duplicates(["action_id", "organisation"], keep="first")
    return both.reset_index(drop=True)


def _action_themes(actions: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    themes = _long(actions, "themes", "theme")
    themes["objective"] = themes["theme"].map(strategy.theme_objectives()).astype("str")
    return themes


def _action_objectives(actions: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """(action_id, status, objective): named directly or through one of its themes."""
    direct = _long(actions, "objectives", "objective")
    via_theme = _action_themes(actions, strategy)[["action_id", "status", "objective"]]
    both = pd.concat([direct, via_theme], ignore_index=True)
    return both.drop_duplicates(["action_id", "objective"]).reset_index(drop=True)


def _sector_list(sectors) -> list[str]:
    return sorted(set(sectors), key=lambda sector: _SECTOR_ORDER.get(sector, len(_SECTOR_ORDER)))


def coverage(strategy: Strategy, actions: pd.DataFrame) -> pd.DataFrame:
    """Actions by status, organisations and sectors, per objective and per theme.

    One row per objective, each followed by one row per theme of that objective
    (strategy order; rows with no action are kept, with zeros). Columns:

    - ``level`` ("objective" or "theme"), ``objective``, ``theme`` (missing on
      objective rows), ``title``;
    - one integer column per status in :data:`~hwb_toolkit.schema.ACTION_STATUSES`
      (number of actions) and ``n_actions`` (their sum);
    - ``organisations`` (list, sorted by name), ``n_organisations``,
      ``sectors`` (list in :data:`~hwb_toolkit.schema.SECTORS` order, with
      "unknown" last when an organisation is not in the stakeholder list) and
      ``n_sectors`` (known sectors only), counted over actions with a status in
      :data:`INVOLVED_STATUSES` (a stopped action involves nobody any more).

    An objective row counts actions naming the objective or any of its themes;
    a theme row counts actions naming the theme.
    """
    check_register(actions, strategy)
    by_objective = _action_objectives(actions, strategy)
    by_theme = _action_themes(actions, strategy)
    organisations = _action_organisations(actions, strategy)

    rows = []
    for objective in strategy.objectives:
        rows.append(("objective", objective.id, None, objective.title))
        rows.extend(
            ("theme", theme.objective, theme.id, theme.title)
            for theme in strategy.themes
            if theme.objective == objective.id
        )
    frame = pd.DataFrame(rows, columns=["level", "objective", "theme", "title"])
    key = np.where(
        frame["level"] == "objective", "o:" + frame["objective"], "t:" + frame["theme"].fillna("")
    )

    links = pd.concat(
        [
            by_objective.assign(key="o:" + by_objective["objective"])[
                ["key", "action_id", "status"]
            ],
            by_theme.assign(key="t:" + by_theme["theme"])[["key", "action_id", "status"]],
        ],
        ignore_index=True,
    )
    counts = pd.crosstab(links["key"], links["status"]).reindex(
        index=key, columns=list(ACTION_STATUSES), fill_value=0
    )
    for status in ACTION_STATUSES:
        frame[status] = counts[status].to_numpy(dtype="int64")
    frame["n_actions"] = counts.sum(axis=1).to_numpy(dtype="int64")

    involved = links[links["status"].isin(INVOLVED_STATUSES)].merge(
        organisations[["action_id", "organisation", "sector"]], on="action_id"
    )
    grouped = involved.groupby("key")
    organisation_lists = grouped["organisation"].agg(_sorted_names)
    sector_lists = grouped["sector"].agg(_sector_list)
    frame["organisations"] = pd.Series([organisation_lists.get(k, []) for k in key], dtype="object")
    frame["n_organisations"] = frame["organisations"].str.len().astype("int64")
    frame["sectors"] = pd.Series([sector_lists.get(k, []) for k in key], dtype="object")
    frame["n_sectors"] = (
        frame["sectors"].map(lambda s: len([x for x in s if x != UNKNOWN_SECTOR])).astype("int64")
    )
    for column in ("level", "objective", "theme", "title"):
        frame[column] = frame[column].astype("str")
    return frame


def _id_text(column: pd.Series) -> pd.Series:
    """Ids as stripped text; whole numbers (e.g. Polis comment ids read as numbers) without ".0"."""
    if pd.api.types.is_numeric_dtype(column):
        column = column.map(lambda v: f"{v:.0f}" if pd.notna(v) and float(v).is_integer() else v)
    text = column.astype("str").str.strip()
    return text.where(text != "", None).astype("str").reset_index(drop=True)


def _priorities(voices: pd.DataFrame) -> pd.DataFrame:
    """Validated copy of the priorities frame: item, label, score (float), theme.

    Raises :class:`InputError` for a blank item, an item listed twice or a
    score that is not a number (blank scores are allowed and never voted high).
    """
    require_columns(voices, ["item", "label", "score"], voices.attrs.get("source"))
    raw_score = voices["score"].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "item": _id_text(voices["item"]),
            "label": voices["label"].astype("str").reset_index(drop=True),
            "score": pd.to_numeric(raw_score, errors="coerce").astype("float64"),
            "theme": (
                _id_text(voices["theme"])
                if "theme" in voices.columns
                else pd.Series(pd.NA, index=range(len(voices)), dtype="str")
            ),
        }
    )
    not_number = frame["score"].isna() & raw_score.notna()
    if not_number.any():
        position = int(np.flatnonzero(not_number.to_numpy())[0])
        raise InputError(
            f"priorities: score {raw_score.iloc[position]!r} of item "
            f"{frame['item'].iloc[position]!r} is not a number",
            column="score",
        )
    if frame["item"].isna().any():
        position = int(np.flatnonzero(frame["item"].isna().to_numpy())[0])
        raise InputError(
            f"priorities: the item id of row {position} (label "
            f"{frame['label'].iloc[position]!r}) is blank",
            column="item",
        )
    repeated = frame["item"][frame["item"].duplicated()]
    if len(repeated):
        raise InputError(
            f"priorities: item {repeated.iloc[0]!r} appears more than once; "
            "give one score per item (sum or pick the tallies first)",
            column="item",
        )
    return frame


def top_voted(voices: pd.DataFrame, top_share: float | None = 1 / 3) -> pd.DataFrame:
    """The items partners voted high, best first, with their rank.

    Keeps items with a positive score at least that of the item ranked
    ``ceil(top_share * n)``, n being the number of items with a score (ties are
    all kept). ``top_share=None`` keeps every item with a positive score.
    Columns: item, label, score, theme, rank (1 = highest, ties share the
    smallest rank), n_items.
    """
    frame = _priorities(voices)
    scored = frame.dropna(subset=["score"])
    scored = scored.sort_values(["score", "item"], ascending=[False, True], kind="stable")
    scored["rank"] = scored["score"].rank(method="min", ascending=False).astype("int64")
    scored["n_items"] = len(scored)
    keep = scored["score"] > 0
    if top_share is not None and len(scored):
        if not 0 < top_share <= 1:
            raise ValueError("top_share must be in (0, 1]")
        cutoff_position = max(1, math.ceil(top_share * len(scored))) - 1
        keep &= scored["score"] >= scored["score"].iloc[cutoff_position]
    return scored[keep].reset_index(drop=True)


@dataclass(frozen=True)
class LoopClosure:
    """Loop closure ("you said, we did"): top-voted items and the actions answering them."""

    items: pd.DataFrame
    share_answered: float


def loop_closure(
    voices: pd.DataFrame, actions: pd.DataFrame, *, top_share: float | None = 1 / 3
) -> LoopClosure:
    """For each top-voted theme or contribution, whether and how it was answered.

    ``voices`` is the priorities frame (item, label, score, optional theme);
    the items kept are those of :func:`top_voted` (``top_share``; default the
    top tercile). An item is answered when an action with a status in
    :data:`ANSWERED_STATUSES` (planned, active, done) lists in ``responds_to``
    the item's id, or -- for a contribution that has a ``theme`` -- that theme
    id. Actions that respond but are ideas or stopped are listed but do not
    answer. Only ``responds_to`` counts: an action merely tagged with the
    theme did not say it answers the voice.

    ``items`` columns: item, label, score, theme, rank, answered (bool),
    answered_via ("item", "theme" or missing: how the best answer refers to
    it), action_ids and statuses (aligned lists, best status first, then id),
    best_status (first of :data:`STATUS_PREFERENCE` among them, or missing).
    Best voted first. ``share_answered`` is the share (0-1) of those items
    answered; NaN when no item was voted high.
    """
    check_register(actions)
    top = top_voted(voices, top_share)
    responses = _long(actions, "responds_to", "target")
    preference = {status: n for n, status in enumerate(STATUS_PREFERENCE)}

    direct = top[["item"]].merge(responses, left_on="item", right_on="target").assign(via="item")
    via_theme = (
        top.loc[top["theme"].notna() & (top["theme"] != top["item"]), ["item", "theme"]]
        .merge(responses, left_on="theme", right_on="target")
        .drop(columns="theme")
        .assign(via="theme")
    )
    matched = pd.concat([direct, via_theme], ignore_index=True)
    matched["order"] = matched["status"].map(preference)
    matched["via_order"] = (matched["via"] == "theme").astype(int)
    matched = matched.sort_values(["item", "order", "via_order", "action_id"], kind="stable")
    matched = matched.drop_duplicates(["item", "action_id"], keep="first")
    grouped = matched.groupby("item", sort=False)
    action_ids = grouped["action_id"].agg(list)
    statuses = grouped["status"].agg(list)
    answering = matched[matched["status"].isin(ANSWERED_STATUSES)]
    answered_via = answering.groupby("item", sort=False)["via"].first()

    items = top[["item", "label", "score", "theme", "rank"]].copy()
    items["answered"] = items["item"].isin(answering["item"]).astype(bool)
    items["answered_via"] = items["item"].map(answered_via).astype("str")
    items["action_ids"] = pd.Series([action_ids.get(i, []) for i in items["item"]], dtype="object")
    items["statuses"] = pd.Series([statuses.get(i, []) for i in items["item"]], dtype="object")
    items["best_status"] = items["statuses"].map(lambda s: s[0] if s else None).astype("str")
    share = float(items["answered"].mean()) if len(items) else float("nan")
    return LoopClosure(items=items.reset_index(drop=True), share_answered=share)
