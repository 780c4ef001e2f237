"""Drawing Vega-Lite specs to SVG: in line, on a thread, in a child process, and after the child dies."""

from __future__ import annotations

import os
import signal

import pytest

from hwb_toolkit.charts import render
from hwb_toolkit.charts.base import _VL_VERSION
from hwb_toolkit.errors import HwbError

SPEC = {
    "title": {"text": ["Two <points>", "& a line"]},
    "description": "Two points: 1 and 2.",
    "data": {"values": [{"x": 1}, {"x": 2}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative", "title": "Ex"}},
}


@pytest.fixture(autouse=True)
def fresh_renderer():
    render.shutdown()
    yield
    render.shutdown()


def test_svg_carries_its_text_alternative_escaped():
    svg = render.spec_to_svg(SPEC, _VL_VERSION)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert 'aria-label="Two points: 1 and 2."' in svg
    assert "<title>Two &lt;points&gt; &amp; a line</title>" in svg
    assert "<desc>Two points: 1 and 2.</desc>" in svg
    assert ">Ex</text>" in svg


def test_a_chart_drawn_without_its_title_still_names_itself():
    untitled = render.spec_to_svg(SPEC, _VL_VERSION, draw_title=False)
    assert "<title>Two &lt;points&gt; &amp; a line</title>" in untitled
    assert "<tspan>Two &lt;points&gt;</tspan>" in render.spec_to_svg(SPEC, _VL_VERSION)
    assert "&lt;points&gt;</tspan>" not in untitled and "a line</tspan>" not in untitled
    assert ">Ex</text>" in untitled
    # Drawn the same on the background renderer, which also gives the title as text.
    job = render.render_later({**SPEC, "title": {**SPEC["title"], "subtitle": "Sub"}}, _VL_VERSION,
                                draw_title=False)
    assert (job.title, job.subtitle, job.draws_title) == ("Two <points> & a line", "Sub", False)
    assert ">Sub<" not in job.result() and "<title>Two &lt;points&gt; &amp; a line</title>" in job.result()


def test_a_chart_that_would_fetch_an_image_is_refused():
    image = {
        "data": {"values": [{"x": 1, "u": "https://example.org/i.png"}]},
        "mark": {"type": "image", "width": 10, "height": 10},
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "url": {"field": "u"}},
    }
    with pytest.raises(HwbError, match="external resource"):
        render.spec_to_svg(image, _VL_VERSION)


def test_background_thread_and_child_process_draw_what_is_drawn_in_line():
    in_line = render.spec_to_svg(SPEC, _VL_VERSION)
    assert render.render_later(SPEC, _VL_VERSION).result() == in_line
    render.start_process(_VL_VERSION)
    jobs = [render.render_later({**SPEC, "description": f"Chart {n}."}, _VL_VERSION) for n in range(3)]
    assert [job.result().count(f'aria-label="Chart {n}."') for n, job in enumerate(jobs)] == [1, 1, 1]
    assert isinstance(render._RENDERER, render.ProcessPoolExecutor)


def test_errors_from_the_child_process_reach_the_caller():
    render.start_process(_VL_VERSION)
    image = {
        "data": {"values": [{"x": 1, "u": "http://example.org/i.png"}]},
        "mark": "image",
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "url": {"field": "u"}},
    }
    with pytest.raises(HwbError, match="external resource"):
        render.render_later(image, _VL_VERSION).result()


def test_a_killed_renderer_process_loses_no_chart():
    render.start_process(_VL_VERSION)
    assert "<svg" in render.render_later(SPEC, _VL_VERSION).result()  # the child is up
    for pid in list(render._RENDERER._processes):
        os.kill(pid, signal.SIGKILL)
    # Charts asked for after the child died are drawn here instead, with the same result.
    jobs = [render.render_later(SPEC, _VL_VERSION) for _ in range(2)]
    assert [job.result() for job in jobs] == [render.spec_to_svg(SPEC, _VL_VERSION)] * 2


def test_the_renderer_process_ends_when_its_parent_is_killed(tmp_path):
    import subprocess
    import sys
    import time

    script = (
        "import os, signal\n"
        "from hwb_toolkit.charts import render\n"
        "from hwb_toolkit.charts.base import _VL_VERSION\n"
        "render.start_process(_VL_VERSION)\n"
        f"render.render_later({SPEC!r}, _VL_VERSION).result()\n"
        "print(*render._RENDERER._processes, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert finished.returncode == -signal.SIGKILL, finished.stderr
    (child,) = [int(pid) for pid in finished.stdout.split()]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:  # a zombie (state Z) has ended; whoever adopted it reaps it when it likes
            if open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        except FileNotFoundError:
            break
        time.sleep(0.2)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the renderer process outlived its killed parent by 10 s")


def test_text_in_a_chart_is_never_taken_for_markup():
    spec = {**SPEC, "title": "Friends of url(https://example.org) & src='x' (members only = free)",
            "description": "javascript: the musical; see @import and href=\"y\"."}
    svg = render.spec_to_svg(spec, _VL_VERSION)
    assert "url(https://example.org)" in svg and "javascript: the musical" in svg
