"""One area's report."""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
import uuid
import warnings
from datetime import datetime
from pathlib import Path

from hwb_toolkit.errors import HwbError, PipelineError
from hwb_toolkit.report.publish import _STAGING_PREFIX, _recover, _swap_into_place
from hwb_toolkit.resources import briefing_notebook
from hwb_toolkit.workspace import Workspace, check_area_code

#: Longest path a kernel's Unix socket may have: the system's limit (108 bytes on Linux, 104
#: on macOS, the final NUL included) less the "-<n>" jupyter_client adds for each socket.
_MAX_SOCKET_PATH = 100


def _socket_folder() -> Path:
    """Where kernels' sockets go: the Jupyter runtime folder, unless its path is too long
    for a socket (a deep home folder: "File name too long" at the kernel's start), then a
    private folder (mode 0700) in the system's temporary folder, removed at exit."""
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    if len(str(runtime / "hwb-kernel-0123456789ab")) + 3 <= _MAX_SOCKET_PATH:
        runtime.mkdir(parents=True, exist_ok=True)
        return runtime
    return _short_socket_folder()


@functools.cache
def _short_socket_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hwb-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _ipc_kernel_manager():
    """A kernel manager whose kernels talk over Unix sockets (file permissions) instead of
    unencrypted TCP on localhost; the sockets live in :func:`_socket_folder`."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            # An absolute socket path: a relative one would follow each run's working folder.
            kwargs.setdefault("ip", str(_socket_folder() / f"hwb-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)

    return IPCKernelManager


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


# --- one area -------------------------------------------------------------------
def build_report(
    workspace: Workspace | str | Path,
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

    from hwb_toolkit.report.html import notebook_to_html

    validate_period(period)
    try:
        area_code = check_area_code(area_code)
    except HwbError as error:
        raise PipelineError(error.message) from None
    # The notebook's kernel is another process: it gets the workspace's folder, and opens it.
    workspace = workspace.root if isinstance(workspace, Workspace) else Path(workspace).resolve()
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
                str(notebook or briefing_notebook()),
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
