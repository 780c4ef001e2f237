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
from hwb_toolkit.schema import ACTION_STATUSES, SECTORS, WORSE, WORST
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
#: Kinds of gap, in the order :func:`gaps` lists them.
GAP_KINDS = (
    "voted_theme_without_action",
    "indicator_without_action",
    "single_sector_objective",
    "objective_without_action",
)
GAP_COLUMNS = ["kind", "objective", "theme", "item", "label", "detail", "score"]

_SECTOR_ORDER = {sector: position for position, sector in enumerate((*SECTORS, UNKNOWN_SECTOR))}


# --- shared preparation ------------------------------------------------------


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


# --- coverage ----------------------------------------------------------------


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


# --- priorities ("voices") ---------------------------------------------------


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


# --- gaps ----------------------------------------------------------------------


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _other_status_note(action_ids_by_status: pd.DataFrame) -> str:
    """A note like " (other actions, done: A07; idea: A10, A12)" for non-current actions."""
    notes = []
    for status in ("done", "idea", "stopped"):
        ids = sorted(
            action_ids_by_status.loc[action_ids_by_status["status"] == status, "action_id"]
        )
        if ids:
            notes.append(f"{status}: {_join_ids(ids)}")
    return f" (other actions, {'; '.join(notes)})" if notes else ""


def _voted_theme_gaps(strategy: Strategy, actions: pd.DataFrame, voices, top_share) -> list[dict]:
    top = top_voted(voices, top_share)
    theme_ids = set(strategy.theme_objectives())
    top["gap_theme"] = np.where(top["item"].isin(theme_ids), top["item"], top["theme"])
    top = top[top["gap_theme"].isin(theme_ids)]
    if top.empty:
        return []
    on_theme = pd.concat(
        [
            _long(actions, "themes", "theme"),
            _long(actions, "responds_to", "theme"),
        ],
        ignore_index=True,
    ).drop_duplicates(["action_id", "theme"])
    titles = {theme.id: theme.title for theme in strategy.themes}
    objectives = strategy.theme_objectives()
    found = []
    # top is best first, so the first row of each theme is its best-voted item.
    for theme_id, voted in top.groupby("gap_theme", sort=False):
        theme_actions = on_theme[on_theme["theme"] == theme_id]
        if theme_actions["status"].isin(CURRENT_STATUSES).any():
            continue
        best = voted.iloc[0]
        if best["item"] == theme_id:
            what = (
                f"score {best['score']:g}, {_ordinal(int(best['rank']))} of {best['n_items']} items"
            )
        else:
            what = (
                f"{best['item']} '{_short(best['label'])}', score {best['score']:g}, "
                f"{_ordinal(int(best['rank']))} of {best['n_items']} items"
            )
        more = len(voted) - 1
        if more:
            what += f"; {more} more top-voted item{'s' if more > 1 else ''} on this theme"
        found.append(
            {
                "kind": "voted_theme_without_action",
                "objective": objectives[theme_id],
                "theme": theme_id,
                "item": theme_id,
                "label": titles[theme_id],
                "detail": (
                    f"voted high by partners ({what}) but no planned or active action names "
                    f"this theme or responds to it{_other_status_note(theme_actions)}"
                ),
                "score": float(best["score"]),
            }
        )
    return found


def _needs_action(summary: pd.DataFrame) -> pd.Series:
    compared = summary["compared_to_england"].astype("str")
    trend = summary["recent_trend"].astype("str")
    return (
        (compared.isin([WORSE, WORST]) | trend.str.contains("getting worse", regex=False))
        .fillna(False)
        .astype(bool)
    )


def _indicator_gaps(strategy: Strategy, actions: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    require_columns(
        summary,
        ["indicator_id", "compared_to_england", "recent_trend"],
        summary.attrs.get("source"),
    )
    flagged = summary[_needs_action(summary).to_numpy()].copy()
    if flagged.empty:
        return []
    ids = pd.to_numeric(flagged["indicator_id"], errors="coerce")
    if ids.isna().any() or (ids != np.floor(ids)).any():
        raise InputError(
            "indicator summary: an indicator_id is not a whole number", column="indicator_id"
        )
    flagged["indicator"] = ids.astype("int64").astype("str")
    compared = flagged["compared_to_england"].astype("str")
    trend = flagged["recent_trend"].astype("str")
    flagged["severity"] = np.select(
        [compared == WORST, compared == WORSE], [3, 2], 0
    ) + trend.str.contains("getting worse", regex=False).fillna(False).to_numpy(dtype=int)

    specs = {str(spec.id): spec for spec in strategy.indicators}
    linked = _long(actions, "linked_indicators", "indicator")
    on_theme = _action_themes(actions, strategy)
    found = []
    for indicator, rows in flagged.groupby("indicator", sort=False):
        links = linked[linked["indicator"] == indicator]
        if links["status"].isin(CURRENT_STATUSES).any():
            continue
        spec = specs.get(indicator)
        name = (
            spec.name
            if spec is not None
            else str(rows["indicator_name"].iloc[0])
            if "indicator_name" in rows
            else f"indicator {indicator}"
        )
        reasons = []
        for _, row in rows.iterrows():
            parts = []
            if row["compared_to_england"] in (WORSE, WORST):
                parts.append(f"'{row['compared_to_england']}' compared with England")
                if (
                    {"value", "england_value"} <= set(row.index)
                    and pd.notna(row["value"])
                    and pd.notna(row["england_value"])
                ):
                    parts[-1] += f" ({row['value']:g} vs {row['england_value']:g})"
            if "getting worse" in str(row["recent_trend"]):
                parts.append(f"trend '{row['recent_trend']}'")
            breakdown = ", ".join(
                str(row[c]) for c in ("sex", "age") if c in row.index and pd.notna(row[c])
            )
            period = (
                f" in {row['period']}" if "period" in row.index and pd.notna(row["period"]) else ""
            )
            reasons.append(f"{breakdown + ': ' if breakdown else ''}{' and '.join(parts)}{period}")
        detail = (
            "; ".join(reasons)
            + f"; no planned or active action lists indicator {indicator} in linked_indicators"
            + _other_status_note(links)
        )
        if spec is not None and spec.theme is not None:
            nearby = on_theme[
                (on_theme["theme"] == spec.theme) & on_theme["status"].isin(CURRENT_STATUSES)
            ]["action_id"]
            if len(nearby):
                detail += (
                    f"; planned or active actions on its theme '{spec.theme}' that could link it: "
                    f"{_join_ids(sorted(nearby))}"
                )
        found.append(
            {
                "kind": "indicator_without_action",
                "objective": None if spec is None else spec.objective,
                "theme": None if spec is None else spec.theme,
                "item": indicator,
                "label": name,
                "detail": detail,
                "score": float(rows["severity"].max()),
            }
        )
    return found


def _sector_gaps(strategy: Strategy, actions: pd.DataFrame) -> list[dict]:
    by_objective = _action_objectives(actions, strategy)
    current = by_objective[by_objective["status"].isin(CURRENT_STATUSES)]
    people = current.merge(
        _action_organisations(actions, strategy)[["action_id", "organisation", "sector"]],
        on="action_id",
    )
    found = []
    for objective in strategy.objectives:
        n_actions = int((current["objective"] == objective.id).sum())
        involved = people[people["objective"] == objective.id]
        known = involved[involved["sector"] != UNKNOWN_SECTOR]
        unknown = _sorted_names(involved.loc[involved["sector"] == UNKNOWN_SECTOR, "organisation"])
        unknown_note = (
            f"; not in the stakeholder list, sector unknown: {_join_ids(unknown)}"
            if unknown
            else ""
        )
        base = {
            "objective": objective.id,
            "theme": None,
            "item": objective.id,
            "label": objective.title,
        }
        if n_actions == 0:
            found.append(
                base
                | {
                    "kind": "objective_without_action",
                    "detail": "no planned or active action works toward this objective or its themes",
                    "score": 0.0,
                }
            )
            continue
        sectors = _sector_list(known["sector"])
        if len(sectors) > 1:
            continue
        plural = "s" if n_actions > 1 else ""
        if sectors:
            detail = (
                f"only {sectors[0]} organisations ({_join_ids(_sorted_names(known['organisation']))}) "
                f"work on its {n_actions} planned or active action{plural}{unknown_note}"
            )
        else:
            detail = (
                f"the sector of every organisation on its {n_actions} planned or active "
                f"action{plural} is unknown{unknown_note}"
            )
        found.append(
            base | {"kind": "single_sector_objective", "detail": detail, "score": float(n_actions)}
        )
    return found


def gaps(
    strategy: Strategy,
    actions: pd.DataFrame,
    indicator_summary: pd.DataFrame | None,
    voices: pd.DataFrame | None,
    *,
    top_share: float | None = 1 / 3,
) -> pd.DataFrame:
    """Where the partnership's actions do not meet what partners and the data ask for.

    Returns one row per gap with columns ``kind``, ``objective``, ``theme``,
    ``item``, ``label``, ``detail`` (a plain-English reason) and ``score``
    (higher = more pressing, comparable only within one kind). Kinds, in
    output order (then score, highest first, then item):

    ``voted_theme_without_action``
        a theme that partners voted high (see :func:`top_voted`: a voted item is
        the theme id itself or a contribution whose ``theme`` is that theme) and
        that no action with a status in :data:`CURRENT_STATUSES` names in
        ``themes`` or in ``responds_to``. score = the best voted item's score.
        Top-voted contributions without a theme cannot be placed: see
        :func:`loop_closure` for them.
    ``indicator_without_action``
        an indicator in ``indicator_summary`` with any row (sex/age breakdown)
        "Worse" or "Worst" than England, or with a recent trend "... getting
        worse", that no planned or active action lists in ``linked_indicators``.
        Only ``linked_indicators`` links an action to an indicator; current
        actions on the indicator's theme are named in the detail as candidates.
        score = max over its rows of (3 Worst, 2 Worse, else 0) + 1 if getting worse.
    ``single_sector_objective``
        an objective whose planned or active actions (including those on its
        themes) involve organisations of one known sector only. score = the
        number of those actions.
    ``objective_without_action``
        an objective with no planned or active action at all. score 0.

    ``indicator_summary`` (columns of ``summarise_area``; needs
    ``indicator_id``, ``compared_to_england``, ``recent_trend``) and ``voices``
    (the priorities frame: ``item``, ``label``, ``score``, optional ``theme``)
    may be ``None`` to skip their kind of gap.
    """
    check_register(actions, strategy)
    found: list[dict] = []
    if voices is not None:
        found += _voted_theme_gaps(strategy, actions, voices, top_share)
    if indicator_summary is not None:
        found += _indicator_gaps(strategy, actions, indicator_summary)
    found += _sector_gaps(strategy, actions)
    frame = pd.DataFrame(found, columns=GAP_COLUMNS)
    frame["kind_order"] = frame["kind"].map({kind: n for n, kind in enumerate(GAP_KINDS)})
    frame = frame.sort_values(
        ["kind_order", "score", "item"], ascending=[True, False, True], kind="stable"
    ).drop(columns="kind_order")
    frame = frame.reset_index(drop=True)
    for column in GAP_COLUMNS[:-1]:
        frame[column] = frame[column].astype("str")
    frame["score"] = frame["score"].astype("float64")
    return frame


# --- connections -------------------------------------------------------------


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


# --- loop closure --------------------------------------------------------------


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
