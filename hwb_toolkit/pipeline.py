"""Orchestration: run the briefing notebook for one area or for every area.

- :func:`build_report` runs ``notebooks/monthly_briefing.ipynb`` with Papermill
  for one area into ``<out>/<period>/<area_code>/`` (the executed notebook,
  ``briefing.html`` and ``summary.json``) and writes atomically: everything is
  made in a staging folder beside the target, marked ready when complete, and
  then moved in file by file with :func:`os.replace`. So a failed or killed run
  never leaves a half-written report where a good one was, and the published
  files never go missing: a partner loading ``briefing.html`` during a rebuild
  gets the old page or the new one, never a 404 (a kill during the moves is
  finished by the next run, which moves the rest of the ready folder in).
- :func:`run_batch` prepares the shared tables once (every area's indicator
  summary, the voices and whole-system analyses), then builds each area's
  report in parallel: local processes, or tasks on an existing Dask cluster.
  One failing area never stops the others; the batch ends with
  ``manifest.json`` and ``index.html`` in ``<out>/<period>/``.
"""

from __future__ import annotations

import contextlib
import html
import json
import multiprocessing.util
import os
import re
import shutil
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jupyter_core.utils import run_sync

from hwb_toolkit.errors import HwbError, PipelineError
from hwb_toolkit.io.writers import write_text_atomically
from hwb_toolkit.prepared import PREPARED_DIR

REPORT_FILES = ("briefing.ipynb", "briefing.html", "summary.json")
MANIFEST = "manifest.json"
INDEX = "index.html"
_BACKUP_SUFFIX = ".previous"
_STAGING_PREFIX = ".staging-"
#: Written into a staging folder once its files are complete: from then on it is moved in.
_READY = ".ready"


def _ipc_kernel_manager():
    """A kernel manager whose kernels talk over Unix sockets (file permissions) instead of
    unencrypted TCP on localhost; the sockets live in the Jupyter runtime folder."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            # An absolute socket path: a relative one would follow each run's working folder.
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("ip", str(runtime / f"hwb-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)

    return IPCKernelManager


def repo_root() -> Path:
    """The project checkout this package runs from (notebooks/ and templates/ live there)."""
    return Path(__file__).resolve().parents[1]


def default_notebook() -> Path:
    return repo_root() / "notebooks" / "monthly_briefing.ipynb"


def validate_period(period: str) -> str:
    """Check a reporting period is ``YYYY-MM`` and return it."""
    try:
        datetime.strptime(period, "%Y-%m")
    except (TypeError, ValueError):
        raise PipelineError(f"period {period!r} is not a month in the form YYYY-MM") from None
    return period


def previous_period(period: str) -> str:
    """The month before ``period`` (both ``YYYY-MM``)."""
    year, month = (int(part) for part in validate_period(period).split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


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


# --- atomic swap ---------------------------------------------------------------
def _stagings(target: Path) -> list[Path]:
    """Staging folders of ``target``, oldest first."""

    def age(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:  # removed meanwhile
            return 0

    return sorted(target.parent.glob(f"{_STAGING_PREFIX}{target.name}-*"), key=age)


def _recover(target: Path) -> None:
    """Finish a swap that was interrupted (a ready staging folder is moved in) and clear
    the debris of runs that never got that far."""
    # A folder set aside by the earlier two-rename swap, if a run was killed between them.
    backup = target.with_name(target.name + _BACKUP_SUFFIX)
    if backup.exists():
        if target.exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            backup.rename(target)
    for staging in _stagings(target):
        if (staging / _READY).is_file():
            _move_files_in(staging, target)
        shutil.rmtree(staging, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Publish ``staging``'s files as ``target``'s: mark the folder ready, then replace each
    file with :func:`os.replace` (atomic), so every published file is always there whole."""
    (staging / _READY).touch()
    _move_files_in(staging, target)


def _move_files_in(staging: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(staging.iterdir()):
        if source.name != _READY and source.is_file():
            with contextlib.suppress(FileNotFoundError):  # moved in by a concurrent recovery
                os.replace(source, target / source.name)


def report_is_complete(report_dir: Path) -> bool:
    """Whether every report file is in place and no interrupted swap is waiting to finish."""
    return all((report_dir / name).is_file() for name in REPORT_FILES) and not any(
        (staging / _READY).is_file() for staging in _stagings(report_dir)
    )


# --- one area -------------------------------------------------------------------
def build_report(
    workspace: str | Path,
    area_code: str,
    period: str,
    out: str | Path = "reports",
    *,
    prepared: str | Path | None = None,
    notebook: str | Path | None = None,
    execution_timeout: int = 600,
    kernel_manager=None,
) -> Path:
    """Run the briefing notebook for one area and return the finished report folder.

    ``prepared`` is a folder made by :func:`prepare_period` (shared tables);
    without it the notebook computes what it needs from the workspace.
    ``kernel_manager``: a started kernel to run in (a batch keeps one warm per
    worker); by default a fresh kernel is started and shut down.
    Raises :class:`PipelineError` (with the failing cell's error) when the run fails;
    any previous report for the same area and period is then left untouched.
    ``area_code`` must be letters and digits (it names the report's folder).
    Warnings the notebook gave (rows left out of the figures, unrecognised
    sectors) are given again here, so that whoever ran it sees them.
    """
    import papermill

    from hwb_toolkit.io.workspace import check_area_code
    from hwb_toolkit.narrative import notebook_to_html

    validate_period(period)
    try:
        area_code = check_area_code(area_code)
    except HwbError as error:
        raise PipelineError(error.message) from None
    workspace = Path(workspace).resolve()
    target = Path(out).resolve() / period / area_code
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    staging = target.with_name(f"{_STAGING_PREFIX}{area_code}-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        executed = staging / "briefing.ipynb"
        previous = Path(out).resolve() / previous_period(period) / area_code / "summary.json"
        parameters = {
            "workspace": str(workspace),
            "area_code": area_code,
            "period": period,
            "output_dir": str(staging),
            "prepared": "" if prepared is None else str(Path(prepared).resolve()),
            "previous_summary": str(previous) if previous.is_file() else "",
        }
        try:
            papermill.execute_notebook(
                str(notebook or default_notebook()),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                # No cwd=: Papermill implements it with a process-wide os.chdir, which races
                # when a Dask worker runs two areas in threads. The notebook uses absolute paths.
                execution_timeout=execution_timeout,
                # Kernel start-up (imports included) can pass Papermill's 60 s default on a
                # busy 2-core machine; a slow start is not a failed area.
                start_timeout=300,
                # The executed notebook is written once at the end; saving it after every
                # cell would serialise the charts' SVG again and again.
                request_save_on_cell_execute=False,
                # Stop the kernel at once when the run is over: every cell has finished and
                # its outputs are in, and the notebook writes its files itself. A polite
                # shutdown spent 0.5-2.5 s in the kernel's own teardown (pandas, scikit-learn,
                # the chart process) before the report could be published.
                shutdown_kernel="immediate",
                **(
                    {"km": kernel_manager}
                    if kernel_manager is not None
                    else {"kernel_manager_class": _ipc_kernel_manager()}
                ),
            )
        except papermill.PapermillExecutionError as error:
            cell, detail = _failure(executed, error)
            raise PipelineError(
                f"the briefing for {area_code} failed in cell {cell}: {detail}"
            ) from None
        _warn_again(executed)
        (staging / "briefing.html").write_text(notebook_to_html(executed), encoding="utf-8")
        if not (staging / "summary.json").is_file():
            raise PipelineError(f"the briefing for {area_code} wrote no summary.json")
        _swap_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _failure(executed: Path, error) -> tuple[int, str]:
    """The failing cell's number and what went wrong, from the executed notebook.

    The number is the cell's place among the notebook's code cells (the injected
    parameters counted), which is what a fresh kernel numbers it: a warm kernel's
    own count (``error.exec_count``) runs on across every area it has built.
    When the cell raised without an error output (a failure inside a display
    hook), the last line it wrote to stderr says what happened.
    """
    import nbformat

    detail = f"{error.ename}: {error.evalue}" if error.evalue else error.ename
    try:
        notebook = nbformat.read(executed, as_version=4)
    except (OSError, ValueError):
        return error.exec_count, detail
    number = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        outputs = cell.get("outputs", [])
        failed = cell.get("metadata", {}).get("papermill", {}).get("exception") or any(
            output.get("output_type") == "error" for output in outputs
        )
        if not failed:
            continue
        if not error.evalue:
            written = "".join(
                output.get("text", "") for output in outputs
                if output.get("output_type") == "stream" and output.get("name") == "stderr"
            ).strip()
            if written:
                detail += f" ({written.splitlines()[-1]})"
        return number, detail
    return error.exec_count, detail


#: A warning as Python prints it to stderr: "path/module.py:123: SomeWarning: message".
_PRINTED_WARNING = re.compile(r"^\S.*?:\d+: (?P<category>\w*Warning): (?P<message>.+)$")


def _warn_again(executed: Path) -> None:
    """Give again, as :class:`~hwb_toolkit.errors.InputWarning`, each warning the notebook
    printed: they went to its stderr, which the published page leaves out."""
    import nbformat

    from hwb_toolkit.errors import InputWarning

    text = executed.read_text(encoding="utf-8")
    if "Warning: " not in text:  # the common case: no need to parse the notebook
        return
    notebook = nbformat.reads(text, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "stream" or output.get("name") != "stderr":
                continue
            for line in output.get("text", "").splitlines():
                found = _PRINTED_WARNING.match(line)
                if found:
                    warnings.warn(InputWarning(found.group("message")), stacklevel=3)


# --- shared work, once per batch --------------------------------------------
def prepare_period(workspace: str | Path, period: str, out: str | Path = "reports") -> Path:
    """Compute the tables every area's briefing shares, once, into ``<out>/<period>/.prepared``."""
    from hwb_toolkit.briefing import prepare_shared_tables

    validate_period(period)
    folder = Path(out).resolve() / period / PREPARED_DIR
    staging = folder.with_name(f"{_STAGING_PREFIX}prepared-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    try:
        prepare_shared_tables(workspace, period, staging)
        _recover(folder)
        _swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# One warm kernel per worker thread: a batch pays the kernel start and the imports
# (pandas, altair, scikit-learn: seconds) once per worker instead of once per area.
_WARM_KERNELS: dict[int, object] = {}
_WARM_LOCK = threading.Lock()


def _warm_kernel():
    """This worker thread's started kernel, started on first use and shut down at exit."""
    key = threading.get_ident()
    with _WARM_LOCK:
        manager = _WARM_KERNELS.get(key)
        if manager is None:
            manager = _ipc_kernel_manager()(kernel_name="python3")
            _WARM_KERNELS[key] = manager
            if len(_WARM_KERNELS) == 1:
                # Worker processes end with os._exit: Finalize (not atexit) still runs then.
                multiprocessing.util.Finalize(None, _shutdown_warm_kernels, exitpriority=10)
    return manager


def _shutdown_warm_kernels() -> None:
    with _WARM_LOCK:
        managers = list(_WARM_KERNELS.values())
        _WARM_KERNELS.clear()
    for manager in managers:
        if manager.has_kernel:
            run_sync(manager.shutdown_kernel)(now=True)


def _discard_warm_kernel() -> None:
    """Stop this worker thread's kernel and forget its manager: the next area starts a fresh
    kernel with a fresh manager. (Restarting the same manager's kernel left the next run
    waiting 300 s for a kernel that never answered on its IPC sockets.)"""
    with _WARM_LOCK:
        manager = _WARM_KERNELS.pop(threading.get_ident(), None)
    if manager is not None and manager.has_kernel:
        with contextlib.suppress(Exception):  # a kernel that is already gone is fine
            run_sync(manager.shutdown_kernel)(now=True)


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
    workspace: str | Path,
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
    from hwb_toolkit.io.workspace import Workspace

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
        prepared = str(prepare_period(workspace_obj.root, period, out))
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
