"""What people voted: dot votes, approval and ranked ballots, and agree/disagree polls.

Pure functions over the canonical votes table
(:data:`hwb_toolkit.schema.VOTE_COLUMNS`: ``participant, item, vote`` and the
vote's ``kind``). :func:`tally` turns ballots into one score per item, the way a
facilitator or a participatory-budgeting office publishes them, and
:func:`poll_summary` counts agree, disagree and pass per poll statement.

The tallies reproduce the published ``votes`` and ``score`` columns of real
participatory-budgeting ballots (pabulib, as its checker counts them:
``count_votes_per_project`` and ``count_points_per_project``): with
``count_entries=True``, ``votes`` is the number of ballot entries naming the
project, and ``score`` the points (cumulative ballots) or, for ranked ballots,
the modified Borda count (``method="modified_borda"``: a ballot's first choice
gets as many points as the ballot has entries).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.values import require_columns

#: Tally methods and the vote kind each one reads.
METHOD_KINDS = {
    "dot": "dot", "approval": "approval", "borda": "rank", "modified_borda": "rank"
}


def _check_kind(votes: pd.DataFrame, method: str) -> None:
    """Refuse to add up votes of another kind (an agree/disagree poll tallied as dots, say)."""
    if "kind" not in votes.columns:
        return
    kinds = set(votes["kind"].dropna().astype(str))
    wrong = kinds - {METHOD_KINDS[method]}
    if wrong:
        raise InputError(
            f"method {method!r} adds up {METHOD_KINDS[method]!r} votes, "
            f"but the table holds {', '.join(sorted(wrong))!s} votes",
            column="kind",
        )


def _first_bad(votes: pd.DataFrame, bad: pd.Series, message: str) -> None:
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        row = votes.iloc[position]
        raise InputError(
            f"participant {row['participant']!r}, item {row['item']!r}: {message}", column="vote"
        )


def order_items(frame: pd.DataFrame, by: list[str] | None = None, ascending=None) -> pd.DataFrame:
    """Sort by ``by`` then by ``item``, numerically when ids are numbers ("2" before "10")."""
    numbers = pd.to_numeric(frame["item"], errors="coerce")
    helper = frame.assign(_item_number=numbers, _item_text=frame["item"].astype(str))
    keys = (by or []) + ["_item_number", "_item_text"]
    order = list(ascending if ascending is not None else [True] * len(by or [])) + [True, True]
    return (
        helper.sort_values(keys, ascending=order, kind="stable", na_position="last")
        .drop(columns=["_item_number", "_item_text"])
        .reset_index(drop=True)
    )


def tally(
    votes: pd.DataFrame,
    method: str,
    *,
    cap: float | None = None,
    k: int | None = None,
    items=None,
    count_entries: bool = False,
) -> pd.DataFrame:
    """Add up ballots: one row per item with ``item``, ``voters`` and ``score``, best first.

    ``method``:

    - ``"dot"``: cumulative voting. ``vote`` is the number of dots a participant
      put on the item (rows for the same participant and item add up);
      ``cap`` limits what one participant can give one item (``tally(v, "dot",
      cap=3)``: a fourth dot on the same item does not count). ``score`` = dots.
    - ``"approval"``: ``vote`` is 1 (approved) or 0; ``score`` = approvals.
    - ``"borda"``: ``vote`` is the rank, 1 = top. Truncated Borda: with ``k``
      ranks allowed, rank 1 scores ``k`` and rank ``k`` scores 1, whatever the
      length of the participant's list; ``k`` defaults to the largest rank present.
    - ``"modified_borda"``: the modified Borda count, which is what pabulib
      publishes as ``score`` for ordinal ballots: a participant who ranks ``m``
      items gives ``m`` points to their first choice, ``m - 1`` to the second, ...,
      1 to the last, so a short list weighs less than a long one. Each
      participant's ranks must run 1, 2, ..., ``m``; ``k`` is not used. On ballots
      that all rank the same number of items it equals ``"borda"``.

    ``voters`` is the number of participants who gave the item anything.
    ``count_entries=True`` counts ballot entries the way pabulib publishes its
    ``votes`` column instead, and the column is then called ``votes``: every row
    is one entry naming the item, so an entry with 0 points counts (a cumulative
    ballot that lists a project with 0 points), and an item a ballot names twice
    counts twice and scores at each mention (an approval at each, a rank's
    points at each position). ``cap`` still limits what one participant gives
    one item.

    ``items`` (optional): every item on the ballot, so those nobody chose appear
    with 0. Rows are ordered by score (highest first), ties by item id
    (numerically when ids are numbers). Raises :class:`InputError` for
    negative dots, approvals other than 0/1, ranks that are not whole numbers
    from 1 to ``k`` (for ``"modified_borda"``: from 1 to the list's length), an
    item ranked twice by one participant (unless ``count_entries``), or votes of
    another kind.
    """
    if method not in METHOD_KINDS:
        raise InputError(f"unknown tally method {method!r}; use one of {', '.join(METHOD_KINDS)}")
    require_columns(votes, ["participant", "item", "vote"], table="votes")
    _check_kind(votes, method)
    frame = votes[["participant", "item", "vote"]].copy()
    frame["item"] = frame["item"].astype(str)
    frame["vote"] = pd.to_numeric(frame["vote"], errors="coerce").astype("float64")
    _first_bad(frame, frame["vote"].isna(), "the vote is not a number")
    pairs = pd.MultiIndex.from_frame(frame[["participant", "item"]])
    entries = np.ones(len(frame), dtype=bool)  # rows that are ballot entries (count_entries)

    if method == "dot":
        _first_bad(frame, frame["vote"] < 0, "a negative number of dots")
        given = frame.groupby(["participant", "item"], sort=False)["vote"].sum()
        if cap is not None:
            given = given.clip(upper=cap)
        points = given
    elif method == "approval":
        _first_bad(frame, ~frame["vote"].isin([0.0, 1.0]), "an approval vote is 1 or 0")
        if count_entries:
            points = frame["vote"].set_axis(pairs)
        else:
            points = frame.groupby(["participant", "item"], sort=False)["vote"].max()
        entries = (frame["vote"] == 1.0).to_numpy()  # a 0 is a recorded non-approval
    else:
        ranks = frame["vote"]
        _first_bad(frame, (ranks < 1) | (ranks != np.floor(ranks)), "a rank is a whole number from 1")
        if not count_entries:
            _first_bad(
                frame, frame.duplicated(["participant", "item"]), "the item is ranked twice"
            )
        if method == "borda":
            top = int(ranks.max()) if k is None else int(k)
            _first_bad(frame, ranks > top, f"rank above the {top} ranks allowed")
            points = (top + 1 - ranks).set_axis(pairs)
        else:
            # m entries with distinct whole ranks from 1 to m: the ranks are 1, 2, ..., m.
            length = frame.groupby("participant", sort=False)["vote"].transform("size")
            _first_bad(
                frame, frame.duplicated(["participant", "vote"]), "two items share this rank"
            )
            _first_bad(
                frame, ranks > length, "a rank above the number of items the participant ranked"
            )
            points = (length + 1 - ranks).set_axis(pairs)

    if count_entries:
        counted = pd.Series(entries, index=pairs).groupby(level="item").sum()
        count_column = "votes"
    else:
        counted = (points > 0).groupby(level="item").sum()
        count_column = "voters"
    by_item = pd.DataFrame({
        count_column: counted,
        "score": points.groupby(level="item").sum(),
    })
    if items is not None:
        by_item = by_item.reindex(by_item.index.union(pd.Index([str(i) for i in items])), fill_value=0)
    result = by_item.rename_axis("item").reset_index()
    result["item"] = result["item"].astype("str")
    result[count_column] = result[count_column].astype("int64")
    result["score"] = result["score"].astype("float64")
    return order_items(result, ["score"], [False])


def latest_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Each participant's latest vote on each item (by ``created_at`` when known, else row order)."""
    require_columns(votes, ["participant", "item", "vote"], table="votes")
    frame = votes.reset_index(drop=True)
    if "created_at" in frame.columns and frame["created_at"].notna().any():
        # NaT sorts first, so a timed vote beats an untimed one; ties keep row order.
        frame = frame.sort_values("created_at", kind="stable", na_position="first")
    return frame.drop_duplicates(["participant", "item"], keep="last").sort_index()


def poll_summary(votes: pd.DataFrame) -> pd.DataFrame:
    """Agree/disagree/pass counts and shares per poll statement.

    ``votes``: ``participant, item, vote`` with 1 agree, -1 disagree, 0 pass;
    only each participant's latest vote on an item counts (:func:`latest_votes`).
    Returns one row per item (ordered by item id) with ``agree``, ``disagree``,
    ``pass``, ``votes`` (all three) and ``agree_share``, ``disagree_share``,
    ``pass_share`` (proportions 0-1 of the votes on that item).
    """
    if "kind" in votes.columns:
        wrong = set(votes["kind"].dropna().astype(str)) - {"agree_disagree"}
        if wrong:
            raise InputError(
                f"a poll summary reads agree_disagree votes, not {', '.join(sorted(wrong))}",
                column="kind",
            )
    latest = latest_votes(votes)
    values = pd.to_numeric(latest["vote"], errors="coerce")
    _first_bad(latest, ~values.isin([-1.0, 0.0, 1.0]), "a poll vote is 1, -1 or 0")
    counts = (
        pd.crosstab(latest["item"].astype(str), values)
        .reindex(columns=[1.0, -1.0, 0.0], fill_value=0)
        .set_axis(["agree", "disagree", "pass"], axis=1)
        .astype("int64")
    )
    summary = counts.rename_axis("item").reset_index()
    summary["votes"] = summary[["agree", "disagree", "pass"]].sum(axis=1)
    for column in ("agree", "disagree", "pass"):
        summary[f"{column}_share"] = summary[column] / summary["votes"]
    summary.columns.name = None
    return order_items(summary)
