"""Canonical column names and vocabularies shared by every layer.

Readers translate each outside format into these shapes; engines, the store,
charts and pages only ever see these names. Keep this module free of logic.
"""

from __future__ import annotations

# --- Indicators -------------------------------------------------------------
#: Canonical indicator table, in order (the Fingertips all-data export, snake_case).
#: ``value`` and the CI limits are on the indicator's published scale (e.g. a
#: percentage 0-100, or a rate per 100,000); ``count`` and ``denominator`` are raw.
INDICATOR_COLUMNS: list[str] = [
    "indicator_id",
    "indicator_name",
    "parent_code",
    "parent_name",
    "area_code",
    "area_name",
    "area_type",
    "sex",
    "age",
    "category_type",
    "category",
    "period",
    "period_sortable",
    "value",
    "lower_ci95",
    "upper_ci95",
    "lower_ci998",
    "upper_ci998",
    "count",
    "denominator",
    "value_note",
    "recent_trend",
    "compared_to_england",
    "compared_to_parent",
    "new_data",
    "compared_to_goal",
]

ENGLAND_CODE = "E92000001"

#: Indicator polarity, as Fingertips names it in its comparisons.
POLARITIES = ("high_is_good", "low_is_good", "no_judgement")

#: Fingertips' comparison labels.
BETTER, SIMILAR, WORSE, BEST, WORST = "Better", "Similar", "Worse", "Best", "Worst"
LOWER, HIGHER = "Lower", "Higher"
NOT_COMPARED = "Not compared"
#: The labels that mean significantly worse / better (at 95%, or at 99.8% for Worst / Best).
WORSE_LABELS = frozenset({WORSE, WORST})
BETTER_LABELS = frozenset({BETTER, BEST})

#: Fingertips' recent-trend labels (the trend marker on the last five points).
TREND_LABELS = (
    "Increasing and getting worse",
    "Increasing and getting better",
    "Decreasing and getting worse",
    "Decreasing and getting better",
    "Increasing",
    "Decreasing",
    "No significant change",
    "Cannot be calculated",
)

# --- Voices -----------------------------------------------------------------
#: Canonical contributions table. ``author`` is always pseudonymised;
#: ``area_code`` is optional (blank = the whole partnership).
CONTRIBUTION_COLUMNS: list[str] = [
    "contribution_id",
    "source",
    "session",
    "kind",
    "text",
    "author",
    "organisation",
    "sector",
    "created_at",
    "theme",
    "area_code",
]

CONTRIBUTION_KINDS = (
    "post_it",
    "open_space_note",
    "forum_post",
    "wiki_edit",
    "survey_answer",
    "statement",
)

SECTORS = ("council", "nhs", "vcse", "business", "resident", "other")

#: How each sector is named to people (charts, pages, reports).
SECTOR_LABELS: dict[str, str] = {
    "council": "Council",
    "nhs": "NHS",
    "vcse": "Voluntary and community",
    "business": "Business",
    "resident": "Residents",
    "other": "Other",
}

#: Canonical votes table: one row per participant, item and ballot.
#: ``vote`` meaning depends on ``kind``: dots given (dot), 1 (approval),
#: rank with 1 = top (rank), agree=1 / disagree=-1 / pass=0 (agree_disagree).
VOTE_COLUMNS: list[str] = [
    "source",
    "session",
    "participant",
    "item",
    "vote",
    "kind",
    "created_at",
]

VOTE_KINDS = ("dot", "approval", "rank", "agree_disagree")

# --- Whole system -----------------------------------------------------------
#: Canonical actions register. ``partner_orgs``, ``objectives``, ``themes``,
#: ``linked_indicators`` and ``responds_to`` are lists (";"-separated in CSV).
ACTION_COLUMNS: list[str] = [
    "action_id",
    "title",
    "lead_org",
    "partner_orgs",
    "objectives",
    "themes",
    "status",
    "start",
    "end",
    "linked_indicators",
    "responds_to",
    "area_code",
    "updated_at",
    "updated_by",
]

#: The columns of :data:`ACTION_COLUMNS` that hold lists of text.
ACTION_LIST_COLUMNS = ("partner_orgs", "objectives", "themes", "linked_indicators", "responds_to")

ACTION_STATUSES = ("idea", "planned", "active", "done", "stopped")
#: Action statuses in the order a reader wants them: under way first.
ACTION_STATUS_ORDER = {"active": 0, "planned": 1, "done": 2, "idea": 3, "stopped": 4}
