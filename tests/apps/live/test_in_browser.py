"""The live event in Chromium: participants' phones, the facilitator's page and the
projector, against one ``hwb serve`` (hwb_toolkit/apps/live, apps/workshop.py).

Every page is checked for console errors and requests to anywhere but this server;
screenshots at phone and desktop width go to test-output/ for review.
"""

from __future__ import annotations

import time

import pytest

from hwb_toolkit.apps.live.access import join_code, live_secret, screen_key
from hwb_toolkit.apps.session import FACILITATOR_CODE_ENV
from hwb_toolkit.store import Store
from hwb_toolkit.workspace import init_workspace

from ..conftest import DESKTOP, PHONE, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSION = "river-walk-1a2b3c"
FACILITATOR_CODE = "browser-facilitator-code"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def room(tmp_path, start_voila):
    """A fresh workspace with one open session, served; returns (server, join code)."""
    root = init_workspace(tmp_path / "workspace")
    with Store(root / "store.sqlite") as store:
        store.open_session(SESSION, "River walk workshop", ["walking-cycling", "parks-green-spaces"],
                           ["Paths along the river should be lit", "Parks need more benches"],
                           by="facilitator", dots_per_person=3, max_dots_per_item=2)
    server = start_voila(root, reports=tmp_path / "reports",
                         env={FACILITATOR_CODE_ENV: FACILITATOR_CODE})
    return server, join_code(live_secret(root), SESSION)


def participant_url(server, code: str) -> str:
    return f"{server.base_url}/workshop/{SESSION}?code={code}"


def live(watched, timeout_s: float = 30) -> None:
    """Wait until the page's live stream has delivered its first snapshot."""
    from playwright.sync_api import expect

    expect(watched.page.locator("#live-state")).to_have_text(
        "Live: this page updates by itself.", timeout=timeout_s * 1000)


def watch_dialogs(watched) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    watched.page.on("dialog", on_dialog)
    return dialogs


def add_post_it(page, text: str, sector: str = "Residents", theme: str | None = None) -> None:
    page.get_by_label("I am from").select_option(label=sector)
    page.get_by_label("Your post-it").fill(text)
    if theme:
        page.get_by_label("Theme (optional)").select_option(label=theme)
    page.get_by_role("button", name="Add post-it").click()


def test_twenty_phones_each_add_a_post_it_and_every_phone_shows_all_twenty(
        room, open_page, screenshot):
    from playwright.sync_api import expect

    server, code = room
    phones = [open_page(participant_url(server, code), PHONE) for _ in range(20)]
    for phone in phones:
        live(phone)
    for number, phone in enumerate(phones):  # everyone writes, then all press at once
        phone.page.get_by_label("I am from").select_option(label="Residents")
        phone.page.get_by_label("Your post-it").fill(f"Idea {number:02d}: benches by the river")
    press = "document.querySelector('.postit-form button[type=submit]').click()"
    started = time.monotonic()
    for phone in phones:  # a real click each, without Playwright's checks between pages
        phone.page.evaluate(press)
    for phone in phones:
        expect(phone.page.locator("#wall > li")).to_have_count(
            20, timeout=max(1.0, 15 - (time.monotonic() - started)) * 1000)
    took = time.monotonic() - started
    assert took < 15, f"all 20 post-its took {took:.1f} s to reach every phone"
    expect(phones[0].page.locator(".wall-count")).to_contain_text("20 post-its from 20 people")
    with Store(server.workspace / "store.sqlite") as store:
        stored = store.contributions(session=SESSION, kind="post_it")
    assert len(stored) == 20 and stored["author"].nunique() == 20
    screenshot(phones[0].page, "live-participant-phone", full_page=True)
    for phone in phones:
        assert phone.errors() == [] and phone.external_requests() == []


def test_a_reload_keeps_the_participant_their_dots_and_answers(room, open_page):
    from playwright.sync_api import expect

    server, code = room
    phone = open_page(participant_url(server, code), PHONE)
    live(phone)
    page = phone.page
    walking = page.locator('.dot-theme[data-theme="walking-cycling"]')
    walking.get_by_role("button", name="Add a dot to Walking and cycling").click()
    expect(walking.locator(".dot-mine")).to_have_text("yours: 1")
    walking.get_by_role("button", name="Add a dot to Walking and cycling").click()
    expect(walking.locator(".dot-mine")).to_have_text("yours: 2")
    expect(page.locator("#dots-left")).to_contain_text("1 of 3")
    walking.get_by_role("button", name="Add a dot to Walking and cycling").click()
    expect(page.locator("#status")).to_contain_text("the most one person can put on one theme")
    refused = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    statement = page.locator(".statement").first
    agree = statement.get_by_role("button", name="Agree", exact=True)
    agree.click()
    expect(agree).to_have_attribute("aria-pressed", "true")
    page.reload()
    live(phone)
    expect(walking.locator(".dot-mine")).to_have_text("yours: 2")
    expect(page.locator("#dots-left")).to_contain_text("1 of 3")
    expect(agree).to_have_attribute("aria-pressed", "true")
    expect(walking.get_by_role("button", name="Take a dot back from Walking and cycling")).to_be_enabled()
    assert phone.errors() == [refused]  # Chromium logs the refusal (409) of the third dot
    assert phone.external_requests() == []


def test_hostile_post_its_are_shown_as_text_and_never_run(room, open_page):
    from playwright.sync_api import expect

    server, code = room
    writer = open_page(participant_url(server, code), PHONE)
    reader = open_page(participant_url(server, code), DESKTOP)
    dialogs = [watch_dialogs(writer), watch_dialogs(reader)]
    live(writer), live(reader)
    add_post_it(writer.page, f"{IMG} more seating at the bus stops")
    expect(writer.page.locator("#status")).to_contain_text("on the wall")
    add_post_it(writer.page, f"{SCRIPT} safer crossings")
    for watched in (writer, reader):
        expect(watched.page.locator("#wall")).to_contain_text(f"{IMG} more seating", timeout=15_000)
        expect(watched.page.locator("#wall")).to_contain_text(f"{SCRIPT} safer", timeout=15_000)
        assert watched.page.locator("img[src='x']").count() == 0
        assert watched.page.locator("#wall script").count() == 0
    reader.page.reload()  # and the server's own first view escapes it too
    live(reader)
    expect(reader.page.locator("#wall")).to_contain_text(f"{SCRIPT} safer")
    assert reader.page.locator("#wall script, img[src='x']").count() == 0
    assert dialogs == [[], []]
    for watched in (writer, reader):
        assert watched.errors() == [] and watched.external_requests() == []


def test_everything_can_be_done_with_the_keyboard(room, open_page):
    from playwright.sync_api import expect

    server, code = room
    phone = open_page(participant_url(server, code), PHONE)
    live(phone)
    page = phone.page
    page.get_by_label("I am from").focus()
    page.keyboard.press("ArrowDown")  # the first sector
    page.keyboard.press("Tab")  # organisation
    page.keyboard.press("Tab")  # the post-it
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")  # theme
    page.keyboard.press("Tab")  # Add post-it
    expect(page.get_by_role("button", name="Add post-it")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("on the wall")
    expect(page.locator("#status")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#wall")).to_contain_text("Typed without a mouse")


def test_the_facilitator_moderates_and_the_room_sees_it_on_phones_and_the_projector(
        room, open_page, screenshot):
    from playwright.sync_api import expect

    server, code = room
    secret = live_secret(server.workspace)
    desk = open_page(server.page_url("workshop.ipynb") + f"?facilitator={FACILITATOR_CODE}")
    wait_for_page(desk, server=server)
    expect(desk.page.locator(".hwb-join-code")).to_have_text(f"{code[:3]} {code[3:]}",
                                                             timeout=30_000)
    phone = open_page(participant_url(server, code), PHONE)
    key = screen_key(secret, SESSION)
    wall = open_page(f"{server.base_url}/workshop/{SESSION}/screen?key={key}&show=wall", DESKTOP)
    join = open_page(f"{server.base_url}/workshop/{SESSION}/screen?key={key}&show=join", DESKTOP)
    live(phone), live(wall), live(join)
    expect(join.page.locator(".join-code")).to_have_text(f"{code[:3]} {code[3:]}")
    expect(join.page.get_by_role("img", name=f"QR code: {server.base_url}/j/{code}")).to_be_visible()
    screenshot(join.page, "live-join-screen-desktop", full_page=False)

    held = "Email me at jo.walker@example.org to join the walks"
    add_post_it(phone.page, held, theme="Walking and cycling")
    expect(phone.page.locator("#status")).to_contain_text("waiting for the facilitator")
    expect(phone.page.locator("#wall")).to_contain_text("Waiting for the facilitator")
    expect(wall.page.locator("#wall")).not_to_contain_text("jo.walker")
    card = desk.page.locator(".hwb-moderation-card", has_text=held)
    expect(card).to_contain_text("contains an email address", timeout=15_000)
    card.get_by_role("button", name="Approve").click()
    expect(wall.page.locator("#wall")).to_contain_text(held, timeout=15_000)
    expect(phone.page.locator("#wall .postit.waiting")).to_have_count(0, timeout=15_000)
    add_post_it(phone.page, "Lights on the river path please", theme="Walking and cycling")
    expect(wall.page.locator("#wall")).to_contain_text("Lights on the river path", timeout=15_000)
    expect(wall.page.locator("#forming")).to_contain_text("Walking and cycling: 2 post-its",
                                                          timeout=15_000)
    screenshot(wall.page, "live-projector-wall-desktop", full_page=False)
    screenshot(desk.page, "live-facilitator-desktop")

    desk.page.get_by_role("button", name="Close this session").click()
    expect(phone.page.locator(".closed-banner")).to_be_visible(timeout=15_000)
    expect(phone.page.get_by_role("button", name="Add post-it")).to_be_disabled()
    expect(wall.page.locator(".closed-banner")).to_be_visible(timeout=15_000)
    for watched in (desk, phone, wall, join):
        assert watched.errors() == [] and watched.external_requests() == []
