"""The Workshop page in Voila: the facilitator's desk for a live event.

Role: floor 4 (UI). One kernel, one person: the facilitator opens and closes sessions,
moderates post-its, and gets the links to put on the projector. Participants never use
this page: they join from their phones on the kernel-free live pages that ``hwb serve``
serves itself (:mod:`hwb_toolkit.apps.live`), through the session's join code.

How it works
------------
* **Who.** Facilitator mode is switched on by the address
  (``...workshop.ipynb?facilitator=<code>``) or by typing the code into the
  "I am the facilitator" box; the code is ``$HWB_FACILITATOR_CODE``, else one made once
  per workspace and kept in ``<workspace>/.facilitator_code`` (not served;
  :func:`~hwb_toolkit.apps.session.facilitator_code`). Anyone else sees how to join a
  workshop instead. Voila gives the kernel the page address's query string
  (``QUERY_STRING``; :func:`page_query` also waits for it in a preheated kernel).
* **Sessions.** "Open a new session" takes a name, themes (from the strategy, or typed),
  statements to agree or disagree with, each person's dots and the most on one theme;
  all kept with the session in the store, which enforces them. A session can be closed
  (no more post-its, dots or answers: the store refuses them) and opened again.
* **The room.** For the chosen session the page shows its join code and links to the
  join screen (QR code, short link, code) and the live wall, both for the projector,
  and to the participant page itself.
* **Moderation.** Post-its held by screening (:mod:`hwb_toolkit.apps.screening`) wait
  for the facilitator; hidden ones stay in the store's history
  (:class:`~hwb_toolkit.apps.moderation.ModerationPanel`). The live pages pick changes up
  within a second or two.
* **Refresh.** An asyncio task re-reads the session every ``refresh_seconds`` and redraws
  only what changed; a failed refresh is retried with a growing pause (up to 30 s); after
  :data:`IDLE_STOP_SECONDS` without use it stops ("Refresh now" restarts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

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
from hwb_toolkit.apps.live.access import join_code, live_secret, screen_key
from hwb_toolkit.apps.moderation import ModerationPanel, approve, hide
from hwb_toolkit.apps.session import (
    DEFAULT_DOTS_PER_PERSON,
    SessionData,
    dots_per_item_setting,
    facilitator_code,
    is_facilitator_code,
    load_session,
    new_session_id,
    session_statements,
    session_themes,
)
from hwb_toolkit.errors import InputError
from hwb_toolkit.voices import pseudonymise
from hwb_toolkit.workspace import Workspace

logger = logging.getLogger("hwb_toolkit.apps")

#: Query parameter carrying the facilitator's code (``?facilitator=...``).
FACILITATOR_PARAMETER = "facilitator"
#: Query parameter choosing a session (``?session=<id>``).
SESSION_PARAMETER = "session"
#: Seconds between two reads of the store.
REFRESH_SECONDS = 2.0
#: Longest pause between refreshes after repeated failures.
MAX_BACKOFF_SECONDS = 30.0
#: Automatic refresh stops after this long without anyone using the tab.
IDLE_STOP_SECONDS = 4 * 3600.0

PAGE_EXTRA_CSS = """
.hwb-postit { list-style: none; background: #fff6b3; border: 1px solid #d8c960;
              border-radius: 4px; padding: 0.5rem 0.7rem; max-width: 100%;
              box-sizing: border-box; overflow-wrap: anywhere; }
.hwb-postit.hwb-pending { background: #eeeeee; border: 2px dashed #777; }
.hwb-postit p { margin: 0.15rem 0; }
.hwb-postit-text { font-size: 1.05rem; white-space: pre-wrap; }
.hwb-join-code { font-size: 1.6rem; font-weight: 700; letter-spacing: 0.12em;
                 font-family: ui-monospace, Menlo, Consolas, monospace; }
.hwb-room-links a { display: inline-block; margin: 0.2rem 1rem 0.2rem 0; font-weight: 600; }
.hwb-page textarea { font-size: 1rem; }
""" + FORM_CSS


def page_query() -> dict[str, str]:
    """The page address's query parameters (first value of each), as Voila passes them.

    Voila puts the query string in ``$QUERY_STRING`` when it starts the page's
    kernel; a preheated kernel receives it only when a browser asks for the
    page, which :func:`voila.utils.get_query_string` waits for. Outside Voila: {}.
    """
    query = os.environ.get("QUERY_STRING", "")
    if os.environ.get("VOILA_PREHEAT", "False") == "True":
        with contextlib.suppress(Exception):
            from voila.utils import get_query_string

            query = get_query_string() or ""
    return {key: values[0] for key, values in parse_qs(query).items() if values}


def room_links(secret: str, session_id: str) -> dict[str, str]:
    """The session's addresses on the ``hwb serve`` server (paths, same host as this page):
    the participant page (with its join code), the short join link, and the projector's
    join screen and wall (with the screen key)."""
    code = join_code(secret, session_id)
    key = screen_key(secret, session_id)
    base = f"/workshop/{quote(session_id)}"
    return {
        "code": code,
        "participant": f"{base}?code={code}",
        "short": f"/j/{code}",
        "join_screen": f"{base}/screen?key={key}&show=join",
        "wall_screen": f"{base}/screen?key={key}&show=wall",
    }


def room_markup(data: SessionData, links: dict[str, str]) -> str:
    """The chosen session's state, join code and links to the room's screens, as HTML."""
    posts = data.contributions
    visible = int(posts["status"].eq("visible").sum())
    waiting = int(posts["status"].eq("pending").sum())
    people = len(set(posts["author"].dropna()) | set(data.votes["participant"].dropna()))
    state = "open" if data.session["open"] else "closed: it takes no more post-its, dots or answers"
    code = links["code"]
    return (
        f"<p><strong>{escape(data.session['name'])}</strong> is {escape(state)}.</p>"
        f'<p>Join code: <span class="hwb-join-code">{escape(code[:3])} {escape(code[3:])}</span>'
        f" (people go to <code>/j</code> on this server and type it, or scan the QR code "
        f"on the join screen).</p>"
        f'<p class="hwb-room-links">'
        f'<a href="{escape(links["join_screen"])}" target="_blank" rel="noopener">'
        f"Join screen for the projector</a>"
        f'<a href="{escape(links["wall_screen"])}" target="_blank" rel="noopener">'
        f"Live wall for the projector</a>"
        f'<a href="{escape(links["participant"])}" target="_blank" rel="noopener">'
        f"The participant page</a></p>"
        f'<p class="hwb-muted">{visible} post-it{"s" if visible != 1 else ""} on the wall, '
        f"{waiting} waiting for you, {people} {'person' if people == 1 else 'people'} "
        f"taking part.</p>"
    )


class WorkshopPage:
    """The Workshop page for one browser tab (``.root`` is the widget to display).

    Build it with :func:`workshop_page`. Public for tests: ``session_picker``,
    ``room_html``, the facilitator's form widgets, :meth:`refresh`.
    """

    def __init__(self, workspace: Workspace, *, facilitator: bool = False,
                 code: str | None = None, session_id: str | None = None,
                 default_dots_per_item: int | None = None,
                 refresh_seconds: float | None = REFRESH_SECONDS) -> None:
        self.workspace = workspace
        self.store = workspace.store()
        self.strategy = workspace.strategy
        self.secret = live_secret(workspace.root)
        self._code = code
        self.facilitator = bool(facilitator)
        self.default_dots_per_item = dots_per_item_setting(default_dots_per_item)
        self.by = f"facilitator {pseudonymise(secrets.token_hex(16))}"
        self.refresh_seconds = refresh_seconds
        self.data: SessionData | None = None
        self._fingerprint: int | None = None
        self._sessions_seen: tuple = ()
        self._changing_options = False
        self._refresh_task: asyncio.Task | None = None
        self._auto_stopped = False
        self._last_used = time.monotonic()
        self._wanted_session = session_id

        self.status = status_line()
        self.signin_box = column()
        self.desk = column()
        self.root = column(
            style_widget(),
            widgets.HTML(f"<style>{PAGE_EXTRA_CSS}</style>", layout=widgets.Layout(height="0")),
            heading("Workshop", 1),
            self.status,
            self.desk,
            self.signin_box,
        )
        self.root.add_class("hwb-workshop")
        if self.facilitator:
            self._build_desk()
        else:
            self._build_welcome()

    # .. who is here .........................................................................
    def _build_welcome(self) -> None:
        handle = friendly_errors(self.status, what="workshop facilitator")
        self.desk.children = [text_html(
            "This page is for the workshop's facilitator. Taking part in a workshop? Scan the "
            "QR code on the screen, or go to /j on this site and type the code shown there.")]
        self.code_input = widgets.Password(
            description="Facilitator code", style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="24rem"))
        enter = widgets.Button(description="I am the facilitator")
        enter.on_click(handle(self._on_signin))
        self.signin_box.children = [widgets.Accordion(
            children=[column(self.code_input, enter)], titles=("Facilitator",), selected_index=None)]

    def _on_signin(self, _button: Any) -> None:
        code = self._code if self._code is not None else facilitator_code(self.workspace.root)
        if not is_facilitator_code(self.code_input.value, code):
            self.code_input.value = ""
            raise InputError("That is not the facilitator code.")
        self.facilitator = True
        self.signin_box.children = []
        self._build_desk()
        show_status(self.status, "You are now the facilitator.", "ok")

    # .. the facilitator's desk ..............................................................
    def _build_desk(self) -> None:
        handle = friendly_errors(self.status, what="workshop facilitator")
        self.session_picker = dropdown("Workshop session", [("Choose a session", "")], "")
        self.session_picker.observe(handle(self._on_session_change), "value")
        self.room_html = widgets.HTML("", layout=widgets.Layout(width="100%"))
        self.close_button = widgets.Button(description="Close this session",
                                           tooltip="No more post-its, dots or answers")
        self.close_button.on_click(handle(self._on_close_session))
        self.reopen_button = widgets.Button(description="Open it again",
                                            tooltip="Take post-its, dots and answers again")
        self.reopen_button.on_click(handle(self._on_reopen_session))
        self.moderation = ModerationPanel(handle(self._on_moderate))
        self.refresh_button = widgets.Button(description="Refresh now",
                                             tooltip="Read the latest post-its and votes")
        self.refresh_button.on_click(handle(lambda _b: self.refresh(force=True)))
        self.session_area = column(
            section("The room", self.room_html, row(self.close_button, self.reopen_button)),
            section("Moderation", self.moderation.widget),
        )
        self.desk.children = [
            text_html("You are the facilitator.", css_class="hwb-muted"),
            self.session_picker,
            self.session_area,
            self.refresh_button,
            self._new_session_form(),
        ]
        self._update_sessions()
        if self.data is None:
            self._show_session()

    def _new_session_form(self) -> widgets.Widget:
        handle = friendly_errors(self.status, what="workshop facilitator")
        wide = {"style": {"description_width": "initial"},
                "layout": widgets.Layout(width="100%", max_width="28rem")}
        self.new_name = widgets.Text(description="Session name", **wide)
        self.new_themes = widgets.SelectMultiple(
            description="Themes from the strategy", rows=6,
            options=[(t.title, t.id) for t in self.strategy.themes], **wide)
        self.new_typed_themes = widgets.Text(description="Other themes (comma between)", **wide)
        self.new_statements = widgets.Textarea(
            description="Statements to agree or disagree with (one per line)", rows=4,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="36rem"))
        self.new_dots = widgets.BoundedIntText(
            value=DEFAULT_DOTS_PER_PERSON, min=0, max=50, description="Dots per person",
            style={"description_width": "initial"}, layout=widgets.Layout(max_width="14rem"))
        self.new_dots_per_item = widgets.BoundedIntText(
            value=self.default_dots_per_item, min=0, max=50,
            description="Most dots on one theme (0 = no limit)", **wide)
        open_button = widgets.Button(description="Open session", button_style="primary")
        open_button.on_click(handle(self._on_open_session))
        return section("Open a new session", self.new_name, self.new_themes,
                       self.new_typed_themes, self.new_statements, self.new_dots,
                       self.new_dots_per_item, open_button)

    def _on_open_session(self, _button: Any) -> None:
        name = self.new_name.value.strip()
        if not name:
            raise InputError("Session name: please give the session a name.")
        themes = session_themes(self.new_themes.value, self.new_typed_themes.value)
        if not themes:
            raise InputError("Themes: please choose or type at least one theme.")
        session_id = new_session_id(name)
        self.store.open_session(session_id, name, themes,
                                session_statements(self.new_statements.value), by=self.by,
                                dots_per_person=int(self.new_dots.value),
                                max_dots_per_item=int(self.new_dots_per_item.value) or None)
        self.new_name.value = self.new_typed_themes.value = self.new_statements.value = ""
        self.new_themes.value = ()
        self._update_sessions()
        self.session_picker.value = session_id
        show_status(self.status, f"Session “{name}” is open. Put its join screen on the "
                    "projector so the room can join.", "ok")

    def _require_session(self) -> SessionData:
        if self.data is None:
            raise InputError("Workshop session: please choose a session first.")
        return self.data

    def _on_close_session(self, _button: Any) -> None:
        self.store.close_session(self._require_session().session_id, by=self.by)
        self.refresh(force=True)
        show_status(self.status, "The session is closed.", "ok")

    def _on_reopen_session(self, _button: Any) -> None:
        data = self._require_session()
        session = data.session
        statements = dict(zip(data.statements["contribution_id"].astype(str),
                              data.statements["text"].astype(str), strict=True))
        cap = session.get("max_dots_per_item")
        self.store.open_session(data.session_id, str(session["name"]), list(session["themes"]),
                                statements, by=self.by,
                                dots_per_person=int(session["dots_per_person"]),
                                max_dots_per_item=None if pd.isna(cap) else int(cap))
        self.refresh(force=True)
        show_status(self.status, "The session is open again.", "ok")

    def _on_moderate(self, contribution_id: str, status: str, reason: str) -> None:
        if status == "hidden":
            hide(self.store, contribution_id, self.by, reason)
            message = "Hidden. It is kept in the store's history."
        else:
            approve(self.store, contribution_id, self.by, reason)
            message = "Approved: everyone can see it now."
        self.refresh(force=True)
        show_status(self.status, message, "ok")

    # .. sessions ...........................................................................
    def _update_sessions(self) -> None:
        sessions = self.store.sessions()
        seen = tuple(zip(sessions["session_id"], sessions["name"], sessions["open"], strict=True))
        if seen == self._sessions_seen:
            return
        self._sessions_seen = seen
        options = [("Choose a session", "")] + [
            (name if is_open else f"{name} (closed)", session_id)
            for session_id, name, is_open in seen]
        ids = [value for _, value in options]
        current = self.session_picker.value
        if self._wanted_session in ids:
            choice, self._wanted_session = self._wanted_session, None
        elif current and current in ids:
            choice = current
        else:
            open_ids = [i for i, _, is_open in seen if is_open]
            choice = open_ids[-1] if open_ids else ""  # the newest open session
        self._changing_options = True  # setting options fires value changes: ignore them
        try:
            self.session_picker.options = options
            self.session_picker.value = choice
        finally:
            self._changing_options = False
        if choice != current:
            self._on_session_change(None)

    def _on_session_change(self, _change: Any) -> None:
        if not self._changing_options:
            self._fingerprint = None
            self._show_session()

    def _show_session(self) -> None:
        if not self.session_picker.value:
            self.data = None
            self.session_area.layout.display = "none"
            self.moderation.update(pd.DataFrame(columns=["contribution_id", "status"]))
            return
        self.session_area.layout.display = None
        self.refresh(force=True)

    # .. refresh ............................................................................
    def refresh(self, force: bool = False) -> bool:
        """Re-read the store and redraw what changed; returns True when something did."""
        if not self.facilitator:
            return False
        self._update_sessions()
        session_id = self.session_picker.value
        if not session_id:
            return False
        data = load_session(self.store, session_id)
        fingerprint = data.fingerprint()
        self.data = data
        if force:
            self._last_used = time.monotonic()
            if self._refresh_task is None and self._auto_stopped:
                self._auto_stopped = False
                self.start_auto_refresh()
        if not force and fingerprint == self._fingerprint:
            return False  # nothing sent: an unwatched tab falls idle and can be culled
        self._fingerprint = fingerprint
        self.room_html.value = room_markup(data, room_links(self.secret, data.session_id))
        is_open = bool(data.session["open"])
        self.close_button.layout.display = None if is_open else "none"
        self.reopen_button.layout.display = "none" if is_open else None
        self.moderation.update(data.contributions)
        return True

    def start_auto_refresh(self) -> bool:
        """Start re-reading the store every ``refresh_seconds`` in the kernel's event loop.

        Returns False (and the page relies on "Refresh now") when no event loop runs.
        """
        if not self.refresh_seconds or self._refresh_task is not None:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                return False
            if not loop.is_running():
                return False
        self._refresh_task = loop.create_task(self._auto_refresh())
        return True

    def stop_auto_refresh(self) -> None:
        """Stop the automatic refresh (the page keeps its "Refresh now" button)."""
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            self._refresh_task = None

    async def _auto_refresh(self) -> None:
        pause = float(self.refresh_seconds)
        failures = 0
        while True:
            await asyncio.sleep(pause)
            if time.monotonic() - self._last_used > IDLE_STOP_SECONDS:
                self._refresh_task = None
                self._auto_stopped = True
                show_status(self.status, "Automatic updates paused because this page has not "
                            "been used for a while. Press Refresh now to carry on.", "info")
                return
            try:
                self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep refreshing whatever happened
                failures += 1
                pause = min(float(self.refresh_seconds) * 2 ** failures, MAX_BACKOFF_SECONDS)
                logger.warning("workshop refresh failed (%s); next try in %.0f s", error, pause)
                show_status(self.status, f"Could not read the latest post-its; trying again in "
                            f"{pause:.0f} seconds.", "error")
                continue
            if failures:
                failures = 0
                pause = float(self.refresh_seconds)
                show_status(self.status, "")


def workshop_page(
    workspace: str | Path | Workspace | None = None,
    *,
    query: dict[str, str] | None = None,
    default_dots_per_item: int | None = None,
    refresh_seconds: float | None = REFRESH_SECONDS,
) -> widgets.VBox:
    """Build the Workshop page for this browser tab and start its automatic refresh.

    ``workspace``: a folder (default ``$HWB_WORKSPACE``). ``query``: the page
    address's parameters (default :func:`page_query`): ``facilitator=<code>``
    switches on facilitator mode, ``session=<id>`` chooses a session.
    ``default_dots_per_item``: the facilitator form's starting "most dots on one
    theme" (default ``$HWB_DOTS_PER_ITEM``, else 3; 0 = no limit).
    Returns the root widget (with ``.workshop`` pointing at the :class:`WorkshopPage`).
    """
    workspace = Workspace.open(workspace if workspace is not None else workspace_path())
    query = page_query() if query is None else query
    code = facilitator_code(workspace.root)
    page = WorkshopPage(
        workspace,
        facilitator=is_facilitator_code(query.get(FACILITATOR_PARAMETER), code),
        code=code,
        session_id=query.get(SESSION_PARAMETER),
        default_dots_per_item=default_dots_per_item,
        refresh_seconds=refresh_seconds,
    )
    page.start_auto_refresh()
    page.root.workshop = page
    return page.root
