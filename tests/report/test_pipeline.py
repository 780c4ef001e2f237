"""Tests for hwb_toolkit.pipeline: atomic report folders, failures, kills, manifests.

These run real Papermill executions of small notebooks made here, so they test
the orchestration itself; the briefing notebook has its own tests.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from hwb_toolkit.errors import PipelineError
from hwb_toolkit.report.batch import (
    AreaResult,
    BatchResult,
    _build_one,
    _shutdown_warm_kernels,
    write_manifest,
)
from hwb_toolkit.report.pipeline import build_report, previous_period, validate_period
from hwb_toolkit.report.publish import REPORT_FILES, report_is_complete

pytestmark = pytest.mark.notebook


def make_notebook(path: Path, body: str) -> Path:
    """A notebook with the briefing's parameters and ``body`` as its only other cell."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(
        'workspace = ""\narea_code = ""\nperiod = ""\noutput_dir = "."\nprepared = ""\nprevious_summary = ""\nmode = "ok"'
    )
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(body)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


BODY = """
import json, pathlib, time
from IPython.display import HTML, display
if mode == "fail":
    raise ValueError("deliberately broken area")
if mode == "slow":
    pathlib.Path(output_dir, "summary.json").write_text("{}")
    time.sleep(60)
display(HTML(f"<h2>Briefing for {area_code}</h2><p>mode {mode}</p>"))
pathlib.Path(output_dir, "summary.json").write_text(json.dumps({"area_code": area_code, "mode": mode}))
"""


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    return make_notebook(tmp_path / "nb.ipynb", BODY)


def run(notebook: Path, out: Path, mode: str, area: str = "E06000001") -> Path:
    with_mode = make_notebook(notebook.with_name(f"nb_{mode}.ipynb"), f'mode = "{mode}"\n' + BODY)
    return build_report(notebook.parent, area, "2026-11", out, notebook=with_mode)


def test_period_must_be_a_month():
    assert validate_period("2026-11") == "2026-11"
    assert previous_period("2026-11") == "2026-10" and previous_period("2027-01") == "2026-12"
    with pytest.raises(PipelineError, match="YYYY-MM"):
        validate_period("11/2026")


def test_report_has_notebook_html_and_summary(notebook, tmp_path):
    report = run(notebook, tmp_path / "reports", "ok")
    assert report == (tmp_path / "reports" / "2026-11" / "E06000001").resolve()
    assert report_is_complete(report)
    assert json.loads((report / "summary.json").read_text())["area_code"] == "E06000001"
    html = (report / "briefing.html").read_text()
    assert "Briefing for E06000001" in html
    assert "import json" not in html  # no code cells in the report
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".staging")]


def test_a_home_folder_too_deep_for_a_socket_path_still_runs_reports(notebook, tmp_path, monkeypatch):
    # Found by the wheel test: with HOME deep enough, the Jupyter runtime folder gave kernel
    # socket paths over the system's limit and every report failed ("File name too long").
    from hwb_toolkit.report.pipeline import _socket_folder

    deep = tmp_path / ("runtime-" * 8) / ("folder-" * 8)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(deep))
    folder = _socket_folder()
    assert not folder.is_relative_to(deep) and folder.stat().st_mode & 0o777 == 0o700
    report = run(notebook, tmp_path / "reports", "ok")
    assert report_is_complete(report)


def test_failed_run_keeps_the_previous_good_report(notebook, tmp_path):
    out = tmp_path / "reports"
    good = run(notebook, out, "ok")
    before = {name: (good / name).read_bytes() for name in ("briefing.html", "summary.json")}
    with pytest.raises(PipelineError, match="deliberately broken area"):
        run(notebook, out, "fail")
    assert {name: (good / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in good.parent.iterdir()) == ["E06000001"]


def _build_in_child(notebook: str, out: str) -> None:
    build_report(Path(notebook).parent, "E06000002", "2026-11", out, notebook=notebook)


def test_killed_run_leaves_no_partial_report(notebook, tmp_path):
    out = tmp_path / "reports"
    slow = make_notebook(tmp_path / "slow.ipynb", 'mode = "slow"\n' + BODY)
    child = multiprocessing.get_context("spawn").Process(
        target=_build_in_child, args=(str(slow), str(out))
    )
    child.start()
    period_dir = out / "2026-11"
    deadline = time.monotonic() + 60
    # Wait until the run has written its first file into the staging folder, then kill it.
    while time.monotonic() < deadline:
        staged = list(period_dir.glob(".staging-E06000002-*/summary.json")) if period_dir.exists() else []
        if staged:
            break
        time.sleep(0.1)
    assert staged, "the slow run never started writing"
    child.kill()  # SIGKILL: no clean-up code of ours runs
    child.join(10)
    assert not (period_dir / "E06000002").exists()
    assert not report_is_complete(period_dir / "E06000002")
    # The next run for that area clears the debris and completes.
    run(notebook, out, "ok", area="E06000002")
    assert report_is_complete(period_dir / "E06000002")
    assert not list(period_dir.glob(".staging-*"))


def test_manifest_and_index_list_every_area(tmp_path):
    batch = BatchResult(
        "2026-11",
        [
            AreaResult("E06000001", "done", 1.25, report_dir="x"),
            AreaResult("E06000002", "failed", 0.5, error="PipelineError: <b>broken</b>\nmore"),
            AreaResult("E06000003", "skipped"),
        ],
        seconds=2.0,
    )
    write_manifest(batch, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"] == {"done": 1, "skipped": 1, "failed": 1}
    assert [a["status"] for a in manifest["areas"]] == ["done", "failed", "skipped"]
    index = (tmp_path / "index.html").read_text()
    assert "href='E06000001/briefing.html'" in index
    assert "&lt;b&gt;broken&lt;/b&gt;" in index and "<b>broken" not in index


def test_index_leads_with_the_home_area_and_each_areas_headline(tmp_path):
    batch = BatchResult("2026-11", [AreaResult(code, "done", 1.0, report_dir="x")
                                    for code in ("E06000001", "E08000021", "E06000002")])
    summaries = {
        "E06000001": ("Hartlepool", [{"title": "Year 6 overweight: significantly worse than England",
                                      "text": "40.6% in 2023/24."}]),
        "E08000021": ("Newcastle upon Tyne", [
            {"title": "Hospital admissions <b>under 18s</b>: worse", "text": "150.4 per 100,000."},
            {"title": "Partners' top priority: Food", "text": "Answered."}]),
        "E06000002": ("Middlesbrough", []),
    }
    for code, (name, headline) in summaries.items():
        (tmp_path / code).mkdir()
        (tmp_path / code / "summary.json").write_text(json.dumps({"area_name": name, "headline": headline}))
    write_manifest(batch, tmp_path, home_area="E08000021")
    index = (tmp_path / "index.html").read_text()
    home = index.index("Newcastle upon Tyne")
    assert home < index.index("Hartlepool") < index.index("Middlesbrough")  # home first, then by name
    assert "Hospital admissions &lt;b&gt;under 18s&lt;/b&gt;: worse" in index and "150.4 per 100,000." in index
    assert "Partners&#x27; top priority: Food" in index
    assert index.index("Year 6 overweight: significantly worse than England") > index.index("Hartlepool")
    assert "<b>under" not in index


# --- round two: no gap while a report is replaced, recovery, warm kernels, area codes -------
def _poll_published_file(path: str, ready, stop, missing, partial) -> None:
    """In a second process: read the published page as fast as possible until ``stop``."""
    ready.set()
    while not stop.is_set():
        try:
            with open(path, encoding="utf-8") as page:
                text = page.read()
        except FileNotFoundError:
            missing.value += 1
            continue
        if not text.endswith("</html>"):
            partial.value += 1


def test_a_reader_never_finds_the_published_page_missing_while_it_is_replaced(tmp_path):
    from hwb_toolkit.report.publish import _swap_into_place

    target = tmp_path / "2026-11" / "E06000001"
    target.mkdir(parents=True)
    for name in REPORT_FILES:
        (target / name).write_text(f"first {name} </html>", encoding="utf-8")
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    missing, partial = context.Value("i", 0), context.Value("i", 0)
    reader = context.Process(
        target=_poll_published_file,
        args=(str(target / "briefing.html"), ready, stop, missing, partial),
    )
    reader.start()
    try:
        assert ready.wait(120), "the reader never started"
        for rebuild in range(400):
            staging = target.with_name(f".staging-E06000001-{rebuild:04d}")
            staging.mkdir()
            for name in REPORT_FILES:
                (staging / name).write_text(f"rebuild {rebuild} {name} </html>", encoding="utf-8")
            _swap_into_place(staging, target)
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        stop.set()
        reader.join(30)
    assert (missing.value, partial.value) == (0, 0)
    assert (target / "briefing.html").read_text(encoding="utf-8") == "rebuild 399 briefing.html </html>"
    assert report_is_complete(target)


def test_no_step_of_a_swap_leaves_a_published_file_missing(tmp_path, monkeypatch):
    # The same property, checked deterministically after every move the swap makes.
    from hwb_toolkit.report.publish import _swap_into_place

    target = tmp_path / "E06000001"
    target.mkdir()
    staging = tmp_path / ".staging-E06000001-abcd1234"
    staging.mkdir()
    for name in REPORT_FILES:
        (target / name).write_text(f"old {name}")
        (staging / name).write_text(f"new {name}")
    missing: list[str] = []

    def checked(move):
        def moved(source, destination, *args, **kwargs):
            move(source, destination, *args, **kwargs)
            missing.extend(f for f in REPORT_FILES if not (target / f).is_file())

        return moved

    for name in ("rename", "replace"):
        monkeypatch.setattr(os, name, checked(getattr(os, name)))
    _swap_into_place(staging, target)
    monkeypatch.undo()
    assert missing == []
    assert [(target / name).read_text() for name in REPORT_FILES] == [
        f"new {name}" for name in REPORT_FILES
    ]


def test_a_swap_cut_short_is_finished_by_the_next_run(tmp_path):
    from hwb_toolkit.report.publish import _READY, _recover

    target = tmp_path / "E06000001"
    target.mkdir()
    for name in REPORT_FILES:
        (target / name).write_text(f"old {name}")
    staging = tmp_path / ".staging-E06000001-abcd1234"
    staging.mkdir()
    (staging / _READY).touch()
    (target / "briefing.html").write_text("new briefing.html")  # moved in before the kill
    for name in ("briefing.ipynb", "summary.json"):
        (staging / name).write_text(f"new {name}")
    assert not report_is_complete(target)  # a batch must not skip it
    _recover(target)
    assert {name: (target / name).read_text() for name in REPORT_FILES} == {
        name: f"new {name}" for name in REPORT_FILES
    }
    assert not staging.exists() and report_is_complete(target)


BY_AREA = """
import pathlib
if area_code == "E06000009":
    raise ValueError("deliberately broken area")
pathlib.Path(output_dir, "summary.json").write_text("{}")
"""


def test_a_failed_area_gives_the_next_one_a_fresh_kernel_at_once(tmp_path, monkeypatch):

    notebook = make_notebook(tmp_path / "by_area.ipynb", BY_AREA)
    monkeypatch.setattr("hwb_toolkit.report.pipeline.briefing_notebook", lambda: notebook)
    out = str(tmp_path / "reports")
    try:
        results = []
        for code in ("E06000001", "E06000009", "E06000002"):  # one warm kernel for all three
            started = time.perf_counter()
            results.append((_build_one(str(tmp_path), code, "2026-11", out, None),
                            time.perf_counter() - started))
    finally:
        _shutdown_warm_kernels()
    (first, _), (broken, _), (after, seconds) = results
    assert (first.status, broken.status, after.status) == ("done", "failed", "done")
    # The cell's number as a fresh kernel counts it (parameters, injected parameters, this
    # cell), not the warm kernel's running count.
    assert "failed in cell 3: ValueError: deliberately broken area" in broken.error
    assert seconds < 120, f"the area after a failed one took {seconds:.0f} s"


def test_an_area_code_that_names_a_path_is_refused(notebook, tmp_path):
    out = tmp_path / "reports"
    with pytest.raises(PipelineError, match="is not an area code"):
        build_report(tmp_path, "../2026-10/E06000001", "2026-11", out, notebook=notebook)
    assert not (out / "2026-10").exists()


def test_warnings_the_notebook_gave_reach_whoever_ran_it(tmp_path):
    from hwb_toolkit.errors import InputWarning

    body = (
        "import warnings\nfrom hwb_toolkit.errors import InputWarning\n"
        "warnings.warn(InputWarning('a row is left out', file='x.csv', row=7))\n" + BODY
    )
    notebook = make_notebook(tmp_path / "warns.ipynb", body)
    with pytest.warns(InputWarning, match=r"^x.csv, row 7: a row is left out$"):
        build_report(tmp_path, "E06000001", "2026-11", tmp_path / "reports", notebook=notebook)
