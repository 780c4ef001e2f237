"""Whose voice: who contributed, who is missing, and how concentrated the talking was.

:func:`voice_balance` counts contributions and distinct participants by sector
and by organisation, names the sectors and the partner organisations (from the
strategy's stakeholder list) that said nothing, and measures concentration: the
share of all contributions made by the most active tenth of participants. A
partnership hearing mostly from a few council officers sees it here before it
writes "partners told us".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import SECTORS

#: Label for contributions whose sector (or organisation) was not recorded.
UNKNOWN = "unknown"
#: Sectors a partnership expects to hear from when no stakeholder list is given.
EXPECTED_SECTORS = tuple(sector for sector in SECTORS if sector != "other")


@dataclass(frozen=True)
class VoiceBalance:
    """Result of :func:`voice_balance`.

    - ``by_sector``: ``sector, contributions, participants, share`` for every
      canonical sector (zeros included) plus ``unknown`` when some contributions
      have no sector; ``share`` is the proportion (0-1) of all contributions.
    - ``by_organisation``: ``organisation, sector, contributions, participants,
      share``, most contributions first (``unknown`` row for contributions
      without an organisation).
    - ``missing_sectors``: sectors nobody contributed from (in schema order).
    - ``missing_organisations``: ``organisation, sector`` of stakeholders with
      no contribution (empty without a stakeholder list).
    - ``concentration``: share (0-1) of contributions made by the most active
      ``ceil(0.1 * participants)`` participants (NaN with no known authors).
    - ``participants``: distinct known authors; ``contributions``: all rows.
    """

    by_sector: pd.DataFrame
    by_organisation: pd.DataFrame
    missing_sectors: list[str]
    missing_organisations: pd.DataFrame
    concentration: float
    participants: int
    contributions: int


def _squash(names: pd.Series) -> pd.Series:
    """Organisation names compared without case or repeated spaces."""
    return names.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)


def _main_sector(sectors: pd.Series) -> str:
    """The sector most of an organisation's contributions give (ties: schema order)."""
    rank = {sector: position for position, sector in enumerate((*SECTORS, UNKNOWN))}
    counts = sectors.value_counts()
    return min(counts.index, key=lambda sector: (-counts[sector], rank.get(sector, len(rank)), sector))


def _stakeholder_frame(stakeholders) -> pd.DataFrame:
    if stakeholders is None:
        return pd.DataFrame({"organisation": pd.Series(dtype="str"), "sector": pd.Series(dtype="str")})
    if hasattr(stakeholders, "stakeholders_frame"):
        stakeholders = stakeholders.stakeholders_frame()
    if not isinstance(stakeholders, pd.DataFrame) or not {"organisation", "sector"} <= set(
        stakeholders.columns
    ):
        raise InputError("stakeholders must be a table with 'organisation' and 'sector' columns")
    return stakeholders[["organisation", "sector"]].reset_index(drop=True)


def concentration(authors: pd.Series) -> float:
    """Share of contributions (0-1) by the most active ceil(10%) of known authors.

    ``authors``: one value per contribution; missing authors are left out of
    both the count of participants and the total.
    """
    counts = authors.dropna().value_counts()
    if counts.empty:
        return float("nan")
    top = math.ceil(0.1 * len(counts))
    ordered = np.sort(counts.to_numpy())[::-1]
    return float(ordered[:top].sum() / ordered.sum())


def voice_balance(contributions: pd.DataFrame, stakeholders=None) -> VoiceBalance:
    """Contributions and participants by sector and organisation, gaps, and concentration.

    ``contributions``: the canonical table (uses ``author``, ``organisation``,
    ``sector``). ``stakeholders``: a table with ``organisation`` and ``sector``
    (or a Strategy, via its ``stakeholders_frame()``). Missing sectors are the
    stakeholder list's sectors with no contribution; without a list, the
    canonical sectors other than "other". Organisations match ignoring case and
    repeated spaces. Participants are distinct ``author`` pseudonyms;
    contributions without an author count as contributions but not as
    participants, and are left out of the concentration.
    """
    for column in ("author", "organisation", "sector"):
        if column not in contributions.columns:
            raise InputError(f"the contributions table lacks column '{column}'", column=column)
    frame = contributions[["author", "organisation", "sector"]].reset_index(drop=True)
    frame = frame.assign(
        sector=frame["sector"].astype("string").str.strip().replace("", pd.NA).fillna(UNKNOWN),
        organisation=frame["organisation"].astype("string").str.strip().replace("", pd.NA),
    )
    total = len(frame)

    def summarise(by: str) -> pd.DataFrame:
        grouped = frame.groupby(by, dropna=False, sort=False)
        table = pd.DataFrame({
            "contributions": grouped.size(),
            "participants": grouped["author"].nunique(),
        })
        table["share"] = table["contributions"] / total if total else np.nan
        return table

    by_sector = summarise("sector")
    present = [s for s in SECTORS if s in by_sector.index] + (
        [UNKNOWN] if UNKNOWN in by_sector.index else []
    )
    extra = sorted(set(by_sector.index) - set(present))  # defensively keep non-canonical values
    by_sector = (
        by_sector.reindex(list(SECTORS) + [s for s in present + extra if s not in SECTORS])
        .fillna({"contributions": 0, "participants": 0, "share": 0.0})
        .rename_axis("sector")
        .reset_index()
    )
    by_sector["contributions"] = by_sector["contributions"].astype("int64")
    by_sector["participants"] = by_sector["participants"].astype("int64")
    by_sector["sector"] = by_sector["sector"].astype("str")

    frame["_organisation_key"] = _squash(frame["organisation"]).fillna(UNKNOWN)
    named = frame.assign(
        organisation=frame["organisation"].fillna(UNKNOWN)
    )
    grouped = named.groupby("_organisation_key", sort=False)
    by_organisation = pd.DataFrame({
        "organisation": grouped["organisation"].first(),
        "sector": grouped["sector"].agg(_main_sector),
        "contributions": grouped.size(),
        "participants": grouped["author"].nunique(),
    })
    by_organisation["share"] = by_organisation["contributions"] / total if total else np.nan
    by_organisation = (
        by_organisation.sort_values(["contributions", "organisation"], ascending=[False, True])
        .reset_index(drop=True)
        .astype({"organisation": "str", "sector": "str", "contributions": "int64",
                 "participants": "int64"})
    )

    stakeholder_frame = _stakeholder_frame(stakeholders)
    heard = set(by_sector.loc[by_sector["contributions"] > 0, "sector"])
    if len(stakeholder_frame):
        wanted = [s for s in SECTORS if s in set(stakeholder_frame["sector"].astype(str))]
    else:
        wanted = list(EXPECTED_SECTORS)
    missing_sectors = [sector for sector in wanted if sector not in heard]
    heard_organisations = set(frame["_organisation_key"])
    silent = ~_squash(stakeholder_frame["organisation"]).isin(heard_organisations).to_numpy(dtype=bool)
    missing_organisations = stakeholder_frame[silent].reset_index(drop=True)

    authors = frame["author"].astype("string").str.strip().replace("", pd.NA)
    return VoiceBalance(
        by_sector=by_sector,
        by_organisation=by_organisation,
        missing_sectors=missing_sectors,
        missing_organisations=missing_organisations,
        concentration=concentration(authors),
        participants=int(authors.nunique()),
        contributions=total,
    )
