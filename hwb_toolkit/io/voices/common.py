"""The canonical contributions table every voices reader gives: sector names, dates,
ids and the checks that finish a table (see :mod:`hwb_toolkit.io.voices`)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError, InputWarning
from hwb_toolkit.io.tabular import (
    FIRST_DATA_ROW,
)
from hwb_toolkit.privacy import pseudonymise
from hwb_toolkit.schema import (
    CONTRIBUTION_COLUMNS,
    CONTRIBUTION_KINDS,
    SECTORS,
)

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


