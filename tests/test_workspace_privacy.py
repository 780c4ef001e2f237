"""Personal details are masked at the one point where contributions enter the published
tables (Workspace.contributions), for the voices files and the shared store alike, and so
never reach a briefing, a page or a batch's prepared tables."""

from __future__ import annotations

import pandas as pd
import pytest

from hwb_toolkit.privacy import is_nhs_number, mask_personal_details
from hwb_toolkit.report.build import build_briefing, compute_shared_tables
from hwb_toolkit.workspace import Workspace, init_workspace

HOME = "E08000021"
#: A post-it as a participant might type it on the Workshop page or on paper.
DETAILS = ("call me on 0191 496 0000 or mail jo@example.org, NHS number 943 476 5919, "
           "NI QQ 12 34 56 C, I live at NE4 5PL: more benches on the walking route please")
MASKED = ("call me on [phone removed] or mail [email removed], NHS number [NHS number removed], "
          "NI [NI number removed], I live at [postcode removed]: more benches on the walking route please")


@pytest.mark.parametrize(("number", "valid"), [
    ("943 476 5919", True),     # NHS Digital's published example
    ("9434765919", True),
    ("401-023-2137", True),
    ("943 476 5918", False),    # wrong check digit
    ("123 456 7890", False),    # check digit would be 10: never issued
    ("94347659", False),        # too short
])
def test_nhs_numbers_pass_the_modulus_11_check(number, valid):
    assert is_nhs_number(number) is valid
    assert (mask_personal_details(f"NHS {number}.") == "NHS [NHS number removed].") is valid


@pytest.mark.parametrize(("text", "expected"), [
    ("NINO QQ 12 34 56 C", "NINO [NI number removed]"),
    ("ni: ab123456c", "ni: [NI number removed]"),
    ("my NI number is JG103759A", "my NI number is [NI number removed]"),
    ("JG 10 37 59", "[NI number removed]"),  # an allocated prefix without its letter
    ("order PO123456 and room GB123456", "order PO123456 and room GB123456"),  # not allocated
    ("ref 1234567890 and 2019-2020", "ref 1234567890 and 2019-2020"),
])
def test_national_insurance_numbers_are_masked_and_look_alikes_left(text, expected):
    assert mask_personal_details(text) == expected


def _post_it(contribution_id: str, text: str) -> pd.DataFrame:
    return pd.DataFrame([{
        "contribution_id": contribution_id, "source": "Workshop page", "session": "live",
        "kind": "post_it", "text": text, "author": "p_0123456789abcdef", "organisation": None,
        "sector": "resident", "created_at": pd.Timestamp("2026-12-03T10:15:00Z"), "theme": None,
        "area_code": HOME,
    }])


def test_files_and_the_store_are_masked_where_contributions_enter_the_published_tables(tmp_path):
    workspace = init_workspace(tmp_path / "workspace")
    postits = workspace / "voices" / "unconference_postits.csv"
    rows = pd.read_csv(postits, dtype=str, keep_default_na=False)
    rows.loc[0, "text"] = DETAILS
    rows.to_csv(postits, index=False)
    ws = Workspace.open(workspace)
    ws.store().add_contributions(_post_it("live-1", DETAILS.replace("jo@", "sam@")), by="test")

    contributions = Workspace.open(workspace).contributions()
    from_file = contributions.loc[contributions["contribution_id"] == rows.loc[0, "contribution_id"], "text"]
    from_store = contributions.loc[contributions["contribution_id"] == "live-1", "text"]
    assert from_file.tolist() == [MASKED] and from_store.tolist() == [MASKED]
    # What a batch prepares and what a briefing quotes hold no detail either.
    shared = compute_shared_tables(Workspace.open(workspace))
    published = " ".join(shared.contributions["text"].astype(str))
    for detail in ("0191 496 0000", "jo@example.org", "sam@example.org", "943 476 5919",
                   "QQ 12 34 56 C", "NE4 5PL"):
        assert detail not in published
    briefing = build_briefing(workspace, HOME, "2026-12")
    said = " ".join(briefing.voices.contributions["text"].astype(str))
    assert "[NHS number removed]" in said and "943 476 5919" not in said


def test_the_actions_page_offers_masked_text_only(tmp_path):
    from hwb_toolkit.apps.actions import what_partners_said

    workspace = init_workspace(tmp_path / "workspace")
    ws = Workspace.open(workspace)
    ws.store().add_contributions(_post_it("live-2", "email me at jo@example.org about the walks"),
                                 by="test")
    labels = " ".join(what_partners_said(Workspace.open(workspace)).labels.values())
    assert "jo@example.org" not in labels and "[email removed]" in labels
