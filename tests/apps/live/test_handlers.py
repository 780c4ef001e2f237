"""The live event pages over HTTP (hwb_toolkit/apps/live/handlers.py), against a real
``hwb serve``: who may do what, every input checked, rules held by the server, the live
stream, and the token protecting what it says it protects.

Clients are httpx clients with their own cookies, as phones are.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pandas as pd
import pytest

from hwb_toolkit.apps.live.access import join_code, live_secret, screen_key
from hwb_toolkit.apps.live.handlers import CONTENT_SECURITY_POLICY
from hwb_toolkit.store import Store
from hwb_toolkit.workspace import init_workspace

from ..conftest import launch_voila, run_in_own_loop

SESSION = "river-walk-1a2b3c"
OTHER = "closed-one-4d5e6f"
TOKEN = "s3cret-token"
SCRIPT = "<script>alert(1)</script>"


def make_workspace(base):
    root = init_workspace(base / "workspace")
    reports = base / "reports"
    area = reports / "2026-11" / "E08000021"
    area.mkdir(parents=True)
    (area / "briefing.html").write_text("<html><body>PUBLISHED-BRIEFING</body></html>")
    with Store(root / "store.sqlite") as store:
        store.open_session(SESSION, "River walk", ["walking-cycling", "parks-green-spaces"],
                           ["Paths along the river should be lit", "Parks need more benches"],
                           by="facilitator", dots_per_person=3, max_dots_per_item=2)
        store.open_session(OTHER, "Closed one", ["walking-cycling"], ["A statement"],
                           by="facilitator")
        store.close_session(OTHER, by="facilitator")
    return root, reports


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("live")
    root, reports = make_workspace(base)
    running = launch_voila(root, reports=reports, log_dir=base / "log", token=TOKEN)
    running.secret = live_secret(root)
    running.code = join_code(running.secret, SESSION)
    yield running
    running.stop()


class Phone:
    """A participant's phone: its own cookies, the page's form token."""

    def __init__(self, server, code: str | None = None, session: str = SESSION) -> None:
        self.server = server
        self.session = session
        self.code = code or join_code(server.secret, session)
        self.client = httpx.Client(base_url=server.base_url, timeout=30)
        self.page = self.client.get(f"/workshop/{session}", params={"code": self.code})
        found = re.search(r'data-xsrf="([^"]+)"', self.page.text)
        self.xsrf = found.group(1) if found else ""

    def post(self, what: str, **fields) -> httpx.Response:
        return self.client.post(f"/workshop/{self.session}/{what}",
                                json={"code": self.code, **fields},
                                headers={"X-XSRFToken": self.xsrf, "Accept": "application/json"})

    def reload(self) -> str:
        self.page = self.client.get(f"/workshop/{self.session}", params={"code": self.code})
        return self.page.text


def stored_post_its(server, session: str = SESSION) -> pd.DataFrame:
    with Store(server.workspace / "store.sqlite") as store:
        return store.contributions(session=session, kind="post_it", include_pending=True,
                                   with_status=True)


# --- joining ---------------------------------------------------------------------------------


def test_the_page_needs_the_session_code_and_not_the_server_token(server):
    status, body = server.get(f"/workshop/{SESSION}", with_token=False)
    assert status == 403 and "join code" in body and "Skip to the page" in body
    status, _ = server.get(f"/workshop/{SESSION}?code=AAAAAA", with_token=False)
    assert status == 403
    phone = Phone(server)
    assert phone.page.status_code == 200
    page = phone.page.text
    for label in ('<label for="sector">I am from</label>', '<label for="postit">Your post-it</label>',
                  ">Add post-it</button>", ">Agree</button>", ">Disagree</button>",
                  ">Pass</button>", "Add a dot<span"):
        assert label in page
    # Nothing from anywhere else: one stylesheet and one script, both from this server.
    assert re.findall(r'(?:src|href)="([^"#]+)"', page) == [
        "data:,", "/workshop-static/live.css", "/workshop-static/live.js"]  # data:, = no icon
    assert phone.page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert phone.page.headers["X-Frame-Options"] == "DENY"
    assert phone.page.headers["Referrer-Policy"] == "no-referrer"
    assert phone.page.headers["X-Content-Type-Options"] == "nosniff"
    cookie = phone.page.headers.get_list("set-cookie")
    assert any(c.startswith("hwb_participant=") and "HttpOnly" in c and "SameSite=Lax" in c
               for c in cookie)


def test_a_short_link_or_a_typed_code_leads_to_the_session(server):
    with httpx.Client(base_url=server.base_url) as client:
        typed = f" {server.code[:3].lower()} {server.code[3:]}"
        answer = client.get("/j", params={"code": typed})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/workshop/{SESSION}?code={server.code}"
        assert client.get(f"/j/{server.code}").headers["location"].endswith(server.code)
        assert "Type the code shown on the screen" in client.get("/j").text
        unknown = client.get("/j/QQQQQQ")
        assert unknown.status_code == 404 and "No open session has the code QQQQQQ" in unknown.text
        closed = client.get(f"/j/{join_code(server.secret, OTHER)}")  # closed: not listed
        assert closed.status_code == 404


# --- writing ---------------------------------------------------------------------------------


def test_a_post_it_a_dot_and_an_answer_are_stored_under_a_pseudonym(server):
    phone = Phone(server)
    answer = phone.post("postits", text=f"{SCRIPT} lights on the river path", sector="resident",
                        organisation="West End Residents' Forum", theme="walking-cycling")
    assert answer.status_code == 200, answer.text
    assert answer.json()["post"]["text"] == f"{SCRIPT} lights on the river path"
    assert phone.post("dots", theme="walking-cycling", step=1).json()["dot"] == {
        "theme": "walking-cycling", "mine": 1}
    assert phone.post("votes", statement=f"{SESSION}-s1", answer="agree").json()["vote"] == {
        "statement": f"{SESSION}-s1", "answer": "agree"}
    stored = stored_post_its(server)
    row = stored[stored["text"] == f"{SCRIPT} lights on the river path"].iloc[0]
    assert (row["sector"], row["theme"], row["status"]) == ("resident", "walking-cycling", "visible")
    assert row["organisation"] == "West End Residents' Forum"
    assert re.fullmatch(r"p_[0-9a-f]{16}", row["author"])
    # The page escapes it: the text is shown, never run.
    page = phone.reload()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; lights on the river path" in page
    assert SCRIPT not in page


def test_a_reload_keeps_the_participant_their_dots_and_answers(server):
    phone = Phone(server)
    assert "<strong>3 of 3</strong> dots left" in phone.page.text
    for _ in range(2):
        assert phone.post("dots", theme="parks-green-spaces", step=1).status_code == 200
    phone.post("votes", statement=f"{SESSION}-s2", answer="disagree")
    page = phone.reload()
    assert "<strong>1 of 3</strong> dots left" in page
    assert 'value="disagree" aria-pressed="true"' in page
    third = phone.post("dots", theme="parks-green-spaces", step=1)
    assert third.status_code == 409
    assert "the most one person can put on one theme" in third.json()["error"]
    # A fresh browser is a fresh participant with the whole budget.
    assert "<strong>3 of 3</strong> dots left" in Phone(server).page.text


def test_the_server_holds_the_rules_whatever_is_sent(server):
    phone = Phone(server)
    cases = [
        ({"text": "x" * 501, "sector": "resident"}, 400, "at most 500 characters"),
        ({"text": "Benches", "sector": "martian"}, 400, "choose your sector"),
        ({"text": "Benches", "sector": "nhs", "theme": "housing"}, 400, "this session's themes"),
        ({"text": "  ", "sector": "nhs"}, 400, "please write something"),
    ]
    for fields, status, message in cases:
        answer = phone.post("postits", **fields)
        assert (answer.status_code, message in answer.json()["error"]) == (status, True), fields
    assert phone.post("votes", statement="another-session-s1", answer="agree").status_code == 400
    assert phone.post("votes", statement=f"{SESSION}-s1", answer="maybe").status_code == 400
    assert phone.post("dots", theme="housing", step=1).status_code == 400
    assert phone.post("dots", theme="walking-cycling", step=5).status_code == 400
    huge = phone.post("postits", text="y" * 20_000, sector="nhs")
    assert huge.status_code == 413
    # Without the form token, or with a forged identity, nothing is written.
    no_token = phone.client.post(f"/workshop/{SESSION}/postits", json={
        "code": phone.code, "text": "No token", "sector": "nhs"})
    assert no_token.status_code == 403
    forged = httpx.Client(base_url=server.base_url, cookies={
        "hwb_participant": "2|1:0|10:1|15:hwb_participant|8:ZmFrZQ==|00", "_xsrf": phone.xsrf})
    answer = forged.post(f"/workshop/{SESSION}/postits", json={
        "code": phone.code, "text": "Forged", "sector": "nhs"}, headers={"X-XSRFToken": phone.xsrf})
    assert answer.status_code == 403 and "reload the page" in answer.json()["error"]
    wrong_code = phone.client.post(f"/workshop/{SESSION}/postits", json={
        "code": "AAAAAA", "text": "Wrong code", "sector": "nhs"},
        headers={"X-XSRFToken": phone.xsrf})
    assert wrong_code.status_code == 403
    assert not stored_post_its(server)["text"].isin(["No token", "Forged", "Wrong code"]).any()


def test_a_closed_session_refuses_a_post_it_sent_straight_to_the_api(server):
    phone = Phone(server, session=OTHER)
    assert phone.page.status_code == 200 and "This session is closed" in phone.page.text
    for what, fields in (("postits", {"text": "Too late", "sector": "nhs"}),
                         ("votes", {"statement": f"{OTHER}-s1", "answer": "agree"}),
                         ("dots", {"theme": "walking-cycling", "step": 1})):
        answer = phone.post(what, **fields)
        assert answer.status_code == 409 and "closed" in answer.json()["error"], what
    assert stored_post_its(server, OTHER).empty


def test_a_flood_of_post_its_is_refused_kindly_after_a_burst(server):
    phone = Phone(server)
    answers = [phone.post("postits", text=f"Flood {n}", sector="business") for n in range(12)]
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) == 5 and len(refused) == 7
    assert "You are adding post-its very quickly. Please wait about" in refused[0].json()["error"]
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert stored_post_its(server)["text"].str.startswith("Flood ").sum() == 5
    # Dots and answers have their own allowance: still fine.
    assert phone.post("votes", statement=f"{SESSION}-s1", answer="pass").status_code == 200


def test_a_form_sent_without_javascript_works(server):
    phone = Phone(server)
    answer = phone.client.post(f"/workshop/{SESSION}/postits", data={
        "_xsrf": phone.xsrf, "code": phone.code, "text": "Sent without JavaScript",
        "sector": "vcse", "theme": ""})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/workshop/{SESSION}?code={phone.code}&done=added"
    page = phone.client.get(answer.headers["location"]).text
    assert "Thank you: your post-it is on the wall." in page
    assert "Sent without JavaScript" in page
    assert '<option value="vcse" selected>' in page  # remembered for the next post-it
    refused = phone.client.post(f"/workshop/{SESSION}/postits", data={
        "_xsrf": phone.xsrf, "code": phone.code, "text": "", "sector": "vcse"})
    assert refused.status_code == 400 and "please write something first" in refused.text


# --- the live stream ---------------------------------------------------------------------------


def test_a_post_it_reaches_every_open_stream(server):
    async def scenario():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as writer:
            page = await writer.get(f"/workshop/{SESSION}", params={"code": server.code})
            xsrf = re.search(r'data-xsrf="([^"]+)"', page.text).group(1)
            readers = [httpx.AsyncClient(base_url=server.base_url, timeout=30) for _ in range(5)]
            arrived: list[float] = []
            ready = asyncio.Event()
            text = f"Stream check {time.time()}"

            async def listen(client):
                await client.get(f"/workshop/{SESSION}", params={"code": server.code})
                async with client.stream("GET", f"/workshop/{SESSION}/events",
                                         params={"code": server.code}) as stream:
                    first = True
                    async for line in stream.aiter_lines():
                        if first and line.startswith("event: snapshot"):
                            first = False
                            if len(arrived) == 0:
                                ready.set()
                        if text in line:
                            arrived.append(time.perf_counter())
                            return

            listeners = [asyncio.create_task(listen(c)) for c in readers]
            await asyncio.wait_for(ready.wait(), 30)
            await asyncio.sleep(0.5)
            sent = time.perf_counter()
            answer = await writer.post(f"/workshop/{SESSION}/postits", headers={
                "X-XSRFToken": xsrf, "Accept": "application/json"},
                json={"code": server.code, "text": text, "sector": "nhs"})
            assert answer.status_code == 200
            await asyncio.wait_for(asyncio.gather(*listeners), 15)
            for client in readers:
                await client.aclose()
            return [t - sent for t in arrived]

    delays = run_in_own_loop(scenario, timeout=60)
    assert len(delays) == 5 and max(delays) < 10.0  # about 0.3 s on a quiet machine


def test_a_stream_needs_the_code_or_the_screen_key(server):
    status, _ = server.get(f"/workshop/{SESSION}/events", with_token=False)
    assert status == 403
    status, _ = server.get(f"/workshop/{SESSION}/events?key=wrong", with_token=False)
    assert status == 403


# --- the facilitator's screens and the token -------------------------------------------------------


def test_the_projector_screens_need_the_screen_key_and_the_server_token(server):
    key = screen_key(server.secret, SESSION)
    path = f"/workshop/{SESSION}/screen?key={key}&show=join"
    status, body = server.get(path, with_token=False)
    assert status in (302, 403) and server.code not in body
    status, body = server.get(f"/workshop/{SESSION}/screen?key=wrong&show=join")
    assert status == 403
    status, body = server.get(path)
    assert status == 200
    assert f"{server.code[:3]} {server.code[3:]}" in body and 'class="qr"><title>QR code: http' in body
    assert f"/j/{server.code}" in body
    # Started on 127.0.0.1: the screen says phones cannot reach it, and how to fix that.
    assert "--host 0.0.0.0" in body
    status, body = server.get(f"/workshop/{SESSION}/screen?key={key}&show=wall")
    assert status == 200 and "The wall" in body and "Dots so far" in body


def test_the_token_protects_reports_and_the_facilitator_page(server):
    status, body = server.get("/reports/2026-11/E08000021/briefing.html", with_token=False)
    assert status in (302, 403) and "PUBLISHED-BRIEFING" not in body
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        answer = client.get("/reports/2026-11/E08000021/briefing.html", params={"token": TOKEN})
        assert answer.status_code == 200 and "PUBLISHED-BRIEFING" in answer.text
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "script-src" not in policy  # a briefing runs nothing
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        page = client.get("/voila/render/workshop.ipynb")  # the login cookie is kept
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
    status, body = server.get("/voila/render/workshop.ipynb", with_token=False)
    assert status in (302, 403) and "hwb-page" not in body


@pytest.mark.slow
def test_the_helper_processes_end_with_a_server_killed_outright(tmp_path):
    import signal

    import psutil

    root, reports = make_workspace(tmp_path)
    server = launch_voila(root, reports=reports, log_dir=tmp_path / "log")
    try:
        secret = live_secret(root)
        status, _ = server.get(f"/workshop/{SESSION}?code={join_code(secret, SESSION)}")
        assert status == 200
        deadline = time.monotonic() + 60
        helpers = []
        while len(helpers) < 2 and time.monotonic() < deadline:  # the reader and the analyser
            helpers = [p for p in psutil.Process(server.process.pid).children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]
            time.sleep(0.2)
        assert len(helpers) == 2
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        gone, alive = psutil.wait_procs(helpers, timeout=10)
        assert alive == [], f"helpers still running after their server was killed: {alive}"
    finally:
        server.stop()
