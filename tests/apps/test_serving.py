"""``hwb serve`` (hwb_toolkit.apps.serve): what is served, what is not, and that pages load.

Fast tests check the pieces (the CDN filter, the reports allowlist, the page copies,
Binder's pins). Server tests start the real server (``python -m hwb_toolkit.apps.serve``)
and probe it over raw HTTP; browser tests drive Chromium. The 30-loads test is the proof
that the flaky first load is fixed: it must pass with no retry.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path

import pytest

from hwb_toolkit.apps import serve
from hwb_toolkit.resources import notebooks_dir

from .conftest import (
    BARE_PAGE,
    PAGE_SELECTOR,
    REPO_ROOT,
    notebook_json,
    wait_for_page,
)

# --- fast: the pieces -------------------------------------------------------------------------


def test_local_only_drops_links_to_other_hosts_and_keeps_local_ones():
    html = (
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/x/all.min.css" type="text/css" />'
        '<link rel="stylesheet" href="//cdn.example.org/a.css">'
        '<script src="https://cdn.example.org/a.js"></script>'
        '<link rel="stylesheet" href="/voila/static/index.css">'
        '<script src="static/voila.js"></script><style>p {}</style>'
    )
    kept = str(serve.local_only(html))
    assert "cdn" not in kept
    assert '<link rel="stylesheet" href="/voila/static/index.css">' in kept
    assert '<script src="static/voila.js"></script>' in kept
    assert "<style>p {}</style>" in kept


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("2026-11/E08000021/briefing.html", True),
        ("2026-11/E08000021/summary.json", True),
        ("2026-11/index.html", True),
        ("2026-11/manifest.json", True),
        ("2026-11/E08000021/briefing.ipynb", False),
        ("2026-11/.prepared/summaries.parquet", False),
        ("2026-11/E08000021/../../workspace/strategy.yaml", False),
        ("batch.log", False),
        ("2026-11/.staging-E08000021/briefing.html", False),
    ],
)
def test_reports_allowlist_is_the_published_files_only(path, allowed):
    assert bool(serve.REPORT_FILE_PATTERN.fullmatch(path)) is allowed


def test_prepare_pages_serves_the_app_notebooks_never_the_briefing(tmp_path):
    copies = serve.prepare_pages(notebooks_dir(), tmp_path / "pages")
    names = {path.name for path in copies}
    assert "explorer.ipynb" in names
    assert names <= set(serve.APP_PAGES)
    assert not (tmp_path / "pages" / "monthly_briefing.ipynb").exists()
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == sorted(names)


def test_page_urls_name_the_explorer_and_its_neighbours():
    urls = serve.page_urls(9000, token="s3cret")
    assert urls["explorer"] == "http://127.0.0.1:9000/voila/render/explorer.ipynb?token=s3cret"
    assert set(urls) == {"explorer", "workshop", "actions"}


def test_committed_configuration_hides_code_and_tracebacks_and_culls_kernels():
    config = json.loads(serve.CONFIG_FILE.read_text())
    voila = config["VoilaConfiguration"]
    assert voila["strip_sources"] is True
    assert voila["show_tracebacks"] is False
    assert voila["file_allowlist"] == []
    assert "jupyterlab-jupytext" in voila["extension_denylist"]
    assert voila["allow_template_override"] == "NO"
    assert config["MappingKernelManager"]["cull_idle_timeout"] > 0
    assert config["VoilaExecutor"]["timeout"] > 0
    assert "hwb_local_only" in config["VoilaExporter"]["filters"]


def _requirement_pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    return pins


def test_binder_requirements_pin_the_same_versions_as_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    expected = _requirement_pins(project["dependencies"])
    binder = _requirement_pins((REPO_ROOT / "binder" / "requirements.txt").read_text().splitlines())
    assert binder == expected


def test_binder_post_build_installs_the_package_and_seeds_the_workspace():
    post_build = (REPO_ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post_build and "-e ." in post_build
    assert "hwb init" in post_build
    assert (REPO_ROOT / "binder" / "postBuild").stat().st_mode & 0o111
    start = (REPO_ROOT / "binder" / "start").read_text()
    assert "HWB_WORKSPACE" in start and 'exec "$@"' in start


# --- server: what is reachable ------------------------------------------------------------------

RAISING_PAGE = notebook_json("raise ValueError('the secret detail of a failure')")
RAISING_BUILDER_PAGE = notebook_json(
    "from hwb_toolkit.apps.common import show_page\n"
    "def broken():\n"
    "    raise KeyError('another secret detail')\n"
    "page = show_page(broken)"
)


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory):
    """A server whose workspace and reports hold marker files that must never be served."""
    from hwb_toolkit.workspace import init_workspace

    from .conftest import launch_voila

    base = tmp_path_factory.mktemp("probe")
    workspace = init_workspace(base / "workspace")
    (workspace / "secret.txt").write_text("WORKSPACE-SECRET")
    reports = base / "reports"
    area = reports / "2026-11" / "E08000021"
    area.mkdir(parents=True)
    (area / "briefing.html").write_text("<html><body>PUBLISHED-BRIEFING</body></html>")
    (area / "briefing.ipynb").write_text("NOTEBOOK-SECRET")
    prepared = reports / "2026-11" / ".prepared"
    prepared.mkdir()
    (prepared / "summaries.parquet").write_text("PREPARED-SECRET")
    (reports / "2026-11" / "E08000099").mkdir()
    (reports / "2026-11" / "E08000099" / "briefing.html").symlink_to(workspace / "secret.txt")
    (base / "home-secret.txt").write_text("HOME-SECRET")
    server = launch_voila(workspace, reports=reports, log_dir=base / "log")
    yield server
    server.stop()


def test_published_briefing_is_served(probe_server):
    status, body = probe_server.get("/reports/2026-11/E08000021/briefing.html")
    assert status == 200
    assert "PUBLISHED-BRIEFING" in body


@pytest.mark.parametrize(
    "path",
    [
        "/reports/2026-11/E08000021/briefing.ipynb",
        "/reports/2026-11/.prepared/summaries.parquet",
        "/reports/2026-11/E08000099/briefing.html",  # a symlink out of the reports folder
        "/reports/../workspace/secret.txt",
        "/reports/%2e%2e/workspace/secret.txt",
        "/reports/2026-11/%2e%2e/%2e%2e/home-secret.txt",
        "/voila/files/explorer.ipynb",
        "/voila/files/../../workspace/secret.txt",
        "/voila/files/..%2F..%2Fworkspace%2Fsecret.txt",
        "/voila/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/voila/static/../../../../../../etc/passwd",
        "/voila/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/voila/templates/lab/static/../../../../../../../etc/passwd",
        "/voila/templates/%2e%2e/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/voila/render/../../workspace/secret.txt",
        "/voila/render/%2e%2e/workspace/secret.txt",
        "/voila/tree/..",
        "/voila/api/contents/..",
        "/voila/api/contents/%2e%2e/workspace",
        "/api/contents/",
        "/api/contents/workspace/secret.txt",
        "/files/workspace/secret.txt",
        "/tree",
        "/lab",
    ],
)
def test_nothing_outside_the_served_set_is_reachable(probe_server, path):
    status, body = probe_server.get(path)
    for marker in ("WORKSPACE-SECRET", "HOME-SECRET", "NOTEBOOK-SECRET", "PREPARED-SECRET",
                   "root:x:0:0", "home_area"):
        assert marker not in body, f"{path} leaked {marker}"
    assert status in (301, 302, 400, 403, 404, 405), f"{path} answered {status}"


def test_contents_listing_shows_only_the_pages(probe_server):
    status, body = probe_server.get("/voila/api/contents/")
    assert status == 200
    names = {item["name"] for item in json.loads(body)["content"]}
    assert names == {"explorer.ipynb", "workshop.ipynb", "actions.ipynb"} & names
    assert "explorer.ipynb" in names
    assert not names - set(serve.APP_PAGES)


@pytest.mark.slow
def test_page_html_carries_no_code(probe_server):
    status, body = probe_server.get("/voila/render/explorer.ipynb")
    assert status == 200
    assert "hwb-page" in body
    for code in ("show_explorer", "import os", "os.environ.get", "HWB_WORKSPACE"):
        assert code not in body
    assert "cdn.jsdelivr" not in body


@pytest.mark.slow
def test_token_is_required_when_set(served_workspace, start_voila, tmp_path):
    server = start_voila(served_workspace, reports=tmp_path / "reports", token="s3cret-token")
    status, body = server.get("/voila/render/explorer.ipynb", with_token=False)
    assert status in (302, 403)
    assert "hwb-page" not in body
    status, _ = server.get("/voila/api/contents/", with_token=False)
    assert status in (302, 403)
    status, body = server.get("/voila/api/contents/")
    assert status == 200


# --- browser: errors and the first load -----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_a_failing_page_shows_a_friendly_message_not_a_traceback(
        served_workspace, start_voila, pages_folder, open_page, tmp_path):
    pages = pages_folder({"raising.ipynb": RAISING_PAGE, "raising_builder.ipynb": RAISING_BUILDER_PAGE})
    server = start_voila(served_workspace, reports=tmp_path / "reports", pages=pages)

    watched = open_page(server.page_url("raising_builder.ipynb"))
    wait_for_page(watched, ".hwb-page-error", server=server)
    text = watched.page.inner_text("body")
    assert "Sorry, something went wrong" in text
    assert "KeyError" not in text and "another secret detail" not in text
    assert "Traceback" not in text

    watched = open_page(server.page_url("raising.ipynb"))
    watched.page.wait_for_function("() => !document.getElementById('loading')", timeout=60000)
    # The loading screen goes before the failed cell's message is drawn; wait for the message
    # itself (a page stuck at "Executing 1 of 1" fails here after 60 s).
    watched.page.wait_for_function(
        "() => document.body !== null"
        " && document.body.innerText.includes('Sorry, this page could not be prepared')",
        timeout=60000,
    )
    text = watched.page.inner_text("body")
    assert "Sorry, this page could not be prepared" in text
    assert "the secret detail" not in text and "ValueError" not in text
    assert "Traceback" not in text and "show_tracebacks" not in text
    assert "secret detail" not in watched.page.content()


def _load_once(open_page, server, url, selector=PAGE_SELECTOR):
    watched = open_page(url)
    try:
        return wait_for_page(watched, selector, server=server)
    finally:
        # Closing with beforeunload sends Voila's shutdown beacon, so kernels do not pile up.
        watched.page.close(run_before_unload=True)
        watched.close()


@pytest.mark.browser
@pytest.mark.slow
def test_thirty_fresh_loads_of_a_bare_page_all_show_the_widget(
        served_workspace, start_voila, pages_folder, open_page, tmp_path):
    pages = pages_folder({"bare.ipynb": BARE_PAGE})
    server = start_voila(served_workspace, reports=tmp_path / "reports", pages=pages)
    seconds = []
    for _ in range(30):
        seconds.append(_load_once(open_page, server, server.page_url("bare.ipynb")))
        time.sleep(0.2)
    assert len(seconds) == 30
    print(f"bare page: 30/30 loads, median {sorted(seconds)[15]:.2f} s, max {max(seconds):.2f} s")


@pytest.mark.browser
@pytest.mark.slow
def test_with_preheat_a_workshop_page_opened_late_still_works(
        served_workspace, start_voila, open_page, tmp_path):
    # A cell time limit of 20 s stands in for the served 120 s: a pooled Workshop kernel
    # would wait for a visitor's address past it and serve "took too long". (8 s was too
    # short for the Explorer's own cell when three pooled kernels start at once on a busy
    # 2-core machine: it timed out there, measured.)
    limit = 20
    server = start_voila(served_workspace, reports=tmp_path / "reports",
                         extra_args=["--preheat", f"--VoilaExecutor.timeout={limit}"])
    warm = open_page(server.page_url("explorer.ipynb"))
    wait_for_page(warm, server=server)  # the pools are filled by now
    time.sleep(limit + 2)
    watched = open_page(server.page_url("workshop.ipynb"))
    wait_for_page(watched, server=server)
    text = watched.page.inner_text("body")
    assert "took too long" not in text and "could not be prepared" not in text


@pytest.mark.browser
@pytest.mark.slow
def test_closing_a_page_shuts_its_kernel_down(voila_server, open_page):
    watched = open_page(voila_server.page_url("explorer.ipynb"))
    wait_for_page(watched, server=voila_server)
    config = watched.page.evaluate(
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent)"
    )
    kernel_id = config["kernelId"]
    status, _ = voila_server.get(f"/api/kernels/{kernel_id}")
    assert status == 200
    watched.page.close(run_before_unload=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, _ = voila_server.get(f"/api/kernels/{kernel_id}")
        if status == 404:
            break
        time.sleep(0.5)
    assert status == 404, "the page's kernel was still running after the page closed"


def test_serve_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    from hwb_toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="not a workspace"):
        serve.serve(tmp_path, port=1)


def test_serve_on_a_busy_port_says_so_before_printing_any_address(served_workspace, tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(Path(sys.executable).with_name("hwb")), "serve", "--workspace",
             str(served_workspace), "--port", str(port), "--reports", str(tmp_path / "reports")],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode != 0
    assert "http://" not in result.stdout + result.stderr
    assert result.stderr.startswith(f"hwb: cannot serve on 127.0.0.1:{port}: Address already in use")
    assert "Traceback" not in result.stderr


def test_serving_folder_is_removed_when_serve_fails(tmp_path, monkeypatch):
    from hwb_toolkit.workspace import init_workspace

    workspace = init_workspace(tmp_path / "ws")
    empty_pages = tmp_path / "no-pages"
    empty_pages.mkdir()
    made = []
    real_mkdtemp = serve.tempfile.mkdtemp

    def recording_mkdtemp(**kwargs):
        made.append(Path(real_mkdtemp(**kwargs)))
        return str(made[-1])

    monkeypatch.setattr(serve.tempfile, "mkdtemp", recording_mkdtemp)
    from hwb_toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="no page notebooks"):
        serve.serve(workspace, port=1, reports=tmp_path / "reports", pages=empty_pages)
    assert made and not made[0].exists()
