"""The Workshop page: post-its, dots and agree/disagree from partners' phones, live.

Role: floor 4 (UI). Layout and events only: everything said and voted is written
to the shared store (:class:`hwb_toolkit.store.Store`), and everything shown is
read back from it and analysed by the voices engine (:func:`~hwb_toolkit.voices.tally`,
:func:`~hwb_toolkit.voices.find_themes`, :func:`~hwb_toolkit.voices.poll_summary`,
opinion groups and consensus once enough people voted). So several browsers in
one session see each other's contributions: each page polls the store.

How it works
------------
* **One page, two modes.** Participants pick an open session, say their sector
  (and optionally organisation), add post-its, place dots on the session's
  themes and agree/disagree/pass on its statements. The facilitator also opens
  sessions and moderates. Facilitator mode is switched on by the address
  (``...workshop.ipynb?facilitator=<code>``) or by typing the code into the
  "I am the facilitator" box; the code is ``$HWB_FACILITATOR_CODE``, else one
  made once per workspace and kept in ``<workspace>/.facilitator_code`` (not
  served; :func:`facilitator_code` reads it so ``hwb serve`` can print the
  facilitator's address). Voila gives the kernel the page address's query
  string (``QUERY_STRING``; :func:`page_query` also waits for it in a preheated
  kernel).
* **Who is who.** Each page (browser tab) gets a random participant id, kept in
  its kernel and stored only as a pseudonym (:func:`~hwb_toolkit.voices.pseudonymise`).
  Opening the page again starts a new participant.
* **Screening.** A post-it that :func:`~hwb_toolkit.apps.screening.needs_review`
  flags is stored as "pending": only its author (marked "waiting for the
  facilitator") and the facilitator see it until it is approved.
* **Dots.** Each participant has the session's ``dots_per_person`` and may put
  at most its ``max_dots_per_item`` on one theme (None: no limit). Both are set
  by the facilitator when opening the session, kept with the session in the
  store, and enforced there in one transaction
  (:meth:`~hwb_toolkit.store.Store.place_dot`), so two tabs clicking at once
  cannot pass them; the page checks first only to explain the refusal kindly.
  ``$HWB_DOTS_PER_ITEM`` (else 3, as in the example workspace's dot vote) is
  only the facilitator form's starting value.
* **Refresh.** An asyncio task in the kernel re-reads the session every
  ``refresh_seconds`` (2 s) and redraws only what changed (a fingerprint of the
  rows); a "Refresh now" button does the same at once. Nothing is sent to the
  browser when nothing changed, so a forgotten tab's kernel falls idle and the
  server can cull it. A failed refresh is shown and retried with a growing
  pause (up to 30 s); after :data:`IDLE_STOP_SECONDS` without anyone using the
  tab the task stops (Refresh now restarts it). Widgets for themes and statements are kept, not
  rebuilt, so a refresh never takes the keyboard focus away.
* **No HTML from anyone.** Every contributed text goes through
  :func:`hwb_toolkit.apps.common.escape`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as widgets
import pandas as pd

from hwb_toolkit.apps.common import (
    column,
    dropdown,
    escape,
    friendly_errors,
    heading,
    row,
    show_status,
    status_line,
    style_widget,
    text_html,
    workspace_path,
)
from hwb_toolkit.apps.moderation import ModerationPanel, approve, hide
from hwb_toolkit.apps.screening import needs_review, screen_contributions
from hwb_toolkit.errors import InputError, StoreError
from hwb_toolkit.io.workspace import Workspace
from hwb_toolkit.narrative import sector_label
from hwb_toolkit.schema import SECTORS
from hwb_toolkit.store import Store
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.voices import (
    consensus,
    divisive_statements,
    find_themes,
    opinion_groups,
    poll_summary,
    pseudonymise,
    tally,
    voice_balance,
)

logger = logging.getLogger("hwb_toolkit.apps")

#: Environment variable holding the facilitator's code.
FACILITATOR_CODE_ENV = "HWB_FACILITATOR_CODE"
#: File in the workspace holding the code when the environment sets none.
FACILITATOR_CODE_FILE = ".facilitator_code"
#: Query parameter carrying the facilitator's code (``?facilitator=...``).
FACILITATOR_PARAMETER = "facilitator"
#: Query parameter choosing a session (``?session=<id>``).
SESSION_PARAMETER = "session"
#: Environment variable: the facilitator form's starting value for the most dots one
#: person may put on one theme (each session keeps its own, in the store).
DOTS_PER_ITEM_ENV = "HWB_DOTS_PER_ITEM"
DEFAULT_DOTS_PER_PERSON = 5
DEFAULT_DOTS_PER_ITEM = 3
#: Seconds between two reads of the store.
REFRESH_SECONDS = 2.0
#: Longest pause between refreshes after repeated failures.
MAX_BACKOFF_SECONDS = 30.0
#: Automatic refresh stops after this long without anyone using the tab (a forgotten tab
#: should not keep its kernel reading the store for ever); "Refresh now" restarts it.
IDLE_STOP_SECONDS = 4 * 3600.0
#: Longest post-it, in characters.
MAX_POSTIT_CHARS = 500
#: Fewest agree/disagree voters before opinion groups are looked for (as the briefing does).
MIN_VOTERS_FOR_GROUPS = 10

POLL_VOTES = {"agree": 1.0, "disagree": -1.0, "pass": 0.0}
_POLL_WORDS = {1.0: "agree", -1.0: "disagree", 0.0: "pass"}

#: Form styles for phones: a field's label goes above its input when both do not fit.
FORM_CSS = """
.hwb-page .widget-button { min-height: 2.5rem; }
.hwb-page .widget-inline-hbox { flex-wrap: wrap; max-width: calc(100% - 4px);
                                box-sizing: border-box; }
.hwb-page .widget-inline-hbox > .widget-label { white-space: normal; max-width: 100%;
                                                 overflow: visible; }
.hwb-page .widget-inline-hbox > select, .hwb-page .widget-inline-hbox > input,
.hwb-page .widget-inline-hbox > textarea { min-width: 12rem; max-width: 100%;
                                           flex: 1 1 12rem; }
"""

PAGE_EXTRA_CSS = """
.hwb-postits { display: flex; flex-wrap: wrap; gap: 0.6rem; padding: 0; margin: 0.3rem 0; }
.hwb-postit { list-style: none; background: #fff6b3; border: 1px solid #d8c960;
              border-radius: 4px; padding: 0.5rem 0.7rem; flex: 1 1 14rem; max-width: 100%;
              box-sizing: border-box; overflow-wrap: anywhere; }
.hwb-postit.hwb-pending { background: #eeeeee; border: 2px dashed #777; }
.hwb-postit p { margin: 0.15rem 0; }
.hwb-postit-text { font-size: 1.05rem; white-space: pre-wrap; }
.hwb-bars { list-style: none; padding: 0; margin: 0.3rem 0; max-width: 40rem; }
.hwb-bars li { margin: 0.35rem 0; }
.hwb-bar { display: block; height: 0.6rem; background: #2f6f9f; border-radius: 2px;
           margin-top: 0.15rem; min-width: 2px; }
.hwb-bar.hwb-agree { background: #2e7d32; }
.hwb-bar.hwb-disagree { background: #b23b3b; }
.hwb-statement, .hwb-dot-theme { border-top: 1px solid #ddd; padding: 0.4rem 0; width: 100%; }
.hwb-page textarea { font-size: 1rem; }
""" + FORM_CSS


# --- layout -----------------------------------------------------------------------------------


def section(title: str | None, *children: widgets.Widget, level: int = 2) -> widgets.VBox:
    """A titled block, full width, its children one under the other (pages stack these;
    :func:`hwb_toolkit.apps.common.panel` is for blocks side by side in a row)."""
    parts = ([heading(title, level)] if title else []) + list(children)
    box = widgets.VBox(parts, layout=widgets.Layout(width="100%", margin="0 0 0.8rem 0"))
    box.add_class("hwb-section")
    return box


# --- facilitator mode and the page address ------------------------------------------------


def facilitator_code(workspace_root: str | Path) -> str:
    """The facilitator's code: ``$HWB_FACILITATOR_CODE``, else the workspace's own.

    The workspace's code is made once (random, 10 characters) and kept in
    ``<workspace>/.facilitator_code``; concurrent first calls agree on one code.
    """
    from_environment = os.environ.get(FACILITATOR_CODE_ENV, "").strip()
    if from_environment:
        return from_environment
    path = Path(workspace_root) / FACILITATOR_CODE_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another kernel may be writing it this very moment
            code = path.read_text(encoding="utf-8").strip()
            if code:
                return code
            time.sleep(0.02)
        raise StoreError("the facilitator code file is empty; delete it to make a new code",
                         file=path) from None
    code = secrets.token_urlsafe(8)[:10]
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(code + "\n")
    return code


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


def is_facilitator_code(typed: str | None, code: str) -> bool:
    """True when ``typed`` is the facilitator's code (compared in constant time)."""
    if not typed or not code:
        return False
    return hmac.compare_digest(typed.strip().encode("utf-8"), code.encode("utf-8"))


def dots_per_item_setting(value: int | None = None) -> int:
    """The facilitator form's starting "most dots on one theme" (0 = no limit).

    ``value``, else ``$HWB_DOTS_PER_ITEM``, else :data:`DEFAULT_DOTS_PER_ITEM`.
    Sessions keep their own limit; this only fills in the form.
    """
    if value is None:
        raw = os.environ.get(DOTS_PER_ITEM_ENV, "").strip()
        if not raw:
            return DEFAULT_DOTS_PER_ITEM
        try:
            value = int(raw)
        except ValueError:
            raise InputError(f"{DOTS_PER_ITEM_ENV} must be a whole number, not {raw!r}") from None
    if int(value) < 0:
        raise InputError("the most dots on one theme must be 0 (no limit) or more")
    return int(value)


# --- sessions: ids, themes, statements ----------------------------------------------------


def slug(text: str) -> str:
    """Lower-case letters, digits and hyphens ("Walking & cycling!" -> "walking-cycling")."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).casefold()).strip("-")


def new_session_id(name: str) -> str:
    """A fresh session id from its name plus a random suffix (two sessions may share a name)."""
    base = slug(name)[:40] or "session"
    return f"{base}-{secrets.token_hex(3)}"


def session_themes(selected: list[str] | tuple[str, ...], typed: str) -> list[str]:
    """Theme ids for a session: the strategy themes chosen, then typed ones (comma or
    line separated, each turned into an id with :func:`slug`), without repeats."""
    themes = [str(theme) for theme in selected]
    for piece in re.split(r"[,\n;]", typed or ""):
        theme_id = slug(piece)
        if theme_id:
            themes.append(theme_id)
    return list(dict.fromkeys(themes))


def session_statements(text: str) -> list[str]:
    """Statements to agree/disagree with: one per non-blank line, outer spaces removed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def theme_labels(strategy: Strategy, theme_ids: list[str]) -> dict[str, str]:
    """Theme id -> title (the strategy's, else the id read as words)."""
    titles = {theme.id: theme.title for theme in strategy.themes}
    return {t: titles.get(t, t.replace("-", " ").capitalize()) for t in theme_ids}


# --- one session's data and what each person sees -----------------------------------------


@dataclass(frozen=True)
class SessionData:
    """One read of a session from the store.

    ``session``: the row of :meth:`Store.sessions` as a dict. ``contributions``:
    the session's post-its (every status, with ``status``), in the order added.
    ``statements``: its poll statements. ``votes``: every current vote in it.
    """

    session: dict[str, Any]
    contributions: pd.DataFrame
    statements: pd.DataFrame
    votes: pd.DataFrame

    @property
    def session_id(self) -> str:
        return str(self.session["session_id"])

    @property
    def themes(self) -> list[str]:
        return list(self.session["themes"])

    def fingerprint(self) -> int:
        """Changes whenever anything shown on the page changes."""
        parts = (
            self.session["open"],
            tuple(self.contributions[["contribution_id", "status"]].itertuples(index=False)),
            tuple(self.votes[["participant", "item", "vote", "kind"]].itertuples(index=False)),
        )
        return hash(parts)


def load_session(store: Store, session_id: str) -> SessionData:
    """Read one session, its contributions (all statuses) and votes from the store."""
    sessions = store.sessions()
    found = sessions[sessions["session_id"] == session_id]
    if found.empty:
        raise StoreError(f"there is no workshop session {session_id!r}; it may have been removed")
    session = found.iloc[0].to_dict()
    everything = store.contributions(session=session_id, include_pending=True,
                                     include_hidden=True, with_status=True)
    is_statement = everything["kind"].eq("statement").fillna(False).to_numpy(dtype=bool)
    statements = everything[is_statement & everything["status"].eq("visible").to_numpy(dtype=bool)]
    return SessionData(
        session=session,
        contributions=everything[~is_statement].reset_index(drop=True),
        statements=statements.reset_index(drop=True),
        votes=store.votes(session=session_id),
    )


def wall(data: SessionData, participant: str, facilitator: bool = False) -> pd.DataFrame:
    """The post-its one person sees, oldest first, with ``waiting`` and ``mine`` (bools).

    Everyone sees visible post-its; the author also sees their own pending ones
    (``waiting`` True), the facilitator every pending one. Hidden ones nobody.
    """
    frame = data.contributions
    visible = frame["status"].eq("visible")
    pending = frame["status"].eq("pending")
    own = frame["author"].eq(participant).fillna(False)
    shown = visible | (pending & (own | facilitator))
    result = frame[shown.to_numpy(dtype=bool)].copy()
    result["waiting"] = result["status"].eq("pending").to_numpy(dtype=bool)
    result["mine"] = own[shown.to_numpy(dtype=bool)].to_numpy(dtype=bool)
    return result.reset_index(drop=True)


def visible_post_its(data: SessionData) -> pd.DataFrame:
    """The session's visible post-its (what tallies, themes and reports count)."""
    frame = data.contributions
    return frame[frame["status"].eq("visible").to_numpy(dtype=bool)].reset_index(drop=True)


def _dot_votes(data: SessionData) -> pd.DataFrame:
    votes = data.votes
    return votes[votes["kind"].eq("dot").to_numpy(dtype=bool)].reset_index(drop=True)


def my_dots(data: SessionData, participant: str) -> dict[str, int]:
    """Dots ``participant`` has on each item (items with none left out)."""
    dots = _dot_votes(data)
    mine = dots[dots["participant"].eq(participant).to_numpy(dtype=bool)]
    totals = mine.groupby("item")["vote"].sum()
    return {str(item): int(count) for item, count in totals.items() if count > 0}


def session_dot_cap(session: dict[str, Any]) -> int | None:
    """The most dots one person may put on one item in ``session`` (None = no limit)."""
    cap = session.get("max_dots_per_item")
    return None if cap is None or pd.isna(cap) else int(cap)


def dots_left(data: SessionData, participant: str) -> int:
    """Dots ``participant`` can still place in the session."""
    return max(int(data.session["dots_per_person"]) - sum(my_dots(data, participant).values()), 0)


def dot_problem(data: SessionData, participant: str, item: str,
                labels: dict[str, str] | None = None) -> str | None:
    """Why ``participant`` cannot place one more dot on ``item`` (None = they can).

    The same rules, in the same order, as :meth:`~hwb_toolkit.store.Store.place_dot`
    (closed session, the budget, then the session's per-item limit), in words.
    """
    label = (labels or {}).get(item, item)
    if not data.session["open"]:
        return "This session is closed: no more dots can be placed."
    if dots_left(data, participant) <= 0:
        return (f"You have placed all {int(data.session['dots_per_person'])} of your dots. "
                "Take one back to move it.")
    cap = session_dot_cap(data.session)
    if cap is not None and my_dots(data, participant).get(item, 0) >= cap:
        return (f"You already have {_plural(cap, 'dot')} on “{label}”, the most one person "
                "can put on one theme in this session.")
    return None


def dot_tally(data: SessionData) -> pd.DataFrame:
    """Dots per theme (every session theme listed, 0 when none): item, voters, score.

    Dots beyond the session's per-item limit (only possible from an import)
    do not count, as in the briefing's tally with a ``cap``.
    """
    return tally(_dot_votes(data), "dot", cap=session_dot_cap(data.session), items=data.themes)


def my_poll_votes(data: SessionData, participant: str) -> dict[str, str]:
    """``participant``'s current vote on each statement: "agree", "disagree" or "pass"."""
    votes = data.votes
    mine = votes[(votes["kind"].eq("agree_disagree") & votes["participant"].eq(participant))
                 .to_numpy(dtype=bool)]
    return {str(item): _POLL_WORDS[float(vote)] for item, vote in zip(mine["item"], mine["vote"],
                                                                       strict=True)}


def poll_table(data: SessionData) -> pd.DataFrame:
    """Agree/disagree/pass counts and shares for every statement (zeros when unvoted)."""
    votes = data.votes
    poll = votes[votes["kind"].eq("agree_disagree").to_numpy(dtype=bool)]
    summary = poll_summary(poll) if len(poll) else pd.DataFrame(
        columns=["item", "agree", "disagree", "pass", "votes"])
    summary = summary.set_index("item")
    items = data.statements["contribution_id"].astype(str).tolist()
    table = summary.reindex(items)[["agree", "disagree", "pass", "votes"]].fillna(0).astype("int64")
    table = table.rename_axis("item").reset_index()
    table["text"] = data.statements["text"].astype(str).to_numpy()
    return table


@dataclass(frozen=True)
class Forming:
    """What the session is saying so far (see :func:`what_is_forming`)."""

    themes: pd.DataFrame  # theme, label, size, sectors (from find_themes), largest first
    dots: pd.DataFrame  # item, label, voters, score, best first
    poll: pd.DataFrame  # item, text, agree, disagree, pass, votes
    voters: int  # people who voted on statements
    agreed: list[str]  # statement ids most people agree with (Polis consensus)
    rejected: list[str]  # statement ids most people disagree with
    divisive: list[str]  # statement ids opinion groups split on, most divisive first
    missing_sectors: list[str]  # sectors nobody has posted from


def what_is_forming(data: SessionData, strategy: Strategy, labels: dict[str, str]) -> Forming:
    """Themes, dots, agreement and division, from the visible contributions and all votes.

    Consensus and division come from Polis' method (:func:`opinion_groups`,
    :func:`consensus`, :func:`divisive_statements`) once at least
    :data:`MIN_VOTERS_FOR_GROUPS` people voted on statements; before that only
    the counts are given.
    """
    posts = visible_post_its(data)
    if len(posts):
        found = find_themes(posts, strategy, n_themes=0)
        themes = found.themes
        themes = themes[themes["size"] > 0].sort_values(
            ["size", "label"], ascending=[False, True], kind="stable").reset_index(drop=True)
        themes["label"] = [labels.get(t, label) for t, label in
                           zip(themes["theme"], themes["label"], strict=True)]
    else:
        themes = pd.DataFrame(columns=["theme", "label", "size", "sectors"])
    dots = dot_tally(data)
    dots["label"] = dots["item"].map(lambda item: labels.get(item, item))
    votes = data.votes
    poll_votes = votes[votes["kind"].eq("agree_disagree").to_numpy(dtype=bool)]
    voters = int(poll_votes["participant"].nunique())
    agreed: list[str] = []
    rejected: list[str] = []
    divisive: list[str] = []
    if voters >= MIN_VOTERS_FOR_GROUPS and poll_votes["item"].nunique() >= 2:
        groups = opinion_groups(poll_votes).groups
        agreement = consensus(poll_votes, groups)
        agreed, rejected = list(agreement.agree), list(agreement.disagree)
        if groups.nunique() >= 2:
            split = divisive_statements(poll_votes, groups)
            divisive = split.loc[split["divisiveness"] >= 0.3, "item"].astype(str).tolist()[:3]
    balance = voice_balance(posts)
    return Forming(themes, dots, poll_table(data), voters, agreed, rejected, divisive,
                   list(balance.missing_sectors))


# --- markup (every contributed text escaped) --------------------------------------------------


def wall_markup(posts: pd.DataFrame, labels: dict[str, str]) -> str:
    """The post-it wall as HTML: each post-it's text, theme and sector, escaped."""
    if posts.empty:
        return '<p class="hwb-muted">No post-its yet. Be the first!</p>'
    items = []
    for record in posts.to_dict("records"):
        theme = record.get("theme")
        theme_text = labels.get(theme, theme) if isinstance(theme, str) and theme else "No theme"
        who = sector_label(record.get("sector"))
        organisation = record.get("organisation")
        if isinstance(organisation, str) and organisation.strip():
            who += f", {organisation.strip()}"
        waiting = bool(record.get("waiting"))
        if not waiting:
            note = ""
        elif record.get("mine", True):
            note = ('<p class="hwb-waiting"><strong>Waiting for the facilitator</strong>: '
                    "only you can see this until it is approved.</p>")
        else:
            note = ('<p class="hwb-waiting"><strong>Waiting for your review</strong>: '
                    "only you and its author can see it.</p>")
        items.append(
            f'<li class="hwb-postit{" hwb-pending" if waiting else ""}">'
            f'<p class="hwb-postit-text">{escape(record.get("text"))}</p>'
            f'<p class="hwb-muted">{escape(theme_text)} · {escape(who)}</p>{note}</li>'
        )
    return f'<ul class="hwb-postits" aria-label="Post-its">{"".join(items)}</ul>'


def bars_markup(rows: list[tuple[str, float, str]], total: float, css: str = "") -> str:
    """Labelled bars with their numbers in words: (label, value, words) each, escaped.

    The bar is decoration (``aria-hidden``); the words are the text alternative.
    """
    if not rows:
        return ""
    scale = max(total, 1e-9)
    entries = []
    for label, value, words in rows:
        width = 0 if value <= 0 else max(1.0, 100.0 * value / scale)
        entries.append(
            f"<li><span>{escape(label)}: {escape(words)}</span>"
            f'<span class="hwb-bar {escape(css)}" aria-hidden="true" '
            f'style="width:{width:.1f}%"></span></li>'
        )
    return f'<ul class="hwb-bars">{"".join(entries)}</ul>'


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def forming_markup(forming: Forming, statement_texts: dict[str, str]) -> str:
    """The "what is forming" section: themes, dots, agreement and missing voices, as HTML."""
    parts = ["<h3>Themes on the wall</h3>"]
    if forming.themes.empty:
        parts.append('<p class="hwb-muted">No post-its on the wall yet.</p>')
    else:
        biggest = float(forming.themes["size"].max())
        rows = []
        for record in forming.themes.to_dict("records"):
            sectors = record.get("sectors") or {}
            from_whom = ", ".join(
                f"{sector_label(s)} {n}" for s, n in sorted(sectors.items(), key=lambda kv: -kv[1]))
            words = _plural(int(record["size"]), "post-it") + (f" ({from_whom})" if from_whom else "")
            rows.append((str(record["label"]), float(record["size"]), words))
        parts.append(bars_markup(rows, biggest))
    parts.append("<h3>Dots so far</h3>")
    dots = forming.dots
    if dots.empty or float(dots["score"].sum()) == 0:
        parts.append('<p class="hwb-muted">No dots placed yet.</p>')
    else:
        most = float(dots["score"].max())
        rows = [(str(r["label"]), float(r["score"]),
                 f"{_plural(int(r['score']), 'dot')} from {_plural(int(r['voters']), 'person')}"
                 .replace("persons", "people"))
                for r in dots.to_dict("records")]
        parts.append(bars_markup(rows, most))
    parts.append("<h3>Agreement and division</h3>")
    poll = forming.poll
    if poll.empty or int(poll["votes"].sum()) == 0:
        parts.append('<p class="hwb-muted">No one has voted on the statements yet.</p>')
    else:
        rows = []
        for record in poll.to_dict("records"):
            n = int(record["votes"])
            if n == 0:
                words = "no votes yet"
            else:
                words = (f"{record['agree']} agree, {record['disagree']} disagree, "
                         f"{record['pass']} pass")
            rows.append((str(record["text"]), float(record["agree"]) / max(n, 1), words))
        parts.append(bars_markup(rows, 1.0, "hwb-agree"))
        if forming.voters < MIN_VOTERS_FOR_GROUPS:
            parts.append(
                f'<p class="hwb-muted">{_plural(forming.voters, "person").replace("persons", "people")} '
                f"voted so far. Consensus and division are worked out once "
                f"{MIN_VOTERS_FOR_GROUPS} people have voted.</p>")
        else:
            def listed(ids: list[str], empty: str) -> str:
                texts = [statement_texts.get(i, i) for i in ids]
                if not texts:
                    return f'<p class="hwb-muted">{escape(empty)}</p>'
                return "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in texts) + "</ul>"

            parts.append("<p><strong>Most people agree</strong></p>")
            parts.append(listed(forming.agreed, "No statement has broad agreement yet."))
            if forming.rejected:
                parts.append("<p><strong>Most people disagree</strong></p>")
                parts.append(listed(forming.rejected, ""))
            parts.append("<p><strong>Opinion is divided on</strong></p>")
            parts.append(listed(forming.divisive, "No clear division between groups yet."))
    if forming.missing_sectors and not forming.themes.empty:
        names = ", ".join(sector_label(s) for s in forming.missing_sectors if s != "other")
        if names:
            parts.append(f'<p class="hwb-muted">Not heard from yet: {escape(names)}.</p>')
    return "".join(parts)


# --- the page -------------------------------------------------------------------------------


class WorkshopPage:
    """The Workshop page for one browser tab (``.root`` is the widget to display).

    Build it with :func:`workshop_page`. Public for tests: the input widgets
    (``session_picker``, ``sector``, ``organisation``, ``postit_text``,
    ``postit_theme``, ``add_postit``, ...), :meth:`refresh` and ``participant``.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        facilitator: bool = False,
        code: str | None = None,
        session_id: str | None = None,
        default_dots_per_item: int | None = None,
        refresh_seconds: float | None = REFRESH_SECONDS,
        participant: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = workspace.store()
        self.strategy = workspace.strategy
        self._code = code
        self.facilitator = bool(facilitator)
        self.default_dots_per_item = dots_per_item_setting(default_dots_per_item)
        self.participant = participant or pseudonymise(secrets.token_hex(16))
        self.refresh_seconds = refresh_seconds
        self.data: SessionData | None = None
        self._fingerprint: int | None = None
        self._sessions_seen: tuple = ()
        self._changing_options = False
        self._refresh_task: asyncio.Task | None = None
        self._auto_stopped = False
        self._last_used = time.monotonic()
        self._labels: dict[str, str] = {}
        self._dot_rows: dict[str, tuple[widgets.HTML, widgets.Button, widgets.Button]] = {}
        self._statement_rows: dict[str, tuple[widgets.HTML, dict[str, widgets.Button]]] = {}

        self.status = status_line()
        handle = friendly_errors(self.status, what="workshop")

        # Session picker -------------------------------------------------------------
        self.session_picker = dropdown("Workshop session", [("Choose a session", "")], "")
        self.session_picker.observe(handle(self._on_session_change), "value")
        self._wanted_session = session_id

        # About you --------------------------------------------------------------------
        self.sector = dropdown(
            "I am from", [("Choose one", "")] + [(sector_label(s), s) for s in SECTORS], "")
        organisations = sorted(s.organisation for s in self.strategy.stakeholders)
        self.organisation = widgets.Combobox(
            description="Organisation (optional)", options=organisations, ensure_option=False,
            placeholder="Type or pick", style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="28rem"))

        # Post-it ------------------------------------------------------------------------
        self.postit_text = widgets.Textarea(
            description="Your post-it", placeholder="What would make a difference?",
            style={"description_width": "initial"}, rows=3,
            layout=widgets.Layout(width="100%", max_width="36rem"))
        self.postit_theme = dropdown("Theme", [("No theme", "")], "")
        self.add_postit = widgets.Button(description="Add post-it", button_style="primary",
                                         tooltip="Put your post-it on the wall")
        self.add_postit.on_click(handle(self._on_add_postit))

        # Dots, statements, wall, forming --------------------------------------------------
        self.dots_intro = text_html("", css_class="hwb-muted")
        self.dots_box = column()
        self.poll_box = column()
        self.wall_html = widgets.HTML("", layout=widgets.Layout(width="100%"))
        self.forming_html = widgets.HTML("", layout=widgets.Layout(width="100%"))
        self.updated = text_html("", css_class="hwb-muted")
        self.refresh_button = widgets.Button(description="Refresh now",
                                             tooltip="Read the latest post-its and votes")
        self.refresh_button.on_click(handle(lambda _b: self.refresh(force=True)))

        # Facilitator ----------------------------------------------------------------------
        self.facilitator_box = column()
        self.signin_box = column()
        self.moderation = ModerationPanel(handle(self._on_moderate))
        self._build_facilitator_tools()

        self.session_area = column(
            section("About you", self.sector, self.organisation,
                  text_html("Only your sector is shown with your post-its, never your name.",
                            css_class="hwb-muted")),
            section("Add a post-it", self.postit_text, self.postit_theme, self.add_postit),
            section("Place your dots", self.dots_intro, self.dots_box),
            section("Agree or disagree?", self.poll_box),
            section("The wall", self.wall_html),
            section("What is forming", self.forming_html),
        )
        self.root = column(
            style_widget(),
            widgets.HTML(f"<style>{PAGE_EXTRA_CSS}</style>", layout=widgets.Layout(height="0")),
            heading("Workshop", 1),
            text_html("Add your ideas, place your dots and say whether you agree. Everyone in "
                      "the room sees the wall fill up as it happens."),
            self.session_picker,
            self.status,
            self.session_area,
            row(self.refresh_button, self.updated),
            self.facilitator_box,
            self.signin_box,
        )
        self.root.add_class("hwb-workshop")
        self._update_sessions()  # chooses and draws the session when there is one to choose
        if self.data is None:
            self._show_session()

    # .. facilitator ........................................................................
    def _build_facilitator_tools(self) -> None:
        handle = friendly_errors(self.status, what="workshop facilitator")
        if not self.facilitator:
            self.code_input = widgets.Password(
                description="Facilitator code", style={"description_width": "initial"},
                layout=widgets.Layout(width="100%", max_width="24rem"))
            enter = widgets.Button(description="I am the facilitator")
            enter.on_click(handle(self._on_signin))
            self.signin_box.children = [
                widgets.Accordion(children=[column(self.code_input, enter)],
                                  titles=("Facilitator",), selected_index=None)]
            self.facilitator_box.children = []
            return
        self.signin_box.children = []
        strategy_themes = [(f"{t.title}", t.id) for t in self.strategy.themes]
        self.new_name = widgets.Text(description="Session name", style={"description_width": "initial"},
                                     layout=widgets.Layout(width="100%", max_width="28rem"))
        self.new_themes = widgets.SelectMultiple(
            description="Themes from the strategy", options=strategy_themes, rows=6,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="28rem"))
        self.new_typed_themes = widgets.Text(
            description="Other themes (comma between)", style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="28rem"))
        self.new_statements = widgets.Textarea(
            description="Statements to agree or disagree with (one per line)", rows=4,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="36rem"))
        self.new_dots = widgets.BoundedIntText(
            value=DEFAULT_DOTS_PER_PERSON, min=0, max=50, description="Dots per person",
            style={"description_width": "initial"}, layout=widgets.Layout(max_width="14rem"))
        self.new_dots_per_item = widgets.BoundedIntText(
            value=self.default_dots_per_item, min=0, max=50,
            description="Most dots on one theme (0 = no limit)",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="28rem"))
        open_button = widgets.Button(description="Open session", button_style="primary")
        open_button.on_click(handle(self._on_open_session))
        self.close_button = widgets.Button(description="Close this session",
                                           tooltip="No more dots or post-its in this session")
        self.close_button.on_click(handle(self._on_close_session))
        self.facilitator_box.children = [
            heading("Facilitator", 2),
            text_html("You are the facilitator.", css_class="hwb-muted"),
            section("Open a new session", self.new_name, self.new_themes, self.new_typed_themes,
                  self.new_statements, self.new_dots, self.new_dots_per_item, open_button),
            section("Moderation", self.moderation.widget),
            self.close_button,
        ]

    def _on_signin(self, _button: Any) -> None:
        code = self._code if self._code is not None else facilitator_code(self.workspace.root)
        if not is_facilitator_code(self.code_input.value, code):
            self.code_input.value = ""
            raise InputError("That is not the facilitator code.")
        self.facilitator = True
        self._build_facilitator_tools()
        self._fingerprint = None
        self.refresh(force=True)
        show_status(self.status, "You are now the facilitator.", "ok")

    def _on_open_session(self, _button: Any) -> None:
        name = self.new_name.value.strip()
        if not name:
            raise InputError("Session name: please give the session a name.")
        themes = session_themes(self.new_themes.value, self.new_typed_themes.value)
        if not themes:
            raise InputError("Themes: please choose or type at least one theme.")
        statements = session_statements(self.new_statements.value)
        session_id = new_session_id(name)
        self.store.open_session(session_id, name, themes, statements, by=self._by(),
                                dots_per_person=int(self.new_dots.value),
                                max_dots_per_item=int(self.new_dots_per_item.value) or None)
        self.new_name.value = self.new_typed_themes.value = self.new_statements.value = ""
        self.new_themes.value = ()
        self._update_sessions()
        self.session_picker.value = session_id
        show_status(self.status, f"Session “{name}” is open. Participants can choose it now.", "ok")

    def _on_close_session(self, _button: Any) -> None:
        if self.data is None:
            raise InputError("Workshop session: please choose a session first.")
        self.store.close_session(self.data.session_id, by=self._by())
        self.refresh(force=True)
        show_status(self.status, "The session is closed.", "ok")

    def _on_moderate(self, contribution_id: str, status: str, reason: str) -> None:
        if not self.facilitator:
            raise InputError("Only the facilitator can approve or hide post-its.")
        if status == "hidden":
            hide(self.store, contribution_id, self._by(), reason)
            message = "Hidden. It is kept in the store's history."
        else:
            approve(self.store, contribution_id, self._by(), reason)
            message = "Approved: everyone can see it now."
        self.refresh(force=True)
        show_status(self.status, message, "ok")

    def _by(self) -> str:
        return f"facilitator {self.participant}" if self.facilitator else self.participant

    # .. sessions ...........................................................................
    def _update_sessions(self) -> None:
        sessions = self.store.sessions(open_only=not self.facilitator)
        if self.data is not None and self.data.session_id not in set(sessions["session_id"]):
            # A closed session stays listed for whoever is in it.
            sessions = pd.concat([sessions, pd.DataFrame([self.data.session])], ignore_index=True)
        seen = tuple(zip(sessions["session_id"], sessions["name"], sessions["open"], strict=True))
        if seen == self._sessions_seen:
            return
        self._sessions_seen = seen
        options = [("Choose a session", "")] + [
            (name if is_open else f"{name} (closed)", session_id)
            for session_id, name, is_open in seen]
        current = self.session_picker.value
        wanted = self._wanted_session
        ids = [value for _, value in options]
        if wanted in ids:
            self._wanted_session = None
            choice = wanted
        elif current and current in ids:
            choice = current
        elif len(ids) == 2:  # one session: choose it for the participant
            choice = ids[1]
        else:
            choice = ""
        self._changing_options = True  # setting options fires value changes: ignore them
        try:
            self.session_picker.options = options
            self.session_picker.value = choice
        finally:
            self._changing_options = False
        if choice != current:
            self._on_session_change(None)

    def _on_session_change(self, _change: Any) -> None:
        if self._changing_options:
            return
        self._fingerprint = None
        self._dot_rows.clear()
        self._statement_rows.clear()
        self._show_session()

    def _show_session(self) -> None:
        session_id = self.session_picker.value
        if not session_id:
            self.data = None
            self.session_area.layout.display = "none"
            if self.facilitator:
                self.moderation.update(pd.DataFrame(columns=["contribution_id", "status"]))
            return
        self.session_area.layout.display = None
        self.refresh(force=True)

    # .. refresh ............................................................................
    def refresh(self, force: bool = False) -> bool:
        """Re-read the store and redraw what changed; returns True when something did."""
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
            # Nothing is sent to the browser when nothing changed: an unwatched tab then
            # falls idle and the server can cull its kernel.
            return False
        self._fingerprint = fingerprint
        self._draw(data)
        self.updated.value = self._updated_markup()
        return True

    def _updated_markup(self) -> str:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        every = (f"checked every {self.refresh_seconds:g} seconds"
                 if self.refresh_seconds and not self._auto_stopped
                 else "press Refresh now for the latest")
        return (f'<p class="hwb-muted" aria-live="off">Last change shown at {stamp} '
                f"({every}).</p>")

    def _draw(self, data: SessionData) -> None:
        self._labels = theme_labels(self.strategy, data.themes)
        theme_options = [("No theme", "")] + [(self._labels[t], t) for t in data.themes]
        if list(self.postit_theme.options) != theme_options:
            chosen = self.postit_theme.value
            self.postit_theme.options = theme_options
            self.postit_theme.value = chosen if chosen in data.themes else ""
        is_open = bool(data.session["open"])
        self.add_postit.disabled = not is_open
        self._draw_dots(data)
        self._draw_statements(data)
        self.wall_html.value = wall_markup(wall(data, self.participant, self.facilitator),
                                           self._labels)
        texts = dict(zip(data.statements["contribution_id"].astype(str),
                         data.statements["text"].astype(str), strict=True))
        self.forming_html.value = forming_markup(
            what_is_forming(data, self.strategy, self._labels), texts)
        if self.facilitator:
            self.moderation.update(data.contributions)
            self.close_button.disabled = not is_open

    def _draw_dots(self, data: SessionData) -> None:
        handle = friendly_errors(self.status, what="workshop dots")
        mine = my_dots(data, self.participant)
        counts = dot_tally(data).set_index("item")
        left = dots_left(data, self.participant)
        total = int(data.session["dots_per_person"])
        cap = session_dot_cap(data.session)
        where = (f"Put up to {cap} on a theme that matters most to you." if cap is not None
                 else "Put them on the themes that matter most to you.")
        self.dots_intro.value = (
            f"<p>You have <strong>{left} of {total}</strong> dots left. {where}</p>"
            if data.session["open"] else '<p class="hwb-muted">This session is closed.</p>')
        if set(self._dot_rows) != set(data.themes):
            for text, plus, minus in self._dot_rows.values():
                text.close(), plus.close(), minus.close()
            self._dot_rows = {}
            rows = []
            for theme in data.themes:
                text = widgets.HTML(layout=widgets.Layout(flex="1 1 14rem", min_width="0"))
                plus = widgets.Button(description="Add a dot", tooltip=f"Add a dot: {self._labels[theme]}")
                minus = widgets.Button(description="Take a dot back",
                                       tooltip=f"Take a dot back: {self._labels[theme]}")
                plus.on_click(handle(lambda _b, t=theme: self._on_dot(t, +1)))
                minus.on_click(handle(lambda _b, t=theme: self._on_dot(t, -1)))
                self._dot_rows[theme] = (text, plus, minus)
                box = row(text, plus, minus)
                box.add_class("hwb-dot-theme")
                box.add_class(f"hwb-dot-{theme}")
                rows.append(box)
            self.dots_box.children = rows
        for theme, (text, plus, minus) in self._dot_rows.items():
            score = int(counts.at[theme, "score"]) if theme in counts.index else 0
            own = mine.get(theme, 0)
            text.value = (
                f"<p><strong>{escape(self._labels[theme])}</strong><br>"
                f'<span class="hwb-dot-count">{_plural(score, "dot")} in all</span>'
                f' · <span class="hwb-my-dots">yours: {own}</span></p>')
            plus.disabled = not data.session["open"]
            minus.disabled = own == 0 or not data.session["open"]

    def _draw_statements(self, data: SessionData) -> None:
        handle = friendly_errors(self.status, what="workshop poll")
        ids = data.statements["contribution_id"].astype(str).tolist()
        if list(self._statement_rows) != ids:
            for text, buttons in self._statement_rows.values():
                text.close()
                for button in buttons.values():
                    button.close()
            self._statement_rows = {}
            boxes = []
            for item, statement in zip(ids, data.statements["text"].astype(str), strict=True):
                text = widgets.HTML(layout=widgets.Layout(width="100%"))
                buttons = {}
                for word in POLL_VOTES:
                    button = widgets.Button(description=word.capitalize(),
                                            tooltip=f"{word.capitalize()}: {statement[:80]}")
                    button.on_click(handle(lambda _b, i=item, w=word: self._on_poll(i, w)))
                    buttons[word] = button
                self._statement_rows[item] = (text, buttons)
                box = column(text, row(*buttons.values()))
                box.add_class("hwb-statement")
                boxes.append(box)
            self.poll_box.children = boxes or [
                text_html("This session has no statements to vote on.", css_class="hwb-muted")]
        mine = my_poll_votes(data, self.participant)
        table = poll_table(data).set_index("item")
        styles = {"agree": "success", "disagree": "danger", "pass": "info"}
        for item, (text, buttons) in self._statement_rows.items():
            counts = table.loc[item]
            text.value = (
                f'<p class="hwb-statement-text">{escape(counts["text"])}</p>'
                f'<p class="hwb-muted">{counts["agree"]} agree · {counts["disagree"]} disagree · '
                f'{counts["pass"]} pass' + (f" · you said: {mine[item]}" if item in mine else "")
                + "</p>")
            for word, button in buttons.items():
                button.button_style = styles[word] if mine.get(item) == word else ""
                button.disabled = not data.session["open"]

    # .. participant actions .................................................................
    def _require_session(self) -> SessionData:
        if self.data is None:
            raise InputError("Workshop session: please choose a session first.")
        return self.data

    def _on_add_postit(self, _button: Any) -> None:
        data = self._require_session()
        text = self.postit_text.value.strip()
        if not text:
            raise InputError("Your post-it: please write something first.")
        if len(text) > MAX_POSTIT_CHARS:
            raise InputError(f"Your post-it: a post-it holds at most {MAX_POSTIT_CHARS} "
                             f"characters; yours has {len(text)}.")
        if not self.sector.value:
            raise InputError("I am from: please say which sector you are from first.")
        organisation = self.organisation.value.strip()
        frame = pd.DataFrame({
            "contribution_id": [f"W-{uuid.uuid4().hex[:12]}"],
            "source": [str(data.session["name"])],
            "session": [data.session_id],
            "kind": ["post_it"],
            "text": [text],
            "author": [self.participant],
            "organisation": [organisation or None],
            "sector": [self.sector.value],
            "created_at": [pd.Timestamp.now(tz="UTC")],
            "theme": [self.postit_theme.value or None],
        })
        summary = self.store.add_contributions(frame, by=self.participant,
                                               screen=screen_contributions)
        self.postit_text.value = ""
        self.refresh(force=True)
        if summary.pending:
            reasons = "; ".join(needs_review(text))
            show_status(self.status, f"Thank you. Your post-it is waiting for the facilitator "
                        f"because it {reasons}. Only you can see it until then.", "info")
        else:
            show_status(self.status, "Thank you: your post-it is on the wall.", "ok")

    def _on_dot(self, theme: str, step: int) -> None:
        data = self._require_session()
        if step > 0:
            problem = dot_problem(data, self.participant, theme, self._labels)
            if problem:
                raise InputError(problem)
            try:
                self.store.place_dot(data.session_id, self.participant, theme)
            except StoreError:
                # Another of this person's tabs, or the session closed meanwhile.
                self.refresh(force=True)
                raise InputError(dot_problem(self.data, self.participant, theme, self._labels)
                                 or "That dot could not be placed; please try again.") from None
        else:
            if my_dots(data, self.participant).get(theme, 0) <= 0:
                raise InputError("You have no dot there to take back.")
            self.store.remove_dot(data.session_id, self.participant, theme)
        self.refresh(force=True)
        show_status(self.status, "Dot placed." if step > 0 else "Dot taken back.", "ok")

    def _on_poll(self, item: str, word: str) -> None:
        data = self._require_session()
        if not data.session["open"]:
            raise InputError("This session is closed.")
        self.store.add_votes(pd.DataFrame({
            "source": [str(data.session["name"])],
            "session": [data.session_id],
            "participant": [self.participant],
            "item": [item],
            "vote": [POLL_VOTES[word]],
            "kind": ["agree_disagree"],
            "created_at": [pd.Timestamp.now(tz="UTC")],
        }), by=self.participant)
        self.refresh(force=True)
        show_status(self.status, f"Your vote is in: {word}.", "ok")

    # .. automatic refresh ...................................................................
    def start_auto_refresh(self) -> bool:
        """Start re-reading the store every ``refresh_seconds`` in the kernel's event loop.

        Returns False (and the page relies on "Refresh now") when no event loop
        runs, as in a plain Python process.
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
    if not isinstance(workspace, Workspace):
        workspace = Workspace.open(workspace if workspace is not None else workspace_path())
    query = page_query() if query is None else query
    typed = query.get(FACILITATOR_PARAMETER)
    code = facilitator_code(workspace.root)
    page = WorkshopPage(
        workspace,
        facilitator=is_facilitator_code(typed, code),
        code=code,
        session_id=query.get(SESSION_PARAMETER),
        default_dots_per_item=default_dots_per_item,
        refresh_seconds=refresh_seconds,
    )
    page.start_auto_refresh()
    page.root.workshop = page
    return page.root


__all__ = [
    "FACILITATOR_CODE_ENV",
    "FACILITATOR_PARAMETER",
    "SessionData",
    "Forming",
    "WorkshopPage",
    "workshop_page",
    "facilitator_code",
    "page_query",
    "is_facilitator_code",
    "load_session",
    "wall",
    "my_dots",
    "dots_left",
    "dot_problem",
    "session_dot_cap",
    "dot_tally",
    "poll_table",
    "what_is_forming",
    "wall_markup",
    "forming_markup",
]
