"""The Explorer page (hwb_toolkit.apps.explorer): the right area's numbers, fast, safely.

Widget tests run the page's Python without a browser (what the widgets hold after a
change); browser tests load it through ``hwb serve`` in Chromium and check what a partner
sees, that nothing is fetched from outside 127.0.0.1, that the console stays clean and
that 30 fresh loads in a row all become interactive.
"""

from __future__ import annotations

import html
import re
import time

import pandas as pd
import pytest

from hwb_toolkit.apps.common import GENERIC_PROBLEM, PAGE_CLASS, build_page
from hwb_toolkit.apps.explorer import (
    Explorer,
    ExplorerData,
    build_explorer,
)
from hwb_toolkit.report.shared import SharedTables, latest_prepared
from hwb_toolkit.text.numbers import format_value

from .conftest import PHONE, wait_for_page

HOME = "E08000021"  # the example strategy's home_area (Newcastle upon Tyne)
OTHER = "E06000009"  # Blackpool


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from hwb_toolkit.workspace import init_workspace

    base = tmp_path_factory.mktemp("explorer")
    (base / "reports").mkdir()
    return init_workspace(base / "workspace")


@pytest.fixture(scope="module")
def computed(workspace):
    """Explorer data computed from the workspace (no pipeline run yet)."""
    return ExplorerData(workspace, workspace.parent / "reports")


def _summary_row(data: ExplorerData, area: str, indicator_id: int, sex: str = "Persons") -> pd.Series:
    """The engine's summary row (from the tables the page read), independent of the page's
    own strategy merge."""
    rows = data.prepared.summaries if data.source == "computed" else pd.read_parquet(
        data.prepared / "summaries.parquet")
    row = rows[(rows["area_code"] == area) & (rows["indicator_id"] == indicator_id)
               & (rows["sex"] == sex)]
    assert len(row) == 1
    return row.iloc[0]


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


# --- data --------------------------------------------------------------------------------------


def test_without_a_pipeline_run_the_tables_are_computed_from_the_workspace(computed):
    assert computed.source == "computed"
    # Kept in memory for every area's briefing: nothing is written to disk to be read back.
    assert isinstance(computed.prepared, SharedTables)
    assert re.fullmatch(r"\d{4}-\d{2}", computed.period)


def test_areas_are_the_local_areas_by_name_and_default_to_the_home_area(computed):
    areas = computed.areas()
    names = [name for name, _ in areas]
    assert names == sorted(names)
    codes = [code for _, code in areas]
    assert HOME in codes and OTHER in codes
    assert "E92000001" not in codes
    assert not any(code.startswith("E12") for code in codes)  # regions are parents, not areas
    assert computed.default_area() == HOME


def test_sentences_print_the_engine_value_of_each_indicator(computed):
    objective = computed.objectives()[0][1]
    for area in (HOME, OTHER):
        items = computed.sentences(area, objective)
        assert items
        for item in items:
            row = _summary_row(computed, area, item["indicator_id"], item["sex"])
            assert format_value(row["value"], item["unit"]) in item["sentence"]
            assert format_value(row["england_value"], item["unit"]) in item["sentence"]


def test_latest_prepared_picks_the_newest_complete_period(tmp_path, computed):
    reports = tmp_path / "reports"
    assert latest_prepared(reports) is None
    computed.prepared.save(reports / "2026-10" / ".prepared")
    incomplete = reports / "2026-11" / ".prepared"
    incomplete.mkdir(parents=True)
    (incomplete / "summaries.parquet").write_bytes(b"")
    (reports / "not-a-period" / ".prepared").mkdir(parents=True)
    assert latest_prepared(reports) == ("2026-10", reports / "2026-10" / ".prepared")


def test_prepared_tables_are_read_not_recomputed(workspace, computed, tmp_path):
    """Change one value in the prepared summaries: the page must show the changed value."""
    reports = tmp_path / "reports"
    prepared = reports / "2026-09" / ".prepared"
    computed.prepared.save(prepared)
    summaries = pd.read_parquet(prepared / "summaries.parquet")
    objective = computed.objectives()[0][1]
    first = computed.sentences(HOME, objective)[0]
    mask = ((summaries["area_code"] == HOME) & (summaries["indicator_id"] == first["indicator_id"])
            & (summaries["sex"] == first["sex"]))
    summaries.loc[mask, "value"] = 12.3456
    summaries.to_parquet(prepared / "summaries.parquet", index=False)

    data = ExplorerData(workspace, reports)
    assert (data.source, data.period) == ("prepared", "2026-09")
    sentence = data.sentences(HOME, objective)[0]["sentence"]
    assert format_value(12.3456, first["unit"]) in sentence


# --- widgets (no browser) ----------------------------------------------------------------------


@pytest.fixture
def explorer(computed):
    page = Explorer(computed)
    page.wait(120)
    return page


def test_changing_area_and_objective_changes_narrative_and_charts_to_that_area(explorer, computed):
    explorer.area.value = OTHER
    assert f'data-area="{OTHER}"' in explorer.narrative.value  # before the slow parts finish
    explorer.wait(120)
    name = computed.area_name(OTHER)
    assert name in _plain(explorer.title.value)
    for item in computed.sentences(OTHER, explorer.objective.value):
        row = _summary_row(computed, OTHER, item["indicator_id"], item["sex"])
        assert format_value(row["value"], item["unit"]) in _plain(explorer.narrative.value)
    assert f'data-area="{OTHER}"' in explorer.spine.value
    assert f"Spine chart for {name}" in html.unescape(explorer.spine.value)
    assert "<svg" in explorer.spine.value and "<svg" in explorer.trends.value

    second = computed.objectives()[1][1]
    explorer.objective.value = second
    explorer.wait(120)
    names = {item["name"] for item in computed.sentences(OTHER, second)}
    text = _plain(explorer.narrative.value)
    assert names and all(n in text for n in names)
    assert f'data-objective="{second}"' in explorer.trends.value


def test_area_change_updates_the_narrative_in_well_under_half_a_second(explorer, computed):
    seconds = []
    for _, code in computed.areas()[:6]:
        start = time.perf_counter()
        explorer.area.value = code
        assert f'data-area="{code}"' in explorer.narrative.value
        seconds.append(time.perf_counter() - start)
        explorer.wait(120)
    assert sorted(seconds)[len(seconds) // 2] < 0.25


def test_home_area_shows_what_partners_said_and_what_is_being_done(explorer):
    explorer.area.value = HOME
    explorer.wait(120)
    assert "<blockquote>" in explorer.voices.value
    assert "<li>" in explorer.actions.value


def test_contributed_text_is_shown_as_text_never_markup(computed, workspace, tmp_path):
    from hwb_toolkit.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    postits = ws / "voices" / "unconference_postits.csv"
    frame = pd.read_csv(postits)
    hostile = "<img src=x onerror=alert(1)> walking <script>alert(2)</script> cycling path"
    text_column = "text" if "text" in frame.columns else frame.columns[1]
    frame[text_column] = frame[text_column].astype(str)
    frame.loc[frame.index[:40], text_column] = hostile
    frame.to_csv(postits, index=False)
    (tmp_path / "reports").mkdir()
    page = Explorer(ExplorerData(ws, tmp_path / "reports"))
    page.wait(120)
    shown = page.voices.value
    assert "<img src=x" not in shown and "<script>" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown


def test_a_failing_change_shows_a_plain_message(explorer, monkeypatch):
    def broken(*_args):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(explorer.data, "sentences", broken)
    explorer.area.value = OTHER if explorer.area.value != OTHER else HOME
    assert GENERIC_PROBLEM.split(".")[0] in html.unescape(explorer.status.value)
    assert "internal detail" not in explorer.status.value


def test_a_workspace_that_cannot_be_read_gives_an_error_page(tmp_path):
    page = build_page(build_explorer, tmp_path / "missing", tmp_path / "reports")
    assert PAGE_CLASS in page._dom_classes and "hwb-page-error" in page._dom_classes
    text = " ".join(child.value for child in page.children if hasattr(child, "value"))
    assert "workspace folder not found" in text
    assert str(tmp_path) not in text  # no server paths on the page


def test_download_link_points_at_this_months_briefing_when_it_exists(computed, explorer):
    area = explorer.area.value
    assert "has not been made yet" in explorer.download.value
    target = computed.reports / computed.period / area / "briefing.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<html></html>")
    try:
        explorer.refresh()
        explorer.wait(120)
        assert f'href="../../reports/{computed.period}/{area}/briefing.html"' in explorer.download.value
    finally:
        target.unlink()


# --- browser -------------------------------------------------------------------------------------


def _select(page, css_class: str, label: str) -> None:
    """Choose an option by the text a partner sees (ipywidgets' <option> values are indexes)."""
    page.select_option(f".{css_class} select", label=label)


def _area_label(data: ExplorerData, code: str) -> str:
    return next(label for label, value in data.areas() if value == code)


def _objective_label(data: ExplorerData, objective: str) -> str:
    return next(label for label, value in data.objectives() if value == objective)


def _expected_values(data: ExplorerData, area: str, objective: str) -> list[str]:
    return [format_value(_summary_row(data, area, item["indicator_id"], item["sex"])["value"], item["unit"])
            for item in data.sentences(area, objective)]


@pytest.mark.browser
@pytest.mark.slow
def test_explorer_in_the_browser(voila_server, open_page, screenshot):
    data = ExplorerData(voila_server.workspace, voila_server.reports)
    watched = open_page(voila_server.page_url("explorer.ipynb"))
    page = watched.page
    wait_for_page(watched, server=voila_server)
    page.wait_for_selector(f'.hwb-spine [data-area="{HOME}"] svg', timeout=60000)
    objective = data.objectives()[0][1]
    narrative = page.inner_text(".hwb-narrative")
    for value in _expected_values(data, HOME, objective):
        assert value in narrative
    screenshot(page, "explorer-desktop")

    _select(page, "hwb-area", _area_label(data, OTHER))
    page.wait_for_selector(f'.hwb-narrative [data-area="{OTHER}"]', timeout=10000)
    page.wait_for_selector(f'.hwb-spine [data-area="{OTHER}"] svg', timeout=60000)
    narrative = page.inner_text(".hwb-narrative")
    for value in _expected_values(data, OTHER, objective):
        assert value in narrative
    assert data.area_name(OTHER) in page.inner_text("h1")
    assert data.area_name(OTHER) in (page.get_attribute(f'.hwb-spine [data-area="{OTHER}"] svg',
                                                        "aria-label") or "")

    second = data.objectives()[1][1]
    _select(page, "hwb-objective", _objective_label(data, second))
    page.wait_for_selector(f'.hwb-trends [data-area="{OTHER}"][data-objective="{second}"]',
                           timeout=60000)
    narrative = page.inner_text(".hwb-narrative")
    for item, value in zip(data.sentences(OTHER, second), _expected_values(data, OTHER, second),
                           strict=True):
        assert item["name"] in narrative and value in narrative
    screenshot(page, "explorer-other-area-desktop")

    assert watched.external_requests() == []
    assert watched.errors() == []

    phone = open_page(voila_server.page_url("explorer.ipynb"), PHONE)
    wait_for_page(phone, server=voila_server)
    phone.page.wait_for_selector(".hwb-spine svg", timeout=60000)
    width = phone.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 2, "the page scrolls sideways at phone width"
    screenshot(phone.page, "explorer-phone")
    assert phone.external_requests() == []
    assert phone.errors() == []


@pytest.mark.browser
@pytest.mark.slow
def test_the_explorer_loads_thirty_times_in_a_row(voila_server, open_page):
    seconds = []
    for _ in range(30):
        watched = open_page(voila_server.page_url("explorer.ipynb"))
        try:
            seconds.append(wait_for_page(watched, server=voila_server))
            assert watched.errors() == []
        finally:
            watched.page.close(run_before_unload=True)
            watched.close()
    assert len(seconds) == 30
    print(f"explorer: 30/30 loads, median {sorted(seconds)[15]:.2f} s, max {max(seconds):.2f} s")


@pytest.mark.browser
@pytest.mark.slow
def test_trend_charts_are_shown_whole_at_desktop_and_phone_width(voila_server, open_page, screenshot):
    from .conftest import DESKTOP

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        watched = open_page(voila_server.page_url("explorer.ipynb"), viewport)
        wait_for_page(watched, server=voila_server)
        page = watched.page
        page.wait_for_selector(".hwb-trends svg", timeout=60000)
        # No box of its own to scroll: the panel holding the trends is as tall as they are.
        boxes = page.evaluate("""() => { const out = []; let node = document.querySelector('.hwb-trends');
            for (let i = 0; i < 3 && node; i++, node = node.parentElement)
              out.push([node.clientHeight, node.scrollHeight, getComputedStyle(node).overflowY]);
            return out; }""")
        for client, scroll, overflow in boxes:
            assert scroll <= client + 1 or overflow == "visible", (name, boxes)
        # Every chart lies wholly inside its panel and the window's width.
        panel = page.locator(".hwb-trends").bounding_box()
        for chart in page.locator(".hwb-trends svg").all():
            box = chart.bounding_box()
            assert box["x"] >= panel["x"] - 1 and box["x"] + box["width"] <= panel["x"] + panel["width"] + 1
            assert box["y"] >= panel["y"] - 1 and box["y"] + box["height"] <= panel["y"] + panel["height"] + 1
            assert box["x"] + box["width"] <= viewport["width"] + 1
        screenshot(page, f"explorer-trends-{name}")
