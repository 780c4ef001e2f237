"""The Explorer page: one area's indicators, what partners said and what is being done.

Role: floor 4 (UI). Layout and events only: every number, sentence and chart comes from
the engines via :mod:`hwb_toolkit.briefing` and :mod:`hwb_toolkit.sections` (the same
code the monthly briefing uses, so the page and the briefing never disagree).

Data: :class:`ExplorerData` reads the tables the latest pipeline run prepared
(``reports/<latest period>/.prepared/*.parquet``, via ``SharedTables.load``: fast); when
there are none it computes them from the workspace once (``compute_shared_tables``) and
keeps them in a private folder for this kernel. Everything per area is computed when the
area is first shown and cached, so coming back to an area is instant.

Speed of an area change (the page's promise: the narrative updates in well under 0.5 s):
the handler first rewrites the heading and the indicator sentences (from the summary of
every area, computed once at start: a filter and a template per indicator), then the
slower parts in order: what partners said and what is being done (the area's briefing,
built once per area), the spine chart and the objective's trend charts (SVG made offline
by vl-convert, about 30 ms a chart once warm; cached per area and objective). Each widget
is sent to the browser as soon as it is set, so partners read the new narrative while the
charts are drawn.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from hwb_toolkit.apps.common import (
    bullet_markup,
    column,
    dropdown,
    escape,
    friendly_errors,
    friendly_message,
    heading,
    link_markup,
    panel,
    reports_path,
    row,
    show_status,
    status_line,
    style_widget,
    text_markup,
    workspace_path,
)
from hwb_toolkit.privacy import suppress_small
from hwb_toolkit.report.sections.first_part import glance_context
from hwb_toolkit.report.sections.objectives import objective_context
from hwb_toolkit.report.shared import latest_prepared, with_strategy_columns
from hwb_toolkit.text.labels import series_label, status_label
from hwb_toolkit.text.numbers import pluralise
from hwb_toolkit.workspace import Workspace

logger = logging.getLogger("hwb_toolkit.apps.explorer")

#: Environment variable: the address of the reports folder as seen from the page
#: (default ``../../reports``: from ``/voila/render/explorer.ipynb`` to ``/reports/``).
REPORTS_URL_ENV = "HWB_REPORTS_URL"
DEFAULT_REPORTS_URL = "../../reports"

#: CSS classes the tests and the benchmark look for.
NARRATIVE_CLASS = "hwb-narrative"
SPINE_CLASS = "hwb-spine"
TRENDS_CLASS = "hwb-trends"
VOICES_CLASS = "hwb-voices"
ACTIONS_CLASS = "hwb-actions"
DOWNLOAD_CLASS = "hwb-download"
AREA_CLASS = "hwb-area"
OBJECTIVE_CLASS = "hwb-objective"


class ExplorerData:
    """What the Explorer shows, for every area of a workspace; computed lazily and cached.

    ``workspace``: the workspace folder; ``reports``: the pipeline's reports folder.
    ``period`` is the latest prepared period, or this month when the tables were computed
    here (``source`` says which: "prepared" or "computed").
    """

    def __init__(self, workspace: str | Path | Workspace, reports: str | Path) -> None:
        self.workspace = Workspace.open(workspace)
        self.strategy = self.workspace.strategy
        self.reports = Path(reports)
        found = latest_prepared(self.reports)
        if found is not None:
            # Only the summaries are read now (the narrative needs nothing else); the area's
            # briefing reads the other prepared tables on the worker thread.
            self.period, self.prepared = found
            summaries = pd.read_parquet(self.prepared / "summaries.parquet")
            self.source = "prepared"
        else:
            from hwb_toolkit.report.build import compute_shared_tables

            self.period = date.today().strftime("%Y-%m")
            self.prepared = compute_shared_tables(self.workspace)  # kept, for every area
            summaries = self.prepared.summaries
            self.source = "computed"
        self.parents = set(summaries["parent_code"].dropna())
        self.summary = with_strategy_columns(summaries, self.strategy)
        self._briefings: dict[str, Any] = {}
        self._glance: dict[str, dict] = {}
        self._objective: dict[tuple[str, str], dict] = {}

    # --- choices ------------------------------------------------------------------------
    def areas(self) -> list[tuple[str, str]]:
        """``(name, code)`` of every area with a briefing, sorted by name."""
        with_data = self.summary[["area_code", "area_name"]].drop_duplicates("area_code")
        local = with_data[~with_data["area_code"].isin(self.parents)]
        local = local[local["area_code"] != "E92000001"].sort_values("area_name", kind="stable")
        return [(f"{name} ({code})", code) for code, name in local.itertuples(index=False)]

    def default_area(self) -> str:
        """The strategy's ``home_area`` when it has data, else the first area."""
        codes = [code for _, code in self.areas()]
        if not codes:
            from hwb_toolkit.errors import InputError

            raise InputError("the workspace has no area with indicator data for the strategy")
        home = self.strategy.home_area
        return home if home in codes else codes[0]

    def objectives(self) -> list[tuple[str, str]]:
        """``(title, id)`` of the strategy's objectives, in the strategy's order."""
        return [(objective.title, objective.id) for objective in self.strategy.objectives]

    def area_name(self, area: str) -> str:
        names = self.summary.loc[self.summary["area_code"] == area, "area_name"]
        return str(names.iloc[0]) if len(names) else area

    # --- fast: from the all-area summary --------------------------------------------------
    def indicator_rows(self, area: str, objective: str) -> pd.DataFrame:
        """The summary rows (with unit and subject) of ``objective``'s indicators in ``area``."""
        rows = self.summary[(self.summary["area_code"] == area)
                            & (self.summary["objective"] == objective)]
        return rows.reset_index(drop=True)

    def sentences(self, area: str, objective: str) -> list[dict[str, Any]]:
        """One plain sentence per indicator of ``objective`` in ``area`` (as the briefing
        words it), with the row's ``indicator_id``, ``sex``, ``age``, ``value`` and ``unit``."""
        from hwb_toolkit.text.sentences import indicator_sentence

        name = self.area_name(area)
        out = []
        for record in self.indicator_rows(area, objective).to_dict("records"):
            subject = record.get("subject")
            out.append({
                "name": series_label(record),
                "sentence": indicator_sentence(
                    record, name, unit=record["unit"],
                    subject=None if subject is None or pd.isna(subject) else str(subject),
                ),
                "indicator_id": int(record["indicator_id"]),
                "sex": record["sex"],
                "age": record["age"],
                "value": record["value"],
                "unit": record["unit"],
            })
        return out

    # --- slower: one briefing per area, built once -----------------------------------------
    def briefing(self, area: str):
        """The area's :class:`~hwb_toolkit.report.briefing.Briefing` (built on first use)."""
        if area not in self._briefings:
            from hwb_toolkit.report.build import build_briefing

            self._briefings[area] = build_briefing(
                self.workspace, area, self.period, prepared=self.prepared
            )
        return self._briefings[area]

    def glance(self, area: str) -> dict:
        """The spine chart (SVG and text alternative) and the better/similar/worse counts."""
        if area not in self._glance:

            self._glance[area] = glance_context(self.briefing(area))
        return self._glance[area]

    def objective(self, area: str, objective: str) -> dict:
        """The objective as the briefing shows it: indicators with sentences and trend charts,
        themes with quotes, actions and gaps (``sections.objective_context``)."""
        key = (area, objective)
        if key not in self._objective:

            self._objective[key] = objective_context(self.briefing(area), objective)["objective"]
        return self._objective[key]

    def briefing_file(self, area: str) -> Path | None:
        """``reports/<period>/<area>/briefing.html`` when the pipeline made it."""
        path = self.reports / self.period / area / "briefing.html"
        return path if path.is_file() else None


# --- markup (escaped text only; charts are our own checked SVG) ------------------------------


def _sentences_markup(items: list[dict[str, Any]], area: str) -> str:
    if not items:
        return (f'<div data-area="{escape(area)}">'
                + text_markup("There are no indicators for this objective in this area.") + "</div>")
    parts = [
        f'<div class="hwb-indicator" data-indicator="{item["indicator_id"]}"'
        f' data-sex="{escape(item["sex"])}">'
        f"{text_markup(item['name'], tag='h3')}{text_markup(item['sentence'])}</div>"
        for item in items
    ]
    return f'<div data-area="{escape(area)}">' + "".join(parts) + "</div>"


def _trends_markup(objective: dict, area: str, objective_id: str) -> str:
    figures = [f"<div class=\"hwb-trend\">{text_markup(item['name'], tag='h3')}"
               f"<figure>{item['chart_svg']}<figcaption>{escape(item['chart_caption'])}</figcaption>"
               f"</figure></div>" for item in objective["indicators"]]
    body = "".join(figures) or text_markup("No trend to show.")
    return f'<div data-area="{escape(area)}" data-objective="{escape(objective_id)}">{body}</div>'


def _voices_markup(objective: dict, suppress_below: int) -> str:
    themes = objective["themes"]
    if not themes:
        return text_markup("Partners have not said anything about this objective for this area yet.")
    parts = []
    for theme in themes:
        said = pluralise(suppress_small(theme["count"], suppress_below), "contribution")
        parts.append(text_markup(f"{theme['title']} ({said})", tag="h3"))
        for quote in theme["quotes"]:
            parts.append(
                f"<blockquote>{text_markup(quote['text'])}"
                f"{text_markup('— ' + quote['attribution'], css_class='hwb-muted')}</blockquote>"
            )
    if objective.get("voices_chart_svg"):
        parts.append(f"<figure>{objective['voices_chart_svg']}<figcaption>"
                     f"{escape(objective['voices_chart_caption'])}</figcaption></figure>")
    return "".join(parts)


def _actions_markup(objective: dict) -> str:
    actions = objective["actions"] + objective["actions_elsewhere"]
    parts = []
    if actions:
        parts.append(bullet_markup(
            f"{a['title']} — {a['lead_org']} ({status_label(a['status'])})" for a in actions
        ))
    else:
        parts.append(text_markup("No actions are recorded for this objective in this area yet."))
    if objective["gaps"]:
        parts.append(text_markup("Gaps", tag="h3"))
        parts.append(bullet_markup(gap["detail"] for gap in objective["gaps"]))
    return "".join(parts)


def _spine_markup(glance: dict, area: str) -> str:
    from hwb_toolkit.text.templates import render

    # The briefing's own sentence, from the same counts (sections.comparison_counts).
    words = " ".join(render("comparison_counts.txt.j2", counts=glance["counts"]).split())
    return (f'<div data-area="{escape(area)}">{text_markup(words)}<figure>{glance["chart_svg"]}'
            f"<figcaption>{escape(glance['chart_caption'])}</figcaption></figure></div>")


def _html(css_class: str) -> widgets.HTML:
    box = widgets.HTML(value="", layout=widgets.Layout(width="100%", max_width="100%"))
    box.add_class(css_class)
    return box


# --- the page ---------------------------------------------------------------------------------


class Explorer:
    """The Explorer's widgets and events. ``Explorer(data).page`` is the root widget."""

    def __init__(self, data: ExplorerData, reports_url: str = DEFAULT_REPORTS_URL) -> None:
        self.data = data
        self.reports_url = reports_url.rstrip("/")
        self.status = status_line()
        self.area = dropdown("Area", data.areas(), data.default_area())
        self.area.add_class(AREA_CLASS)
        objectives = data.objectives()
        self.objective = dropdown("Objective", objectives, objectives[0][1] if objectives else None)
        self.objective.add_class(OBJECTIVE_CLASS)
        self.title = heading("", 1)
        self.source_note = _html("hwb-muted")
        self.narrative = _html(NARRATIVE_CLASS)
        self.spine = _html(SPINE_CLASS)
        self.trends = _html(TRENDS_CLASS)
        self.voices = _html(VOICES_CLASS)
        self.actions = _html(ACTIONS_CLASS)
        self.download = _html(DOWNLOAD_CLASS)

        self.page = column(
            style_widget(),
            self.title,
            self.source_note,
            row(self.area, self.objective),
            self.status,
            self.download,
            row(
                panel("What the numbers say", self.narrative),
                panel("How this area compares", self.spine),
            ),
            row(
                panel("What partners said", self.voices),
                panel("What is being done", self.actions),
            ),
            # In a row, so the panel takes the width and its full height: a panel placed
            # straight in the column took its 18rem flex basis as its height (a 288 px box
            # scrolling the charts, cut mid-plot).
            row(panel("Trends", self.trends)),
        )
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hwb-explorer")
        self._lock = threading.Lock()
        self._generation = 0
        self._pending: Future | None = None
        self.source_note.value = text_markup(
            f"Figures as prepared for the {data.period} briefings" if data.source == "prepared"
            else "Figures computed from the workspace (no monthly briefing has been run yet)",
            css_class="hwb-muted",
        )
        handler = friendly_errors(self.status, what="Explorer update")(self._on_change)
        self.area.observe(handler, names="value")
        self.objective.observe(handler, names="value")
        self.refresh()

    def _on_change(self, _change=None) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show the chosen area and objective: the narrative now, the slower parts (voices,
        actions, charts) on the page's worker thread, so the kernel stays responsive."""
        area, objective = self.area.value, self.objective.value
        data = self.data
        name = data.area_name(area)
        self.title.value = text_markup(f"{name}: {data.strategy.name}", tag="h1")
        self.narrative.value = _sentences_markup(data.sentences(area, objective), area)
        self.download.value = self._download_markup(area, name)
        show_status(self.status, f"Showing {name}; drawing the charts…", "info")
        with self._lock:
            self._generation += 1
            generation = self._generation
        self._pending = self._worker.submit(self._fill_in, generation, area, objective)

    def _fill_in(self, generation: int, area: str, objective: str) -> None:
        """The slower parts of :meth:`refresh` (runs on the worker thread). A newer choice
        made meanwhile wins: stale results are computed (and cached) but not shown."""
        try:
            data = self.data
            view = data.objective(area, objective)
            suppress_below = data.briefing(area).suppress_below
            glance = data.glance(area)
            if generation != self._generation:
                return
            self.voices.value = _voices_markup(view, suppress_below)
            self.actions.value = _actions_markup(view)
            self.spine.value = _spine_markup(glance, area)
            self.trends.value = _trends_markup(view, area, objective)
            show_status(self.status, "")
        except Exception as error:  # noqa: BLE001 - shown as a plain message, logged in full
            logger.exception("Explorer: drawing %s / %s failed", area, objective)
            if generation == self._generation:
                show_status(self.status, friendly_message(error), "error")

    def wait(self, timeout: float | None = None) -> None:
        """Block until the slower parts of the last change are shown (tests, benchmarks)."""
        if self._pending is not None:
            self._pending.result(timeout)

    def _download_markup(self, area: str, name: str) -> str:
        if self.data.briefing_file(area) is None:
            return text_markup(f"This month's briefing for {name} has not been made yet.",
                               css_class="hwb-muted")
        href = f"{self.reports_url}/{self.data.period}/{area}/briefing.html"
        return "<p>" + link_markup(href, f"Download the {self.data.period} briefing for {name}",
                                   download=True) + "</p>"


def build_explorer(workspace: str | Path | None = None, reports: str | Path | None = None,
                   reports_url: str | None = None) -> widgets.Widget:
    """The Explorer's root widget for ``workspace`` (default ``$HWB_WORKSPACE``) and the
    pipeline's ``reports`` (default ``$HWB_REPORTS``)."""
    import os

    data = ExplorerData(workspace_path(workspace), reports_path(reports))
    url = reports_url or os.environ.get(REPORTS_URL_ENV) or DEFAULT_REPORTS_URL
    return Explorer(data, url).page


def show_explorer(workspace: str | Path | None = None, reports: str | Path | None = None):
    """Build and display the Explorer (the page notebook's one call); a problem reading the
    workspace shows a plain message instead."""
    from hwb_toolkit.apps.common import show_page

    return show_page(build_explorer, workspace, reports)
