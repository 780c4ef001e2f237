"""Participatory-budgeting ballots in pabulib's ``.pb`` format into projects and votes."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    decode_text,
    numeric_column,
)
from hwb_toolkit.io.voices.common import _DATETIME_DTYPE
from hwb_toolkit.values import require_columns

# --- pabulib ----------------------------------------------------------------
_PABULIB_SECTIONS = ("META", "PROJECTS", "VOTES")
#: pabulib vote_type -> canonical vote kind. ``choose-1`` (each ballot names one
#: project) is an approval ballot with one approval.
_PABULIB_KIND = {
    "approval": "approval", "choose-1": "approval", "cumulative": "dot", "scoring": "dot",
    "ordinal": "rank",
}


def _pabulib_sections(path: Path) -> dict[str, tuple[list[str], list[list[str]], list[int]]]:
    """Split a .pb file into sections: name -> (header, rows, line number of each row)."""
    raw = path.read_bytes() if path.exists() else None
    if raw is None:
        raise InputError("file not found", file=path)
    if not raw.strip():
        raise InputError("the file is empty", file=path)
    reader = csv.reader(io.StringIO(decode_text(raw, path)), delimiter=";")
    sections: dict[str, tuple[list[str], list[list[str]], list[int]]] = {}
    current: str | None = None
    for cells in reader:
        line = reader.line_num
        if not cells or all(not cell.strip() for cell in cells):
            continue
        marker = cells[0].strip().upper()
        if len(cells) == 1 and marker in _PABULIB_SECTIONS:
            if marker in sections:
                raise InputError(f"the {marker} section appears twice", file=path, row=line)
            current = marker
            sections[current] = ([], [], [])
            continue
        if current is None:
            raise InputError(
                "a pabulib file starts with a META, PROJECTS or VOTES line", file=path, row=line
            )
        header, rows, lines = sections[current]
        if not header:
            header.extend(cell.strip() for cell in cells)
            continue
        if len(cells) != len(header):
            if current == "META" and len(cells) > 2:
                cells = [cells[0], ";".join(cells[1:])]  # an unquoted ';' inside a value
            else:
                raise InputError(
                    f"{len(cells)} fields where the {current} header has {len(header)}",
                    file=path, row=line,
                )
        rows.append([cell.strip() for cell in cells])
        lines.append(line)
    for name in _PABULIB_SECTIONS:
        if name not in sections:
            raise InputError(f"the {name} section is missing", file=path)
    return sections


def _pabulib_numeric(frame: pd.DataFrame, column: str, path: Path, lines, **checks) -> pd.Series:
    """:func:`numeric_column` reporting the file line instead of a spreadsheet row."""
    try:
        return numeric_column(frame, column, path, **checks)
    except InputError as error:
        line = lines[error.row - FIRST_DATA_ROW] if error.row is not None else None
        raise InputError(error.message, file=path, row=line, column=column) from None


def read_pabulib(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Read participatory-budgeting ballots in pabulib's ``.pb`` format.

    Returns ``(projects, votes, meta)``:

    - ``projects``: the PROJECTS section, one row per project, ``project_id`` as
      text, ``cost``, ``votes``, ``score`` (when published) as numbers, other
      columns (name, category, selected, ...) as text.
    - ``votes``: canonical votes (:data:`~hwb_toolkit.schema.VOTE_COLUMNS`), one
      row per entry of a ballot: ``approval`` and ``choose-1`` ballots -> kind
      ``approval``, vote 1; ``cumulative`` (and ``scoring``) -> kind ``dot``,
      vote = the points the entry gives (0 included: the voter still listed the
      project); ``ordinal`` -> kind ``rank``, vote = position in the voter's list
      (1 = top). Entries are read as pabulib's own checker counts them: blank
      entries (``"3,,5"``) are skipped, and a ballot that names a project twice
      gives two rows (a warning names the first such line); a ``choose-1``
      ballot naming several projects is read likewise, with a warning.
      ``tally(votes, ..., count_entries=True)`` then reproduces pabulib's
      ``votes`` column and, with ``method="modified_borda"`` for ordinal ballots,
      its ``score``. ``participant`` is pabulib's ``voter_id``; voter columns
      such as age or sex are not kept. ``source`` is the file name and
      ``session`` the META ``description``.
    - ``meta``: the META section as a dict of text values (vote_type, budget,
      num_votes, max_points, ...).

    Errors name the file, the line (a .pb file has several headers, so ``row``
    is the line number) and the column. Counts that disagree with META's
    num_projects / num_votes give a warning.
    """
    path = Path(path)
    sections = _pabulib_sections(path)
    meta_header, meta_rows, _ = sections["META"]
    meta = {row[0]: row[1] if len(row) > 1 else "" for row in meta_rows}
    vote_type = meta.get("vote_type", "").strip().casefold()
    if vote_type not in _PABULIB_KIND:
        raise InputError(
            f"vote_type {meta.get('vote_type')!r} is not one of {', '.join(_PABULIB_KIND)}",
            file=path, column="vote_type",
        )

    header, rows, lines = sections["PROJECTS"]
    projects = pd.DataFrame(rows, columns=header, dtype="str").replace({"": np.nan})
    require_columns(projects, ["project_id"], path)
    for column in ("cost", "votes", "score"):
        if column in projects:
            projects[column] = _pabulib_numeric(projects, column, path, lines, minimum=0)
    project_ids = projects["project_id"].astype("str")
    duplicated = project_ids.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(f"project {project_ids.iloc[position]!r} is listed twice",
                         file=path, row=lines[position], column="project_id")

    header, rows, lines = sections["VOTES"]
    ballots = pd.DataFrame(rows, columns=header, dtype="str")
    require_columns(ballots, ["voter_id", "vote"], path)
    needs_points = vote_type in ("cumulative", "scoring")
    if needs_points:
        require_columns(ballots, ["points"], path)
    ballots["_line"] = lines
    ballots = ballots[ballots["vote"].str.strip() != ""]  # a blank ballot names no project

    def entries(column: str) -> pd.Series:
        # One row per entry, indexed by ballot; blank entries are skipped, as pabulib does.
        split = ballots[column].str.split(",").explode().str.strip()
        return split[split.notna() & (split != "")]

    long = entries("vote").rename("item").to_frame().join(ballots[["voter_id", "_line"]])
    long["position"] = long.groupby(level=0).cumcount() + 1
    unknown = ~long["item"].isin(set(project_ids))
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"project {long['item'].iloc[position]!r} is not in PROJECTS",
                         file=path, row=int(long["_line"].iloc[position]), column="vote")
    for bad, message in (
        (long.index.duplicated() & (vote_type == "choose-1"),
         "a choose-1 ballot names more than one project; each entry is counted"),
        (long.assign(_ballot=long.index).duplicated(["_ballot", "item"]).to_numpy(),
         "a ballot names a project twice; each mention is counted, as pabulib counts them"),
    ):
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            warnings.warn(
                f"{path}, line {int(long['_line'].iloc[position])}: {message} "
                f"({int(bad.sum())} in the file)",
                UserWarning, stacklevel=2,
            )
    if needs_points:
        points = entries("points")
        per_ballot = pd.DataFrame({"projects": long.groupby(level=0).size(),
                                   "points": points.groupby(level=0).size()}).fillna(0)
        mismatch = per_ballot["projects"] != per_ballot["points"]
        if mismatch.any():
            ballot = per_ballot.index[np.flatnonzero(mismatch.to_numpy())[0]]
            raise InputError("the ballot has a different number of points and projects",
                             file=path, row=int(ballots.loc[ballot, "_line"]), column="points")
        point_frame = pd.DataFrame({"points": points.to_numpy()})
        values = _pabulib_numeric(point_frame, "points", path, long["_line"].to_numpy(), minimum=0)
        vote = values.to_numpy()
    elif vote_type == "ordinal":
        vote = long["position"].to_numpy(dtype="float64")
    else:
        vote = np.ones(len(long))
    votes = pd.DataFrame({
        "source": path.name,
        "session": meta.get("description") or None,
        "participant": long["voter_id"].to_numpy(),
        "item": long["item"].to_numpy(),
        "vote": vote.astype("float64"),
        "kind": _PABULIB_KIND[vote_type],
        "created_at": pd.Series(pd.NaT, index=range(len(long)), dtype=_DATETIME_DTYPE),
    })
    for column in ("source", "session", "participant", "item", "kind"):
        votes[column] = votes[column].astype("str")

    for key, found, what in (("num_projects", len(projects), "projects"),
                             ("num_votes", len(sections["VOTES"][1]), "ballots")):
        if key in meta and meta[key].strip().isdigit() and int(meta[key]) != found:
            warnings.warn(f"{path}: META says {key} {meta[key]} but the file has {found} {what}",
                          UserWarning, stacklevel=2)
    return projects.reset_index(drop=True), votes, meta
