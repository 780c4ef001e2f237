"""Tests for hwb_toolkit.io.voices: every voices export into the canonical tables.

Reference tests read real exports from ../shared/reference/workshop (Polis open
data, pabulib ballots, a SenseMaker export); the form mappings and the bad
files use small inline fixtures.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import ConfigError, InputError, SchemaError
from hwb_toolkit.io.voices import (
    SectorWarning,
    normalise_sector,
    parse_datetimes,
    read_contributions,
    read_pabulib,
    read_polis_export,
    read_polis_groups,
    read_polis_summary,
    read_votes,
)
from hwb_toolkit.privacy import pseudonymise
from hwb_toolkit.schema import CONTRIBUTION_COLUMNS, VOTE_COLUMNS

KEY = "test-key"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- canonical files and dict mappings -----------------------------------------
def test_canonical_file_is_completed_and_pseudonymised(tmp_path):
    # Text is kept as written here: personal details are masked where contributions enter the
    # published tables (Workspace.contributions, tests/io/test_workspace_privacy.py).
    path = write(tmp_path, "postits.csv", (
        "contribution_id,text,author,organisation,sector,kind,created_at,theme\n"
        "a1,More benches on the canal path,Jane Smith,Leeds City Council,Local Authority,,"
        "2026-09-12T10:15:00+01:00,walking-cycling\n"
        ",Ring me on 07700 900123 or jane@example.org,jane  smith,Age UK,Charity,post-it,"
        "12/09/2026 11:00,\n"
    ))
    frame = read_contributions(path, source="Moving More unconference", kind="post_it",
                               pseudonym_key=KEY)
    assert list(frame.columns) == CONTRIBUTION_COLUMNS
    expected = pd.DataFrame({
        "contribution_id": ["a1", "moving-more-unconference-3"],
        "source": ["Moving More unconference"] * 2,
        "kind": ["post_it", "post_it"],
        "text": ["More benches on the canal path",
                 "Ring me on 07700 900123 or jane@example.org"],
        "author": [pseudonymise("Jane Smith", KEY)] * 2,
        "organisation": ["Leeds City Council", "Age UK"],
        "sector": ["council", "vcse"],
        "created_at": pd.to_datetime(["2026-09-12 09:15", "2026-09-12 11:00"], utc=True),
        "theme": ["walking-cycling", np.nan],
    })
    pd.testing.assert_frame_equal(
        frame[expected.columns], expected, check_dtype=False, check_index_type=False
    )
    assert frame["created_at"].dtype == "datetime64[us, UTC]"
    assert frame["author"].iloc[0].startswith("p_")


def test_dict_mapping_reads_a_sensemaker_like_export(tmp_path):
    path = write(tmp_path, "stories.csv",
                 "id,Story,Uploaded\nx-1,  I was shown how to set up a rope. ,1438121139568\n")
    frame = read_contributions(path, {"contribution_id": "id", "text": "Story",
                                      "created_at": "Uploaded"}, kind="survey_answer")
    assert frame.loc[0, "contribution_id"] == "x-1"
    assert frame.loc[0, "text"] == "I was shown how to set up a rope."
    assert frame.loc[0, "created_at"] == pd.Timestamp("2015-07-28 22:05:39.568", tz="UTC")
    assert frame.loc[0, "source"] == "stories.csv"


def test_ids_are_generated_from_source_and_row_and_are_stable(tmp_path):
    path = write(tmp_path, "wall.csv", "text\nFirst\nSecond\n")
    first = read_contributions(path, kind="post_it", source="Wall A")
    again = read_contributions(path, kind="post_it", source="Wall A")
    assert first["contribution_id"].tolist() == ["wall-a-2", "wall-a-3"]
    pd.testing.assert_frame_equal(first, again)


# --- form exports ----------------------------------------------------------------
MS_FORMS = (
    "ID,Start time,Completion time,Email,Name,What would help you move more?,"
    "Organisation,Which sector do you work in?,Points - Quiz,What stops you?\n"
    "1,3/5/24 10:01:00,05/03/2024 10:05:00,jane@example.org,Jane Smith,"
    "Safer cycle paths to school,Leeds City Council,Local Authority,1,Cost\n"
    "2,3/5/24 10:02:00,05/03/2024 10:09:00,anonymous,anonymous,,Age UK Leeds,Charity,0,"
    "\"Time, mostly\"\n"
)


def test_microsoft_forms_one_survey_answer_per_answered_question(tmp_path):
    path = write(tmp_path, "forms.csv", MS_FORMS)
    frame = read_contributions(path, "microsoft_forms", source="Survey", pseudonym_key=KEY)
    expected = pd.DataFrame({
        "contribution_id": ["survey-2-q1", "survey-2-q2", "survey-3-q2"],
        "session": ["What would help you move more?", "What stops you?", "What stops you?"],
        "kind": ["survey_answer"] * 3,
        "text": ["Safer cycle paths to school", "Cost", "Time, mostly"],
        "author": [pseudonymise("jane@example.org", KEY)] * 2 + [np.nan],
        "organisation": ["Leeds City Council", "Leeds City Council", "Age UK Leeds"],
        "sector": ["council", "council", "vcse"],
        "created_at": pd.to_datetime(["2024-03-05 10:05", "2024-03-05 10:05",
                                      "2024-03-05 10:09"], utc=True),
    })
    pd.testing.assert_frame_equal(frame[expected.columns], expected, check_dtype=False)


def test_forms_questions_argument_keeps_ids_stable(tmp_path):
    path = write(tmp_path, "forms.csv", MS_FORMS)
    frame = read_contributions(path, "microsoft_forms", source="Survey",
                               questions=["What stops you?"])
    assert frame["contribution_id"].tolist() == ["survey-2-q2", "survey-3-q2"]


def test_google_forms(tmp_path):
    path = write(tmp_path, "google.csv", (
        "Timestamp,Email Address,Your organisation,What one change would help?,Score\n"
        "2024/03/05 10:15:00,sam@example.org,Leeds Community Healthcare NHS Trust,"
        "Walking groups for carers,3 / 5\n"
    ))
    frame = read_contributions(path, "google_forms", pseudonym_key=KEY)
    row = frame.iloc[0]
    assert len(frame) == 1
    assert (row["text"], row["session"]) == ("Walking groups for carers", "What one change would help?")
    assert row["organisation"] == "Leeds Community Healthcare NHS Trust"
    assert row["created_at"] == pd.Timestamp("2024-03-05 10:15", tz="UTC")
    assert row["author"] == pseudonymise("sam@example.org", KEY)


def test_mentimeter_voters_sheet(tmp_path):
    path = tmp_path / "menti.xlsx"
    voters = pd.DataFrame({
        "Date (UTC)": ["2026-09-12 10:00:00", "2026-09-12 10:01:00"],
        "Session": ["1", "1"],
        "Voter": ["101", "102"],
        "What does a healthy place mean to you?: Answer": ["Green spaces near home", None],
        "How active are you?:: Walking": ["4", "2"],
    })
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Info": ["cover"]}).to_excel(writer, sheet_name="Overview", index=False)
        voters.to_excel(writer, sheet_name="Voters", index=False)
    frame = read_contributions(path, "mentimeter", source="Menti", pseudonym_key=KEY)
    assert frame["text"].tolist() == ["Green spaces near home"]
    assert frame["session"].tolist() == ["What does a healthy place mean to you?"]
    assert frame["author"].tolist() == [pseudonymise("101", KEY)]
    assert frame["created_at"].iloc[0] == pd.Timestamp("2026-09-12 10:00", tz="UTC")


def test_open_space_one_note_per_report(tmp_path):
    path = write(tmp_path, "proceedings.csv", (
        "Convener,Topic,Participants,Summary,Recommendations,Organisation,Sector\n"
        "Priya Shah,Loneliness in new estates,Ann; Bo; Cy,People moved in with no shared space.,"
        "Open the school hall at weekends,Leeds City Council,council\n"
        "Tom Lee,Active travel,12,Parents want safe routes.,,Sustrans,Voluntary\n"
    ))
    frame = read_contributions(path, "open_space", source="Open space", pseudonym_key=KEY)
    assert frame["kind"].tolist() == ["open_space_note"] * 2
    assert frame["text"].tolist() == [
        "Loneliness in new estates\n\nPeople moved in with no shared space.\n\n"
        "Recommendations: Open the school hall at weekends",
        "Active travel\n\nParents want safe routes.",
    ]
    assert frame["session"].tolist() == ["Loneliness in new estates", "Active travel"]
    assert frame["author"].tolist() == [pseudonymise("Priya Shah", KEY), pseudonymise("Tom Lee", KEY)]
    assert frame["participants"].tolist() == [3, 12]
    assert frame["sector"].tolist() == ["council", "vcse"]


# --- sectors and dates -------------------------------------------------------------
def test_sector_synonyms_and_unknown_values_warn_with_rows():
    values = pd.Series(["NHS", "Health", "voluntary sector", "Community", "Leeds City Council",
                        "Private", "member of the public", None, "Police", "other"])
    with pytest.warns(SectorWarning, match=r"file.csv, column 'Sector'.*row 10 'Police'"):
        mapped = normalise_sector(values, file="file.csv", column="Sector")
    assert mapped.tolist()[:7] == ["nhs", "nhs", "vcse", "vcse", "council", "business", "resident"]
    assert pd.isna(mapped.iloc[7])
    assert mapped.tolist()[8:] == ["other", "other"]


def test_known_sectors_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalise_sector(pd.Series(["council", "NHS", "VCSE"]))


def test_dates_in_several_forms():
    parsed = parse_datetimes(
        pd.Series(["2024-03-05T10:00:00Z", "05/03/2024 10:00", "2024/03/05 10:00", "1709632800",
                   "1709632800000", None]),
        file="f.csv", column="When",
    )
    assert parsed.iloc[:5].tolist() == [pd.Timestamp("2024-03-05 10:00", tz="UTC")] * 5
    assert pd.isna(parsed.iloc[5])


# --- bad files: one clear error each ---------------------------------------------------
@pytest.mark.parametrize(
    ("content", "kwargs", "error", "row", "column", "message"),
    [
        ("text,kind\nHello,post_it\n,post_it\n", {}, InputError, 3, "text", "no text"),
        ("text,kind\nHello,sticky\n", {}, InputError, 2, "kind", "unknown kind 'sticky'"),
        ("text\nHello\n", {}, InputError, 2, "kind", "no kind"),
        ("contribution_id,text\na,x\na,y\n", {"kind": "post_it"}, InputError, 3,
         "contribution_id", "used twice"),
        ("text,created_at\nHi,yesterday-ish\n", {"kind": "post_it"}, InputError, 2,
         "created_at", "not a date"),
        ("note,kind\nHi,post_it\n", {}, SchemaError, None, "text", "'text'"),
        ("ID,Start time,Email\n1,x,y\n", {"mapping": "microsoft_forms"}, SchemaError, None,
         "Completion time", "Completion time"),
        ("Convener,Topic,Summary\nAnn,,Talked\n", {"mapping": "open_space"}, InputError, 2,
         "Topic", "no topic"),
        ("Convener,Topic,Summary,Participants\nAnn,T,S,-2\n", {"mapping": "open_space"},
         InputError, 2, "Participants", "participants"),
        ("Story\nHi\n", {"mapping": {"text": "Tale"}, "kind": "post_it"}, SchemaError, None,
         "Tale", "'Tale'"),
    ],
)
def test_bad_contribution_files(tmp_path, content, kwargs, error, row, column, message):
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(error, match=message) as caught:
        read_contributions(path, **kwargs)
    assert caught.value.file == str(path)
    assert (caught.value.row, caught.value.column) == (row, column)


def test_empty_and_undecodable_files(tmp_path):
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        read_contributions(empty)
    header_only = write(tmp_path, "header.csv", "text,kind\n")
    with pytest.raises(InputError, match="header but no rows"):
        read_contributions(header_only)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"text\n\x81\x8d\x8f\x90\x9d")  # bytes that are neither UTF-8 nor cp1252
    with pytest.raises(InputError, match="neither UTF-8 nor Windows-1252") as caught:
        read_contributions(binary)
    assert caught.value.row == 2


def test_unknown_mapping_and_bad_mapping_keys(tmp_path):
    path = write(tmp_path, "x.csv", "text\nHi\n")
    with pytest.raises(ConfigError, match="unknown mapping 'padlet'"):
        read_contributions(path, "padlet")
    with pytest.raises(ConfigError, match="'words'"):
        read_contributions(path, {"words": "text"})


# --- votes --------------------------------------------------------------------------
def test_read_votes_dot_votes(tmp_path):
    path = write(tmp_path, "dots.csv",
                 "participant,item,vote\nJane,walking-cycling,2\nBob,healthy-food,1\n")
    votes = read_votes(path, "dot", session="Plenary", pseudonym_key=KEY)
    expected = pd.DataFrame({
        "source": ["dots.csv"] * 2,
        "session": ["Plenary"] * 2,
        "participant": [pseudonymise("Jane", KEY), pseudonymise("Bob", KEY)],
        "item": ["walking-cycling", "healthy-food"],
        "vote": [2.0, 1.0],
        "kind": ["dot", "dot"],
        "created_at": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[us, UTC]"),
    })
    pd.testing.assert_frame_equal(votes, expected, check_dtype=False)
    assert list(votes.columns) == VOTE_COLUMNS


def test_read_votes_one_row_per_dot_without_vote_column(tmp_path):
    path = write(tmp_path, "dots.csv", "participant,item\nA,x\nA,x\nB,y\n")
    assert read_votes(path, "dot")["vote"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("content", "kind", "row", "column", "message"),
    [
        ("participant,item,vote\nA,x,two\n", "dot", 2, "vote", "'two' is not a number"),
        ("participant,item,vote\nA,x,1\nB,y,-1\n", "dot", 3, "vote", "below"),
        ("participant,item,vote\nA,x,2\n", "approval", 2, "vote", "not a valid approval"),
        ("participant,item,vote\nA,x,1.5\n", "rank", 2, "vote", "not a whole number"),
        ("participant,item,vote\nA,x,3\n", "agree_disagree", 2, "vote", "not a valid agree"),
        ("participant,item,vote\n,x,1\n", "dot", 2, "participant", "blank"),
        ("participant,item\nA,x\n", "rank", None, "vote", "'vote'"),
    ],
)
def test_bad_vote_files(tmp_path, content, kind, row, column, message):
    path = write(tmp_path, "votes.csv", content)
    with pytest.raises(InputError, match=message) as caught:
        read_votes(path, kind)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), row, column)


def test_unknown_vote_kind(tmp_path):
    path = write(tmp_path, "votes.csv", "participant,item,vote\nA,x,1\n")
    with pytest.raises(ConfigError, match="unknown vote kind 'stars'"):
        read_votes(path, "stars")


# --- Polis --------------------------------------------------------------------------
# conversation: (rows in comments.csv, moderated out, rows in votes.csv, participants)
# from PROVENANCE.md and the export files; statements = rows - moderated out.
POLIS = {
    "15-per-hour-seattle": (54, 23, 2995, 339),
    "brexit-consensus": (50, 0, 5312, 204),
    "london.youth.policing": (39, 3, 640, 26),
    "scoop-hivemind.ubi": (71, 1, 7174, 234),
    "scoop-hivemind.freshwater": (80, 29, 3979, 117),
}


def polis_dir(reference_dir: Path, name: str) -> Path:
    folder = reference_dir / "workshop" / "polis" / name
    if not folder.is_dir():
        pytest.skip(f"Polis export {name} not found at {folder}")
    return folder


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(POLIS))
def test_polis_export_statements_votes_and_ground_truth(reference_dir, name):
    folder = polis_dir(reference_dir, name)
    rows, moderated_out, vote_rows, participants = POLIS[name]
    contributions, votes = read_polis_export(folder)
    raw_comments = pd.read_csv(folder / "comments.csv")
    assert len(raw_comments) == rows
    assert len(contributions) == rows - moderated_out
    excluded = set(raw_comments.loc[raw_comments["moderated"] == -1, "comment-id"].astype(str))
    assert excluded.isdisjoint(contributions["contribution_id"])
    assert excluded.isdisjoint(votes["item"])
    assert (contributions["kind"] == "statement").all()
    assert contributions["contribution_id"].astype(int).is_monotonic_increasing
    kept = raw_comments[raw_comments["moderated"] >= 0]
    kept = kept.set_index(kept["comment-id"].astype(str))
    ours = contributions.set_index("contribution_id")
    assert (ours["author"] == kept["author-id"].astype(str).reindex(ours.index)).all()
    assert (ours["text"] == kept["comment-body"].str.strip().reindex(ours.index)).all()
    assert set(votes["kind"]) == {"agree_disagree"}
    assert len(pd.read_csv(folder / "votes.csv")) == vote_rows
    assert not votes.duplicated(["participant", "item"]).any()

    # Polis' own table of each participant's votes is the ground truth.
    published = pd.read_csv(folder / "participants-votes.csv")
    assert len(published) == participants
    statement_columns = [c for c in published.columns if c.isdigit() and c not in excluded]
    truth = (
        published.set_index(published["participant"].astype(str))[statement_columns]
        .stack().dropna().rename("truth")
    )
    truth.index = truth.index.set_names(["participant", "item"])
    ours = votes.set_index(["participant", "item"])["vote"]
    assert len(ours) == len(truth)
    joined = ours.to_frame().join(truth, how="outer")
    assert joined.notna().all().all()
    assert (joined["vote"] == joined["truth"]).all()
    # n-agree counts the 1s: agree is 1, disagree -1 (checked where nothing was excluded).
    if not excluded:
        agrees = (votes["vote"] == 1).groupby(votes["participant"]).sum()
        n_agree = published.set_index(published["participant"].astype(str))["n-agree"]
        assert (agrees.reindex(n_agree.index, fill_value=0) == n_agree).all()


@pytest.mark.reference
def test_polis_latest_vote_counts(reference_dir):
    folder = polis_dir(reference_dir, "15-per-hour-seattle")
    _, votes = read_polis_export(folder)
    by_pair = votes.set_index(["participant", "item"])["vote"]
    # Voter 229 voted on statement 0 four times (-1 first, 1 last); voter 58 three
    # times on statement 25 (-1 first, pass last).
    assert by_pair[("229", "0")] == 1
    assert by_pair[("58", "25")] == 0


@pytest.mark.reference
def test_polis_meta_data_and_groups(reference_dir):
    folder = polis_dir(reference_dir, "brexit-consensus")
    contributions, votes = read_polis_export(folder)
    summary = read_polis_summary(folder)
    assert summary["topic"] == "Can there be consensus on Brexit?"
    assert contributions.attrs["polis"]["groups"] == "2"
    assert set(contributions["session"]) == {"Can there be consensus on Brexit?"}
    assert contributions.set_index("contribution_id").loc["0", "text"] == "I voted to Leave."
    groups = read_polis_groups(folder)
    assert len(groups) == 204 - 7  # 7 participants are not grouped
    assert sorted(groups.unique()) == [0, 1]


@pytest.mark.reference
def test_polis_files_that_disagree_are_refused(reference_dir, tmp_path):
    source = polis_dir(reference_dir, "london.youth.policing")
    folder = tmp_path / "conversation"
    shutil.copytree(source, folder)
    published = pd.read_csv(folder / "participants-votes.csv", dtype=str)
    first_voted = published["1"].notna().idxmax()
    published.loc[first_voted, "1"] = str(-int(published.loc[first_voted, "1"]) or 1)
    published.to_csv(folder / "participants-votes.csv", index=False)
    with pytest.raises(InputError, match="latest vote on statement 1") as caught:
        read_polis_export(folder)
    assert caught.value.file.endswith("participants-votes.csv")
    assert (caught.value.row, caught.value.column) == (first_voted + 2, "1")


def test_polis_bad_votes(tmp_path):
    folder = tmp_path / "polis"
    folder.mkdir()
    write(folder, "comments.csv", "comment-id,comment-body,moderated\n0,Parks matter,1\n")
    write(folder, "votes.csv", "timestamp,comment-id,voter-id,vote\n1,0,5,1\n2,7,5,1\n")
    with pytest.raises(InputError, match="statement 7, which is not in comments.csv") as caught:
        read_polis_export(folder)
    assert (caught.value.row, caught.value.column) == (3, "comment-id")
    write(folder, "votes.csv", "timestamp,comment-id,voter-id,vote\n1,0,5,2\n")
    with pytest.raises(InputError, match="not a valid agree_disagree vote"):
        read_polis_export(folder)
    write(folder, "votes.csv", "timestamp,comment-id,voter-id,vote\n1,0,5,1\n")
    write(folder, "participants-votes.csv", "participant,group-id,0\n5,0,agree\n")
    with pytest.raises(InputError, match="'agree' is not a number") as caught:
        read_polis_export(folder)
    assert (caught.value.row, caught.value.column) == (2, "0")
    write(folder, "comments.csv", "comment-id,comment-body,moderated\n0,Parks matter,5\n")
    with pytest.raises(InputError, match="not a moderation state") as caught:
        read_polis_export(folder)
    assert (caught.value.row, caught.value.column) == (2, "moderated")
    (folder / "comments.csv").unlink()
    with pytest.raises(InputError, match="file not found"):
        read_polis_export(folder)


# --- Polis: today's export layout, timestamps, moderated-out votes ---------------------
CURRENT = "current-layout-bike-lanes-toronto"
CURRENT_PREFIX = "2025-08-29-0002-7btrabcujr-"


@pytest.mark.reference
def test_polis_current_layout_is_read(reference_dir):
    folder = polis_dir(reference_dir, CURRENT)
    contributions, votes = read_polis_export(folder)
    raw_comments = pd.read_csv(folder / f"{CURRENT_PREFIX}comments.csv")
    excluded = raw_comments.loc[raw_comments["moderated"] == -1, "comment-id"].astype(str)
    assert len(raw_comments) == 82 and len(excluded) == 5
    assert len(contributions) == 77 and excluded.isin(contributions["contribution_id"]).sum() == 0
    assert contributions.attrs["moderated_out"] == ["29", "33", "41", "42", "56"]
    assert set(contributions["session"]) == {"Bike Lanes in Toronto"}
    # Polis' own matrix (participant-votes.csv, singular) is the ground truth.
    published = pd.read_csv(folder / f"{CURRENT_PREFIX}participant-votes.csv")
    statements = [c for c in published.columns if c.isdigit() and c not in set(excluded)]
    truth = published.set_index(published["participant"].astype(str))[statements].stack().dropna()
    truth.index = truth.index.set_names(["participant", "item"])
    joined = votes.set_index(["participant", "item"])["vote"].to_frame().join(
        truth.rename("truth"), how="outer")
    assert len(joined) == len(votes) == 1408 and (joined["vote"] == joined["truth"]).all()
    # Timestamps are epoch seconds in this layout: voter 1's vote on statement 0 was cast
    # at 1747514296 (Sat May 17 2025 20:38:16 GMT, as the datetime column says).
    cast = votes.set_index(["participant", "item"])["created_at"]
    assert cast[("1", "0")] == pd.Timestamp("2025-05-17 20:38:16", tz="UTC")
    assert votes["created_at"].min() == pd.Timestamp("2025-05-17 20:35:48", tz="UTC")
    assert contributions["created_at"].min() == pd.Timestamp("2024-11-13 19:43:20", tz="UTC")
    groups = read_polis_groups(folder)
    assert len(groups) == int(read_polis_summary(folder)["voters-in-conv"]) == 42


@pytest.mark.reference
def test_polis_current_layout_renamed_keeps_seconds(reference_dir, tmp_path):
    # The same export with plain file names: the timestamps are still seconds.
    source = polis_dir(reference_dir, CURRENT)
    folder = tmp_path / "bike-lanes"
    folder.mkdir()
    for path in source.iterdir():
        shutil.copy(path, folder / path.name.removeprefix(CURRENT_PREFIX))
    _, votes = read_polis_export(folder)
    assert votes["created_at"].min() == pd.Timestamp("2025-05-17 20:35:48", tz="UTC")
    assert votes["created_at"].max() == pd.Timestamp("2025-06-11 15:29:04", tz="UTC")
    # The older layout stays in milliseconds: 1403054214196 is 18 June 2014.
    _, seattle = read_polis_export(polis_dir(reference_dir, "15-per-hour-seattle"))
    assert seattle["created_at"].min() == pd.Timestamp("2014-06-18 01:16:54.196", tz="UTC")


@pytest.mark.reference
def test_polis_votes_on_moderated_out_statements_can_be_kept(reference_dir):
    folder = polis_dir(reference_dir, "15-per-hour-seattle")
    _, dropped = read_polis_export(folder)
    _, kept = read_polis_export(folder, keep_moderated_out=True)
    moderated_out = kept.attrs["moderated_out"]
    raw_comments = pd.read_csv(folder / "comments.csv")
    assert moderated_out == sorted(
        raw_comments.loc[raw_comments["moderated"] == -1, "comment-id"].astype(str), key=int)
    assert len(moderated_out) == 23 and dropped.attrs["moderated_out"] == moderated_out
    # Kept: every cell of Polis' matrix, moderated-out columns included.
    published = pd.read_csv(folder / "participants-votes.csv")
    statements = [c for c in published.columns if c.isdigit()]
    assert len(kept) == published[statements].notna().sum().sum() == 2872
    assert set(kept["item"]) - set(dropped["item"]) == set(moderated_out)
    pd.testing.assert_frame_equal(
        kept[~kept["item"].isin(moderated_out)].reset_index(drop=True), dropped)


def polis_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "polis"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        write(folder, name, text)
    return folder


PREFIX = "2026-01-05-0001-abcdefghij-"
COMMENTS = (
    "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
    "1767600000,Mon Jan 05 2026 08:00:00 GMT+0000,0,0,1,0,1,More benches\n"
    "1767600060,Mon Jan 05 2026 08:01:00 GMT+0000,1,1,0,1,-1,Off topic\n"
)
VOTES = (
    "timestamp,datetime,comment-id,voter-id,vote\n"
    "1767603600,Mon Jan 05 2026 09:00:00 GMT+0000,0,0,1\n"
    "1767603601,Mon Jan 05 2026 09:00:01 GMT+0000,1,0,-1\n"
    "1767603700,Mon Jan 05 2026 09:01:40 GMT+0000,1,1,1\n"
)


def test_polis_prefixed_layout_inline(tmp_path):
    matrix = "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n0,,1,2,1,1,1,-1\n1,,1,1,1,0,,1\n"
    folder = polis_folder(tmp_path, {
        f"{PREFIX}comments.csv": COMMENTS,
        f"{PREFIX}votes.csv": VOTES,
        f"{PREFIX}participant-votes.csv": matrix,
        f"{PREFIX}summary.csv": 'topic,"Parks"\ngroups,0\n',
        f"{PREFIX}comment-groups.csv": "comment-id,comment,total-votes\n0,More benches,1\n",
    })
    contributions, votes = read_polis_export(folder)
    assert contributions["contribution_id"].tolist() == ["0"]
    assert contributions["created_at"].tolist() == [pd.Timestamp("2026-01-05 08:00", tz="UTC")]
    assert set(contributions["session"]) == {"Parks"}
    assert votes[["participant", "item", "vote"]].values.tolist() == [["0", "0", 1.0]]
    assert votes["created_at"].tolist() == [pd.Timestamp("2026-01-05 09:00", tz="UTC")]
    _, kept = read_polis_export(folder, keep_moderated_out=True)
    assert kept["item"].tolist() == ["0", "1", "1"] and kept.attrs["moderated_out"] == ["1"]
    # The matrix is checked in this layout too.
    write(folder, f"{PREFIX}participant-votes.csv", matrix.replace("0,,1,2,1,1,1,-1", "0,,1,2,1,1,0,-1"))
    with pytest.raises(InputError, match="latest vote on statement 0") as caught:
        read_polis_export(folder)
    assert caught.value.file.endswith(f"{PREFIX}participant-votes.csv")


def test_polis_matrix_may_hold_an_earlier_vote(tmp_path):
    # Today's Polis fills participant-votes.csv from all of a participant's votes in no
    # set order: a cell holding one of their earlier votes is no disagreement; a value
    # they never cast still is.
    votes = VOTES + "1767603900,Mon Jan 05 2026 09:05:00 GMT+0000,0,0,-1\n"
    matrix = "participant,group-id,0,1\n0,,{cell},-1\n1,,,1\n"
    folder = polis_folder(tmp_path, {"comments.csv": COMMENTS, "votes.csv": votes,
                                     "participant-votes.csv": matrix.format(cell=1)})
    _, read = read_polis_export(folder)
    assert read.set_index(["participant", "item"]).loc[("0", "0"), "vote"] == -1.0
    write(folder, "participant-votes.csv", matrix.format(cell=0))
    with pytest.raises(InputError, match="says 0"):
        read_polis_export(folder)


def test_polis_timestamp_units_per_file(tmp_path):
    millis = VOTES.replace("1767603600,", "1767603600000,").replace(
        "1767603601,", "1767603601000,").replace("1767603700,", "1767603700000,")
    folder = polis_folder(tmp_path, {"comments.csv": COMMENTS, "votes.csv": millis})
    _, votes = read_polis_export(folder)
    assert votes["created_at"].tolist() == [pd.Timestamp("2026-01-05 09:00", tz="UTC")]
    mixed = VOTES.replace("1767603700,", "1767603700000,")
    write(folder, "votes.csv", mixed)
    with pytest.raises(InputError, match="in milliseconds, but row 2 gives seconds") as caught:
        read_polis_export(folder)
    assert (caught.value.row, caught.value.column) == (4, "timestamp")


def test_polis_one_export_per_folder(tmp_path):
    folder = polis_folder(tmp_path, {f"{PREFIX}comments.csv": COMMENTS,
                                     "2026-02-01-0001-abcdefghij-comments.csv": COMMENTS})
    with pytest.raises(InputError, match="holds 2 Polis exports"):
        read_polis_export(folder)


# --- pabulib --------------------------------------------------------------------------
PABULIB = {
    # file: (vote_type, voters, projects, canonical kind)
    "France_Toulouse_2019.pb": ("cumulative", 1494, 30, "dot"),
    "Netherlands_Assen_2024.pb": ("approval", 84, 14, "approval"),
    "US_Stanford_Dataset_PB_Dieppe_2015_vote_rankings.pb": ("ordinal", 680, 18, "rank"),
    "Canada_Stanford_Dataset_PB_Dieppe_2018_vote_approvals.pb": ("approval", 378, 16, "approval"),
}


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(PABULIB))
def test_read_pabulib_real_files(reference_dir, name):
    path = reference_dir / "workshop" / "votes" / "pabulib" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    vote_type, voters, n_projects, kind = PABULIB[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # META counts agree with the sections
        projects, votes, meta = read_pabulib(path)
    assert meta["vote_type"] == vote_type
    assert len(projects) == n_projects == int(meta["num_projects"])
    assert votes["participant"].nunique() == voters == int(meta["num_votes"])
    assert set(votes["kind"]) == {kind}
    assert set(votes["item"]) <= set(projects["project_id"])
    assert list(votes.columns) == VOTE_COLUMNS


@pytest.mark.reference
def test_pabulib_points_and_ranks(reference_dir):
    folder = reference_dir / "workshop" / "votes" / "pabulib"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    _, toulouse, meta = read_pabulib(folder / "France_Toulouse_2019.pb")
    # Voter 0: "15,22,25,10;2,2,2,1"
    ballot = toulouse[toulouse["participant"] == "0"]
    assert ballot["item"].tolist() == ["15", "22", "25", "10"]
    assert ballot["vote"].tolist() == [2.0, 2.0, 2.0, 1.0]
    assert meta["max_points"] == "3" and meta["max_sum_points"] == "7"
    assert toulouse.groupby("participant")["vote"].sum().max() <= 7
    _, dieppe, _ = read_pabulib(folder / "US_Stanford_Dataset_PB_Dieppe_2015_vote_rankings.pb")
    ballot = dieppe[dieppe["participant"] == "16-0"]  # "244,239,253,242,246"
    assert ballot["item"].tolist() == ["244", "239", "253", "242", "246"]
    assert ballot["vote"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


PB_HEAD = "META\nkey;value\nvote_type;{vote_type}\nnum_votes;1\nPROJECTS\nproject_id;cost\n1;100\n2;200\n"


@pytest.mark.parametrize(
    ("body", "vote_type", "row", "column", "message"),
    [
        ("VOTES\nvoter_id;vote\nv1;1,3\n", "approval", 11, "vote", "project '3' is not in PROJECTS"),
        ("VOTES\nvoter_id;vote;points\nv1;1,2;3\n", "cumulative", 11, "points", "number of points"),
        ("VOTES\nvoter_id;vote;points\nv1;1,2;3,x\n", "cumulative", 11, "points", "'x' is not a number"),
        ("VOTES\nvoter_id;vote\nv1;1;extra\n", "approval", 11, None, "3 fields"),
        ("", "approval", None, None, "VOTES section is missing"),
        ("VOTES\nvoter_id;vote\nv1;1\n", "plurality", None, "vote_type", "plurality"),
    ],
)
def test_bad_pabulib_files(tmp_path, body, vote_type, row, column, message):
    path = write(tmp_path, "bad.pb", PB_HEAD.format(vote_type=vote_type) + body)
    with pytest.raises(InputError, match=message) as caught:
        read_pabulib(path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), row, column)


@pytest.mark.reference
def test_read_pabulib_choose_1(reference_dir):
    path = reference_dir / "workshop" / "votes" / "pabulib" / "Poland_Zabrze_2021_Mikulczyce.pb"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # META counts agree, every ballot names one project
        projects, votes, meta = read_pabulib(path)
    assert meta["vote_type"] == "choose-1" and set(votes["kind"]) == {"approval"}
    assert votes["participant"].nunique() == len(votes) == int(meta["num_votes"]) == 1909
    assert set(votes["vote"]) == {1.0} and len(projects) == 3


def test_pabulib_choose_1_repeated_and_blank_entries_inline(tmp_path):
    head = PB_HEAD.replace("num_votes;1", "num_votes;3")
    path = write(tmp_path, "choose.pb", head.format(vote_type="choose-1")
                 + "VOTES\nvoter_id;vote\nv1;1\nv2;2\nv3;2\n")
    _, votes, _ = read_pabulib(path)
    assert votes[["participant", "item", "vote", "kind"]].values.tolist() == [
        ["v1", "1", 1.0, "approval"], ["v2", "2", 1.0, "approval"], ["v3", "2", 1.0, "approval"]]
    # An ordinal ballot naming project 1 twice: each mention counted at its position,
    # with a warning instead of refusing the file; blank entries are skipped.
    path = write(tmp_path, "twice.pb", head.format(vote_type="ordinal")
                 + "VOTES\nvoter_id;vote\nv1;1,,2,1\nv2;2\nv3;1,2,\n")
    with pytest.warns(UserWarning, match="line 11: a ballot names a project twice"):
        _, votes, _ = read_pabulib(path)
    assert votes[["participant", "item", "vote"]].values.tolist() == [
        ["v1", "1", 1.0], ["v1", "2", 2.0], ["v1", "1", 3.0], ["v2", "2", 1.0],
        ["v3", "1", 1.0], ["v3", "2", 2.0]]
    # A choose-1 ballot naming two projects is read, with a warning.
    path = write(tmp_path, "two.pb", head.format(vote_type="choose-1")
                 + "VOTES\nvoter_id;vote\nv1;1,2\nv2;2\nv3;2\n")
    with pytest.warns(UserWarning, match="line 11: a choose-1 ballot names more than one"):
        _, votes, _ = read_pabulib(path)
    assert votes["item"].tolist() == ["1", "2", "2", "2"]


def test_pabulib_zero_points_are_entries_inline(tmp_path):
    path = write(tmp_path, "points.pb", PB_HEAD.replace("num_votes;1", "num_votes;2").format(
        vote_type="cumulative") + "VOTES\nvoter_id;vote;points\nv1;1,2;5,0\nv2;2,1,;3,2,\n")
    _, votes, _ = read_pabulib(path)
    assert votes[["participant", "item", "vote"]].values.tolist() == [
        ["v1", "1", 5.0], ["v1", "2", 0.0], ["v2", "2", 3.0], ["v2", "1", 2.0]]


# --- SenseMaker ------------------------------------------------------------------------
SENSEMAKER_STORY = "ca82ba5d-6102-4f69-94da-76c38c28ce9b"  # fragment_signifier_id in ADemo_Definition.json


@pytest.mark.reference
def test_sensemaker_stories_with_a_mapping(reference_dir):
    path = reference_dir / "workshop" / "workshops" / "sensemaker-ademo" / "ADemo_Data.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    frame = read_contributions(
        path,
        {"contribution_id": "id", "text": SENSEMAKER_STORY, "created_at": "server_upload_time"},
        source="SenseMaker ADemo",
        kind="survey_answer",
    )
    raw = pd.read_csv(path)
    assert len(frame) == 129
    assert frame["contribution_id"].tolist() == raw["id"].tolist()
    assert frame["text"].tolist() == raw[SENSEMAKER_STORY].str.strip().tolist()
    first = frame.iloc[0]
    assert first["text"].startswith("I am a Driver Helper.")
    assert first["created_at"] == pd.Timestamp("2015-07-28 22:05:39.568", tz="UTC")


def test_an_unknown_sector_in_a_prepared_file_is_refused_with_the_valid_list(tmp_path):
    path = write(tmp_path, "postits.csv", "text,sector\nMore benches,NHS\nFewer cars,martian\n")
    with pytest.raises(InputError) as caught:
        read_contributions(path, kind="post_it")
    assert (caught.value.row, caught.value.column) == (3, "sector")
    assert "'martian' is not a sector: use one of council, nhs, vcse, business, resident, other" in (
        str(caught.value)
    )
    # In a form, the sector is what a respondent typed: read as "other", with a warning.
    form = write(tmp_path, "form.csv", "Timestamp,Which sector do you work in?,Your idea\n"
                 "05/03/2024 10:00,martian,More benches\n")
    with pytest.warns(SectorWarning, match="row 2 'martian'"):
        assert read_contributions(form, "google_forms")["sector"].tolist() == ["other"]
