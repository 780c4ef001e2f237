"""What the live pages show (hwb_toolkit/apps/live/views.py), from real store reads."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.apps.live.views import personal_view, public_wall, session_view, tallies
from hwb_toolkit.apps.session import load_participant, load_session, theme_labels

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def session_data(private_workspace):
    store = private_workspace.store()
    store.open_session("ws-1", "Moving more", ["walking-cycling", "our-own-theme"],
                       ["Parks should be lit", "Swimming should be free"], by="facilitator",
                       dots_per_person=4, max_dots_per_item=2)
    store.add_contributions(pd.DataFrame({
        "contribution_id": ["a", "b", "c", "d"], "session": "ws-1", "kind": "post_it",
        "text": [SCRIPT + " lit paths", "mine, waiting", "theirs, waiting", "hidden"],
        "author": ["p_1", "p_2", "p_3", "p_1"], "sector": ["resident", "nhs", "vcse", None],
        "organisation": [None, "West End PCN", None, None],
        "theme": ["walking-cycling", None, "our-own-theme", None]}))
    for contribution_id, status in (("b", "pending"), ("c", "pending"), ("d", "hidden")):
        store.set_contribution_status(contribution_id, status, "facilitator")
    store.place_dot("ws-1", "p_2", "our-own-theme")
    store.place_dot("ws-1", "p_2", "our-own-theme")
    store.place_dot("ws-1", "p_4", "walking-cycling")
    store.add_votes(pd.DataFrame({"session": "ws-1", "participant": ["p_2", "p_5"],
                                  "item": "ws-1-s2", "vote": [1.0, -1.0],
                                  "kind": "agree_disagree"}))
    data = load_session(store, "ws-1")
    return store, data, theme_labels(private_workspace.strategy, data.themes)


def test_the_wall_is_the_visible_post_its_with_no_author(session_data):
    _store, data, labels = session_data
    wall = public_wall(data, labels)
    assert list(wall) == ["a"]
    assert wall["a"] == {"id": "a", "text": SCRIPT + " lit paths", "theme": "Walking and cycling",
                         "who": "Residents", "waiting": False}
    assert "p_1" not in str(wall)


def test_the_session_keeps_its_own_theme_and_statement_order(session_data):
    _store, data, labels = session_data
    view = session_view(data, labels)
    assert [t["id"] for t in view["themes"]] == ["walking-cycling", "our-own-theme"]
    assert [t["label"] for t in view["themes"]] == ["Walking and cycling", "Our own theme"]
    assert [s["text"] for s in view["statements"]] == ["Parks should be lit",
                                                     "Swimming should be free"]
    assert (view["open"], view["dots_per_person"], view["max_dots_per_item"]) == (True, 4, 2)


def test_tallies_count_dots_answers_and_people(session_data):
    _store, data, labels = session_data
    counts = tallies(data, labels)
    # The session's order, whatever the counts (the dot buttons must not move).
    assert counts["dots"] == [
        {"theme": "walking-cycling", "label": "Walking and cycling", "dots": 1, "people": 1},
        {"theme": "our-own-theme", "label": "Our own theme", "dots": 2, "people": 1}]
    assert counts["poll"] == [
        {"id": "ws-1-s1", "agree": 0, "disagree": 0, "pass": 0, "votes": 0},
        {"id": "ws-1-s2", "agree": 1, "disagree": 1, "pass": 0, "votes": 2}]
    # p_1 (a post-it), p_2, p_3 (waiting post-its count: they took part), p_4, p_5 (votes).
    assert counts["people"] == 5


def test_a_participant_sees_their_own_waiting_post_its_dots_and_answers(session_data):
    store, data, labels = session_data
    mine = personal_view(load_participant(store, data.session, "p_2"), "p_2", labels)
    assert mine["dots"] == {"our-own-theme": 2} and mine["dots_left"] == 2
    assert mine["votes"] == {"ws-1-s2": "agree"}
    assert mine["waiting"] == [{"id": "b", "text": "mine, waiting", "theme": "",
                                "who": "NHS, West End PCN", "waiting": True}]
    theirs = personal_view(load_participant(store, data.session, "p_1"), "p_1", labels)
    assert theirs["waiting"] == [] and theirs["dots_left"] == 4
