"""Tests for hwb_toolkit.narrative: wording, formatting, escaping, suppression, templates, the HTML report."""

from __future__ import annotations

import io
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from markupsafe import Markup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hwb_toolkit import markup
from hwb_toolkit.charts.figure import chart_figure
from hwb_toolkit.errors import ConfigError, HwbError, InputError, PipelineError
from hwb_toolkit.markup import external_references
from hwb_toolkit.privacy import suppress_small, withhold_small_parts
from hwb_toolkit.report.html import notebook_to_html
from hwb_toolkit.schema import ACTION_STATUSES, POLARITIES, TREND_LABELS
from hwb_toolkit.text.labels import (
    COMPARISON_LABELS,
    sector_attribution,
    sector_label,
    status_label,
)
from hwb_toolkit.text.numbers import (
    format_change,
    format_ci,
    format_count,
    format_period,
    format_share,
    format_value,
    join_list,
    pluralise,
    unit_for,
)
from hwb_toolkit.text.quotes import make_quote, truncate_text
from hwb_toolkit.text.safe_markup import trusted_svg
from hwb_toolkit.text.sentences import indicator_sentence
from hwb_toolkit.text.templates import _environment, render, show, template_environment

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert(1)</script>"
ESCAPED_IMG = "&lt;img src=x onerror=alert(1)&gt;"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

# A chart as our chart code makes it: wider than a phone, with namespaces and a text alternative.
CHART_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'version="1.1" width="640" height="200" viewBox="0 0 640 200" role="graphics-document document" '
    'aria-label="Spine chart for Leeds"><title>Spine chart</title><desc>Spine chart for Leeds</desc>'
    '<rect width="640" height="200" fill="white"/><circle cx="320" cy="100" r="8" fill="#C00000"/></svg>'
)


def csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def start_tags(document: str) -> list[str]:
    """Every element actually opened in an HTML document (text that merely looks like a tag is not)."""
    tags: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Collector().feed(document)
    return tags


# --- number formatting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (22.1, "%", None, "22.1%"),
        (22.05, "%", None, "22.1%"),  # half up, as people round (not 22.0 from binary 22.0499...)
        (22.04, "%", None, "22.0%"),
        (1234, "", None, "1,234"),
        (1234.0, "count", None, "1,234"),
        (1234.56, "count", None, "1,234.6"),  # not a whole count: keeps a decimal
        (0.43, "", None, "0.4"),  # never rounded to a misleading 0
        (45.649, "per 100,000", None, "45.6 per 100,000"),
        (12345.67, "per 100,000", None, "12,345.7 per 100,000"),
        (5.25, "per 1,000", None, "5.3 per 1,000"),
        (79.26, "years", None, "79.3 years"),
        (101.25, "number", None, "101.3"),
        (-0.04, "%", None, "0.0%"),  # never "-0.0%"
        (22.123, "%", 2, "22.12%"),
        (np.float64(7.0), "%", None, "7.0%"),
        (np.int64(12), "", None, "12"),
        (float("nan"), "%", None, "not available"),
        (None, "", None, "not available"),
        (pd.NA, "", None, "not available"),
    ],
)
def test_format_value(value, unit, decimals, expected):
    assert format_value(value, unit, decimals) == expected


def test_format_value_refuses_text():
    with pytest.raises(InputError, match="must be a number"):
        format_value("22.1", "%")


@pytest.mark.parametrize(
    ("lower", "upper", "unit", "level", "expected"),
    [
        (20.44, 23.95, "%", 95, "95% CI 20.4% to 24.0%"),
        (40.06, 51.24, "per 100,000", 95, "95% CI 40.1 to 51.2 per 100,000"),
        (78.11, 79.04, "years", 95, "95% CI 78.1 to 79.0 years"),
        (12, 30.4, "", 95, "95% CI 12 to 30.4"),
        (12.0, 31.0, "count", 95, "95% CI 12 to 31"),
        (19.0, 25.5, "%", 99.8, "99.8% CI 19.0% to 25.5%"),
        (None, 23.9, "%", 95, ""),
        (20.4, float("nan"), "%", 95, ""),
    ],
)
def test_format_ci(lower, upper, unit, level, expected):
    assert format_ci(lower, upper, unit, level) == expected


@pytest.mark.parametrize(
    ("change", "unit", "expected"),
    [
        (1.23, "%", "up 1.2 percentage points"),
        (1.0, "%", "up 1.0 percentage point"),
        (-3.44, "per 100,000", "down 3.4 per 100,000"),
        (0.04, "%", "no change"),
        (-0.04, "%", "no change"),
        (-12, "", "down 12"),
        (0.26, "years", "up 0.3 years"),
        (float("nan"), "%", "not available"),
    ],
)
def test_format_change(change, unit, expected):
    assert format_change(change, unit) == expected


@pytest.mark.parametrize(
    ("share", "decimals", "expected"),
    [
        (0.425, 0, "43%"),
        (0.43, 0, "43%"),
        (0.0, 0, "0%"),
        (1.0, 0, "100%"),
        (0.004, 0, "less than 1%"),
        (0.996, 0, "more than 99%"),
        (0.1234, 1, "12.3%"),
        (0.0004, 1, "less than 0.1%"),
        (float("nan"), 0, "not available"),
    ],
)
def test_format_share(share, decimals, expected):
    assert format_share(share, decimals) == expected


@pytest.mark.parametrize("share", [1.2, -0.1, 43])
def test_format_share_refuses_a_percentage(share):
    with pytest.raises(InputError, match="between 0 and 1"):
        format_share(share)


def test_counts_plurals_lists_and_periods():
    assert format_count(1234) == "1,234"
    assert format_count(2.5) == "2.5"
    assert format_count("fewer than 5") == "fewer than 5"
    assert pluralise(1, "contribution") == "1 contribution"
    assert pluralise(3, "contribution") == "3 contributions"
    assert pluralise(1234, "vote") == "1,234 votes"
    assert pluralise(2, "reply", "replies") == "2 replies"
    assert pluralise("fewer than 5", "contribution") == "fewer than 5 contributions"
    assert pluralise(1, "person", "people", with_count=False) == "person"
    assert join_list([]) == ""
    assert join_list(["A"]) == "A"
    assert join_list(["A", "B"]) == "A and B"
    assert join_list(["A", "B", "C"]) == "A, B and C"
    assert join_list(["A", "B", "C"], "or") == "A, B or C"
    assert format_period("2026-11") == "November 2026"
    assert format_period("2023/24") == "2023/24"
    assert unit_for("proportion", 100) == "%"
    assert unit_for("dsr", 100000) == "per 100,000"
    assert unit_for("crude_rate", 1000) == "per 1,000"
    assert unit_for("mean", 1) == "number"


def test_labels_for_statuses_sectors_and_attributions():
    assert {status_label(status) for status in ACTION_STATUSES} == {
        "Idea", "Planned", "Under way", "Done", "Stopped"
    }  # fmt: skip
    with pytest.raises(InputError, match="unknown action status"):
        status_label("finished")
    assert sector_label("vcse") == "Voluntary and community"
    assert sector_label(None) == "Not recorded"
    assert sector_attribution("vcse") == "a voluntary sector partner"
    assert sector_attribution("NHS") == "an NHS colleague"
    assert sector_attribution("resident") == "a resident"
    assert sector_attribution(None) == "a participant"
    assert sector_attribution("Jane Smith") == "a participant"  # never echoes a name


# --- indicator sentences: the wording follows the labels ---------------------------

ROW = {
    "indicator_id": 93014,
    "indicator_name": "Percentage of physically inactive adults",
    "area_name": "Leeds",
    "period": "2023/24",
    "value": 22.1,
    "lower_ci95": 20.4,
    "upper_ci95": 23.9,
    "compared_to_england": "Worse",
    "england_value": 22.3,
    "recent_trend": "Increasing and getting worse",
    "polarity": "low_is_good",
    "unit": "%",
}

EXPECTED_COMPARISON = {
    "Better": "significantly better than England (22.3%)",
    "Best": "significantly better than England (22.3%)",
    "Similar": "similar to England (22.3%)",
    "Worse": "significantly worse than England (22.3%)",
    "Worst": "significantly worse than England (22.3%)",
    "Higher": "significantly higher than England (22.3%)",
    "Lower": "significantly lower than England (22.3%)",
    "Not compared": "not compared with England",
}
# The words each comparison label may use; every other comparison word is a contradiction.
COMPARISON_WORDS = {
    "better",
    "worse",
    "similar",
    "higher",
    "lower",
    "not compared",
    "significantly",
}
ALLOWED_COMPARISON_WORDS = {
    "Better": {"better", "significantly"},
    "Best": {"better", "significantly"},
    "Similar": {"similar"},
    "Worse": {"worse", "significantly"},
    "Worst": {"worse", "significantly"},
    "Higher": {"higher", "significantly"},
    "Lower": {"lower", "significantly"},
    "Not compared": {"not compared"},
}
EXPECTED_TREND = {
    "Increasing and getting worse": "and getting worse over recent periods",
    "Decreasing and getting worse": "and getting worse over recent periods",
    "Increasing and getting better": "and getting better over recent periods",
    "Decreasing and getting better": "and getting better over recent periods",
    "Increasing": "and rising over recent periods",
    "Decreasing": "and falling over recent periods",
    "No significant change": "with no significant change recently",
    "Cannot be calculated": "",
}
TREND_WORDS = {
    "getting worse",
    "getting better",
    "rising",
    "falling",
    "no significant change",
    "recent",
}
ALLOWED_TREND_WORDS = {
    "Increasing and getting worse": {"getting worse", "recent"},
    "Decreasing and getting worse": {"getting worse", "recent"},
    "Increasing and getting better": {"getting better", "recent"},
    "Decreasing and getting better": {"getting better", "recent"},
    "Increasing": {"rising", "recent"},
    "Decreasing": {"falling", "recent"},
    "No significant change": {"no significant change", "recent"},
    "Cannot be calculated": set(),
}


def words_used(text: str, vocabulary: set[str]) -> set[str]:
    return {word for word in vocabulary if re.search(rf"\b{word}", text.casefold())}


def test_sentence_from_the_issue_reads_as_promised():
    subject = {**ROW, "subject": "of adults are physically inactive", "period": None}
    assert indicator_sentence(subject) == (
        "22.1% of adults are physically inactive (95% CI 20.4% to 23.9%), significantly worse "
        "than England (22.3%), and getting worse over recent periods."
    )
    assert indicator_sentence({**subject, "period": "2023/24"}) == (
        "In 2023/24, 22.1% of adults are physically inactive (95% CI 20.4% to 23.9%), "
        "significantly worse than England (22.3%), and getting worse over recent periods."
    )


def test_sentence_without_a_subject_falls_back_to_the_indicator_name():
    expected = (
        "Percentage of physically inactive adults (2023/24): 22.1% (95% CI 20.4% to 23.9%), "
        "significantly worse than England (22.3%), and getting worse over recent periods."
    )
    assert indicator_sentence(ROW, "Leeds") == expected
    # a row of a summary DataFrame reads the same as a dict
    row = pd.DataFrame([ROW]).convert_dtypes().iloc[0]
    assert indicator_sentence(row, "Leeds") == expected


@pytest.mark.parametrize("polarity", POLARITIES)
@pytest.mark.parametrize("label", COMPARISON_LABELS)
def test_comparison_wording_never_contradicts_the_label(label, polarity):
    row = {
        **ROW,
        "compared_to_england": label,
        "polarity": polarity,
        "recent_trend": "Cannot be calculated",
    }
    sentence = indicator_sentence(row)
    assert EXPECTED_COMPARISON[label] in sentence
    assert words_used(sentence, COMPARISON_WORDS) == ALLOWED_COMPARISON_WORDS[label]


@pytest.mark.parametrize("label", COMPARISON_LABELS)
def test_polarity_never_changes_the_words(label):
    sentences = {
        indicator_sentence({**ROW, "compared_to_england": label, "polarity": polarity})
        for polarity in POLARITIES
    }
    assert len(sentences) == 1


@pytest.mark.parametrize("polarity", POLARITIES)
@pytest.mark.parametrize("trend", TREND_LABELS)
def test_trend_wording_follows_the_fingertips_label(trend, polarity):
    row = {
        **ROW,
        "compared_to_england": "Not compared",
        "recent_trend": trend,
        "polarity": polarity,
    }
    sentence = indicator_sentence(row)
    assert words_used(sentence, TREND_WORDS) == ALLOWED_TREND_WORDS[trend]
    if EXPECTED_TREND[trend]:
        assert sentence.endswith(f", {EXPECTED_TREND[trend]}.")
    else:
        assert sentence.endswith("not compared with England.")


@pytest.mark.parametrize("polarity", POLARITIES)
def test_every_label_and_trend_together(polarity):
    for label in COMPARISON_LABELS:
        for trend in TREND_LABELS:
            row = {**ROW, "compared_to_england": label, "recent_trend": trend, "polarity": polarity}
            sentence = indicator_sentence(row)
            assert EXPECTED_COMPARISON[label] in sentence
            comparison_part = (
                sentence.replace(EXPECTED_TREND[trend], "") if EXPECTED_TREND[trend] else sentence
            )
            assert words_used(comparison_part, COMPARISON_WORDS) == ALLOWED_COMPARISON_WORDS[label]
            assert EXPECTED_TREND[trend] in sentence


def test_labels_are_read_whatever_their_case_and_unknown_labels_fail():
    assert indicator_sentence({**ROW, "compared_to_england": "worse"}) == indicator_sentence(ROW)
    assert indicator_sentence(
        {**ROW, "recent_trend": "increasing & getting worse"}
    ) == indicator_sentence(ROW)
    missing = indicator_sentence({**ROW, "compared_to_england": None, "recent_trend": float("nan")})
    assert missing.endswith("22.1% (95% CI 20.4% to 23.9%), not compared with England.")
    with pytest.raises(InputError, match="unknown comparison label 'Much worse'"):
        indicator_sentence({**ROW, "compared_to_england": "Much worse"})
    with pytest.raises(InputError, match="unknown trend label"):
        indicator_sentence({**ROW, "recent_trend": "Getting worse"})


@pytest.mark.parametrize("missing", [float("nan"), None, pd.NA, np.nan])
def test_a_suppressed_value_gives_no_number(missing):
    sentence = indicator_sentence({**ROW, "value": missing})
    assert sentence == (
        "Percentage of physically inactive adults (2023/24): the figure for Leeds is suppressed "
        "because the count is too small to publish; the figure for England is 22.3%."
    )
    for leaked in ("22.1", "20.4", "23.9", "CI", "worse", "better", "similar"):
        assert leaked not in sentence


def test_a_missing_value_with_another_reason_says_so():
    sentence = indicator_sentence(
        {**ROW, "value": None, "value_note": "Data not collected this year"}
    )
    assert "no figure is available for Leeds (Data not collected this year)" in sentence
    assert "suppressed" not in sentence
    suppressed = indicator_sentence(
        {**ROW, "value": None, "value_note": "Value suppressed for disclosure control"}
    )
    assert "is suppressed because the count is too small" in suppressed


def test_sentence_needs_a_name_and_an_area():
    with pytest.raises(InputError, match="indicator_name"):
        indicator_sentence({**ROW, "indicator_name": None})
    with pytest.raises(InputError, match="no area name"):
        indicator_sentence({**ROW, "area_name": None})


# --- quotes and escaping -------------------------------------------------------------


def test_quotes_are_verbatim_and_attributed_to_a_sector():
    text = '  The bus stops at 6pm, so "evening classes" are out of reach for us.\n'
    assert make_quote(text, "resident") == {
        "text": 'The bus stops at 6pm, so "evening classes" are out of reach for us.',
        "attribution": "a resident",
    }
    with pytest.raises(InputError):
        make_quote("   ", "resident")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short enough", 40, "Short enough"),
        ("The park needs better lighting at night", 20, "The park needs…"),
        ("The park needs better lighting", 15, "The park needs…"),  # cut falls on a space
        ("Supercalifragilistic", 8, "Superca…"),  # one long word: cut inside, marked
    ],
)
def test_shortened_quotes_end_between_words_with_an_ellipsis(text, limit, expected):
    shortened = truncate_text(text, limit)
    assert shortened == expected
    assert len(shortened) <= limit
    if shortened != text:
        assert shortened.endswith("…")
        kept = shortened[:-1]
        assert text.startswith(kept)
        assert " " not in text or text[len(kept)] == " " or len(text.split()) == 1


def objective_context(**overrides):
    objective = {
        "id": "active-lives",
        "title": "Active lives",
        "description": "More people moving more, every day.",
        "figures": {"total": 2, "better": 0, "similar": 0, "worse": 1, "other": 1, "higher": 0,
                    "lower": 0},
        "contributions": 23,
        "has_voices": True,
        "has_actions": True,
        "action_counts": [{"status": "active", "count": 1}, {"status": "planned", "count": 1}],
        "indicators": [
            {
                "name": "Percentage of physically inactive adults",
                "sentence": indicator_sentence(ROW),
                "chart_svg": trusted_svg(CHART_SVG),
                "chart_alt": "Trend for Leeds: 1 worse than England.",
                "chart_caption": "Inactive adults in Leeds from 2019/20 to 2023/24.",
            },
            {
                "name": "Deaths from drug misuse",
                "sentence": indicator_sentence({**ROW, "value": None}),
                "chart_svg": None,
                "chart_alt": "",
                "chart_caption": "",
            },
        ],
        "themes": [
            {
                "title": "Walking and cycling",
                "count": 23,
                "by_sector": [
                    {"sector": "resident", "count": 17},
                    {"sector": "vcse", "count": 3},
                    {"sector": "council", "count": 0},
                    {"sector": None, "count": "not shown"},
                ],
                "quotes": [
                    make_quote("The canal path floods every winter.", "resident"),
                    make_quote(HOSTILE_SCRIPT + " " + HOSTILE_IMG, "vcse"),
                ],
                "actions": [{"title": "Canal path resurfacing", "status": "active", "answers": True}],
            }
        ],
        "actions": [
            {
                "title": "Canal path resurfacing",
                "lead_org": "Example City Council",
                "status": "active",
                "listed_under": "Active lives",
            },
            {"title": "Led walks for carers", "lead_org": "Carers Together", "status": "planned",
             "listed_under": "Active lives"},
        ],
        "actions_elsewhere": [
            {"title": "Lunch clubs", "lead_org": "Men's Shed", "status": "active",
             "listed_under": "Healthy food"},
        ],
        "gaps": [
            {"detail": "Partners voted Walking and cycling 2nd of 9 and no action answers it."}
        ],
    }
    objective.update(overrides)
    return {"objective": objective}


CONTEXTS = {
    "title": {
        "area_name": "Leeds",
        "area_code": "E08000035",
        "period": "2026-11",
        "partnership_name": "Example Health and Wellbeing Partnership",
        "vision": "Everyone lives an active, connected, healthy life.",
        "first_briefing": True,
        "previous_period": "",
    },
    "headline": {
        "items": [
            {"title": "Inactivity is worse than England", "text": indicator_sentence(ROW)},
            {"title": "Food insecurity is the top voted theme", "text": "It received 41 dots."},
            {"title": "No action answers loneliness", "text": "Two partners could talk."},
        ]
    },
    "said": {
        "area_name": "Leeds",
        "contributions": 186,
        "participants": 57,
        "sources": 3,
        "top_priorities": [{"label": "Food insecurity", "score": 41.0},
                           {"label": "Walking and cycling", "score": 3.0}],
        "agreed": {"text": "Cost of living is the biggest barrier.", "agree_share": 0.91, "voters": 44},
        "agreed_also": False,
        "divided": {"text": "Cars should be kept out of the town centre.",
                    "groups": [{"name": "Group A", "agree_share": 0.88},
                               {"name": "Group B", "agree_share": 0.12}]},
        "themes": [{"title": "Walking and cycling", "count": 23}, {"title": "Loneliness", "count": 3}],
        "suppress_below": 5,
    },
    "done": {
        "area_name": "Leeds",
        "total": 12,
        "by_status": [{"status": "active", "count": 7}, {"status": "idea", "count": 5}],
        "loop_items": 6,
        "loop_answered": 4,
        "unanswered": ["Takeaways", "Getting about"],
        "gaps": 3,
        "worse": 2,
    },
    "changes": {
        "area_name": "Leeds",
        "first_briefing": False,
        "new_data": [{"indicator_name": ROW["indicator_name"], "period": "2023/24"}],
        "changed_significance": [
            {
                "indicator_name": "Smoking prevalence in adults",
                "period": "2023",
                "previous_period": "2022",
                "compared_to_england": "Worse",
                "previous_compared_to_england": "Similar",
            }
        ],
        "emerging_themes": [
            {"title": "Warm spaces", "count": 12,
             "quote": make_quote("Keep the warm spaces open all year.", "resident")},
            {"title": "Bus routes", "count": 3, "quote": None},
        ],
        "new_contributions": [make_quote("More benches please.", "resident")],
        "new_contributions_total": 6,
        "has_voices": True,
        "suppress_below": 5,
    },
    "objective": objective_context(),
    "consensus": {
        "has_poll": True,
        "participants": 58,
        "agreed": [
            {
                "text": "Every school should have a safe walking route.",
                "agree_share": 0.82,
                "voters": 44,
            }
        ],
        "agreed_more": [],
        "disagreed": [
            {"text": "Parks should close at dusk.", "disagree_share": 0.71, "voters": 40}
        ],
        "disagreed_more": [],
        "divisive": [
            {
                "text": "Cars should be kept out of the town centre.",
                "groups": [
                    {"name": "Group A", "agree_share": 0.88},
                    {"name": "Group B", "agree_share": 0.12},
                ],
            }
        ],
    },
    "loop": {
        "rows": [
            {
                "said": "Safer cycle lanes",
                "score": 31,
                "answered": True,
                "actions": [{"title": "Protected lanes on the A61", "status": "active", "answers": True}],
            },
            {
                "said": "A pantry in every ward",
                "score": 3,
                "answered": False,
                "actions": [{"title": "Pantry pilot", "status": "idea", "answers": False}],
            },
            {"said": "More benches", "score": 12, "answered": False, "actions": []},
        ],
        "answered": 1,
        "items": 3,
    },
    "conversations": {
        "has_actions": True,
        "conversations": [
            {
                "org_a": "Example City Council",
                "org_b": "Carers Together",
                "reason": "both work on Walking and cycling but share no action yet",
            }
        ],
    },
    "data_notes": {
        "sources": [
            {
                "name": "Fingertips (OHID)",
                "detail": "Public health profiles, data downloaded November 2026",
            },
            {"name": "Moving More unconference", "detail": ""},
        ],
        "methods": ["Confidence intervals: Wilson score for proportions, Byar's method for rates."],
        "suppressed": [{"indicator_name": "Deaths from drug misuse", "period": "2021 - 23"}],
        "suppress_below": 5,
    },
}

EXPECTED_TEXT = {
    "title": [
        "<h1>Leeds: health and wellbeing briefing, November 2026</h1>",
        "Everyone lives an active",
        "This is the first briefing for Leeds",
        'data-hwb-part="first"',
    ],
    "headline": [
        '<h2 id="headline">',
        "<h3>Inactivity is worse than England</h3>",
        "significantly worse than England (22.3%)",
        'data-hwb-part="first"',
    ],
    "said": [
        "186 contributions from 57 people, from 3 events and channels.",
        "<strong>Most votes:</strong> Food insecurity (41) and Walking and cycling (3).",
        "<q>Cost of living is the biggest barrier</q>, 91% of 44 voters.",
        "(agreeing: Group A 88% and Group B 12%)",
        "Walking and cycling (23) and Loneliness (fewer than 5)",
    ],
    "done": [
        "12 actions in the register: 7 under way and 5 ideas.",
        "4 of the 6 things partners voted for most have an action answering them; not yet: Takeaways and Getting about.",
        "3 gaps in what is being done are named under the objectives below.",
    ],
    "changes": [
        "<strong>New figures:</strong> Percentage of physically inactive adults (2023/24).",
        "now significantly worse than England (2023), having been similar to England (2022)",
        "<strong>Warm spaces</strong>: 12 contributions, such as <q>Keep the warm spaces open all year.</q> (a resident).",
        "<strong>Bus routes</strong>: fewer than 5 contributions.",
        "6 contributions added this month.",
        '<details class="hwb-detail">',
    ],
    "objective": [
        '<h2 id="objective-active-lives">Active lives</h2>',
        "Active lives: 2 figures, 1 significantly worse than England and 1 neither better nor worse.",
        "23 contributions on its themes.",
        "Actions on it: 1 under way and 1 planned.",
        '<details class="hwb-detail">',
        "<figcaption>Inactive adults in Leeds from 2019/20 to 2023/24.</figcaption>",
        '<circle cx="320"',
        "23 contributions (Residents 17, Voluntary and community fewer than 5, Council 0 and sector not recorded not shown).",
        "<blockquote><p>The canal path floods every winter.</p></blockquote>",
        "<figcaption>— a resident</figcaption>",
        "Being done on Walking and cycling: Canal path resurfacing (under way).",
        '<strong>Canal path resurfacing</strong>, led by Example City Council: <span class="hwb-status">Under way</span>',
        "Also working on Active lives: Lunch clubs (under Healthy food).",
        "the figure for Leeds is suppressed",
        "no action answers it.",
    ],
    "consensus": [
        "From the agree/disagree poll: 58 people voted.",
        "<q>Every school should have a safe walking route</q>: 82% agreed (44 voters).",
        "71% disagreed (40 voters)",
        "(agreeing: Group A 88% and Group B 12%)",
    ],
    "loop": [
        "1 of 3 has an action that says it answers it.",
        "<td>fewer than 5</td>",
        "<li>Protected lanes on the A61 (Under way)</li>",
        "<strong>Not answered yet.</strong>",
        "<li>Pantry pilot (Idea)</li>",
        "<td>12</td>",
    ],
    "conversations": [
        "<strong>Example City Council</strong> and <strong>Carers Together</strong>: both work on"
    ],
    "data_notes": [
        "counts from 1 to 4 are shown as “fewer than 5”",
        "<li>Deaths from drug misuse (2021 - 23)</li>",
        "<strong>Fingertips (OHID)</strong>: Public health profiles",
    ],
}


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_template_renders_a_realistic_context(name):
    page = render(name, **CONTEXTS[name])
    for expected in EXPECTED_TEXT[name]:
        assert expected in page
    assert "None" not in page and "nan" not in page.split()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )
    assert external_references(page) == []


def test_sections_are_semantic_html():
    for name in sorted(CONTEXTS):
        if name == "title":
            continue
        tags = start_tags(render(name, **CONTEXTS[name]))
        assert tags[0] == "section" and "h2" in tags, name
    tags = start_tags(render("objective", **CONTEXTS["objective"]))
    assert {"figure", "figcaption", "h3", "ul", "p", "blockquote", "svg", "details", "summary"} <= set(tags)


REQUIRED = {
    "title": ["area_name", "area_code", "period", "partnership_name", "vision", "first_briefing"],
    "headline": ["items"],
    "said": ["contributions", "participants", "top_priorities", "agreed", "themes"],
    "done": ["total", "loop_items", "gaps"],
    "changes": ["first_briefing", "changed_significance", "emerging_themes", "has_voices"],
    "objective": ["objective"],
    "consensus": ["has_poll", "agreed", "disagreed", "divisive"],
    "loop": ["rows", "answered", "items"],
    "conversations": ["has_actions", "conversations"],
    "data_notes": ["sources", "methods", "suppressed", "suppress_below"],
}


@pytest.mark.parametrize(
    ("name", "key"), [(name, key) for name, keys in REQUIRED.items() for key in keys]
)
def test_a_missing_variable_fails_loudly_naming_the_template(name, key):
    context = dict(CONTEXTS[name])
    del context[key]
    with pytest.raises(ConfigError) as raised:
        render(name, **context)
    assert raised.value.file is not None and raised.value.file.endswith(f"{name}.html.j2")
    assert raised.value.row is not None and raised.value.row > 1
    assert key in str(raised.value)


def test_a_missing_key_inside_a_row_fails_too():
    context = objective_context()
    del context["objective"]["actions"][0]["lead_org"]
    with pytest.raises(ConfigError, match="lead_org"):
        render("objective", **context)


def test_hostile_contributed_text_is_shown_never_run():
    hostile = HOSTILE_SCRIPT + " " + HOSTILE_IMG
    pages = [
        render("objective", **objective_context(title=hostile)),
        render("headline", items=[{"title": hostile, "text": hostile}]),
        render(
            "consensus",
            **{
                **CONTEXTS["consensus"],
                "agreed": [{"text": hostile, "agree_share": 0.9, "voters": 30}],
            },
        ),
        render(
            "loop",
            rows=[{"said": hostile, "score": 9, "answered": False, "actions": []}],
            answered=0, items=1,
        ),
        render(
            "changes",
            **{**CONTEXTS["changes"],
               "emerging_themes": [{"title": hostile, "count": 9, "quote": make_quote(hostile, "resident")}]},
        ),
        render(
            "conversations", has_actions=True,
            conversations=[{"org_a": hostile, "org_b": "B", "reason": hostile}],
        ),
        render("said", **{**CONTEXTS["said"], "agreed": {"text": hostile, "agree_share": 0.9, "voters": 30}}),
    ]
    for page in pages:
        assert ESCAPED_SCRIPT in page and ESCAPED_IMG in page
        assert "<script" not in page and "<img" not in page
        assert "script" not in start_tags(page) and "img" not in start_tags(page)
    # the hostile quote of the realistic objective context too
    page = render("objective", **objective_context())
    assert f"<p>{ESCAPED_SCRIPT} {ESCAPED_IMG}</p>" in page


def test_an_indicator_name_with_markup_is_escaped_in_html_but_not_in_the_sentence():
    row = {**ROW, "indicator_name": "Adults <b>active</b> & well"}
    sentence = indicator_sentence(row)
    assert sentence.startswith("Adults <b>active</b> & well (2023/24)")  # plain text
    page = render("headline", items=[{"title": "T", "text": sentence}])
    assert "Adults &lt;b&gt;active&lt;/b&gt; &amp; well" in page


def test_only_checked_svg_enters_a_template():
    assert isinstance(trusted_svg(CHART_SVG), Markup)
    assert trusted_svg('<?xml version="1.0"?>\n' + CHART_SVG) == CHART_SVG
    for bad in (
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"></svg>',
        '<svg><image href="https://example.com/x.png"/></svg>',
        '<svg><foreignObject><img src="x"></foreignObject></svg>',
        "<div>not a chart</div>",
        HOSTILE_IMG,
    ):
        with pytest.raises(HwbError):
            trusted_svg(bad)
    plain = objective_context()
    plain["objective"]["indicators"][0]["chart_svg"] = CHART_SVG  # a plain string, not checked
    with pytest.raises(ConfigError, match="trusted_svg"):
        render("objective", **plain)


def test_chart_figure_embeds_a_real_chart():
    import altair as alt

    chart = (
        alt.Chart(pd.DataFrame({"x": [1, 2]}))
        .mark_point()
        .encode(x="x")
        .properties(description="Two points.")
    )
    figure = chart_figure(chart)
    assert figure["chart_alt"] == "Two points."
    # Used outside a template (the Explorer builds its own markup), it is the checked SVG.
    assert str(figure["chart_svg"]).startswith("<svg") and f"{figure['chart_svg']}".endswith("</svg>")
    assert Markup(figure["chart_svg"]) == figure["chart_svg"].markup()
    assert figure["chart_caption"] == "Two points."  # no caption of its own: its description
    page = render(
        "objective", **objective_context(indicators=[{"name": "N", "sentence": "S", **figure}])
    )
    assert "<svg" in page and "<figcaption>Two points.</figcaption>" in page
    assert external_references(page) == []


def test_chart_figure_shows_the_title_as_escaped_text_above_the_drawing():
    import altair as alt

    chart = (
        alt.Chart(pd.DataFrame({"x": [1, 2]}))
        .mark_point()
        .encode(x="x")
        .properties(
            title=alt.TitleParams(["Leeds <b>&", "England"], subtitle="Two <i>points</i>"),
            description="Two points.",
        )
    )
    markup = str(chart_figure(chart)["chart_svg"])
    heading, svg = markup.split("<svg", 1)
    assert heading == (
        '<p class="hwb-chart-title">Leeds &lt;b&gt;&amp; England</p>'
        '<p class="hwb-chart-subtitle">Two &lt;i&gt;points&lt;/i&gt;</p>'
    )
    assert "<title>Leeds &lt;b&gt;&amp; England</title>" in svg  # the SVG still names itself
    assert ">England<" not in svg and "points&lt;/i&gt;<" not in svg  # not drawn twice
    page = render(
        "objective", **objective_context(
            indicators=[{"name": "N", "sentence": "S", **chart_figure(chart)}]
        )
    )
    assert '<div class="hwb-chart"><p class="hwb-chart-title">Leeds &lt;b&gt;&amp; England</p>' in page


# --- small numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "below", "expected"),
    [
        (0, 5, 0),
        (1, 5, "fewer than 5"),
        (4, 5, "fewer than 5"),
        (5, 5, 5),
        (120, 5, 120),
        (2, 3, "fewer than 3"),
        (3, 3, 3),
        (1, 1, 1),
    ],
)
def test_suppress_small(count, below, expected):
    assert suppress_small(count, below) == expected


def test_suppress_small_keeps_missing_and_refuses_negative_counts():
    assert math.isnan(suppress_small(float("nan")))
    assert suppress_small(None) is None
    with pytest.raises(InputError, match="negative"):
        suppress_small(-1)
    with pytest.raises(ConfigError, match="suppress_below"):
        suppress_small(3, below=0)


def test_templates_suppress_small_counts_with_the_configured_threshold():
    context = objective_context()
    default = render("objective", **context)
    assert "Voluntary and community fewer than 5" in default
    lenient = render("objective", suppress_below=2, **context)
    assert "Voluntary and community 3" in lenient
    assert "fewer than" not in lenient


# --- template folders ----------------------------------------------------------------


def test_a_workspace_template_overrides_the_repository_one(tmp_path):
    (tmp_path / "headline.html.j2").write_text(
        "<section><h2>Top {{ items | length }}</h2>{{ items[0].title }}</section>", encoding="utf-8"
    )
    page = render("headline", override_dir=tmp_path, items=[{"title": HOSTILE_SCRIPT, "text": ""}])
    assert page == f"<section><h2>Top 1</h2>{ESCAPED_SCRIPT}</section>"
    # templates the workspace does not override still come from the repository
    assert "<h1>" in render("title", override_dir=tmp_path, **CONTEXTS["title"])


def test_template_mistakes_fail_with_file_and_line(tmp_path):
    (tmp_path / "typo.html.j2").write_text(
        "<p>fine</p>\n<p>{{ area_nmae }}</p>\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        render("typo", override_dir=tmp_path, area_name="Leeds")
    assert raised.value.file.endswith("typo.html.j2") and raised.value.row == 2
    (tmp_path / "broken.html.j2").write_text("<p>\n{% if %}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        render("broken", override_dir=tmp_path)
    assert raised.value.row == 2
    (tmp_path / "raw.html.j2").write_text("<p>{{ value }}</p>", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing value"):
        render("raw", override_dir=tmp_path, value=float("nan"))
    with pytest.raises(ConfigError, match="no template"):
        render("no_such_section")
    with pytest.raises(TypeError, match="pandas"):
        render("headline", items=pd.DataFrame({"title": ["a"], "text": ["b"]}))


def test_show_returns_html_for_the_notebook():
    shown = show("headline", **CONTEXTS["headline"])
    assert type(shown).__name__ == "HTML"
    assert shown.data == render("headline", **CONTEXTS["headline"])


# --- the HTML report -----------------------------------------------------------------

CODE_MARKER = "hwb_code_marker_3141 = 'never shown'"
RESOURCE_URL = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)
NAMESPACE = re.compile(r"""\bxmlns(?::\w+)?\s*=\s*(["'])https?://[^"']*\1""", re.IGNORECASE)


def briefing_notebook(path: Path, extra_outputs: list | None = None) -> Path:
    sections = [
        render(name, **CONTEXTS[name])
        for name in ("title", "headline", "changes", "objective", "data_notes")
    ]
    cells = [
        new_markdown_cell("# For analysts: see https://example.com/docs"),
        new_code_cell(
            CODE_MARKER,
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/html": sections[0],
                        "text/plain": "<IPython.core.display.HTML object>",
                    },
                ),
                new_output("stream", name="stdout", text="STREAM TEXT SHOULD NOT APPEAR\n"),
                new_output("stream", name="stderr", text="WARNING TEXT SHOULD NOT APPEAR\n"),
            ],
        ),
        new_code_cell(
            "briefing.show('headline')",
            outputs=[
                new_output(
                    "execute_result",
                    data={"text/html": sections[1], "text/plain": "<HTML>"},
                    execution_count=2,
                )
            ],
        ),
        new_code_cell(
            "chart",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "image/svg+xml": '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- Created with a tool (https://example.org/) -->\n'
                        + CHART_SVG,
                        "text/plain": "<Figure>",
                    },
                )
            ],
        ),
        new_code_cell(
            "x",
            outputs=[
                new_output(
                    "execute_result",
                    data={"text/plain": "PLAIN REPR SHOULD NOT APPEAR"},
                    execution_count=4,
                )
            ],
        ),
        *[
            new_code_cell("s", outputs=[new_output("display_data", data={"text/html": section})])
            for section in sections[2:]
        ],
        *(extra_outputs or []),
    ]
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(notebook, path)
    return path


def test_report_is_self_contained_and_shows_only_outputs(tmp_path):
    page = notebook_to_html(briefing_notebook(tmp_path / "briefing.ipynb"))
    # no request anywhere: namespaces are names, not requests, and are removed before looking
    without_namespaces = NAMESPACE.sub("", page)
    assert RESOURCE_URL.findall(without_namespaces) == []
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    # the namespace survived: only it was excluded from the search
    assert 'xmlns="http://www.w3.org/2000/svg"' in page
    assert not re.search(r"<script\b", page, re.IGNORECASE)
    assert external_references(page) == []
    # outputs only
    assert CODE_MARKER not in page and "hwb_code_marker" not in page
    assert "briefing.show" not in page
    for hidden in (
        "STREAM TEXT",
        "WARNING TEXT",
        "PLAIN REPR",
        "For analysts",
        "In&nbsp;[",
        "Out[",
    ):
        assert hidden not in page
    # the chart, inline, without its XML prologue
    assert '<circle cx="320"' in page and "<svg" in page
    assert "DOCTYPE svg" not in page and "<?xml" not in page
    # phone, print, title, contents
    assert re.search(
        r'<meta content="width=device-width, initial-scale=1" name="viewport"/?>|<meta name="viewport"',
        page,
    )
    assert "svg { max-width: 100%; height: auto; }" in page.replace(
        "img, svg, video, canvas", "svg"
    )
    assert "@media print" in page and "break-before: page" in page
    assert "<title>Leeds: health and wellbeing briefing, November 2026</title>" in page
    toc = re.search(  # attributes in either order (nbconvert's last pass sorts them)
        r'<nav (?=[^>]*class="hwb-toc")(?=[^>]*aria-label="Contents")[^>]*>(.*?)</nav>', page,
        re.DOTALL,
    ).group(1)
    assert re.findall(r'href="#([^"]+)"', toc) == [
        "headline",
        "changes",
        "objective-active-lives",
        "data-notes",
    ]
    for anchor in ("headline", "changes", "objective-active-lives", "data-notes"):
        assert f'id="{anchor}"' in page
    # The contents follow the first part (the title and the headline here), before the detail.
    assert page.index("<h1>") < page.index('id="headline"') < page.index('class="hwb-toc"') < page.index('id="changes"')
    # contributed text stays escaped through the export
    assert ESCAPED_SCRIPT in page and "<script" not in page


def test_report_gives_untitled_headings_unique_ids(tmp_path):
    extra = [
        new_code_cell(
            "a",
            outputs=[
                new_output(
                    "display_data",
                    data={"text/html": "<section><h2>Notes &amp; caveats</h2></section>"},
                )
            ],
        ),
        new_code_cell(
            "b",
            outputs=[
                new_output(
                    "display_data",
                    data={"text/html": '<section><h2 id="headline">Again</h2></section>'},
                )
            ],
        ),
    ]
    page = notebook_to_html(briefing_notebook(tmp_path / "b.ipynb", extra))
    assert '<h2 id="section-notes-caveats">Notes &amp; caveats</h2>' in page
    assert '<h2 id="headline-2">Again</h2>' in page
    assert '<a href="#section-notes-caveats">Notes &amp; caveats</a>' in page


def test_cells_tagged_remove_cell_are_left_out(tmp_path):
    removed = new_code_cell(
        "r",
        metadata={"tags": ["remove_cell"]},
        outputs=[new_output("display_data", data={"text/html": "<p>REMOVED CELL</p>"})],
    )
    page = notebook_to_html(briefing_notebook(tmp_path / "r.ipynb", [removed]))
    assert "REMOVED CELL" not in page and "What matters most this month" in page


def test_reports_convert_in_parallel_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    paths = [briefing_notebook(tmp_path / f"n{n}.ipynb") for n in range(4)]
    alone = notebook_to_html(paths[0])
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(notebook_to_html, paths))
    assert pages == [alone] * 4


def test_png_outputs_are_inline_images(tmp_path):
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    extra = [
        new_code_cell(
            "p",
            outputs=[
                new_output("display_data", data={"image/png": pixel}, metadata={"alt": "A dot"})
            ],
        )
    ]
    page = notebook_to_html(briefing_notebook(tmp_path / "p.ipynb", extra))
    assert f'src="data:image/png;base64,{pixel}"' in page
    assert 'alt="A dot"' in page


@pytest.mark.parametrize(
    "output_html",
    [
        '<script src="https://cdn.example.com/vega.js"></script>',
        "<script>fetch('/x')</script>",
        '<img src="https://example.com/logo.png" alt="logo">',
        '<link rel="stylesheet" href="//fonts.example.com/css">',
        '<div style="background: url(https://example.com/bg.png)">x</div>',
        "<style>@import 'https://example.com/a.css';</style>",
        '<img src="chart.png" alt="a file beside the page">',
    ],
)
def test_report_refuses_anything_that_would_load_from_elsewhere(tmp_path, output_html):
    extra = [
        new_code_cell("bad", outputs=[new_output("display_data", data={"text/html": output_html})])
    ]
    with pytest.raises(PipelineError, match="self-contained"):
        notebook_to_html(briefing_notebook(tmp_path / "bad.ipynb", extra))


def test_urls_in_text_are_not_references():
    text = "<p>See https://example.com and url(https://example.com) in a post-it</p><a href='#top'>top</a>"
    assert external_references(text) == []
    svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#a"/></svg>'
    assert external_references(svg) == []
    assert external_references('<svg><use xlink:href="https://example.com/s.svg#a"/></svg>') != []


def test_unreadable_notebook_is_a_pipeline_error(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(PipelineError) as raised:
        notebook_to_html(broken)
    assert raised.value.file == str(broken)


# --- the report on a phone (Chromium) ----------------------------------------------

@pytest.mark.browser
def test_report_fits_a_phone_and_requests_nothing(tmp_path, browser):
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
    wide_table = (
        "<table><tr>"
        + "".join(f"<td>column-{n}-with-long-content</td>" for n in range(12))
        + "</tr></table>"
    )
    extra = [
        new_code_cell(
            "w",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/html": f"<section><h2>Wide</h2><p>{long_word}</p>{wide_table}</section>"
                    },
                )
            ],
        ),
        new_code_cell(
            "l",
            outputs=[
                new_output("display_data", data={"text/html": render("loop", **CONTEXTS["loop"])})
            ],
        ),
    ]
    report = tmp_path / "briefing.html"
    report.write_text(
        notebook_to_html(briefing_notebook(tmp_path / "phone.ipynb", extra)), encoding="utf-8"
    )
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 360, "height": 740})
    try:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        svg_width = page.evaluate("document.querySelector('svg').getBoundingClientRect().width")
        table_scrolls = page.evaluate(
            "(() => { const t = document.querySelector('.hwb-output > section > table, section table');"
            " return t.scrollWidth > t.clientWidth; })()"
        )
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        page.close()
    assert scroll_width <= 360
    assert svg_width <= 360 - 2 * 12  # scaled down inside the padded column
    assert table_scrolls  # the wide table scrolls inside itself, not the page
    assert requests == [report.as_uri()]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"vcse": 7, "resident": 3, "unknown": 0}, {"vcse": "not shown", "resident": "fewer than 5", "unknown": 0}),
        ({"vcse": 7, "resident": 3, "nhs": 6, "unknown": 2},
         {"vcse": 7, "resident": "fewer than 5", "nhs": 6, "unknown": "fewer than 5"}),
        ({"vcse": 7, "resident": 9}, {"vcse": 7, "resident": 9}),
        ({"a": 8, "b": 6, "c": 3}, {"a": 8, "b": "not shown", "c": "fewer than 5"}),
        ({"a": 3}, {"a": "fewer than 5"}),
    ],
)
def test_withhold_small_parts_adds_secondary_suppression(parts, expected):
    assert withhold_small_parts(parts) == expected


def test_withhold_small_parts_checks_its_counts():
    with pytest.raises(InputError, match="negative"):
        withhold_small_parts({"a": -1})
    assert suppress_small("not shown") == "not shown"


def test_compiled_templates_are_cached_and_an_edited_template_is_compiled_again(tmp_path):
    assert template_environment().bytecode_cache is not None
    override = tmp_path / "templates"
    override.mkdir()
    template = override / "title.html.j2"
    template.write_text("<h1>First {{ area_name }}</h1>", encoding="utf-8")
    assert render("title", override_dir=override, area_name="Tyneside") == "<h1>First Tyneside</h1>"
    # A new process (a fresh environment) with the template edited must not get the old code.
    _environment.cache_clear()
    template.write_text("<h1>Second {{ area_name }}</h1>", encoding="utf-8")
    assert render("title", override_dir=override, area_name="Tyneside") == "<h1>Second Tyneside</h1>"
    _environment.cache_clear()


@pytest.mark.parametrize(
    "document",
    [
        '<svg><image href = "https://example.com/a.png"/></svg>',  # white space around "="
        '<svg><image HREF="//example.com/a.png"/></svg>',
        '<svg><g style="fill:url&#40;https://example.com/p.svg#g&#41;"></g></svg>',  # encoded
        "<svg><style>@import 'https://example.com/s.css';</style></svg>",
        '<svg><image xlink:href="http://example.com/a.png"/></svg>',
        '<img srcset="a.png 1x, https://example.com/b.png 2x">',
        '<meta http-equiv="refresh" content="0; URL=https://example.com/">',
        "<SCRIPT>fetch(1)</SCRIPT>",
        '<p data-x="1">a=b, shopping and actions with no data</p>',
        '<svg><rect clip-path="url(#clip1)"/></svg>',
    ],
)
def test_quick_reference_check_agrees_with_the_full_parse(document):
    # external_references skips the HTML parse when no reference is possible; on documents
    # that might hide one it must report exactly what the full parse reports.
    finder = markup._ReferenceFinder()
    finder.feed(document)
    finder.close()
    assert external_references(document) == finder.found
    assert bool(finder.found) <= markup._may_refer_elsewhere(document)


def test_chart_svgs_skip_the_parse_and_still_pass_the_check():
    from hwb_toolkit import charts

    chart = charts.trend_chart(
        pd.DataFrame({"period": ["2020", "2021"], "value": [1.0, 2.0]}), None, title="A & B"
    )
    svg = charts.to_svg(chart)
    assert not markup._may_refer_elsewhere(svg)  # the quick check is enough for a chart
    assert str(trusted_svg(svg)).startswith("<svg")


def test_chart_text_that_reads_like_markup_builds_while_real_markup_is_still_refused():
    from hwb_toolkit import charts

    nodes = pd.DataFrame(
        {
            "organisation": ["Parkrun volunteers (members only = free)", "javascript: the club",
                             "See url(https://example.org) & href='x'"],
            "sector": ["vcse", "business", "resident"],
            "n_actions": [2, 1, 1],
        }
    )
    edges = pd.DataFrame({"org_a": [nodes["organisation"][0]], "org_b": [nodes["organisation"][1]],
                          "shared_actions": [1]})
    svg = charts.to_svg(charts.network_chart(nodes, edges))
    assert "members only = free" in svg  # in the chart's aria-label and description
    assert str(trusted_svg(svg)).startswith("<svg")
    for bad in (
        '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
        '<svg><a xlink:href=" &#106;avascript:alert(1)">x</a></svg>',
        '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>',
        '<svg><rect onclick="alert(1)"/></svg>',
        '<svg><style><img src=x onerror=alert(1)></style></svg>',
    ):
        with pytest.raises(HwbError):
            trusted_svg(bad)
