"""The indicator engine: official statistics for Fingertips-style indicators.

- :mod:`.intervals`: confidence intervals (Wilson, Byar's, exact Poisson);
  :mod:`.methods`: the PHEindicatormethods-style calculators (proportion, crude rate,
  mean, quantiles); :mod:`.standardised`: DSR, ISR/ISRatio and the European Standard
  Populations; :mod:`.funnels`: funnel limits.
- :mod:`hwb_toolkit.indicators.compare`: Fingertips' comparison labels
  (benchmark, quintiles, SPC) and the recent-trend marker.

Everything here is pure: DataFrames and arrays in, DataFrames, arrays or small
dataclasses out; reading files lives in :mod:`hwb_toolkit.io`.
"""

from hwb_toolkit.indicators.compare import (
    POLARITIES,
    TREND_LABELS,
    TrendResult,
    TrendResults,
    compare_spc_dsr,
    compare_spc_proportion,
    compare_to_benchmark,
    quintile_bounds,
    quintile_labels,
    recent_trend,
    recent_trends,
)
from hwb_toolkit.indicators.funnels import funnel_limits, funnel_significance
from hwb_toolkit.indicators.intervals import FINGERTIPS_Z, byars_ci, exact_poisson_ci, wilson_ci
from hwb_toolkit.indicators.methods import (
    ci_columns,
    crude_rate,
    mean_ci,
    poisson_ci,
    proportion,
    quantile_group,
)
from hwb_toolkit.indicators.standardised import (
    ESP1976,
    ESP2013,
    ESP2013_AGE_BANDS,
    dsr,
    isr,
    isratio,
)

__all__ = [
    "ESP1976",
    "ESP2013",
    "ESP2013_AGE_BANDS",
    "FINGERTIPS_Z",
    "POLARITIES",
    "TREND_LABELS",
    "TrendResult",
    "byars_ci",
    "ci_columns",
    "compare_spc_dsr",
    "compare_spc_proportion",
    "compare_to_benchmark",
    "crude_rate",
    "dsr",
    "exact_poisson_ci",
    "funnel_limits",
    "funnel_significance",
    "isr",
    "isratio",
    "mean_ci",
    "poisson_ci",
    "proportion",
    "quantile_group",
    "quintile_bounds",
    "quintile_labels",
    "recent_trend",
    "recent_trends",
    "TrendResults",
    "wilson_ci",
]

# Reading lives in hwb_toolkit.io (all file I/O is there); it is re-exported here
# because code outside the project calls these names from hwb_toolkit.indicators.
from hwb_toolkit.indicators.summary import summarise_all_areas, summarise_area  # noqa: E402
from hwb_toolkit.io.fingertips import read_fingertips_csv, read_indicators  # noqa: E402

__all__ += ["read_fingertips_csv", "read_indicators", "summarise_all_areas", "summarise_area"]
