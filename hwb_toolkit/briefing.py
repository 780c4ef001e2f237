"""One area's monthly briefing, assembled from the three engines.

The briefing notebook calls :func:`build_briefing` and then shows each section;
the pipeline calls :func:`prepare_shared_tables` once per batch so that the
expensive shared work (reading every file, summarising every area's
indicators) is not repeated for each area.

Whose voices and actions belong to an area: contributions and actions carry an
optional ``area_code``. Rows with a code belong to that area; rows without one
belong to the partnership's ``home_area`` (from the strategy), or to every
area when the strategy names none. Votes carry no area: they belong where
their contributions and themes do, so they follow the same rule as rows
without a code.

What is being done about what partners said is read from one table,
:attr:`Briefing.theme_links` (:func:`theme_action_links`): an action works on a
theme when it names the theme, and answers it when it says it responds to the
theme or to something partners said under it. "You said, we did", the objective
sections and the headline all read it, so they never disagree.
"""

from __future__ import annotations

import functools
import gc
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.indicators import summarise_all_areas
from hwb_toolkit.io.workspace import Workspace
from hwb_toolkit.io.writers import write_text_atomically
from hwb_toolkit.narrative import suppress_small
from hwb_toolkit.prepared import SharedTables, with_strategy_columns
from hwb_toolkit.schema import ENGLAND_CODE
from hwb_toolkit.system import connections, coverage, gaps, loop_closure
from hwb_toolkit.system.strategy import Strategy

#: Fewest agree/disagree voters for a poll to be analysed for opinion groups.
MIN_POLL_PARTICIPANTS = 10

#: Fingertips' comparison labels that mean "significantly worse/better" with a polarity.
WORSE_LABELS = {"Worse", "Worst"}
BETTER_LABELS = {"Better", "Best"}


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


def prepare_shared_tables(workspace: str | Path, period: str, folder: str | Path) -> None:
    """Compute :class:`SharedTables` for a batch and save them to ``folder`` (Parquet)."""
    compute_shared_tables(Workspace.open(workspace)).save(folder)


def _trend_methods(strategy: Strategy) -> dict[int, str]:
    """Fingertips tests the trend of proportions on counts; every other calculator on values."""
    return {
        spec.id: "proportion" if spec.calculator == "proportion" else "general"
        for spec in strategy.indicators
    }


# --- one area ---------------------------------------------------------------------
@dataclass
class VoicesView:
    """What partners said and voted, for one area."""

    contributions: pd.DataFrame
    themes: pd.DataFrame
    assignments: pd.DataFrame
    meta_statements: list[str]
    dot_tally: pd.DataFrame
    poll: pd.DataFrame
    statements: pd.DataFrame
    groups: pd.Series | None
    opinion: Any
    consensus_agree: list[str]
    consensus_disagree: list[str]
    representative: dict
    divisive: pd.DataFrame
    uncertain: pd.DataFrame
    balance: Any
    priorities: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.contributions.empty and self.dot_tally.empty and self.poll.empty


@dataclass
class Briefing:
    """One area's briefing for one reporting month: every table the sections show."""

    area_code: str
    area_name: str
    parent_name: str | None
    period: str
    strategy: Strategy
    indicators: pd.DataFrame
    indicator_data: pd.DataFrame
    voices: VoicesView
    actions: pd.DataFrame
    coverage: pd.DataFrame
    gaps: pd.DataFrame
    connections: Any
    loop: Any
    #: Theme-action links (:func:`theme_action_links`): what the sections say is being done on a theme.
    theme_links: pd.DataFrame | None = None
    previous_summary: dict | None = None
    suppress_below: int = 5
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    #: Section contexts built ahead by :func:`hwb_toolkit.sections.prepare_sections`; each is
    #: used once by the next :meth:`show` of that section, then built afresh.
    prepared_sections: dict = field(default_factory=dict, repr=False, compare=False)
    #: Charts of the indicator sections (spine, trends), built once and kept as figures.
    figures: dict = field(default_factory=dict, repr=False, compare=False)

    # The sections (context builders and rendering) live in hwb_toolkit.sections,
    # so this class stays a plain container of results.
    def show(self, section: str, **extra: Any) -> None:
        """Display one section in the notebook (see :mod:`hwb_toolkit.sections`)."""
        from IPython.display import display

        from hwb_toolkit.sections import render_section

        display(render_section(self, section, **extra))

    @functools.cached_property
    def series_by_key(self) -> dict[tuple, pd.DataFrame]:
        """The area's and England's rows, oldest first, by ``(area_code, indicator_id, sex, age)``.

        Split once: filtering the whole table for each chart cost about 50 ms a chart.
        """
        data = self.indicator_data
        mine = data[data["area_code"].isin([self.area_code, ENGLAND_CODE]).to_numpy(bool)]
        mine = mine.sort_values("period_sortable", kind="stable")
        return {
            (str(code), int(indicator), str(sex), str(age)): rows
            for (code, indicator, sex, age), rows in mine.groupby(
                ["area_code", "indicator_id", "sex", "age"], sort=False, observed=True
            )
        }

    @property
    def objectives(self) -> list[str]:
        return [objective.id for objective in self.strategy.objectives]

    @property
    def first_briefing(self) -> bool:
        """True when there is no earlier briefing for this area to compare with."""
        return not self.previous_summary

    @functools.cached_property
    def numbers(self) -> dict:
        """Every count the briefing publishes, worked out once (:func:`hwb_toolkit.sections.key_numbers`):
        the page and ``summary.json`` both read them from here."""
        from hwb_toolkit.sections import key_numbers

        return key_numbers(self)

    def summary_json(self) -> dict:
        """The machine-readable headline figures (summary.json), from the same tables and
        counts (:attr:`numbers`) the page is rendered from."""
        from hwb_toolkit.sections import headline_items

        numbers = self.numbers
        indicators = []
        for row in self.indicators.to_dict("records"):
            indicators.append(
                {
                    "indicator_id": int(row["indicator_id"]),
                    "indicator_name": row["indicator_name"],
                    "display_name": row["display_name"],
                    "breakdown": row["breakdown"],
                    "unit": row["unit"],
                    "sex": row["sex"],
                    "age": row["age"],
                    "period": row["period"],
                    "value": _plain(row["value"]),
                    "lower_ci95": _plain(row["lower_ci95"]),
                    "upper_ci95": _plain(row["upper_ci95"]),
                    "england_value": _plain(row["england_value"]),
                    "compared_to_england": row["compared_to_england"],
                    "compared_to_parent": row["compared_to_parent"],
                    "recent_trend": _plain(row["recent_trend"]),
                    "significance_changed": bool(row["significance_changed"]),
                    "objective": _plain(row.get("objective")),
                    "theme": _plain(row.get("theme")),
                }
            )
        below = self.suppress_below
        return {
            "area_code": self.area_code,
            "area_name": self.area_name,
            "parent_name": self.parent_name,
            "period": self.period,
            "generated_at": self.generated_at,
            "first_briefing": self.first_briefing,
            "headline": [
                {"title": item["title"], "text": item["text"]} for item in headline_items(self)
            ],
            "indicators_compared": dict(numbers["figures"]["by_comparison"]),
            "figures": numbers["figures"]["total"],
            "indicators": indicators,
            "voices": {
                "contributions": suppress_small(numbers["contributions"], below),
                "participants": suppress_small(numbers["participants"], below),
                "top_priorities": [
                    {"item": r["item"], "label": r["label"], "score": _plain(r["score"])}
                    for r in numbers["top_priorities"]
                ],
                "themes": [
                    {"theme": r["theme"], "label": r["label"], "contributions": r["published_size"]}
                    for r in numbers["themes"]
                ],
            },
            "actions": {
                "total": numbers["actions"]["total"],
                "by_status": dict(numbers["actions"]["by_status"]),
            },
            "you_said_we_did": {
                "share_answered": _plain(self.loop.share_answered),
                "items": numbers["loop"]["items"],
                "answered": numbers["loop"]["answered"],
                "rows": [
                    {"item": row["item"], "said": row["said"], "answered": row["answered"],
                     "action_ids": row["action_ids"]}
                    for row in numbers["loop"]["rows"]
                ],
            },
            "gaps": numbers["gaps"],
            "suppress_below": below,
        }

    def write_summary(self, output_dir: str | Path) -> Path:
        """Write ``summary.json`` into ``output_dir`` atomically and return its path.

        Always valid JSON: a number that is not finite (NaN, infinity) is written as
        ``null``, never as the ``NaN``/``Infinity`` that Python's json would write.
        """
        path = Path(output_dir) / "summary.json"
        text = json.dumps(
            _finite(self.summary_json()), indent=2, ensure_ascii=False, allow_nan=False
        )
        write_text_atomically(path, text)
        return path


def _finite(value: Any) -> Any:
    """``value`` (dicts and lists within it too) with every non-finite float as None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _plain(value: Any) -> Any:
    """A JSON-safe plain value: NaN/NA/infinity -> None, numpy scalars -> Python."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def belongs_to_area(area_codes: pd.Series, area_code: str, home_area: str | None) -> pd.Series:
    """Which rows belong to ``area_code`` (see the module docstring for the rule)."""
    codes = area_codes.astype("string")
    blank = codes.isna() | (codes.str.strip() == "")
    unassigned_here = home_area is None or home_area == area_code
    return ((codes == area_code) & ~blank).fillna(False) | (blank & unassigned_here)


def _without_full_collections(function):
    """Run ``function`` with CPython's full (oldest-generation) garbage collections held off.

    A briefing makes a few hundred thousand short-lived objects (pandas, Altair), which
    set off three or four full collections in a build; each walks every object in the
    process, the imported libraries' included (about 200,000): 0.36-0.38 s of the
    briefing notebook's first cell (measured). Young objects are still collected as
    usual, so short-lived cycles are freed; the caller's threshold of full collections
    is restored on return, even on an error.

    The full collection that is due then would walk those objects all the same (0.1-0.2 s
    in the cells that show the sections). So once per process, at the end of its first
    build, what is alive is frozen (``gc.freeze``): the libraries live as long as the
    process, and later full collections walk only what was made after. The price is that
    cyclic garbage alive at that moment is never collected: measured, 769 objects and
    under 0.5 MB, once.
    """

    @functools.wraps(function)
    def run(*args, **kwargs):
        global _FROZEN
        young, middle, oldest = gc.get_threshold()
        gc.set_threshold(young, middle, max(oldest, _FULL_COLLECTIONS_HELD_OFF))
        try:
            return function(*args, **kwargs)
        finally:
            if not _FROZEN:
                _FROZEN = True
                gc.freeze()
            gc.set_threshold(young, middle, oldest)

    return run


#: Whether this process has frozen its long-lived objects (see _without_full_collections).
_FROZEN = False


#: Threshold of full collections while a briefing is built: CPython counts collections of the
#: middle generation up to it (10 by default), so none is reached within one build.
_FULL_COLLECTIONS_HELD_OFF = 1_000_000


@_without_full_collections
def build_briefing(
    workspace: str | Path,
    area_code: str,
    period: str,
    *,
    prepared: str | Path | None = None,
    previous_summary: str | Path | None = None,
    suppress_below: int = 5,
    charts_in_child_process: bool = False,
) -> Briefing:
    """Assemble the briefing of ``area_code`` for the reporting month ``period`` (YYYY-MM).

    ``prepared``: a folder written by :func:`prepare_shared_tables` (a batch);
    without it the shared tables are computed here. ``previous_summary``: last
    month's ``summary.json`` for this area, used for "what changed since last
    month". ``suppress_below``: counts from 1 to ``suppress_below - 1`` are
    published as "fewer than N". ``charts_in_child_process``: draw the sections'
    charts in a child process while this one builds the next (the briefing
    notebook, which draws about 20 in a row; see :mod:`hwb_toolkit.vega_svg`).
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
        from hwb_toolkit.sections import queue_indicator_charts

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
        from hwb_toolkit.sections import queue_network_chart

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
        from hwb_toolkit.sections import queue_voices_charts

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
    if charts_in_child_process:
        # Queue the other sections' charts too: the child draws while this process builds
        # the rest, instead of each section waiting for its own charts before the next.
        from hwb_toolkit.sections import prepare_sections

        prepare_sections(briefing)
    return briefing


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
#: Action statuses in the order a reader wants them: under way first.
STATUS_ORDER = {"active": 0, "planned": 1, "done": 2, "idea": 3, "stopped": 4}


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
    links = links.assign(_t=links["theme"].map(order), _s=links["status"].map(STATUS_ORDER))
    return links.sort_values(["_t", "_s", "action_id"], kind="stable").drop(columns=["_t", "_s"]).reset_index(drop=True)


def analyse_voices(contributions: pd.DataFrame, votes: pd.DataFrame, strategy: Strategy) -> VoicesView:
    """Themes, dot-vote tally, poll consensus and division, and balance for one area's voices."""
    # Imported here, not with this module: the voices analyses load scikit-learn (about half
    # a second), which the indicator charts do not need, so build_briefing queues those
    # charts first and the chart process draws them while scikit-learn loads.
    from hwb_toolkit.voices import (
        consensus,
        divisive_statements,
        find_themes,
        opinion_groups,
        poll_summary,
        representative_statements,
        tally,
        uncertain_statements,
        voice_balance,
    )

    statements_mask = contributions["kind"].astype("string") == "statement"
    statements = contributions[statements_mask.fillna(False).to_numpy(bool)].reset_index(drop=True)
    said = contributions[~statements_mask.fillna(False).to_numpy(bool)].reset_index(drop=True)

    if len(said):
        # More quotes than a section shows: those from groups whose count is hidden are left out.
        themes_found = find_themes(said, strategy, n_quotes=6)
        themes, assignments = themes_found.themes, themes_found.assignments
        meta = themes_found.meta_statements
        said = themes_found.label_contributions(said)
    else:
        themes = pd.DataFrame(columns=["theme", "label", "origin", "size", "top_terms", "sectors", "quotes"])
        assignments = pd.DataFrame(columns=["contribution_id", "theme", "themes", "origin", "membership"])
        meta = []

    kinds = votes["kind"].astype("string") if len(votes) else pd.Series(dtype="string")
    dots = votes[(kinds == "dot").fillna(False).to_numpy(bool)]
    dot_tally = tally(dots, "dot") if len(dots) else pd.DataFrame(columns=["item", "voters", "score"])
    labels = {theme.id: theme.title for theme in strategy.themes}
    labels.update(dict(zip(themes["theme"], themes["label"], strict=True)))
    # An item on the vote sheet that is no theme ("housing-damp-mould") reads as words.
    dot_tally = dot_tally.assign(label=dot_tally["item"].map(
        lambda item: labels.get(item, str(item).replace("-", " ").replace("_", " ").capitalize())))
    priorities = dot_tally.assign(theme=dot_tally["item"].where(dot_tally["item"].isin(labels)))
    priorities = priorities[["item", "label", "score", "theme"]].reset_index(drop=True)

    poll_votes = votes[(kinds == "agree_disagree").fillna(False).to_numpy(bool)]
    poll = poll_summary(poll_votes) if len(poll_votes) else pd.DataFrame()
    groups = None
    found = None
    agree: list[str] = []
    disagree: list[str] = []
    representative: dict = {}
    divisive = pd.DataFrame()
    uncertain = pd.DataFrame()
    if len(poll_votes):
        exclude = list(meta)
        if poll_votes["participant"].nunique() >= MIN_POLL_PARTICIPANTS:
            found = opinion_groups(poll_votes, exclude=exclude or None)
            groups = found.groups
            result = consensus(poll_votes, groups, exclude=exclude or None)
            agree, disagree = list(result.agree), list(result.disagree)
            representative = representative_statements(poll_votes, groups, exclude=exclude or None)
            divisive = divisive_statements(poll_votes, groups, exclude=exclude or None)
        uncertain = uncertain_statements(poll_votes, exclude=exclude or None)
    balance = voice_balance(contributions, strategy.stakeholders_frame())
    return VoicesView(
        contributions=said,
        themes=themes,
        assignments=assignments,
        meta_statements=list(meta),
        dot_tally=dot_tally,
        poll=poll,
        statements=statements,
        groups=groups,
        opinion=found,
        consensus_agree=agree,
        consensus_disagree=disagree,
        representative=representative,
        divisive=divisive,
        uncertain=uncertain,
        balance=balance,
        priorities=priorities,
    )


def area_series(briefing: Briefing, indicator_id: int, sex: str, age: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An indicator's time series for the briefing's area and for England, oldest first."""
    empty = briefing.indicator_data.iloc[0:0]
    series = briefing.series_by_key
    return tuple(
        series.get((code, indicator_id, sex, age), empty).reset_index(drop=True)
        for code in (briefing.area_code, ENGLAND_CODE)
    )
