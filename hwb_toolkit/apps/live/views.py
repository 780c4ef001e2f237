"""What the live pages show, as plain JSON-ready dicts built from one read of a session.

Role: floor 4 (UI serving), pure. The server sends these dicts to every page (the wall,
the tallies, what is forming) and to one participant (their own dots, votes and waiting
post-its); the pages put every text in with ``textContent``, never as HTML, and the
server-rendered first view escapes them (Jinja autoescape).

Conventions: counts are whole numbers of people, post-its, dots or votes; shares are not
sent (the page works them out for the bars). A post-it carries no author, only the
sector (and organisation if given) its writer chose, as the wall shows it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hwb_toolkit.apps.session import (
    SessionData,
    dot_tally,
    dots_left,
    my_dots,
    my_poll_votes,
    poll_table,
    session_dot_cap,
)
from hwb_toolkit.text.labels import sector_label
from hwb_toolkit.voices.digest import MIN_POLL_PARTICIPANTS


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def public_post_it(record: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """One post-it as the wall shows it: id, text, theme (its title, or ""), who (sector,
    then organisation if given) and ``waiting`` (held for the facilitator)."""
    theme = _text(record.get("theme"))
    who = sector_label(record.get("sector"))
    organisation = _text(record.get("organisation")).strip()
    if organisation:
        who += f", {organisation}"
    return {
        "id": str(record["contribution_id"]),
        "text": _text(record.get("text")),
        "theme": labels.get(theme, theme) if theme else "",
        "who": who,
        "waiting": record.get("status") == "pending",
    }


def public_wall(data: SessionData, labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The visible post-its, oldest first, keyed by id (what everyone sees)."""
    posts = data.contributions
    visible = posts[posts["status"].eq("visible").to_numpy(dtype=bool)]
    return {str(r["contribution_id"]): public_post_it(r, labels) for r in visible.to_dict("records")}


def session_view(data: SessionData, labels: dict[str, str]) -> dict[str, Any]:
    """The session's name, state and rules, its themes and statements (for every page)."""
    session = data.session
    cap = session_dot_cap(session)
    return {
        "id": data.session_id,
        "name": str(session["name"]),
        "open": bool(session["open"]),
        "themes": [{"id": theme, "label": labels.get(theme, theme)} for theme in data.themes],
        "statements": [{"id": str(i), "text": str(t)} for i, t in zip(
            data.statements["contribution_id"], data.statements["text"], strict=True)],
        "dots_per_person": int(session["dots_per_person"]),
        "max_dots_per_item": cap,
    }


def tallies(data: SessionData, labels: dict[str, str]) -> dict[str, Any]:
    """Dots per theme (in the session's theme order), agree/disagree/pass per statement (in
    the session's statement order), and how many people took part (wrote a post-it that
    was not hidden, or voted), for every page."""
    # In the session's own order, so the dot buttons never move as dots are placed.
    dots = dot_tally(data).set_index("item").reindex(data.themes).fillna(0).rename_axis("item")
    dots = dots.reset_index()
    poll = poll_table(data)
    authors = data.contributions.loc[data.contributions["status"].ne("hidden"), "author"]
    people = set(authors.dropna().astype(str)) | set(data.votes["participant"].dropna().astype(str))
    return {
        "dots": [{"theme": str(r["item"]), "label": labels.get(str(r["item"]), str(r["item"])),
                  "dots": int(r["score"]), "people": int(r["voters"])}
                 for r in dots.to_dict("records")],
        "poll": [{"id": str(r["item"]), "agree": int(r["agree"]), "disagree": int(r["disagree"]),
                  "pass": int(r["pass"]), "votes": int(r["votes"])}
                 for r in poll.to_dict("records")],
        "people": len(people),
    }


def personal_view(data: SessionData, participant: str, labels: dict[str, str]) -> dict[str, Any]:
    """One participant's own state: dots per theme, dots left, answers to statements, and
    their post-its still waiting for the facilitator (only they see those)."""
    posts = data.contributions
    waiting = posts[(posts["status"].eq("pending") & posts["author"].eq(participant))
                    .fillna(False).to_numpy(dtype=bool)]
    return {
        "dots": my_dots(data, participant),
        "dots_left": dots_left(data, participant),
        "votes": my_poll_votes(data, participant),
        "waiting": [public_post_it(r, labels) for r in waiting.to_dict("records")],
    }


def forming_view(forming, statement_texts: dict[str, str]) -> dict[str, Any]:
    """What is forming (:class:`~hwb_toolkit.apps.session.Forming`) for the pages: themes
    found on the wall with their sizes and sectors, how many people voted on statements,
    and, once :data:`MIN_POLL_PARTICIPANTS` have, the statements most agree and disagree
    with and those opinion groups split on; the sectors not heard from yet."""
    themes = [{"label": str(r["label"]), "size": int(r["size"]),
               "sectors": [{"sector": sector_label(s), "count": int(n)} for s, n in
                           sorted((r.get("sectors") or {}).items(), key=lambda kv: -kv[1])]}
              for r in forming.themes.to_dict("records")]
    texts = [statement_texts.get(i, i) for i in forming.agreed]
    return {
        "themes": themes,
        "voters": int(forming.voters),
        "min_voters": MIN_POLL_PARTICIPANTS,
        "agreed": texts,
        "rejected": [statement_texts.get(i, i) for i in forming.rejected],
        "divisive": [statement_texts.get(i, i) for i in forming.divisive],
        "missing": [sector_label(s) for s in forming.missing_sectors if s != "other"],
    }
