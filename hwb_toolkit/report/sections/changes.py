"""What changed since last month."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hwb_toolkit.report.numbers import _quotable_rows, _text, published_themes, quotable
from hwb_toolkit.text.labels import series_label

if TYPE_CHECKING:
    from hwb_toolkit.report.briefing import Briefing


NEW_CONTRIBUTIONS_SHOWN = 10


# --- what changed ------------------------------------------------------------------
def changes_context(briefing: Briefing) -> dict:
    """New data, indicators whose comparison with England changed, and emerging themes.

    With last month's ``summary.json`` the comparison is with what that briefing
    said; without it (a first briefing) nothing is called new, and changes of
    comparison are those since the previous data period.
    """
    summary = briefing.indicators
    previous = {}
    if briefing.previous_summary:
        previous = {
            (item["indicator_id"], item["sex"], item["age"]): item
            for item in briefing.previous_summary.get("indicators", [])
        }
    new_data, changed = [], []
    for row in summary.to_dict("records"):
        key = (int(row["indicator_id"]), row["sex"], row["age"])
        before = previous.get(key)
        if previous:
            if before is None or before["period"] != row["period"]:
                new_data.append({"indicator_name": series_label(row), "period": row["period"]})
            was = before["compared_to_england"] if before else None
            was_period = before["period"] if before else None
        else:
            was = _text(row["previous_compared_to_england"])
            was_period = _text(row["previous_period"])
        now = row["compared_to_england"]
        if was and now != was and "Not compared" not in (now, was):
            changed.append({
                "indicator_name": series_label(row),
                "period": row["period"],
                "previous_period": was_period or "the previous period",
                "compared_to_england": now,
                "previous_compared_to_england": was,
            })
    recent = contributions_this_month(briefing)
    return {
        "area_name": briefing.area_name,
        "first_briefing": briefing.first_briefing,
        "new_data": new_data,
        "changed_significance": changed,
        "emerging_themes": emerging_themes(briefing),
        "new_contributions": _quotable_rows(briefing, recent.head(NEW_CONTRIBUTIONS_SHOWN), recent),
        "new_contributions_total": int(len(recent)),
        "has_voices": not briefing.voices.empty,
        "suppress_below": briefing.suppress_below,
    }


def contributions_this_month(briefing: Briefing) -> pd.DataFrame:
    """Contributions (not poll statements) made in the reporting month, newest first."""
    contributions = briefing.voices.contributions
    created = pd.to_datetime(contributions["created_at"], utc=True, errors="coerce")
    month = created.dt.strftime("%Y-%m") == briefing.period
    recent = contributions[month.fillna(False).to_numpy(bool)].assign(_created=created[month.fillna(False)])
    return recent.sort_values("_created", ascending=False, kind="stable").drop(columns="_created")


def emerging_themes(briefing: Briefing) -> list[dict]:
    """Themes the strategy does not name yet, found in what partners said (largest first),
    each named by its most representative phrase."""
    themes = briefing.voices.themes
    found = themes[(themes["origin"] == "discovered") & (themes["size"] > 0)
                   & (themes["theme"] != "discovered-other")]
    found = published_themes(found, briefing.suppress_below)
    items = []
    for row in found.to_dict("records"):
        quotes = quotable(briefing, row, limit=1)
        items.append({"title": row["label"], "count": row["published_size"],
                      "quote": quotes[0] if quotes else None})
    return items
