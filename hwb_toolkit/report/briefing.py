"""One area's briefing: the tables every section shows."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from hwb_toolkit.schema import ENGLAND_CODE
from hwb_toolkit.system.strategy import Strategy
from hwb_toolkit.voices.digest import VoicesView


@dataclass
class Briefing:
    """One area's briefing for one reporting month: every table the sections show."""

    area_code: str
    area_name: str
    parent_name: str | None
    period: str
    strategy: Strategy
    indicators: pd.DataFrame
    indicator_data: pd.DataFrame
    voices: VoicesView
    actions: pd.DataFrame
    coverage: pd.DataFrame
    gaps: pd.DataFrame
    connections: Any
    loop: Any
    #: Theme-action links (:func:`theme_action_links`): what the sections say is being done on a theme.
    theme_links: pd.DataFrame | None = None
    previous_summary: dict | None = None
    suppress_below: int = 5
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    #: Section contexts built ahead by :func:`hwb_toolkit.sections.prepare_sections`; each is
    #: used once by the next :meth:`show` of that section, then built afresh.
    prepared_sections: dict = field(default_factory=dict, repr=False, compare=False)
    #: Charts of the indicator sections (spine, trends), built once and kept as figures.
    figures: dict = field(default_factory=dict, repr=False, compare=False)
    #: Every count the briefing publishes (:func:`hwb_toolkit.report.numbers.key_numbers`),
    #: worked out once by the build: the page and ``summary.json`` both read them from here.
    numbers: dict = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def series_by_key(self) -> dict[tuple, pd.DataFrame]:
        """The area's and England's rows, oldest first, by ``(area_code, indicator_id, sex, age)``.

        Split once: filtering the whole table for each chart cost about 50 ms a chart.
        """
        data = self.indicator_data
        mine = data[data["area_code"].isin([self.area_code, ENGLAND_CODE]).to_numpy(bool)]
        mine = mine.sort_values("period_sortable", kind="stable")
        return {
            (str(code), int(indicator), str(sex), str(age)): rows
            for (code, indicator, sex, age), rows in mine.groupby(
                ["area_code", "indicator_id", "sex", "age"], sort=False, observed=True
            )
        }

    def series(self, indicator_id: int, sex: str, age: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """An indicator's time series for the briefing's area and for England, oldest first."""
        empty = self.indicator_data.iloc[0:0]
        return tuple(
            self.series_by_key.get((code, indicator_id, sex, age), empty).reset_index(drop=True)
            for code in (self.area_code, ENGLAND_CODE)
        )

    @property
    def objectives(self) -> list[str]:
        return [objective.id for objective in self.strategy.objectives]

    @property
    def first_briefing(self) -> bool:
        """True when there is no earlier briefing for this area to compare with."""
        return not self.previous_summary
