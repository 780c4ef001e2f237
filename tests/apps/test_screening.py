"""Screening rules (hwb_toolkit/apps/screening.py) on realistic post-its: held and not held."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from hwb_toolkit.apps.screening import (
    REASON_ABUSE,
    REASON_EMAIL,
    REASON_HEALTH,
    REASON_PHONE,
    REASON_POSTCODE,
    needs_review,
    screen_contributions,
)
from hwb_toolkit.resources import example_workspace_dir
from hwb_toolkit.store import Store
from hwb_toolkit.workspace import Workspace


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("For the walking group email me at jo.bloggs@example.org", [REASON_EMAIL]),
        ("Ring Pat on 07700 900123 about the lunch club", [REASON_PHONE]),
        ("call +44 (0)191 496 0000 for the food bank", [REASON_PHONE]),
        ("The benches outside NE4 5AB are all broken", [REASON_POSTCODE]),
        ("John Smith has depression and never leaves the house", [REASON_HEALTH]),
        ("Mrs Patel at number 4 has dementia and lives alone", [REASON_HEALTH]),
        ("my neighbour Jean is an alcoholic, nobody helps her", [REASON_HEALTH]),
        ("her son Kyle self-harms and CAMHS waiting list is 2 years", [REASON_HEALTH]),
        ("Kowalczyk was diagnosed with cancer and can't get to the shops", [REASON_HEALTH]),
        ("Dave's got cancer and can't get to the food bank", [REASON_HEALTH]),
        ("Sarah, who is pregnant, can't afford fruit", [REASON_HEALTH]),
        ("the people who run this are scum", [REASON_ABUSE]),
        ("Councillors are IDIOTS", [REASON_ABUSE]),
        ("kill yourself", [REASON_ABUSE]),
        ("hope they rot, fucking useless", [REASON_ABUSE]),
        (
            "Email john.smith@example.com, John Smith has bipolar, what a retard",
            [REASON_EMAIL, REASON_ABUSE, REASON_HEALTH],
        ),
    ],
)
def test_held_for_review(text, reasons):
    assert needs_review(text) == reasons


@pytest.mark.parametrize(
    "text",
    [
        "Loneliness makes depression worse, especially in winter",
        "My mam has dementia and the lunch club is her lifeline",
        "Depression is common after losing a job",
        "Everyone has anxiety these days with the cost of living",
        "People with long term conditions need slower walks",
        "Walker has a lot of people with anxiety and no drop-in",
        "Mark the paths better, people with dementia get lost",
        "Thanks to Jean for the soup at the hub",
        "Scunthorpe had a great parkrun; shiitake mushrooms at the market",
        "The bus to Elswick Pool stops at 6pm",
        "Our walking group has 40 regulars but one leader",
        "Dementia friendly swimming sessions on Tuesdays please",
        "<img src=x onerror=alert(1)>",
        "",
        "   ",
        None,
        float("nan"),
    ],
)
def test_not_held(text):
    assert needs_review(text) == []


def test_already_masked_text_is_not_held_again():
    # Published tables hold masked text (Workspace.contributions); the mask itself is not a detail.
    assert needs_review("contact [email removed] or [phone removed]") == []


def test_example_workspace_voices_pass_unheld():
    """The example's 200+ realistic post-its, notes and forum posts hold nothing to screen."""
    contributions = Workspace(example_workspace_dir()).contributions(include_store=False)
    assert len(contributions) > 200
    flags = screen_contributions(contributions)
    assert flags.dtype == bool and flags.shape == (len(contributions),)
    assert not flags.any(), contributions.loc[flags, "text"].tolist()


def test_screen_contributions_flags_rows_in_order():
    frame = pd.read_csv(io.StringIO(
        "contribution_id,kind,text\n"
        "c1,post_it,More benches in the park\n"
        "c2,post_it,ring 0191 496 0000\n"
        "c3,post_it,\n"
        "c4,post_it,Mr Brown has COPD and can't walk to the bus\n"
        "c5,post_it,Swimming is too expensive at £4.50\n"
    ))
    assert screen_contributions(frame).tolist() == [False, True, False, True, False]


def test_store_holds_screened_rows_as_pending(tmp_path):
    """Used as the store's ``screen=``, flagged rows are pending, the rest visible."""
    store = Store(tmp_path / "store.sqlite")
    frame = pd.DataFrame({
        "contribution_id": ["w1", "w2"],
        "kind": "post_it",
        "text": ["More lit paths please", "email me: a.b@example.org"],
        "author": "p_0123456789abcdef",
    })
    summary = store.add_contributions(frame, screen=screen_contributions)
    assert (summary.inserted, summary.pending) == (2, 1)
    everything = store.contributions(include_pending=True, with_status=True)
    assert dict(zip(everything["contribution_id"], everything["status"], strict=True)) == {
        "w1": "visible", "w2": "pending"}
    assert store.contributions()["contribution_id"].tolist() == ["w1"]
    np.testing.assert_array_equal(screen_contributions(frame.iloc[:0]), np.array([], dtype=bool))
    store.close()
