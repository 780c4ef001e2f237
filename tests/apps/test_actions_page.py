"""Actions page (hwb_toolkit/apps/actions.py): checks, filters, saving with history, briefing.

Fast tests drive the page's widgets in-process against a real store; the browser
test drives the served page in Chromium; the briefing test runs the real pipeline.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from hwb_toolkit.apps.actions import (
    ActionsPage,
    actions_page,
    check_action,
    filter_actions,
    what_partners_said,
)
from hwb_toolkit.errors import InputError
from hwb_toolkit.workspace import Workspace, init_workspace

from .conftest import wait_for_page

SCRIPT_TITLE = "<script>alert(1)</script> Bus buddies for the leisure centre"


@pytest.fixture
def workspace(private_workspace) -> Workspace:
    return private_workspace


@pytest.fixture
def page(workspace) -> ActionsPage:
    return actions_page(workspace).actions_page


def fill_new_action(page: ActionsPage, *, title: str = SCRIPT_TITLE) -> None:
    page.editing.value = ""
    page.title.value = title
    page.lead_org.value = "Newcastle City Council"
    page.partner_orgs.value = ("Tyneside Walking Friends",)
    page.themes.value = ("transport-access",)
    page.status_field.value = "active"
    page.start.value = dt.date(2026, 12, 1)
    page.end.value = dt.date(2027, 3, 31)
    page.updated_by.value = "transport officer"


def record(**changes):
    base = {
        "action_id": "A900", "title": "Lit paths", "lead_org": "Newcastle City Council",
        "partner_orgs": [], "objectives": ["active-lives"], "themes": ["walking-cycling"],
        "status": "planned", "start": dt.date(2026, 12, 1), "end": None,
        "linked_indicators": [], "responds_to": [], "area_code": None, "updated_at": None,
        "updated_by": "officer",
    }
    return {**base, **changes}


# --- pure helpers ---------------------------------------------------------------------------------


def test_check_action_names_the_form_field(workspace):
    strategy = workspace.strategy
    assert check_action(record(), strategy) == []
    assert check_action(record(action_id=None), strategy) == []  # a new action has no id yet
    with pytest.raises(InputError, match=r"^What is the action\?: title is blank"):
        check_action(record(title=None), strategy)
    with pytest.raises(InputError, match=r"^Lead organisation: lead_org is blank"):
        check_action(record(lead_org=None), strategy)
    with pytest.raises(InputError, match=r"^End: end 2026-11-01 is before start 2026-12-01"):
        check_action(record(end=dt.date(2026, 11, 1)), strategy)
    with pytest.raises(InputError, match=r"^Themes: 'walking' is not the id of any theme"):
        check_action(record(themes=["walking"]), strategy)
    notes = check_action(record(partner_orgs=["Acme Gyms Ltd"]), strategy)
    assert len(notes) == 1 and notes[0].startswith("Partners: 'Acme Gyms Ltd' is not in the")


def test_filter_actions_by_theme_organisation_and_status(workspace):
    actions = workspace.actions()
    strategy = workspace.strategy
    on_theme = filter_actions(actions, strategy, theme="walking-cycling")
    objective = strategy.theme_objectives()["walking-cycling"]
    expected = [a for a, themes, objectives in zip(actions["action_id"], actions["themes"],
                                                   actions["objectives"], strict=True)
                if "walking-cycling" in themes or (not themes and objective in objectives)]
    assert on_theme["action_id"].tolist() == expected and len(expected) >= 3
    by_org = filter_actions(actions, strategy, organisation="  tyneside WALKING friends ")
    assert len(by_org) >= 3
    assert all(lead == "Tyneside Walking Friends" or "Tyneside Walking Friends" in partners
               for lead, partners in zip(by_org["lead_org"], by_org["partner_orgs"], strict=True))
    active = filter_actions(actions, strategy, theme="walking-cycling", status="active")
    assert set(active["action_id"]) <= set(expected)
    assert (active["status"] == "active").all() and len(active) < len(expected)


def test_what_partners_said_orders_themes_by_votes_then_contributions(workspace):
    said = what_partners_said(workspace)
    values = [value for _, value in said.options]
    theme_ids = [t.id for t in workspace.strategy.themes]
    assert values[: len(theme_ids)] != theme_ids  # reordered by votes, not strategy order
    assert sorted(values[: len(theme_ids)]) == sorted(theme_ids)
    top = said.priorities.sort_values("score", ascending=False)["item"].iloc[0]
    assert values[0] == top
    assert "PI-001" in values and said.labels["PI-001"].startswith("Said: The cycle lane")


# --- the page, in-process -------------------------------------------------------------------------


def test_new_action_saved_with_history_and_shown_escaped(page, workspace):
    fill_new_action(page)
    page.said_filter.value = "bus"
    assert all("bus" in label.casefold() for label, _ in page.responds_to.options)
    page.responds_to.value = ("PI-035",)
    page.said_filter.value = ""  # clearing the filter keeps the choice
    assert page.responds_to.value == ("PI-035",)
    page.save.click()
    assert "Saved A049" in page.form_status.value
    stored = workspace.store().actions().set_index("action_id").loc["A049"]
    assert stored["title"] == SCRIPT_TITLE
    assert stored["responds_to"] == ["PI-035"] and stored["themes"] == ["transport-access"]
    assert stored["updated_by"] == "transport officer"
    assert stored["start"] == pd.Timestamp("2026-12-01")
    history = workspace.store().history(entity="action", entity_id="A049")
    assert history[["action", "by"]].values.tolist() == [["insert", "transport officer"]]
    page.filter_org.value = "Newcastle City Council"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bus buddies" in page.list_html.value
    assert "<script>" not in page.list_html.value
    assert "Responds to: Said: Bus routes" in page.list_html.value

    page.status_field.value = "done"
    page.save.click()
    history = workspace.store().history(entity="action", entity_id="A049")
    assert history["action"].tolist() == ["insert", "update"]
    assert history["before"].iloc[-1]["status"] == "active"
    assert history["after"].iloc[-1]["status"] == "done"


def test_form_errors_name_the_field_and_save_nothing(page, workspace):
    before = len(workspace.store().actions())
    fill_new_action(page, title="  ")
    page.save.click()
    assert "What is the action?: title is blank" in page.form_status.value
    fill_new_action(page)
    page.end.value = dt.date(2026, 1, 1)
    page.save.click()
    assert "End: end 2026-01-01 is before start 2026-12-01" in page.form_status.value
    fill_new_action(page)
    page.updated_by.value = ""
    page.save.click()
    assert "Your role: say who is saving this" in page.form_status.value
    assert 'role="alert"' in page.form_status.value
    assert len(workspace.store().actions()) == before


def test_two_tabs_adding_actions_at_once_get_their_own_ids(workspace):
    first = actions_page(workspace).actions_page
    second = actions_page(workspace).actions_page  # both opened with A048 the last action
    fill_new_action(first, title="Bus buddies")
    fill_new_action(second, title="Walking netball")
    second.updated_by.value = "leisure officer"
    first.save.click()
    second.save.click()
    assert "Saved A049: “Bus buddies”" in first.form_status.value
    assert "Saved A050: “Walking netball”" in second.form_status.value
    stored = workspace.store().actions().set_index("action_id")
    assert (stored.loc["A049", "title"], stored.loc["A050", "title"]) == ("Bus buddies",
                                                                         "Walking netball")
    history = workspace.store().history(entity="action")
    new = history[history["entity_id"].isin(["A049", "A050"]).to_numpy(dtype=bool)]
    assert new[["entity_id", "action", "by"]].values.tolist() == [
        ["A049", "insert", "transport officer"], ["A050", "insert", "leisure officer"]]
    # The second tab now edits its own action, not the first one's.
    assert second.editing.value == "A050" and second.title.value == "Walking netball"


def test_editing_loads_the_action_and_refuses_a_stale_save(workspace):
    first = actions_page(workspace).actions_page
    second = actions_page(workspace).actions_page
    for tab in (first, second):
        tab.editing.value = "A001"
    assert first.title.value == "Led walks from GP surgeries, weekly"
    assert first.lead_org.value == "Tyneside Walking Friends"
    assert first.responds_to.value == ("PI-020", "walking-cycling")
    assert first.linked_indicators.value == ("93014", "93015")
    first.status_field.value = "done"
    first.updated_by.value = "walks coordinator"
    first.save.click()
    assert "Saved A001" in first.form_status.value
    second.title.value = "Led walks, twice weekly"
    second.updated_by.value = "surgery manager"
    second.save.click()
    assert "after you opened it; reload it and save again" in second.form_status.value
    stored = workspace.store().actions().set_index("action_id").loc["A001"]
    assert (stored["status"], stored["title"]) == ("done", "Led walks from GP surgeries, weekly")


def test_gaps_and_conversations_follow_the_register(page, workspace):
    assert "Takeaways, shops and advertising" in page.gaps_html.value
    assert "both work on" in page.talk_html.value
    page.editing.value = ""
    page.title.value = "Healthier takeaway pledge with local shops"
    page.lead_org.value = "Newcastle City Council"
    page.themes.value = ("food-environment",)
    page.status_field.value = "active"
    page.updated_by.value = "food officer"
    page.save.click()
    assert "Saved" in page.form_status.value
    voted_gaps = page.gaps_html.value.split("Indicators worse")[0]
    assert "Takeaways, shops and advertising" not in voted_gaps


def test_gaps_and_suggestions_read_as_plain_sentences(page):
    gaps = html.unescape(re.sub(r"<[^>]+>", " ", page.gaps_html.value))
    gaps = " ".join(gaps.split())
    # The briefing's own sentences, not the engine's working notes.
    assert ("Hospital admissions for mental health conditions, under 18s, is significantly worse than "
            "England, but no planned or active action is linked to it.") in gaps
    assert 'Partners voted "Takeaways, shops and advertising" among their top priorities' in gaps
    for note in ("linked_indicators", "vs", "'Worse'", "150.447", "score 29", "2nd of", "(other actions"):
        assert note not in gaps, note
    assert not re.search(r"\bA0\d\d\b", gaps)  # no action ids
    talk = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.talk_html.value)).split())
    assert "but share no action yet." in talk
    assert not re.search(r"\bA0\d\d\b", talk) and ";" not in talk


# --- the briefing ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.notebook
def test_action_added_on_the_page_shows_escaped_in_the_next_briefing(page, workspace, tmp_path):
    from hwb_toolkit.report.pipeline import build_report

    fill_new_action(page)
    page.save.click()
    assert "Saved A049" in page.form_status.value
    report = build_report(workspace.root, workspace.strategy.home_area, "2026-11", tmp_path / "out")
    html = (report / "briefing.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bus buddies for the leisure centre" in html
    assert "<script>alert(1)</script>" not in html


# --- in the browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_actions_page_in_the_browser(tmp_path, start_voila, open_page, screenshot):
    from playwright.sync_api import expect

    from hwb_toolkit.store import Store

    root = init_workspace(tmp_path / "workspace")
    (tmp_path / "reports").mkdir()
    Workspace.open(root).store().close()
    server = start_voila(root, reports=tmp_path / "reports")
    url = server.page_url("actions.ipynb")
    started = time.monotonic()
    desktop = open_page(url)
    phone = open_page(url, {"width": 390, "height": 844})
    dialogs: list[str] = []
    for watched in (desktop, phone):
        watched.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        wait_for_page(watched, server=server)
    page_ = desktop.page
    expect(page_.locator(".hwb-actions-list")).to_contain_text("Led walks from GP surgeries")

    # Find who is doing what.
    page_.get_by_label("Theme", exact=True).select_option(label="Walking and cycling")
    page_.get_by_label("Organisation", exact=True).select_option(label="Tyneside Walking Friends")
    expect(page_.locator(".hwb-actions-list")).to_contain_text("Train 12 new volunteer walk leaders")
    expect(page_.locator(".hwb-actions-list")).not_to_contain_text("food")

    # A blank title is refused with a message naming the field.
    page_.get_by_label("Lead organisation").select_option(label="Newcastle City Council")
    page_.get_by_label("Your role").fill("transport officer")
    page_.get_by_role("button", name="Save action").click()
    expect(page_.locator(".hwb-status-error")).to_contain_text("What is the action?: title is blank")

    # Add an action that answers what partners said.
    page_.get_by_label("What is the action?").fill(SCRIPT_TITLE)
    page_.get_by_label("Themes", exact=True).select_option(label="Getting about")
    page_.get_by_label("Status", exact=True).select_option(label="Under way")
    page_.get_by_label("Find what partners said").fill("leisure centre from the estates")
    responds = page_.get_by_label("Responds to what partners said")
    expect(responds.locator("option")).to_have_count(1)
    responds.select_option(index=0)
    page_.get_by_role("button", name="Save action").click()
    expect(page_.locator(".hwb-status-ok")).to_contain_text("Saved A049")
    page_.get_by_label("Organisation", exact=True).select_option(label="Newcastle City Council")
    page_.get_by_label("Theme", exact=True).select_option(label="All themes")
    expect(page_.locator(".hwb-actions-list")).to_contain_text(SCRIPT_TITLE)
    assert page_.locator(".hwb-actions-list script").count() == 0

    with Store(root / "store.sqlite") as store:
        saved = store.actions().set_index("action_id").loc["A049"]
        assert saved["title"] == SCRIPT_TITLE
        assert saved["responds_to"] == ["PI-035"]
        assert saved["themes"] == ["transport-access"] and saved["status"] == "active"
        history = store.history(entity="action", entity_id="A049")
        assert history[["action", "by"]].values.tolist() == [["insert", "transport officer"]]

    for watched, name in ((desktop, "actions-desktop"), (phone, "actions-phone")):
        whole_page_screenshot(screenshot, watched.page, name)
    assert dialogs == []
    for watched in (desktop, phone):
        assert watched.external_requests() == []
        assert watched.errors() == []
    assert time.monotonic() - started < 60


def whole_page_screenshot(screenshot, page, name: str) -> Path:
    """Voila scrolls inside the page, so grow the viewport to the page's height first."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector('.hwb-page').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": int(height) + 120})
    try:
        return screenshot(page, name)
    finally:
        page.set_viewport_size(size)
