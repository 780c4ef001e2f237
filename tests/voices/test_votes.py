"""Tests for hwb_toolkit.voices.votes: dot, approval and Borda tallies; poll summaries."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.voices import read_pabulib, read_polis_export
from hwb_toolkit.voices.votes import latest_votes, poll_summary, tally


def votes_from(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"participant": str, "item": str})


def expected(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "voters", "score"]).astype(
        {"item": "str", "voters": "int64", "score": "float64"}
    )


def test_dot_votes_add_up_with_a_cap_per_item():
    votes = votes_from(
        "participant,item,vote\n"
        "a,parks,3\na,parks,2\na,food,1\n"   # a puts 5 dots on parks in two rows
        "b,food,2\nb,buses,0\n"              # a zero gives nothing
    )
    pd.testing.assert_frame_equal(
        tally(votes, "dot"), expected([("parks", 1, 5.0), ("food", 2, 3.0), ("buses", 0, 0.0)])
    )
    pd.testing.assert_frame_equal(
        tally(votes, "dot", cap=3), expected([("food", 2, 3.0), ("parks", 1, 3.0), ("buses", 0, 0.0)])
    )


def test_approval_and_ties_ordered_by_item_number():
    votes = votes_from("participant,item,vote\na,10,1\na,2,1\nb,10,1\nb,2,1\nc,7,1\nc,3,0\n")
    pd.testing.assert_frame_equal(
        tally(votes, "approval"),
        expected([("2", 2, 2.0), ("10", 2, 2.0), ("7", 1, 1.0), ("3", 0, 0.0)]),
    )


def test_truncated_borda():
    votes = votes_from(
        "participant,item,vote\n"
        "a,x,1\na,y,2\na,z,3\n"
        "b,y,1\nb,x,2\n"          # b ranks only two: rank 1 still scores k
        "c,z,1\n"
    )
    # k = 3: rank 1 -> 3, rank 2 -> 2, rank 3 -> 1
    pd.testing.assert_frame_equal(
        tally(votes, "borda"), expected([("x", 2, 5.0), ("y", 2, 5.0), ("z", 2, 4.0)])
    )
    # k = 5 allowed ranks: rank 1 -> 5
    pd.testing.assert_frame_equal(
        tally(votes, "borda", k=5), expected([("x", 2, 9.0), ("y", 2, 9.0), ("z", 2, 8.0)])
    )


def test_items_nobody_chose_are_listed_when_asked():
    votes = votes_from("participant,item,vote\na,parks,1\n")
    result = tally(votes, "approval", items=["parks", "buses"])
    pd.testing.assert_frame_equal(result, expected([("parks", 1, 1.0), ("buses", 0, 0.0)]))


@pytest.mark.parametrize(
    ("text", "method", "kwargs", "message"),
    [
        ("participant,item,vote\na,x,-1\n", "dot", {}, "negative"),
        ("participant,item,vote\na,x,2\n", "approval", {}, "1 or 0"),
        ("participant,item,vote\na,x,1.5\n", "borda", {}, "whole number"),
        ("participant,item,vote\na,x,1\na,x,2\n", "borda", {}, "ranked twice"),
        ("participant,item,vote\na,x,4\n", "borda", {"k": 3}, "above the 3 ranks"),
        ("participant,item,vote,kind\na,x,1,agree_disagree\n", "dot", {}, "agree_disagree"),
        ("participant,item,vote\na,x,1\n", "plurality", {}, "unknown tally method"),
        ("participant,item\na,x\n", "dot", {}, "lacks column"),
    ],
)
def test_bad_votes_are_refused(text, method, kwargs, message):
    with pytest.raises(InputError, match=message):
        tally(votes_from(text), method, **kwargs)


# pabulib: which published column each file's tally reproduces.
PABULIB = {
    "France_Toulouse_2019.pb": "dot",                                      # votes + score (points)
    "Netherlands_Assen_2024.pb": "approval",                               # votes
    "US_Stanford_Dataset_PB_Dieppe_2015_vote_rankings.pb": "borda",        # votes + score (Borda 5..1)
    "Canada_Stanford_Dataset_PB_Dieppe_2018_vote_approvals.pb": "approval",  # votes
}


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(PABULIB))
def test_tally_reproduces_published_pabulib_votes_and_scores(reference_dir, name):
    path = reference_dir / "workshop" / "votes" / "pabulib" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    projects, votes, meta = read_pabulib(path)
    method = PABULIB[name]
    result = tally(votes, method, items=projects["project_id"]).set_index("item")
    published = projects.set_index("project_id")
    assert sorted(result.index) == sorted(published.index)
    assert (result["voters"].reindex(published.index) == published["votes"]).all()
    if "score" in published:
        assert (result["score"].reindex(published.index) == published["score"]).all()
    if method == "dot":
        # Toulouse allowed at most 3 points per project: the cap changes nothing.
        assert int(meta["max_points"]) == 3
        capped = tally(votes, "dot", cap=3).set_index("item")
        assert (capped["score"].reindex(published.index) == published["score"]).all()
        assert tally(votes, "dot", cap=1)["score"].tolist() == tally(votes, "dot", cap=1)["voters"].tolist()


@pytest.mark.reference
def test_published_top_projects_in_order(reference_dir):
    folder = reference_dir / "workshop" / "votes" / "pabulib"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    _, dieppe, _ = read_pabulib(folder / "US_Stanford_Dataset_PB_Dieppe_2015_vote_rankings.pb")
    top = tally(dieppe, "borda").head(3)
    assert top["item"].tolist() == ["252", "247", "246"]
    assert top["score"].tolist() == [936.0, 817.0, 799.0]


def pabulib_file(reference_dir, name: str):
    path = reference_dir / "workshop" / "votes" / "pabulib" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


# pabulib files whose published votes and score need pabulib's own counting rules
# (count_entries=True): file -> tally method.
PABULIB_RULES = {
    # ordinal ballots of 1 to 5 entries: score = modified Borda (first choice = length)
    "US_Stanford_Dataset_Saratoga_NY_2022_vote_rankings.pb": "modified_borda",
    # choose-1: one approval per ballot
    "Poland_Zabrze_2021_Mikulczyce.pb": "approval",
    # cumulative, some projects listed with 0 points: they count in votes
    "Switzerland_Zurich_S5D10.pb": "dot",
}


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(PABULIB_RULES))
def test_tally_counts_as_pabulib_publishes(reference_dir, name):
    projects, votes, _ = read_pabulib(pabulib_file(reference_dir, name))
    published = projects.set_index("project_id")
    result = tally(votes, PABULIB_RULES[name], items=projects["project_id"], count_entries=True)
    result = result.set_index("item").reindex(published.index)
    assert (result["votes"] == published["votes"]).all()
    if "score" in published:
        assert (result["score"] == published["score"]).all()


@pytest.mark.reference
def test_modified_borda_against_truncated_borda_on_varying_lengths(reference_dir):
    saratoga = "US_Stanford_Dataset_Saratoga_NY_2022_vote_rankings.pb"
    projects, votes, _ = read_pabulib(pabulib_file(reference_dir, saratoga))
    published = projects.set_index("project_id")["score"]
    modified = tally(votes, "modified_borda").set_index("item")["score"].reindex(published.index)
    truncated = tally(votes, "borda").set_index("item")["score"].reindex(published.index)
    assert (modified == published).all()  # 3108: 1499, 3184: 1409, ...
    assert (truncated != published).all()  # rank 1 always 5 points: 0 of 9 reproduced
    assert modified["3108"] == 1499.0 and truncated["3108"] > 1499.0


def test_modified_borda_gives_each_ballot_its_length():
    votes = votes_from(
        "participant,item,vote\n"
        "a,x,1\na,y,2\na,z,3\n"   # three ranked: x 3, y 2, z 1
        "b,y,1\nb,x,2\n"          # two ranked: y 2, x 1
        "c,z,1\n"                 # one ranked: z 1
    )
    pd.testing.assert_frame_equal(
        tally(votes, "modified_borda"), expected([("x", 2, 4.0), ("y", 2, 4.0), ("z", 2, 2.0)])
    )
    # Truncated Borda (k = 3) on the same ballots: x 5, y 5, z 4.
    pd.testing.assert_frame_equal(
        tally(votes, "borda"), expected([("x", 2, 5.0), ("y", 2, 5.0), ("z", 2, 4.0)])
    )
    same_length = votes_from("participant,item,vote\na,x,1\na,y,2\nb,y,1\nb,x,2\n")
    pd.testing.assert_frame_equal(tally(same_length, "modified_borda"), tally(same_length, "borda"))
    for bad, message in (("a,x,1\na,y,3\n", "above the number"), ("a,x,1\na,y,1\n", "share")):
        with pytest.raises(InputError, match=message):
            tally(votes_from("participant,item,vote\n" + bad), "modified_borda")


def test_count_entries_counts_zero_points_and_each_mention():
    dots = votes_from("participant,item,vote\na,parks,3\na,food,0\nb,food,2\nb,food,1\n")
    # Default: voters who gave something (b's two rows are one voter).
    pd.testing.assert_frame_equal(
        tally(dots, "dot"), expected([("food", 1, 3.0), ("parks", 1, 3.0)]))
    # pabulib's counting: every entry is a vote, a 0-point one included, a repeat twice.
    counted = tally(dots, "dot", count_entries=True)
    assert counted.columns.tolist() == ["item", "votes", "score"]
    assert counted.values.tolist() == [["food", 3, 3.0], ["parks", 1, 3.0]]
    approvals = votes_from("participant,item,vote\na,1,1\na,1,1\na,2,1\nb,2,0\n")
    assert tally(approvals, "approval", count_entries=True).values.tolist() == [
        ["1", 2, 2.0], ["2", 1, 1.0]]
    ranks = votes_from("participant,item,vote\na,1,1\na,2,2\na,1,3\n")  # "1,2,1"
    with pytest.raises(InputError, match="ranked twice"):
        tally(ranks, "modified_borda")
    assert tally(ranks, "modified_borda", count_entries=True).values.tolist() == [
        ["1", 2, 4.0], ["2", 1, 2.0]]


def test_poll_summary_counts_the_latest_vote():
    votes = votes_from(
        "participant,item,vote,created_at\n"
        "a,1,1,2024-01-01T10:00Z\n"
        "a,1,-1,2024-01-01T11:00Z\n"    # a changed their mind: disagree counts
        "b,1,1,2024-01-01T09:00Z\n"
        "c,1,0,2024-01-01T09:00Z\n"
        "a,2,1,2024-01-01T09:00Z\n"
    )
    votes["created_at"] = pd.to_datetime(votes["created_at"], utc=True)
    result = poll_summary(votes)
    expected_frame = pd.DataFrame({
        "item": ["1", "2"],
        "agree": [1, 1], "disagree": [1, 0], "pass": [1, 0], "votes": [3, 1],
        "agree_share": [1 / 3, 1.0], "disagree_share": [1 / 3, 0.0], "pass_share": [1 / 3, 0.0],
    })
    pd.testing.assert_frame_equal(result, expected_frame, check_dtype=False)
    assert len(latest_votes(votes)) == 4


def test_poll_summary_refuses_other_kinds_and_values():
    with pytest.raises(InputError, match="agree_disagree votes, not dot"):
        poll_summary(votes_from("participant,item,vote,kind\na,1,1,dot\n"))
    with pytest.raises(InputError, match="1, -1 or 0"):
        poll_summary(votes_from("participant,item,vote\na,1,2\n"))


@pytest.mark.reference
def test_poll_summary_matches_polis_participants_votes(reference_dir):
    folder = reference_dir / "workshop" / "polis" / "brexit-consensus"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    _, votes = read_polis_export(folder)
    summary = poll_summary(votes).set_index("item")
    published = pd.read_csv(folder / "participants-votes.csv")
    for statement in ("0", "1", "13", "49"):
        column = published[statement]
        assert summary.loc[statement, "agree"] == (column == 1).sum()
        assert summary.loc[statement, "disagree"] == (column == -1).sum()
        assert summary.loc[statement, "pass"] == (column == 0).sum()
