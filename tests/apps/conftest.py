"""Shared fixtures for the partner-page tests: a Voila server and a headless Chromium.

- ``served_workspace``: a fresh copy of the example workspace (``init_workspace``) with an
  empty ``reports/`` beside it, made once per test session.
- ``seeded_workspace`` / ``private_workspace``: the example workspace with its store
  created once per session, and a private opened copy of it for each test.
- ``voila_server``: ``hwb serve`` (:mod:`hwb_toolkit.apps.serve`, the committed
  configuration) on a free port for that workspace, shared by the session.
- ``start_voila``: a factory for a server of one's own (another workspace, a token,
  extra test notebooks); each is stopped at the end of the test.
- ``browser``: Playwright driving Debian's ``/usr/bin/chromium`` (skips when absent).
- ``open_page``: opens a URL in a fresh context at desktop or phone size and returns a
  :class:`WatchedPage` recording every request and console error.
- ``wait_for_page``: waits until a page's root widget (class ``hwb-page``) is drawn.
- ``screenshot``: saves a PNG to ``test-output/`` (gitignored) and returns its path.

Everything is local: the server listens on 127.0.0.1 and tests assert no request
leaves it (``WatchedPage.external_requests``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_OUTPUT = REPO_ROOT / "test-output"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: CSS selector of a page's root widget once drawn (hwb_toolkit.apps.common.PAGE_CLASS).
PAGE_SELECTOR = ".hwb-page"
#: How long a page may take to become interactive in a test (seconds). Generous for a
#: loaded 2-core CI machine; a healthy load takes 2-6 s.
PAGE_TIMEOUT_S = 40
SERVER_START_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class VoilaServer:
    """A running ``hwb serve`` process."""

    port: int
    workspace: Path
    reports: Path
    pages: Path | None
    token: str | None
    process: subprocess.Popen
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, notebook: str = "explorer.ipynb", *, with_token: bool = True) -> str:
        """The address of a page (``/voila/render/<notebook>``), with ``?token=`` if set."""
        url = f"{self.base_url}/voila/render/{notebook}"
        if self.token and with_token:
            url += f"?token={self.token}"
        return url

    def get(self, path: str, *, with_token: bool = True) -> tuple[int, str]:
        """GET ``path`` (starting with "/") as raw HTTP: (status, body text). No redirects
        are normalised away: the path is sent exactly as given."""
        if self.token and with_token:
            path += ("&" if "?" in path else "?") + f"token={self.token}"
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            chunks = []
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        raw = b"".join(chunks).decode("utf-8", "replace")
        head, _, body = raw.partition("\r\n\r\n")
        status = int(head.split(" ", 2)[1])
        return status, body

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def launch_voila(
    workspace: Path,
    *,
    reports: Path | None = None,
    pages: Path | None = None,
    token: str | None = None,
    extra_args: Sequence[str] = (),
    log_dir: Path,
    env: dict[str, str] | None = None,
) -> VoilaServer:
    """Start ``python -m hwb_toolkit.apps.serve`` on a free port and wait until it answers."""
    port = free_port()
    reports = reports or workspace.parent / "reports"
    command = [
        sys.executable, "-m", "hwb_toolkit.apps.serve",
        "--workspace", str(workspace), "--reports", str(reports), "--port", str(port),
    ]
    if pages is not None:
        command += ["--pages", str(pages)]
    if token:
        command += ["--token", token]
    command += list(extra_args)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"voila-{port}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command, stdout=log_file, stderr=subprocess.STDOUT, cwd=log_dir,
        env={**os.environ, **(env or {})},
    )
    log_file.close()
    return wait_until_answering(VoilaServer(port, workspace, reports, pages, token, process, log_path))


def wait_until_answering(server: VoilaServer) -> VoilaServer:
    """Return ``server`` once it answers HTTP; stop it and raise (with its log) if it exits
    or stays silent for :data:`SERVER_START_TIMEOUT_S`."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"hwb serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/voila/static/", timeout=2):
                pass
            return server
        except urllib.error.HTTPError:
            return server  # it answered (404/403 are fine: the server is up)
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"hwb serve did not answer within {SERVER_START_TIMEOUT_S} s:\n{server.log()}")


def _children_by_parent() -> dict[int, list[int]]:
    """Every process on the machine, grouped by parent pid (from ``/proc/<pid>/stat``)."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(proc.name))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants that are alive now."""
    children = _children_by_parent()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def server_kernel_pids(pid: int) -> list[int]:
    """The kernel processes (``ipykernel_launcher``) among the descendants of ``pid``."""
    kernels = []
    for child in process_tree(pid)[1:]:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in command:
            kernels.append(child)
    return kernels


def process_tree_memory(pid: int) -> tuple[int, int]:
    """Memory of ``pid`` and its descendants in bytes: (sum of RSS, sum of PSS). RSS counts
    pages the processes share once per process; PSS divides them among the sharers."""
    rss = pss = 0
    for member in process_tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in rollup:
            name, _, value = line.partition(":")
            if name == "Rss":
                rss += int(value.split()[0]) * 1024  # the file counts kB
            elif name == "Pss":
                pss += int(value.split()[0]) * 1024
    return rss, pss


# --- workspace and servers -----------------------------------------------------------------


@pytest.fixture(scope="session")
def served_workspace(tmp_path_factory) -> Path:
    """A fresh copy of the example workspace (with an empty ``reports/`` beside it)."""
    from hwb_toolkit.workspace import init_workspace

    base = tmp_path_factory.mktemp("served")
    workspace = init_workspace(base / "workspace")
    (base / "reports").mkdir()
    return workspace


@pytest.fixture(scope="session")
def seeded_workspace(tmp_path_factory) -> Path:
    """The example workspace with its store created once (seeding takes about 1.5 s)."""
    from hwb_toolkit.workspace import Workspace, init_workspace

    root = init_workspace(tmp_path_factory.mktemp("seed") / "workspace")
    Workspace.open(root).store().close()
    return root


@pytest.fixture
def private_workspace(seeded_workspace, tmp_path):
    """A private copy of :func:`seeded_workspace`, opened (a test may change it freely)."""
    from hwb_toolkit.workspace import Workspace

    root = tmp_path / "workspace"
    shutil.copytree(seeded_workspace, root)
    return Workspace.open(root)


@pytest.fixture(scope="session")
def voila_server(served_workspace, tmp_path_factory) -> Iterator[VoilaServer]:
    """``hwb serve`` for :func:`served_workspace`, shared by the whole session."""
    server = launch_voila(served_workspace, log_dir=tmp_path_factory.mktemp("voila-log"))
    yield server
    server.stop()


@pytest.fixture
def start_voila(tmp_path) -> Iterator[Callable[..., VoilaServer]]:
    """Factory: ``start_voila(workspace, reports=None, pages=None, token=None,
    extra_args=())`` starts a server that is stopped when the test ends."""
    servers: list[VoilaServer] = []

    def start(workspace: Path, **options) -> VoilaServer:
        server = launch_voila(workspace, log_dir=tmp_path / "voila-log", **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def pages_folder(tmp_path) -> Callable[..., Path]:
    """Factory: ``pages_folder(extra={"name.ipynb": notebook_json_text})`` makes a folder
    with the repository's app notebooks plus the given extra notebooks, to pass as
    ``pages=`` to :func:`start_voila`."""

    def make(extra: dict[str, str] | None = None) -> Path:
        folder = tmp_path / "pages"
        folder.mkdir(exist_ok=True)
        for notebook in (REPO_ROOT / "notebooks").glob("*.ipynb"):
            shutil.copy2(notebook, folder / notebook.name)
        for name, text in (extra or {}).items():
            (folder / name).write_text(text)
        return folder

    return make


def notebook_json(*cells: str) -> str:
    """A minimal notebook (python3 kernel, no outputs) whose code cells are ``cells``."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nbformat.writes(notebook)


#: The smallest page: one widget, no toolkit code (server and kernel behaviour on their own).
BARE_PAGE = notebook_json(
    "import ipywidgets as widgets",
    "box = widgets.Dropdown(options=['a', 'b'], description='Pick')\nbox.add_class('hwb-page')\nbox",
)


# --- browser ---------------------------------------------------------------------------------


@dataclass
class WatchedPage:
    """A Playwright page with what it asked for and what it complained about."""

    page: object
    context: object
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    #: Every console message as "type: text", and the websockets the page opened.
    console: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        """Requests to anywhere but 127.0.0.1 (``data:``/``blob:``/``about:`` are local)."""
        from urllib.parse import urlsplit

        outside = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != "127.0.0.1":
                outside.append(url)
        return outside

    def record_console(self, message) -> None:
        """Playwright's ``console`` event: every message is kept, errors also apart."""
        self.console.append(f"{message.type}: {message.text}")
        if message.type == "error":
            self.console_errors.append(message.text)

    def errors(self) -> list[str]:
        """Console errors and uncaught page exceptions."""
        return self.console_errors + self.page_errors

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., WatchedPage]]:
    """Factory: ``open_page(url, size=DESKTOP)`` opens ``url`` in a fresh browser context
    and returns a :class:`WatchedPage`; contexts are closed when the test ends.
    Pass ``url=None`` to get the watched page without navigating."""
    opened: list[WatchedPage] = []

    def open_(url: str | None, size: dict | None = None, *, wait_until: str = "commit") -> WatchedPage:
        context = browser.new_context(viewport=size or DESKTOP)
        page = context.new_page()
        watched = WatchedPage(page, context)
        page.on("request", lambda request: watched.requests.append(request.url))
        page.on("console", watched.record_console)
        page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
        page.on("websocket", lambda socket: watched.websockets.append(socket.url))
        opened.append(watched)
        if url is not None:
            page.goto(url, wait_until=wait_until, timeout=PAGE_TIMEOUT_S * 1000)
        return watched

    yield open_
    for watched in opened:
        try:
            watched.close()
        except Exception:  # noqa: BLE001 - the browser may already be gone
            pass


def wait_for_page(page, selector: str = PAGE_SELECTOR, timeout_s: float = PAGE_TIMEOUT_S,
                  server: VoilaServer | None = None) -> float:
    """Wait until ``selector`` is visible in ``page`` (a Playwright page or a
    :class:`WatchedPage`); returns the seconds waited.

    When it never appears, fails with what the page showed instead (e.g. Voila's
    "Executing 1 of 2"), for a :class:`WatchedPage` its console and websockets, and,
    given the ``server``, the end of its log: a stuck load must say where it stuck.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    watched = page if isinstance(page, WatchedPage) else None
    page = watched.page if watched is not None else page
    start = time.monotonic()
    try:
        page.wait_for_selector(selector, state="visible", timeout=timeout_s * 1000)
        return time.monotonic() - start
    except PlaywrightTimeoutError:
        pass  # described below, outside the handler, so that the report is not a chain
    try:
        shown = " ".join(page.inner_text("body", timeout=5000).split())[:600]
    except PlaywrightTimeoutError:
        shown = "(the page has no body yet)"
    seen = (f"\nconsole (last 20): {watched.console[-20:]}\nwebsockets: {watched.websockets}"
            if watched is not None else "")
    log = server.log()[-3000:] if server is not None else "(no server given)"
    pytest.fail(
        f"{selector} not visible after {timeout_s:.0f} s at {page.url}\n"
        f"the page shows: {shown!r}{seen}\nthe end of the server log:\n{log}",
        pytrace=False,
    )


def run_in_own_loop(scenario: Callable, timeout: float | None = None):
    """Run ``scenario()`` (an async function) with ``asyncio.run`` in a thread of its own
    and return its result (waiting at most ``timeout`` seconds): the session's Playwright
    keeps an event loop marked as running in the main thread, where asyncio.run would refuse."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result(timeout=timeout)


@dataclass
class PageOutcome:
    """What one page opened by :func:`open_pages_at_once` got: ``seconds`` until its root
    widget was visible (None: never), or the server's busy page (HTTP 503); ``delivered``:
    seconds until the server had sent the whole page (the notebook run; after that the
    browser loads Voila's scripts and draws the widgets); ``shown`` is what a page that
    never became interactive showed instead."""

    seconds: float | None
    busy: bool = False
    shown: str = ""
    delivered: float | None = None


async def _open_one_page(browser, url: str, timeout_s: float) -> PageOutcome:
    import asyncio

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    start = time.perf_counter()
    try:
        response = await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        if response is not None and response.status == 503:
            return PageOutcome(None, busy=True)
        delivered = None

        async def note_delivery() -> None:
            nonlocal delivered
            await response.finished()
            delivered = time.perf_counter() - start

        watch = asyncio.ensure_future(note_delivery())
        left = timeout_s - (time.perf_counter() - start)
        await page.wait_for_selector(PAGE_SELECTOR, state="visible", timeout=max(left, 1) * 1000)
        await asyncio.wait_for(watch, 10)
        return PageOutcome(time.perf_counter() - start, delivered=delivered)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: never interactive
        try:
            shown = " ".join((await page.inner_text("body", timeout=5000)).split())[:300]
        except Exception:  # noqa: BLE001 - no body at all
            shown = "(no page)"
        return PageOutcome(None, shown=shown)
    finally:
        await context.close()


async def open_pages_at_once(url: str, count: int, timeout_s: float) -> list[PageOutcome]:
    """Open ``url`` in ``count`` fresh browser contexts of one new Chromium, all at the same
    moment (Playwright's async API: call it through :func:`run_in_own_loop` in a test),
    and wait up to ``timeout_s`` for each page to become interactive."""
    import asyncio

    from playwright.async_api import async_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(_open_one_page(browser, url, timeout_s)
                                          for _ in range(count)))
        finally:
            await browser.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """Factory: ``screenshot(page, "explorer-desktop")`` saves test-output/<name>.png."""

    def take(page, name: str, *, full_page: bool = True) -> Path:
        TEST_OUTPUT.mkdir(exist_ok=True)
        path = TEST_OUTPUT / f"{name}.png"
        size = page.viewport_size
        height = page.evaluate(
            f"() => {{ const el = document.querySelector({PAGE_SELECTOR!r});"
            " return el ? Math.ceil(el.getBoundingClientRect().bottom) + 40 : 0; }"
        )
        if full_page and size and height > size["height"]:
            # Voila scrolls inside its own container, so Playwright's full-page shot stops
            # at the viewport: make the viewport as tall as the page for the picture.
            page.set_viewport_size({"width": size["width"], "height": min(height, 20000)})
            page.wait_for_timeout(300)
            page.screenshot(path=str(path))
            page.set_viewport_size(size)
        else:
            page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
