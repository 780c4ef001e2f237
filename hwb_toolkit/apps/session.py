"""A live workshop session: its rules and what it shows, with no user interface.

Role: floor 4 (UI), the part the pages share. Both the facilitator's Voila page
(:mod:`hwb_toolkit.apps.workshop`) and the kernel-free participant pages of ``hwb serve``
(:mod:`hwb_toolkit.apps.live`) read a session from the shared store
(:func:`load_session`), apply the same rules (dot budget and per-theme limit, who sees a
waiting post-it, what a valid post-it is) and show the same summaries (dot tallies,
agree/disagree counts, themes, consensus and division: :func:`what_is_forming`).
Nothing here draws anything or keeps state between calls.

Conventions: a *participant* is a pseudonym (:func:`~hwb_toolkit.voices.pseudonymise`),
never a name; theme ids are lower-case words joined by hyphens (:func:`slug`); a vote on
a statement is 1.0 agree, -1.0 disagree, 0.0 pass (:data:`POLL_VOTES`).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hwb_toolkit.errors import InputError, StoreError
from hwb_toolkit.schema import SECTORS
from hwb_toolkit.store import Store
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.voices import (
    find_themes,
    poll_summary,
    tally,
    voice_balance,
)
from hwb_toolkit.voices.digest import poll_opinion

#: Environment variable holding the facilitator's code.
FACILITATOR_CODE_ENV = "HWB_FACILITATOR_CODE"
#: File in the workspace holding the code when the environment sets none.
FACILITATOR_CODE_FILE = ".facilitator_code"
#: Environment variable: the facilitator form's starting value for the most dots one
#: person may put on one theme (each session keeps its own, in the store).
DOTS_PER_ITEM_ENV = "HWB_DOTS_PER_ITEM"
DEFAULT_DOTS_PER_PERSON = 5
DEFAULT_DOTS_PER_ITEM = 3
#: Longest post-it, in characters.
MAX_POSTIT_CHARS = 500
#: Longest organisation name a participant may type, in characters.
MAX_ORGANISATION_CHARS = 120

POLL_VOTES = {"agree": 1.0, "disagree": -1.0, "pass": 0.0}
_POLL_WORDS = {1.0: "agree", -1.0: "disagree", 0.0: "pass"}


# --- secrets kept in the workspace -----------------------------------------------------------


def workspace_secret(workspace_root: str | Path, file_name: str, make) -> str:
    """The secret kept in ``<workspace>/<file_name>``, made once with ``make()`` if absent.

    The file is created with mode 600 and exclusively, so concurrent first calls (several
    kernels, or a kernel and the server) agree on one value. Raises :class:`StoreError`
    when the file stays empty (delete it to make a new secret).
    """
    path = Path(workspace_root) / file_name
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this very moment
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            time.sleep(0.02)
        raise StoreError(f"{file_name} is empty; delete it to make a new one", file=path) from None
    value = make()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


# --- the facilitator's code ---------------------------------------------------------------


def facilitator_code(workspace_root: str | Path) -> str:
    """The facilitator's code: ``$HWB_FACILITATOR_CODE``, else the workspace's own.

    The workspace's code is made once (random, 10 characters) and kept in
    ``<workspace>/.facilitator_code``; concurrent first calls agree on one code.
    """
    from_environment = os.environ.get(FACILITATOR_CODE_ENV, "").strip()
    if from_environment:
        return from_environment
    return workspace_secret(workspace_root, FACILITATOR_CODE_FILE,
                            lambda: secrets.token_urlsafe(8)[:10])


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


def load_participant(store: Store, session: dict[str, Any], participant: str) -> SessionData:
    """One participant's part of a session: their post-its (every status) and their votes,
    with the session row (as :meth:`Store.sessions` gives it) and no statements. Enough for
    their own dots, dots left and answers (:func:`my_dots`, :func:`dots_left`,
    :func:`my_poll_votes`), at a fraction of :func:`load_session`'s cost."""
    session_id = str(session["session_id"])
    posts = store.contributions(session=session_id, author=participant, include_pending=True,
                                include_hidden=True, with_status=True)
    posts = posts[posts["kind"].ne("statement").fillna(True).to_numpy(dtype=bool)]
    return SessionData(session=session, contributions=posts.reset_index(drop=True),
                       statements=posts.iloc[0:0], votes=store.votes(session=session_id,
                                                                     participant=participant))


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
    :data:`~hwb_toolkit.voices.digest.MIN_POLL_PARTICIPANTS` people voted on statements; before that only
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
    opinion = poll_opinion(poll_votes) if poll_votes["item"].nunique() >= 2 else None
    if opinion is not None:
        agreed, rejected = opinion.agree, opinion.disagree
        if opinion.found.groups.nunique() >= 2:
            split = opinion.divisive
            divisive = split.loc[split["divisiveness"] >= 0.3, "item"].astype(str).tolist()[:3]
    balance = voice_balance(posts)
    return Forming(themes, dots, poll_table(data), voters, agreed, rejected, divisive,
                   list(balance.missing_sectors))




# --- what a participant writes -----------------------------------------------------------------

#: Characters a typed text may not hold: controls other than tab and new line, and the
#: invisible direction overrides used to disguise text (bidi "Trojan source" marks).
_UNWANTED_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def clean_text(value: Any, *, what: str, limit: int, required: bool = True) -> str | None:
    """``value`` as typed text: Unicode NFC, control characters removed, outer spaces
    stripped, at most ``limit`` characters. ``what`` names the field in the error.

    Raises :class:`InputError` when it is missing (and ``required``), not text, or too
    long. Returns None for an empty optional value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{what}: please write something first.")
        return None
    if not isinstance(value, str):
        raise InputError(f"{what}: expected text.")
    text = _UNWANTED_CHARACTERS.sub("", unicodedata.normalize("NFC", value)).strip()
    if not text:
        if required:
            raise InputError(f"{what}: please write something first.")
        return None
    if len(text) > limit:
        raise InputError(f"{what}: at most {limit} characters, please; this has {len(text)}.")
    return text


def check_sector(sector: Any) -> str:
    """``sector`` if it is one of :data:`~hwb_toolkit.schema.SECTORS`, else :class:`InputError`."""
    if not isinstance(sector, str) or sector not in SECTORS:
        raise InputError("I am from: please choose your sector from the list.")
    return sector


def new_post_it(session: dict[str, Any], participant: str, text: Any, *, sector: Any,
                organisation: Any = None, theme: Any = None) -> pd.DataFrame:
    """One validated post-it for ``session`` (a row of :meth:`Store.sessions` as a dict),
    as a one-row frame in the store's canonical contribution columns.

    ``text``: at most :data:`MAX_POSTIT_CHARS` characters; ``sector``: one of
    :data:`~hwb_toolkit.schema.SECTORS`; ``organisation``: optional, at most
    :data:`MAX_ORGANISATION_CHARS`; ``theme``: one of the session's theme ids, or empty.
    Raises :class:`InputError` naming the field a participant got wrong.
    """
    text = clean_text(text, what="Your post-it", limit=MAX_POSTIT_CHARS)
    sector = check_sector(sector)
    organisation = clean_text(organisation, what="Organisation", limit=MAX_ORGANISATION_CHARS,
                              required=False)
    if theme in (None, ""):
        theme = None
    elif theme not in list(session["themes"]):
        raise InputError("Theme: please choose one of this session's themes.")
    return pd.DataFrame({
        "contribution_id": [f"W-{uuid.uuid4().hex[:12]}"],
        "source": [str(session["name"])],
        "session": [str(session["session_id"])],
        "kind": ["post_it"],
        "text": [text],
        "author": [participant],
        "organisation": [organisation],
        "sector": [sector],
        "created_at": [pd.Timestamp.now(tz="UTC")],
        "theme": [theme],
    })


def new_poll_vote(session: dict[str, Any], participant: str, statement: Any,
                  answer: Any) -> pd.DataFrame:
    """One validated agree/disagree/pass vote on one of ``session``'s statements, as a
    one-row frame in the store's canonical vote columns (:data:`POLL_VOTES` values)."""
    if statement not in list(session["statements"]):
        raise InputError("That statement is not part of this session.")
    if answer not in POLL_VOTES:
        raise InputError("Please answer Agree, Disagree or Pass.")
    return pd.DataFrame({
        "source": [str(session["name"])],
        "session": [str(session["session_id"])],
        "participant": [participant],
        "item": [statement],
        "vote": [POLL_VOTES[answer]],
        "kind": ["agree_disagree"],
        "created_at": [pd.Timestamp.now(tz="UTC")],
    })
