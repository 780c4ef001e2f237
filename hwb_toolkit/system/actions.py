"""The actions register: who is doing what, read from CSV/XLSX, checked, written back.

In memory the register has exactly the columns :data:`hwb_toolkit.schema.ACTION_COLUMNS`,
one row per action, in file order (nothing is dropped or reordered):

- ``action_id``, ``title``, ``lead_org``, ``status``, ``area_code``, ``updated_by``:
  text (pandas' default ``str`` dtype; blank cells are missing). ``status`` is
  lower-cased and must be one of :data:`hwb_toolkit.schema.ACTION_STATUSES`.
- ``partner_orgs``, ``objectives``, ``themes``, ``linked_indicators``,
  ``responds_to``: Python lists of str (an empty cell is ``[]``). In files they
  are ";"-separated (commas are not separators: organisation names contain them).
  ``linked_indicators`` hold Fingertips indicator ids as digit strings ("93014";
  Excel's "93014.0" is normalised).
- ``start``, ``end``: ``datetime64`` dates at midnight, no time zone (NaT when blank).
- ``updated_at``: ``datetime64`` in UTC (NaT when blank).

Dates in files: ISO ``YYYY-MM-DD`` (what :func:`write_actions` writes) and the
UK form ``DD/MM/YYYY`` (what Excel shows in an English locale) are accepted;
Excel date cells read from XLSX (``YYYY-MM-DD 00:00:00``) too. Anything else is
an error naming the row, the column and the value; in particular US dates
(``03/25/2026``) and two-digit years are rejected, never guessed. Years outside
1900-2100 are rejected as typing slips. ``updated_at`` accepts ISO 8601; a time
without a zone is taken as UTC.

Hard errors (an exception; the register is not used): a blank ``action_id``,
``title``, ``lead_org`` or ``status``; a status outside the vocabulary; a date
that cannot be read; ``end`` before ``start``; an ``action_id`` used twice
(naming both rows); a linked indicator that is not a number -- these raise
:class:`~hwb_toolkit.errors.InputError`. An objective or theme id that the
strategy does not define raises :class:`~hwb_toolkit.errors.ConfigError`. Every
problem found is listed in the one exception (``error.problems``), first one
in ``error.row`` / ``error.column``.

Warnings (the register is still used; returned by :func:`validate_actions` and
also issued with :func:`warnings.warn` as :class:`ActionWarning`): an
organisation that is not in the strategy's stakeholder list (its sector is then
unknown), a linked indicator the strategy does not list, an action linked to no
objective and no theme (it shows in no coverage row), and file columns outside
the register (not read).

Row numbers follow the spreadsheet convention (header = row 1). For a register
read by :func:`read_actions`, rows are those of the file (``frame.attrs["source"]``
names it); for a frame built elsewhere, row N is its (N-2)th row by position,
i.e. the row it would have in the CSV :func:`write_actions` writes.
"""

from __future__ import annotations

import difflib
import os
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, HwbError, InputError, InputWarning, SchemaError
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
    protect_formulas,
    read_table,
    unprotect_formulas,
)
from hwb_toolkit.schema import ACTION_COLUMNS, ACTION_LIST_COLUMNS, ACTION_STATUSES
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.values import require_columns

#: Columns holding one piece of text.
TEXT_COLUMNS = ("action_id", "title", "lead_org", "status", "area_code", "updated_by")
DATE_COLUMNS = ("start", "end")
#: Columns a register file must have; the others may be absent (read as blank).
REQUIRED_COLUMNS = ("action_id", "title", "lead_org", "status")
LIST_SEPARATOR = ";"

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S")
_EARLIEST, _LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")


class ActionWarning(InputWarning):
    """A problem in the register that does not stop it being used; names file, row, column."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActionWarning) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


@dataclass(frozen=True)
class _Problem:
    row: int | None
    column: str | None
    message: str


def _raise(problems: list[_Problem], file, kind: type[HwbError] = InputError) -> None:
    if not problems:
        return
    problems = sorted(problems, key=lambda p: (p.row is None, p.row or 0, _column_order(p.column)))
    first = problems[0]
    message = first.message
    if len(problems) > 1:
        listed = "\n".join(
            "  "
            + ", ".join(
                part
                for part in (
                    f"row {p.row}" if p.row is not None else None,
                    f"column '{p.column}'" if p.column else None,
                )
                if part
            )
            + f": {p.message}"
            for p in problems[1:]
        )
        message += f"\n  and {len(problems) - 1} more problem(s) in the actions register:\n{listed}"
    error = kind(message, file=file, row=first.row, column=first.column)
    error.problems = [(p.row, p.column, p.message) for p in problems]
    raise error


def _column_order(column: str | None) -> int:
    return ACTION_COLUMNS.index(column) if column in ACTION_COLUMNS else len(ACTION_COLUMNS)


def _rows(mask: pd.Series | np.ndarray) -> np.ndarray:
    """Spreadsheet row numbers of the True positions of a boolean mask."""
    return np.flatnonzero(np.asarray(mask, dtype=bool)) + FIRST_DATA_ROW


# --- reading -----------------------------------------------------------------


def _text(column: pd.Series) -> pd.Series:
    stripped = column.astype("str").str.strip()
    return stripped.where(stripped != "", None).astype("str")


def _split(column: pd.Series) -> pd.Series:
    def pieces(cell) -> list[str]:
        if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
            return []
        return [piece.strip() for piece in str(cell).split(LIST_SEPARATOR) if piece.strip()]

    return pd.Series([pieces(cell) for cell in column], index=column.index, dtype="object")


def _parse_dates(text: pd.Series, column: str) -> tuple[pd.Series, list[_Problem]]:
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for date_format in _DATE_FORMATS:
        attempt = pd.to_datetime(text, format=date_format, errors="coerce")
        parsed = parsed.fillna(attempt.astype("datetime64[us]"))
    has_time = parsed.notna() & (parsed != parsed.dt.normalize())
    out_of_range = parsed.notna() & ((parsed < _EARLIEST) | (parsed > _LATEST))
    unreadable = parsed.isna() & text.notna()
    problems = []
    for row, value in zip(_rows(unreadable | has_time), text[unreadable | has_time], strict=True):
        problems.append(
            _Problem(
                int(row),
                column,
                f"{value!r} is not a date in the form YYYY-MM-DD (or DD/MM/YYYY)",
            )
        )
    for row, value in zip(_rows(out_of_range), text[out_of_range], strict=True):
        problems.append(
            _Problem(int(row), column, f"{value!r} is outside 1900-2100; check the year")
        )
    return parsed.where(~has_time), problems


def _parse_timestamps(text: pd.Series, column: str) -> tuple[pd.Series, list[_Problem]]:
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    parsed = parsed.astype("datetime64[us, UTC]")
    unreadable = parsed.isna() & text.notna()
    problems = [
        _Problem(
            int(row),
            column,
            f"{value!r} is not a date and time (ISO 8601, e.g. 2026-05-01T09:30:00Z)",
        )
        for row, value in zip(_rows(unreadable), text[unreadable], strict=True)
    ]
    return parsed, problems


def _parse_indicator_ids(lists: pd.Series, column: str) -> tuple[pd.Series, list[_Problem]]:
    flat = lists.explode()
    text = flat.dropna().astype("str")
    digits = text.str.replace(r"\.0+$", "", regex=True)
    bad = ~digits.str.fullmatch(r"\d+")
    problems = []
    positions = pd.Series(np.arange(len(lists)), index=lists.index)
    for label, value in text[bad].items():
        problems.append(
            _Problem(
                int(positions[label]) + FIRST_DATA_ROW,
                column,
                f"{value!r} is not a Fingertips indicator id (a whole number); "
                f"separate several ids with '{LIST_SEPARATOR}'",
            )
        )
    normalised = digits.str.lstrip("0").where(lambda s: s != "", "0")
    rebuilt = normalised.groupby(level=0).agg(list)
    result = pd.Series([[] for _ in range(len(lists))], index=lists.index, dtype="object")
    result.loc[rebuilt.index] = rebuilt
    return result, problems


def read_actions(path: str | Path, strategy: Strategy | None = None) -> pd.DataFrame:
    """Read an actions register (CSV or XLSX) into the canonical frame.

    Columns :data:`REQUIRED_COLUMNS` must be present, with ``objectives`` or
    ``themes`` (or both); any other register column may be absent and is then
    blank. With ``strategy``, :func:`validate_actions` also runs (its warnings
    are issued with :func:`warnings.warn`). Raises :class:`InputError` (or
    :class:`SchemaError` for missing columns, :class:`ConfigError` for ids the
    strategy does not define) listing every problem with its row and column.
    """
    path = Path(path)
    raw = unprotect_formulas(read_table(path))  # what write_actions protected
    require_columns(raw, REQUIRED_COLUMNS, path)
    if "objectives" not in raw.columns and "themes" not in raw.columns:
        raise SchemaError(
            "the register needs an 'objectives' or a 'themes' column (or both)",
            file=path,
            column="objectives",
        )
    notes = [
        ActionWarning(
            f"column {column!r} is not part of the actions register and was not read "
            f"(register columns: {', '.join(ACTION_COLUMNS)})",
            file=path,
            row=1,
            column=column,
        )
        for column in raw.columns
        if column not in ACTION_COLUMNS
    ]
    blank = pd.Series(pd.NA, index=raw.index, dtype="str")
    column_text = {
        column: _text(raw[column]) if column in raw.columns else blank for column in ACTION_COLUMNS
    }
    problems: list[_Problem] = []
    frame: dict[str, pd.Series] = {}
    for column in TEXT_COLUMNS:
        frame[column] = column_text[column]
    frame["status"] = frame["status"].str.lower()
    for column in ACTION_LIST_COLUMNS:
        frame[column] = _split(column_text[column])
    frame["linked_indicators"], found = _parse_indicator_ids(
        frame["linked_indicators"], "linked_indicators"
    )
    problems += found
    for column in DATE_COLUMNS:
        frame[column], found = _parse_dates(column_text[column], column)
        problems += found
    frame["updated_at"], found = _parse_timestamps(column_text["updated_at"], "updated_at")
    problems += found
    actions = pd.DataFrame({column: frame[column] for column in ACTION_COLUMNS})
    actions.index = pd.RangeIndex(len(actions))
    problems += _register_problems(actions)
    _raise(problems, path)
    actions.attrs["source"] = str(path)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    if strategy is not None:
        validate_actions(actions, strategy)
    return actions


# --- checking ----------------------------------------------------------------


def _register_problems(actions: pd.DataFrame) -> list[_Problem]:
    """Problems that make a register unusable, whatever the strategy."""
    problems: list[_Problem] = []
    for column in ("action_id", "title", "lead_org", "status"):
        missing = actions[column].isna().to_numpy()
        problems += [
            _Problem(int(row), column, f"{column} is blank; every action needs one")
            for row in _rows(missing)
        ]
    status = actions["status"]
    wrong = status.notna() & ~status.isin(ACTION_STATUSES)
    problems += [
        _Problem(
            int(row),
            "status",
            f"{value!r} is not a status; use one of {', '.join(ACTION_STATUSES)}",
        )
        for row, value in zip(_rows(wrong), status[wrong], strict=True)
    ]
    for column in ACTION_LIST_COLUMNS:
        not_list = ~actions[column].map(lambda cell: isinstance(cell, list)).astype(bool)
        problems += [
            _Problem(int(row), column, "expected a list of ids (in memory a Python list)")
            for row in _rows(not_list)
        ]
    ids = actions["action_id"]
    repeated = ids.notna() & ids.duplicated(keep=False)
    if repeated.any():
        rows = pd.Series(_rows(repeated), index=ids[repeated].to_numpy())
        for action_id, group in rows.groupby(level=0, sort=False):
            listed = group.tolist()
            for row in listed[1:]:
                problems.append(
                    _Problem(
                        int(row),
                        "action_id",
                        f"action id {action_id!r} is used twice: rows {listed[0]} and {row}",
                    )
                )
    dates = {}
    for column in DATE_COLUMNS:
        try:
            dates[column] = pd.to_datetime(actions[column]).reset_index(drop=True)
        except (ValueError, TypeError):
            problems.append(_Problem(None, column, "the column does not hold dates"))
    if len(dates) < len(DATE_COLUMNS):
        return problems
    ends_early = (dates["end"] < dates["start"]).fillna(False).to_numpy(dtype=bool)
    problems += [
        _Problem(
            int(row),
            "end",
            f"end {end:%Y-%m-%d} is before start {start:%Y-%m-%d}",
        )
        for row, start, end in zip(
            _rows(ends_early),
            dates["start"][ends_early],
            dates["end"][ends_early],
            strict=True,
        )
    ]
    return problems


def _exploded(actions: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per (action position, list element) with its spreadsheet row."""
    flat = actions[column].reset_index(drop=True).explode().dropna()
    return pd.DataFrame(
        {"row": flat.index.to_numpy() + FIRST_DATA_ROW, "value": flat.astype("str").to_numpy()}
    )


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_references(actions: pd.DataFrame, strategy: Strategy) -> None:
    """Raise :class:`ConfigError` for objective or theme ids the strategy does not define.

    Used by :func:`validate_actions` and by every analysis, so that an action
    is never silently left out of a count because of a mistyped id.
    """
    file = actions.attrs.get("source")
    known = {
        "objectives": [objective.id for objective in strategy.objectives],
        "themes": [theme.id for theme in strategy.themes],
    }
    problems: list[_Problem] = []
    for column, ids in known.items():
        listed = _exploded(actions, column)
        unknown = listed[~listed["value"].isin(ids)]
        what = column[:-1]
        problems += [
            _Problem(
                int(row),
                column,
                f"{value!r} is not the id of any {what} in the strategy"
                + (
                    f"; separate several ids with '{LIST_SEPARATOR}'"
                    if "," in value
                    else _suggest(value, ids)
                ),
            )
            for row, value in zip(unknown["row"], unknown["value"], strict=True)
        ]
    _raise(problems, file, ConfigError)


def check_register(actions: pd.DataFrame, strategy: Strategy | None = None) -> None:
    """Raise for every hard error in an in-memory register (see the module docstring).

    Checks the columns, blank required cells, statuses, list cells, duplicate
    ids and end dates before start (:class:`InputError`), then, with
    ``strategy``, objective and theme ids (:class:`ConfigError`). Issues no
    warnings; every analysis calls it so that a bad register is never
    silently miscounted.
    """
    file = actions.attrs.get("source")
    require_columns(actions, ACTION_COLUMNS, file)
    _raise(_register_problems(actions), file)
    if strategy is not None:
        check_references(actions, strategy)


def validate_actions(actions: pd.DataFrame, strategy: Strategy) -> list[ActionWarning]:
    """Check a register (from :func:`read_actions`, the store or a page) against the strategy.

    Raises :class:`InputError` for problems that make the register unusable
    and :class:`ConfigError` for objective or theme ids the strategy does not
    define (see the module docstring). Returns the warnings, in row order, and
    also issues each with :func:`warnings.warn`: organisations not in the
    stakeholder list (``lead_org`` or ``partner_orgs``), linked indicators the
    strategy does not list, actions linked to no objective and no theme.
    """
    file = actions.attrs.get("source")
    check_register(actions, strategy)

    found: list[ActionWarning] = []
    stakeholders = [s.organisation for s in strategy.stakeholders]
    organisations = pd.concat(
        [
            pd.DataFrame(
                {
                    "row": np.arange(len(actions)) + FIRST_DATA_ROW,
                    "value": actions["lead_org"].astype("str").to_numpy(),
                    "column": "lead_org",
                }
            ),
            _exploded(actions, "partner_orgs").assign(column="partner_orgs"),
        ],
        ignore_index=True,
    )
    sectors = organisations["value"].map(strategy.sector_of)
    for row, column, value in organisations[sectors.isna()][["row", "column", "value"]].itertuples(
        index=False
    ):
        found.append(
            ActionWarning(
                f"{value!r} is not in the strategy's stakeholder list, so its sector is unknown"
                f"{_suggest(value, stakeholders)}; add it under 'stakeholders' in strategy.yaml",
                file=file,
                row=int(row),
                column=column,
            )
        )
    watched = {str(indicator.id) for indicator in strategy.indicators}
    linked = _exploded(actions, "linked_indicators")
    for row, value in linked[~linked["value"].isin(watched)].itertuples(index=False):
        found.append(
            ActionWarning(
                f"indicator {value} is not among the strategy's indicators",
                file=file,
                row=int(row),
                column="linked_indicators",
            )
        )
    unlinked = (actions["objectives"].str.len() == 0) & (actions["themes"].str.len() == 0)
    for row in _rows(unlinked):
        found.append(
            ActionWarning(
                "the action names no objective and no theme, so no coverage row counts it",
                file=file,
                row=int(row),
                column="objectives",
            )
        )
    found.sort(key=lambda w: (w.row or 0, _column_order(w.column)))
    for warning in found:
        warnings.warn(warning, stacklevel=2)
    return found


# --- writing -----------------------------------------------------------------


def actions_to_csv_frame(actions: pd.DataFrame) -> pd.DataFrame:
    """The register as the text cells of its CSV form (lists ";"-joined, ISO dates).

    Raises :class:`InputError` when a list element contains ";" (it could not be
    read back as one element).
    """
    require_columns(actions, ACTION_COLUMNS, actions.attrs.get("source"))
    problems: list[_Problem] = []
    out: dict[str, pd.Series] = {}
    for column in ACTION_COLUMNS:
        values = actions[column].reset_index(drop=True)
        if column in ACTION_LIST_COLUMNS:
            listed = _exploded(actions, column)
            clash = listed["value"].str.contains(LIST_SEPARATOR, regex=False)
            problems += [
                _Problem(
                    int(row),
                    column,
                    f"{value!r} contains '{LIST_SEPARATOR}', the list separator of the CSV form",
                )
                for row, value in zip(listed["row"][clash], listed["value"][clash], strict=True)
            ]
            text = values.map(
                lambda cell: (
                    LIST_SEPARATOR.join(str(v) for v in cell) if isinstance(cell, list) else cell
                )
            )
        elif column in DATE_COLUMNS:
            dates = pd.to_datetime(values)
            text = dates.dt.strftime("%Y-%m-%d")
        elif column == "updated_at":
            stamps = pd.to_datetime(values, utc=True)
            text = stamps.map(lambda t: "" if pd.isna(t) else t.isoformat())
        else:
            text = values
        out[column] = text.astype("str").fillna("")
    _raise(problems, actions.attrs.get("source"))
    return pd.DataFrame(out)


def write_actions(actions: pd.DataFrame, path: str | Path) -> Path:
    """Write the register to ``path`` as CSV (UTF-8), atomically.

    The file is written to a temporary file in the same folder and moved into
    place with :func:`os.replace`, so a reader never sees half a file and a
    crash leaves the old file intact. Only :data:`ACTION_COLUMNS` are written,
    in that order; any other column is named in an :class:`ActionWarning`.
    Returns the path written.
    """
    path = Path(path)
    extra = [column for column in actions.columns if column not in ACTION_COLUMNS]
    for column in extra:
        warnings.warn(
            ActionWarning(
                f"column {column!r} is not part of the actions register and was not written",
                file=path,
                column=column,
            ),
            stacklevel=2,
        )
    table = actions_to_csv_frame(actions)
    try:
        handle = tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        )
    except OSError as error:
        raise InputError(f"cannot write the register here ({error.strerror})", file=path) from None
    try:
        with handle:
            protect_formulas(table).to_csv(handle, index=False, lineterminator="\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path
