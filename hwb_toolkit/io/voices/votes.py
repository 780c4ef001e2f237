"""Vote files (dots, approval, rank, agree/disagree) into the canonical votes table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    numeric_column,
    read_table,
)
from hwb_toolkit.io.voices.common import _DATETIME_DTYPE, _clean_text, parse_datetimes
from hwb_toolkit.privacy import pseudonymise
from hwb_toolkit.schema import (
    VOTE_COLUMNS,
    VOTE_KINDS,
)
from hwb_toolkit.values import require_columns

# --- votes ------------------------------------------------------------------
_VOTE_RULES = {
    # kind: (allowed values or None, minimum, whole numbers only)
    "dot": (None, 0.0, False),
    "approval": ({0.0, 1.0}, None, True),
    "rank": (None, 1.0, True),
    "agree_disagree": ({-1.0, 0.0, 1.0}, None, True),
}


def _check_vote_values(values: pd.Series, kind: str, *, file, column, rows) -> None:
    allowed, _, _ = _VOTE_RULES[kind]
    if allowed is None:
        return
    bad = values.notna() & ~values.isin(allowed)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{values.iloc[position]:g} is not a valid {kind} vote "
            f"(allowed: {', '.join(f'{v:g}' for v in sorted(allowed))})",
            file=file, row=int(rows[position]), column=column,
        )


def read_votes(
    path: str | Path,
    kind: str,
    *,
    source: str | None = None,
    session: str | None = None,
    pseudonym_key: str | bytes | None = None,
) -> pd.DataFrame:
    """Read a CSV/XLSX of votes (``participant, item, vote``) into the canonical votes table.

    ``kind`` (one of :data:`~hwb_toolkit.schema.VOTE_KINDS`) says what ``vote``
    means: ``dot`` = dots given (>= 0), ``approval`` = 1 (or 0), ``rank`` = 1 for
    the top choice, 2, ..., ``agree_disagree`` = 1 agree, -1 disagree, 0 pass.
    For ``dot`` and ``approval`` the ``vote`` column may be left out: each row is
    then one dot or one approval. Optional columns ``source``, ``session`` and
    ``created_at`` are read where present; ``source`` (default: the file name)
    and ``session`` fill them where the file has none. Participants are
    pseudonymised like authors (the same key gives the same pseudonym, so a
    person's votes and contributions stay linked). Every row is kept as read;
    :func:`hwb_toolkit.voices.votes.tally` adds up dots and
    :func:`hwb_toolkit.voices.votes.poll_summary` keeps each participant's latest
    poll vote.
    """
    path = Path(path)
    if kind not in VOTE_KINDS:
        raise ConfigError(f"unknown vote kind {kind!r}; use one of {', '.join(VOTE_KINDS)}", file=path)
    frame = read_table(path)
    if frame.empty:
        raise InputError("the file has a header but no rows", file=path)
    required = ["participant", "item"] + ([] if kind in ("dot", "approval") else ["vote"])
    require_columns(frame, required, path)
    rows = np.arange(len(frame)) + FIRST_DATA_ROW
    for column in ("participant", "item"):
        blank = _clean_text(frame[column]).isna()
        if blank.any():
            position = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError(f"the {column} is blank", file=path, row=int(rows[position]), column=column)
    _, minimum, integer = _VOTE_RULES[kind]
    if "vote" in frame:
        votes = numeric_column(frame, "vote", path, minimum=minimum, integer=integer)
        blank = votes.isna()
        if blank.any():
            position = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError("the vote is blank", file=path, row=int(rows[position]), column="vote")
        _check_vote_values(votes, kind, file=path, column="vote", rows=rows)
    else:
        votes = pd.Series(1.0, index=frame.index)
    out = pd.DataFrame({
        "source": (_clean_text(frame["source"]).fillna(source or path.name) if "source" in frame
                   else pd.Series(source or path.name, index=frame.index, dtype="str")),
        "session": (_clean_text(frame["session"]).fillna(session) if "session" in frame
                    else pd.Series(session, index=frame.index, dtype="str")),
        "participant": pseudonymise(_clean_text(frame["participant"]), pseudonym_key),
        "item": _clean_text(frame["item"]),
        "vote": votes.astype("float64"),
        "kind": pd.Series(kind, index=frame.index, dtype="str"),
        "created_at": (parse_datetimes(frame["created_at"], file=path, column="created_at", rows=rows)
                       if "created_at" in frame
                       else pd.Series(pd.NaT, index=frame.index, dtype=_DATETIME_DTYPE)),
    })
    for column in ("source", "session", "participant", "item", "kind"):
        out[column] = out[column].astype("str")
    return out[VOTE_COLUMNS].reset_index(drop=True)


