"""Tests for hwb_toolkit.voices.balance: whose voice was heard, who is missing, concentration."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.errors import InputError
from hwb_toolkit.voices.balance import concentration, voice_balance

CONTRIBUTIONS = """author,organisation,sector
p1,Leeds City Council,council
p1,Leeds City Council,council
p1,leeds  city council,council
p2,Leeds City Council,council
p3,Age UK Leeds,vcse
p4,,resident
,,
"""

STAKEHOLDERS = pd.DataFrame({
    "organisation": ["Leeds City Council", "Age UK Leeds", "Leeds Teaching Hospitals", "Chamber of Commerce"],
    "sector": ["council", "vcse", "nhs", "business"],
})


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str)


def test_by_sector_counts_contributions_participants_and_shares():
    result = voice_balance(read(CONTRIBUTIONS), STAKEHOLDERS)
    expected = pd.DataFrame({
        "sector": ["council", "nhs", "vcse", "business", "resident", "other", "unknown"],
        "contributions": [4, 0, 1, 0, 1, 0, 1],
        "participants": [2, 0, 1, 0, 1, 0, 0],
        "share": [4 / 7, 0, 1 / 7, 0, 1 / 7, 0, 1 / 7],
    })
    pd.testing.assert_frame_equal(result.by_sector, expected, check_dtype=False)
    assert (result.contributions, result.participants) == (7, 4)


def test_by_organisation_matches_names_loosely_and_lists_unknown():
    result = voice_balance(read(CONTRIBUTIONS), STAKEHOLDERS)
    expected = pd.DataFrame({
        "organisation": ["Leeds City Council", "unknown", "Age UK Leeds"],
        "sector": ["council", "resident", "vcse"],
        "contributions": [4, 2, 1],
        "participants": [2, 1, 1],
        "share": [4 / 7, 2 / 7, 1 / 7],
    })
    pd.testing.assert_frame_equal(result.by_organisation, expected, check_dtype=False)


def test_missing_sectors_and_organisations_from_the_stakeholder_list():
    result = voice_balance(read(CONTRIBUTIONS), STAKEHOLDERS)
    assert result.missing_sectors == ["nhs", "business"]
    pd.testing.assert_frame_equal(
        result.missing_organisations,
        pd.DataFrame({"organisation": ["Leeds Teaching Hospitals", "Chamber of Commerce"],
                      "sector": ["nhs", "business"]}),
        check_dtype=False,
    )


def test_without_stakeholders_every_expected_sector_is_checked():
    result = voice_balance(read(CONTRIBUTIONS))
    assert result.missing_sectors == ["nhs", "business"]
    assert result.missing_organisations.empty


def test_strategy_like_object_gives_the_stakeholders():
    class Strategy:
        def stakeholders_frame(self):
            return STAKEHOLDERS

    assert voice_balance(read(CONTRIBUTIONS), Strategy()).missing_sectors == ["nhs", "business"]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([4, 1, 1], 4 / 6),                 # 3 participants: ceil(0.3) = 1 most active
        ([5] + [1] * 9, 5 / 14),            # 10 participants: 1
        ([5, 4] + [1] * 9, 9 / 18),         # 11 participants: ceil(1.1) = 2
        ([1] * 20, 2 / 20),                 # even spread: 10% say 10%
    ],
)
def test_concentration_uses_the_most_active_ceil_tenth(counts, expected):
    authors = pd.Series(np.repeat([f"p{i}" for i in range(len(counts))], counts))
    assert concentration(authors) == pytest.approx(expected)


def test_concentration_ignores_unknown_authors_and_is_nan_without_any():
    result = voice_balance(read(CONTRIBUTIONS))
    assert result.concentration == pytest.approx(3 / 6)  # p1 made 3 of the 6 with an author
    assert np.isnan(concentration(pd.Series([None, None], dtype="object")))


def test_missing_columns_are_named():
    with pytest.raises(InputError, match="'sector'"):
        voice_balance(pd.DataFrame({"author": ["a"], "organisation": ["x"]}))
