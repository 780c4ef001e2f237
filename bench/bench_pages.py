"""Many partners opening a page at once: N Explorer (or Actions) pages against one ``hwb serve``.

For each N (default 1, 5, 10, 15) a fresh server is started (the committed configuration,
the example workspace with the tables a monthly batch prepares) and N Chromium pages, each
in its own browser context, navigate to the page at the same moment. Per page: seconds
from navigation until the page's root widget (class ``hwb-page``) is visible, i.e. the page
is interactive; or the server's "busy" page (HTTP 503, when the kernel cap is reached); or
neither within ``--hang-after`` seconds: hung. While the pages load, the memory of the
server and all its processes (the kernels) is sampled twice a second.

Prints per N: interactive count, time to interactive median and p95 (and until the server
had sent the whole page: the rest is the browser loading Voila's scripts and drawing the
widgets, which here runs on the same 2 cores as the server), busy pages, hung pages,
peak memory of the server's processes (sum of RSS, and of PSS, which shares the
pages processes have in common fairly), peak kernel count, and the server log's
"Timeout waiting for IOPub output" count. Exits 1 if any page hung.

``--code DIR`` runs the server from another checkout of the project (e.g. the code before a
change, ``git archive <commit> | tar -x -C DIR``) with this venv's packages, so before and
after are measured by the same script on the same machine::

    .venv/bin/python bench/bench_pages.py                      # N = 1, 5, 10, 15
    .venv/bin/python bench/bench_pages.py --counts 10 --code /tmp/hwb-before
    .venv/bin/python bench/bench_pages.py --page actions --counts 5 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.apps.conftest import (  # noqa: E402 - the tests' server and browser helpers
    BARE_PAGE,
    PageOutcome,
    launch_voila,
    open_pages_at_once,
    process_tree_memory,
    server_kernel_pids,
)

IOPUB_TIMEOUT_LINE = "Timeout waiting for IOPub output"


def make_site(base: Path, with_explorer: bool) -> tuple[Path, Path, Path]:
    """A workspace, its reports folder (with the prepared tables when the Explorer is
    loaded) and a pages folder holding the app pages plus ``bare.ipynb``."""
    from hwb_toolkit.apps.serve import prepare_pages
    from hwb_toolkit.report.batch import prepare_period
    from hwb_toolkit.resources import notebooks_dir
    from hwb_toolkit.workspace import init_workspace

    workspace = init_workspace(base / "workspace")
    reports = base / "reports"
    reports.mkdir()
    if with_explorer:
        prepare_period(workspace, date.today().strftime("%Y-%m"), reports)
    pages = base / "pages"
    prepare_pages(notebooks_dir(), pages)
    (pages / "bare.ipynb").write_text(BARE_PAGE)
    return workspace, reports, pages


class MemorySampler:
    """Samples the memory of a process and its descendants in a thread until stopped."""

    def __init__(self, pid: int, every: float = 0.5):
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self.peak_kernels = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = process_tree_memory(self.pid)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.peak_kernels = max(self.peak_kernels, len(server_kernel_pids(self.pid)))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0-1) quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary_line(count: int, outcomes: list[PageOutcome], sampler: MemorySampler,
                 iopub_timeouts: int) -> str:
    times = [o.seconds for o in outcomes if o.seconds is not None]
    delivered = [o.delivered for o in outcomes if o.delivered is not None]
    busy = sum(o.busy for o in outcomes)
    hung = len(outcomes) - len(times) - busy
    timing = (f"median {statistics.median(times):6.1f} s, p95 {percentile(times, 0.95):6.1f} s"
              if times else "median      -, p95      -")
    if delivered:
        timing += (f" (page sent: median {statistics.median(delivered):5.1f} s,"
                   f" p95 {percentile(delivered, 0.95):5.1f} s)")
    return (f"N={count:>2}: interactive {len(times):>2}, {timing}, busy {busy:>2}, hung {hung:>2};"
            f" peak memory RSS {sampler.peak_rss / 2**30:5.2f} GiB,"
            f" PSS {sampler.peak_pss / 2**30:5.2f} GiB; peak kernels {sampler.peak_kernels:>2};"
            f" IOPub timeouts logged {iopub_timeouts}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 10, 15])
    parser.add_argument("--page", choices=("explorer", "actions"), default="explorer")
    parser.add_argument("--hang-after", type=float, default=240.0,
                        help="a page not interactive after this many seconds has hung")
    parser.add_argument("--code", type=Path, default=None,
                        help="run the server from this checkout of the project")
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy server logs here")
    parser.add_argument("serve_args", nargs="*", help="extra hwb serve arguments, after --")
    options = parser.parse_args()

    env = {"PYTHONPATH": str(options.code.resolve())} if options.code else None
    code = options.code.resolve() if options.code else REPO
    print(f"server code: {code}; page: {options.page}; extra: {options.serve_args or 'none'}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch:
        base = Path(scratch)
        workspace, reports, _ = make_site(base, with_explorer=True)
        for count in options.counts:
            server = launch_voila(workspace, reports=reports, extra_args=options.serve_args,
                                  log_dir=base / f"log-{count}", env=env)
            try:
                with MemorySampler(server.process.pid) as sampler:
                    outcomes = asyncio.run(open_pages_at_once(
                        server.page_url(f"{options.page}.ipynb"), count, options.hang_after))
                log = server.log()
            finally:
                server.stop()
            if options.keep_logs:
                options.keep_logs.mkdir(parents=True, exist_ok=True)
                (options.keep_logs / f"{options.page}-{count}.log").write_text(log)
            print(summary_line(count, outcomes, sampler, log.count(IOPUB_TIMEOUT_LINE)),
                  flush=True)
            failed |= any(o.seconds is None and not o.busy for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
