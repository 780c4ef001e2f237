"""Tests for hwb_toolkit.voices.privacy: keyed pseudonyms and masking of personal details."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hwb_toolkit.privacy import (
    DEFAULT_PSEUDONYM_KEY,
    PSEUDONYM_KEY_ENV,
    mask_personal_details,
    pseudonym_key,
    pseudonymise,
)


def test_same_key_same_pseudonym_and_normalised_names():
    first = pseudonymise("Jane Smith", "k1")
    assert first == pseudonymise("  jane   SMITH ", "k1")
    assert re.fullmatch(r"p_[0-9a-f]{16}", first)
    assert first != pseudonymise("Jane Smith", "k2")
    assert first != pseudonymise("Jane Smyth", "k1")


def test_known_value_is_the_truncated_hmac_sha256():
    import hashlib
    import hmac

    expected = "p_" + hmac.new(b"k1", b"jane smith", hashlib.sha256).hexdigest()[:16]
    assert pseudonymise("Jane Smith", "k1") == expected


def test_series_and_lists_keep_shape_and_missing_values():
    series = pd.Series(["Ann", None, "", "ann"], index=[10, 11, 12, 13], name="author")
    result = pseudonymise(series, "k")
    assert result.index.tolist() == [10, 11, 12, 13] and result.name == "author"
    assert result[10] == result[13] == pseudonymise("Ann", "k")
    assert result[[11, 12]].isna().all()
    assert pseudonymise(["Ann", None], "k") == [pseudonymise("Ann", "k"), None]


def test_pseudonyms_are_not_hashed_twice():
    once = pseudonymise("Ann", "k")
    assert pseudonymise(once, "k") == once


def test_key_from_argument_environment_or_default(monkeypatch):
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    assert pseudonym_key() == DEFAULT_PSEUDONYM_KEY.encode()
    assert pseudonymise("Ann") == pseudonymise("Ann", DEFAULT_PSEUDONYM_KEY)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "from-env")
    assert pseudonymise("Ann") == pseudonymise("Ann", "from-env")
    assert pseudonymise("Ann", "explicit") != pseudonymise("Ann")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Email jane.smith+hwb@example.org.uk today", "Email [email removed] today"),
        ("Call 07700 900123.", "Call [phone removed]."),
        ("Call +44 (0)20 7946 0000 or 0044 113 496 0000", "Call [phone removed] or [phone removed]"),
        ("Office (0161) 496 0000, fax 0113-496-0000", "Office [phone removed], fax [phone removed]"),
        ("Freephone 0800 123 4567", "Freephone [phone removed]"),
        ("I live at LS9 8AB near the park", "I live at [postcode removed] near the park"),
        ("post to sw1a 1aa", "post to [postcode removed]"),
    ],
)
def test_personal_details_are_masked(text, expected):
    assert mask_personal_details(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "People in LS9 want more buses",          # a district, not an address
        "Between 2019-2020 usage rose 12%",        # years
        "Budget of £1,000,000 for 30 projects",    # money
        "Meeting on 01/02/2024 at 10:00",          # a date
        "Comment 1406155523802 was spam",          # a long id without a leading 0
        "Flat B12 3rd floor",                      # an ordinal, not an inward code
        "Walk 5 km, 0.5 hours",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert mask_personal_details(text) == text


def test_masking_a_series_and_postcodes_optional():
    series = pd.Series(["a@b.org", None, "LS9 8AB"])
    masked = mask_personal_details(series)
    assert masked[0] == "[email removed]" and pd.isna(masked[1])
    assert masked[2] == "[postcode removed]"
    assert mask_personal_details("LS9 8AB", postcodes=False) == "LS9 8AB"
