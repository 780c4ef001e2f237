"""Tornado handlers of the live event pages, served by ``hwb serve`` beside Voila.

Role: floor 4 (UI serving), HTTP only: checks who may do what, turns requests into calls
on the :class:`~hwb_toolkit.apps.live.hub.LiveHub` and answers in HTML or JSON. No store
call runs on the event loop (the hub runs them on its threads).

Addresses (``<id>`` is a session id):

=============================== ======= ====================================================
``/j`` and ``/j/<code>``        GET     type or follow a join code; leads to the session
``/workshop/<id>?code=<code>``  GET     the participant page (no kernel: HTML + live.js)
``/workshop/<id>/events``       GET     the live stream (server-sent events)
``/workshop/<id>/postits``      POST    add a post-it: text, sector, organisation, theme
``/workshop/<id>/dots``         POST    place (step 1) or take back (step -1) a dot on a theme
``/workshop/<id>/votes``        POST    answer a statement: agree, disagree or pass
``/workshop/<id>/screen``       GET     the projector: join screen (``show=join``) or wall
=============================== ======= ====================================================

Rules held here, not by the page's buttons: a participant needs the session's join code
and their signed cookie (:mod:`~hwb_toolkit.apps.live.access`); every input is checked
(length, sector, theme and statement ids); writes to a closed session are refused (and
the store refuses them too, inside its transaction); each participant's writes are rate
limited (:mod:`~hwb_toolkit.apps.live.limits`) with a kind message and ``Retry-After``;
bodies over :data:`MAX_BODY_BYTES` are refused; POSTs carry the ``_xsrf`` token. The
projector screens also need the server's token when it has one (they are the
facilitator's); participants never do. Forms work without JavaScript too (a POST that
is not JSON is answered with a redirect back to the page).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import quote, urlsplit

import tornado.web
from jupyter_server.base.handlers import JupyterHandler
from tornado.iostream import StreamClosedError

from hwb_toolkit.apps.live import access, pages
from hwb_toolkit.apps.live.hub import CLOSED, RESYNC, LiveHub, SessionChannel, event_message
from hwb_toolkit.apps.live.limits import MAX_STREAMS_PER_PARTICIPANT, wait_words
from hwb_toolkit.apps.live.views import public_post_it
from hwb_toolkit.apps.screening import needs_review, screen_contributions
from hwb_toolkit.apps.session import (
    MAX_ORGANISATION_CHARS,
    MAX_POSTIT_CHARS,
    dot_problem,
    load_participant,
    new_poll_vote,
    new_post_it,
)
from hwb_toolkit.errors import InputError, StoreError

#: Largest request body accepted (bytes): a post-it of 500 characters is under 3 KB.
MAX_BODY_BYTES = 8 * 1024
#: Seconds between keep-alive comments on an idle live stream.
HEARTBEAT_SECONDS = 15.0
SESSION_ID = r"([A-Za-z0-9_.-]{1,100})"
#: Cookie remembering a participant's sector and organisation for their next post-it.
ABOUT_COOKIE = "hwb_about"
#: The live pages load nothing but their own script and styles, and can be framed by nobody.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The page address carries the join code: never pass it on to another site.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: What a page says after a form was sent without JavaScript (``?done=<key>``).
DONE_MESSAGES = {
    "added": "Thank you: your post-it is on the wall.",
    "waiting": "Thank you. Your post-it is waiting for the facilitator; only you can see it "
               "until it is approved.",
    "dot": "Dot placed.",
    "undot": "Dot taken back.",
    "voted": "Your answer is in.",
}


class Refusal(Exception):
    """A request that cannot be done, with the HTTP status and a sentence for the person."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def lan_address() -> str | None:
    """This machine's address on its local network (the one phones in the room can reach),
    or None. No packet is sent: connecting a UDP socket only chooses the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


class LiveSettings:
    """What the handlers need besides the hub: where phones reach the server."""

    def __init__(self, hub: LiveHub, *, public_url: str | None = None, host: str = "127.0.0.1",
                 port: int = 8866) -> None:
        self.hub = hub
        self.public_url = public_url.rstrip("/") if public_url else None
        self.host = host
        self.port = port

    def base_url(self, request) -> tuple[str, bool]:
        """The address phones should use, and whether phones can reach it at all."""
        if self.public_url:
            return self.public_url, True
        if self.host in ("0.0.0.0", "::", ""):
            address = lan_address()
            if address:
                return f"http://{address}:{self.port}", True
        url = f"{request.protocol}://{request.host}"
        hostname = urlsplit(url).hostname or ""
        return url, not (hostname in ("localhost", "::1") or hostname.startswith("127."))


class _LiveMixin:
    """What every live handler shares: security headers, signed cookies, refusals."""

    def initialize(self, live: LiveSettings) -> None:  # type: ignore[override]
        self.live = live
        self.hub = live.hub

    def _security_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")

    # .. cookies signed with the workspace's live secret ......................................
    def signed_cookie(self, name: str) -> str | None:
        return access.unsign(self.hub.secret, name, self.get_cookie(name))

    def set_signed(self, name: str, value: str) -> None:
        self.set_cookie(name, access.sign(self.hub.secret, name, value), path="/",
                        expires_days=access.PARTICIPANT_COOKIE_DAYS, httponly=True,
                        samesite="Lax", secure=self.request.protocol == "https")

    # .. who ...............................................................................
    def participant(self, *, create: bool = False) -> str | None:
        """The participant's pseudonym from their cookie; with ``create``, a new participant
        (and cookie) when there is none, limited per network address."""
        participant_id = access.participant_from_cookie(
            self.hub.secret, self.get_cookie(access.PARTICIPANT_COOKIE))
        if participant_id is None and create:
            self.limit("join", self.request.remote_ip or "?",
                       "Too many people joined from this network in a short time.")
            participant_id = access.new_participant_id()
            self.set_signed(access.PARTICIPANT_COOKIE, participant_id)
        return access.participant_pseudonym(participant_id) if participant_id else None

    def limit(self, kind: str, key: str, what: str) -> None:
        wait = self.hub.limiter.take(kind, key, time.monotonic())
        if wait:
            raise Refusal(429, f"{what} Please wait {wait_words(wait)} and try again.", wait)

    # .. which session ......................................................................
    async def joined_channel(self, session_id: str, code: str | None) -> SessionChannel:
        """The session's channel, if ``code`` is its join code."""
        if not access.is_join_code(self.hub.secret, session_id, code):
            raise Refusal(403, "This page needs the session's join code. Scan the QR code on "
                               "the screen, or open /j and type the code shown there.")
        try:
            return await self.hub.channel(session_id)
        except StoreError:
            raise Refusal(404, "There is no such workshop session any more.") from None


class LiveHandler(_LiveMixin, tornado.web.RequestHandler):
    """A live handler for participants: no server token needed (the join code is their key)."""

    def set_default_headers(self) -> None:
        self._security_headers()

    def wants_json(self) -> bool:
        return ("application/json" in self.request.headers.get("Content-Type", "")
                or "application/json" in self.request.headers.get("Accept", ""))

    def refuse(self, refusal: Refusal) -> None:
        self.set_status(refusal.status)
        if refusal.retry_after:
            self.set_header("Retry-After", str(max(1, round(refusal.retry_after))))
        if self.wants_json():
            self.finish({"error": refusal.message})
        else:
            self.finish(pages.render("message.html", title="Sorry", message=refusal.message,
                                     join_form=refusal.status in (403, 404)))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {404: "There is nothing at this address.",
                    405: "That cannot be done at this address."}
        message = messages.get(status_code, "Sorry, something went wrong. Please try again.")
        self.refuse(Refusal(status_code, message))

    def body(self) -> dict[str, Any]:
        """The request's fields, from JSON or from a form (first value of each field)."""
        if len(self.request.body) > MAX_BODY_BYTES:
            raise Refusal(413, "That is too long to send.")
        if "application/json" in self.request.headers.get("Content-Type", ""):
            try:
                data = json.loads(self.request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise Refusal(400, "The request could not be read.") from None
            if not isinstance(data, dict):
                raise Refusal(400, "The request could not be read.")
            return data
        return {key: values[0].decode("utf-8", "replace")
                for key, values in self.request.body_arguments.items() if values}

    async def show_participant_page(self, session_id: str, code: str | None,
                                    message: str = "", status: int = 200) -> None:
        """Render the participant page of ``session_id`` (with ``message`` in its status line)."""
        channel = await self.joined_channel(session_id, code)
        participant = self.participant(create=True)
        me = await self.hub.participant_state(channel, participant)
        about = json.loads(self.signed_cookie(ABOUT_COOKIE) or "{}")
        self.set_status(status)
        self.finish(pages.render(
            "participant.html", snapshot=channel.snapshot(), me=me, message=message,
            code=access.normalise_code(code), xsrf=self.xsrf_token.decode(),
            sectors=pages.sector_options(), about=about,
            organisations=sorted(s.organisation for s in self.hub.strategy.stakeholders),
            max_postit=MAX_POSTIT_CHARS, max_organisation=MAX_ORGANISATION_CHARS,
            base=f"/workshop/{quote(channel.session_id)}"))


class JoinHandler(LiveHandler):
    """``/j``: type the code on the screen; ``/j/<code>``: go straight to its session."""

    async def get(self, typed: str | None = None) -> None:
        typed = typed or self.get_query_argument("code", None)
        if not typed:
            self.finish(pages.render("message.html", title="Join a workshop",
                                     message="Type the code shown on the screen.", join_form=True))
            return
        try:
            self.limit("code", self.request.remote_ip or "?",
                       "That is a lot of codes tried in a short time.")
            code = access.normalise_code(typed)
            for session in await self.hub.open_sessions():
                if access.is_join_code(self.hub.secret, session["id"], code):
                    self.redirect(f"/workshop/{quote(session['id'])}?code={code}", status=303)
                    return
            raise Refusal(404, f"No open session has the code {code[:12]}. Check the code on the "
                               "screen and try again.")
        except Refusal as refusal:
            self.refuse(refusal)


class ParticipantPageHandler(LiveHandler):
    """The participant page, rendered whole on the server, then kept live by live.js."""

    async def get(self, session_id: str) -> None:
        try:
            await self.show_participant_page(
                session_id, self.get_query_argument("code", None),
                DONE_MESSAGES.get(self.get_query_argument("done", ""), ""))
        except Refusal as refusal:
            self.refuse(refusal)


class _WriteHandler(LiveHandler):
    """A participant's write: checks, rate limit, the write on the hub, the answer."""

    #: The rate limit that applies (:data:`~hwb_toolkit.apps.live.limits.LIMITS`), and what
    #: a person writing faster than that is told.
    kind = "vote"
    too_fast = "That is quicker than the wall can take."

    async def post(self, session_id: str) -> None:
        fields: dict[str, Any] = {}
        try:
            self.check_xsrf_cookie()
        except tornado.web.HTTPError:
            self.refuse(Refusal(403, "This page is out of date. Please reload it and try again."))
            return
        try:
            fields = self.body()
            code = fields.get("code")
            channel = await self.joined_channel(session_id, code)
            participant = self.participant()
            if participant is None:
                raise Refusal(403, "Please reload the page to take part (it keeps who you are "
                                   "in a cookie).")
            self.limit(self.kind, participant, self.too_fast)
            if not channel.is_open:
                raise Refusal(409, "This session is closed: it takes no more post-its, dots or "
                                   "answers.")
            done, message, result = await self.do(channel, participant, fields)
        except Refusal as refusal:
            await self.answer_refusal(session_id, fields, refusal)
            return
        except InputError as error:
            await self.answer_refusal(session_id, fields, Refusal(400, str(error)))
            return
        if not self.wants_json():
            await channel.refreshed()  # the page it goes back to shows the change
            self.redirect(f"/workshop/{quote(session_id)}?code={access.normalise_code(code)}"
                          f"&done={done}", status=303)
            return
        channel.request_refresh()
        self.finish({"ok": True, "message": message, **result})

    async def answer_refusal(self, session_id: str, fields: dict[str, Any],
                             refusal: Refusal) -> None:
        if self.wants_json() or refusal.status in (403, 404, 413, 429):
            self.refuse(refusal)
            return
        # A form sent without JavaScript: show the page again, with the message.
        try:
            await self.show_participant_page(session_id, fields.get("code"), refusal.message,
                                             refusal.status)
        except Refusal as again:
            self.refuse(again)

    async def do(self, channel: SessionChannel, participant: str,
                 fields: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """Do the write; return the ``done`` key for a page without JavaScript, the
        sentence to show, and what changed for the participant (for live.js)."""
        raise NotImplementedError


class PostItHandler(_WriteHandler):
    kind = "post_it"
    too_fast = "You are adding post-its very quickly."

    async def do(self, channel, participant, fields):
        frame = new_post_it(channel.row, participant, fields.get("text"),
                            sector=fields.get("sector"), organisation=fields.get("organisation"),
                            theme=fields.get("theme"))
        try:
            summary = await self.hub.in_store(self.hub.store.add_contributions, frame,
                                           by=participant, screen=screen_contributions)
        except StoreError as error:
            raise Refusal(409, _store_refusal(error)) from None
        row = frame.iloc[0].to_dict()
        self.set_signed(ABOUT_COOKIE, json.dumps({  # for this person's next post-it
            "sector": row["sector"],
            "organisation": row["organisation"] if isinstance(row["organisation"], str) else ""}))
        post = public_post_it({**row, "status": "pending" if summary.pending else "visible"},
                              channel.labels)
        if summary.pending:
            reasons = "; ".join(needs_review(post["text"]))
            return "waiting", (f"Thank you. Your post-it is waiting for the facilitator because "
                               f"it {reasons}. Only you can see it until then."), {"post": post}
        return "added", DONE_MESSAGES["added"], {"post": post}


class DotHandler(_WriteHandler):
    too_fast = "You are moving dots very quickly."

    async def do(self, channel, participant, fields):
        theme = fields.get("theme")
        if theme not in channel.themes:
            raise InputError("Please choose one of this session's themes for your dot.")
        step = str(fields.get("step", "1"))
        if step not in ("1", "-1", "+1"):
            raise InputError("A dot is placed (1) or taken back (-1), one at a time.")
        place = step != "-1"
        change = self.hub.store.place_dot if place else self.hub.store.remove_dot
        try:
            mine = await self.hub.in_store(change, channel.session_id, participant, theme)
        except StoreError as error:
            if not place:
                raise Refusal(409, "You have no dot there to take back.") from None
            data = await self.hub.in_store(load_participant, self.hub.store, channel.row,
                                           participant)
            raise Refusal(409, dot_problem(data, participant, theme, channel.labels)
                          or _store_refusal(error)) from None
        done = "dot" if place else "undot"
        return done, DONE_MESSAGES[done], {"dot": {"theme": theme, "mine": mine}}


class VoteHandler(_WriteHandler):
    too_fast = "You are answering very quickly."

    async def do(self, channel, participant, fields):
        statement, answer = fields.get("statement"), fields.get("answer")
        frame = new_poll_vote(channel.row, participant, statement, answer)
        try:
            await self.hub.in_store(self.hub.store.add_votes, frame, by=participant)
        except StoreError as error:
            raise Refusal(409, _store_refusal(error)) from None
        return "voted", f"Your answer is in: {answer}.", {"vote": {"statement": statement,
                                                                 "answer": answer}}


def _store_refusal(error: StoreError) -> str:
    if "closed" in str(error):
        return "This session is closed: it takes no more post-its, dots or answers."
    return "That could not be saved just now. Please try again."


class EventsHandler(LiveHandler):
    """The live stream of one session (server-sent events): a ``snapshot`` first, then
    ``update`` (wall, tallies, session state) and ``forming`` events as they happen."""

    async def get(self, session_id: str) -> None:
        key = self.get_query_argument("key", None)
        participant = None
        try:
            if key is not None:
                if not access.is_screen_key(self.hub.secret, session_id, key):
                    raise Refusal(403, "This screen's link is not valid.")
                try:
                    channel = await self.hub.channel(session_id)
                except StoreError:
                    raise Refusal(404, "There is no such workshop session any more.") from None
            else:
                channel = await self.joined_channel(session_id, self.get_query_argument("code", None))
                participant = self.participant()
                if participant is None:
                    raise Refusal(403, "Please reload the page.")
                if self.hub.streams.get(participant, 0) >= MAX_STREAMS_PER_PARTICIPANT:
                    raise Refusal(429, "This page is open in too many tabs; close some and reload.")
        except Refusal as refusal:
            self.refuse(refusal)
            return
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")
        self.subscriber = channel.subscribe(participant)
        if participant:
            self.hub.streams[participant] = self.hub.streams.get(participant, 0) + 1
        try:
            await self._send_snapshot(channel, participant, first=True)
            while True:
                message = await self.subscriber.next(HEARTBEAT_SECONDS) or b": still here\n\n"
                if message is CLOSED:
                    break
                if message is RESYNC:
                    await self._send_snapshot(channel, participant)
                    continue
                self.write(message)
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            channel.unsubscribe(self.subscriber)
            if participant:
                self.hub.streams[participant] -= 1
                if not self.hub.streams[participant]:
                    del self.hub.streams[participant]

    async def _send_snapshot(self, channel: SessionChannel, participant: str | None,
                             first: bool = False) -> None:
        snapshot = channel.snapshot()
        if participant:
            snapshot["me"] = await self.hub.participant_state(channel, participant)
        if first:
            self.write(b"retry: 2000\n\n")  # reconnect after 2 s if the stream drops
        self.write(event_message("snapshot", snapshot))
        await self.flush()

    def on_connection_close(self) -> None:
        subscriber = getattr(self, "subscriber", None)
        if subscriber is not None:
            subscriber.send(CLOSED)


class ScreenHandler(_LiveMixin, JupyterHandler):
    """The projector: the join screen (QR code, short link, code) or the live wall. The
    facilitator's: it needs the screen key, and the server's token when it has one."""

    @property
    def content_security_policy(self) -> str:
        return CONTENT_SECURITY_POLICY

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self._security_headers()

    @tornado.web.authenticated
    async def get(self, session_id: str) -> None:
        if not access.is_screen_key(self.hub.secret, session_id, self.get_query_argument("key", "")):
            raise tornado.web.HTTPError(403)
        try:
            channel = await self.hub.channel(session_id)
        except StoreError:
            raise tornado.web.HTTPError(404) from None
        base, reachable = self.live.base_url(self.request)
        code = access.join_code(self.hub.secret, session_id)
        short_link = f"{base}/j/{code}"
        show = "join" if self.get_query_argument("show", "wall") == "join" else "wall"
        self.finish(pages.render(
            "screen.html", snapshot=channel.snapshot(), show=show, code=code,
            spaced_code=pages.spaced_code(code), short_link=short_link,
            join_page=f"{base}/j", reachable=reachable,
            qr=pages.qr_svg(short_link, f"QR code: {short_link}"),
            key=self.get_query_argument("key"), base=f"/workshop/{quote(session_id)}"))


class LiveStaticHandler(tornado.web.StaticFileHandler):
    """The live pages' own CSS and JavaScript."""

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)


def live_handlers(live: LiveSettings, prefix: str = "/") -> list[tuple]:
    """The live pages' handlers for a Tornado application rooted at ``prefix``."""
    root = prefix.rstrip("/")
    options = {"live": live}
    return [
        (rf"{root}/j/?", JoinHandler, options),
        (rf"{root}/j/([A-Za-z0-9 -]{{1,20}})", JoinHandler, options),
        (rf"{root}/workshop/{SESSION_ID}", ParticipantPageHandler, options),
        (rf"{root}/workshop/{SESSION_ID}/events", EventsHandler, options),
        (rf"{root}/workshop/{SESSION_ID}/postits", PostItHandler, options),
        (rf"{root}/workshop/{SESSION_ID}/dots", DotHandler, options),
        (rf"{root}/workshop/{SESSION_ID}/votes", VoteHandler, options),
        (rf"{root}/workshop/{SESSION_ID}/screen", ScreenHandler, options),
        (rf"{root}{pages.STATIC_URL}(.*)", LiveStaticHandler, {"path": str(pages.STATIC_DIR)}),
    ]
