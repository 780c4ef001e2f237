"""Workshop page (hwb_toolkit/apps/workshop.py, moderation.py).

Fast tests drive the page's widgets in-process against a real store (two pages =
two browser tabs); the browser tests drive the served page in Chromium.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from hwb_toolkit.apps import workshop as workshop_module
from hwb_toolkit.apps.moderation import approve, hide
from hwb_toolkit.apps.workshop import (
    DEFAULT_DOTS_PER_ITEM,
    DOTS_PER_ITEM_ENV,
    FACILITATOR_CODE_ENV,
    FACILITATOR_CODE_FILE,
    MIN_VOTERS_FOR_GROUPS,
    WorkshopPage,
    dot_problem,
    dot_tally,
    dots_left,
    facilitator_code,
    forming_markup,
    is_facilitator_code,
    load_session,
    my_dots,
    page_query,
    poll_table,
    session_dot_cap,
    session_statements,
    session_themes,
    slug,
    wall,
    wall_markup,
    what_is_forming,
    workshop_page,
)
from hwb_toolkit.io.workspace import Workspace, init_workspace

from .conftest import run_in_own_loop, wait_for_page

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


# --- fixtures ---------------------------------------------------------------------------------


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


def add_postit(tab: WorkshopPage, text: str, theme: str = "", sector: str = "resident") -> None:
    tab.sector.value = sector
    tab.postit_text.value = text
    tab.postit_theme.value = theme
    tab.add_postit.click()


def texts_on_wall(tab: WorkshopPage) -> list[str]:
    return wall(tab.data, tab.participant, tab.facilitator)["text"].tolist()


# --- facilitator mode and the address -------------------------------------------------------------


def test_facilitator_code_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(FACILITATOR_CODE_ENV, "  from-env ")
    assert facilitator_code(tmp_path) == "from-env"
    assert not (tmp_path / FACILITATOR_CODE_FILE).exists()


def test_facilitator_code_made_once_per_workspace_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv(FACILITATOR_CODE_ENV, raising=False)
    first = facilitator_code(tmp_path)
    assert re.fullmatch(r"[A-Za-z0-9_-]{10}", first)
    assert facilitator_code(tmp_path) == first  # a second kernel reads the same code
    mode = stat.S_IMODE(os.stat(tmp_path / FACILITATOR_CODE_FILE).st_mode)
    assert mode == 0o600


def test_is_facilitator_code():
    assert is_facilitator_code(" abc ", "abc")
    assert not is_facilitator_code("abd", "abc")
    assert not is_facilitator_code("", "abc")
    assert not is_facilitator_code(None, "abc")
    assert not is_facilitator_code("abc", "")


def test_page_query_reads_voila_query_string(monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv("QUERY_STRING", "facilitator=x%20y&session=s-1&session=s-2&empty=")
    assert page_query() == {"facilitator": "x y", "session": "s-1"}
    monkeypatch.delenv("QUERY_STRING")
    assert page_query() == {}


def test_session_inputs():
    assert slug("Walking & cycling!") == "walking-cycling"
    assert session_themes(("walking-cycling",), "Buses, Safe streets\nbuses; walking-cycling") == [
        "walking-cycling", "buses", "safe-streets"]
    assert session_statements("  Parks should be lit \n\n Free swimming\n") == [
        "Parks should be lit", "Free swimming"]


# --- what each person sees ------------------------------------------------------------------------


def test_wall_visibility_by_status_and_viewer(workspace):
    store = open_session(workspace)
    store.add_contributions(pd.DataFrame({
        "contribution_id": ["v", "p-mine", "p-other", "h"],
        "session": "moving-more", "kind": "post_it",
        "text": ["visible", "mine waiting", "theirs waiting", "hidden"],
        "author": ["p_aaaaaaaaaaaaaaaa", "p_bbbbbbbbbbbbbbbb", "p_cccccccccccccccc",
                   "p_aaaaaaaaaaaaaaaa"],
    }), status="visible")
    for contribution_id in ("p-mine", "p-other"):
        store.set_contribution_status(contribution_id, "pending", "test")
    hide(store, "h", "test")
    data = load_session(store, "moving-more")
    assert data.statements["text"].tolist() == ["Parks should be lit", "Swimming should be free"]
    mine = wall(data, "p_bbbbbbbbbbbbbbbb")
    assert mine["contribution_id"].tolist() == ["v", "p-mine"]
    assert mine["waiting"].tolist() == [False, True]
    assert mine["mine"].tolist() == [False, True]
    assert wall(data, "p_dddddddddddddddd")["contribution_id"].tolist() == ["v"]
    seen_by_facilitator = wall(data, "p_dddddddddddddddd", facilitator=True)
    assert seen_by_facilitator["contribution_id"].tolist() == ["v", "p-mine", "p-other"]
    assert "Waiting for your review" in wall_markup(seen_by_facilitator, {})
    assert "Waiting for the facilitator" not in wall_markup(seen_by_facilitator, {})


def test_dot_budget_and_cap(workspace):
    store = open_session(workspace, dots=3, cap=2)
    me = "p_1111111111111111"
    data = load_session(store, "moving-more")
    assert session_dot_cap(data.session) == 2
    assert dots_left(data, me) == 3
    assert dot_problem(data, me, "walking-cycling") is None
    store.place_dot("moving-more", me, "walking-cycling")
    store.place_dot("moving-more", me, "walking-cycling")
    data = load_session(store, "moving-more")
    assert my_dots(data, me) == {"walking-cycling": 2}
    assert dot_problem(data, me, "walking-cycling", {"walking-cycling": "Walking"}) == (
        "You already have 2 dots on “Walking”, the most one person can put on one theme "
        "in this session.")
    assert dot_problem(data, me, "parks-green-spaces") is None
    store.place_dot("moving-more", me, "parks-green-spaces")
    data = load_session(store, "moving-more")
    assert dots_left(data, me) == 0
    assert "placed all 3 of your dots" in dot_problem(data, me, "parks-green-spaces")
    store.close_session("moving-more", by="test")
    assert "closed" in dot_problem(load_session(store, "moving-more"), me, "x")


def test_a_session_without_a_per_item_cap_lets_all_dots_go_on_one_theme(workspace, monkeypatch):
    monkeypatch.setenv(DOTS_PER_ITEM_ENV, "1")  # only the facilitator form's default now
    store = open_session(workspace, dots=3)
    me = "p_1111111111111111"
    assert session_dot_cap(load_session(store, "moving-more").session) is None
    for _ in range(3):
        assert dot_problem(load_session(store, "moving-more"), me, "walking-cycling") is None
        store.place_dot("moving-more", me, "walking-cycling")
    assert "placed all 3" in dot_problem(load_session(store, "moving-more"), me, "walking-cycling")
    tab = page(workspace)
    assert "Put them on the themes that matter most to you" in tab.dots_intro.value


def test_the_dot_tally_applies_the_session_cap_to_imported_dots(workspace):
    store = open_session(workspace, dots=9, cap=2)
    # Paper dots typed up afterwards are not checked against the cap; the tally applies it.
    store.add_votes(pd.DataFrame({"session": "moving-more", "source": "Moving more",
                                  "participant": ["p1", "p2"], "item": "walking-cycling",
                                  "vote": [5, 1], "kind": "dot"}))
    tallied = dot_tally(load_session(store, "moving-more")).set_index("item")
    assert tallied.loc["walking-cycling", "score"] == 3  # 2 (capped from 5) + 1
    assert tallied.loc["parks-green-spaces", "score"] == 0


def test_poll_table_lists_unvoted_statements_with_zeros(workspace):
    store = open_session(workspace)
    store.add_votes(pd.DataFrame({
        "session": "moving-more", "participant": ["p1", "p2", "p3"], "item": "moving-more-s1",
        "vote": [1, -1, 1], "kind": "agree_disagree"}))
    table = poll_table(load_session(store, "moving-more"))
    assert table[["item", "agree", "disagree", "pass", "votes"]].to_dict("records") == [
        {"item": "moving-more-s1", "agree": 2, "disagree": 1, "pass": 0, "votes": 3},
        {"item": "moving-more-s2", "agree": 0, "disagree": 0, "pass": 0, "votes": 0},
    ]


def test_consensus_and_division_once_enough_people_voted(workspace):
    store = open_session(workspace, statements=("Everyone agrees", "Camps split",
                                                "Camps split too", "Mixed feelings"))
    people = [f"p{n:02d}" for n in range(MIN_VOTERS_FOR_GROUPS + 4)]
    rows = []
    for n, p in enumerate(people):
        camp = 1 if n % 2 else -1
        rows += [(p, "moving-more-s1", 1), (p, "moving-more-s2", camp),
                 (p, "moving-more-s3", -camp), (p, "moving-more-s4", (1, 0, -1)[n % 3])]
    store.add_votes(pd.DataFrame(rows, columns=["participant", "item", "vote"]).assign(
        session="moving-more", kind="agree_disagree"))
    data = load_session(store, "moving-more")
    forming = what_is_forming(data, workspace.strategy, {})
    assert forming.voters == len(people)
    assert forming.agreed == ["moving-more-s1"]
    assert set(forming.divisive) == {"moving-more-s2", "moving-more-s3"}
    html = forming_markup(forming, {"moving-more-s1": "Everyone agrees",
                                    "moving-more-s2": "Camps split", "moving-more-s3": "too"})
    assert "Most people agree</strong></p><ul><li>Everyone agrees</li>" in html


def test_markup_escapes_contributed_text():
    posts = pd.DataFrame({"text": [IMG, SCRIPT], "theme": ["<b>t</b>", None],
                          "sector": ["resident", "vcse"], "organisation": ["<i>Org</i>", None],
                          "waiting": [False, True]})
    html = wall_markup(posts, {})
    assert "<img" not in html and "<script" not in html and "<i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("Waiting for the facilitator") == 1


# --- two tabs in one session (in-process) --------------------------------------------------------


def test_two_tabs_see_each_others_post_its_dots_and_votes(workspace):
    open_session(workspace)
    alice, bob = page(workspace), page(workspace)
    assert alice.session_picker.value == bob.session_picker.value == "moving-more"
    assert alice.participant != bob.participant and alice.participant.startswith("p_")
    add_postit(alice, IMG + " more benches", "parks-green-spaces")
    assert "on the wall" in alice.status.value
    alice._dot_rows["walking-cycling"][1].click()
    alice._statement_rows["moving-more-s1"][1]["agree"].click()
    assert bob.refresh() is True
    assert texts_on_wall(bob) == [IMG + " more benches"]
    assert "&lt;img src=x onerror=alert(1)&gt; more benches" in bob.wall_html.value
    assert "<img" not in bob.wall_html.value
    assert "1 dot in all" in bob._dot_rows["walking-cycling"][0].value
    assert "1 agree · 0 disagree" in bob._statement_rows["moving-more-s1"][0].value
    assert bob.refresh() is False  # nothing changed: nothing redrawn
    stored = workspace.store().contributions(session="moving-more", kind="post_it")
    assert stored["text"].tolist() == [IMG + " more benches"]
    assert stored["author"].tolist() == [alice.participant]
    assert stored["sector"].tolist() == ["resident"]


def test_post_it_needs_text_and_sector(workspace):
    open_session(workspace)
    tab = page(workspace)
    tab.postit_text.value = "   "
    tab.add_postit.click()
    assert "please write something" in tab.status.value and 'role="alert"' in tab.status.value
    tab.postit_text.value = "Lit paths"
    tab.add_postit.click()
    assert "which sector you are from" in tab.status.value
    assert workspace.store().contributions(session="moving-more", kind="post_it").empty


def test_dot_buttons_enforce_cap_and_budget(workspace):
    open_session(workspace, dots=3, cap=2)
    tab = page(workspace)
    assert "Put up to 2 on a theme" in tab.dots_intro.value
    plus = tab._dot_rows["walking-cycling"][1]
    plus.click()
    plus.click()
    plus.click()
    assert "the most one person can put on one theme" in tab.status.value
    tab._dot_rows["parks-green-spaces"][1].click()
    tab._dot_rows["parks-green-spaces"][1].click()
    assert "placed all 3 of your dots" in tab.status.value
    votes = workspace.store().votes(session="moving-more", kind="dot")
    assert dict(zip(votes["item"], votes["vote"], strict=True)) == {
        "walking-cycling": 2.0, "parks-green-spaces": 1.0}
    tab._dot_rows["walking-cycling"][2].click()  # take one back
    assert my_dots(tab.data, tab.participant) == {"walking-cycling": 1, "parks-green-spaces": 1}


def test_the_store_holds_the_cap_when_a_second_tab_of_the_same_person_is_behind(workspace):
    open_session(workspace, dots=5, cap=2)
    first, second = page(workspace), page(workspace)
    second.participant = first.participant  # the same person in two tabs
    first._dot_rows["walking-cycling"][1].click()
    first._dot_rows["walking-cycling"][1].click()
    assert my_dots(second.data, second.participant) == {}  # not refreshed: it thinks 0
    second._dot_rows["walking-cycling"][1].click()
    assert "You already have 2 dots on “Walking and cycling”" in second.status.value
    assert 'role="alert"' in second.status.value
    votes = workspace.store().votes(session="moving-more", kind="dot")
    assert votes["vote"].tolist() == [2.0]
    assert my_dots(second.data, second.participant) == {"walking-cycling": 2}  # refreshed


def test_screened_post_it_waits_then_approved_then_hidden(workspace):
    open_session(workspace)
    author, other = page(workspace), page(workspace)
    facilitator = page(workspace, query={"facilitator": "open-sesame"})
    assert facilitator.facilitator and not author.facilitator
    add_postit(author, "Email me at jo@example.org about the walks", "walking-cycling")
    assert "waiting for the facilitator because it contains an email address" in author.status.value
    assert "Waiting for the facilitator" in author.wall_html.value
    other.refresh()
    assert texts_on_wall(other) == []
    assert "jo@example.org" not in other.wall_html.value
    facilitator.refresh()
    assert len(facilitator.moderation.pending_box.children) == 1
    card = facilitator.moderation.pending_box.children[0]
    assert "contains an email address" in card.children[0].value
    card.children[1].click()  # Approve
    other.refresh()
    assert texts_on_wall(other) == ["Email me at jo@example.org about the walks"]
    facilitator.moderation.reason.value = "personal details"
    facilitator.moderation.visible_box.children[0].children[1].click()  # Hide
    other.refresh()
    assert texts_on_wall(other) == []
    contribution_id = workspace.store().contributions(
        session="moving-more", kind="post_it", include_hidden=True)["contribution_id"].iloc[0]
    history = workspace.store().history(entity="contribution", entity_id=contribution_id)
    assert history["action"].tolist() == ["insert", "approve", "hide"]
    assert history["reason"].iloc[-1] == "personal details"
    assert history["by"].iloc[-1] == f"facilitator {facilitator.participant}"


def test_sign_in_as_facilitator(workspace):
    open_session(workspace)
    tab = page(workspace)
    assert tab.facilitator_box.children == ()
    tab.code_input.value = "wrong"
    tab.signin_box.children[0].children[0].children[1].click()
    assert "not the facilitator code" in tab.status.value and not tab.facilitator
    tab.code_input.value = "open-sesame"
    tab.signin_box.children[0].children[0].children[1].click()
    assert tab.facilitator and "You are now the facilitator" in tab.status.value
    assert tab.signin_box.children == ()


def test_facilitator_opens_a_session_participants_then_see_it(workspace):
    facilitator = page(workspace, query={"facilitator": "open-sesame"})
    participant = page(workspace)
    facilitator.new_name.value = "Eating well"
    facilitator.new_themes.value = ("food-insecurity",)
    facilitator.new_typed_themes.value = "Community fridges"
    facilitator.new_statements.value = "Every school should have a breakfast club\n"
    assert facilitator.new_dots_per_item.value == DEFAULT_DOTS_PER_ITEM
    facilitator.new_dots.value = 4
    facilitator.new_dots_per_item.value = 2
    facilitator._on_open_session(None)
    session = workspace.store().sessions().iloc[0]
    assert session["name"] == "Eating well" and session["dots_per_person"] == 4
    assert session["max_dots_per_item"] == 2
    assert session["themes"] == ["food-insecurity", "community-fridges"]
    participant.refresh()
    assert participant.session_picker.value == session["session_id"]
    assert "<strong>4 of 4</strong> dots left. Put up to 2 on a theme" in participant.dots_intro.value
    assert [label for label, _ in participant.postit_theme.options] == [
        "No theme", "Food insecurity and affordability", "Community fridges"]


def test_facilitator_form_default_cap_and_no_limit(workspace, monkeypatch):
    monkeypatch.setenv(DOTS_PER_ITEM_ENV, "4")
    facilitator = page(workspace, query={"facilitator": "open-sesame"})
    assert facilitator.new_dots_per_item.value == 4
    assert page(workspace, query={"facilitator": "open-sesame"},
                default_dots_per_item=1).new_dots_per_item.value == 1
    facilitator.new_name.value = "Open floor"
    facilitator.new_typed_themes.value = "Anything"
    facilitator.new_dots_per_item.value = 0  # no limit
    facilitator._on_open_session(None)
    assert workspace.store().sessions()["max_dots_per_item"].isna().all()


def test_auto_refresh_picks_up_other_writers_and_survives_failures(workspace, monkeypatch):
    store = open_session(workspace)
    tab = page(workspace)
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
            if seen_error and "Written in another tab" in tab.wall_html.value:
                break
        tab.stop_auto_refresh()
        return seen_error

    assert run_in_own_loop(scenario) is True
    assert "Written in another tab" in tab.wall_html.value
    assert tab.status.value == ""  # the error message goes once a refresh works again


def test_auto_refresh_stops_in_a_forgotten_tab_and_restarts_on_use(workspace, monkeypatch):
    open_session(workspace)
    tab = page(workspace)
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


def test_moderation_functions_keep_history(workspace):
    store = open_session(workspace)
    store.add_contributions(pd.DataFrame({
        "contribution_id": ["c"], "session": "moving-more", "kind": "post_it",
        "text": ["x"], "author": "p_3333333333333333"}), status="pending")
    assert approve(store, "c", "f") == "pending"
    assert hide(store, "c", "f", "  ") == "visible"
    history = store.history(entity="contribution", entity_id="c")
    assert history["reason"].tolist()[-2:] == ["approved by the facilitator",
                                              "hidden by the facilitator"]
    assert store.contributions(kind="post_it", include_hidden=True, with_status=True)["status"].tolist() == [
        "hidden"]


# --- the next briefing ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.notebook
def test_hostile_post_its_are_never_html_in_the_next_briefing(workspace, tmp_path):
    """Post-its added on the page reach the briefing as text, never as markup."""
    from hwb_toolkit.pipeline import build_report

    open_session(workspace)
    tab = page(workspace)
    for hostile in (IMG, SCRIPT):
        add_postit(tab, f"{hostile} walking to school should be safe", "walking-cycling")
        assert "on the wall" in tab.status.value
    # The post-its are stamped now, so this month's briefing lists them as new from partners.
    this_month = datetime.now(UTC).strftime("%Y-%m")
    report = build_report(workspace.root, workspace.strategy.home_area, this_month, tmp_path / "out")
    html = (report / "briefing.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; walking to school should be safe" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; walking to school should be safe" in html


# --- in the browser ------------------------------------------------------------------------------

CODE = "browser-facilitator-code"
PHONE = {"width": 390, "height": 844}
SESSION_ID = "river-walk"


def _browser_workspace(tmp_path) -> Path:
    """A fresh workspace with one open session (two themes, two statements, 3 dots each,
    at most 2 on one theme)."""
    root = init_workspace(tmp_path / "workspace")
    (tmp_path / "reports").mkdir()
    store = Workspace.open(root).store()
    store.open_session(SESSION_ID, "River walk workshop", ["walking-cycling", "parks-green-spaces"],
                       ["Paths along the river should be lit", "Parks need more benches"],
                       by="facilitator", dots_per_person=3, max_dots_per_item=2)
    store.close()
    return root


def _watch_dialogs(watched) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    watched.page.on("dialog", on_dialog)
    return dialogs


def _add_postit(page, text: str, theme: str = "Walking and cycling") -> None:
    page.get_by_label("I am from").select_option(label="Residents")
    page.get_by_placeholder("What would make a difference?").fill(text)
    page.get_by_label("Theme", exact=True).select_option(label=theme)
    page.get_by_role("button", name="Add post-it").click()


def _wall(page):
    return page.locator("ul.hwb-postits")


def whole_page_screenshot(screenshot, page, name: str) -> Path:
    """Voila scrolls inside the page, so grow the viewport to the page's height first."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector('.hwb-page').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": int(height) + 120})
    try:
        return screenshot(page, name)
    finally:
        page.set_viewport_size(size)


@pytest.mark.browser
@pytest.mark.slow
def test_workshop_in_two_browsers_live(tmp_path, start_voila, open_page, screenshot):
    """Two participants and a facilitator in one session, each in their own browser context."""
    from playwright.sync_api import expect

    from hwb_toolkit.store import Store

    root = _browser_workspace(tmp_path)
    server = start_voila(root, reports=tmp_path / "reports",
                         env={FACILITATOR_CODE_ENV: CODE})
    url = server.page_url("workshop.ipynb")
    started = time.monotonic()
    alice = open_page(url)
    bob = open_page(url, PHONE)
    facilitator = open_page(url + ("&" if "?" in url else "?") + f"facilitator={CODE}")
    dialogs = [_watch_dialogs(w) for w in (alice, bob, facilitator)]
    for watched in (alice, bob, facilitator):
        wait_for_page(watched, server=server)
    a, b, f = alice.page, bob.page, facilitator.page
    for page_ in (a, b, f):
        expect(page_.get_by_label("Workshop session")).to_have_value("River walk workshop")
    expect(f.get_by_role("heading", name="Facilitator")).to_be_visible()
    expect(a.get_by_role("heading", name="Facilitator")).to_have_count(0)

    # A post-it, a dot and a vote in one browser appear in the other and in the store.
    _add_postit(a, "Lights on the river path please")
    expect(a.locator(".hwb-status")).to_contain_text("on the wall")
    expect(a.get_by_text("Put up to 2 on a theme")).to_be_visible()
    a.locator(".hwb-dot-walking-cycling").get_by_role("button", name="Add a dot").click()
    expect(a.locator(".hwb-dot-walking-cycling")).to_contain_text("yours: 1")
    a.locator(".hwb-statement").first.get_by_role("button", name="Agree", exact=True).click()
    expect(a.locator(".hwb-statement").first).to_contain_text("you said: agree")
    expect(_wall(b)).to_contain_text("Lights on the river path please", timeout=15_000)
    expect(b.locator(".hwb-dot-walking-cycling")).to_contain_text("1 dot in all", timeout=15_000)
    expect(b.locator(".hwb-statement").first).to_contain_text("1 agree", timeout=15_000)
    with Store(root / "store.sqlite") as store:
        posts = store.contributions(session=SESSION_ID, kind="post_it")
        assert posts["text"].tolist() == ["Lights on the river path please"]
        assert posts["sector"].tolist() == ["resident"]
        votes = store.votes(session=SESSION_ID)
        assert sorted(zip(votes["kind"], votes["item"], votes["vote"], strict=True)) == [
            ("agree_disagree", f"{SESSION_ID}-s1", 1.0), ("dot", "walking-cycling", 1.0)]
        assert votes["participant"].nunique() == 1 and votes["participant"].iloc[0].startswith("p_")

    # Hostile text is shown as text in every browser and never runs.
    _add_postit(a, IMG, "Parks and green spaces")
    _add_postit(a, SCRIPT, "Parks and green spaces")
    for page_ in (a, b):
        expect(_wall(page_)).to_contain_text(IMG, timeout=15_000)
        expect(_wall(page_)).to_contain_text(SCRIPT, timeout=15_000)
        assert page_.locator("img[src='x']").count() == 0
        assert page_.locator("ul.hwb-postits script").count() == 0

    # A screened post-it waits for the facilitator; hiding takes it away but keeps its history.
    held = "Email me at jo.walker@example.org to join the walks"
    _add_postit(a, held)
    expect(a.locator(".hwb-status")).to_contain_text("waiting for the facilitator")
    expect(_wall(a)).to_contain_text("Waiting for the facilitator")
    card = f.locator(".hwb-moderation-card", has_text=held)
    expect(card).to_contain_text("contains an email address", timeout=15_000)
    b.get_by_role("button", name="Refresh now").click()
    b.wait_for_timeout(2500)  # more than one automatic refresh
    expect(_wall(b)).not_to_contain_text("jo.walker@example.org")
    whole_page_screenshot(screenshot, f, "workshop-facilitator-desktop")
    card.get_by_role("button", name="Approve").click()
    expect(_wall(b)).to_contain_text(held, timeout=15_000)
    f.get_by_label("Reason for hiding (kept in the history)").fill("personal details")
    f.locator(".hwb-moderation-card", has_text=held).get_by_role("button", name="Hide", exact=True).click()
    expect(_wall(b)).not_to_contain_text(held, timeout=15_000)
    expect(_wall(a)).not_to_contain_text(held, timeout=15_000)
    with Store(root / "store.sqlite") as store:
        everything = store.contributions(session=SESSION_ID, kind="post_it", include_hidden=True,
                                         include_pending=True, with_status=True)
        hidden = everything[everything["text"] == held]
        assert hidden["status"].tolist() == ["hidden"]
        history = store.history(entity="contribution", entity_id=hidden["contribution_id"].iloc[0])
        assert history["action"].tolist() == ["insert", "approve", "hide"]
        assert history["reason"].iloc[-1] == "personal details"

    whole_page_screenshot(screenshot, a, "workshop-desktop")
    whole_page_screenshot(screenshot, b, "workshop-phone")
    assert dialogs == [[], [], []]
    for watched in (alice, bob, facilitator):
        assert watched.external_requests() == []
        assert watched.errors() == []
    assert time.monotonic() - started < 60
