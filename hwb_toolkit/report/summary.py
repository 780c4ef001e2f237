"""``summary.json``: one area's headline figures for machines (the index page, next month's
"what changed", other tools), from the same tables and counts the page is rendered from."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwb_toolkit.io.writers import write_text_atomically
from hwb_toolkit.privacy import suppress_small
from hwb_toolkit.report.briefing import Briefing
from hwb_toolkit.report.sections.first_part import headline_items


def summary_json(briefing: Briefing) -> dict:
    """The machine-readable headline figures (summary.json), from the same tables and
    counts (``briefing.numbers``) the page is rendered from."""
    numbers = briefing.numbers
    indicators = []
    for row in briefing.indicators.to_dict("records"):
        indicators.append(
            {
                "indicator_id": int(row["indicator_id"]),
                "indicator_name": row["indicator_name"],
                "display_name": row["display_name"],
                "breakdown": row["breakdown"],
                "unit": row["unit"],
                "sex": row["sex"],
                "age": row["age"],
                "period": row["period"],
                "value": _json_value(row["value"]),
                "lower_ci95": _json_value(row["lower_ci95"]),
                "upper_ci95": _json_value(row["upper_ci95"]),
                "england_value": _json_value(row["england_value"]),
                "compared_to_england": row["compared_to_england"],
                "compared_to_parent": row["compared_to_parent"],
                "recent_trend": _json_value(row["recent_trend"]),
                "significance_changed": bool(row["significance_changed"]),
                "objective": _json_value(row.get("objective")),
                "theme": _json_value(row.get("theme")),
            }
        )
    below = briefing.suppress_below
    return {
        "area_code": briefing.area_code,
        "area_name": briefing.area_name,
        "parent_name": briefing.parent_name,
        "period": briefing.period,
        "generated_at": briefing.generated_at,
        "first_briefing": briefing.first_briefing,
        "headline": [
            {"title": item["title"], "text": item["text"]} for item in headline_items(briefing)
        ],
        "indicators_compared": dict(numbers["figures"]["by_comparison"]),
        "figures": numbers["figures"]["total"],
        "indicators": indicators,
        "voices": {
            "contributions": suppress_small(numbers["contributions"], below),
            "participants": suppress_small(numbers["participants"], below),
            "top_priorities": [
                {"item": r["item"], "label": r["label"], "score": _json_value(r["score"])}
                for r in numbers["top_priorities"]
            ],
            "themes": [
                {"theme": r["theme"], "label": r["label"], "contributions": r["published_size"]}
                for r in numbers["themes"]
            ],
        },
        "actions": {
            "total": numbers["actions"]["total"],
            "by_status": dict(numbers["actions"]["by_status"]),
        },
        "you_said_we_did": {
            "share_answered": _json_value(briefing.loop.share_answered),
            "items": numbers["loop"]["items"],
            "answered": numbers["loop"]["answered"],
            "rows": [
                {"item": row["item"], "said": row["said"], "answered": row["answered"],
                 "action_ids": row["action_ids"]}
                for row in numbers["loop"]["rows"]
            ],
        },
        "gaps": numbers["gaps"],
        "suppress_below": below,
    }

def write_summary(briefing: Briefing, output_dir: str | Path) -> Path:
    """Write ``summary.json`` into ``output_dir`` atomically and return its path.

    Always valid JSON: a number that is not finite (NaN, infinity) is written as
    ``null``, never as the ``NaN``/``Infinity`` that Python's json would write.
    """
    path = Path(output_dir) / "summary.json"
    text = json.dumps(
        _finite(summary_json(briefing)), indent=2, ensure_ascii=False, allow_nan=False
    )
    write_text_atomically(path, text)
    return path


def _finite(value: Any) -> Any:
    """``value`` (dicts and lists within it too) with every non-finite float as None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _json_value(value: Any) -> Any:
    """A JSON-safe plain value: NaN/NA/infinity -> None, numpy scalars -> Python."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    return value
