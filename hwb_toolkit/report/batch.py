"""Every area's report."""

from __future__ import annotations

import contextlib
import html
import json
import multiprocessing.util
import os
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jupyter_core.utils import run_sync

from hwb_toolkit.errors import HwbError, PipelineError
from hwb_toolkit.io.writers import write_text_atomically
from hwb_toolkit.report.pipeline import _ipc_kernel_manager, build_report, validate_period
from hwb_toolkit.report.publish import (
    _STAGING_PREFIX,
    _recover,
    _swap_into_place,
    report_is_complete,
)
from hwb_toolkit.report.shared import PREPARED_DIR
from hwb_toolkit.workspace import Workspace

MANIFEST = "manifest.json"


INDEX = "index.html"


@dataclass
class AreaResult:
    """What happened to one area in a run."""

    area_code: str
    status: str  # "done", "skipped" or "failed"
    seconds: float = 0.0
    error: str | None = None
    report_dir: str | None = None


@dataclass
class BatchResult:
    period: str
    areas: list[AreaResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[AreaResult]:
        return [area for area in self.areas if area.status == "failed"]


# --- shared work, once per batch --------------------------------------------
def prepare_period(workspace: Workspace | str | Path, period: str, out: str | Path = "reports") -> Path:
    """Compute the tables every area's briefing shares, once, into ``<out>/<period>/.prepared``
    (``workspace``: an open :class:`Workspace` or its folder), where each area's kernel reads
    them."""
    from hwb_toolkit.report.build import compute_shared_tables

    validate_period(period)
    folder = Path(out).resolve() / period / PREPARED_DIR
    staging = folder.with_name(f"{_STAGING_PREFIX}prepared-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    try:
        compute_shared_tables(Workspace.open(workspace)).save(staging)
        _recover(folder)
        _swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


class _ThisThread(threading.local):
    """This worker thread's warm kernel (a started kernel manager), or None."""

    manager = None


# One warm kernel per worker thread: a batch pays the kernel start and the imports
# (pandas, altair, scikit-learn: seconds) once per worker instead of once per area. Measured
# (bench/bench_tricks.py): 4 areas in 6.6 s with one warm kernel, 13.1 s with a fresh
# kernel each, half of the batch's time.
_THIS_THREAD = _ThisThread()
#: Every warm kernel this process started (any thread), stopped when the process ends.
_STARTED: list = []
_STARTED_LOCK = threading.Lock()


def _warm_kernel():
    """This worker thread's started kernel, started on first use and shut down at exit."""
    if _THIS_THREAD.manager is None:
        _THIS_THREAD.manager = _ipc_kernel_manager()(kernel_name="python3")
        with _STARTED_LOCK:
            if not _STARTED:
                # Worker processes end with os._exit: Finalize (not atexit) still runs then.
                multiprocessing.util.Finalize(None, _shutdown_warm_kernels, exitpriority=10)
            _STARTED.append(_THIS_THREAD.manager)
    return _THIS_THREAD.manager


def _stop(manager) -> None:
    if manager.has_kernel:
        with contextlib.suppress(Exception):  # a kernel that is already gone is fine
            run_sync(manager.shutdown_kernel)(now=True)


def _shutdown_warm_kernels() -> None:
    """Stop every warm kernel this process started."""
    with _STARTED_LOCK:
        managers = list(_STARTED)
        _STARTED.clear()
    _THIS_THREAD.manager = None
    for manager in managers:
        _stop(manager)


def _discard_warm_kernel() -> None:
    """Stop this worker thread's kernel and forget its manager: the next area starts a fresh
    kernel with a fresh manager. (Restarting the same manager's kernel left the next run
    waiting 300 s for a kernel that never answered on its IPC sockets.)"""
    manager, _THIS_THREAD.manager = _THIS_THREAD.manager, None
    if manager is not None:
        with _STARTED_LOCK:
            if manager in _STARTED:
                _STARTED.remove(manager)
        _stop(manager)


def _build_one(
    workspace: str,
    area_code: str,
    period: str,
    out: str,
    prepared: str | None,
    reuse_kernel: bool = True,
) -> AreaResult:
    """Worker entry point: never raises, so one area cannot stop the others.

    With ``reuse_kernel`` the area runs in this worker's warm kernel; the
    notebook sets every name it uses from its parameters, and after a failure
    the kernel is stopped and the next area gets a fresh one, so nothing from a
    broken run reaches it.
    """
    started = time.perf_counter()
    manager = _warm_kernel() if reuse_kernel else None
    try:
        report = build_report(
            workspace, area_code, period, out, prepared=prepared, kernel_manager=manager
        )
        return AreaResult(area_code, "done", time.perf_counter() - started, report_dir=str(report))
    except HwbError as error:
        message = str(error)
    except Exception as error:  # noqa: BLE001 - the manifest must record any failure
        message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
    if manager is not None:
        _discard_warm_kernel()
    return AreaResult(area_code, "failed", time.perf_counter() - started, error=message)


def run_batch(
    workspace: Workspace | str | Path,
    period: str,
    out: str | Path = "reports",
    *,
    areas: Iterable[str] | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[AreaResult], None] | None = None,
) -> BatchResult:
    """Build every area's briefing for ``period``; see the module docstring.

    ``areas`` defaults to every briefing area in the workspace (codes in any case;
    one the workspace lacks fails, naming the nearest it has). Areas whose
    report is already complete are skipped unless ``force``. ``executor`` is
    ``"local"`` (``workers`` processes, default the number of cores) or
    ``"dask"`` (tasks on the cluster at ``scheduler``). ``progress`` is called
    with each area's result as it finishes.
    """
    validate_period(period)
    started = time.perf_counter()
    out = Path(out).resolve()
    workspace_obj = Workspace.open(workspace)
    known = list(workspace_obj.briefing_areas()["area_code"])
    results: dict[str, AreaResult] = {}
    codes = known if areas is None else []
    for given in areas or ():
        try:  # any case; an unknown code's error names the nearest known ones
            code = workspace_obj.resolve_area(given)
        except HwbError as error:
            results[given] = AreaResult(given, "failed", error=error.message)
            code = given
        else:
            if code not in known:
                results[code] = AreaResult(
                    code, "failed", error=f"area {code} is not an area briefings are made for"
                )
        if code not in codes:
            codes.append(code)
    period_dir = out / period
    period_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for code in codes:
        if code in results:
            continue
        if not force and report_is_complete(period_dir / code):
            results[code] = AreaResult(code, "skipped", report_dir=str(period_dir / code))
        else:
            todo.append(code)

    def record(result: AreaResult) -> None:
        results[result.area_code] = result
        if progress is not None:
            progress(result)

    if todo:
        prepared = str(prepare_period(workspace_obj, period, out))
        arguments = [(str(workspace_obj.root), code, period, str(out), prepared) for code in todo]
        if executor == "dask":
            _run_on_dask(arguments, scheduler, record)
        elif executor == "local":
            _run_locally(arguments, workers or os.cpu_count() or 1, record)
        else:
            raise PipelineError(f"unknown executor {executor!r}: use 'local' or 'dask'")

    batch = BatchResult(
        period,
        [results[code] for code in codes],
        seconds=time.perf_counter() - started,
    )
    write_manifest(batch, period_dir, home_area=workspace_obj.strategy.home_area)
    return batch


def _run_locally(arguments: list[tuple], workers: int, record: Callable) -> None:
    if workers <= 1:
        try:
            for args in arguments:
                record(_build_one(*args))
        finally:
            _shutdown_warm_kernels()
        return
    # Spawned, not forked: each worker starts its own kernel and ZeroMQ context cleanly.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_build_one, *args) for args in arguments]
        for future in as_completed(futures):
            record(future.result())


def _run_on_dask(arguments: list[tuple], scheduler: str | None, record: Callable) -> None:
    if not scheduler:
        raise PipelineError("the dask executor needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = [client.submit(_build_one, *args, pure=False) for args in arguments]
        for future in dask_completed(futures):
            record(future.result())


# --- manifest and index -------------------------------------------------------
def write_manifest(batch: BatchResult, period_dir: Path, *, home_area: str | None = None) -> None:
    """Write ``manifest.json`` and ``index.html`` for a period, atomically (the index leads
    with ``home_area``, the partnership's own)."""
    manifest = {
        "period": batch.period,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(batch.seconds, 3),
        "counts": {
            status: sum(area.status == status for area in batch.areas)
            for status in ("done", "skipped", "failed")
        },
        "areas": [
            {**asdict(area), "seconds": round(area.seconds, 3)} for area in batch.areas
        ],
    }
    write_text_atomically(period_dir / MANIFEST, json.dumps(manifest, indent=2))
    write_text_atomically(period_dir / INDEX, _index_html(batch, period_dir, home_area))


def _index_html(batch: BatchResult, period_dir: Path, home_area: str | None = None) -> str:
    """The period's index: the home area first with its headline, then every other area by
    name with the first thing that matters most there (from each area's summary.json)."""
    entries = []
    for area in batch.areas:
        name, headline = area.area_code, []
        summary = period_dir / area.area_code / "summary.json"
        if summary.is_file():
            try:
                found = json.loads(summary.read_text(encoding="utf-8"))
                name, headline = found.get("area_name", name), found.get("headline", [])
            except (OSError, ValueError):
                pass
        if area.status == "failed":
            cell = f"{html.escape(name)} <span class='failed'>failed: {html.escape((area.error or '').splitlines()[0] if area.error else '')}</span>"
        else:
            cell = f"<a href='{html.escape(area.area_code)}/briefing.html'>{html.escape(name)}</a>"
        cell += f" <small>{html.escape(area.area_code)}</small>"
        entries.append((area.area_code == home_area, name, cell, headline))
    entries.sort(key=lambda entry: (not entry[0], entry[1].casefold()))
    parts = []
    home = [entry for entry in entries if entry[0]]
    if home:
        _, _, cell, headline = home[0]
        items = "".join(f"<li><strong>{html.escape(item.get('title', ''))}</strong>. "
                        f"{html.escape(item.get('text', ''))}</li>" for item in headline)
        parts.append(f"<h2>{cell}</h2>" + (f"<ol>{items}</ol>" if items else ""))
    others = [entry for entry in entries if not entry[0]]
    if others:
        rows = "".join(
            f"<li>{cell}" + (f"<br><span class='headline'>{html.escape(headline[0].get('title', ''))}</span>"
                             if headline else "") + "</li>"
            for _, _, cell, headline in others
        )
        parts.append(("<h2>Other areas</h2>" if home else "") + f"<ul>{rows}</ul>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Briefings for {html.escape(batch.period)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem;"
        "line-height:1.5}.failed{color:#b00020}small,.headline{color:#555}li{margin:0.4rem 0}"
        "h2{font-size:1.25rem}</style></head><body>"
        f"<h1>Monthly briefings: {html.escape(batch.period)}</h1>{''.join(parts)}"
        "</body></html>"
    )
