"""Where the strategy has no one working: :func:`gaps` finds objectives with no current
action, themes partners voted high that no action answers, indicators worse than England
with no action, and sectors missing from the work (conventions in
:mod:`hwb_toolkit.system.analysis`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import WORSE, WORST
from hwb_toolkit.system.actions import check_register
from hwb_toolkit.system.analysis import (
    CURRENT_STATUSES,
    UNKNOWN_SECTOR,
    _action_objectives,
    _action_organisations,
    _action_themes,
    _join_ids,
    _long,
    _sector_list,
    _sorted_names,
    top_voted,
)
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.values import require_columns

#: Kinds of gap, in the order :func:`gaps` lists them.
GAP_KINDS = (
    "voted_theme_without_action",
    "indicator_without_action",
    "single_sector_objective",
    "objective_without_action",
)


GAP_COLUMNS = ["kind", "objective", "theme", "item", "label", "detail", "score"]


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
