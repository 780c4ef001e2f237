"""A live workshop session's rules and summaries (hwb_toolkit/apps/session.py, moderation.py).

Against a real store in a private copy of the example workspace: the facilitator's code,
session inputs, each participant's dots and answers, tallies, consensus and division, and
what a valid post-it or answer is.
"""

from __future__ import annotations

import os
import re
import stat

import pandas as pd
import pytest

from hwb_toolkit.apps.moderation import approve, hide
from hwb_toolkit.apps.session import (
    DOTS_PER_ITEM_ENV,
    FACILITATOR_CODE_ENV,
    FACILITATOR_CODE_FILE,
    MAX_POSTIT_CHARS,
    clean_text,
    dot_problem,
    dot_tally,
    dots_left,
    facilitator_code,
    is_facilitator_code,
    load_participant,
    load_session,
    my_dots,
    new_poll_vote,
    new_post_it,
    poll_table,
    session_dot_cap,
    session_statements,
    session_themes,
    slug,
    what_is_forming,
)
from hwb_toolkit.errors import InputError
from hwb_toolkit.voices.digest import MIN_POLL_PARTICIPANTS
from hwb_toolkit.workspace import Workspace


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


# --- the facilitator's code and the session's inputs -------------------------------------------


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


def test_session_inputs():
    assert slug("Walking & cycling!") == "walking-cycling"
    assert session_themes(("walking-cycling",), "Buses, Safe streets\nbuses; walking-cycling") == [
        "walking-cycling", "buses", "safe-streets"]
    assert session_statements("  Parks should be lit \n\n Free swimming\n") == [
        "Parks should be lit", "Free swimming"]


# --- what each person sees ------------------------------------------------------------------------


def test_load_participant_reads_only_their_own_post_its_and_votes(workspace):
    store = open_session(workspace)
    store.add_contributions(pd.DataFrame({
        "contribution_id": ["v", "p-mine", "p-other", "h"],
        "session": "moving-more", "kind": "post_it",
        "text": ["visible", "mine waiting", "theirs waiting", "hidden"],
        "author": ["p_aaaaaaaaaaaaaaaa", "p_bbbbbbbbbbbbbbbb", "p_cccccccccccccccc",
                   "p_bbbbbbbbbbbbbbbb"],
    }), status="visible")
    for contribution_id in ("p-mine", "p-other"):
        store.set_contribution_status(contribution_id, "pending", "test")
    hide(store, "h", "test")
    store.place_dot("moving-more", "p_bbbbbbbbbbbbbbbb", "walking-cycling")
    store.place_dot("moving-more", "p_cccccccccccccccc", "walking-cycling")
    data = load_session(store, "moving-more")
    assert data.statements["text"].tolist() == ["Parks should be lit", "Swimming should be free"]
    mine = load_participant(store, data.session, "p_bbbbbbbbbbbbbbbb")
    assert mine.contributions["contribution_id"].tolist() == ["p-mine", "h"]
    assert mine.contributions["status"].tolist() == ["pending", "hidden"]
    assert mine.votes["participant"].unique().tolist() == ["p_bbbbbbbbbbbbbbbb"]
    assert my_dots(mine, "p_bbbbbbbbbbbbbbbb") == {"walking-cycling": 1}
    assert dots_left(mine, "p_bbbbbbbbbbbbbbbb") == 2


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
    people = [f"p{n:02d}" for n in range(MIN_POLL_PARTICIPANTS + 4)]
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


# --- what a participant sends ------------------------------------------------------------------

SESSION = {"session_id": "moving-more", "name": "Moving more",
           "themes": ["walking-cycling", "parks-green-spaces"],
           "statements": ["moving-more-s1", "moving-more-s2"]}


def test_a_valid_post_it_becomes_one_canonical_row():
    frame = new_post_it(SESSION, "p_1111111111111111", "  Lit paths by the river \n please ",
                        sector="resident", organisation="  West End Residents' Forum ",
                        theme="walking-cycling")
    row = frame.iloc[0]
    assert row["text"] == "Lit paths by the river \n please"
    assert (row["session"], row["source"], row["kind"]) == ("moving-more", "Moving more", "post_it")
    assert (row["sector"], row["organisation"]) == ("resident", "West End Residents' Forum")
    assert row["theme"] == "walking-cycling" and row["author"] == "p_1111111111111111"
    assert re.fullmatch(r"W-[0-9a-f]{12}", row["contribution_id"])
    no_theme = new_post_it(SESSION, "p_1", "Benches", sector="vcse", theme="")
    assert pd.isna(no_theme.iloc[0]["theme"]) and pd.isna(no_theme.iloc[0]["organisation"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"text": "   ", "sector": "resident"}, "Your post-it: please write something first."),
    ({"text": None, "sector": "resident"}, "Your post-it: please write something first."),
    ({"text": ["a list"], "sector": "resident"}, "Your post-it: expected text."),
    ({"text": "x" * (MAX_POSTIT_CHARS + 1), "sector": "resident"}, "at most 500 characters"),
    ({"text": "Benches", "sector": "martian"}, "I am from: please choose your sector"),
    ({"text": "Benches", "sector": None}, "I am from: please choose your sector"),
    ({"text": "Benches", "sector": "nhs", "theme": "not-a-theme"}, "this session's themes"),
    ({"text": "Benches", "sector": "nhs", "organisation": "O" * 121}, "Organisation: at most 120"),
])
def test_an_invalid_post_it_names_the_field(fields, message):
    with pytest.raises(InputError, match=re.escape(message)):
        new_post_it(SESSION, "p_1", fields.pop("text"), **fields)


def test_typed_text_loses_control_and_direction_override_characters():
    # U+202E would show "gnp.exe" reversed; a NUL or bell has no place in a post-it.
    assert clean_text("Safe\u202e paths\x00 \x07now\ttoo", what="x", limit=50) == "Safe paths now\ttoo"
    assert clean_text("Cafe\u0301", what="x", limit=50) == "Caf\u00e9"  # one character, NFC
    assert clean_text("\u200f\x01 ", what="x", limit=5, required=False) is None


def test_a_poll_answer_must_name_a_statement_of_the_session_and_a_known_answer():
    frame = new_poll_vote(SESSION, "p_1", "moving-more-s2", "disagree")
    assert frame.iloc[0][["item", "vote", "kind"]].tolist() == ["moving-more-s2", -1.0,
                                                               "agree_disagree"]
    with pytest.raises(InputError, match="not part of this session"):
        new_poll_vote(SESSION, "p_1", "other-session-s1", "agree")
    with pytest.raises(InputError, match="Agree, Disagree or Pass"):
        new_poll_vote(SESSION, "p_1", "moving-more-s1", "maybe")
