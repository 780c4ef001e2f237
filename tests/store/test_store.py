"""Tests for hwb_toolkit.store: canonical round trips, history, moderation, CSV, concurrency."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import event

from hwb_toolkit.errors import InputError, SchemaError, StoreError
from hwb_toolkit.schema import ACTION_COLUMNS, CONTRIBUTION_COLUMNS, VOTE_COLUMNS
from hwb_toolkit.store import (
    HISTORY_COLUMNS,
    SCHEMA_VERSION,
    SESSION_COLUMNS,
    Store,
    next_action_id,
)

POST_ITS = """contribution_id,source,session,kind,text,author,organisation,sector,created_at,theme,area_code
pi-1,Moving More unconference,table-3,post_it,More benches along the canal path,p_0a1b,Age UK Example,vcse,2026-09-12T10:15:00Z,walking-cycling,
pi-2,Moving More unconference,table-3,post_it,"Safe cycle routes to school, please",p_77cd,,resident,2026-09-12T10:17:30Z,walking-cycling,E08000021
pi-3,Moving More unconference,table-1,post_it,<script>alert(1)</script> free swim for carers,p_0a1b,Age UK Example,vcse,,leisure,E08000021
"""

DOT_VOTES = """source,session,participant,item,vote,kind,created_at
Moving More unconference,table-3,p_0a1b,walking-cycling,2,dot,2026-09-12T11:00:00Z
Moving More unconference,table-3,p_77cd,leisure,1,dot,2026-09-12T11:01:00Z
Moving More unconference,table-3,p_77cd,walking-cycling,1,dot,2026-09-12T11:01:00Z
"""


def frame_from(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


def expected_contributions(text: str) -> pd.DataFrame:
    """The canonical in-memory shape: str columns, created_at datetime64[us, UTC]."""
    expected = frame_from(text)[CONTRIBUTION_COLUMNS]
    expected["created_at"] = pd.to_datetime(expected["created_at"], utc=True).dt.as_unit("us")
    return expected


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.sqlite") as opened:
        yield opened


def action(**changes) -> dict:
    record = {
        "action_id": "act-01",
        "title": "Walk to school weeks",
        "lead_org": "Example City Council",
        "partner_orgs": ["Sustrans", "Example Primary Schools Trust"],
        "objectives": ["active-lives"],
        "themes": ["walking-cycling"],
        "status": "planned",
        "start": "2026-10-01",
        "end": "2027-03-31",
        "linked_indicators": ["93014"],
        "responds_to": ["pi-2"],
        "area_code": "E08000021",
    }
    record.update(changes)
    return record


# --- opening ------------------------------------------------------------------


def pragmas(store: Store) -> dict:
    with store.engine.connect() as connection:
        return {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")}


def test_opening_a_folder_uses_store_sqlite_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    with Store(tmp_path, busy_timeout=12) as opened:
        assert opened.path == tmp_path / "store.sqlite"
        assert pragmas(opened) == {"journal_mode": "wal", "busy_timeout": 12000,
                                   "foreign_keys": 1, "synchronous": 2}  # 2 = FULL
    with Store(tmp_path, synchronous="NORMAL") as faster:
        assert pragmas(faster)["synchronous"] == 1
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_sqlite_url_opens_the_same_file(tmp_path, store):
    store.add_contributions(frame_from(POST_ITS))
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}") as again:
        assert list(again.contributions()["contribution_id"]) == ["pi-1", "pi-2", "pi-3"]


def test_a_store_from_a_newer_toolkit_is_refused(tmp_path, store):
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="upgrade hwb-toolkit"):
        Store(tmp_path / "store.sqlite")


# The tables exactly as hwb-toolkit's first store (schema version 1) created them in
# SQLite (copied from ``sqlite_master`` of a store made before version 2), with a
# session, a dot (vote_id = the ballot's SHA-256 prefix), an action and its history as
# that version wrote them.
STORE_V1_SQL = """
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at DATETIME NOT NULL,
    PRIMARY KEY (version));
CREATE TABLE contributions (seq INTEGER NOT NULL, contribution_id VARCHAR(255) NOT NULL,
    source VARCHAR(255), session VARCHAR(255), kind VARCHAR(40) NOT NULL, text TEXT NOT NULL,
    author VARCHAR(255), organisation VARCHAR(255), sector VARCHAR(40), created_at DATETIME,
    theme VARCHAR(255), area_code VARCHAR(40), status VARCHAR(16) NOT NULL,
    added_at DATETIME NOT NULL, added_by VARCHAR(255), PRIMARY KEY (seq), UNIQUE (contribution_id));
CREATE INDEX ix_contributions_source ON contributions (source);
CREATE INDEX ix_contributions_session ON contributions (session);
CREATE INDEX ix_contributions_status ON contributions (status);
CREATE TABLE votes (seq INTEGER NOT NULL, vote_id VARCHAR(64) NOT NULL, source VARCHAR(255),
    session VARCHAR(255), participant VARCHAR(255) NOT NULL, item VARCHAR(255) NOT NULL,
    vote FLOAT NOT NULL, kind VARCHAR(40) NOT NULL, created_at DATETIME,
    updated_at DATETIME NOT NULL, PRIMARY KEY (seq), UNIQUE (vote_id));
CREATE INDEX ix_votes_session_participant ON votes (session, participant);
CREATE INDEX ix_votes_item ON votes (item);
CREATE TABLE actions (seq INTEGER NOT NULL, action_id VARCHAR(255) NOT NULL, title TEXT NOT NULL,
    lead_org VARCHAR(255), partner_orgs TEXT NOT NULL, objectives TEXT NOT NULL,
    themes TEXT NOT NULL, status VARCHAR(16) NOT NULL, start_date DATE, end_date DATE,
    linked_indicators TEXT NOT NULL, responds_to TEXT NOT NULL, area_code VARCHAR(40),
    updated_at DATETIME NOT NULL, updated_by VARCHAR(255), PRIMARY KEY (seq), UNIQUE (action_id));
CREATE TABLE sessions (session_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL,
    themes TEXT NOT NULL, statements TEXT NOT NULL, dots_per_person INTEGER NOT NULL,
    created_at DATETIME NOT NULL, created_by VARCHAR(255), is_open BOOLEAN NOT NULL,
    PRIMARY KEY (session_id));
CREATE TABLE history (history_id INTEGER NOT NULL, entity VARCHAR(32) NOT NULL,
    entity_id VARCHAR(255) NOT NULL, action VARCHAR(16) NOT NULL, changed_by VARCHAR(255),
    changed_at DATETIME NOT NULL, reason TEXT, before_json TEXT, after_json TEXT,
    PRIMARY KEY (history_id));
CREATE INDEX ix_history_entity ON history (entity, entity_id);
INSERT INTO schema_version VALUES (1, '2026-09-01 08:00:00.000000');
INSERT INTO sessions VALUES ('ws-old', 'September workshop', '["leisure", "food"]', '[]', 5,
    '2026-09-12 09:00:00.000000', 'facilitator', 1);
INSERT INTO votes VALUES (1, '1f1bfbb728053501feb778312b870eaabc396061',
    'September workshop', 'ws-old', 'p_1', 'leisure', 2.0, 'dot',
    '2026-09-12 10:00:00.000000', '2026-09-12 10:00:00.000000');
INSERT INTO actions VALUES (1, 'A007', 'Walk to school weeks', 'Example City Council', '[]',
    '["active-lives"]', '[]', 'planned', '2026-10-01', NULL, '[]', '[]', NULL,
    '2026-09-01 09:00:00.000000', 'lead');
INSERT INTO history VALUES (1, 'action', 'A007', 'insert', 'lead', '2026-09-01 09:00:00.000000',
    NULL, NULL, '{"action_id": "A007"}');
"""


def make_v1_store(path: Path) -> Path:
    with sqlite3.connect(path) as raw:
        raw.executescript(STORE_V1_SQL)
    raw.close()
    return path


def test_a_store_made_by_schema_version_1_is_upgraded_in_place(tmp_path):
    path = make_v1_store(tmp_path / "store.sqlite")
    # Several pages open the old file at once: it is migrated once, by one of them.
    stores: list[Store] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait(timeout=30)
            stores.append(Store(path))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(stores) == 4
    for opened in stores[1:]:
        opened.close()
    store = stores[0]
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM schema_version ORDER BY version").fetchall() == [
            (1,), (2,)]
        columns = [row[1] for row in raw.execute("PRAGMA table_info(sessions)")]
    raw.close()
    assert columns[-1] == "max_dots_per_item" and columns.count("max_dots_per_item") == 1

    # What version 1 wrote reads as before; the old session has no per-item limit.
    sessions = store.sessions()
    assert list(sessions.columns) == SESSION_COLUMNS
    assert sessions["session_id"].tolist() == ["ws-old"]
    assert sessions["max_dots_per_item"].isna().all()
    assert str(sessions["max_dots_per_item"].dtype) == "Int64"
    assert store.actions()["action_id"].tolist() == ["A007"]
    assert store.place_dot("ws-old", "p_1", "leisure") == 3  # 2 placed under version 1, no cap
    assert store.place_dot("ws-old", "p_1", "leisure") == 4
    # ... and everything new works in the upgraded file.
    store.open_session("ws-new", "October workshop", ["leisure"], [], by="facilitator",
                       dots_per_person=5, max_dots_per_item=1)
    store.place_dot("ws-new", "p_1", "leisure")
    with pytest.raises(StoreError, match="at most 1 dots per item"):
        store.place_dot("ws-new", "p_1", "leisure")
    assert store.new_action(action(action_id=None), by="lead")["action_id"] == "A008"
    store.close()
    with Store(path) as again:  # opening the upgraded file again changes nothing
        assert again.sessions()["max_dots_per_item"].tolist() == [pd.NA, 1]
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM schema_version").fetchone() == (2,)
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()


# --- contributions ------------------------------------------------------------------


def test_contributions_round_trip_in_the_canonical_shape(store):
    summary = store.add_contributions(frame_from(POST_ITS))
    assert (summary.inserted, summary.unchanged, summary.pending) == (3, 0, 0)
    assert_frame_equal(store.contributions(), expected_contributions(POST_ITS))
    # Contributed text is kept verbatim, markup included (pages escape it when showing it).
    assert store.contributions()["text"].iloc[2].startswith("<script>alert(1)</script>")


def test_contributions_filters_by_session_source_and_kind(store):
    store.add_contributions(frame_from(POST_ITS))
    assert list(store.contributions(session="table-3")["contribution_id"]) == ["pi-1", "pi-2"]
    assert store.contributions(source="another event").empty
    assert list(store.contributions(session="table-3", kind="statement").columns) == CONTRIBUTION_COLUMNS


def test_re_adding_identical_contributions_is_a_no_op_with_no_history(store):
    store.add_contributions(frame_from(POST_ITS), by="importer")
    summary = store.add_contributions(frame_from(POST_ITS), by="importer")
    assert (summary.inserted, summary.unchanged) == (0, 3)
    assert len(store.contributions()) == 3
    history = store.history(entity="contribution")
    assert list(history["action"]) == ["insert"] * 3
    assert set(history["by"]) == {"importer"}


def test_conflicting_re_add_names_the_id_and_writes_nothing(store):
    store.add_contributions(frame_from(POST_ITS))
    changed = frame_from(POST_ITS)
    changed.loc[1, "text"] = "Something else entirely"
    new_row = changed.iloc[[0]].assign(contribution_id="pi-9")
    with pytest.raises(StoreError, match="'pi-2'.*different text") as error:
        store.add_contributions(pd.concat([new_row, changed.iloc[[1]]]))
    assert error.value.column == "text"
    # One transaction: the new row before the conflict was not kept either.
    assert list(store.contributions()["contribution_id"]) == ["pi-1", "pi-2", "pi-3"]
    assert len(store.history()) == 3


def test_the_same_id_twice_in_one_frame_with_different_text_is_an_input_error(store):
    frame = frame_from(POST_ITS)
    frame.loc[2, "contribution_id"] = "pi-1"
    with pytest.raises(InputError, match="rows 2 and 4") as error:
        store.add_contributions(frame)
    assert (error.value.row, error.value.column) == (4, "contribution_id")
    assert store.contributions().empty


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("kind", "tweet", "kind 'tweet' is not one of"),
        ("sector", "NHS", "sector 'NHS' is not one of"),
        ("created_at", "12/09/2026 10:15", "is not a date and time"),
        ("contribution_id", " ", "contribution_id is blank"),
        ("text", "", "text is blank"),
    ],
)
def test_bad_contribution_cells_are_named_by_row_and_column(store, column, value, message):
    frame = frame_from(POST_ITS)
    frame.loc[1, column] = value
    with pytest.raises(InputError, match=message) as error:
        store.add_contributions(frame)
    assert (error.value.row, error.value.column) == (3, column)
    assert store.contributions(include_hidden=True, include_pending=True).empty


# --- moderation -----------------------------------------------------------------------


def flag_markup(frame: pd.DataFrame) -> pd.Series:
    return frame["text"].str.contains("<", regex=False)


def test_screened_contributions_wait_as_pending_until_approved(store):
    summary = store.add_contributions(frame_from(POST_ITS), by="workshop-page", screen=flag_markup)
    assert (summary.inserted, summary.pending) == (3, 1)
    assert list(store.contributions()["contribution_id"]) == ["pi-1", "pi-2"]
    everything = store.contributions(include_pending=True, with_status=True)
    assert list(everything["status"]) == ["visible", "visible", "pending"]

    assert store.set_contribution_status("pi-3", "visible", by="facilitator") == "pending"
    assert list(store.contributions()["contribution_id"]) == ["pi-1", "pi-2", "pi-3"]
    last = store.history(entity_id="pi-3").iloc[-1]
    assert (last["action"], last["by"]) == ("approve", "facilitator")
    assert (last["before"]["status"], last["after"]["status"]) == ("pending", "visible")


def test_hiding_keeps_the_row_and_records_who_and_why(store):
    store.add_contributions(frame_from(POST_ITS))
    store.set_contribution_status("pi-1", "hidden", by="facilitator", reason="names a neighbour")
    assert list(store.contributions()["contribution_id"]) == ["pi-2", "pi-3"]
    kept = store.contributions(include_hidden=True, with_status=True)
    assert kept.set_index("contribution_id").loc["pi-1", "status"] == "hidden"
    assert store.set_contribution_status("pi-1", "hidden", by="facilitator") == "hidden"  # no-op
    store.set_contribution_status("pi-1", "visible", by="chair", reason="consent given")
    history = store.history(entity="contribution", entity_id="pi-1")
    assert list(history["action"]) == ["insert", "hide", "unhide"]
    assert list(history["by"].iloc[1:]) == ["facilitator", "chair"]
    assert list(history["reason"].iloc[1:]) == ["names a neighbour", "consent given"]
    assert history["at"].is_monotonic_increasing
    assert str(history["at"].dtype) == "datetime64[us, UTC]"
    # Re-adding a hidden contribution does not bring it back.
    store.set_contribution_status("pi-1", "hidden", by="facilitator")
    store.add_contributions(frame_from(POST_ITS))
    assert "pi-1" not in set(store.contributions()["contribution_id"])


def test_status_changes_reject_unknown_ids_and_statuses(store):
    store.add_contributions(frame_from(POST_ITS))
    with pytest.raises(StoreError, match="no contribution 'pi-404'"):
        store.set_contribution_status("pi-404", "hidden", by="facilitator")
    with pytest.raises(StoreError, match="'deleted' is not one of"):
        store.set_contribution_status("pi-1", "deleted", by="facilitator")


def test_a_failing_screen_is_reported_and_nothing_is_written(store):
    def broken(frame):
        raise ValueError("model not loaded")

    with pytest.raises(StoreError, match="screening function failed: model not loaded"):
        store.add_contributions(frame_from(POST_ITS), screen=broken)
    assert store.contributions(include_pending=True).empty


# --- votes ----------------------------------------------------------------------------


def test_votes_round_trip_in_the_canonical_shape(store):
    assert store.add_votes(frame_from(DOT_VOTES)).inserted == 3
    expected = frame_from(DOT_VOTES)[VOTE_COLUMNS]
    expected["vote"] = expected["vote"].astype("float64")
    expected["created_at"] = pd.to_datetime(expected["created_at"], utc=True).dt.as_unit("us")
    assert_frame_equal(store.votes(), expected)
    assert store.add_votes(frame_from(DOT_VOTES)).unchanged == 3  # importing twice doubles nothing
    assert len(store.votes()) == 3


def test_paper_dots_typed_one_row_per_dot_are_summed_per_ballot(store):
    one_per_dot = pd.DataFrame({
        "participant": ["p_1", "p_1", "p_1", "p_2"],
        "item": ["leisure", "leisure", "food", "leisure"],
        "vote": ["1", "1", "1", "1"],
        "kind": "dot",
    })
    store.add_votes(one_per_dot)
    tally = store.votes().groupby(["participant", "item"])["vote"].sum().to_dict()
    assert tally == {("p_1", "food"): 1.0, ("p_1", "leisure"): 2.0, ("p_2", "leisure"): 1.0}


def test_a_changed_vote_replaces_the_old_one_with_history_and_older_votes_are_stale(store):
    first = pd.DataFrame({"participant": ["p_1"], "item": ["pi-2"], "vote": [1],
                          "kind": ["agree_disagree"], "created_at": ["2026-09-12T11:00:00Z"]})
    store.add_votes(first)
    changed = first.assign(vote=[-1], created_at=["2026-09-12T11:05:00Z"])
    assert store.add_votes(changed).updated == 1
    older = first.assign(vote=[0], created_at=["2026-09-12T10:59:00Z"])
    assert store.add_votes(older).stale == 1
    current = store.votes()
    assert (len(current), current["vote"].iloc[0]) == (1, -1.0)
    history = store.history(entity="vote")
    assert list(history["action"]) == ["insert", "update"]
    assert (history["before"].iloc[1]["vote"], history["after"].iloc[1]["vote"]) == (1.0, -1.0)
    assert history["by"].iloc[1] == "p_1"


def test_two_agree_disagree_votes_on_one_ballot_in_a_frame_are_refused(store):
    frame = pd.DataFrame({"participant": ["p_1", "p_2", "p_1"], "item": ["pi-2"] * 3,
                          "vote": [1, 1, -1], "kind": "agree_disagree"})
    with pytest.raises(InputError, match=r"p_1.*rows 2, 4") as error:
        store.add_votes(frame)
    assert error.value.row == 4
    assert store.votes().empty


def test_a_votes_frame_without_a_vote_column_names_it(store):
    with pytest.raises(SchemaError, match="'vote'") as error:
        store.add_votes(frame_from(DOT_VOTES).rename(columns={"vote": "votes"}))
    assert error.value.column == "vote"


@pytest.mark.parametrize(
    ("kind", "vote", "message"),
    [("agree_disagree", "2", "not a valid agree_disagree vote"),
     ("dot", "1.5", "not a valid dot vote"),
     ("rank", "0", "not a valid rank vote"),
     ("approval", "-1", "not a valid approval vote"),
     ("dot", "lots", "'lots' is not a number"),
     ("thumbs", "1", "kind 'thumbs' is not one of")],
)
def test_bad_votes_are_named_by_row_and_column(store, kind, vote, message):
    frame = frame_from(DOT_VOTES)
    frame.loc[2, ["kind", "vote"]] = [kind, vote]
    with pytest.raises(InputError, match=message) as error:
        store.add_votes(frame)
    assert error.value.row == 4
    assert store.votes().empty


# --- sessions and live dots ---------------------------------------------------------------


def test_a_workshop_session_with_statements_and_limited_dots(store):
    session = store.open_session("ws-nov", "November workshop", ["walking-cycling", "leisure"],
                                 ["Parks should be lit until 9pm", "Bus passes for carers"],
                                 by="facilitator", dots_per_person=2)
    assert session["statements"] == ["ws-nov-s1", "ws-nov-s2"]
    statements = store.contributions(session="ws-nov", kind="statement")
    assert list(statements["text"]) == ["Parks should be lit until 9pm", "Bus passes for carers"]
    assert set(statements["source"]) == {"November workshop"}

    assert store.place_dot("ws-nov", "p_1", "leisure") == 1
    assert store.place_dot("ws-nov", "p_1", "leisure") == 2
    with pytest.raises(StoreError, match="placed all 2 dots"):
        store.place_dot("ws-nov", "p_1", "walking-cycling")
    assert store.remove_dot("ws-nov", "p_1", "leisure") == 1
    assert store.place_dot("ws-nov", "p_1", "ws-nov-s1") == 1  # a dot on a statement of the session
    with pytest.raises(StoreError, match="not a theme or contribution"):
        store.place_dot("ws-nov", "p_2", "housing")
    with pytest.raises(StoreError, match="no dot on 'walking-cycling'"):
        store.remove_dot("ws-nov", "p_1", "walking-cycling")

    dots = store.votes(session="ws-nov", kind="dot").set_index("item")["vote"].to_dict()
    assert dots == {"leisure": 1.0, "ws-nov-s1": 1.0}
    assert list(store.history(entity="vote")["action"]) == ["insert", "update", "update", "insert"]

    store.close_session("ws-nov", by="facilitator")
    with pytest.raises(StoreError, match="is closed"):
        store.place_dot("ws-nov", "p_2", "leisure")
    sessions = store.sessions()
    assert list(sessions.columns) == SESSION_COLUMNS
    assert (sessions["open"].iloc[0], sessions["dots_per_person"].iloc[0]) == (False, 2)
    assert sessions["max_dots_per_item"].isna().all()  # not given: no per-item limit
    assert store.sessions(open_only=True).empty


def test_the_per_item_dot_cap_is_enforced_in_the_store(store):
    session = store.open_session("ws-cap", "Capped workshop", ["leisure", "food"], [],
                                 by="facilitator", dots_per_person=5, max_dots_per_item=2)
    assert session["max_dots_per_item"] == 2
    assert store.sessions()["max_dots_per_item"].tolist() == [2]
    store.place_dot("ws-cap", "p_1", "leisure")
    assert store.place_dot("ws-cap", "p_1", "leisure") == 2
    with pytest.raises(StoreError, match=r"'p_1' already has 2 dots on 'leisure': at most 2 dots "
                                         r"per item in session 'Capped workshop'"):
        store.place_dot("ws-cap", "p_1", "leisure")
    assert store.place_dot("ws-cap", "p_2", "leisure") == 1  # the cap is per participant
    assert store.place_dot("ws-cap", "p_1", "food") == 1  # and per item
    assert store.remove_dot("ws-cap", "p_1", "leisure") == 1
    assert store.place_dot("ws-cap", "p_1", "leisure") == 2  # room again after taking one back
    dots = store.votes(session="ws-cap", kind="dot")
    assert sorted(zip(dots["participant"], dots["item"], dots["vote"], strict=True)) == [
        ("p_1", "food", 1.0), ("p_1", "leisure", 2.0), ("p_2", "leisure", 1.0)]
    # The budget still applies first when both are reached.
    store.open_session("ws-tight", "Tight", ["leisure"], [], by="facilitator", dots_per_person=1,
                       max_dots_per_item=1)
    store.place_dot("ws-tight", "p_1", "leisure")
    with pytest.raises(StoreError, match="placed all 1 dots"):
        store.place_dot("ws-tight", "p_1", "leisure")


@pytest.mark.parametrize("cap", [0, -1, 1.5, True, "two"])
def test_a_per_item_cap_must_be_a_whole_number_of_one_or_more(store, cap):
    with pytest.raises(StoreError, match="max_dots_per_item must be a whole number, 1 or more"):
        store.open_session("ws-bad", "Bad", ["leisure"], [], by="facilitator", max_dots_per_item=cap)
    assert store.sessions().empty


def test_two_tabs_of_one_person_cannot_pass_the_per_item_cap_together(tmp_path):
    path = tmp_path / "store.sqlite"
    with Store(path) as store:
        store.open_session("ws-race", "Race", ["leisure"], [], by="facilitator",
                           dots_per_person=10, max_dots_per_item=3)
    tabs = [Store(path) for _ in range(4)]
    barrier = threading.Barrier(len(tabs))
    outcomes: list[str] = []

    def click(tab: Store) -> None:
        barrier.wait(timeout=30)
        for _ in range(3):
            try:
                tab.place_dot("ws-race", "p_1", "leisure")
                outcomes.append("placed")
            except StoreError as error:
                outcomes.append(str(error))

    threads = [threading.Thread(target=click, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("placed") == 3 and len(outcomes) == 12
    assert all("at most 3 dots per item" in o for o in outcomes if o != "placed")
    assert tabs[0].votes(session="ws-race")["vote"].tolist() == [3.0]
    for tab in tabs:
        tab.close()


def test_reopening_a_session_is_idempotent_but_a_different_one_is_refused(store):
    args = ("ws-1", "Workshop", ["leisure"], ["Statement one"])
    store.open_session(*args, by="facilitator")
    store.close_session("ws-1", by="facilitator")
    store.open_session(*args, by="facilitator")
    assert store.sessions()["open"].tolist() == [True]
    assert len(store.contributions(session="ws-1")) == 1
    with pytest.raises(StoreError, match="'ws-1' already exists with different themes"):
        store.open_session("ws-1", "Workshop", ["food"], ["Statement one"], by="facilitator")
    with pytest.raises(StoreError, match="'ws-1' already exists with different max_dots_per_item"):
        store.open_session(*args, by="facilitator", max_dots_per_item=2)


def test_a_closed_session_refuses_post_its_and_votes_inside_the_transaction(tmp_path, store):
    store.open_session("ws-shut", "Shut", ["leisure"], ["Lit parks"], by="facilitator")
    post_it = pd.DataFrame({"contribution_id": ["late"], "session": "ws-shut", "kind": "post_it",
                            "text": ["Too late?"], "author": "p_1"})
    answer = pd.DataFrame({"session": ["ws-shut"], "participant": "p_1", "item": "ws-shut-s1",
                           "vote": 1.0, "kind": "agree_disagree"})
    store.add_contributions(post_it.assign(contribution_id="early"))
    store.add_votes(answer)
    store.close_session("ws-shut", by="facilitator")
    before = len(store.history())
    with pytest.raises(StoreError, match="session 'Shut' is closed: it takes no more post-its"):
        store.add_contributions(post_it)
    with pytest.raises(StoreError, match="session 'Shut' is closed"):
        store.add_votes(answer.assign(vote=-1.0))
    # A mixed frame is refused whole: the other session's row is not written either.
    other = post_it.assign(contribution_id="elsewhere", session="no-such-session")
    with pytest.raises(StoreError, match="is closed"):
        store.add_contributions(pd.concat([other, post_it]))
    assert store.contributions(kind="post_it")["contribution_id"].tolist() == ["early"]
    assert store.votes()["vote"].tolist() == [1.0]
    assert len(store.history()) == before
    # A backup of the closed session is still restored whole.
    store.export_csv(tmp_path / "backup")
    with Store(tmp_path / "restored.sqlite") as restored:
        restored.import_csv(tmp_path / "backup", by="restorer")
        assert restored.contributions(kind="post_it")["contribution_id"].tolist() == ["early"]
        assert restored.votes()["vote"].tolist() == [1.0]
        assert restored.sessions()["open"].tolist() == [False]


def test_the_change_counter_grows_with_every_change_from_any_connection(tmp_path):
    path = tmp_path / "store.sqlite"
    with Store(path) as watcher, Store(path) as writer:
        assert watcher.last_change() == 0
        writer.open_session("ws-1", "Workshop", ["leisure"], [], by="facilitator")
        first = watcher.last_change()
        assert first > 0
        writer.place_dot("ws-1", "p_1", "leisure")
        assert watcher.last_change() > first
        unchanged = watcher.last_change()
        writer.open_session("ws-1", "Workshop", ["leisure"], [], by="facilitator")  # a no-op
        assert watcher.last_change() == unchanged


def test_contributions_and_votes_of_one_author_or_participant(store):
    store.open_session("ws-1", "Workshop", ["leisure", "food"], [], by="facilitator",
                       dots_per_person=4)
    store.add_contributions(pd.DataFrame({
        "contribution_id": ["a", "b", "c"], "session": "ws-1", "kind": "post_it",
        "text": ["one", "two", "three"], "author": ["p_1", "p_2", "p_1"]}))
    for participant, item in (("p_1", "leisure"), ("p_2", "food"), ("p_1", "food")):
        store.place_dot("ws-1", participant, item)
    assert store.contributions(author="p_1")["contribution_id"].tolist() == ["a", "c"]
    mine = store.votes(session="ws-1", participant="p_1")
    assert sorted(mine["item"]) == ["food", "leisure"] and set(mine["participant"]) == {"p_1"}


# --- actions ------------------------------------------------------------------------------


def test_actions_round_trip_with_lists_dates_and_stamps(store):
    saved = store.save_action(action(), by="lead@council")
    frame = store.actions()
    assert list(frame.columns) == ACTION_COLUMNS
    row = frame.iloc[0]
    assert row["partner_orgs"] == ["Sustrans", "Example Primary Schools Trust"]
    assert row["linked_indicators"] == ["93014"]
    assert (row["start"], row["end"]) == (pd.Timestamp("2026-10-01"), pd.Timestamp("2027-03-31"))
    assert row["updated_by"] == "lead@council"
    assert row["updated_at"] == saved["updated_at"]
    assert str(frame["updated_at"].dtype) == "datetime64[us, UTC]"
    # ";"-joined text (the CSV form) is the same action: saving it again changes nothing.
    store.save_action(action(partner_orgs="Sustrans; Example Primary Schools Trust"), by="someone")
    assert store.actions()["updated_by"].tolist() == ["lead@council"]
    assert len(store.history(entity="action")) == 1


def test_updating_an_action_records_before_and_after(store):
    first = store.save_action(action(), by="lead@council")
    second = store.save_action(action(status="active"), by="partner@vcse")
    assert second["updated_at"] > first["updated_at"]
    history = store.history(entity="action", entity_id="act-01")
    assert list(history["action"]) == ["insert", "update"]
    change = history.iloc[1]
    assert (change["before"]["status"], change["after"]["status"]) == ("planned", "active")
    assert change["by"] == "partner@vcse"
    assert store.actions()["status"].tolist() == ["active"]


def test_optimistic_concurrency_refuses_a_save_based_on_a_stale_read(store):
    opened = store.save_action(action(), by="alice")["updated_at"]
    store.save_action(action(status="active"), by="bob", expected_updated_at=opened)
    with pytest.raises(StoreError, match="changed by bob .* after you opened it"):
        store.save_action(action(status="stopped"), by="alice", expected_updated_at=opened)
    assert store.actions()["status"].tolist() == ["active"]
    fresh = store.actions()["updated_at"].iloc[0]
    store.save_action(action(status="done"), by="alice", expected_updated_at=fresh)
    assert store.actions()["status"].tolist() == ["done"]


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [({"status": "ongoing"}, "status", "status 'ongoing' is not one of"),
     ({"start": "01/10/2026"}, "start", "is not a date"),
     ({"end": "2026-01-01"}, "end", "is before start"),
     ({"title": "  "}, "title", "title is blank"),
     ({"partner_orgs": ["A; B"]}, "partner_orgs", "may not contain ';'")],
)
def test_bad_actions_are_refused_naming_the_column(store, changes, column, message):
    with pytest.raises(InputError, match=message) as error:
        store.save_action(action(**changes), by="lead")
    assert error.value.column == column
    assert store.actions().empty


def test_save_actions_seeds_a_register_in_one_transaction_keeping_its_stamps(store):
    register = pd.DataFrame([
        action(updated_at="2026-08-01T09:00:00Z", updated_by="register-owner"),
        action(action_id="act-02", title="Community kitchens", themes=["food"],
               updated_at="2026-08-02T09:00:00Z", updated_by="register-owner"),
    ])
    assert store.save_actions(register, by="import:actions.csv", keep_stamps=True).inserted == 2
    frame = store.actions()
    assert frame["updated_at"].tolist() == [pd.Timestamp("2026-08-01T09:00:00Z"),
                                            pd.Timestamp("2026-08-02T09:00:00Z")]
    assert set(store.history(entity="action")["by"]) == {"import:actions.csv"}
    duplicate = pd.concat([register, register.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="'act-01' appears twice") as error:
        store.save_actions(duplicate, by="x")
    assert error.value.row == 4


REGISTER = """action_id,title,lead_org,partner_orgs,objectives,themes,status,start,end,linked_indicators,responds_to,area_code,updated_at,updated_by
act-01,Walk to school weeks,Example City Council,Sustrans;Example Primary Schools Trust,active-lives,walking-cycling,planned,2026-10-01,31/03/2027,93014,pi-2,E08000021,2026-08-01T09:00:00Z,register-owner
act-02,"Community kitchens, twice a week",Example Food Bank,,healthy-food,,active,,,,,,2026-08-03T12:30:00Z,register-owner
"""


def test_the_store_keeps_a_register_exactly_as_read_actions_reads_it(tmp_path, store):
    from hwb_toolkit.system.actions import read_actions

    path = tmp_path / "actions.csv"
    path.write_text(REGISTER, encoding="utf-8")
    register = read_actions(path)
    store.save_actions(register, by="import:actions.csv", keep_stamps=True)
    assert_frame_equal(store.actions(), register)
    # Seeding again (a second page opening the workspace at the same moment) changes nothing.
    assert store.save_actions(register, by="import:actions.csv", keep_stamps=True).unchanged == 2
    assert len(store.history()) == 2


def test_next_action_id():
    assert next_action_id(["A001", "A048", "B7", "A012"]) == "A049"
    assert next_action_id([]) == "A001"
    assert next_action_id(["A999"]) == "A1000"
    assert next_action_id(["A9", "A010"]) == "A011"
    assert next_action_id(["act-01", "A2"], prefix="act-") == "act-002"
    assert next_action_id(["A001", "A0001"]) == "A0002"  # the widest padding in use is kept


def test_new_action_takes_the_next_free_id_inside_its_transaction(store):
    store.save_action(action(action_id="A048"), by="lead")
    first = store.new_action(action(action_id=None, title="Community kitchens"), by="food officer")
    assert first["action_id"] == "A049"
    assert (first["title"], first["updated_by"]) == ("Community kitchens", "food officer")
    assert first["start"] == pd.Timestamp("2026-10-01")
    assert str(first["updated_at"].tz) == "UTC"
    # A page that read the register before "A049" existed still gets a fresh id.
    second = store.new_action({k: v for k, v in action().items() if k != "action_id"}, by="lead")
    assert second["action_id"] == "A050"
    frame = store.actions().set_index("action_id")
    assert frame.loc["A049", "title"] == "Community kitchens"
    assert frame.loc["A050", "title"] == "Walk to school weeks"
    history = store.history(entity="action")
    assert history[["entity_id", "action", "by"]].values.tolist() == [
        ["A048", "insert", "lead"], ["A049", "insert", "food officer"], ["A050", "insert", "lead"]]
    assert store.new_action(action(action_id=""), by="lead", prefix="X")["action_id"] == "X001"


def test_new_action_refuses_an_id_a_bad_prefix_and_a_bad_record(store):
    with pytest.raises(StoreError, match="already has 'act-01'; use save_action"):
        store.new_action(action(), by="lead")
    with pytest.raises(StoreError, match="prefix"):
        store.new_action(action(action_id=None), by="lead", prefix="A%")
    with pytest.raises(InputError, match="is before start") as error:
        store.new_action(action(action_id=None, end="2026-01-01"), by="lead")
    assert error.value.column == "end"
    assert store.actions().empty and store.history().empty


ACTION_CREATORS = 4
ACTIONS_PER_CREATOR = 15


def create_actions(path: str, creator: int, count: int, barrier) -> list[str]:
    """One partner adding actions as fast as they can (module level for a spawned process)."""
    with Store(path) as store:
        barrier.wait(timeout=120)
        return [store.new_action(action(action_id=None, title=f"creator {creator} action {n}"),
                                 by=f"creator {creator}")["action_id"] for n in range(count)]


def create_actions_into(results, path: str, creator: int, count: int, barrier) -> None:
    """:func:`create_actions` in a spawned process, sending the ids it was given back."""
    results.put((creator, create_actions(path, creator, count, barrier)))


def check_created_actions(store: Store, ids: list[str], creators: int, per_creator: int) -> None:
    """Every action there once, under the id its creator was given; nothing overwritten."""
    expected_titles = {f"creator {c} action {n}" for c in range(creators) for n in range(per_creator)}
    frame = store.actions()
    assert len(ids) == len(set(ids)) == creators * per_creator
    assert sorted(frame["action_id"]) == sorted(ids) == [
        f"A{n:03d}" for n in range(1, creators * per_creator + 1)]
    assert set(frame["title"]) == expected_titles
    history = store.history(entity="action")
    assert set(history["action"]) == {"insert"} and len(history) == len(ids)
    owner = dict(zip(frame["action_id"], frame["updated_by"], strict=True))
    assert all(title.startswith(owner[i]) for i, title in zip(frame["action_id"], frame["title"],
                                                              strict=True))


def test_concurrent_creators_in_threads_never_share_an_id(tmp_path):
    # Each thread has its own Store, as separate page kernels do.
    path = str(tmp_path / "store.sqlite")
    Store(path).close()
    barrier = threading.Barrier(ACTION_CREATORS)
    created: dict[int, list[str]] = {}

    def run(creator: int) -> None:
        created[creator] = create_actions(path, creator, ACTIONS_PER_CREATOR, barrier)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(ACTION_CREATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(created) == list(range(ACTION_CREATORS))
    with Store(path) as store:
        check_created_actions(store, [i for ids in created.values() for i in ids],
                              ACTION_CREATORS, ACTIONS_PER_CREATOR)


@pytest.mark.slow
def test_concurrent_creators_in_processes_never_share_an_id(tmp_path):
    path = str(tmp_path / "store.sqlite")
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(ACTION_CREATORS)
    results = context.Queue()
    creators = [context.Process(target=create_actions_into,
                                args=(results, path, c, ACTIONS_PER_CREATOR, barrier))
                for c in range(ACTION_CREATORS)]
    for process in creators:
        process.start()
    created = dict(results.get(timeout=180) for _ in creators)
    for process in creators:
        process.join(timeout=60)
    assert [p.exitcode for p in creators] == [0] * ACTION_CREATORS
    with Store(path) as store:
        check_created_actions(store, [i for ids in created.values() for i in ids],
                              ACTION_CREATORS, ACTIONS_PER_CREATOR)


def test_an_in_memory_store_works_for_notebooks_and_tests():
    with Store("sqlite://") as memory:
        memory.add_contributions(frame_from(POST_ITS))
        assert len(memory.contributions()) == 3


# --- CSV export and import ---------------------------------------------------------------


def populate(store: Store) -> None:
    store.add_contributions(frame_from(POST_ITS), screen=flag_markup)
    store.set_contribution_status("pi-1", "hidden", by="facilitator", reason="a name")
    store.add_votes(frame_from(DOT_VOTES))
    store.save_action(action(), by="lead")
    store.save_action(action(status="active"), by="lead")
    store.open_session("ws-1", "Workshop", ["leisure"], ["Lit parks"], by="facilitator")
    store.place_dot("ws-1", "p_9", "leisure")
    store.open_session("ws-2", "Capped", ["food"], [], by="facilitator", max_dots_per_item=3)


def test_export_then_import_reproduces_every_table(tmp_path, store):
    populate(store)
    written = store.export_csv(tmp_path / "backup")
    assert sorted(p.name for p in written.values()) == [
        "actions.csv", "contributions.csv", "history.csv", "sessions.csv", "votes.csv"]
    assert not list((tmp_path / "backup").glob(".*tmp"))
    actions_csv = (tmp_path / "backup" / "actions.csv").read_text()
    assert "Sustrans;Example Primary Schools Trust" in actions_csv
    sessions_csv = pd.read_csv(tmp_path / "backup" / "sessions.csv", dtype=str)
    assert sessions_csv["max_dots_per_item"].fillna("").tolist() == ["", "3"]  # not "3.0"

    with Store(tmp_path / "restored.sqlite") as restored:
        summary = restored.import_csv(tmp_path / "backup", by="restorer")
        assert summary["contributions"].inserted == 4
        for table in ("votes", "actions", "sessions"):
            assert_frame_equal(getattr(restored, table)(), getattr(store, table)())
        everything = {"include_hidden": True, "include_pending": True, "with_status": True}
        assert_frame_equal(restored.contributions(**everything), store.contributions(**everything))
        original = store.history()
        copied = restored.history()
        assert list(copied.columns) == HISTORY_COLUMNS
        # The original history comes first, then the import's own inserts, tagged with the reason.
        head = copied.iloc[: len(original)].reset_index(drop=True)
        assert_frame_equal(head.drop(columns="history_id"), original.drop(columns="history_id"))
        tail = copied.iloc[len(original):]
        assert set(tail["reason"]) == {"import from backup"} and set(tail["by"]) == {"restorer"}

        again = restored.import_csv(tmp_path / "backup", by="restorer")
        assert all(s.inserted == 0 and s.updated == 0 for s in again.values())
        assert len(restored.history()) == len(copied)


def test_export_defuses_spreadsheet_formulas_and_import_restores_the_text(tmp_path, store):
    hostile = "=HYPERLINK(\"http://evil.example\",\"Click\")"
    post_its = frame_from(POST_ITS)
    post_its.loc[post_its["contribution_id"] == "pi-1", "text"] = hostile
    store.add_contributions(post_its)
    store.save_action(action(title="-1+cmd|' /C calc'!A0"), by="lead")
    store.export_csv(tmp_path / "backup")
    exported = pd.read_csv(tmp_path / "backup" / "contributions.csv", dtype=str)
    assert exported.loc[exported["contribution_id"] == "pi-1", "text"].item() == "'" + hostile
    assert not any(str(cell).startswith(("=", "+", "-", "@"))
                   for name in ("contributions", "actions", "history")
                   for cell in pd.read_csv(tmp_path / "backup" / f"{name}.csv", dtype=str)
                   .stack().tolist())
    with Store(tmp_path / "restored.sqlite") as restored:
        restored.import_csv(tmp_path / "backup", by="restorer")
        texts = restored.contributions().set_index("contribution_id")["text"]
        assert texts["pi-1"] == hostile
        assert restored.actions()["title"].tolist() == ["-1+cmd|' /C calc'!A0"]


def test_sessions_csv_from_before_the_per_item_cap_imports_with_no_cap(tmp_path, store):
    store.open_session("ws-1", "Workshop", ["leisure"], ["Lit parks"], by="facilitator",
                       max_dots_per_item=2)
    store.export_csv(tmp_path / "backup")
    path = tmp_path / "backup" / "sessions.csv"
    old = pd.read_csv(path, dtype=str).drop(columns="max_dots_per_item")
    old.to_csv(path, index=False)
    (tmp_path / "backup" / "contributions.csv").unlink()
    (tmp_path / "backup" / "history.csv").unlink()
    with Store(tmp_path / "restored.sqlite") as restored:
        assert restored.import_csv(tmp_path / "backup", by="restorer")["sessions"].inserted == 1
        assert restored.sessions()["max_dots_per_item"].isna().all()
    old.assign(max_dots_per_item="0").to_csv(path, index=False)
    with Store(tmp_path / "other.sqlite") as other:
        with pytest.raises(InputError) as error:
            other.import_csv(tmp_path / "backup", by="restorer")
        assert (error.value.row, error.value.column) == (2, "max_dots_per_item")


def test_importing_an_older_version_of_an_action_is_refused(tmp_path, store):
    store.save_action(action(), by="lead")
    store.export_csv(tmp_path / "old")
    store.save_action(action(status="done"), by="lead")
    with pytest.raises(StoreError, match="'act-01'.*not newer") as error:
        store.import_csv(tmp_path / "old", by="restorer")
    assert error.value.row == 2
    assert store.actions()["status"].tolist() == ["done"]


def test_a_bad_cell_in_an_import_names_file_row_column_and_writes_nothing(tmp_path, store):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "contributions.csv").write_text(POST_ITS, encoding="utf-8")
    (folder / "votes.csv").write_text(DOT_VOTES.replace(",1,dot,2026-09-12T11:01:00Z\n", ",x,dot,\n", 1))
    with pytest.raises(InputError) as error:
        store.import_csv(folder, by="restorer")
    assert (Path(error.value.file).name, error.value.row, error.value.column) == ("votes.csv", 3, "vote")
    assert store.contributions().empty and store.history().empty


def test_an_import_with_a_us_date_in_actions_names_the_cell(tmp_path, store):
    store.save_action(action(), by="lead")
    store.export_csv(tmp_path / "out")
    path = tmp_path / "out" / "actions.csv"
    path.write_text(path.read_text().replace("2026-10-01", "10/25/2026"))
    with Store(tmp_path / "other.sqlite") as other:
        with pytest.raises(InputError) as error:
            other.import_csv(tmp_path / "out", by="restorer")
        assert (Path(error.value.file).name, error.value.row, error.value.column) == (
            "actions.csv", 2, "start")
        assert other.actions().empty and other.contributions().empty


def test_import_from_an_empty_folder_says_what_it_looked_for(tmp_path, store):
    with pytest.raises(InputError, match="no contributions.csv"):
        store.import_csv(tmp_path, by="restorer")


# --- concurrency ----------------------------------------------------------------------------

WRITERS = 8
ROWS_PER_WRITER = 500
BATCH = 25


def contribution_batch(writer: int, start: int, size: int) -> pd.DataFrame:
    numbers = range(start, start + size)
    return pd.DataFrame({
        "contribution_id": [f"w{writer}-c{n}" for n in numbers],
        "source": "load test",
        "session": f"table-{writer}",
        "kind": "post_it",
        "text": [f"post-it {n} from writer {writer}" for n in numbers],
        "author": f"p_{writer:016x}",
        "created_at": pd.Timestamp("2026-09-12T10:00:00Z"),
    })


def vote_batch(writer: int, start: int, size: int) -> pd.DataFrame:
    numbers = range(start, start + size)
    return pd.DataFrame({
        "source": "load test",
        "session": "plenary",
        "participant": [f"w{writer}-p{n}" for n in numbers],
        "item": [f"w{(writer + 1) % WRITERS}-c{n}" for n in numbers],
        "vote": [(-1, 0, 1)[n % 3] for n in numbers],
        "kind": "agree_disagree",
    })


def concurrent_writer(path: str, writer: int, rows: int, batch: int, barrier) -> None:
    """One of the concurrent writers (module level so a spawned process can import it)."""
    store = Store(path)
    barrier.wait(timeout=120)
    for start in range(0, rows, batch):
        store.add_contributions(contribution_batch(writer, start, batch))
        store.add_votes(vote_batch(writer, start, batch))
    # A client retrying its first batch (say after a dropped connection) adds nothing.
    assert store.add_contributions(contribution_batch(writer, 0, batch)).inserted == 0
    assert store.add_votes(vote_batch(writer, 0, batch)).inserted == 0
    store.close()


def test_threads_sharing_one_store_lose_nothing(store):
    def write(writer: int) -> None:
        for start in range(0, 100, 10):
            store.add_contributions(contribution_batch(writer, start, 10))
            store.add_votes(vote_batch(writer, start, 10))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = store.contributions()["contribution_id"]
    assert len(ids) == 400 and set(ids) == {f"w{w}-c{n}" for w in range(4) for n in range(100)}
    assert len(store.votes()) == 400


@pytest.mark.slow
def test_eight_concurrent_writers_end_with_every_row_exactly_once(tmp_path):
    # The file does not exist yet: the writers also race to create the tables.
    path = tmp_path / "store.sqlite"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    writers = [context.Process(target=concurrent_writer,
                               args=(str(path), w, ROWS_PER_WRITER, BATCH, barrier))
               for w in range(WRITERS)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=180)
    assert [p.exitcode for p in writers] == [0] * WRITERS

    with Store(path) as store:
        contributions = store.contributions()
        votes = store.votes()
        history = store.history()
    expected_ids = {f"w{w}-c{n}" for w in range(WRITERS) for n in range(ROWS_PER_WRITER)}
    assert len(contributions) == WRITERS * ROWS_PER_WRITER
    assert set(contributions["contribution_id"]) == expected_ids
    expected_ballots = {(f"w{w}-p{n}", f"w{(w + 1) % WRITERS}-c{n}")
                        for w in range(WRITERS) for n in range(ROWS_PER_WRITER)}
    assert len(votes) == WRITERS * ROWS_PER_WRITER
    assert set(zip(votes["participant"], votes["item"], strict=True)) == expected_ballots
    assert len(history) == 2 * WRITERS * ROWS_PER_WRITER
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def killed_writer(path: str, rows: int, holding) -> None:
    """Insert rows in one transaction, signal, then wait at the commit to be SIGKILLed."""
    store = Store(path)

    def stall(_connection) -> None:
        holding.set()
        time.sleep(600)

    event.listen(store.engine, "commit", stall)
    frame = contribution_batch(99, 0, rows)
    frame["text"] = frame["text"] + " " + "x" * 2000  # enough to spill uncommitted pages to the WAL
    store.add_contributions(frame)


@pytest.mark.slow
def test_a_writer_killed_mid_transaction_loses_only_its_own_unfinished_write(tmp_path):
    path = tmp_path / "store.sqlite"
    store = Store(path)
    store.add_contributions(contribution_batch(1, 0, 100))
    store.add_votes(vote_batch(1, 0, 100))

    context = multiprocessing.get_context("spawn")
    holding = context.Event()
    victim = context.Process(target=killed_writer, args=(str(path), 3000, holding))
    victim.start()
    try:
        assert holding.wait(timeout=120), "the writer never reached its commit"
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 2_000_000  # uncommitted rows really are on disk
        # Readers are not blocked by the open write transaction (WAL).
        assert len(store.contributions()) == 100

        # A second writer queues behind the victim's lock ...
        queued: dict[str, object] = {}

        def write_behind() -> None:
            try:
                queued["summary"] = store.add_contributions(contribution_batch(2, 0, 50))
            except Exception as error:  # reported by the assertion below
                queued["error"] = error

        behind = threading.Thread(target=write_behind)
        behind.start()
        time.sleep(0.5)
        assert behind.is_alive(), "the second writer should be waiting for the lock"
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(timeout=30)
    assert victim.exitcode == -signal.SIGKILL
    # ... and gets it once the victim is gone.
    behind.join(timeout=60)
    assert "error" not in queued and queued["summary"].inserted == 50

    ids = set(store.contributions()["contribution_id"])
    assert ids == {f"w1-c{n}" for n in range(100)} | {f"w2-c{n}" for n in range(50)}
    assert not store.history()["entity_id"].str.startswith("w99-").any()
    assert len(store.votes()) == 100
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT count(*) FROM contributions WHERE contribution_id LIKE 'w99-%'"
                           ).fetchone() == (0,)
    with Store(path) as reopened:  # the store still takes writes after recovery
        assert reopened.add_contributions(contribution_batch(3, 0, 10)).inserted == 10
