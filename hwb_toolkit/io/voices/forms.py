"""Contributions files: the canonical layout, a mapping of its columns, and the exports of
Microsoft Forms, Google Forms, Mentimeter and open-space proceedings, each a layout in
:data:`LAYOUTS` (see :mod:`hwb_toolkit.io.voices`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError, SchemaError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    read_table,
)
from hwb_toolkit.io.voices.common import PARTICIPANTS_COLUMN, _clean_text, _finish_contributions
from hwb_toolkit.schema import (
    CONTRIBUTION_COLUMNS,
)
from hwb_toolkit.values import require_columns

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


@dataclass(frozen=True)
class Layout:
    """How one export format becomes contribution records."""

    #: ``(frame, path, questions) -> (records, source columns)``: the rows as canonical
    #: columns plus ``_row`` (the spreadsheet row), and which file column each came from.
    records: Callable
    #: The kind every contribution of the format is (None: from the file or the caller).
    kind: str | None = None
    #: A survey's answers: an unanswered question gives no contribution, and a sector is
    #: whatever the respondent typed (unknown ones read as "other", with a warning).
    survey: bool = False
    #: The sheet read from a workbook (Mentimeter puts the answers on "Voters").
    sheet: str | int = 0


def _canonical_layout(frame: pd.DataFrame, path: Path, questions):
    return _canonical(frame, path, None)


#: The ready layouts :func:`read_contributions` reads (besides a dict mapping columns).
LAYOUTS = {
    "canonical": Layout(_canonical_layout),
    "microsoft_forms": Layout(_microsoft_forms, kind="survey_answer", survey=True),
    "google_forms": Layout(_google_forms, kind="survey_answer", survey=True),
    "mentimeter": Layout(_mentimeter, kind="survey_answer", survey=True, sheet="Voters"),
    "open_space": Layout(_open_space, kind="open_space_note"),
}
MAPPINGS = tuple(LAYOUTS)


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
    if isinstance(mapping, Mapping):
        layout = Layout(lambda frame, path, questions: _canonical(frame, path, mapping))
    else:
        name = "canonical" if mapping is None else mapping
        if name not in LAYOUTS:
            raise ConfigError(
                f"unknown mapping {name!r}; use one of {', '.join(MAPPINGS)} or a dict", file=path
            )
        layout = LAYOUTS[name]
    workbook = path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}
    frame = read_table(path, sheet=layout.sheet if workbook else 0)
    if frame.empty:
        raise InputError("the file has a header but no rows", file=path)
    source = source or path.name
    records, columns = layout.records(frame, path, questions)
    return _finish_contributions(
        records, path=path, source=source, kind=layout.kind or kind, pseudonym_key=pseudonym_key,
        source_columns=columns, drop_blank_text=layout.survey, free_text_sectors=layout.survey,
    )


