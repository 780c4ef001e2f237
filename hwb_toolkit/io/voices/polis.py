"""Polis exports (today's prefixed layout and the older one) into contributions and votes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    decode_text,
    numeric_column,
    read_table,
)
from hwb_toolkit.io.voices.common import _DATETIME_DTYPE, _finish_contributions
from hwb_toolkit.io.voices.votes import _check_vote_values
from hwb_toolkit.schema import (
    VOTE_COLUMNS,
)
from hwb_toolkit.values import require_columns

# --- Polis ------------------------------------------------------------------
POLIS_COMMENTS = "comments.csv"
POLIS_VOTES = "votes.csv"
POLIS_PARTICIPANTS_VOTES = "participants-votes.csv"
#: Today's Polis calls the latest-votes matrix ``participant-votes.csv`` (singular).
POLIS_PARTICIPANT_VOTES = "participant-votes.csv"
POLIS_SUMMARY = "summary.csv"

# Polis has written its vote and comment timestamps in two units: the older exports
# (and every openData conversation) in epoch milliseconds (1403054214196), today's
# server in whole epoch seconds, Math.floor(created / 1000) (compdemocracy/polis,
# server/src/routes/export.ts: sendVotesSummary, sendCommentSummary). Polis began in
# 2012, so its milliseconds are above 1.3e12 and its seconds below 1e10 until 2286:
# 1e11 separates them without doubt, and a file holds one unit.
_POLIS_MILLISECONDS_ABOVE = 1e11


def _polis_prefix(folder: Path) -> str:
    """What the export puts before each file name: "" (older exports), or "<date>-<id>-".

    Exports from today's Polis name their files ``2025-08-29-0002-7btrabcujr-comments.csv``
    and so on; the prefix is read from the comments file, so the other files are
    those of the same export.
    """
    prefixes = sorted(
        path.name[: -len(POLIS_COMMENTS)]
        for path in folder.glob(f"*{POLIS_COMMENTS}")
        if path.name == POLIS_COMMENTS or path.name.endswith("-" + POLIS_COMMENTS)
    )
    if len(prefixes) > 1:
        raise InputError(
            f"the folder holds {len(prefixes)} Polis exports "
            f"({', '.join(prefix + POLIS_COMMENTS for prefix in prefixes)}): "
            "give each export its own folder",
            file=folder,
        )
    return prefixes[0] if prefixes else ""


def _polis_path(folder: Path, *names: str) -> Path:
    """The export's file called one of ``names`` (with its prefix); the first name if none exists."""
    prefix = _polis_prefix(folder)
    for name in names:
        if (folder / (prefix + name)).exists():
            return folder / (prefix + name)
    return folder / (prefix + names[0])


def _polis_times(values: pd.Series, *, file: Path, column: str, rows) -> pd.Series:
    """Polis epoch timestamps (numbers) as UTC datetimes, in the unit the file's values show.

    Milliseconds when the values are above 1e11, seconds otherwise (see
    ``_POLIS_MILLISECONDS_ABOVE``); missing stays NaT. A file mixing both units is
    refused, naming the first row in the other unit.
    """
    present = values.notna().to_numpy()
    millis = (values.abs() > _POLIS_MILLISECONDS_ABOVE).to_numpy()
    if present.any():
        first = int(np.flatnonzero(present)[0])
        other = present & (millis != millis[first])
        if other.any():
            position = int(np.flatnonzero(other)[0])
            units = ("milliseconds", "seconds") if millis[first] else ("seconds", "milliseconds")
            raise InputError(
                f"{values.iloc[position]:.0f} is a time in {units[1]}, but row {rows[first]} "
                f"gives {units[0]}: one export writes one unit",
                file=file, row=int(rows[position]), column=column,
            )
    unit = "ms" if present.any() and millis[present][0] else "s"
    return pd.to_datetime(values, unit=unit, utc=True).astype(_DATETIME_DTYPE)


def read_polis_summary(folder: str | Path) -> dict[str, str]:
    """The ``summary.csv`` of a Polis export as a dict (topic, url, voters, comments, groups, ...).

    Returns an empty dict when the export has no summary. Values are text as
    written (Polis writes counts such as ``voters`` and ``groups`` as numbers).
    Either export layout (see :func:`read_polis_export`).
    """
    path = _polis_path(Path(folder), POLIS_SUMMARY)
    if not path.exists():
        return {}
    text = decode_text(path.read_bytes(), path)
    summary: dict[str, str] = {}
    for cells in csv.reader(io.StringIO(text)):
        if cells:
            summary[cells[0].strip()] = ",".join(cells[1:]).strip()
    return summary


def read_polis_groups(folder: str | Path) -> pd.Series:
    """Polis' own opinion groups from the participants' votes matrix: participant id (str) -> group id (int).

    Only grouped participants are returned (Polis leaves the others blank), so the
    Series can be handed to the consensus and representativeness functions as the
    grouping to compare with. Either export layout (``participants-votes.csv`` or
    today's ``<prefix>participant-votes.csv``).
    """
    path = _polis_path(Path(folder), POLIS_PARTICIPANTS_VOTES, POLIS_PARTICIPANT_VOTES)
    frame = read_table(path)
    require_columns(frame, ["participant", "group-id"], path)
    participant = numeric_column(frame, "participant", path, integer=True)
    group = numeric_column(frame, "group-id", path, integer=True)
    grouped = group.notna()
    return pd.Series(
        group[grouped].astype("int64").to_numpy(),
        index=pd.Index(participant[grouped].astype("int64").astype("str"), name="participant"),
        name="group",
    )


def _check_against_participants_votes(
    votes: pd.DataFrame, history: pd.DataFrame, folder: Path
) -> None:
    """Each latest vote must equal the cell Polis published for that participant and statement.

    ``history`` holds every vote row (participant, item, vote). Today's Polis fills
    its matrix from every vote of a participant in no set order
    (``sendParticipantVotesSummary``: ``ORDER BY pid``), so a cell that holds one
    of the participant's earlier votes on the statement is not a disagreement.
    """
    path = _polis_path(folder, POLIS_PARTICIPANTS_VOTES, POLIS_PARTICIPANT_VOTES)
    if not path.exists():
        return
    frame = read_table(path)
    require_columns(frame, ["participant"], path)
    statement_columns = [column for column in frame.columns if column.isdigit()]
    participants = numeric_column(frame, "participant", path, integer=True).astype("int64").astype("str")
    # Convert every voted cell at once (long form), then name the cell if one is bad.
    cells = frame[statement_columns].set_axis(np.arange(len(frame)) + FIRST_DATA_ROW)
    long = cells.stack().dropna().rename("value").to_frame()
    try:
        values = numeric_column(long, "value", path)
    except InputError as error:
        row, column = long.index[error.row - FIRST_DATA_ROW]
        raise InputError(error.message, file=path, row=int(row), column=column) from None
    published = pd.Series(
        values.to_numpy(),
        index=pd.MultiIndex.from_arrays(
            [participants.to_numpy()[long.index.get_level_values(0) - FIRST_DATA_ROW],
             long.index.get_level_values(1)],
            names=["participant", "item"],
        ),
        name="published",
    )
    merged = votes.set_index(["participant", "item"])["vote"].to_frame().join(published, how="inner")
    differs = merged["vote"] != merged["published"]
    if differs.any():
        cast = pd.MultiIndex.from_frame(history[["participant", "item", "vote"]])
        claimed = pd.MultiIndex.from_arrays(
            [merged.index.get_level_values(0), merged.index.get_level_values(1), merged["published"]]
        )
        differs &= ~claimed.isin(cast)
    if differs.any():
        participant, item = merged.index[np.flatnonzero(differs.to_numpy())[0]]
        row = int(np.flatnonzero((participants == participant).to_numpy())[0]) + FIRST_DATA_ROW
        raise InputError(
            f"participant {participant}'s latest vote on statement {item} in {POLIS_VOTES} is "
            f"{merged['vote'][differs].iloc[0]:g} but this file says "
            f"{merged['published'][differs].iloc[0]:g} (are the files from the same export?)",
            file=path, row=row, column=item,
        )


def read_polis_export(
    folder: str | Path, *, source: str | None = None, keep_moderated_out: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a Polis export folder into ``(contributions, votes)``.

    Both layouts Polis has published are read: the older one (and Polis'
    openData) with ``comments.csv``, ``votes.csv``, ``participants-votes.csv``
    and ``summary.csv``, and today's, whose files carry a prefix
    (``2025-08-29-0002-7btrabcujr-comments.csv``) and whose matrix is called
    ``participant-votes.csv``. A folder holds one export.

    - ``comments.csv`` (comment-id, comment-body, moderated, and timestamp and
      author-id when present): every statement not moderated out (``moderated``
      -1) becomes a contribution of kind ``statement`` whose ``contribution_id``
      is the comment id as text (``"12"``); unmoderated (0) and accepted (1)
      statements are kept, as Polis shows both unless moderation is strict.
      ``session`` is the conversation topic from ``summary.csv``.
    - ``votes.csv`` (timestamp, comment-id, voter-id, vote with 1 = agree,
      -1 = disagree, 0 = pass): only the latest vote of each voter on each
      statement counts (by timestamp; file order breaks ties). ``kind`` is
      ``agree_disagree``; ``participant`` is the voter id as text.
    - Timestamps (``created_at``, UTC) are epoch milliseconds in older exports and
      epoch seconds in today's; each file's unit is read from its values.
    - Votes on statements moderated out are left out, unless
      ``keep_moderated_out``: Polis' own maths keeps them, with the statement's
      column set to 0 for everyone, and they count towards a participant's
      number of votes. To follow Polis, read with ``keep_moderated_out=True``
      and pass ``exclude=votes.attrs["moderated_out"]`` to
      :func:`hwb_toolkit.voices.opinion.opinion_groups`. ``attrs["moderated_out"]``
      (both tables) lists the moderated-out statement ids as text either way.
    - ``participants-votes.csv`` (or ``participant-votes.csv``), when present, is
      Polis' own table of each participant's votes: every latest vote is checked
      against it, and a disagreement (for instance files from two different
      exports) is an error.
    - ``summary.csv`` fills ``session`` and is kept in ``contributions.attrs["polis"]``
      (see also :func:`read_polis_summary`; Polis' groups: :func:`read_polis_groups`).

    ``source`` defaults to the folder name. Polis ids are already anonymous and
    are kept as published; statement text is masked for personal details.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("Polis export folder not found", file=folder)
    source = source or folder.name
    summary = read_polis_summary(folder)
    topic = summary.get("topic") or None

    comments_path = _polis_path(folder, POLIS_COMMENTS)
    comments = read_table(comments_path)
    require_columns(comments, ["comment-id", "comment-body", "moderated"], comments_path)
    comment_ids = numeric_column(comments, "comment-id", comments_path, integer=True)
    moderated = numeric_column(comments, "moderated", comments_path, integer=True)
    rows = np.arange(len(comments)) + FIRST_DATA_ROW
    for values, column in ((comment_ids, "comment-id"), (moderated, "moderated")):
        if values.isna().any():
            position = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError("the cell is blank", file=comments_path, row=int(rows[position]), column=column)
    unknown_state = ~moderated.isin([-1.0, 0.0, 1.0])
    if unknown_state.any():
        position = int(np.flatnonzero(unknown_state.to_numpy())[0])
        raise InputError(
            f"{moderated.iloc[position]:g} is not a moderation state "
            "(-1 moderated out, 0 not yet moderated, 1 accepted)",
            file=comments_path, row=int(rows[position]), column="moderated",
        )
    ids = comment_ids.astype("int64").astype("str")
    kept = (moderated >= 0).to_numpy()
    moderated_out = ids[~kept].iloc[np.argsort(comment_ids[~kept].to_numpy(), kind="stable")].tolist()
    records = pd.DataFrame({
        "_row": rows,
        "contribution_id": ids.to_numpy(),
        "text": comments["comment-body"].to_numpy(),
        "session": topic,
    })
    # Statements in id order (Polis exports them newest first).
    records = records.loc[kept].iloc[np.argsort(comment_ids[kept].to_numpy(), kind="stable")]
    contributions = _finish_contributions(
        records, path=comments_path, source=source, kind="statement", pseudonym_key=None,
        source_columns={"contribution_id": "comment-id", "text": "comment-body"},
        drop_blank_text=False,
    )
    if "timestamp" in comments:
        stamps = numeric_column(comments, "timestamp", comments_path)
        created = _polis_times(stamps, file=comments_path, column="timestamp", rows=rows)
        created_by_id = pd.Series(created.to_numpy(), index=ids.to_numpy())
        contributions["created_at"] = (
            contributions["contribution_id"].map(created_by_id).astype(_DATETIME_DTYPE)
        )
    if "author-id" in comments:
        author = numeric_column(comments, "author-id", comments_path, integer=True)
        author_by_id = pd.Series(author.to_numpy(), index=ids.to_numpy())
        found = contributions["contribution_id"].map(author_by_id)
        contributions["author"] = (
            found.astype("Int64").astype("string").astype("str").where(found.notna())
        )

    votes_path = _polis_path(folder, POLIS_VOTES)
    raw = read_table(votes_path)
    require_columns(raw, ["timestamp", "comment-id", "voter-id", "vote"], votes_path)
    vote_rows = np.arange(len(raw)) + FIRST_DATA_ROW
    numbers = {
        column: numeric_column(raw, column, votes_path, integer=True)
        for column in ("timestamp", "comment-id", "voter-id", "vote")
    }
    for column, values in numbers.items():
        if values.isna().any():
            position = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError("the cell is blank", file=votes_path, row=int(vote_rows[position]), column=column)
    _check_vote_values(numbers["vote"], "agree_disagree", file=votes_path, column="vote", rows=vote_rows)
    item = numbers["comment-id"].astype("int64").astype("str")
    unknown = ~item.isin(ids)
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"vote on statement {item.iloc[position]}, which is not in {comments_path.name}",
            file=votes_path, row=int(vote_rows[position]), column="comment-id",
        )
    votes = pd.DataFrame({
        "source": source,
        "session": topic,
        "participant": numbers["voter-id"].astype("int64").astype("str"),
        "item": item,
        "vote": numbers["vote"].astype("float64"),
        "kind": "agree_disagree",
        "created_at": _polis_times(numbers["timestamp"], file=votes_path, column="timestamp",
                                   rows=vote_rows),
        "_timestamp": numbers["timestamp"],
    })
    history = votes
    votes = (
        votes.sort_values("_timestamp", kind="stable")
        .drop_duplicates(["participant", "item"], keep="last")
        .sort_index()
    )
    _check_against_participants_votes(votes, history, folder)
    if not keep_moderated_out:
        votes = votes[votes["item"].isin(set(contributions["contribution_id"]))]
    votes = votes[VOTE_COLUMNS].reset_index(drop=True)
    for column in ("source", "session", "participant", "item", "kind"):
        votes[column] = votes[column].astype("str")
    for frame in (contributions, votes):
        frame.attrs["polis"] = dict(summary)
        frame.attrs["moderated_out"] = list(moderated_out)
    return contributions, votes


