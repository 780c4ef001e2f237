"""Building one area's briefing from the workspace's tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators import summarise_all_areas
from hwb_toolkit.report.briefing import Briefing
from hwb_toolkit.report.numbers import key_numbers
from hwb_toolkit.report.shared import SharedTables, with_strategy_columns
from hwb_toolkit.system import connections, coverage, gaps, loop_closure
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.system.themes import theme_action_links, with_contribution_themes
from hwb_toolkit.voices.digest import analyse_voices
from hwb_toolkit.workspace import Workspace


def compute_shared_tables(workspace: Workspace) -> SharedTables:
    """Read the workspace once and summarise every area's indicators in one grouped pass."""
    data, summaries = indicator_tables(workspace)
    return SharedTables(
        indicator_data=data,
        summaries=summaries,
        contributions=workspace.contributions(),
        votes=workspace.votes(),
        actions=workspace.actions(),
    )


def indicator_tables(workspace: Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The workspace's indicator rows (all persons and sexes; no category breakdowns) and
    every area's summary of them, as in :class:`SharedTables`."""
    data = workspace.indicators
    data = data[data["category_type"].isna()].reset_index(drop=True)
    strategy = workspace.strategy
    summaries = summarise_all_areas(
        data, polarity=strategy.polarity(), trend_method=_trend_methods(strategy)
    )
    return data, summaries


def _trend_methods(strategy: Strategy) -> dict[int, str]:
    """Fingertips tests the trend of proportions on counts; every other calculator on values."""
    return {
        spec.id: "proportion" if spec.calculator == "proportion" else "general"
        for spec in strategy.indicators
    }


def belongs_to_area(area_codes: pd.Series, area_code: str, home_area: str | None) -> pd.Series:
    """Which rows belong to ``area_code`` (see the module docstring for the rule)."""
    codes = area_codes.astype("string")
    blank = codes.isna() | (codes.str.strip() == "")
    unassigned_here = home_area is None or home_area == area_code
    return ((codes == area_code) & ~blank).fillna(False) | (blank & unassigned_here)


def build_briefing(
    workspace: Workspace | str | Path,
    area_code: str,
    period: str,
    *,
    prepared: SharedTables | str | Path | None = None,
    previous_summary: str | Path | None = None,
    suppress_below: int = 5,
    charts_in_child_process: bool = False,
) -> Briefing:
    """Assemble the briefing of ``area_code`` for the reporting month ``period`` (YYYY-MM).

    ``workspace``: an open :class:`Workspace` (or its folder, opened here).
    ``prepared``: the tables every area shares, worked out once
    (:func:`compute_shared_tables`), or the folder a batch saved them in
    (:func:`hwb_toolkit.report.batch.prepare_period`); without it they are computed here. ``previous_summary``: last
    month's ``summary.json`` for this area, used for "what changed since last
    month". ``suppress_below``: counts from 1 to ``suppress_below - 1`` are
    published as "fewer than N". ``charts_in_child_process``: draw the sections'
    charts in a child process while this one builds the next (the briefing
    notebook, which draws about 20 in a row; see :mod:`hwb_toolkit.charts.render`).
    """
    from hwb_toolkit import charts

    # The briefing draws charts next: start the chart renderer now, in the background,
    # so its start-up (about 0.4 s) overlaps with reading and analysing the data.
    if charts_in_child_process:
        charts.draw_in_background_process()
    else:
        charts.warm_up()
    ws = Workspace.open(workspace)
    strategy = ws.strategy
    # Without prepared tables, the indicators are read first and the voices and actions only
    # after the indicator charts are queued, so the chart process starts drawing sooner.
    if isinstance(prepared, SharedTables):
        shared = prepared
    else:
        shared = SharedTables.load(prepared) if prepared else None
    if shared is not None:
        data, summaries = shared.indicator_data, shared.summaries
    else:
        data, summaries = indicator_tables(ws)

    summary = summaries[summaries["area_code"] == area_code]
    if summary.empty:
        raise InputError(f"area {area_code!r} has no indicator data in the workspace", column="area_code")
    summary = with_strategy_columns(summary.reset_index(drop=True), strategy)
    if summary.empty:
        raise InputError(
            f"area {area_code!r} has data for none of the strategy's indicators", column="area_code"
        )
    first = summary.iloc[0]
    area_name, parent_code = str(first["area_name"]), first["parent_code"]
    parent_name = None if pd.isna(first["parent_name"]) else str(first["parent_name"])

    relevant = data["indicator_id"].isin(summary["indicator_id"])
    indicator_data = data[relevant].reset_index(drop=True)

    previous = None
    if previous_summary and Path(previous_summary).is_file():
        previous = json.loads(Path(previous_summary).read_text(encoding="utf-8"))
    known = dict(
        area_code=area_code,
        area_name=area_name,
        parent_name=parent_name if isinstance(parent_code, str) else None,
        period=period,
        strategy=strategy,
        indicators=summary,
        indicator_data=indicator_data,
        previous_summary=previous,
        suppress_below=suppress_below,
        figures={},
    )

    def so_far(**analyses: Any) -> Briefing:
        """The briefing with only the analyses done so far (the others None), to queue the
        charts that need no more; they are kept in the ``figures`` dict it shares (through
        ``known``) with the briefing returned."""
        nothing_yet = dict(
            actions=None, voices=None, coverage=None, gaps=None, connections=None, loop=None,
            theme_links=None,
        )
        return Briefing(**known, **(nothing_yet | analyses))

    if charts_in_child_process:
        # The spine and trend charts need only the indicator tables: queue them before the
        # voices and actions are read and analysed (about 1 s), so the child draws them
        # meanwhile.
        from hwb_toolkit.report.sections.objectives import queue_indicator_charts

        queue_indicator_charts(so_far())

    home = strategy.home_area
    all_actions = shared.actions if shared is not None else ws.actions()
    actions = all_actions[
        belongs_to_area(all_actions["area_code"], area_code, home).to_numpy(bool)
    ].reset_index(drop=True)
    links = connections(actions, strategy)
    if charts_in_child_process:
        # The network of actions, the slowest chart to draw, needs only the actions: queue it
        # too before the voices are read and analysed.
        from hwb_toolkit.report.sections.closing import queue_network_chart

        queue_network_chart(so_far(actions=actions, connections=links))

    all_contributions = shared.contributions if shared is not None else ws.contributions()
    contributions = all_contributions[
        belongs_to_area(all_contributions["area_code"], area_code, home).to_numpy(bool)
    ].reset_index(drop=True)
    all_votes = shared.votes if shared is not None else ws.votes()
    votes = all_votes if (home is None or home == area_code) else all_votes.iloc[0:0]

    voices = analyse_voices(contributions, votes, strategy)
    if charts_in_child_process:
        # The theme charts and the opinion map need only the voices: queue them before the
        # coverage, gaps and texts are worked out.
        from hwb_toolkit.report.sections.objectives import queue_voices_charts

        queue_voices_charts(so_far(actions=actions, voices=voices))
    answering = with_contribution_themes(actions, voices.assignments)
    briefing = Briefing(
        **known,
        actions=actions,
        voices=voices,
        coverage=coverage(strategy, actions),
        gaps=gaps(strategy, actions, summary, voices.priorities if len(voices.priorities) else None),
        connections=links,
        loop=loop_closure(voices.priorities, answering),
        theme_links=theme_action_links(answering, strategy),
    )
    briefing.numbers = key_numbers(briefing)
    if charts_in_child_process:
        # Queue the other sections' charts too: the child draws while this process builds
        # the rest, instead of each section waiting for its own charts before the next.
        from hwb_toolkit.report.sections import prepare_sections

        prepare_sections(briefing)
    return briefing
