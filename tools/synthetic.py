"""Synthetic but plausible example data for examples, tests and benchmarks.

A development tool, not part of the installed package: it generates, reproducibly from one seed, the bundled example
workspace (``hwb_toolkit/example_workspace``) that ``hwb init`` copies:

- :func:`fingertips_example`: indicator data in the exact 26-column layout of a
  Fingertips all-data CSV export, for 23 real upper-tier local authorities
  (real ONS codes and names), their regions and England, 12 real Fingertips
  indicators (real IDs and names), six periods each. The VALUES are synthetic:
  counts are drawn from binomial and Poisson models with an area deprivation
  effect, regional effects and trends, and a few planted stories for the home
  area (E08000021 Newcastle upon Tyne). Values and confidence limits come from
  the project's own calculators (:func:`hwb_toolkit.indicators.methods.proportion`,
  ``crude_rate`` and ``dsr``, i.e. Wilson, Byar's/exact Poisson and Dobson);
  regions and England aggregate the counts of their areas, including areas not
  written to the file, as Fingertips does ("Aggregated from all known lower
  geography values").
- :func:`strategy_document`: the example ``strategy.yaml`` (real indicator ids).
- :func:`postits`, :func:`open_space_proceedings`, :func:`poll_statements`,
  :func:`poll_votes`, :func:`dot_votes`, :func:`forum_posts`: a one-day
  unconference and its follow-up forum, written by hand here and assigned to
  pseudonymous participants (p001 ...) by the seeded generator. All of it is
  invented; organisations other than the council and the NHS bodies are fictional.
- :func:`actions_register`: a register of 48 actions from 21 organisations, with deliberate
  gaps for the whole-system analyses to find (see :func:`_actions`).
- :func:`write_example_workspace`: writes every file of the workspace.

Everything is deterministic for a given seed (numpy's PCG64 generator), and
files are written with fixed formatting, so regenerating gives the same bytes.
Regenerate the committed copy with::

    python tools/synthetic.py hwb_toolkit/example_workspace
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from hwb_toolkit.indicators import methods, standardised
from hwb_toolkit.schema import ACTION_COLUMNS, CONTRIBUTION_COLUMNS, ENGLAND_CODE

#: The seed of the committed example workspace.
SEED = 20260917

#: The 26 columns of a Fingertips all-data CSV export, in order, spelled as Fingertips does.
FINGERTIPS_COLUMNS: list[str] = [
    "Indicator ID",
    "Indicator Name",
    "Parent Code",
    "Parent Name",
    "Area Code",
    "Area Name",
    "Area Type",
    "Sex",
    "Age",
    "Category Type",
    "Category",
    "Time period",
    "Value",
    "Lower CI 95.0 limit",
    "Upper CI 95.0 limit",
    "Lower CI 99.8 limit",
    "Upper CI 99.8 limit",
    "Count",
    "Denominator",
    "Value note",
    "Recent Trend",
    "Compared to England value or percentiles",
    "Compared to Region value or percentiles",
    "Time period Sortable",
    "New data",
    "Compared to goal",
]

HOME_AREA = "E08000021"
HOME_PLACE = "Newcastle upon Tyne"

UTLA_TYPE = "Counties & UAs (from Apr 2023)"
REGION_TYPE = "Regions (statistical)"
ENGLAND_TYPE = "England"
AGGREGATED_NOTE = "Aggregated from all known lower geography values"
SUPPRESSED_NOTE = "Value suppressed for disclosure control"
DEPRIVATION_CATEGORY_TYPE = "County & UA deprivation deciles in England (IMD2019, 4/23 geography)"
DEPRIVATION_DECILES = (
    "Most deprived decile (IMD2019)",
    "Second most deprived decile (IMD2019)",
    "Third more deprived decile (IMD2019)",
    "Fourth more deprived decile (IMD2019)",
    "Fifth more deprived decile (IMD2019)",
    "Fifth less deprived decile (IMD2019)",
    "Fourth less deprived decile (IMD2019)",
    "Third less deprived decile (IMD2019)",
    "Second least deprived decile (IMD2019)",
    "Least deprived decile (IMD2019)",
)

# --- Areas --------------------------------------------------------------------
# Real ONS codes and names. Populations are rounded mid-2021 estimates; the
# "deprivation" score is an invented latent scale (about -1 to 1.5) that drives
# the synthetic values, ordered roughly as the Index of Multiple Deprivation.

#: Regions: code -> (Fingertips name, population).
REGIONS: dict[str, tuple[str, int]] = {
    "E12000001": ("North East region (statistical)", 2_647_000),
    "E12000002": ("North West region (statistical)", 7_417_000),
    "E12000003": ("Yorkshire and the Humber region (statistical)", 5_481_000),
}
ENGLAND_POPULATION = 56_490_000


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    region: str
    population: int
    deprivation: float
    listed: bool = True  # False: a remainder that only feeds the aggregates


AREAS: tuple[Area, ...] = (
    Area("E06000001", "Hartlepool", "E12000001", 92_300, 0.9),
    Area("E06000002", "Middlesbrough", "E12000001", 143_900, 1.4),
    Area("E06000003", "Redcar and Cleveland", "E12000001", 136_500, 0.7),
    Area("E06000004", "Stockton-on-Tees", "E12000001", 196_600, 0.3),
    Area("E06000005", "Darlington", "E12000001", 107_800, 0.4),
    Area("E06000047", "County Durham", "E12000001", 522_100, 0.5),
    Area("E06000057", "Northumberland", "E12000001", 320_600, 0.0),
    Area("E08000021", "Newcastle upon Tyne", "E12000001", 300_100, 0.7),
    Area("E08000022", "North Tyneside", "E12000001", 209_000, 0.1),
    Area("E08000023", "South Tyneside", "E12000001", 147_800, 0.8),
    Area("E08000024", "Sunderland", "E12000001", 274_200, 0.8),
    Area("E08000037", "Gateshead", "E12000001", 196_100, 0.6),
    Area("E06000008", "Blackburn with Darwen", "E12000002", 154_800, 1.1),
    Area("E06000009", "Blackpool", "E12000002", 141_100, 1.5),
    Area("E08000001", "Bolton", "E12000002", 296_000, 0.7),
    Area("E08000003", "Manchester", "E12000002", 552_000, 1.2),
    Area("E08000006", "Salford", "E12000002", 270_000, 0.9),
    Area("E08000012", "Liverpool", "E12000002", 486_100, 1.3),
    Area("E06000010", "Kingston upon Hull", "E12000003", 267_000, 1.3),
    Area("E06000014", "York", "E12000003", 202_800, -0.6),
    Area("E08000019", "Sheffield", "E12000003", 556_500, 0.5),
    Area("E08000032", "Bradford", "E12000003", 546_400, 1.0),
    Area("E08000035", "Leeds", "E12000003", 812_000, 0.4),
)

#: England's deprivation score is about 0 by construction of the remainders.
_REMAINDER_DEPRIVATION = {"E12000001": 0.0, "E12000002": 0.2, "E12000003": 0.1, "rest": -0.15}
#: Regional effects (logit or log scale units) on top of deprivation.
_REGION_EFFECT = {"E12000001": 0.10, "E12000002": 0.05, "E12000003": 0.03, "rest": 0.0}


def _all_areas() -> list[Area]:
    """Listed areas plus one unlisted remainder per region and one for the rest of England."""
    areas = list(AREAS)
    for region, (name, population) in REGIONS.items():
        listed = sum(a.population for a in AREAS if a.region == region)
        if population > listed:
            areas.append(
                Area(f"rest-{region}", f"rest of {name}", region, population - listed,
                     _REMAINDER_DEPRIVATION[region], listed=False)
            )
    areas.append(
        Area("rest-E", "rest of England", "rest", ENGLAND_POPULATION - sum(p for _, p in REGIONS.values()),
             _REMAINDER_DEPRIVATION["rest"], listed=False)
    )
    return areas


# --- Indicators -----------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorModel:
    """How one real Fingertips indicator is simulated (values are synthetic)."""

    id: int
    name: str
    age: str
    calculator: str  # proportion | crude_rate | dsr
    multiplier: float
    polarity: str
    objective: str
    theme: str
    england: tuple[float, ...]  # England's level per period, on the published scale
    deprivation_effect: float  # per unit of deprivation, logit (proportion) or log (rate) scale
    area_sd: float  # spread of area effects
    slope_sd: float  # spread of area trends per period
    denominator: str  # how the denominator is made: see _denominators
    home_shift: float = 0.0  # planted effect for the home area (same scale as deprivation_effect)
    home_slope: float = 0.0  # planted trend for the home area per period
    periods: tuple[str, ...] = ("2018/19", "2019/20", "2020/21", "2021/22", "2022/23", "2023/24")
    sexes: tuple[str, ...] = ("Persons",)
    deprivation_block: bool = False


FINANCIAL_YEARS = ("2018/19", "2019/20", "2020/21", "2021/22", "2022/23", "2023/24")
THREE_YEAR_PERIODS = ("2017 - 19", "2018 - 20", "2019 - 21", "2020 - 22", "2021 - 23", "2022 - 24")

INDICATORS: tuple[IndicatorModel, ...] = (
    IndicatorModel(93014, "Percentage of physically active adults", "19+ yrs", "proportion", 100,
                   "high_is_good", "active-lives", "walking-cycling",
                   (67.2, 66.4, 65.9, 67.3, 67.1, 67.4), -0.16, 0.08, 0.02, "active_lives",
                   home_shift=-0.05, home_slope=0.05),
    IndicatorModel(93015, "Percentage of physically inactive adults", "19+ yrs", "proportion", 100,
                   "low_is_good", "active-lives", "sport-leisure",
                   (21.4, 22.9, 23.4, 22.3, 22.6, 22.1), 0.18, 0.08, 0.02, "active_lives",
                   home_shift=0.22),
    IndicatorModel(93088, "Percentage of adults (aged 18+) classified as overweight or obese", "18+ yrs",
                   "proportion", 100, "low_is_good", "healthy-food", "cooking-skills",
                   (62.3, 62.8, 63.5, 63.8, 64.0, 64.5), 0.12, 0.06, 0.015, "active_lives",
                   home_shift=0.12),
    IndicatorModel(20601, "Reception prevalence of overweight (including obesity)", "4-5 yrs",
                   "proportion", 100, "low_is_good", "healthy-food", "school-food",
                   (22.6, 23.0, 27.7, 22.3, 21.3, 22.1), 0.10, 0.05, 0.01, "reception",
                   home_shift=-0.06),
    IndicatorModel(20602, "Year 6 prevalence of overweight (including obesity)", "10-11 yrs",
                   "proportion", 100, "low_is_good", "healthy-food", "food-environment",
                   (34.3, 35.2, 40.9, 37.8, 36.6, 35.8), 0.12, 0.04, 0.01, "year6",
                   home_shift=0.05, home_slope=0.01, deprivation_block=True),
    IndicatorModel(90280, "Social Isolation: percentage of adult social care users who have as much "
                   "social contact as they would like", "18+ yrs", "proportion", 100, "high_is_good",
                   "connected-communities", "loneliness",
                   (45.9, 45.9, 42.0, 40.6, 44.4, 45.6), -0.05, 0.10, 0.03, "care_survey",
                   home_shift=0.10, home_slope=-0.10),
    IndicatorModel(22301, "Self-reported wellbeing - people with a low satisfaction score", "16+ yrs",
                   "proportion", 100, "low_is_good", "mental-wellbeing", "early-help",
                   (4.3, 5.0, 6.1, 5.0, 5.6, 5.5), 0.12, 0.12, 0.03, "population_survey"),
    IndicatorModel(22303, "Self-reported wellbeing - people with a low happiness score", "16+ yrs",
                   "proportion", 100, "low_is_good", "mental-wellbeing", "early-help",
                   (7.8, 8.7, 9.2, 8.4, 8.9, 8.9), 0.10, 0.10, 0.03, "population_survey"),
    IndicatorModel(22304, "Self-reported wellbeing - people with a high anxiety score", "16+ yrs",
                   "proportion", 100, "low_is_good", "mental-wellbeing", "workplace-wellbeing",
                   (19.7, 21.9, 24.2, 22.6, 23.3, 22.9), 0.05, 0.07, 0.02, "population_survey",
                   home_slope=0.03),
    IndicatorModel(848, "Depression: Recorded prevalence (aged 18+)", "18+ yrs", "proportion", 100,
                   "no_judgement", "mental-wellbeing", "early-help",
                   (10.7, 11.6, 12.3, 12.7, 13.2, 13.8), 0.10, 0.08, 0.01, "gp_register",
                   home_shift=0.08),
    IndicatorModel(90812, "Hospital admissions for mental health conditions", "<18 yrs", "crude_rate",
                   100_000, "low_is_good", "mental-wellbeing", "young-people-mh",
                   (89.5, 88.3, 87.5, 99.8, 84.7, 77.0), 0.15, 0.20, 0.04, "under_18",
                   home_shift=0.45),
    IndicatorModel(41001, "Suicide rate", "10+ yrs", "dsr", 100_000, "low_is_good",
                   "mental-wellbeing", "suicide-prevention",
                   (10.1, 10.3, 10.4, 10.5, 10.7, 10.9), 0.12, 0.08, 0.0, "suicide",
                   home_shift=0.05, periods=THREE_YEAR_PERIODS, sexes=("Persons", "Male", "Female")),
)

#: Plain-English phrases that follow a percentage in the briefing's sentences.
INDICATOR_SUBJECTS: dict[int, str] = {
    93014: "of adults are physically active",
    93015: "of adults are physically inactive",
    93088: "of adults are overweight or obese",
    20601: "of Reception children (aged 4 to 5) are overweight or obese",
    20602: "of Year 6 children (aged 10 to 11) are overweight or obese",
    90280: "of adult social care users have as much social contact as they would like",
    22301: "of people aged 16 and over report low satisfaction with their lives",
    22303: "of people aged 16 and over report low happiness",
    22304: "of people aged 16 and over report high anxiety",
    848: "of adults registered with a GP have a recorded diagnosis of depression",
}

# Shares of the total population by ESP2013 band 10-14 ... 90+ (England, roughly 2021).
_SUICIDE_BAND_SHARE = np.array(
    [0.061, 0.057, 0.061, 0.067, 0.069, 0.067, 0.063, 0.064, 0.069,
     0.067, 0.058, 0.050, 0.050, 0.036, 0.025, 0.015, 0.009]
)  # fmt: skip
# Suicide deaths per 100,000 persons per year by band, before area and sex effects.
_SUICIDE_BAND_RATE = np.array(
    [0.9, 5.4, 9.0, 10.4, 11.2, 12.2, 13.5, 15.3, 15.3, 13.0, 10.4, 8.1, 8.1, 8.6, 9.4, 9.9, 8.1]
)  # fmt: skip
_SEX_FACTOR = {"Male": 1.5, "Female": 0.5}
_SUICIDE_STANDARD = np.asarray(standardised.ESP2013[2:], dtype=float)


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _sortable(period: str) -> int:
    return int(period[:4]) * 10000


def _denominators(kind: str, population: np.ndarray, rng: np.random.Generator, n_periods: int,
                  listed: np.ndarray) -> np.ndarray:
    """Denominators (areas x periods) for one kind of data source.

    Surveys have samples (Active Lives, Annual Population Survey, Adult Social
    Care Survey), so their confidence intervals are as wide as published ones;
    registers and counts of events use populations. An unlisted remainder
    stands for many local authorities, hence its larger fixed part.
    """
    n_las = np.where(listed, 1.0, np.maximum(population / 350_000, 1.0))
    base = {
        "active_lives": 420 * n_las + population * 0.0018,
        "population_survey": 260 * n_las + population * 0.0016,
        "care_survey": 140 * n_las + population * 0.0009,
        "reception": population * 0.0115 * 0.95,
        "year6": population * 0.0121 * 0.95,
        "gp_register": population * 0.80 * 1.04,
        "under_18": population * 0.21,
    }[kind]
    wobble = rng.normal(1.0, 0.06 if kind in ("active_lives", "population_survey", "care_survey") else 0.01,
                        size=(population.size, n_periods))
    growth = 1 + 0.004 * np.arange(n_periods)
    return np.round(base[:, None] * wobble * growth[None, :]).astype(np.int64)


@dataclass
class _AreaEffects:
    shift: np.ndarray
    slope: np.ndarray


def _area_effects(model: IndicatorModel, areas: list[Area], rng: np.random.Generator) -> _AreaEffects:
    deprivation = np.array([a.deprivation for a in areas])
    region = np.array([_REGION_EFFECT[a.region] for a in areas])
    listed = np.array([a.listed for a in areas])
    sign = 1.0 if model.deprivation_effect >= 0 else -1.0
    shift = model.deprivation_effect * deprivation + sign * region * abs(model.deprivation_effect) * 4
    shift = shift + np.where(listed, rng.normal(0, model.area_sd, len(areas)), 0.0)
    slope = np.where(listed, rng.normal(0, model.slope_sd, len(areas)), 0.0)
    home = np.array([a.code == HOME_AREA for a in areas])
    shift = np.where(home, model.deprivation_effect * 0.7 + model.home_shift, shift)
    slope = np.where(home, model.home_slope, slope)
    return _AreaEffects(shift, slope)


def _time_index(n_periods: int) -> np.ndarray:
    return np.arange(n_periods) - (n_periods - 1)


def _simulate_proportion(model, areas, rng):
    """Counts and denominators (areas x periods) for a proportion indicator."""
    population = np.array([a.population for a in areas], dtype=float)
    listed = np.array([a.listed for a in areas])
    n_periods = len(model.periods)
    denominator = _denominators(model.denominator, population, rng, n_periods, listed)
    effects = _area_effects(model, areas, rng)
    england = np.asarray(model.england) / model.multiplier
    logit = _logit(england)[None, :] + effects.shift[:, None] + effects.slope[:, None] * _time_index(n_periods)
    probability = _expit(logit)
    count = rng.binomial(denominator, probability)
    return count, denominator


def _simulate_rate(model, areas, rng):
    """Event counts and populations (areas x periods) for a crude rate indicator."""
    population = np.array([a.population for a in areas], dtype=float)
    listed = np.array([a.listed for a in areas])
    n_periods = len(model.periods)
    denominator = _denominators(model.denominator, population, rng, n_periods, listed)
    effects = _area_effects(model, areas, rng)
    england = np.asarray(model.england) / model.multiplier
    rate = england[None, :] * np.exp(effects.shift[:, None] + effects.slope[:, None] * _time_index(n_periods))
    count = rng.poisson(denominator * rate)
    return count, denominator


def _simulate_suicide(model, areas, rng):
    """Deaths and populations by area, sex, period and age band, pooled over three years.

    Returns a long frame: area index, sex, period index, band index, count, population.
    """
    population = np.array([a.population for a in areas], dtype=float)
    effects = _area_effects(model, areas, rng)
    n_years = len(model.periods) + 2
    year_factor = np.interp(np.arange(n_years), [0, n_years - 1], [0.97, 1.06])
    frames = []
    for sex, factor in _SEX_FACTOR.items():
        band_pop = np.round(population[:, None, None] * _SUICIDE_BAND_SHARE[None, None, :] / 2
                            * (1 + 0.004 * np.arange(n_years))[None, :, None])
        rate = (_SUICIDE_BAND_RATE[None, None, :] / 100_000 * factor * year_factor[None, :, None]
                * np.exp(effects.shift)[:, None, None])
        deaths = rng.poisson(band_pop * rate)
        # pool three consecutive years per published period
        pooled_deaths = deaths[:, :-2] + deaths[:, 1:-1] + deaths[:, 2:]
        pooled_pop = band_pop[:, :-2] + band_pop[:, 1:-1] + band_pop[:, 2:]
        a, p, b = np.indices(pooled_deaths.shape)
        frames.append(pd.DataFrame({
            "area": a.ravel(), "sex": sex, "period": p.ravel(), "band": b.ravel(),
            "count": pooled_deaths.ravel(), "population": pooled_pop.ravel(),
        }))
    long = pd.concat(frames, ignore_index=True)
    persons = long.groupby(["area", "period", "band"], as_index=False)[["count", "population"]].sum()
    persons["sex"] = "Persons"
    return pd.concat([persons, long], ignore_index=True)


# --- assembling the Fingertips frame -------------------------------------------------


def _geography(areas: list[Area]) -> pd.DataFrame:
    """One row per published geography: England, regions, listed areas (in Fingertips' order)."""
    rows = [dict(key="E", area_code=ENGLAND_CODE, area_name="England", area_type=ENGLAND_TYPE,
                 parent_code="", parent_name="", level=0)]
    for code, (name, _) in REGIONS.items():
        rows.append(dict(key=code, area_code=code, area_name=name, area_type=REGION_TYPE,
                         parent_code=ENGLAND_CODE, parent_name="England", level=1))
    for region in REGIONS:
        for area in sorted((a for a in areas if a.listed and a.region == region), key=lambda a: a.code):
            rows.append(dict(key=area.code, area_code=area.code, area_name=area.name, area_type=UTLA_TYPE,
                             parent_code=region, parent_name=REGIONS[region][0], level=2))
    return pd.DataFrame(rows)


def _membership(areas: list[Area]) -> pd.DataFrame:
    """Pairs (geography key, simulated area index): which simulated areas sum into which geography."""
    pairs = []
    for index, area in enumerate(areas):
        pairs.append(("E", index))
        if area.region in REGIONS:
            pairs.append((area.region, index))
        if area.listed:
            pairs.append((area.code, index))
    return pd.DataFrame(pairs, columns=["key", "area"])


def _aggregate(long: pd.DataFrame, membership: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum counts and denominators of simulated areas into published geographies."""
    merged = membership.merge(long, on="area")
    return merged.groupby(["key", *by], as_index=False, sort=False)[["count", "denominator"]].sum()


def _values(model: IndicatorModel, table: pd.DataFrame) -> pd.DataFrame:
    """Values and 95%/99.8% limits from the project's calculators (one row per table row)."""
    if model.calculator == "proportion":
        out = methods.proportion(table, "count", "denominator", multiplier=model.multiplier)
    elif model.calculator == "crude_rate":
        out = methods.crude_rate(table, "count", "denominator", multiplier=model.multiplier)
    else:
        raise ValueError(model.calculator)
    return out


def _indicator_frame(model: IndicatorModel, areas: list[Area], geography: pd.DataFrame,
                     membership: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    if model.calculator == "dsr":
        bands = _simulate_suicide(model, areas, rng)
        merged = membership.merge(bands, on="area")
        summed = merged.groupby(["key", "sex", "period", "band"], as_index=False, sort=False)[
            ["count", "population"]].sum()
        summed = summed.sort_values(["key", "sex", "period", "band"], kind="stable")
        table = standardised.dsr(summed, "count", "population", standard_population=_SUICIDE_STANDARD,
                            multiplier=model.multiplier, group_by=["key", "sex", "period"])
        table = table.rename(columns={"total_count": "count", "total_pop": "denominator"})
    else:
        simulate = _simulate_proportion if model.calculator == "proportion" else _simulate_rate
        count, denominator = simulate(model, areas, rng)
        a, p = np.indices(count.shape)
        long = pd.DataFrame({"area": a.ravel(), "period": p.ravel(),
                             "count": count.ravel(), "denominator": denominator.ravel()})
        table = _aggregate(long, membership, ["period"])
        table["sex"] = "Persons"
        table = _values(model, table)
    table = geography.merge(table, on="key", how="inner")
    table["indicator_id"] = model.id
    table["indicator_name"] = model.name
    table["age"] = model.age
    table["category_type"] = ""
    table["category"] = ""
    table["period_index"] = table["period"]
    table["time_period"] = [model.periods[i] for i in table["period"]]
    table["sortable"] = [_sortable(model.periods[i]) for i in table["period"]]
    table["value_note"] = np.where(table["level"] < 2, AGGREGATED_NOTE, "")
    # Small counts are suppressed in local authorities (the aggregates keep them).
    if model.calculator != "proportion":
        small = (table["level"] == 2) & ((table["count"] < 10) | table["value"].isna())
        table.loc[small, "value_note"] = SUPPRESSED_NOTE
    return table


def _deprivation_block(model: IndicatorModel, england: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """England by deprivation decile (a category block, as Fingertips publishes for NCMP)."""
    gradient = np.linspace(0.33, -0.33, 10)
    rows = []
    for _, row in england.iterrows():
        share = rng.dirichlet(np.full(10, 400.0))
        denominator = np.round(row["denominator"] * share).astype(np.int64)
        probability = _expit(_logit(row["value"] / model.multiplier) + gradient)
        count = rng.binomial(denominator, probability)
        for decile, x, n in zip(DEPRIVATION_DECILES, count, denominator, strict=True):
            rows.append({**row.to_dict(), "count": int(x), "denominator": int(n),
                         "category_type": DEPRIVATION_CATEGORY_TYPE, "category": decile})
    block = pd.DataFrame(rows).drop(columns=["value", "lower_ci95", "upper_ci95", "lower_ci998", "upper_ci998"])
    block = _values(model, block)
    block["value_note"] = AGGREGATED_NOTE
    block["category_row"] = True
    return block


def _comparisons(model: IndicatorModel, table: pd.DataFrame) -> pd.DataFrame:
    """Compared to England / Region, and the recent trend on the latest period."""
    try:
        from hwb_toolkit.indicators.compare import compare_to_benchmark, recent_trend
    except ImportError:  # the comparison engine is not installed: published columns say so
        table["compared_england"] = "Not compared"
        table["compared_parent"] = "Not compared"
        table["recent_trend"] = ""
        return table
    keys = ["sex", "period_index"]
    plain = table[~table["category_row"]]
    england = plain[plain["level"] == 0].set_index(keys)["value"]
    regions = plain[plain["level"] == 1].set_index(["area_code", *keys])["value"]
    benchmark_england = pd.Series(
        england.reindex(pd.MultiIndex.from_frame(table[keys])).to_numpy(), index=table.index)
    benchmark_parent = pd.Series(
        regions.reindex(pd.MultiIndex.from_frame(table[["parent_code", *keys]])).to_numpy(), index=table.index)
    suppressed = table["value_note"] == SUPPRESSED_NOTE
    value = table["value"].where(~suppressed)
    compare_england = (table["level"] > 0) & ~table["category_row"]
    compare_parent = (table["level"] == 2) & ~table["category_row"]
    england_labels = np.asarray(compare_to_benchmark(
        value.to_numpy(float), table["lower_ci95"].to_numpy(float), table["upper_ci95"].to_numpy(float),
        benchmark_england.to_numpy(float), model.polarity), dtype=object)
    parent_labels = np.asarray(compare_to_benchmark(
        value.to_numpy(float), table["lower_ci95"].to_numpy(float), table["upper_ci95"].to_numpy(float),
        benchmark_parent.to_numpy(float), model.polarity), dtype=object)
    table["compared_england"] = np.where(compare_england, england_labels, "Not compared")
    table["compared_parent"] = np.where(compare_parent, parent_labels, "Not compared")
    # Recent trend, on the latest period of each area and sex (every series has all periods).
    n_periods = len(model.periods)
    table["recent_trend"] = ""
    method = "proportion" if model.calculator == "proportion" else "general"
    series = table[~table["category_row"]].sort_values(["area_code", "sex", "period_index"], kind="stable")
    shape = (-1, n_periods)
    values = series["value"].where(~suppressed[series.index]).to_numpy(float).reshape(shape)
    lower = series["lower_ci95"].to_numpy(float).reshape(shape)
    upper = series["upper_ci95"].to_numpy(float).reshape(shape)
    count = series["count"].to_numpy(float).reshape(shape)
    denominator = series["denominator"].to_numpy(float).reshape(shape)
    latest_rows = series.index.to_numpy().reshape(shape)[:, -1]
    labels = [
        recent_trend(values[i, -5:], lower[i, -5:], upper[i, -5:], count=count[i, -5:],
                     denominator=denominator[i, -5:], polarity=model.polarity, method=method).label
        for i in range(values.shape[0])
    ]
    table.loc[latest_rows, "recent_trend"] = labels
    return table


def _number(value) -> str:
    """Fingertips prints full precision; 15 significant digits, blank when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return ""
    return f"{float(value):.15g}"


def _integer(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return str(int(round(float(value))))


def fingertips_example(seed: int = SEED) -> pd.DataFrame:
    """Synthetic indicator data in the exact layout of a Fingertips all-data CSV export.

    Returns a frame with :data:`FINGERTIPS_COLUMNS` (text cells, as the CSV
    holds them: numbers printed to 15 significant digits, blanks as ""). Area
    codes, names and indicator ids/names are real; every value is synthetic.
    Values and confidence limits (95% and 99.8%) come from the project's
    calculators; ``Compared to ...`` and ``Recent Trend`` from its comparison
    engine (Fingertips' rules: 95% confidence intervals against the benchmark;
    trend on the latest five points, shown on the latest period).
    """
    rng = np.random.default_rng(seed)
    areas = _all_areas()
    geography = _geography(areas)
    membership = _membership(areas)
    frames = []
    for model in INDICATORS:
        table = _indicator_frame(model, areas, geography, membership, rng)
        table["category_row"] = False
        if model.deprivation_block:
            england = table[table["level"] == 0]
            block = _deprivation_block(model, england, rng)
            table = pd.concat([table, block], ignore_index=True)
        n_periods = len(model.periods)
        table = _comparisons(model, table)
        table["new_data"] = np.where(table["period_index"] == n_periods - 1, "New data", "")
        table["recent_trend"] = np.where(table["category_row"], "", table["recent_trend"])
        sex_order = {sex: i for i, sex in enumerate(model.sexes)}
        table["sex_order"] = table["sex"].map(sex_order)
        table["category_order"] = table["category"].map(
            {c: i + 1 for i, c in enumerate(DEPRIVATION_DECILES)}).fillna(0)
        table["geo_order"] = table["area_code"].map({c: i for i, c in enumerate(geography["area_code"])})
        table = table.sort_values(["sex_order", "period_index", "level", "category_order", "geo_order"],
                                  kind="stable")
        frames.append(table)
    data = pd.concat(frames, ignore_index=True)
    suppressed = data["value_note"] == SUPPRESSED_NOTE
    blank_value = suppressed | data["value"].isna()
    out = pd.DataFrame({
        "Indicator ID": data["indicator_id"].astype(str),
        "Indicator Name": data["indicator_name"],
        "Parent Code": data["parent_code"],
        "Parent Name": data["parent_name"],
        "Area Code": data["area_code"],
        "Area Name": data["area_name"],
        "Area Type": data["area_type"],
        "Sex": data["sex"],
        "Age": data["age"],
        "Category Type": data["category_type"],
        "Category": data["category"],
        "Time period": data["time_period"],
    })
    for column, source in (("Value", "value"), ("Lower CI 95.0 limit", "lower_ci95"),
                           ("Upper CI 95.0 limit", "upper_ci95"), ("Lower CI 99.8 limit", "lower_ci998"),
                           ("Upper CI 99.8 limit", "upper_ci998")):
        out[column] = [("" if blank else _number(v)) for v, blank in zip(data[source], blank_value, strict=True)]
    out["Count"] = [("" if blank else _integer(v)) for v, blank in zip(data["count"], suppressed, strict=True)]
    out["Denominator"] = [_integer(v) for v in data["denominator"]]
    out["Value note"] = data["value_note"]
    out["Recent Trend"] = data["recent_trend"]
    out["Compared to England value or percentiles"] = data["compared_england"]
    out["Compared to Region value or percentiles"] = data["compared_parent"]
    out["Time period Sortable"] = data["sortable"].astype(str)
    out["New data"] = data["new_data"]
    out["Compared to goal"] = ""
    return out[FINGERTIPS_COLUMNS].reset_index(drop=True)


def fingertips_csv_text(frame: pd.DataFrame) -> str:
    """The frame as a Fingertips CSV file: CRLF line ends, quotes only where needed."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue()


# --- Strategy ------------------------------------------------------------------------

OBJECTIVES = [
    {"id": "active-lives", "title": "Active lives",
     "description": "More people moving more, every day, in ways that fit their lives, "
                    "starting with those who move least."},
    {"id": "healthy-food", "title": "Healthy food",
     "description": "Good, affordable food within reach of every household, and a healthier "
                    "weight for children and adults without blame or shame."},
    {"id": "connected-communities", "title": "Connected communities",
     "description": "Fewer people lonely or cut off; places to meet, neighbours who look out "
                    "for each other, and transport that gets people there."},
    {"id": "mental-wellbeing", "title": "Mental wellbeing",
     "description": "Better mental wellbeing at every age, help early and close to home, and "
                    "fewer lives lost to suicide."},
]

# Keywords match as whole words and phrases, with their plurals (hwb_toolkit.voices.themes):
# each list names the forms it means ("walk", "walking", "walked") and avoids words that
# belong to several themes ("older people", "waiting list", "crisis" alone).
THEMES = [
    {"id": "walking-cycling", "objective": "active-lives", "title": "Walking and cycling",
     "keywords": ["walk", "walking", "walked", "walking group", "cycle", "cycling", "cyclist", "bike",
                  "path", "pavement", "cycle lane", "active travel", "school streets", "walk leader"]},
    {"id": "parks-green-spaces", "objective": "active-lives", "title": "Parks and green spaces",
     "keywords": ["park", "green space", "playground", "allotment", "outdoor gym", "nature", "tree",
                  "community growing", "growing food"]},
    {"id": "sport-leisure", "objective": "active-lives", "title": "Sport, leisure and exercise",
     "keywords": ["sport", "leisure centre", "swimming", "swim", "pool", "football", "gym", "exercise",
                  "fitness", "dance", "sports hall", "activity session", "parkrun"]},
    {"id": "active-ageing", "objective": "active-lives", "title": "Active older age",
     "keywords": ["chair based", "falls", "falls prevention", "strength and balance", "tai chi",
                  "mobility", "stay active", "older people's exercise"]},
    {"id": "food-insecurity", "objective": "healthy-food", "title": "Food insecurity and affordability",
     "keywords": ["food bank", "foodbank", "pantry", "hungry", "hunger", "skipping meals", "afford",
                  "affordable", "voucher", "healthy start", "free school meals", "food parcel",
                  "cost of living", "heating and eating", "fuel poverty", "costs more", "price"]},
    {"id": "cooking-skills", "objective": "healthy-food", "title": "Cooking skills and eating well",
     "keywords": ["cook", "cooking", "cookery", "recipe", "kitchen", "slow cooker", "nutrition",
                  "dietitian", "lunch club", "cook from scratch", "eat together"]},
    {"id": "food-environment", "objective": "healthy-food", "title": "Takeaways, shops and advertising",
     "keywords": ["takeaway", "fast food", "hot food", "junk food", "advertising", "ads", "fizzy", "pop",
                  "vending", "corner shop", "supermarket", "greengrocer", "shop", "chicken shop",
                  "fruit and veg", "fresh produce", "healthier options"]},
    {"id": "school-food", "objective": "healthy-food", "title": "Children's food and school meals",
     "keywords": ["school dinners", "school meals", "breakfast club", "holiday club", "packed lunch",
                  "nursery", "infant feeding", "kids eat", "ncmp", "holiday activities"]},
    {"id": "loneliness", "objective": "connected-communities", "title": "Loneliness and isolation",
     "keywords": ["lonely", "loneliness", "isolated", "isolation", "alone", "on my own", "social contact",
                  "befriending", "befriender", "without speaking", "no friends", "carer", "living alone"]},
    {"id": "community-spaces", "objective": "connected-communities", "title": "Places to meet",
     "keywords": ["community centre", "library", "warm space", "hub", "cafe", "church hall",
                  "meeting place", "noticeboard", "community building"]},
    {"id": "volunteering", "objective": "connected-communities", "title": "Volunteering and neighbourliness",
     "keywords": ["volunteer", "volunteering", "neighbour", "good neighbour", "street party",
                  "street parties", "mutual aid", "faith group", "intergenerational"]},
    {"id": "transport-access", "objective": "connected-communities", "title": "Getting about",
     "keywords": ["bus", "metro", "transport", "fare", "lift", "wheelchair", "step-free", "minibus",
                  "travel buddy", "bus pass"]},
    {"id": "early-help", "objective": "mental-wellbeing", "title": "Early help and talking therapies",
     "keywords": ["talking therapy", "talking therapies", "counselling", "self-refer", "self-referral",
                  "peer support", "gp appointment", "social prescribing", "social prescriber", "tablets",
                  "online apps", "drop-in", "link worker", "depression", "low mood", "perinatal",
                  "mental health support", "mental health services"]},
    {"id": "young-people-mh", "objective": "mental-wellbeing", "title": "Young people's mental health",
     "keywords": ["young people", "teenagers", "exams", "camhs", "self-harm", "youth worker",
                  "social media", "young carer", "neurodivergent", "school refused",
                  "assessment", "whole-school", "youth council", "youth centre"]},
    {"id": "workplace-wellbeing", "objective": "mental-wellbeing", "title": "Wellbeing at work",
     "keywords": ["employer", "workplace", "staff", "shifts", "burnout", "sickness",
                  "hr department", "menopause", "at work", "workforce", "mental health first aid"]},
    {"id": "suicide-prevention", "objective": "mental-wellbeing", "title": "Suicide prevention and crisis",
     "keywords": ["suicide", "suicidal", "bereavement", "bereaved", "crisis line", "crisis cafe",
                  "in crisis", "mental health crisis", "a&e", "gambling", "barbers", "hairdressers"]},
]

STAKEHOLDERS = [
    ("Newcastle City Council", "council"),
    ("Newcastle Libraries", "council"),
    ("Newcastle upon Tyne Hospitals NHS Foundation Trust", "nhs"),
    ("Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust", "nhs"),
    ("NHS North East and North Cumbria Integrated Care Board", "nhs"),
    ("West End Primary Care Network", "nhs"),
    ("Riverside Community Food Hub", "vcse"),
    ("Tyneside Walking Friends", "vcse"),
    ("West End Befriending Service", "vcse"),
    ("Northside Youth Project", "vcse"),
    ("Eastside Men's Shed", "vcse"),
    ("Open Door Wellbeing Collective", "vcse"),
    ("Tyne Valley Grocers", "business"),
    ("Northern Bike Works", "business"),
    ("Quayside Business Network", "business"),
    ("Tyneside Hospitality Association", "business"),
    ("West End Residents' Forum", "resident"),
    ("Parents' Voice Network", "resident"),
    ("Tyneside University", "other"),
    ("Tyneside Transport Partnership", "other"),
    ("Northside Housing Association", "other"),
    ("Tyneside Community Safety Partnership", "other"),
]


def strategy_document() -> dict:
    """The example strategy as the mapping ``strategy.yaml`` holds (README format)."""
    return {
        "name": "Example Health and Wellbeing Partnership",
        "home_area": HOME_AREA,
        "vision": (
            "Everyone in our area lives an active, connected, healthy life: moving more, "
            "eating well and feeling part of their community, with the fairest chances for "
            "those who have had the least."
        ),
        "objectives": OBJECTIVES,
        "themes": THEMES,
        "indicators": [
            {"id": m.id, "name": m.name, "polarity": m.polarity, "calculator": m.calculator,
             "multiplier": int(m.multiplier), "objective": m.objective, "theme": m.theme,
             **({"subject": INDICATOR_SUBJECTS[m.id]} if m.id in INDICATOR_SUBJECTS else {})}
            for m in INDICATORS
        ],
        "stakeholders": [{"organisation": o, "sector": s} for o, s in STAKEHOLDERS],
    }


STRATEGY_HEADER = """\
# Example strategy (SYNTHETIC). Written by tools/synthetic.py; see README.md.
# Indicator ids and names are real Fingertips indicators; the partnership, its
# wording and most organisation names are invented for the example.
"""


def strategy_yaml() -> str:
    """The example ``strategy.yaml`` text."""
    body = yaml.safe_dump(strategy_document(), sort_keys=False, allow_unicode=True, width=100)
    return STRATEGY_HEADER + body


# --- Voices: the unconference ---------------------------------------------------------

EVENT = "Moving more, eating well, feeling connected: unconference, 17 September 2026"
EVENT_DATE = "2026-09-17"
POLL_SOURCE = "Unconference agree/disagree poll"
DOT_SOURCE = "Unconference dot vote on themes"
FORUM_SOURCE = "Partnership online forum"

SESSIONS = {
    "move": ("Wall 1: Moving more", "09:40"),
    "food": ("Wall 2: Eating well", "10:30"),
    "connect": ("Wall 3: Feeling connected", "11:20"),
    "mind": ("Wall 4: Feeling well in mind", "13:30"),
    "else": ("Wall 5: Anything else?", "14:40"),
}

# (session, sector, text, organisation hint). Written for this example; none is a real quote.
POSTIT_TEXTS: list[tuple[str, str, str, str | None]] = [
    # Moving more
    ("move", "resident", "The cycle lane on Westgate Road just stops at the junction, I don't feel safe on my bike with the kids", None),
    ("move", "resident", "more benches on walking routes so older people can rest half way", None),
    ("move", "resident", "Swimming is too expensive for a family of 5, £4.50 each adds up fast", None),
    ("move", "resident", "I would walk more if the paths through the park were lit in winter", None),
    ("move", "resident", "Free bike loan scheme for people who can't afford a bike", None),
    ("move", "resident", "pavements are full of cars parked on them. pushchair and wheelchair users have to go in the road", None),
    ("move", "resident", "My mam goes to chair based exercise at the community centre and it's the only time she leaves the house all week", None),
    ("move", "resident", "leisure centre timetable changes every month, hard to plan around shifts", None),
    ("move", "resident", "Women only swim sessions please!! Not everyone is comfortable in mixed sessions", None),
    ("move", "resident", "wlaking groups that go at a slow pace for people with long term conditions", None),
    ("move", "resident", "Parkrun is great but 9am on a saturday is when I'm at work", None),
    ("move", "resident", "Outdoor gym in the park has been broken for months, nobody fixes it", None),
    ("move", "resident", "Kids need somewhere safe to play football that isn't the road", None),
    ("move", "resident", "dog walking is my exercise - keep the parks clean and safe", None),
    ("move", "resident", "Allotments have a 3 year waiting list. Growing food is exercise AND healthy food", None),
    ("move", "resident", "I'm 74 and I want to stay active but everything is aimed at young people", None),
    ("move", "resident", "Make the parks feel safe - antisocial behaviour puts me off going after 4pm in winter", None),
    ("move", "vcse", "Our walking group has 40 regulars but we rely on one volunteer leader, if she stops it stops", "Tyneside Walking Friends"),
    ("move", "vcse", "Fund the small clubs, not just the big leisure centres. We run a dance class for £2 a session and can't get a grant", None),
    ("move", "vcse", "Led walks from GP surgeries work - people turn up when the doctor tells them to", "Tyneside Walking Friends"),
    ("move", "vcse", "Bike maintenance workshops - lots of people have a bike in the shed with a flat tyre", None),
    ("move", "vcse", "Strength and balance classes have waiting lists in the west end", None),
    ("move", "vcse", "Disabled people are missing from every active lives conversation. Accessible sessions need accessible transport to get there", None),
    ("move", "vcse", "Active travel is not just lycra. Walking to school, to the shop, to the bus stop all counts", "Tyneside Walking Friends"),
    ("move", "council", "We have a cycling and walking infrastructure plan but delivery is slow and patchy", None),
    ("move", "council", "Leisure centre concessions exist but uptake is low - people don't know about them", None),
    ("move", "council", "School streets pilots cut traffic at the gate and more kids walked", None),
    ("move", "council", "Need better data on who uses our parks - we count cars not people", None),
    ("move", "council", "Could we open school sports halls in the evenings and holidays?", None),
    ("move", "nhs", "Social prescribers could refer into activity if there was a clear list of what runs where and when", "West End Primary Care Network"),
    ("move", "nhs", "Physio waiting lists are long; group exercise could help people while they wait", None),
    ("move", "nhs", "Falls prevention = strength and balance. Should be everywhere, not just where there's a keen physio", None),
    ("move", "nhs", "Our own staff are inactive - 12 hour shifts, no time. Start with our own workforce?", None),
    ("move", "nhs", "Green social prescribing pilot had good results but the funding ended", None),
    ("move", "other", "Bus routes don't go to the leisure centre from the estates, it's 2 buses each way", "Tyneside Transport Partnership"),
    ("move", "other", "Students would volunteer to lead activity sessions if someone organised it", "Tyneside University"),
    ("move", "business", "We could offer discounted bike servicing for people referred by their GP", "Northern Bike Works"),
    ("move", "business", "Cycle to work scheme is only useful if you can afford the bike in the first place", "Northern Bike Works"),
    # Eating well
    ("food", "resident", "Fresh fruit and veg costs more than chips. Simple as that", None),
    ("food", "resident", "The food bank is a lifeline but you get tins, no fresh stuff", None),
    ("food", "resident", "Too many takeaways on our high street, 7 on one road and no greengrocer", None),
    ("food", "resident", "Cooking on a budget classes - I never learned to cook and I'm 32", None),
    ("food", "resident", "Can't afford to put the oven on with energy prices, so it's microwave meals", None),
    ("food", "resident", "Healthy Start vouchers - most people I know never heard of them", None),
    ("food", "resident", "school dinners portion too small, my son comes home starving", "Parents' Voice Network"),
    ("food", "resident", "Breakfast clubs in every primary. Kids cant learn on an empty stomach", "Parents' Voice Network"),
    ("food", "resident", "Fizzy pop is cheaper than water in the corner shop", None),
    ("food", "resident", "my kids only eat beige food, I need help not judgement", None),
    ("food", "resident", "community fridges / food sharing, stop supermarkets throwing food away", None),
    ("food", "resident", "Holiday clubs with lunch were brilliant this summer, please keep them going", "Parents' Voice Network"),
    ("food", "resident", "Please dont make it about 'obesity', it makes people feel ashamed. Talk about feeling good", None),
    ("food", "resident", "i work 2 jobs, no time to cook from scratch, need quick healthy ideas", None),
    ("food", "resident", "Water fountains in the city centre and parks so kids dont buy pop", None),
    ("food", "resident", "The nearest big supermarket is 2 buses away from the estate", None),
    ("food", "vcse", "Pantry model works better than food bank: members pay £5 for £20 worth of food, incl. fresh veg, with dignity", "Riverside Community Food Hub"),
    ("food", "vcse", "We see families skipping meals so the kids can eat. This is not about education, it is about money", "Riverside Community Food Hub"),
    ("food", "vcse", "Community kitchen: cook together, eat together. Tackles loneliness too", "Riverside Community Food Hub"),
    ("food", "vcse", "Cultural foods missing from food parcels - halal, Caribbean, Eastern European. People end up throwing them away", None),
    ("food", "vcse", "We need a proper food partnership with a paid coordinator, not goodwill", "Riverside Community Food Hub"),
    ("food", "vcse", "Growing projects in schools get kids eating veg they grew themselves", None),
    ("food", "vcse", "Older men living alone often live on toast and tea. Lunch clubs fix that", "Eastside Men's Shed"),
    ("food", "vcse", "Slow cookers + recipes + energy advice together = people actually cook", None),
    ("food", "council", "Hot food takeaway planning policy near schools - exclusion zone of 400m?", None),
    ("food", "council", "Free school meals auto-enrolment: we estimate 1 in 8 eligible families are not registered", None),
    ("food", "council", "We own the bus shelters. Stop junk food ads on council advertising sites", None),
    ("food", "council", "Healthy catering in our own leisure centres - the vending machines are full of crisps", None),
    ("food", "council", "We need to know where the food deserts are - map of shops selling fresh food", None),
    ("food", "nhs", "Weight management services have a 9 month wait. Prevention would be cheaper", None),
    ("food", "nhs", "Health visitors say infant feeding support was cut and we are seeing the effects", None),
    ("food", "nhs", "Hospital canteen should set an example - healthy options cheaper than the chips", "Newcastle upon Tyne Hospitals NHS Foundation Trust"),
    ("food", "nhs", "NCMP letter to parents causes upset and people switch off. Can we do it differently?", None),
    ("food", "nhs", "Dietitians could train community cooks instead of only seeing patients one to one", None),
    ("food", "business", "Small shops would stock more fresh produce if there was a wholesale buying scheme", "Tyne Valley Grocers"),
    ("food", "business", "We'd sign up to a healthier takeaway award if it didn't cost us customers", "Quayside Business Network"),
    ("food", "business", "Supermarkets could do price promotions on fruit and veg not on multibuy biscuits", "Tyne Valley Grocers"),
    ("food", "other", "University nutrition students could run cooking sessions as part of their placement", "Tyneside University"),
    # Feeling connected
    ("connect", "resident", "Since my husband died I can go days without speaking to anyone", None),
    ("connect", "resident", "The library is the only warm free place left in our area - dont close it", None),
    ("connect", "resident", "Bus fares have gone up, can't afford to visit my daughter across town", None),
    ("connect", "resident", "Knowing my neighbours makes me feel safe. Street parties helped that", "West End Residents' Forum"),
    ("connect", "resident", "Young mums are lonely too, not just older people", "Parents' Voice Network"),
    ("connect", "resident", "I moved here for work and have no friends outside work after 2 years", None),
    ("connect", "resident", "community centre closed in 2023 and nothing replaced it", "West End Residents' Forum"),
    ("connect", "resident", "As a carer I never get a break to see my own friends", None),
    ("connect", "resident", "More things in the evening for people who work in the day", None),
    ("connect", "resident", "The metro station has no lift. I can't get out with my wheelchair", None),
    ("connect", "resident", "intergenerational stuff - my grandkids and the care home down the road", None),
    ("connect", "resident", "Community noticeboard please, not everything should be on facebook", "West End Residents' Forum"),
    ("connect", "resident", "Dog walkers all know each other, why not organise more of that kind of thing", None),
    ("connect", "resident", "its the little things, someone saying hello at the bus stop", None),
    ("connect", "resident", "Faith groups do a lot of this already without asking anyone for money, involve them", None),
    ("connect", "vcse", "Befriending phone calls work but people want to meet face to face eventually", "West End Befriending Service"),
    ("connect", "vcse", "We have 60 volunteers on our waiting list and no money for the DBS checks and training", "West End Befriending Service"),
    ("connect", "vcse", "Warm spaces became social spaces - people came for warmth and stayed for the company. Keep them open all year", None),
    ("connect", "vcse", "Men's Sheds: men who would never go to a 'wellbeing group' will come and fix a bench", "Eastside Men's Shed"),
    ("connect", "vcse", "Loneliness is hidden, people won't say 'I'm lonely'. Ask 'what did you do at the weekend?'", "West End Befriending Service"),
    ("connect", "vcse", "Digital inclusion is connection - a tablet and data plus someone to show you", None),
    ("connect", "vcse", "Funding is year to year. We spend half our time writing bids instead of running groups", None),
    ("connect", "vcse", "Asylum seekers and refugees are cut off by language, ESOL classes are full", None),
    ("connect", "vcse", "LGBTQ+ older people often have no family support and are afraid of homophobia in care settings", "Open Door Wellbeing Collective"),
    ("connect", "council", "Our libraries already host 40+ groups a week, we could be the hub if we had staff", "Newcastle Libraries"),
    ("connect", "council", "Asset transfer of community buildings is stuck in legal processes for years", None),
    ("connect", "council", "Adult social care survey shows fewer service users have as much social contact as they would like", None),
    ("connect", "council", "Good Neighbour schemes in 3 wards, could scale up with modest funding", None),
    ("connect", "council", "Transport to groups is the hidden barrier - the community transport minibus is booked weeks ahead", None),
    ("connect", "nhs", "GPs see the lonely patient 10 times a year. Social prescribing link workers are stretched - 1 per 30,000 patients", "West End Primary Care Network"),
    ("connect", "nhs", "Hospital discharge is when people are most isolated, nobody checks in after", "Newcastle upon Tyne Hospitals NHS Foundation Trust"),
    ("connect", "nhs", "District nurses are sometimes the only visitor. Could they refer to befriending directly?", None),
    ("connect", "nhs", "People with severe mental illness are among the most isolated and least reached", "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"),
    ("connect", "other", "Neighbourhood officers get calls from lonely older people just wanting to talk. That's a sign of the gap", "Tyneside Community Safety Partnership"),
    ("connect", "other", "Travel buddy training for people nervous using the metro - we could pilot it", "Tyneside Transport Partnership"),
    ("connect", "other", "Students in shared houses are very isolated in first year and don't know the area", "Tyneside University"),
    ("connect", "business", "Cafes could sign up to a 'chatty table' scheme, costs us nothing", "Quayside Business Network"),
    ("connect", "business", "Employers could give staff volunteering days - we give 2 per year", "Quayside Business Network"),
    # Feeling well in mind
    ("mind", "resident", "Waited 14 months for talking therapy. By then I'd lost my job", None),
    ("mind", "resident", "My son is 15, school refused, anxious all the time. CAMHS said he's not bad enough", "Parents' Voice Network"),
    ("mind", "resident", "Mental health support for dads please, everything is aimed at mums", None),
    ("mind", "resident", "I didn't know you could self-refer to talking therapies until last month", None),
    ("mind", "resident", "exams stress is massive for my daughter, the pressure is too much", "Parents' Voice Network"),
    ("mind", "resident", "social media is making our teenagers miserable", None),
    ("mind", "resident", "After my brother died by suicide, there was no support for us as a family", None),
    ("mind", "resident", "Debt is the biggest thing for my mental health. Fix the money and you fix a lot", None),
    ("mind", "resident", "Free counselling at the community centre helped me more than the tablets", None),
    ("mind", "resident", "mental health crisis line - waited 40 mins on hold", None),
    ("mind", "resident", "Please stop sending people to online apps. Some of us want a real person", None),
    ("mind", "resident", "wellbeing is about having a purpose - volunteering saved me", None),
    ("mind", "resident", "Green spaces and nature help my anxiety more than anything", None),
    ("mind", "resident", "menopause affects mental health and nobody talks about it at work", None),
    ("mind", "vcse", "Peer support groups are cheap and they work. Fund them properly", "Open Door Wellbeing Collective"),
    ("mind", "vcse", "Youth workers hear about self-harm before anyone else. We need training and a clear route to help", "Northside Youth Project"),
    ("mind", "vcse", "Men won't come to a 'mental health' group. They'll come to football, fishing, the shed", "Eastside Men's Shed"),
    ("mind", "vcse", "Suicide bereavement support has a waiting list of 3 months", None),
    ("mind", "vcse", "Drop-in crisis cafe in the evenings would keep people out of A&E", "Open Door Wellbeing Collective"),
    ("mind", "vcse", "The cost of living crisis is a mental health crisis", None),
    ("mind", "vcse", "Young carers are under huge pressure and are invisible in schools", "Northside Youth Project"),
    ("mind", "vcse", "Neurodivergent young people waiting 2+ years for assessment, families at breaking point", "Northside Youth Project"),
    ("mind", "vcse", "Training for barbers and hairdressers to spot people struggling - they hear everything", None),
    ("mind", "council", "Schools want whole-school approach support; the mental health support teams only cover half our schools", None),
    ("mind", "council", "Our own staff sickness is mostly stress and anxiety - we should look after our workforce", None),
    ("mind", "council", "Suicide prevention plan refreshed - need partners to sign up to actions", None),
    ("mind", "council", "Gambling harms are linked to suicide - planning and licensing could do more", None),
    ("mind", "nhs", "Talking therapies waiting times have improved but drop-out is high in deprived areas", "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"),
    ("mind", "nhs", "A&E sees young people in crisis at 2am with nowhere else to go", "Newcastle upon Tyne Hospitals NHS Foundation Trust"),
    ("mind", "nhs", "Depression recorded in primary care keeps rising - partly better recording, partly real", "NHS North East and North Cumbria Integrated Care Board"),
    ("mind", "nhs", "Mental health first aid training for frontline staff in every organisation", None),
    ("mind", "nhs", "Physical activity is one of the best treatments for mild depression - link the two", None),
    ("mind", "nhs", "GP appointments are 10 minutes, not enough to talk about how you really feel", "West End Primary Care Network"),
    ("mind", "nhs", "Perinatal mental health service is good but people find out about it too late", None),
    ("mind", "other", "Student mental health services are overwhelmed in October and exam season", "Tyneside University"),
    ("mind", "other", "Officers spend hours with people in mental health crisis waiting for a bed", "Tyneside Community Safety Partnership"),
    ("mind", "business", "Small employers don't know how to support staff with mental health, we have no HR department", "Tyne Valley Grocers"),
    ("mind", "business", "Hospitality staff work late shifts and often drink to cope", "Quayside Business Network"),
    # Anything else
    ("else", "resident", "Damp and mould in our flat, my kids have asthma. You can't be healthy in a cold damp home", None),
    ("else", "resident", "Everything is online now, forms, bookings, the GP. Not everyone has wifi", None),
    ("else", "resident", "Landlord won't fix the heating. How can I think about exercise?", None),
    ("else", "resident", "Ask us before you decide, not after. This is the first event like this I've been invited to", "West End Residents' Forum"),
    ("else", "resident", "Fuel poverty - choosing between heating and eating is real in our street", None),
    ("else", "resident", "Easy read versions of everything please", None),
    ("else", "resident", "Interpreters at GP appointments, my mum doesn't speak English", None),
    ("else", "resident", "Broadband is too expensive, I use my phone data for everything", None),
    ("else", "vcse", "Stop piloting. Fund what works for 3 years minimum", None),
    ("else", "vcse", "The same 20 organisations are in every room. Where are the businesses? Where are young people?", None),
    ("else", "vcse", "Small charities can't keep going with a 0% uplift for 3 years", None),
    ("else", "vcse", "Housing officers should ask about loneliness and food when they visit", None),
    ("else", "council", "We need one shared directory of activities and services, not 5 different ones", None),
    ("else", "council", "Let's measure what matters to residents, not only what's in the national indicators", None),
    ("else", "nhs", "Data sharing between GP and council would help us target, but information governance blocks everything", None),
    ("else", "nhs", "Health inequalities: the life expectancy gap between wards is over 10 years", None),
    ("else", "other", "Cost of living is the underlying issue for almost everything on this wall", "Northside Housing Association"),
    ("else", "other", "Damp and mould reports doubled in two years; we are retrofitting but it takes time", "Northside Housing Association"),
    ("else", "business", "Business should be at the table - we employ thousands of residents", "Quayside Business Network"),
    # People write their contact details on post-its: the toolkit masks them before anything
    # is published (both from reserved example ranges). Hostile text is test material only
    # (tests/), not part of the example.
    ("move", "resident", "Happy to help set up a walking group near Nuns Moor, email me at jo.bloggs1987@example.com", None),
    ("food", "resident", "If anyone wants to start a lunch club in Fenham ring me on 07700 900123 - Maureen", None),
    ("connect", "resident", "more seating at the bus stops please, I can't stand for long", None),
    ("else", "resident", "Leaflets about the pantry and free food at the GP surgery would help people find them", None),
    ("mind", "resident",
     "I want to say something about the whole system. My dad had a fall last winter, ended up in hospital "
     "for three weeks, came home and nobody came. He stopped going to his club at the church hall because "
     "the bus was cancelled, he stopped eating properly because he couldn't get to the shop, and then he got "
     "low, really low. Every service we spoke to did their bit and nobody joined it up. If this partnership "
     "means anything it should mean one person who knows him and checks in.", None),
    ("food", "resident", "veg box scheme at the school gate? pay weekly, cheaper than the shop", "Parents' Voice Network"),
    ("connect", "resident", "lonley since i retired, the days are long", None),
]

#: Participants: (id, sector, organisation). Residents mostly come as individuals.
_PARTICIPANT_PLAN = [
    ("resident", [None] * 11 + ["West End Residents' Forum"] * 3 + ["Parents' Voice Network"] * 3),
    ("vcse", ["Riverside Community Food Hub"] * 2 + ["Tyneside Walking Friends"] * 2
     + ["West End Befriending Service"] * 2 + ["Northside Youth Project"] * 2
     + ["Eastside Men's Shed"] + ["Open Door Wellbeing Collective"] * 2 + [None] * 2),
    ("council", ["Newcastle City Council"] * 7 + ["Newcastle Libraries"]),
    ("nhs", ["Newcastle upon Tyne Hospitals NHS Foundation Trust"] * 2
     + ["Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"] * 2
     + ["NHS North East and North Cumbria Integrated Care Board"] * 2 + ["West End Primary Care Network"] * 2),
    ("other", ["Tyneside University"] * 2 + ["Tyneside Transport Partnership", "Northside Housing Association",
                                             "Tyneside Community Safety Partnership"]),
    ("business", ["Tyne Valley Grocers", "Northern Bike Works", "Quayside Business Network"]),
]


def participants() -> pd.DataFrame:
    """The unconference's participants: pseudonymous id, sector and organisation (blank for individuals)."""
    rows = []
    for sector, organisations in _PARTICIPANT_PLAN:
        for organisation in organisations:
            rows.append({"participant": f"p{len(rows) + 1:03d}", "sector": sector,
                         "organisation": organisation or ""})
    return pd.DataFrame(rows)


def _pick_author(people: list[dict], sector: str, organisation: str | None,
                 rng: np.random.Generator) -> dict:
    pool = [person for person in people if person["sector"] == sector]
    if organisation is not None:
        named = [person for person in pool if person["organisation"] == organisation]
        pool = named or pool
    # A few people write far more post-its than others (concentration is realistic).
    weights = rng.permutation(1.0 / (1 + np.arange(len(pool))) ** 0.6)
    return pool[int(rng.choice(len(pool), p=weights / weights.sum()))]


def postits(seed: int = SEED) -> pd.DataFrame:
    """The unconference post-it wall in canonical contribution columns (``theme`` blank, to be tagged)."""
    rng = np.random.default_rng(seed + 1)
    people = participants().to_dict("records")
    rows = []
    for index, (session, sector, text, organisation) in enumerate(POSTIT_TEXTS, start=1):
        person = _pick_author(people, sector, organisation, rng)
        title, start = SESSIONS[session]
        minutes = int(rng.integers(0, 45))
        hour, minute = (int(x) for x in start.split(":"))
        total = hour * 60 + minute + minutes - 60  # BST to UTC
        rows.append({
            "contribution_id": f"PI-{index:03d}",
            "source": EVENT,
            "session": title,
            "kind": "post_it",
            "text": text,
            "author": person["participant"],
            "organisation": person["organisation"],
            "sector": sector,
            "created_at": f"{EVENT_DATE}T{total // 60:02d}:{total % 60:02d}:00Z",
            "theme": "",
            "area_code": HOME_AREA,
        })
    return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)


def postit_id(fragment: str) -> str:
    """The id of the post-it whose text contains ``fragment`` (for "you said, we did" links)."""
    matches = [i for i, (_, _, text, _) in enumerate(POSTIT_TEXTS, start=1) if fragment in text]
    if len(matches) != 1:
        raise KeyError(f"{fragment!r} matches {len(matches)} post-its")
    return f"PI-{matches[0]:03d}"


OPEN_SPACE_REPORTS = [
    ("p022", "Keeping warm spaces open all year",
     ["p022", "p023", "p003", "p038", "p012", "p046"],
     "Warm spaces opened for the winter became the most valued social spaces in several neighbourhoods. "
     "People came for warmth and stayed for company, and some groups started from them. Most closed in "
     "March when the grant ended. Libraries and church halls were the most used.",
     "Keep a core of warm and welcoming spaces open all year; fund a small running cost, not a new "
     "project; list them in one shared directory; involve faith groups."),
    ("p035", "Takeaways near schools: what can planning do?",
     ["p035", "p032", "p054", "p004", "p015", "p043"],
     "The group looked at a 400 metre exclusion zone for new hot food takeaways around secondary schools. "
     "Planning officers said the policy would only affect new applications. The business participant "
     "worried about small family takeaways. Parents wanted healthier options near the school gate, not "
     "just fewer shops.",
     "Draft a supplementary planning document with a consultation that includes takeaway owners; pilot a "
     "healthier takeaway award; look at council-owned advertising sites."),
    ("p026", "Men's mental health: going where men already are",
     ["p026", "p024", "p010", "p044", "p008"],
     "Men rarely come to groups labelled mental health. They come to football, fishing, the Men's Shed and "
     "the barber. Peer support works when it is side by side rather than face to face.",
     "Fund activity-based peer support for men; train barbers and coaches to start a conversation and know "
     "where to point people."),
    ("p018", "From food bank to food pantry",
     ["p018", "p019", "p001", "p005", "p052", "p050", "p036"],
     "The pantry model (members pay a small weekly amount for a bigger shop including fresh food) gives "
     "dignity and choice and connects people to advice. It needs a building, a van and a coordinator. "
     "Culturally appropriate food is often missing from parcels.",
     "Open two more pantries in the west and east end; a shared food partnership coordinator; a wholesale "
     "buying scheme with local shops."),
    ("p006", "Getting to activities: transport as the hidden barrier",
     ["p006", "p049", "p002", "p013", "p031"],
     "Many activities are two buses away from the estates, fares have risen, and some metro stations have "
     "no step-free access. Community transport is booked weeks ahead. This affects older and disabled "
     "people most.",
     "Map activities against bus routes; pilot travel buddies; ask the transport partnership for a "
     "concessionary fare for people referred by social prescribers."),
    ("p045", "Social prescribing: what's on, where, when?",
     ["p045", "p046", "p038", "p020", "p033"],
     "Link workers spend hours finding out what runs where. There are five different directories and none "
     "is up to date. Groups close without anyone knowing.",
     "One shared directory kept up to date by the groups themselves; link workers based part of the week in "
     "libraries and community centres."),
    ("p015", "Young people's anxiety and school",
     ["p015", "p016", "p024", "p025", "p042", "p047"],
     "Parents described long waits for CAMHS and for neurodevelopmental assessment, and children out of "
     "school because of anxiety. Youth workers see problems early but have no clear route to help.",
     "Mental health support teams in every school; a clear route from youth work to help; peer support for "
     "parents while they wait."),
    ("p020", "Walking and cycling on the west end estates",
     ["p020", "p021", "p001", "p007", "p053", "p049"],
     "Walking groups are popular but depend on one or two volunteer leaders. Cycle lanes stop at junctions "
     "and people do not feel safe. Many people have a bike that needs fixing.",
     "Train more walk leaders; bike repair sessions; fix the gaps in the cycle network near schools; "
     "lighting on park paths."),
    ("p054", "Small employers and staff wellbeing",
     ["p054", "p052", "p039", "p032"],
     "Small firms have no HR department and do not know what support exists. Hospitality staff work late "
     "shifts. Larger employers offered to share their employee assistance materials.",
     "A simple wellbeing toolkit for small employers; mental health first aid places for small firms; "
     "involve the business network in the partnership."),
    ("p041", "Suicide bereavement and crisis support",
     ["p041", "p027", "p009", "p036", "p043"],
     "Families bereaved by suicide wait three months for support. People in crisis at night go to A&E "
     "because nothing else is open. Gambling harm came up as a risk factor.",
     "Fund the bereavement service to clear its waiting list; an evening crisis cafe; licensing to consider "
     "gambling harm."),
]


def open_space_proceedings() -> pd.DataFrame:
    """Open-space session reports (Convener, Topic, Participants, Summary, Recommendations)."""
    return pd.DataFrame(
        [{"Convener": convener, "Topic": topic, "Participants": "; ".join(people),
          "Summary": summary, "Recommendations": recommendations}
         for convener, topic, people, summary, recommendations in OPEN_SPACE_REPORTS],
        columns=["Convener", "Topic", "Participants", "Summary", "Recommendations"],
    )


# Statements s01 ... s20 and how each opinion group leans:
# (text, P(agree) community, P(agree) system, P(pass) overall). "community" = residents and
# voluntary sector, "system" = council and NHS; others lean half way.
POLL_STATEMENTS: list[tuple[str, float, float, float]] = [
    ("The cost of living is the biggest barrier to healthy lives in our area.", 0.92, 0.85, 0.04),
    ("The council should stop new hot food takeaways opening within 400m of schools.", 0.62, 0.80, 0.12),
    ("Public services listen to what residents say.", 0.12, 0.72, 0.10),
    ("We should talk about 'healthy weight' rather than 'obesity'.", 0.80, 0.45, 0.15),
    ("Libraries and community centres must be kept open as places to meet.", 0.95, 0.82, 0.03),
    ("Waiting times for talking therapies are acceptable now.", 0.08, 0.62, 0.15),
    ("Loneliness is mainly a problem for older people.", 0.12, 0.10, 0.05),
    ("Free bike loans would get more people cycling.", 0.70, 0.55, 0.20),
    ("Strength and balance classes should run in every neighbourhood.", 0.85, 0.88, 0.08),
    ("The voluntary sector is treated as an equal partner.", 0.10, 0.68, 0.12),
    ("Social prescribing has made a difference in our area.", 0.50, 0.62, 0.45),
    ("GP and council data should be shared to target help.", 0.25, 0.82, 0.20),
    ("Employers have a big part to play in their staff's wellbeing.", 0.84, 0.86, 0.06),
    ("Small charities need funding for at least three years, not one.", 0.96, 0.78, 0.05),
    ("The partnership's strategy is clear to people outside it.", 0.30, 0.55, 0.50),
    ("Online apps are enough for most people with low mood.", 0.06, 0.15, 0.07),
    ("Schools should be given more responsibility for children's mental health.", 0.50, 0.50, 0.20),
    ("Activities should be free or very low cost for people on low incomes.", 0.94, 0.80, 0.05),
    ("The board's decisions are visible to residents.", 0.20, 0.45, 0.50),
    ("More of the money should go to community groups rather than NHS services.", 0.88, 0.12, 0.12),
]


def poll_statements() -> pd.DataFrame:
    """The agree/disagree poll's statements, as contributions of kind "statement" (ids s01 ... s20)."""
    rows = []
    for index, (text, _, _, _) in enumerate(POLL_STATEMENTS, start=1):
        rows.append({
            "contribution_id": f"s{index:02d}", "source": POLL_SOURCE, "session": "Agree/disagree poll",
            "kind": "statement", "text": text, "author": "organisers", "organisation": "",
            "sector": "", "created_at": f"{EVENT_DATE}T08:00:00Z", "theme": "", "area_code": HOME_AREA,
        })
    return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)


def poll_votes(seed: int = SEED) -> pd.DataFrame:
    """Agree (1), disagree (-1) and pass (0) votes with planted opinion groups.

    Residents and the voluntary sector lean one way and the council and NHS the
    other on about a third of the statements (division); most agree on the rest
    (consensus); a few draw many passes (uncertainty). Each voter skips some.
    """
    rng = np.random.default_rng(seed + 2)
    people = participants()
    voters = people[people.index % 9 != 8]  # not everyone took part in the poll
    rows = []
    for _, person in voters.iterrows():
        lean = {"resident": 0.0, "vcse": 0.0, "council": 1.0, "nhs": 1.0}.get(person["sector"], 0.5)
        lean = float(np.clip(lean + rng.normal(0, 0.12), 0, 1))
        answered = rng.random(len(POLL_STATEMENTS)) < 0.88
        for index, (_, p_community, p_system, p_pass) in enumerate(POLL_STATEMENTS, start=1):
            if not answered[index - 1]:
                continue
            if rng.random() < p_pass:
                vote = 0
            else:
                p_agree = p_community * (1 - lean) + p_system * lean
                vote = 1 if rng.random() < p_agree else -1
            rows.append({"participant": person["participant"], "item": f"s{index:02d}", "vote": vote})
    return pd.DataFrame(rows, columns=["participant", "item", "vote"])


#: Emergent topics on the dot-vote sheet (not themes of the strategy).
EMERGENT_ITEMS = ("housing-damp-mould", "digital-inclusion")

# Relative appeal of each item by sector (dots are drawn in proportion).
_DOT_APPEAL = {
    "resident": {"food-insecurity": 6, "transport-access": 4, "food-environment": 4, "loneliness": 3,
                 "young-people-mh": 3, "housing-damp-mould": 3, "parks-green-spaces": 2, "early-help": 3},
    "vcse": {"loneliness": 6, "community-spaces": 4, "food-insecurity": 5, "volunteering": 3,
             "food-environment": 2, "early-help": 2, "suicide-prevention": 2},
    "council": {"food-environment": 6, "walking-cycling": 4, "loneliness": 2, "young-people-mh": 2,
                "digital-inclusion": 2, "food-insecurity": 2},
    "nhs": {"early-help": 5, "young-people-mh": 4, "food-environment": 3, "active-ageing": 3,
            "suicide-prevention": 3, "loneliness": 2},
    "other": {"transport-access": 3, "young-people-mh": 3, "housing-damp-mould": 3, "food-environment": 2},
    "business": {"workplace-wellbeing": 4, "food-environment": 2, "walking-cycling": 2},
}


def dot_votes(seed: int = SEED, dots: int = 5, cap: int = 3) -> pd.DataFrame:
    """Dot vote on the strategy's themes plus emergent topics: 5 dots each, at most 3 on one item."""
    rng = np.random.default_rng(seed + 3)
    theme_ids = [t["id"] for t in THEMES] + list(EMERGENT_ITEMS)
    people = participants()
    voters = people[people.index % 13 != 5]
    rows = []
    for _, person in voters.iterrows():
        appeal = np.array([_DOT_APPEAL[person["sector"]].get(item, 0.4) for item in theme_ids], dtype=float)
        given = dict.fromkeys(theme_ids, 0)
        while sum(given.values()) < dots:
            open_items = np.array([given[item] < cap for item in theme_ids])
            weights = appeal * open_items
            item = theme_ids[int(rng.choice(len(theme_ids), p=weights / weights.sum()))]
            given[item] += 1
        for item in theme_ids:
            if given[item]:
                rows.append({"participant": person["participant"], "item": item, "vote": given[item]})
    return pd.DataFrame(rows, columns=["participant", "item", "vote"])


# (thread, author, day offset from the event, text). Authors p055 and above joined online only.
FORUM_POSTS: list[tuple[str, str, int, str]] = [
    ("Follow-up from the unconference", "p033", 3,
     "Thank you all for coming on Thursday. The post-it wall is typed up and we'll share the themes and the dot vote results here next week."),
    ("Follow-up from the unconference", "p002", 3,
     "Good day. First time I've been asked. Will we hear back about what happens with what we said?"),
    ("Follow-up from the unconference", "p018", 4,
     "Please don't let this be another consultation that disappears. Happy to host the next one at the hub."),
    ("Follow-up from the unconference", "p034", 5,
     "We'll publish a 'you said, we did' page against the actions register every month."),
    ("Follow-up from the unconference", "p055", 6,
     "Couldn't make it on the day (work). Is there a way to add ideas online?"),
    ("Follow-up from the unconference", "p033", 6,
     "Yes - post here, or add to the poll. Everything posted here is read alongside the post-its."),
    ("Warm spaces this winter", "p022", 8,
     "Which warm spaces are opening this winter? Last year people turned up to closed doors because the list was out of date."),
    ("Warm spaces this winter", "p038", 9,
     "All libraries will be warm spaces from November with a hot drink; we're trying to keep Tuesday and Thursday evenings open too."),
    ("Warm spaces this winter", "p004", 9,
     "The church hall on our road did soup on Fridays. Nobody knew it was there unless you went to church."),
    ("Warm spaces this winter", "p023", 11,
     "We could send befriending volunteers to the warm spaces so people who come alone have someone to talk to."),
    ("Warm spaces this winter", "p056", 12,
     "Please keep them open after March. Loneliness doesn't stop when it gets warmer."),
    ("Takeaways near schools", "p035", 10,
     "The draft policy for hot food takeaways near secondary schools goes to consultation in the new year. Comments welcome here."),
    ("Takeaways near schools", "p054", 11,
     "Most takeaways are small family businesses. Help them offer healthier options rather than just blocking them."),
    ("Takeaways near schools", "p015", 12,
     "At 3.15 there is a queue of kids outside the chicken shop every day. Something needs to change."),
    ("Takeaways near schools", "p043", 14,
     "Year 6 overweight in our area is above the England average. Environment matters as much as education."),
    ("Takeaways near schools", "p057", 15,
     "Cheaper fruit in the shops near school would do more than banning chips imo"),
    ("Walking groups", "p020", 13,
     "We are training six new walk leaders in October. If your organisation wants a led walk from your building, get in touch through this forum."),
    ("Walking groups", "p007", 14,
     "A slow walk for people with bad knees would be great. The current ones go too fast for me."),
    ("Walking groups", "p045", 16,
     "Our link workers would refer people to a weekly walk from the surgery. Monday mornings suit most."),
    ("Walking groups", "p053", 18,
     "We can run a free bike check at the start of a walk-and-ride day if that helps."),
    ("Talking therapies waiting times", "p009", 16,
     "Is the waiting time for talking therapies published anywhere? I was told 6 weeks and it was 5 months."),
    ("Talking therapies waiting times", "p041", 18,
     "Average waits are down, but some groups wait much longer. We're adding evening sessions and a self-referral line."),
    ("Talking therapies waiting times", "p027", 19,
     "Our peer support group meets on Wednesdays - anyone waiting is welcome, no referral needed."),
    ("Talking therapies waiting times", "p058", 22,
     "The self-referral form online kept crashing on my phone. Is there a paper version?"),
    ("Talking therapies waiting times", "p041", 23,
     "Thanks - we have passed the form problem to our web team; you can also phone the service directly."),
    ("Young people", "p024", 20,
     "The young people we work with want somewhere to go on Friday nights that isn't the shopping centre."),
    ("Young people", "p016", 21,
     "Still waiting for my son's assessment. 19 months. Nobody has told us where we are on the list."),
    ("Young people", "p059", 24,
     "im 17, the mental health stuff at school is just posters, nobody actually talks to you"),
    ("Young people", "p025", 26,
     "We could run a young people's version of the unconference at the youth centre. They have a lot to say."),
    ("Young people", "p036", 27,
     "Good idea - the youth council would co-host. Let's aim for the February half term."),
    ("Ideas", "p060", 30,
     "Community growing on the spare land by the flats: food, exercise and meeting neighbours in one."),
    ("Ideas", "p052", 31,
     "We'd trial a fruit and veg discount for pantry members if someone covers the admin."),
    ("Ideas", "p050", 33,
     "Our tenancy sustainment officers visit 300 homes a month; we could ask about food and loneliness on those visits."),
    ("Ideas", "p061", 35,
     "Bus pass for carers so we can get out more. Thats all I ask."),
]


def forum_posts() -> pd.DataFrame:
    """The online forum export (kind ``forum_post``) in canonical contribution columns."""
    start = pd.Timestamp(f"{EVENT_DATE}T09:00:00Z")
    known = participants().set_index("participant")
    rows = []
    for index, (thread, author, offset, text) in enumerate(FORUM_POSTS, start=1):
        sector = known.at[author, "sector"] if author in known.index else "resident"
        organisation = known.at[author, "organisation"] if author in known.index else ""
        when = start + pd.Timedelta(days=offset, minutes=37 * index % 600)
        rows.append({
            "contribution_id": f"F-{index:03d}", "source": FORUM_SOURCE, "session": thread,
            "kind": "forum_post", "text": text, "author": author, "organisation": organisation,
            "sector": sector, "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "theme": "",
            "area_code": HOME_AREA,
        })
    return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)


def voices_sources() -> dict:
    """The example ``voices/sources.yaml`` (README format)."""
    return {
        "contributions": [
            {"file": "unconference_postits.csv", "source": EVENT, "mapping": "canonical", "kind": "post_it"},
            {"file": "open_space_proceedings.csv", "source": f"{EVENT} (open space)", "mapping": "open_space",
             "kind": "open_space_note"},
            {"file": "poll_statements.csv", "source": POLL_SOURCE, "mapping": "canonical", "kind": "statement"},
            {"file": "forum_posts.csv", "source": FORUM_SOURCE, "mapping": "canonical", "kind": "forum_post"},
        ],
        "votes": [
            {"file": "dot_votes.csv", "source": DOT_SOURCE, "kind": "dot", "cap": 3},
            {"file": "poll_votes.csv", "source": POLL_SOURCE, "kind": "agree_disagree"},
        ],
    }


# --- Whole system: the actions register ------------------------------------------------

_COUNCIL, _LIBRARIES = "Newcastle City Council", "Newcastle Libraries"
_HOSPITALS = "Newcastle upon Tyne Hospitals NHS Foundation Trust"
_MENTAL_HEALTH_TRUST = "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"
_ICB = "NHS North East and North Cumbria Integrated Care Board"
_PCN = "West End Primary Care Network"
_FOOD_HUB, _WALKING, _BEFRIENDING = "Riverside Community Food Hub", "Tyneside Walking Friends", "West End Befriending Service"
_YOUTH, _SHED, _OPEN_DOOR = "Northside Youth Project", "Eastside Men's Shed", "Open Door Wellbeing Collective"
_GROCERS, _BIKES, _BUSINESS, _HOSPITALITY = ("Tyne Valley Grocers", "Northern Bike Works",
                                             "Quayside Business Network", "Tyneside Hospitality Association")
_RESIDENTS, _PARENTS = "West End Residents' Forum", "Parents' Voice Network"
_UNIVERSITY, _TRANSPORT = "Tyneside University", "Tyneside Transport Partnership"
_HOUSING, _SAFETY = "Northside Housing Association", "Tyneside Community Safety Partnership"


@dataclass(frozen=True)
class _Action:
    title: str
    lead: str
    partners: Sequence[str]
    objectives: Sequence[str]
    themes: Sequence[str]
    status: str
    start: str
    end: str
    indicators: Sequence[int] = ()
    responds_to: Sequence[str] = field(default_factory=tuple)
    updated_by: str = "ph-intelligence"


def _actions() -> list[_Action]:
    """The register, written by hand. Its gaps are deliberate (the workspace README lists them):

    - ``food-environment`` is voted high but has no planned or active action (an idea, a stopped one);
    - indicator 90812 (mental health admissions of under-18s) is worse than England, linked to nothing;
    - ``connected-communities`` has actions from the voluntary sector only.
    """
    p = postit_id
    return [
        # Active lives
        _Action("Led walks from GP surgeries, weekly", _WALKING, [_PCN], ["active-lives"], ["walking-cycling"],
                "active", "2026-10-05", "", [93014, 93015], [p("Led walks from GP surgeries"), "walking-cycling"],
                "walking-friends-coordinator"),
        _Action("Train 12 new volunteer walk leaders", _WALKING, [_UNIVERSITY], ["active-lives"], ["walking-cycling"],
                "active", "2026-10-01", "2027-03-31", [93014], [p("we rely on one volunteer leader")],
                "walking-friends-coordinator"),
        _Action("Slow-paced walks for people with long-term conditions", _WALKING, [_PCN, _HOSPITALS], ["active-lives"],
                ["walking-cycling", "active-ageing"], "planned", "2027-01-12", "", [93015],
                [p("wlaking groups that go at a slow pace")], "walking-friends-coordinator"),
        _Action("Bike repair and loan sessions on the west end estates", _BIKES, [_COUNCIL, _RESIDENTS], ["active-lives"],
                ["walking-cycling"], "active", "2026-11-01", "2027-10-31", [93014],
                [p("Free bike loan scheme"), p("Bike maintenance workshops")], "bike-works-owner"),
        _Action("Discounted bike servicing on GP referral", _BIKES, [_PCN], ["active-lives"], ["walking-cycling"],
                "idea", "", "", [93014], [p("discounted bike servicing")], "bike-works-owner"),
        _Action("Close the gaps in the cycle network near five schools", _COUNCIL, [_TRANSPORT], ["active-lives"],
                ["walking-cycling"], "planned", "2027-04-01", "2028-03-31", [93014],
                [p("The cycle lane on Westgate Road")], "transport-policy"),
        _Action("School streets in eight more primaries", _COUNCIL, [_PARENTS], ["active-lives"], ["walking-cycling"],
                "active", "2026-09-01", "2027-07-22", [93014, 20602], [p("School streets pilots")], "transport-policy"),
        _Action("Pavement parking walkabouts with residents", _RESIDENTS, [_COUNCIL, _WALKING], ["active-lives"],
                ["walking-cycling"], "active", "2026-10-10", "2027-04-30", [93015],
                [p("pavements are full of cars")], "residents-forum-secretary"),
        _Action("Lighting on main park paths", _COUNCIL, [_SAFETY], ["active-lives"], ["parks-green-spaces"],
                "planned", "2027-01-01", "2027-12-31", [93015], [p("paths through the park were lit")], "parks-team"),
        _Action("Repair and reopen outdoor gyms", _COUNCIL, [], ["active-lives"], ["parks-green-spaces"],
                "done", "2026-05-01", "2026-08-31", [93015], [p("Outdoor gym in the park")], "parks-team"),
        _Action("Community growing on spare housing land", _HOUSING, [_RESIDENTS, _FOOD_HUB],
                ["active-lives", "healthy-food"], ["parks-green-spaces", "cooking-skills"], "idea", "", "", [],
                ["F-031", p("Allotments have a 3 year waiting list")], "housing-community-team"),
        _Action("Leisure concessions: automatic for people on Universal Credit", _COUNCIL, [], ["active-lives"],
                ["sport-leisure"], "active", "2026-07-01", "", [93015],
                [p("Leisure centre concessions exist"), p("Swimming is too expensive")], "leisure-services"),
        _Action("Women-only swimming sessions at two pools", _COUNCIL, [_OPEN_DOOR], ["active-lives"], ["sport-leisure"],
                "active", "2026-10-07", "", [93015], [p("Women only swim sessions")], "leisure-services"),
        _Action("Open school sports halls in evenings and holidays", _COUNCIL, [_PARENTS], ["active-lives"],
                ["sport-leisure"], "idea", "", "", [93015], [p("open school sports halls")], "leisure-services"),
        _Action("Staff activity challenge (12-hour shift workers)", _HOSPITALS, [], ["active-lives", "mental-wellbeing"],
                ["sport-leisure", "workplace-wellbeing"], "stopped", "2026-01-10", "2026-06-30", [93015],
                [p("Our own staff are inactive")], "trust-wellbeing-lead"),
        _Action("Strength and balance classes in every ward", _HOSPITALS, [_COUNCIL, _OPEN_DOOR], ["active-lives"],
                ["active-ageing"], "active", "2026-04-01", "2028-03-31", [93015],
                [p("Strength and balance classes have waiting lists"), p("Falls prevention")], "falls-service"),
        _Action("Chair-based exercise in sheltered housing", _HOUSING, [_HOSPITALS], ["active-lives"], ["active-ageing"],
                "planned", "2027-02-01", "", [93015], [p("chair based exercise")], "housing-community-team"),
        _Action("Students lead activity sessions on placement", _UNIVERSITY, [_YOUTH], ["active-lives"],
                ["sport-leisure"], "planned", "2027-01-20", "2027-06-30", [93014], [p("Students would volunteer")],
                "university-civic-team"),
        # Healthy food
        _Action("Two new food pantries (west and east end)", _FOOD_HUB, [_COUNCIL, _GROCERS], ["healthy-food"],
                ["food-insecurity"], "active", "2026-11-01", "2027-10-31", [93088],
                [p("Pantry model works better"), "food-insecurity"], "food-hub-manager"),
        _Action("Wholesale buying scheme for corner shops", _GROCERS, [_FOOD_HUB, _BUSINESS], ["healthy-food"],
                ["food-insecurity", "food-environment"], "idea", "", "", [], [p("wholesale buying scheme")],
                "grocers-coop-chair"),
        _Action("Free school meals auto-enrolment", _COUNCIL, [_PARENTS], ["healthy-food"], ["food-insecurity", "school-food"],
                "active", "2026-09-01", "", [20601, 20602], [p("Free school meals auto-enrolment")], "revenues-benefits"),
        _Action("Healthy Start vouchers: promote at every health visitor contact", _HOSPITALS, [_COUNCIL], ["healthy-food"],
                ["food-insecurity"], "active", "2026-06-01", "", [20601], [p("Healthy Start vouchers")], "health-visiting"),
        _Action("Culturally appropriate food in parcels", _FOOD_HUB, [_OPEN_DOOR], ["healthy-food"], ["food-insecurity"],
                "done", "2026-03-01", "2026-09-30", [], [p("Cultural foods missing")], "food-hub-manager"),
        _Action("Cook-together sessions with slow cookers and energy advice", _FOOD_HUB, [_HOUSING], ["healthy-food"],
                ["cooking-skills"], "active", "2026-10-01", "2027-09-30", [93088],
                [p("Slow cookers + recipes"), p("Cooking on a budget")], "food-hub-manager"),
        _Action("Dietitians train community cooks", _HOSPITALS, [_FOOD_HUB, _UNIVERSITY], ["healthy-food"],
                ["cooking-skills"], "planned", "2027-01-05", "2027-12-31", [93088],
                [p("Dietitians could train community cooks")], "dietetics-lead"),
        _Action("Lunch clubs for older men", _SHED, [_FOOD_HUB], ["healthy-food"], ["cooking-skills"],
                "active", "2026-09-15", "", [], [p("Older men living alone")], "mens-shed-secretary"),
        _Action("Breakfast clubs in ten more primary schools", _COUNCIL, [_PARENTS, _GROCERS], ["healthy-food"],
                ["school-food"], "planned", "2027-01-06", "2027-07-21", [20601, 20602], [p("Breakfast clubs in every")],
                "education-services"),
        _Action("Holiday activities with lunch, all year", _COUNCIL, [_YOUTH, _FOOD_HUB], ["healthy-food", "active-lives"],
                ["school-food", "sport-leisure"], "active", "2026-04-01", "2027-03-31", [20602],
                [p("Holiday clubs with lunch")], "education-services"),
        _Action("NCMP letters rewritten with parents", _COUNCIL, [_PARENTS, _HOSPITALS], ["healthy-food"], ["school-food"],
                "done", "2026-02-01", "2026-07-31", [20601, 20602], [p("NCMP letter to parents")], "ph-intelligence"),
        _Action("Hot food takeaway policy near secondary schools", _COUNCIL, [], ["healthy-food"], ["food-environment"],
                "idea", "", "", [20602], [p("Hot food takeaway planning policy"), "food-environment"], "planning-policy"),
        _Action("Healthier vending in leisure centres", _COUNCIL, [], ["healthy-food"], ["food-environment"],
                "stopped", "2025-09-01", "2026-03-31", [93088], [p("vending machines are full of crisps")], "leisure-services"),
        # Connected communities (voluntary sector only: a planted gap)
        _Action("Befriending volunteers in warm spaces", _BEFRIENDING, [_OPEN_DOOR], ["connected-communities"],
                ["loneliness", "community-spaces"], "active", "2026-11-01", "2027-03-31", [90280],
                ["F-010", p("Warm spaces became social spaces")], "befriending-coordinator"),
        _Action("Clear the befriending volunteer waiting list (DBS and training)", _BEFRIENDING, [], ["connected-communities"],
                ["loneliness", "volunteering"], "active", "2026-10-01", "2027-01-31", [90280],
                [p("60 volunteers on our waiting list")], "befriending-coordinator"),
        _Action("Check-in calls after hospital discharge", _BEFRIENDING, [_OPEN_DOOR], ["connected-communities"],
                ["loneliness"], "planned", "2027-01-15", "", [90280], [p("Hospital discharge is when")],
                "befriending-coordinator"),
        _Action("Men's Shed second site", _SHED, [], ["connected-communities", "mental-wellbeing"],
                ["loneliness", "early-help"], "planned", "2027-03-01", "", [], [p("Men's Sheds: men who would never")],
                "mens-shed-secretary"),
        _Action("Community noticeboards on the west end estates", _SHED, [_BEFRIENDING], ["connected-communities"],
                ["community-spaces"], "done", "2026-06-01", "2026-08-31", [], [p("Community noticeboard")],
                "mens-shed-secretary"),
        _Action("LGBTQ+ older people's social group", _OPEN_DOOR, [], ["connected-communities"], ["loneliness"],
                "active", "2026-05-01", "", [90280], [p("LGBTQ+ older people")], "open-door-coordinator"),
        _Action("Volunteer drivers for community groups", _OPEN_DOOR, [_BEFRIENDING], ["connected-communities"],
                ["transport-access", "volunteering"], "idea", "", "", [], ["transport-access"], "open-door-coordinator"),
        # Mental wellbeing
        _Action("Evening crisis cafe pilot", _MENTAL_HEALTH_TRUST, [_OPEN_DOOR], ["mental-wellbeing"], ["suicide-prevention"],
                "planned", "2027-02-01", "2028-01-31", [41001], [p("Drop-in crisis cafe")], "trust-community-mh"),
        _Action("Suicide bereavement support: clear the waiting list", _ICB, [_OPEN_DOOR], ["mental-wellbeing"],
                ["suicide-prevention"], "active", "2026-10-01", "2027-03-31", [41001],
                [p("Suicide bereavement support has a waiting list"), p("After my brother died")], "icb-mh-commissioning"),
        _Action("Barbers and hairdressers trained to start the conversation", _COUNCIL, [_BUSINESS, _SHED],
                ["mental-wellbeing"], ["suicide-prevention"], "active", "2026-09-01", "2027-08-31", [41001],
                [p("Training for barbers and hairdressers")], "ph-mental-health"),
        _Action("Talking therapies: evening sessions and phone self-referral", _MENTAL_HEALTH_TRUST, [_PCN],
                ["mental-wellbeing"], ["early-help"], "active", "2026-10-15", "", [22303, 848],
                [p("Waited 14 months for talking therapy"), p("self-refer to talking therapies"), "F-024"],
                "trust-community-mh"),
        _Action("Peer support groups: three-year funding", _ICB, [_OPEN_DOOR, _SHED], ["mental-wellbeing"], ["early-help"],
                "planned", "2027-04-01", "2030-03-31", [22301], [p("Peer support groups are cheap")], "icb-mh-commissioning"),
        _Action("One shared directory of activities and services", _LIBRARIES, [_PCN, _COUNCIL],
                ["mental-wellbeing", "active-lives"], ["early-help", "sport-leisure"], "active", "2026-10-01", "",
                [], [p("one shared directory"), p("Social prescribers could refer")], "libraries-development"),
        _Action("Wellbeing toolkit and MHFA places for small employers", _BUSINESS, [_COUNCIL, _GROCERS],
                ["mental-wellbeing"], ["workplace-wellbeing"], "active", "2026-11-01", "2027-10-31", [22304],
                [p("Small employers don't know how to support staff")], "business-network-manager"),
        _Action("Council staff stress and menopause support", _COUNCIL, [], ["mental-wellbeing"], ["workplace-wellbeing"],
                "active", "2026-04-01", "", [22304], [p("Our own staff sickness"), p("menopause affects")], "hr-wellbeing"),
        _Action("Parents' peer support while waiting for assessment", _PARENTS, [_YOUTH, _MENTAL_HEALTH_TRUST],
                ["mental-wellbeing"], ["young-people-mh"], "planned", "2027-01-08", "", [],
                [p("Neurodivergent young people waiting"), "F-027"], "parents-voice-chair"),
        _Action("Young people's unconference at the youth centre", _YOUTH, [_COUNCIL], ["mental-wellbeing"],
                ["young-people-mh"], "planned", "2027-02-16", "2027-02-16", [], ["F-029", "young-people-mh"],
                "youth-project-lead"),
    ]


def actions_register() -> pd.DataFrame:
    """The example actions register in :data:`hwb_toolkit.schema.ACTION_COLUMNS`, as CSV text cells."""
    rows = []
    stamp = pd.Timestamp("2026-10-20T16:00:00Z")
    for index, action in enumerate(_actions(), start=1):
        rows.append({
            "action_id": f"A{index:03d}",
            "title": action.title,
            "lead_org": action.lead,
            "partner_orgs": ";".join(action.partners),
            "objectives": ";".join(action.objectives),
            "themes": ";".join(action.themes),
            "status": action.status,
            "start": action.start,
            "end": action.end,
            "linked_indicators": ";".join(str(i) for i in action.indicators),
            "responds_to": ";".join(action.responds_to),
            "area_code": HOME_AREA,
            "updated_at": (stamp - pd.Timedelta(hours=7 * index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_by": action.updated_by,
        })
    return pd.DataFrame(rows, columns=ACTION_COLUMNS)


# --- Writing the workspace -------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def workspace_readme(seed: int, indicators: pd.DataFrame) -> str:
    """The README of the example workspace: what it is, what is synthetic, how to regenerate."""
    utlas = indicators.loc[indicators["Area Type"] == UTLA_TYPE, "Area Code"].nunique()
    n_indicators = indicators["Indicator ID"].nunique()
    return f"""\
# Example workspace (SYNTHETIC DATA)

This folder is the example workspace bundled with hwb-toolkit: `hwb init DIR`
copies it to start a new workspace. It shows every kind of material a Health
and Wellbeing partnership keeps, for a fictional partnership in
{HOME_PLACE} (home area {HOME_AREA}).

**All values, and all workshop, forum and action content, are SYNTHETIC.**
They are plausible but invented, generated by `tools/synthetic.py` with
seed {seed}. Do not use any number here for decisions.

What is real and what is not:

| file | real | synthetic |
|---|---|---|
| `indicators/fingertips_all_data.csv` | the 26-column layout of a Fingertips all-data export; ONS area codes and names ({utlas} upper-tier local authorities, their regions, England); Fingertips indicator IDs and names ({n_indicators} indicators); age groups and period formats | every Value, confidence limit, Count and Denominator; the comparisons and trends (computed from the synthetic values with the toolkit's own methods) |
| `strategy.yaml` | indicator IDs and names; the council and NHS body names | the partnership, its vision, objectives, themes and keywords |
| `voices/*` | nothing | every post-it, open-space report, poll statement, vote and forum post; participants are pseudonymous ids (p001 ...) |
| `actions.csv` | nothing | every action; voluntary sector, business, resident and other organisation names are fictional, and real bodies named here did not write or commit to these actions |

As on a real post-it wall, one post-it holds an email address and one a phone
number (both from reserved example ranges): the toolkit masks them before anything
is published. Hostile text (markup, spreadsheet formulas) is test material and
lives in the tests, not here.

The data carries some planted stories for {HOME_PLACE}, so that the analyses
have something to find: physically inactive adults and Year 6 overweight worse
than England, under-18 mental health admissions worse than England with no
linked action, adult social care users' social contact getting worse, the
"Takeaways, shops and advertising" theme voted high with no active action, and
connected-communities actions from the voluntary sector only.

## Contents

- `strategy.yaml`: vision, objectives, themes (with keywords), indicators, stakeholders.
- `indicators/fingertips_all_data.csv`: Fingertips-format indicator data.
- `voices/sources.yaml` and the files it lists: the unconference "{EVENT}"
  (post-its, open-space proceedings, a dot vote on themes, an agree/disagree
  poll) and an online forum.
- `actions.csv`: the actions register (who is doing what).

## Regenerate

```bash
.venv/bin/python tools/synthetic.py hwb_toolkit/example_workspace
```

The generator is deterministic: the same seed gives the same files, and
`tests/test_example_workspace.py` checks that the committed files are what it
writes.
"""


def workspace_files(seed: int = SEED) -> dict[str, str]:
    """Every file of the example workspace: relative path -> text."""
    indicators = fingertips_example(seed)
    sources = yaml.safe_dump(voices_sources(), sort_keys=False, allow_unicode=True, width=100)
    return {
        "README.md": workspace_readme(seed, indicators),
        "strategy.yaml": strategy_yaml(),
        "indicators/fingertips_all_data.csv": fingertips_csv_text(indicators),
        "voices/sources.yaml": "# Example voices (SYNTHETIC). See ../README.md.\n" + sources,
        "voices/unconference_postits.csv": _csv(postits(seed)),
        "voices/open_space_proceedings.csv": _csv(open_space_proceedings()),
        "voices/poll_statements.csv": _csv(poll_statements()),
        "voices/poll_votes.csv": _csv(poll_votes(seed)),
        "voices/dot_votes.csv": _csv(dot_votes(seed)),
        "voices/forum_posts.csv": _csv(forum_posts()),
        "actions.csv": _csv(actions_register()),
    }


def write_example_workspace(dest: str | Path, seed: int = SEED) -> list[Path]:
    """Write every file of the example workspace under ``dest``; returns the paths written.

    Files are written as UTF-8 bytes exactly as :func:`workspace_files` gives them
    (no newline translation), so the output is byte-identical on every platform.
    """
    dest = Path(dest)
    written = []
    for relative, text in workspace_files(seed).items():
        path = dest / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python tools/synthetic.py DEST_FOLDER", file=sys.stderr)
        return 2
    for path in write_example_workspace(args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
