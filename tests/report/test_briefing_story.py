"""A briefing a board can trust and read in ten minutes (issue 16), on every area of the example.

Each area's briefing is built in-process from one batch's prepared tables and rendered
section by section in the notebook's order (render_briefing below); the page must tell
one story: every count is the one summary.json holds and the engines computed, "you said,
we did" and the objective sections name the same actions, no sentence is said twice, the
first part is short, captions say what a chart shows, and no other area is named.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from hwb_toolkit.indicators import summarise_area
from hwb_toolkit.report.build import build_briefing, compute_shared_tables
from hwb_toolkit.report.sections import BRIEFING_ORDER, briefing_parts, section_context
from hwb_toolkit.report.summary import summary_json
from hwb_toolkit.text import templates
from hwb_toolkit.workspace import Workspace, init_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from briefing_reading import reading_figures  # noqa: E402 - the same measure as the report's

from hwb_toolkit.text.labels import SECTOR_ATTRIBUTIONS, status_label
from hwb_toolkit.text.numbers import format_count, format_value
from hwb_toolkit.text.sentences import indicator_sentence

HOME = "E08000021"  # Newcastle upon Tyne: voices and actions
PERIOD = "2026-12"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "monthly_briefing.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return init_workspace(tmp_path_factory.mktemp("ws") / "workspace")


@pytest.fixture(scope="module")
def prepared(workspace, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prepared")
    compute_shared_tables(Workspace.open(workspace)).save(folder)
    return folder


@pytest.fixture(scope="module")
def every_area(workspace, prepared) -> dict[str, tuple]:
    """{area code: (briefing, page HTML, summary.json)} for every area of the example."""
    built = {}
    for code in Workspace.open(workspace).briefing_areas()["area_code"]:
        briefing = build_briefing(workspace, code, PERIOD, prepared=prepared)
        built[code] = (briefing, render_briefing(briefing), json.loads(json.dumps(summary_json(briefing))))
    return built


def render_briefing(briefing) -> str:
    """Every section of the briefing as HTML, in the notebook's order (the page's body
    without the report's frame and contents)."""
    return "\n".join(
        templates.render(section, **section_context(briefing, section, **extra))
        for section, extra in briefing_parts(briefing)
    )


def _text(page: str) -> str:
    """The page's visible words (charts' SVG left out), unescaped, spaces collapsed."""
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_notebook_shows_the_sections_in_the_briefing_order():
    shown = re.findall(r'show\(briefing, "(\w+)"', NOTEBOOK.read_text())
    assert tuple(shown) == BRIEFING_ORDER


def test_every_count_on_the_page_is_the_one_summary_json_holds(every_area):
    assert len(every_area) == 23
    for code, (briefing, page, summary) in every_area.items():
        text = _text(page)
        counts = summary["indicators_compared"]
        worse = sum(n for label, n in counts.items() if label in ("Worse", "Worst"))
        similar = counts.get("Similar", 0)
        assert summary["figures"] == len(summary["indicators"]) == len(briefing.indicators)
        assert f"Of {summary['figures']} figures, {worse or 'none'} {'is' if worse == 1 else 'are'} " \
               f"significantly worse than England, {similar or 'none'} similar" in text, code
        for item in summary["headline"]:
            assert item["title"] in text and item["text"] in text, (code, item)
        actions = summary["actions"]
        if actions["total"]:
            assert f"{actions['total']} actions in the register" in text
            for status, n in actions["by_status"].items():
                word = status_label(status).lower() + ("s" if status == "idea" and n != 1 else "")
                assert f"{n} {word}" in text, (code, status)
        else:
            assert f"No actions are recorded for {briefing.area_name} yet" in text
        loop = summary["you_said_we_did"]
        if loop["items"]:
            assert f"{loop['answered']} of the {loop['items']} things partners voted for most" in text
            assert f"{loop['answered']} of {loop['items']} have an action" in text
        contributions = summary["voices"]["contributions"]
        if contributions:
            assert f"{format_count(contributions)} contributions from " \
                   f"{format_count(summary['voices']['participants'])} people" in text
        else:
            assert f"Nothing partners said or voted is recorded for {briefing.area_name} yet" in text


def test_every_figure_on_the_page_is_the_engines_and_says_whom_it_is_about(workspace, every_area):
    ws = Workspace.open(workspace)
    data = ws.indicators[ws.indicators["category_type"].isna()]
    for code, (_, page, summary) in every_area.items():
        engine = summarise_area(data, code, polarity=ws.strategy.polarity()).set_index(
            ["indicator_id", "sex", "age"])
        text = _text(page)
        names = [item["display_name"] for item in summary["indicators"]]
        assert len(set(names)) == len(names)  # no two figures read the same
        for item in summary["indicators"]:
            row = engine.loc[(item["indicator_id"], item["sex"], item["age"])]
            assert (item["value"] is None and pd.isna(row["value"])) or item["value"] == pytest.approx(row["value"])
            assert item["compared_to_england"] == row["compared_to_england"]
            assert item["display_name"] in text, (code, item["display_name"])
            if item["value"] is not None:
                assert format_value(item["value"], item["unit"]) in text
        assert "Suicide rate, males" in names and "Suicide rate, females" in names
        assert "Hospital admissions for mental health conditions, under 18s" in names


def test_you_said_we_did_and_the_objective_sections_name_the_same_actions(every_area):
    briefing, page, summary = every_area[HOME]
    strategy = briefing.strategy
    objective_of = {theme.id: theme.objective for theme in strategy.themes}
    title_of = {theme.id: theme.title for theme in strategy.themes}
    rows = summary["you_said_we_did"]["rows"]
    assert rows and any(row["answered"] for row in rows) and any(not row["answered"] for row in rows)
    loop = section_context(briefing, "loop")["rows"]
    for row, shown in zip(rows, loop, strict=True):
        if row["item"] not in objective_of:
            continue
        objective = section_context(briefing, "objective", objective=objective_of[row["item"]])["objective"]
        theme = next(t for t in objective["themes"] if t["title"] == title_of[row["item"]])
        assert [a["title"] for a in shown["actions"]] and \
            sorted(a["title"] for a in shown["actions"]) == sorted(a["title"] for a in theme["actions"])
        # Answered exactly when one of those actions says it answers it and is planned,
        # under way or done, whichever section says so.
        assert row["answered"] == any(a["answers"] for a in shown["actions"])
    text = _text(page)
    # Loneliness: the befriending actions answer what partners said on it, in both places.
    lonely = next(row for row in rows if row["item"] == "loneliness")
    assert lonely["answered"]
    assert "Being done on Loneliness and isolation: " in text
    assert "Befriending volunteers in warm spaces (under way)" in text


def test_no_sentence_is_said_twice_and_the_first_part_is_short(every_area):
    for code, (briefing, page, _) in every_area.items():
        figures = reading_figures(page)
        assert figures["repeated_sentences"] == 0, (code, figures)
        assert figures["first_part_marked"]
        assert figures["words_first_part"] <= 600, (code, figures["words_first_part"])
        assert figures["words_outside_detail"] <= 2500, (code, figures["words_outside_detail"])
        assert figures["ci_mentions"] <= len(briefing.indicators)  # once per figure, in the detail
        if briefing.voices.empty and briefing.actions.empty:
            # A short briefing: no empty sections, nothing said four times over.
            assert figures["words_outside_detail"] <= 800, (code, figures)
            assert "No planned or active action works towards this objective" not in page
            for heading in ("You said, we did", "Suggested conversations", "Where partners agree"):
                assert heading not in page


def test_no_other_area_is_named(every_area):
    names = {briefing.area_name for briefing, _, _ in every_area.values()}
    for code, (briefing, page, _) in every_area.items():
        text = _text(page)
        # Organisations' own names ("Cumbria, Northumberland, Tyne and Wear NHS Foundation
        # Trust") are what partners are called, not the briefing naming a place.
        for stakeholder in sorted((s.organisation for s in briefing.strategy.stakeholders), key=len, reverse=True):
            text = text.replace(stakeholder, " ")
        for other in names - {briefing.area_name}:
            assert not re.search(rf"(?<!\w){re.escape(other)}(?!\w)", text), (code, other)


def test_a_vision_naming_another_area_is_left_out_of_its_briefing(workspace, tmp_path):
    import shutil

    import yaml

    copy = shutil.copytree(workspace, tmp_path / "ws", ignore=shutil.ignore_patterns("store.sqlite*", ".cache"))
    document = yaml.safe_load((copy / "strategy.yaml").read_text())
    document["vision"] = "Everyone in Newcastle upon Tyne lives an active, connected, healthy life."
    (copy / "strategy.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    home = section_context(build_briefing(copy, HOME, PERIOD), "title")
    other = section_context(build_briefing(copy, "E06000001", PERIOD), "title")
    assert home["vision"].startswith("Everyone in Newcastle upon Tyne")
    assert other["vision"] == ""


def test_captions_say_what_the_chart_shows_not_the_text_again(every_area):
    briefing, page, _ = every_area[HOME]
    captions = [html.unescape(c) for c in re.findall(
        r'<figure class="hwb-figure">.*?<figcaption>([^<]*)</figcaption>', page, re.S)]
    assert len(captions) >= len(briefing.indicators)
    assert len(set(captions)) == len(captions)  # each chart its own caption
    sentences = {indicator_sentence(row, briefing.area_name, unit=row["unit"],
                                              subject=row["subject"] if isinstance(row["subject"], str) else None)
                 for row in briefing.indicators.to_dict("records")}
    for caption in captions:
        assert "95% confidence interval 6" not in caption and "Latest value" not in caption
        assert not any(sentence in caption or caption in sentence for sentence in sentences)
    for row in briefing.indicators.to_dict("records"):
        assert any(caption.startswith(f"{row['display_name']} in {briefing.area_name} from ")
                   for caption in captions), row["display_name"]


def test_the_spine_chart_shows_each_figure_with_england_and_the_range(every_area):
    briefing, page, _ = every_area[HOME]
    glance = re.search(r'<section class="hwb-section hwb-glance".*?</section>', page, re.S).group(0)
    drawn = " ".join(html.unescape(t) for t in re.findall(r"<(?:text|tspan)\b[^>]*>([^<]+)<", glance))
    for row in briefing.indicators.to_dict("records"):
        value = format_value(row["value"], row["unit"] if row["unit"] == "%" else "number")
        england = format_value(row["england_value"], row["unit"] if row["unit"] == "%" else "number")
        assert f"{value} · England {england} · range " in drawn, row["display_name"]
    assert drawn.count("range ") == len(briefing.indicators)


def test_a_first_briefing_says_so_and_the_next_lists_only_what_is_new(workspace, every_area, tmp_path):
    briefing, page, summary = every_area[HOME]
    assert summary["first_briefing"] is True
    assert "This is the first briefing for Newcastle upon Tyne; next month's will say what changed." in _text(page)
    assert "New figures" not in page
    last_month = dict(summary, indicators=[
        dict(item, period="2022/23") if item["indicator_id"] == 93014 else item
        for item in summary["indicators"]
    ])
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(last_month))
    following = build_briefing(workspace, HOME, "2027-01", previous_summary=path)
    text = _text(render_briefing(following))
    assert "first briefing" not in text and "Compared with the briefing of December 2026" in text
    assert "New figures: Percentage of physically active adults (2023/24)." in text


def test_no_quote_comes_from_a_group_whose_count_is_hidden(workspace, every_area, tmp_path):
    below = 5
    for code, (briefing, _, _) in every_area.items():
        for objective in briefing.objectives:
            for theme in section_context(briefing, "objective", objective=objective)["objective"]["themes"]:
                counts = {part["sector"] or "unknown": part["count"] for part in theme["by_sector"]}
                for quote in theme["quotes"]:
                    sector = next((s for s, a in SECTOR_ATTRIBUTIONS.items()
                                   if a == quote["attribution"]), "unknown")
                    assert isinstance(counts.get(sector), int) and counts[sector] >= below, (code, theme["title"])
    # The case: three post-its from one business person under a small theme.
    copy = init_workspace(tmp_path / "ws")
    Workspace.open(copy).store().add_contributions(pd.DataFrame([{
        "contribution_id": f"biz-{n}", "source": "Workshop page", "session": "live", "kind": "post_it",
        "text": f"Our staff want tai chi at lunchtime ({n})", "author": "p_00000000000000b1",
        "organisation": "Tyne Valley Grocers", "sector": "business",
        "created_at": pd.Timestamp("2026-11-20T10:00:00Z"), "theme": None, "area_code": HOME,
    } for n in range(3)]), by="test")
    briefing = build_briefing(copy, HOME, PERIOD)
    active = section_context(briefing, "objective", objective="active-lives")["objective"]
    ageing = next(t for t in active["themes"] if t["title"] == "Active older age")
    assert {"sector": "business", "count": "fewer than 5"} in ageing["by_sector"]
    assert not any(q["attribution"] == "a local business" for q in ageing["quotes"])
