"""The facilitator's Workshop page in Voila (hwb_toolkit/apps/workshop.py).

Fast tests drive the page's widgets in-process against a real store; the browser test
(in tests/apps/live/test_in_browser.py) drives the served page beside the participants'
live pages.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from hwb_toolkit.apps import workshop as workshop_module
from hwb_toolkit.apps.live.access import join_code, live_secret, screen_key
from hwb_toolkit.apps.screening import screen_contributions
from hwb_toolkit.apps.session import (
    DEFAULT_DOTS_PER_ITEM,
    DOTS_PER_ITEM_ENV,
    FACILITATOR_CODE_ENV,
    new_post_it,
)
from hwb_toolkit.apps.workshop import WorkshopPage, page_query, room_links, workshop_page
from hwb_toolkit.errors import StoreError
from hwb_toolkit.workspace import Workspace

from .conftest import run_in_own_loop

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def workspace(private_workspace, monkeypatch) -> Workspace:
    """A private copy of the seeded workspace, with a known facilitator code."""
    monkeypatch.setenv(FACILITATOR_CODE_ENV, "open-sesame")
    return private_workspace


def open_session(workspace: Workspace, *, dots: int = 3, cap: int | None = None,
                 statements=("Parks should be lit", "Swimming should be free")):
    store = workspace.store()
    store.open_session("moving-more", "Moving more", ["walking-cycling", "parks-green-spaces"],
                       list(statements), by="facilitator", dots_per_person=dots,
                       max_dots_per_item=cap)
    return store


def page(workspace: Workspace, **options) -> WorkshopPage:
    root = workshop_page(workspace, query=options.pop("query", {}), refresh_seconds=None, **options)
    return root.workshop


def facilitator(workspace: Workspace, **options) -> WorkshopPage:
    return page(workspace, query={"facilitator": "open-sesame"}, **options)


# --- who sees what ----------------------------------------------------------------------------


def test_anyone_without_the_code_is_told_how_to_join_and_sees_no_desk(workspace):
    open_session(workspace)
    tab = page(workspace)
    assert not tab.facilitator
    shown = tab.desk.children[0].value
    assert "This page is for the workshop&#x27;s facilitator" in shown and "/j" in shown
    assert not hasattr(tab, "session_picker")  # no sessions, codes or links for them
    assert tab.refresh() is False


def test_sign_in_as_facilitator(workspace):
    open_session(workspace)
    tab = page(workspace)
    tab.code_input.value = "wrong"
    tab.signin_box.children[0].children[0].children[1].click()
    assert "not the facilitator code" in tab.status.value and not tab.facilitator
    tab.code_input.value = "open-sesame"
    tab.signin_box.children[0].children[0].children[1].click()
    assert tab.facilitator and "You are now the facilitator" in tab.status.value
    assert tab.signin_box.children == ()
    assert tab.session_picker.value == "moving-more"


# --- the facilitator's desk ----------------------------------------------------------------------


def test_the_room_shows_the_join_code_and_the_projector_links(workspace):
    open_session(workspace)
    desk = facilitator(workspace)
    secret = live_secret(workspace.root)
    code = join_code(secret, "moving-more")
    links = room_links(secret, "moving-more")
    assert links == {
        "code": code,
        "participant": f"/workshop/moving-more?code={code}",
        "short": f"/j/{code}",
        "join_screen": f"/workshop/moving-more/screen?key={screen_key(secret, 'moving-more')}"
                       "&show=join",
        "wall_screen": f"/workshop/moving-more/screen?key={screen_key(secret, 'moving-more')}"
                       "&show=wall",
    }
    room = desk.room_html.value
    assert f'<span class="hwb-join-code">{code[:3]} {code[3:]}</span>' in room
    assert links["join_screen"].replace("&", "&amp;") in room
    assert "Moving more</strong> is open" in room
    assert "0 post-its on the wall, 0 waiting for you, 0 people taking part" in room


def test_facilitator_opens_a_session_with_its_rules(workspace):
    desk = facilitator(workspace)
    desk.new_name.value = "Eating well"
    desk.new_themes.value = ("food-insecurity",)
    desk.new_typed_themes.value = "Community fridges"
    desk.new_statements.value = "Every school should have a breakfast club\n"
    assert desk.new_dots_per_item.value == DEFAULT_DOTS_PER_ITEM
    desk.new_dots.value = 4
    desk.new_dots_per_item.value = 2
    desk._on_open_session(None)
    session = workspace.store().sessions().iloc[0]
    assert session["name"] == "Eating well" and session["dots_per_person"] == 4
    assert session["max_dots_per_item"] == 2
    assert session["themes"] == ["food-insecurity", "community-fridges"]
    assert desk.session_picker.value == session["session_id"]
    assert "Put its join screen on the projector" in desk.status.value
    assert join_code(live_secret(workspace.root), session["session_id"]) in (
        desk.room_html.value.replace(" ", "").replace("</span>", ""))


def test_closing_a_session_stops_post_its_and_opening_it_again_lets_them_in(workspace):
    store = open_session(workspace)
    desk = facilitator(workspace)
    session = store.sessions().iloc[0].to_dict()
    desk.close_button.click()
    assert "The session is closed" in desk.status.value
    assert "is closed: it takes no more post-its" in desk.room_html.value
    assert desk.close_button.layout.display == "none" and desk.reopen_button.layout.display is None
    late = new_post_it(session, "p_1111111111111111", "Too late", sector="nhs")
    with pytest.raises(StoreError, match="is closed"):
        store.add_contributions(late)
    desk.reopen_button.click()
    assert "open again" in desk.status.value and store.sessions()["open"].tolist() == [True]
    store.add_contributions(late)
    assert store.contributions(kind="post_it")["text"].tolist() == ["Too late"]


def test_screened_post_it_waits_then_approved_then_hidden(workspace):
    store = open_session(workspace)
    session = store.sessions().iloc[0].to_dict()
    held = new_post_it(session, "p_1111111111111111", "Email me at jo@example.org about the walks",
                       sector="resident", theme="walking-cycling")
    assert store.add_contributions(held, screen=screen_contributions).pending == 1
    desk = facilitator(workspace)
    assert "1 waiting for you" in desk.room_html.value
    card = desk.moderation.pending_box.children[0]
    assert "contains an email address" in card.children[0].value
    card.children[1].click()  # Approve
    assert store.contributions(kind="post_it")["text"].tolist() == [held["text"].iloc[0]]
    desk.moderation.reason.value = "personal details"
    desk.moderation.visible_box.children[0].children[1].click()  # Hide
    assert store.contributions(kind="post_it").empty
    history = store.history(entity="contribution", entity_id=held["contribution_id"].iloc[0])
    assert history["action"].tolist() == ["insert", "approve", "hide"]
    assert history["reason"].iloc[-1] == "personal details"
    assert history["by"].iloc[-1] == desk.by and desk.by.startswith("facilitator p_")


def test_facilitator_form_default_cap_and_no_limit(workspace, monkeypatch):
    monkeypatch.setenv(DOTS_PER_ITEM_ENV, "4")
    desk = facilitator(workspace)
    assert desk.new_dots_per_item.value == 4
    assert facilitator(workspace, default_dots_per_item=1).new_dots_per_item.value == 1
    desk.new_name.value = "Open floor"
    desk.new_typed_themes.value = "Anything"
    desk.new_dots_per_item.value = 0  # no limit
    desk._on_open_session(None)
    assert workspace.store().sessions()["max_dots_per_item"].isna().all()


def test_auto_refresh_picks_up_other_writers_and_survives_failures(workspace, monkeypatch):
    store = open_session(workspace)
    tab = page(workspace, query={"facilitator": "open-sesame"})
    tab.refresh_seconds = 0.05
    real_load = workshop_module.load_session
    failures = {"left": 1}

    def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("disk hiccup")
        return real_load(*args, **kwargs)

    async def scenario():
        assert tab.start_auto_refresh()
        store.add_contributions(pd.DataFrame({
            "contribution_id": ["elsewhere"], "session": "moving-more", "kind": "post_it",
            "text": ["Written in another tab"], "author": "p_2222222222222222"}))
        monkeypatch.setattr(workshop_module, "load_session", flaky)
        seen_error = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            seen_error |= "trying again" in tab.status.value
            if seen_error and "1 post-it on the wall" in tab.room_html.value:
                break
        tab.stop_auto_refresh()
        return seen_error

    assert run_in_own_loop(scenario) is True
    assert "1 post-it on the wall" in tab.room_html.value
    assert tab.status.value == ""  # the error message goes once a refresh works again


def test_auto_refresh_stops_in_a_forgotten_tab_and_restarts_on_use(workspace, monkeypatch):
    open_session(workspace)
    tab = page(workspace, query={"facilitator": "open-sesame"})
    tab.refresh_seconds = 0.02
    monkeypatch.setattr(workshop_module, "IDLE_STOP_SECONDS", 0.1)

    async def scenario():
        assert tab.start_auto_refresh()
        await asyncio.sleep(0.5)
        stopped = tab._refresh_task is None and "paused" in tab.status.value
        tab.refresh_button.click()  # using the tab starts it again
        restarted = tab._refresh_task is not None
        tab.stop_auto_refresh()
        return stopped, restarted

    assert run_in_own_loop(scenario) == (True, True)


def test_page_query_reads_voila_query_string(monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv("QUERY_STRING", "facilitator=x%20y&session=s-1&session=s-2&empty=")
    assert page_query() == {"facilitator": "x y", "session": "s-1"}
    monkeypatch.delenv("QUERY_STRING")
    assert page_query() == {}



# --- the next briefing ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.notebook
def test_hostile_post_its_are_never_html_in_the_next_briefing(workspace, tmp_path):
    """Post-its added at a live event reach the briefing as text, never as markup."""
    from hwb_toolkit.report.pipeline import build_report

    store = open_session(workspace)
    session = store.sessions().iloc[0].to_dict()
    for hostile in (IMG, SCRIPT):
        post = new_post_it(session, "p_1111111111111111",
                           f"{hostile} walking to school should be safe", sector="resident",
                           theme="walking-cycling")
        assert store.add_contributions(post, screen=screen_contributions).pending == 0
    # The post-its are stamped now, so this month's briefing lists them as new from partners.
    this_month = datetime.now(UTC).strftime("%Y-%m")
    report = build_report(workspace.root, workspace.strategy.home_area, this_month, tmp_path / "out")
    html = (report / "briefing.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; walking to school should be safe" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; walking to school should be safe" in html
