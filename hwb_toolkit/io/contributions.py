"""Reading what people said and voted: every voices export into the canonical tables.

Workshops, surveys and polls arrive in many shapes: a post-it wall typed into a
spreadsheet, a Microsoft or Google Forms download, Mentimeter's voters sheet,
open-space proceedings, dot-vote tallies, a Polis export, participatory-budgeting
ballots in pabulib's ``.pb`` format. The readers here turn each into the
canonical contributions table (:data:`hwb_toolkit.schema.CONTRIBUTION_COLUMNS`)
or votes table (:data:`hwb_toolkit.schema.VOTE_COLUMNS`), so the engines in
:mod:`hwb_toolkit.voices` see one shape only.

Conventions shared by every reader:

- Files are decoded, and problems reported, through :mod:`hwb_toolkit.io.tabular`:
  an unusable file raises :class:`~hwb_toolkit.errors.InputError` (or
  :class:`~hwb_toolkit.errors.SchemaError` for missing columns) naming the file,
  the row as a spreadsheet shows it (header = row 1; for ``.pb`` files, which
  have several headers, the line number) and the column.
- Privacy on the way in: ``author`` (and a vote's ``participant``) is replaced by
  a keyed pseudonym (:func:`hwb_toolkit.voices.privacy.pseudonymise`; key from the
  ``pseudonym_key`` argument or ``$HWB_PSEUDONYM_KEY``). Personal details in ``text``
  (emails, phone numbers, postcodes, NHS and National Insurance numbers) are masked
  where contributions enter the published tables,
  :meth:`hwb_toolkit.io.workspace.Workspace.contributions`, for these files and the
  shared store alike. Polis and pabulib ids are already anonymous numbers published
  as open data; they are kept as they are so results can be compared with the
  published ones.
- Text is kept verbatim apart from surrounding white space.
- ``created_at`` is UTC (``datetime64[us, UTC]``, NaT when unknown). ISO 8601
  strings, epoch seconds or milliseconds and day-first dates (``05/03/2024``, the
  UK convention) are accepted; times without a zone are taken as UTC.
- ``sector`` is mapped onto :data:`hwb_toolkit.schema.SECTORS` with
  :func:`normalise_sector` (``"NHS"``/``"Health"`` -> ``nhs``,
  ``"Charity"``/``"Voluntary"``/``"Community"`` -> ``vcse``, ...). A value it does
  not recognise is refused (naming file, row and the valid sectors) in files the
  partnership prepares (canonical, open space, a dict mapping); in form exports,
  where the sector is whatever a respondent typed, it becomes ``other`` and a
  :class:`SectorWarning` lists the rows.
- A contribution without an id gets ``<source slug>-<row>`` (``-q<n>`` added for
  the n-th question of a form), so the same file always gives the same ids.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError, InputWarning, SchemaError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    decode_text,
    numeric_column,
    read_table,
    require_columns,
)
from hwb_toolkit.privacy import pseudonymise
from hwb_toolkit.schema import (
    CONTRIBUTION_COLUMNS,
    CONTRIBUTION_KINDS,
    SECTORS,
    VOTE_COLUMNS,
    VOTE_KINDS,
)

#: Ready mappings accepted by :func:`read_contributions` (besides a dict).
MAPPINGS = ("canonical", "microsoft_forms", "google_forms", "mentimeter", "open_space")

#: Extra column :func:`read_contributions` adds for open-space proceedings: how
#: many people took part in the session (names are not kept). Not canonical: the
#: store and the workspace keep only :data:`CONTRIBUTION_COLUMNS`.
PARTICIPANTS_COLUMN = "participants"

_DATETIME_DTYPE = "datetime64[us, UTC]"
_STRING_COLUMNS = [c for c in CONTRIBUTION_COLUMNS if c != "created_at"]


class SectorWarning(InputWarning):
    """Some sector values were not recognised and were read as ``other``."""


# --- sectors -----------------------------------------------------------------
_SECTOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "council": (
        "council", "local authority", "la", "local government", "borough council",
        "city council", "county council", "district council", "parish council",
        "unitary authority", "public health",  # public health teams sit in councils in England
    ),
    "nhs": (
        "nhs", "health", "health service", "healthcare", "health care", "icb",
        "integrated care board", "nhs trust", "hospital", "gp", "general practice",
        "primary care", "pcn", "primary care network", "community health",
        "ambulance", "mental health trust",
    ),
    "vcse": (
        "vcse", "vcs", "vcfse", "voluntary", "voluntary sector", "charity", "charities",
        "community", "community group", "community organisation", "community organization",
        "third sector", "faith", "faith group", "social enterprise", "not for profit",
        "nonprofit", "non profit", "voluntary and community", "voluntary and community sector",
    ),
    "business": (
        "business", "businesses", "private", "private sector", "employer", "company",
        "commercial", "industry", "retail", "sme", "local business",
    ),
    "resident": (
        "resident", "residents", "local resident", "public", "member of the public",
        "citizen", "community member", "individual", "patient", "carer", "service user",
    ),
    "other": ("other",),
}
_SECTOR_LOOKUP = {
    synonym: sector for sector, synonyms in _SECTOR_SYNONYMS.items() for synonym in synonyms
}
# Single words that settle the sector of a longer name ("Leeds City Council").
_SECTOR_WORDS = {
    "council": "council", "nhs": "nhs", "hospital": "nhs", "charity": "vcse",
    "voluntary": "vcse", "vcse": "vcse", "business": "business", "resident": "resident",
}


def _squash_sector(value: str) -> str:
    text = value.casefold().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"\s+sector$", "", text) if text != "sector" else text


def normalise_sector(
    values: pd.Series,
    *,
    file: str | Path | None = None,
    column: str | None = "sector",
    rows: Sequence[int] | None = None,
    strict: bool = False,
) -> pd.Series:
    """Map free-text sector names onto :data:`hwb_toolkit.schema.SECTORS`.

    Case, punctuation and a trailing "sector" are ignored; common synonyms are
    recognised (``"NHS"``, ``"Health"``, ``"ICB"`` -> ``nhs``; ``"Voluntary"``,
    ``"Charity"``, ``"Community"`` -> ``vcse``; ``"Local authority"``,
    ``"Public health"`` -> ``council``; ``"Private"`` -> ``business``;
    ``"Public"``, ``"Citizen"`` -> ``resident``), as are longer names holding a
    telling word (``"Leeds City Council"``). Blank stays missing. Anything else
    becomes ``other`` and one :class:`SectorWarning` names the values and the
    rows (``rows``: spreadsheet row of each value; default header + position);
    with ``strict``, the first such value raises :class:`InputError` instead.
    """
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    squashed = text.where(~blank).map(_squash_sector, na_action="ignore")
    mapped = squashed.map(_SECTOR_LOOKUP)

    def by_word(name):
        hits = [_SECTOR_WORDS[word] for word in str(name).split() if word in _SECTOR_WORDS]
        return hits[0] if hits else None

    unmatched = mapped.isna() & ~blank
    if unmatched.any():
        mapped[unmatched] = squashed[unmatched].map(by_word)
    unknown = mapped.isna() & ~blank
    if unknown.any():
        row_numbers = (
            np.asarray(rows) if rows is not None else np.arange(len(values)) + FIRST_DATA_ROW
        )
        positions = np.flatnonzero(unknown.to_numpy())
        if strict:
            raise InputError(
                f"{text.iloc[positions[0]]!r} is not a sector: use one of "
                f"{', '.join(SECTORS)} (or a common name for one, such as 'NHS' or 'charity')",
                file=file, row=int(row_numbers[positions[0]]), column=column,
            )
        shown = ", ".join(
            f"row {row_numbers[p]} {text.iloc[p]!r}" for p in positions[:10]
        ) + (f" and {len(positions) - 10} more" if len(positions) > 10 else "")
        where = ", ".join(part for part in (str(file) if file else None,
                                            f"column '{column}'" if column else None) if part)
        warnings.warn(
            f"{where}: sector not recognised, read as 'other' ({shown}); "
            f"use one of {', '.join(SECTORS)}",
            SectorWarning,
            stacklevel=3,
        )
        mapped[unknown] = "other"
    return mapped.astype("str").where(~blank)


# --- small helpers ------------------------------------------------------------
def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).casefold()).strip("-")
    return slug or "contribution"


def _clean_text(values: pd.Series) -> pd.Series:
    """Strip white space; blank cells become missing. Result dtype: str."""
    text = values.astype("string").str.strip()
    return text.where(text != "").astype("str")


def parse_datetimes(
    values: pd.Series,
    *,
    file: str | Path | None,
    column: str | None,
    rows: Sequence[int] | None = None,
) -> pd.Series:
    """Parse a text column of dates and times into UTC ``datetime64[us, UTC]``.

    Accepts ISO 8601 (with or without a zone), epoch numbers (milliseconds when
    above 1e11, else seconds), year-first dates (``2024/03/05 10:15``) and
    day-first dates (``05/03/2024 10:15``, the UK reading). Times without a zone
    are taken as UTC. Blank cells become NaT; anything else that cannot be read
    raises :class:`InputError` naming the row (``rows``: spreadsheet row of each
    value; default header + position) and column.
    """
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    result = pd.Series(pd.NaT, index=values.index, dtype=_DATETIME_DTYPE)
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    is_number = numbers.notna()
    if is_number.any():
        millis = is_number & (numbers.abs() > 1e11)
        seconds = is_number & ~millis
        result[millis] = pd.to_datetime(numbers[millis], unit="ms", utc=True)
        result[seconds] = pd.to_datetime(numbers[seconds], unit="s", utc=True)
    rest = ~blank & ~is_number
    if rest.any():
        result[rest] = pd.to_datetime(text[rest], format="ISO8601", utc=True, errors="coerce")
        left = rest & result.isna()
        year_first = left & text.str.match(r"^\d{4}\D").fillna(False).astype(bool)
        day_first = left & ~year_first
        for mask, dayfirst in ((year_first, False), (day_first, True)):
            if mask.any():
                result[mask] = pd.to_datetime(
                    text[mask], format="mixed", dayfirst=dayfirst, utc=True, errors="coerce"
                )
    bad = ~blank & result.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        row = rows[position] if rows is not None else position + FIRST_DATA_ROW
        raise InputError(
            f"{text.iloc[position]!r} is not a date and time", file=file, row=int(row), column=column
        )
    return result


def _normalise_kind(values: pd.Series, default: str | None, *, file, column, rows) -> pd.Series:
    text = values.astype("string").str.strip().str.casefold().str.replace(r"[\s-]+", "_", regex=True)
    text = text.where(text != "")
    if default is not None:
        default_kind = re.sub(r"[\s-]+", "_", default.strip().casefold())
        if default_kind not in CONTRIBUTION_KINDS:
            raise ConfigError(
                f"unknown contribution kind {default!r}; use one of {', '.join(CONTRIBUTION_KINDS)}",
                file=file,
            )
        text = text.fillna(default_kind)
    missing = text.isna()
    if missing.any():
        position = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError(
            "no kind for this contribution: add a 'kind' column or give kind= "
            f"({', '.join(CONTRIBUTION_KINDS)})",
            file=file, row=int(rows[position]), column=column,
        )
    unknown = ~text.isin(CONTRIBUTION_KINDS)
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"unknown kind {values.iloc[position]!r}; use one of {', '.join(CONTRIBUTION_KINDS)}",
            file=file, row=int(rows[position]), column=column,
        )
    return text.astype("str")


def _finish_contributions(
    frame: pd.DataFrame,
    *,
    path: Path,
    source: str,
    kind: str | None,
    pseudonym_key,
    source_columns: Mapping[str, str],
    drop_blank_text: bool,
    free_text_sectors: bool = False,
) -> pd.DataFrame:
    """Validate and complete a frame holding canonical-named columns.

    ``frame`` carries ``_row`` (spreadsheet row of each record), optionally
    ``_text_column`` (the file column each text came from) and ``_id_suffix``.
    ``source_columns`` maps canonical names to the file's column names so errors
    name what the user sees. ``free_text_sectors``: the sectors are what people
    typed (a form), so one not recognised is read as ``other`` with a warning
    rather than refused.
    """
    frame = frame.reset_index(drop=True)
    rows = frame["_row"].to_numpy()

    def where(canonical: str) -> str:
        return source_columns.get(canonical, canonical)

    text = _clean_text(frame["text"]) if "text" in frame else pd.Series(np.nan, index=frame.index)
    blank = text.isna()
    if blank.any():
        if not drop_blank_text:
            position = int(np.flatnonzero(blank.to_numpy())[0])
            column = (
                frame["_text_column"].iloc[position] if "_text_column" in frame else where("text")
            )
            raise InputError(
                "the contribution has no text", file=path, row=int(rows[position]), column=column
            )
        frame, text = frame.loc[~blank].reset_index(drop=True), text[~blank].reset_index(drop=True)
        rows = frame["_row"].to_numpy()

    out = pd.DataFrame(index=frame.index)
    slug = _slug(source)
    generated = pd.Series(
        [f"{slug}-{row}" for row in rows], index=frame.index, dtype="str"
    )
    if "_id_suffix" in frame:
        generated = generated + frame["_id_suffix"].astype("str")
    given_ids = _clean_text(frame["contribution_id"]) if "contribution_id" in frame else None
    ids = generated if given_ids is None else given_ids.fillna(generated)
    duplicated = ids.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        first = int(np.flatnonzero((ids == ids.iloc[position]).to_numpy())[0])
        raise InputError(
            f"contribution id {ids.iloc[position]!r} is used twice (first in row {rows[first]})",
            file=path, row=int(rows[position]), column=where("contribution_id"),
        )
    out["contribution_id"] = ids
    out["source"] = (
        _clean_text(frame["source"]).fillna(source) if "source" in frame
        else pd.Series(source, index=frame.index, dtype="str")
    )
    out["session"] = _clean_text(frame["session"]) if "session" in frame else np.nan
    kinds = frame["kind"] if "kind" in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    out["kind"] = _normalise_kind(kinds, kind, file=path, column=where("kind"), rows=rows)
    out["text"] = text
    out["author"] = (
        pseudonymise(_clean_text(frame["author"]), pseudonym_key) if "author" in frame else np.nan
    )
    out["organisation"] = _clean_text(frame["organisation"]) if "organisation" in frame else np.nan
    out["sector"] = (
        normalise_sector(frame["sector"], file=path, column=where("sector"), rows=rows,
                         strict=not free_text_sectors)
        if "sector" in frame else np.nan
    )
    out["created_at"] = (
        parse_datetimes(frame["created_at"], file=path, column=where("created_at"), rows=rows)
        if "created_at" in frame
        else pd.Series(pd.NaT, index=frame.index, dtype=_DATETIME_DTYPE)
    )
    out["theme"] = _clean_text(frame["theme"]) if "theme" in frame else np.nan
    out["area_code"] = _clean_text(frame["area_code"]) if "area_code" in frame else np.nan
    for column in _STRING_COLUMNS:
        out[column] = out[column].astype("str")
    if PARTICIPANTS_COLUMN in frame:
        out[PARTICIPANTS_COLUMN] = frame[PARTICIPANTS_COLUMN].astype("Int64")
    return out


# --- form exports -----------------------------------------------------------
_ROLE_VOCABULARY = {
    "organisation": {"your", "which", "what", "organisation", "organization", "name", "do", "you",
                     "work", "for", "at", "represent", "are", "from", "is", "the", "of"},
    "sector": {"your", "which", "what", "sector", "do", "you", "work", "in", "are", "from", "is",
               "the", "of", "does", "organisation", "organization", "belong", "to"},
    "author": {"your", "full", "name", "first", "email", "e", "mail", "address"},
}
_ROLE_WORDS = {
    "organisation": {"organisation", "organization"},
    "sector": {"sector"},
    "author": {"name", "email"},
}


def _question_role(header: str) -> str | None:
    """'organisation', 'sector' or 'author' for a form question that asks who is answering."""
    words = set(re.findall(r"[a-z]+", header.casefold()))
    for role in ("sector", "organisation", "author"):
        if words and words <= _ROLE_VOCABULARY[role] and words & _ROLE_WORDS[role]:
            return role
    return None


def _explode_questions(
    frame: pd.DataFrame,
    questions: list[str],
    respondent: dict[str, pd.Series],
    numbering: Mapping[str, int],
    session_of: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One record per (respondent, answered question); the question becomes the session."""
    wide = pd.DataFrame({"_row": np.arange(len(frame)) + FIRST_DATA_ROW, **respondent})
    wide = pd.concat([wide, frame[questions].reset_index(drop=True)], axis=1)
    long = wide.melt(
        id_vars=list(wide.columns[: 1 + len(respondent)]),
        value_vars=questions,
        var_name="_text_column",
        value_name="text",
    )
    long["_question_number"] = long["_text_column"].map(numbering)
    long = long.sort_values(["_row", "_question_number"], kind="stable").reset_index(drop=True)
    long["_id_suffix"] = "-q" + long["_question_number"].astype("str")
    long["session"] = long["_text_column"].map(session_of or {q: q for q in questions})
    return long


def _respondent_roles(
    frame: pd.DataFrame, candidates: list[str], questions: Sequence[str] | None, path: Path
) -> tuple[list[str], dict[str, str], dict[str, int]]:
    """Split form columns into answered questions and who-is-answering columns.

    Also returns each question's number among all the form's questions, so that
    ids do not change when ``questions`` picks a few of them.
    """
    roles: dict[str, str] = {}
    answers: list[str] = []
    for column in candidates:
        role = _question_role(column)
        if role is not None and role not in roles:
            roles[role] = column
        else:
            answers.append(column)
    numbering = {question: number for number, question in enumerate(answers, start=1)}
    if questions is not None:
        require_columns(frame, list(questions), path)
        answers = [column for column in answers if column in set(questions)]
    if not answers:
        raise SchemaError("the export has no question columns to read answers from", file=path)
    return answers, roles, numbering


def _anonymous_to_missing(values: pd.Series) -> pd.Series:
    text = _clean_text(values)
    return text.where(~text.str.casefold().isin(["anonymous", "anon"]))


_MS_META = ["ID", "Start time", "Completion time", "Email", "Name", "Total points",
            "Quiz feedback", "Last modified time"]


def _microsoft_forms(frame: pd.DataFrame, path: Path, questions):
    require_columns(frame, ["ID", "Start time", "Completion time"], path)
    candidates = [
        column for column in frame.columns
        if column not in _MS_META and not re.match(r"^(Points|Feedback) - ", column)
    ]
    answers, roles, numbering = _respondent_roles(frame, candidates, questions, path)
    author = (
        _anonymous_to_missing(frame["Email"]) if "Email" in frame
        else pd.Series(np.nan, index=frame.index, dtype="str")
    )
    if "Name" in frame:
        author = author.fillna(_anonymous_to_missing(frame["Name"]))
    if "author" in roles:
        author = author.fillna(_clean_text(frame[roles["author"]]))
    respondent = {
        "author": author.reset_index(drop=True),
        "created_at": frame["Completion time"].reset_index(drop=True),
    }
    for role in ("organisation", "sector"):
        if role in roles:
            respondent[role] = frame[roles[role]].reset_index(drop=True)
    columns = {"created_at": "Completion time", **roles}
    return _explode_questions(frame, answers, respondent, numbering), columns


def _google_forms(frame: pd.DataFrame, path: Path, questions):
    require_columns(frame, ["Timestamp"], path)
    email_columns = [c for c in frame.columns if c.casefold() == "email address"]
    candidates = [
        column for column in frame.columns
        if column not in ("Timestamp", "Score", *email_columns)
    ]
    answers, roles, numbering = _respondent_roles(frame, candidates, questions, path)
    author = (
        _clean_text(frame[email_columns[0]]) if email_columns
        else pd.Series(np.nan, index=frame.index, dtype="str")
    )
    if "author" in roles:
        author = author.fillna(_clean_text(frame[roles["author"]]))
    respondent = {
        "author": author.reset_index(drop=True),
        "created_at": frame["Timestamp"].reset_index(drop=True),
    }
    for role in ("organisation", "sector"):
        if role in roles:
            respondent[role] = frame[roles[role]].reset_index(drop=True)
    return (_explode_questions(frame, answers, respondent, numbering),
            {"created_at": "Timestamp", **roles})


_MENTI_META = ["Date (UTC)", "Session", "Voter"]


def _mentimeter(frame: pd.DataFrame, path: Path, questions):
    require_columns(frame, ["Voter"], path)
    candidates = [
        column for column in frame.columns
        if column not in _MENTI_META and "::" not in column  # "::" marks numeric scale items
    ]
    answers, roles, numbering = _respondent_roles(frame, candidates, questions, path)
    respondent = {"author": frame["Voter"].reset_index(drop=True)}
    if "Date (UTC)" in frame:
        respondent["created_at"] = frame["Date (UTC)"].reset_index(drop=True)
    for role in ("organisation", "sector"):
        if role in roles:
            respondent[role] = frame[roles[role]].reset_index(drop=True)
    sessions = {q: re.sub(r":\s*Answer\s*$", "", q, flags=re.IGNORECASE).strip() for q in answers}
    long = _explode_questions(frame, answers, respondent, numbering, sessions)
    if "Session" in frame and _clean_text(frame["Session"]).nunique() > 1:
        # Several Mentimeter sessions in one sheet: keep them apart.
        session_by_row = pd.Series(
            _clean_text(frame["Session"]).to_numpy(), index=np.arange(len(frame)) + FIRST_DATA_ROW
        )
        long["session"] = long["session"] + " (session " + long["_row"].map(session_by_row) + ")"
    return long, {"created_at": "Date (UTC)", "author": "Voter", **roles}


_OPEN_SPACE_OPTIONAL = {
    "Session": "session", "Organisation": "organisation", "Organization": "organisation",
    "Sector": "sector", "Date": "created_at", "Theme": "theme", "ID": "contribution_id",
}


def _participant_count(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Participants as a count: a number, or names separated by ; , or new lines."""
    text = _clean_text(frame["Participants"])
    numeric = pd.to_numeric(text, errors="coerce")
    is_names = text.notna() & numeric.isna()
    counts = text[is_names].str.split(r"\s*[;,\n]\s*", regex=True).map(
        lambda names: sum(1 for name in names if name)
    )
    counted = numeric.copy()
    counted[is_names] = counts
    if ((counted < 0) | (counted != np.floor(counted))).any():
        position = int(np.flatnonzero(((counted < 0) | (counted != np.floor(counted))).to_numpy())[0])
        raise InputError(
            f"{text.iloc[position]!r} is not a number of participants or a list of names",
            file=path, row=position + FIRST_DATA_ROW, column="Participants",
        )
    return counted.astype("Int64")


def _open_space(frame: pd.DataFrame, path: Path, questions):
    require_columns(frame, ["Convener", "Topic", "Summary"], path)
    topic = _clean_text(frame["Topic"])
    missing_topic = topic.isna()
    if missing_topic.any():
        position = int(np.flatnonzero(missing_topic.to_numpy())[0])
        raise InputError("the report has no topic", file=path,
                         row=position + FIRST_DATA_ROW, column="Topic")
    parts = [topic, _clean_text(frame["Summary"])]
    if "Recommendations" in frame:
        recommendations = _clean_text(frame["Recommendations"])
        parts.append("Recommendations: " + recommendations)
    text = parts[0]
    for part in parts[1:]:
        text = text + ("\n\n" + part).fillna("")
    records = pd.DataFrame({
        "_row": np.arange(len(frame)) + FIRST_DATA_ROW,
        "text": text.to_numpy(),
        "author": frame["Convener"].to_numpy(),
        "session": topic.to_numpy(),
    })
    columns = {"text": "Summary", "author": "Convener", "session": "Topic"}
    for name, canonical in _OPEN_SPACE_OPTIONAL.items():
        if name in frame:
            records[canonical] = frame[name].to_numpy()
            columns[canonical] = name
    if "Participants" in frame:
        records[PARTICIPANTS_COLUMN] = _participant_count(frame, path).to_numpy()
    return records, columns


def _canonical(frame: pd.DataFrame, path: Path, mapping: Mapping[str, str] | None):
    renames: dict[str, str] = {}
    if mapping:
        unknown = [key for key in mapping if key not in CONTRIBUTION_COLUMNS]
        if unknown:
            raise ConfigError(
                f"mapping names unknown canonical column(s) {', '.join(map(repr, unknown))}; "
                f"use {', '.join(CONTRIBUTION_COLUMNS)}",
                file=path,
            )
        require_columns(frame, list(mapping.values()), path)
        renames = {source: canonical for canonical, source in mapping.items()}
    columns = {canonical: source for source, canonical in renames.items()}
    records = pd.DataFrame({"_row": np.arange(len(frame)) + FIRST_DATA_ROW})
    for column in CONTRIBUTION_COLUMNS:
        if column in columns:
            records[column] = frame[columns[column]].to_numpy()
        elif column in frame.columns and column not in renames:
            records[column] = frame[column].to_numpy()
    if "text" not in records:
        raise SchemaError(
            "missing required column(s): 'text' (or map another column to text)",
            file=path, column="text",
        )
    return records, columns


def read_contributions(
    path: str | Path,
    mapping: str | Mapping[str, str] | None = None,
    *,
    source: str | None = None,
    kind: str | None = None,
    pseudonym_key: str | bytes | None = None,
    questions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV/XLSX export of contributions into the canonical contributions table.

    ``mapping`` says how the file's columns become canonical columns:

    - ``None`` or ``"canonical"``: the file uses the canonical names
      (:data:`~hwb_toolkit.schema.CONTRIBUTION_COLUMNS`); only ``text`` is required.
    - a dict ``{canonical: file column}``, e.g. ``{"text": "Story", "contribution_id": "id"}``;
      canonical-named columns the dict does not mention are read too.
    - ``"microsoft_forms"`` (ID, Start time, Completion time, Email, Name, then one
      column per question), ``"google_forms"`` (Timestamp, Email Address, questions),
      ``"mentimeter"`` (the ``Voters`` sheet: Date (UTC), Session, Voter,
      ``"<question>: Answer"`` columns; ``"<prompt>:: <criterion>"`` scale columns
      are numbers and skipped): every answered question becomes one
      ``survey_answer`` with the question as ``session``, the completion time as
      ``created_at`` and the respondent (email, else name; "anonymous" counts as
      unknown) as ``author``. A question asking who is answering ("Organisation",
      "Which sector do you work in?", "Your name") fills ``organisation``,
      ``sector`` or ``author`` instead of becoming a contribution. Quiz columns
      (points, feedback, score) are skipped. ``questions`` limits the answers read
      to those columns (to leave out multiple-choice questions). Unanswered
      questions give no contribution.
    - ``"open_space"``: proceedings with one report per row: Convener, Topic,
      Summary (required), Participants, Recommendations (optional; also Session,
      Organisation, Sector, Date, Theme, ID). Each report becomes one
      ``open_space_note``: the topic, the summary and "Recommendations: ..."
      separated by blank lines; the convener is the author; the session is the
      topic unless a Session column says otherwise. Participants (a number or
      names separated by ``;``/``,``) become the extra integer column
      ``participants`` (a count: names are not kept).

    ``source`` (default: the file name) fills ``source`` where the file has none;
    ``kind`` fills ``kind`` where the file has none (one of
    :data:`~hwb_toolkit.schema.CONTRIBUTION_KINDS`; forms and open space set it).
    Authors are pseudonymised with ``pseudonym_key`` (see
    :func:`hwb_toolkit.voices.privacy.pseudonym_key`) and personal details in the
    text masked. A row without text is an error, except in form exports.
    """
    path = Path(path)
    mapping_name = "canonical" if mapping is None else mapping
    if isinstance(mapping_name, str) and mapping_name not in MAPPINGS:
        raise ConfigError(
            f"unknown mapping {mapping_name!r}; use one of {', '.join(MAPPINGS)} or a dict",
            file=path,
        )
    sheet = "Voters" if mapping_name == "mentimeter" and path.suffix.lower() in {
        ".xlsx", ".xlsm", ".xls"} else 0
    frame = read_table(path, sheet=sheet)
    if frame.empty:
        raise InputError("the file has a header but no rows", file=path)
    source = source or path.name
    drop_blank = False
    if mapping_name == "microsoft_forms":
        records, columns = _microsoft_forms(frame, path, questions)
        kind, drop_blank = "survey_answer", True
    elif mapping_name == "google_forms":
        records, columns = _google_forms(frame, path, questions)
        kind, drop_blank = "survey_answer", True
    elif mapping_name == "mentimeter":
        records, columns = _mentimeter(frame, path, questions)
        kind, drop_blank = "survey_answer", True
    elif mapping_name == "open_space":
        records, columns = _open_space(frame, path, questions)
        kind = "open_space_note"
    else:
        records, columns = _canonical(frame, path, None if isinstance(mapping_name, str) else mapping_name)
    return _finish_contributions(
        records, path=path, source=source, kind=kind, pseudonym_key=pseudonym_key,
        source_columns=columns, drop_blank_text=drop_blank, free_text_sectors=drop_blank,
    )


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
