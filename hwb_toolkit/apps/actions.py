"""The Actions page: who is doing what, adding and updating actions, gaps and who should talk.

Role: floor 4 (UI). Layout and events only. The register is the shared store's
(:meth:`hwb_toolkit.store.Store.actions`). A new action is added with
:meth:`~hwb_toolkit.store.Store.new_action`, which gives it the next free id
inside the store's write transaction (so two partners adding actions at once
get two ids; the page never works the id out from the register it read). An
update goes through :meth:`~hwb_toolkit.store.Store.save_action`, which keeps
every version in the store's history and refuses to overwrite someone else's
newer edit (the page passes the ``updated_at`` it loaded). Checks are the register's own
(:func:`hwb_toolkit.system.validate_actions`), shown as one plain sentence
naming the form field. Gaps and suggested conversations are
:func:`hwb_toolkit.system.gaps` and :func:`~hwb_toolkit.system.connections`;
what partners said (for "responds to" and the voted-theme gaps) is the
briefing's own priorities (:func:`hwb_toolkit.briefing.analyse_voices`).

Contributed text (titles, organisations, what partners said) is only ever
shown escaped (:func:`hwb_toolkit.apps.common.escape`) or as the plain-text
label of a form option.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from hwb_toolkit.apps.common import (
    FORM_CSS,
    column,
    dropdown,
    escape,
    friendly_errors,
    heading,
    row,
    section,
    show_status,
    status_line,
    style_widget,
    text_html,
    workspace_path,
)
from hwb_toolkit.errors import HwbError, InputError
from hwb_toolkit.schema import ACTION_COLUMNS, ACTION_LIST_COLUMNS, ACTION_STATUSES
from hwb_toolkit.system import connections, gaps, validate_actions
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.text.labels import STATUS_LABELS, status_label
from hwb_toolkit.text.quotes import truncate_text
from hwb_toolkit.workspace import Workspace

logger = logging.getLogger("hwb_toolkit.apps")

#: Value of the filters' "everything" choice and of the editor's "new action" choice.
ALL = ""
NEW_ACTION = ""
#: Form field each register column is typed into (for messages that name the field).
FIELD_LABELS = {
    "action_id": "Action",
    "title": "What is the action?",
    "lead_org": "Lead organisation",
    "partner_orgs": "Partners",
    "objectives": "Objectives",
    "themes": "Themes",
    "status": "Status",
    "start": "Start",
    "end": "End",
    "linked_indicators": "Indicators it should move",
    "responds_to": "Responds to what partners said",
    "area_code": "Area",
    "updated_by": "Your role",
}
#: Stand-in id a new action is checked under (the store gives it its real id when saved).
NEW_ACTION_CHECK_ID = "(new action)"
#: Kinds of contribution offered under "responds to" (statements and poll items are votes).
SAID_KINDS = ("post_it", "open_space_note", "forum_post", "survey_answer", "wiki_edit")
_OPTION_CHARS = 90

PAGE_EXTRA_CSS = """
.hwb-action { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem 0.7rem;
              margin: 0.4rem 0; max-width: 48rem; overflow-wrap: anywhere; }
.hwb-action h3 { margin: 0 0 0.2rem; font-size: 1.05rem; }
.hwb-action p { margin: 0.15rem 0; }
.hwb-actions-list { list-style: none; padding: 0; margin: 0; }
.hwb-actions-scroll { max-height: 36rem; overflow-y: auto; border: 1px solid #ddd;
                      padding: 0 0.5rem; max-width: 50rem; }
.hwb-actions-scroll:focus { outline: 2px solid #2f6f9f; }
.hwb-page select[multiple] { font-size: 0.95rem; }
""" + FORM_CSS


# --- the register in and out of the form ---------------------------------------------------


def record_frame(record: dict[str, Any]) -> pd.DataFrame:
    """One action as a one-row register (ACTION_COLUMNS, lists as lists, dates as datetime64)."""
    values = {name: [record.get(name)] for name in ACTION_COLUMNS}
    for name in ACTION_LIST_COLUMNS:
        values[name] = pd.Series([list(record.get(name) or [])], dtype=object)
    frame = pd.DataFrame(values)
    for name in ("start", "end"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    return frame


def check_action(record: dict[str, Any], strategy: Strategy) -> list[str]:
    """Check one action as the register does; returns the warnings as plain sentences.

    Raises :class:`InputError` whose message names the form field (from
    :data:`FIELD_LABELS`) for anything that would make the register unusable:
    a blank title, lead organisation or status, an end before the start,
    objective or theme ids the strategy does not define. A new action (no
    ``action_id`` yet) is checked under :data:`NEW_ACTION_CHECK_ID`.
    """
    frame = record_frame({**record, "action_id": record.get("action_id") or NEW_ACTION_CHECK_ID})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = validate_actions(frame, strategy)
    except HwbError as error:
        field = FIELD_LABELS.get(error.column or "", error.column or "The action")
        first_line = error.message.splitlines()[0]
        raise InputError(f"{field}: {first_line}") from None
    return [f"{FIELD_LABELS.get(w.column or '', w.column or 'Note')}: {w.message}" for w in found]


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


# --- what partners said ----------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """What partners said, for "responds to": themes by priority, then contributions.

    ``options``: (label, id) pairs, highest-voted first; ``labels``: id -> label
    (plain text, for showing what an action responds to); ``priorities``: the
    briefing's priorities frame (item, label, score, theme) for :func:`gaps`.
    """

    options: list[tuple[str, str]]
    labels: dict[str, str]
    priorities: pd.DataFrame
    #: The themes engine's assignments (which themes each contribution sits under).
    assignments: pd.DataFrame


def what_partners_said(workspace: Workspace) -> Said:
    """Themes and contributions an action can respond to, best voted first."""
    from hwb_toolkit.voices.digest import analyse_voices

    strategy = workspace.strategy
    contributions = workspace.contributions()
    votes = workspace.votes()
    voices = analyse_voices(contributions, votes, strategy)
    priorities = voices.priorities
    scores = dict(zip(priorities["item"].astype(str), priorities["score"], strict=True))
    titles = {theme.id: theme.title for theme in strategy.themes}
    theme_ids = sorted(titles, key=lambda t: (-float(scores.get(t, 0) or 0), list(titles).index(t)))
    options, labels = [], {}
    for theme_id in theme_ids:
        score = float(scores.get(theme_id, 0) or 0)
        label = f"Theme: {titles[theme_id]}" + (f" ({score:g} votes)" if score else "")
        options.append((label, theme_id))
        labels[theme_id] = f"Theme: {titles[theme_id]}"
    kinds = contributions["kind"].astype("string")
    said = contributions[kinds.isin(SAID_KINDS).fillna(False).to_numpy(dtype=bool)]
    said = said.assign(_score=said["contribution_id"].astype(str).map(scores).fillna(0.0))
    said = said.sort_values("_score", ascending=False, kind="stable")
    for contribution_id, text in zip(said["contribution_id"].astype(str),
                                     said["text"].astype(str), strict=True):
        if contribution_id in labels:
            continue
        label = f"Said: {truncate_text(' '.join(text.split()), _OPTION_CHARS)}"
        options.append((label, contribution_id))
        labels[contribution_id] = label
    return Said(options, labels, priorities, voices.assignments)


def indicator_summary(workspace: Workspace) -> pd.DataFrame | None:
    """The partnership's home area's indicator summary (for indicator gaps), with the
    strategy's columns and display names as the briefing has them, or None."""
    from hwb_toolkit.indicators.summary import summarise_area
    from hwb_toolkit.report.shared import with_strategy_columns

    strategy = workspace.strategy
    if not strategy.home_area:
        return None
    data = workspace.indicators
    data = data[data["category_type"].isna().to_numpy(dtype=bool)]
    return with_strategy_columns(summarise_area(data, strategy.home_area, polarity=strategy.polarity()),
                                 strategy)


# --- markup -----------------------------------------------------------------------------------


def _names(values: Any) -> list[str]:
    if values is None or isinstance(values, float):
        return []
    return [str(v) for v in values]


def action_card_markup(action: dict[str, Any], strategy: Strategy, said: dict[str, str]) -> str:
    """One action as an escaped HTML card: title, who, status, dates, themes, what it answers."""
    theme_titles = {t.id: t.title for t in strategy.themes}
    objective_titles = {o.id: o.title for o in strategy.objectives}
    status = status_label(action["status"]) if action.get("status") in STATUS_LABELS else action.get("status")
    lines = [f"<h3>{escape(action.get('title'))}</h3>",
             f"<p><strong>{escape(status)}</strong> · led by {escape(action.get('lead_org'))}"
             + (f" with {escape(', '.join(_names(action.get('partner_orgs'))))}"
                if _names(action.get("partner_orgs")) else "") + "</p>"]
    start, end = _as_date(action.get("start")), _as_date(action.get("end"))
    if start or end:
        when = (f"from {start:%d %B %Y}" if start else "") + (f" to {end:%d %B %Y}" if end else "")
        lines.append(f"<p>{escape(when.strip())}</p>")
    about = [objective_titles.get(o, o) for o in _names(action.get("objectives"))]
    about += [theme_titles.get(t, t) for t in _names(action.get("themes"))]
    if about:
        lines.append(f"<p>Works on: {escape(', '.join(dict.fromkeys(about)))}</p>")
    answers = [said.get(i, i) for i in _names(action.get("responds_to"))]
    if answers:
        lines.append("<p>Responds to: " + escape("; ".join(answers)) + "</p>")
    lines.append(f'<p class="hwb-muted">{escape(action.get("action_id"))}'
                 + (f" · updated by {escape(action.get('updated_by'))}"
                    if isinstance(action.get("updated_by"), str) else "") + "</p>")
    return f'<li class="hwb-action">{"".join(lines)}</li>'


def filter_actions(actions: pd.DataFrame, strategy: Strategy, *, theme: str = ALL,
                   organisation: str = ALL, status: str = ALL) -> pd.DataFrame:
    """Actions on ``theme`` (named directly, or through its objective), involving
    ``organisation`` (lead or partner, ignoring case) and with ``status``; ALL = any."""
    keep = pd.Series(True, index=actions.index)
    if theme:
        # An action naming the theme, or naming only the theme's objective (no theme at all).
        objective = strategy.theme_objectives().get(theme)
        names_theme = actions["themes"].map(lambda ts: theme in (ts or []))
        objective_only = actions["themes"].map(lambda ts: not ts) & actions["objectives"].map(
            lambda objectives: objective in (objectives or []))
        keep &= (names_theme | objective_only).astype(bool)
    if organisation:
        key = " ".join(organisation.split()).casefold()
        keep &= (actions["lead_org"].astype(str).map(lambda o: " ".join(o.split()).casefold() == key)
                 | actions["partner_orgs"].map(
                     lambda ps: any(" ".join(str(p).split()).casefold() == key for p in (ps or []))))
    if status:
        keep &= actions["status"].eq(status)
    return actions[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def gaps_markup(found: pd.DataFrame, strategy: Strategy, summary: pd.DataFrame | None,
                actions: pd.DataFrame, theme_links: pd.DataFrame | None = None) -> str:
    """Gaps as plain sentences, grouped by kind (escaped): the briefing's own sentences
    (:func:`hwb_toolkit.sections.gap_sentence`), not the engine's working notes."""
    from hwb_toolkit.report.sections.objectives import gap_sentence, objective_organisations

    if found.empty:
        return '<p class="hwb-muted">No gaps found: every high-voted theme, worrying indicator ' \
               "and objective has someone working on it.</p>"
    headings = {
        "voted_theme_without_action": "Partners voted for these, but nobody is acting on them",
        "indicator_without_action": "Indicators worse than England or getting worse, with no linked action",
        "single_sector_objective": "Objectives only one sector is working on",
        "objective_without_action": "Objectives with no planned or active action",
    }
    parts = []
    for kind, title in headings.items():
        rows = found[found["kind"].eq(kind).to_numpy(dtype=bool)]
        if rows.empty:
            continue
        items = "".join(
            "<li>" + escape(gap_sentence(
                r, strategy=strategy, indicators=summary, theme_links=theme_links,
                organisations=objective_organisations(strategy, actions, r["objective"])
                if r["kind"] == "single_sector_objective" else frozenset(),
            )) + "</li>"
            for r in rows.to_dict("records"))
        parts.append(f"<h3>{escape(title)}</h3><ul>{items}</ul>")
    return "".join(parts)


def conversations_markup(suggestions: pd.DataFrame, limit: int = 8) -> str:
    """Suggested conversations ("you two should talk"), one per pair of organisations."""
    if suggestions.empty:
        return '<p class="hwb-muted">No suggestions: organisations on the same themes already ' \
               "share actions.</p>"
    from hwb_toolkit.report.sections.closing import conversation_reason

    pairs = suggestions.drop_duplicates(["org_a", "org_b"]).head(limit)
    items = "".join(
        f"<li><strong>{escape(r['org_a'])}</strong> and <strong>{escape(r['org_b'])}</strong>: "
        f"{escape(conversation_reason(r['theme_title']))}.</li>" for r in pairs.to_dict("records"))
    return f"<ul>{items}</ul>"


# --- the page -----------------------------------------------------------------------------------


class ActionsPage:
    """The Actions page (``.root``); public widgets for tests: filters, form fields, ``save``."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = workspace.store()
        self.strategy = workspace.strategy
        self.said = what_partners_said(workspace)
        try:
            self.summary = indicator_summary(workspace)
        except HwbError as error:  # the page works without the indicator gaps
            logger.warning("indicator gaps left out: %s", error)
            self.summary = None
        self.actions = self.store.actions()
        self._loaded_stamp: Any = None
        self.status = status_line()
        handle = friendly_errors(self.status, what="actions page")

        strategy = self.strategy
        stakeholders = sorted(s.organisation for s in strategy.stakeholders)
        theme_options = [(t.title, t.id) for t in strategy.themes]
        # Filters ------------------------------------------------------------------------
        self.filter_theme = dropdown("Theme", [("All themes", ALL)] + theme_options, ALL)
        self.filter_org = dropdown("Organisation", [("All organisations", ALL)], ALL)
        self.filter_status = dropdown(
            "With status", [("Any status", ALL)] + [(STATUS_LABELS[s], s) for s in ACTION_STATUSES], ALL)
        for box in (self.filter_theme, self.filter_org, self.filter_status):
            box.observe(handle(lambda _c: self._draw_list()), "value")
        self.count = text_html("", css_class="hwb-muted")
        self.list_html = widgets.HTML(layout=widgets.Layout(width="100%"))

        # Form ---------------------------------------------------------------------------
        wide = widgets.Layout(width="100%", max_width="36rem")
        style = {"description_width": "initial"}
        self.editing = dropdown("Add or update", [("A new action", NEW_ACTION)], NEW_ACTION,
                                max_width="36rem")
        self.editing.observe(handle(self._on_pick), "value")
        self.title = widgets.Text(description=FIELD_LABELS["title"], style=style, layout=wide)
        self.lead_org = dropdown(FIELD_LABELS["lead_org"],
                                 [("Choose an organisation", "")] + [(o, o) for o in stakeholders], "")
        self.partner_orgs = widgets.SelectMultiple(
            description=FIELD_LABELS["partner_orgs"], options=stakeholders, rows=5, style=style,
            layout=wide)
        self.objectives = widgets.SelectMultiple(
            description=FIELD_LABELS["objectives"],
            options=[(o.title, o.id) for o in strategy.objectives], rows=4, style=style, layout=wide)
        self.themes = widgets.SelectMultiple(description=FIELD_LABELS["themes"],
                                             options=theme_options, rows=6, style=style, layout=wide)
        self.status_field = dropdown(FIELD_LABELS["status"],
                                     [(STATUS_LABELS[s], s) for s in ACTION_STATUSES], "planned")
        self.start = widgets.DatePicker(description=FIELD_LABELS["start"], style=style)
        self.end = widgets.DatePicker(description=FIELD_LABELS["end"], style=style)
        self.linked_indicators = widgets.SelectMultiple(
            description=FIELD_LABELS["linked_indicators"],
            options=[(f"{spec.name} ({spec.id})", str(spec.id)) for spec in strategy.indicators],
            rows=5, style=style, layout=wide)
        self.said_filter = widgets.Text(
            description="Find what partners said", placeholder="a word, e.g. bus",
            continuous_update=True, style=style, layout=wide)
        self.said_filter.observe(handle(lambda _c: self._filter_said()), "value")
        self.responds_to = widgets.SelectMultiple(
            description=FIELD_LABELS["responds_to"], options=self.said.options, rows=8,
            style=style, layout=wide)
        areas = self._area_options()
        self.area = dropdown(FIELD_LABELS["area_code"], areas, "")
        self.updated_by = widgets.Text(
            description=FIELD_LABELS["updated_by"], placeholder="e.g. walks coordinator",
            style=style, layout=widgets.Layout(width="100%", max_width="28rem"))
        self.save = widgets.Button(description="Save action", button_style="primary",
                                   tooltip="Save this action to the shared register")
        self.save.on_click(handle(self._on_save))
        self.form_status = status_line()

        self.gaps_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.talk_html = widgets.HTML(layout=widgets.Layout(width="100%"))

        self.root = column(
            style_widget(),
            widgets.HTML(f"<style>{PAGE_EXTRA_CSS}</style>", layout=widgets.Layout(height="0")),
            heading("Who is doing what", 1),
            text_html(strategy.vision),
            self.status,
            section("Find actions", row(self.filter_theme, self.filter_org, self.filter_status),
                  self.count, self.list_html),
            section("Add or update your action",
                  text_html("Choose one of your actions to update it, or add a new one. Link it "
                            "to what partners said so they can see what happened.",
                            css_class="hwb-muted"),
                  self.editing, self.title, self.lead_org, self.partner_orgs, self.objectives,
                  self.themes, self.status_field, row(self.start, self.end),
                  self.linked_indicators, self.said_filter, self.responds_to, self.area,
                  self.updated_by, self.save, self.form_status),
            section("Gaps", self.gaps_html),
            section("Suggested conversations", self.talk_html),
        )
        self.root.add_class("hwb-actions")
        self._reload()

    # .. helpers ..............................................................................
    def _area_options(self) -> list[tuple[str, str]]:
        options = [("The whole partnership", "")]
        try:
            areas = self.workspace.briefing_areas()
        except HwbError:
            return options
        return options + [(name, code) for code, name in
                          zip(areas["area_code"], areas["area_name"], strict=True)]

    def _reload(self) -> None:
        self.actions = self.store.actions()
        organisations = sorted(
            set(s.organisation for s in self.strategy.stakeholders)
            | set(self.actions["lead_org"].dropna().astype(str)),
            key=str.casefold)
        current = self.filter_org.value
        self.filter_org.options = [("All organisations", ALL)] + [(o, o) for o in organisations]
        self.filter_org.value = current if current in organisations else ALL
        chosen = self.editing.value
        self.editing.options = [("A new action", NEW_ACTION)] + [
            (truncate_text(f"{a} · {t}", 80), a) for a, t in
            zip(self.actions["action_id"], self.actions["title"], strict=True)]
        self.editing.value = chosen if chosen in set(self.actions["action_id"]) else NEW_ACTION
        self._draw_list()
        self._draw_analyses()

    def _draw_list(self) -> None:
        shown = filter_actions(self.actions, self.strategy, theme=self.filter_theme.value,
                               organisation=self.filter_org.value, status=self.filter_status.value)
        total = len(self.actions)
        self.count.value = f'<p class="hwb-muted">{len(shown)} of {total} actions</p>'
        if shown.empty:
            self.list_html.value = '<p>No action matches. Try another theme or organisation.</p>'
            return
        cards = "".join(action_card_markup(a, self.strategy, self.said.labels)
                        for a in shown.to_dict("records"))
        # A scrolling region (focusable, so it scrolls with the keyboard too).
        self.list_html.value = (
            '<div class="hwb-actions-scroll" role="region" aria-label="Actions found" tabindex="0">'
            f'<ul class="hwb-actions-list">{cards}</ul></div>')

    def _draw_analyses(self) -> None:
        priorities = self.said.priorities if len(self.said.priorities) else None
        from hwb_toolkit.system.themes import theme_action_links, with_contribution_themes

        found = gaps(self.strategy, self.actions, self.summary, priorities)
        links = theme_action_links(with_contribution_themes(self.actions, self.said.assignments),
                                   self.strategy)
        self.gaps_html.value = gaps_markup(found, self.strategy, self.summary, self.actions, links)
        self.talk_html.value = conversations_markup(connections(self.actions, self.strategy).suggestions)

    def _filter_said(self) -> None:
        words = self.said_filter.value.strip().casefold()
        chosen = set(self.responds_to.value)
        options = [(label, value) for label, value in self.said.options
                   if not words or words in label.casefold() or value in chosen]
        self.responds_to.options = options
        self.responds_to.value = tuple(v for _, v in options if v in chosen)

    # .. events .................................................................................
    def _on_pick(self, _change: Any) -> None:
        action_id = self.editing.value
        show_status(self.form_status, "")
        if action_id == NEW_ACTION:
            self._loaded_stamp = None
            self.title.value = ""
            self.lead_org.value = ""
            for box in (self.partner_orgs, self.objectives, self.themes, self.linked_indicators,
                        self.responds_to):
                box.value = ()
            self.status_field.value = "planned"
            self.start.value = self.end.value = None
            self.area.value = ""
            return
        action = self.actions[self.actions["action_id"].eq(action_id).to_numpy(dtype=bool)].iloc[0]
        self._loaded_stamp = action["updated_at"]
        self.title.value = str(action["title"])
        lead = str(action["lead_org"])
        _ensure_options(self.lead_org, [lead], {})
        self.lead_org.value = lead
        for box, name in ((self.partner_orgs, "partner_orgs"), (self.objectives, "objectives"),
                          (self.themes, "themes"), (self.linked_indicators, "linked_indicators"),
                          (self.responds_to, "responds_to")):
            values = _names(action[name])
            # Keep what the register holds even when the form offers no such option.
            _ensure_options(box, values, self.said.labels)
            box.value = tuple(values)
        self.status_field.value = str(action["status"])
        self.start.value, self.end.value = _as_date(action["start"]), _as_date(action["end"])
        area = action["area_code"]
        self.area.value = area if isinstance(area, str) and area in _option_values(self.area) else ""

    def _record(self) -> dict[str, Any]:
        """The form as an action record; ``action_id`` is None for a new action."""
        return {
            "action_id": self.editing.value or None,
            "title": self.title.value.strip() or None,
            "lead_org": self.lead_org.value or None,
            "partner_orgs": [o for o in self.partner_orgs.value if o != self.lead_org.value],
            "objectives": list(self.objectives.value),
            "themes": list(self.themes.value),
            "status": self.status_field.value,
            "start": self.start.value,
            "end": self.end.value,
            "linked_indicators": list(self.linked_indicators.value),
            "responds_to": list(self.responds_to.value),
            "area_code": self.area.value or None,
            "updated_at": None,
            "updated_by": self.updated_by.value.strip() or None,
        }

    def _on_save(self, _button: Any) -> None:
        try:
            record = self._record()
            notes = check_action(record, self.strategy)
            if not record["updated_by"]:
                raise InputError(f"{FIELD_LABELS['updated_by']}: say who is saving this (a role, "
                                 "not your name), so partners know whom to ask.")
            if record["action_id"] is None:
                saved = self.store.new_action(record, by=record["updated_by"])
            else:
                saved = self.store.save_action(record, by=record["updated_by"],
                                               expected_updated_at=self._loaded_stamp)
        except HwbError as error:
            show_status(self.form_status, _first_sentence(error), "error")
            return
        self._reload()
        self.editing.value = saved["action_id"]
        self._loaded_stamp = saved["updated_at"]
        message = f"Saved {saved['action_id']}: “{saved['title']}”."
        if notes:
            message += " Note: " + " ".join(notes)
        show_status(self.form_status, message, "ok")


def _option_values(box: widgets.widget_selection._Selection) -> list[Any]:
    return [option[1] if isinstance(option, tuple) else option for option in box.options]


def _ensure_options(box: widgets.widget_selection._Selection, values: list[str],
                    labels: dict[str, str]) -> None:
    """Add ``values`` missing from ``box``'s options (labelled from ``labels``)."""
    known = set(_option_values(box))
    extra = [value for value in values if value not in known]
    if extra:
        box.options = [o if isinstance(o, tuple) else (str(o), o) for o in box.options] + [
            (labels.get(value, value), value) for value in extra]


def _first_sentence(error: HwbError) -> str:
    """A store or check error as one sentence (no file paths)."""
    return error.message.splitlines()[0]


def actions_page(workspace: str | Path | Workspace | None = None) -> widgets.VBox:
    """Build the Actions page; ``workspace`` defaults to ``$HWB_WORKSPACE``.

    Returns the root widget (with ``.actions_page`` pointing at the :class:`ActionsPage`).
    """
    workspace = Workspace.open(workspace if workspace is not None else workspace_path())
    page = ActionsPage(workspace)
    page.root.actions_page = page
    return page.root


__all__ = [
    "ActionsPage",
    "actions_page",
    "check_action",
    "filter_actions",
    "record_frame",
    "what_partners_said",
    "FIELD_LABELS",
]
