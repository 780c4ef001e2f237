"""Voila's "page stuck at Executing N of M": count the hung loads, with and without our fix.

What it measures. ``hwb serve`` (``python -m hwb_toolkit.apps.serve``, the committed
configuration, as the tests start it) is run with the interpreter given by ``--python``,
so the same script can drive a server on the project's pinned stack or on an older one
(e.g. ipykernel 6.31 / pyzmq 26.4 / jupyter_client 8.6.3, where the hang was seen). A page
is loaded N times, each in a fresh Chromium context; a load whose root widget (class
``hwb-page``) is not visible within ``--hang-after`` seconds (default 20; a healthy load
takes 2-6 s) counts as a hang, and the script keeps watching it until ``--wait-max``
(default 140 s, beyond the 120 s cell time limit of ``apps/voila.json``) to tell a hang
that recovers from one that never does.

Two server modes:

- default: ``hwb serve`` as shipped, with :func:`hwb_toolkit.apps.serve.install_executor_fix`
  (the page renderer waits for the reply to Voila's ``VOILA_KERNEL_ID`` request before it
  sends the first cell, and waits for replies in half-second slices).
- ``--stock``: the same server with that fix replaced by a no-op, i.e. Voila 0.5.13's own
  kernel start (the ``_xsrf`` cookie fix stays, so kernels are still freed when a page
  closes).

Evidence of the mechanism (both modes). The server is started through a small launcher
that also wraps nbclient's wait for a cell's ``execute_reply`` (``_async_poll_for_reply``)
and records the kernel's IOPub messages for that request. When a reply takes longer than
``--slow-reply`` seconds the server log gets one ``hwb-hang-probe`` line: how long the
reply took, and when (relative to the request) the kernel published ``busy``,
``execute_input`` and ``idle`` for it. If the kernel went ``idle`` within a second while the
reply was only picked up at the 120 s time limit, the kernel had answered and the
*server's* wait missed the reply; if no ``busy`` came either, the kernel never started
the request. ``--probe-after S`` additionally looks at the server's shell socket S
seconds into a reply wait (``ZMQ_EVENTS``: is a message waiting unread?); reading
``ZMQ_EVENTS`` can itself wake a stuck wait, so use it for evidence, not for counting.

Run (one server at a time; the browser runs from the venv that has Playwright)::

    .venv/bin/python bench/voila_hang.py --python /tmp/hangvenv/bin/python --stock --loads 150
    .venv/bin/python bench/voila_hang.py --python /tmp/hangvenv/bin/python --loads 150
    .venv/bin/python bench/voila_hang.py --stock --loads 150          # the pinned stack
    .venv/bin/python bench/voila_hang.py --page both --preheat ...    # Explorer too, warm pool

Prints, per run: interpreter, package versions in the server's interpreter, mode, page,
loads, hangs (and how many recovered, after how long), how many kernel replies the
renderer found only by its periodic look at the socket (``check_shell_in_slices``: a
missed wake-up, recovered within half a second, so not a hang), median and max load time,
and each probe line. Exits 1 if any load hung.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hwb_toolkit.apps.serve import LATE_REPLY_MESSAGE  # noqa: E402 - after sys.path
from tests.apps.conftest import (  # noqa: E402 - the tests' server and browser helpers
    BARE_PAGE,
    DESKTOP,
    PAGE_SELECTOR,
    VoilaServer,
    free_port,
    server_kernel_pids,
    wait_until_answering,
)
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PACKAGES = ("ipykernel", "pyzmq", "jupyter_client", "voila", "nbclient", "tornado")
PROBE_TAG = "hwb-hang-probe"

#: Runs in the server's interpreter: optionally disables the executor fix, instruments
#: nbclient's reply wait, then runs ``hwb serve`` with the given arguments.
LAUNCHER = r'''
import asyncio, os, sys, time
import zmq
import nbclient.client as nbc
import hwb_toolkit.apps.serve as serve

STOCK = os.environ["HWB_HANG_STOCK"] == "1"
SLOW = float(os.environ["HWB_HANG_SLOW_REPLY"])
PROBE_AFTER = float(os.environ["HWB_HANG_PROBE_AFTER"] or "0")
TAG = "hwb-hang-probe"

if os.environ.get("HWB_HANG_LEAK") == "1":
    # Voila's own page handler: no _xsrf cookie, so closing a page leaves its kernel running.
    _handlers = serve._handlers_module
    def _stock_page_handler():
        from voila.tornado.handler import TornadoVoilaHandler
        _page, reports, files = _handlers()
        return TornadoVoilaHandler, reports, files
    serve._handlers_module = _stock_page_handler
    print(TAG + ": kernel-leak fix OFF (stock page handler)", flush=True)

if STOCK:
    serve.install_executor_fix = lambda: print(TAG + ": executor fix OFF (stock Voila)", flush=True)
else:
    _install = serve.install_executor_fix
    def _install_and_say():
        _install()
        print(TAG + ": executor fix ON", flush=True)
    serve.install_executor_fix = _install_and_say

_process_message = nbc.NotebookClient.process_message
def process_message(self, msg, cell, cell_index):
    seen = getattr(self, "_hang_iopub", None)
    if seen is not None:
        parent = msg["parent_header"].get("msg_id")
        kind = msg["msg_type"]
        if kind == "status":
            kind = msg["content"]["execution_state"]
        seen.setdefault(parent, []).append((time.monotonic(), kind))
    return _process_message(self, msg, cell, cell_index)
nbc.NotebookClient.process_message = process_message

_poll_for_reply = nbc.NotebookClient._async_poll_for_reply
async def poll_for_reply(self, msg_id, cell, timeout, *args, **kwargs):
    if not hasattr(self, "_hang_iopub"):
        self._hang_iopub = {}
    start = time.monotonic()
    what = repr(cell.get("source", "")[:30])
    async def probe():
        await asyncio.sleep(PROBE_AFTER)
        events = self.kc.shell_channel.socket.get(zmq.EVENTS)
        print(f"{TAG}: probe {PROBE_AFTER:.0f} s into the wait for {msg_id} ({what}):"
              f" server shell socket POLLIN={bool(events & zmq.POLLIN)};"
              f" iopub so far {[kind for _, kind in self._hang_iopub.get(msg_id, [])]}",
              flush=True)
    task = asyncio.ensure_future(probe()) if PROBE_AFTER > 0 else None
    outcome = "reply"
    try:
        return await _poll_for_reply(self, msg_id, cell, timeout, *args, **kwargs)
    except BaseException as error:
        outcome = type(error).__name__
        raise
    finally:
        if task is not None:
            task.cancel()
        waited = time.monotonic() - start
        if waited > SLOW:
            iopub = " ".join(f"{kind}@{at - start:.2f}s"
                             for at, kind in self._hang_iopub.get(msg_id, []))
            print(f"{TAG}: {outcome} to {msg_id} ({what}) after {waited:.1f} s;"
                  f" kernel iopub for it: {iopub or 'nothing'}", flush=True)
nbc.NotebookClient._async_poll_for_reply = poll_for_reply

serve.main(sys.argv[1:])
'''

VERSIONS_CODE = (
    "import importlib.metadata as m, json, sys, zmq\n"
    f"names = {PACKAGES!r}\n"
    "found = {n: m.version(n) for n in names}\n"
    "found['libzmq'] = zmq.zmq_version()\n"
    "found['python'] = sys.version.split()[0]\n"
    "print(json.dumps(found))\n"
)


def server_versions(python: str) -> dict[str, str]:
    """Package versions in the server's interpreter."""
    out = subprocess.run([python, "-c", VERSIONS_CODE], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def start_server(python: str, workspace: Path, reports: Path, pages: Path, log_dir: Path, *,
                 stock: bool, preheat: bool, slow_reply: float, probe_after: float,
                 extra: list[str], leak: bool = False) -> VoilaServer:
    """``hwb serve`` through :data:`LAUNCHER` on a free port; returns once it answers."""
    port = free_port()
    command = [python, "-c", LAUNCHER, "--workspace", str(workspace), "--reports", str(reports),
               "--port", str(port), "--pages", str(pages)]
    command += (["--preheat"] if preheat else []) + extra
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"voila-{port}.log"
    env = {**os.environ, "HWB_HANG_STOCK": "1" if stock else "0", "HWB_HANG_LEAK": "1" if leak else "0",
           "HWB_HANG_SLOW_REPLY": str(slow_reply), "HWB_HANG_PROBE_AFTER": str(probe_after)}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                   cwd=log_dir, env=env)
    return wait_until_answering(VoilaServer(port, workspace, reports, pages, None, process, log_path))


def kernel_interpreters(pid: int) -> set[str]:
    """Executables of the server's kernel processes (children running ipykernel)."""
    found = set()
    for kernel in server_kernel_pids(pid):
        try:
            found.add(Path(f"/proc/{kernel}/cmdline").read_bytes().split(b"\0")[0].decode())
        except OSError:
            continue
    return found


@dataclass
class Load:
    page: str
    seconds: float | None  # until the root widget was visible; None: never (within wait_max)
    hung: bool  # not visible within hang_after
    probes: list[str]


def load_page(browser, url: str, hang_after: float, wait_max: float,
              while_open=None) -> tuple[float | None, bool]:
    """Load ``url`` in a fresh context: (seconds until the root widget shows or None, hung).
    ``while_open()`` (optional) is called before the page is closed."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    start = time.perf_counter()
    hung = False
    try:
        page.goto(url, wait_until="commit", timeout=wait_max * 1000)
        try:
            page.wait_for_selector(PAGE_SELECTOR, state="visible", timeout=hang_after * 1000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: a hang; keep watching
            hung = True
            remaining = wait_max - (time.perf_counter() - start)
            page.wait_for_selector(PAGE_SELECTOR, state="visible", timeout=max(remaining, 1) * 1000)
        return time.perf_counter() - start, hung
    except Exception:  # noqa: BLE001 - never became interactive within wait_max
        return None, True
    finally:
        if while_open is not None:
            while_open()
        page.close(run_before_unload=True)  # Voila's shutdown beacon frees the kernel
        time.sleep(0.2)
        context.close()


def make_site(base: Path, with_explorer: bool) -> tuple[Path, Path, Path]:
    """A workspace, its reports folder (with the prepared tables when the Explorer is
    loaded) and a pages folder holding the app pages plus ``bare.ipynb``."""
    from hwb_toolkit.apps.serve import default_pages_dir, prepare_pages
    from hwb_toolkit.workspace import init_workspace

    workspace = init_workspace(base / "workspace")
    reports = base / "reports"
    reports.mkdir()
    if with_explorer:
        from hwb_toolkit.report.batch import prepare_period

        period = date.today().strftime("%Y-%m")
        prepare_period(workspace, period, reports)
    pages = base / "pages"
    prepare_pages(default_pages_dir(), pages)
    (pages / "bare.ipynb").write_text(BARE_PAGE)
    return workspace, reports, pages


def report(python: str, versions: dict, mode: str, loads: list[Load], kernels: set[str]) -> None:
    print(f"\n== server {python}  mode={mode}")
    print("   versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    print(f"   kernel interpreters seen: {', '.join(sorted(kernels)) or 'none'}")
    for page in sorted({load.page for load in loads}):
        mine = [load for load in loads if load.page == page]
        hung = [load for load in mine if load.hung]
        late = sum(LATE_REPLY_MESSAGE in probe for load in mine for probe in load.probes)
        recovered = [load.seconds for load in hung if load.seconds is not None]
        times = [load.seconds for load in mine if load.seconds is not None]
        line = (f"   {page}: loads {len(mine)}, hangs {len(hung)}"
                f" ({len(recovered)} recovered"
                + (f" after {', '.join(f'{s:.0f}' for s in recovered)} s" if recovered else "")
                + f"), replies found by the periodic check {late}")
        if times:
            line += f", median {statistics.median(times):.2f} s, max {max(times):.2f} s"
        print(line)
    for index, load in enumerate(loads):
        for probe in load.probes:
            print(f"   load {index + 1} ({load.page}, hung={load.hung}): {probe}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the server's interpreter")
    parser.add_argument("--stock", action="store_true", help="executor fix disabled")
    parser.add_argument("--loads", type=int, default=150, help="loads per page")
    parser.add_argument("--page", choices=("bare", "explorer", "both"), default="bare")
    parser.add_argument("--hang-after", type=float, default=20.0)
    parser.add_argument("--wait-max", type=float, default=140.0)
    parser.add_argument("--preheat", action="store_true", help="warm pool of kernels")
    parser.add_argument("--leak", action="store_true",
                        help="Voila's own page handler: every closed page leaves its kernel running")
    parser.add_argument("--slow-reply", type=float, default=10.0,
                        help="log replies slower than this (s)")
    parser.add_argument("--probe-after", type=float, default=0.0,
                        help="read the server's shell socket events this far into a wait (s)")
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the server log here")
    parser.add_argument("voila_args", nargs="*", help="extra Voila settings, after --")
    options = parser.parse_args()

    from playwright.sync_api import sync_playwright

    names = {"bare": ["bare.ipynb"], "explorer": ["explorer.ipynb"],
             "both": ["bare.ipynb", "explorer.ipynb"]}[options.page]
    mode = (("stock" if options.stock else "fix") + (", preheat" if options.preheat else "")
            + (", kernels leak" if options.leak else ""))
    versions = server_versions(options.python)
    loads: list[Load] = []
    kernels: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="voila-hang-") as scratch:
        base = Path(scratch)
        workspace, reports, pages = make_site(base, "explorer.ipynb" in names)
        server = start_server(options.python, workspace, reports, pages, base / "log",
                              stock=options.stock, preheat=options.preheat, leak=options.leak,
                              slow_reply=options.slow_reply, probe_after=options.probe_after,
                              extra=options.voila_args)
        try:
            if options.preheat:
                time.sleep(20)  # let the pools fill before measuring
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                load_page(browser, server.page_url("bare.ipynb"), 60, 60,  # warms caches
                          lambda: kernels.update(kernel_interpreters(server.process.pid)))
                for number in range(options.loads):
                    for name in names:
                        log_before = len(server.log())
                        seconds, hung = load_page(browser, server.page_url(name),
                                                  options.hang_after, options.wait_max)
                        probes = [line for line in server.log()[log_before:].splitlines()
                                  if (PROBE_TAG in line and "executor fix" not in line)
                                  or LATE_REPLY_MESSAGE in line]
                        loads.append(Load(name.removesuffix(".ipynb"), seconds, hung, probes))
                        if hung or number % 25 == 0:
                            shown = "never" if seconds is None else f"{seconds:.1f} s"
                            print(f"  load {number + 1} {name}: {shown}"
                                  + (" HUNG" if hung else ""), flush=True)
                browser.close()
        finally:
            server.stop()
            fix_lines = [line for line in server.log().splitlines() if "executor fix" in line]
            if options.keep_log:
                options.keep_log.write_text(server.log())
    print(f"   server said: {'; '.join(fix_lines) or 'nothing about the executor fix'}")
    report(options.python, versions, mode, loads, kernels)
    return 1 if any(load.hung for load in loads) else 0


if __name__ == "__main__":
    sys.exit(main())
