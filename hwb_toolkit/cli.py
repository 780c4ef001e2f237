"""The ``hwb`` command: argument parsing only; every command calls plain functions.

Errors the toolkit recognises (:class:`~hwb_toolkit.errors.HwbError`) are
printed as one plain sentence with exit code 2, never as a traceback; warnings
about the input (:class:`~hwb_toolkit.errors.InputWarning`, such as rows left
out of the figures) as one plain line each. Area codes are matched ignoring
case, and a code the workspace lacks is answered with the nearest it has.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import warnings
from datetime import date
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Annotated

import typer

from hwb_toolkit.errors import HwbError, InputWarning

app = typer.Typer(
    help="hwb-toolkit: sense-making for health and wellbeing partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        try:
            number = installed_version("hwb-toolkit")
        except PackageNotFoundError:  # run from a checkout that was never installed
            from hwb_toolkit import __version__ as number
        typer.echo(f"hwb-toolkit {number}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    """hwb-toolkit: sense-making for health and wellbeing partnerships."""

WorkspaceOption = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.")]
PeriodOption = Annotated[
    str, typer.Option("--period", help="Reporting month, YYYY-MM (default: this month).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Reports folder.")]


def this_month() -> str:
    return date.today().strftime("%Y-%m")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where to create the workspace.")],
    overwrite: Annotated[bool, typer.Option(help="Replace a folder that has files.")] = False,
) -> None:
    """Create a workspace from the bundled example."""
    from hwb_toolkit.workspace import init_workspace

    path = init_workspace(folder, overwrite=overwrite)
    typer.echo(f"Workspace ready at {path}")


@app.command()
def summary(
    workspace: WorkspaceOption,
    area: Annotated[str, typer.Option("--area", help="Area code, e.g. E08000021.")],
    period: Annotated[str | None, typer.Option(help="Data period (default: latest).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the table to this CSV.")] = None,
) -> None:
    """Print an area's indicator summary: latest values, comparisons and trends."""
    from hwb_toolkit.indicators import summarise_area
    from hwb_toolkit.io.tabular import protect_formulas
    from hwb_toolkit.io.writers import write_text_atomically
    from hwb_toolkit.text.labels import with_display_names
    from hwb_toolkit.workspace import Workspace

    ws = Workspace.open(workspace)
    area = ws.resolve_area(area)
    # Each row named with whom it is about ("Suicide rate, males"), as the briefing names it.
    table = with_display_names(summarise_area(ws.indicators, area, period, polarity=ws.strategy.polarity()))
    shown = table[["display_name", "period", "value", "compared_to_england", "recent_trend"]]
    typer.echo(shown.to_string(index=False, max_colwidth=60))
    if csv is not None:
        write_text_atomically(csv, protect_formulas(table).to_csv(index=False))


@app.command()
def report(
    workspace: WorkspaceOption,
    area: Annotated[str, typer.Option("--area", help="Area code, e.g. E08000021.")],
    period: PeriodOption = "",
    out: OutOption = Path("reports"),
) -> None:
    """Build one area's monthly briefing into OUT/PERIOD/AREA/."""
    from hwb_toolkit.report.pipeline import build_report, validate_period
    from hwb_toolkit.workspace import Workspace

    period = validate_period(period or this_month())
    # Checked here, before a kernel starts (seconds): the workspace, and the area in it.
    ws = Workspace.open(workspace)
    area = ws.resolve_area(area)
    folder = build_report(ws, area, period, out)
    typer.echo(f"Briefing written to {folder / 'briefing.html'}")


@app.command()
def batch(
    workspace: WorkspaceOption,
    period: PeriodOption = "",
    out: OutOption = Path("reports"),
    areas: Annotated[str, typer.Option(help="'all' or comma-separated area codes.")] = "all",
    workers: Annotated[int | None, typer.Option(help="Local worker processes.")] = None,
    executor: Annotated[str, typer.Option(help="'local' or 'dask'.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild areas already done.")] = False,
) -> None:
    """Build every area's briefing for a month; exits 1 if any area failed."""
    from tqdm import tqdm

    from hwb_toolkit.report.batch import run_batch

    codes = None if areas == "all" else [code.strip() for code in areas.split(",") if code.strip()]
    with tqdm(desc="briefings", unit="area", disable=None) as bar:
        def progress(result):
            bar.update(1)
            bar.set_postfix_str(f"{result.area_code} {result.status}")

        result = run_batch(
            workspace,
            period or this_month(),
            out,
            areas=codes,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            force=force,
            progress=progress,
        )
    counts = {status: sum(a.status == status for a in result.areas) for status in ("done", "skipped", "failed")}
    typer.echo(
        f"{result.period}: {counts['done']} built, {counts['skipped']} already done, "
        f"{counts['failed']} failed in {result.seconds:.1f} s; see {Path(out) / result.period / 'index.html'}"
    )
    for area in result.failed:
        typer.echo(f"  {area.area_code} failed: {(area.error or '').splitlines()[0]}", err=True)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def areas(
    workspace: WorkspaceOption,
    all_tiers: Annotated[
        bool, typer.Option("--all", help="Also list the areas above them (regions).")
    ] = False,
) -> None:
    """List the areas a briefing can be made for: code, name, type and parent."""
    from hwb_toolkit.workspace import Workspace

    ws = Workspace.open(workspace)
    table = ws.areas() if all_tiers else ws.briefing_areas()
    columns = ["area_code", "area_name", "area_type", "parent_name"]
    typer.echo(table[columns].to_string(index=False, max_colwidth=60))


def cron_line(workspace: Path, out: Path, log: Path, hour: int = 6) -> str:
    """The crontab entry that runs the batch for the current month on the 1st at ``hour``:00."""
    hwb = Path(sys.executable).with_name("hwb")
    command = (
        f"{shlex.quote(str(hwb))} batch --workspace {shlex.quote(str(workspace.resolve()))} "
        f"--out {shlex.quote(str(out.resolve()))} --period \"$(date +\\%Y-\\%m)\" "
        f">> {shlex.quote(str(log.resolve()))} 2>&1"
    )
    return f"0 {hour} 1 * * {command}  # hwb-toolkit monthly briefings"


@app.command()
def schedule(
    workspace: WorkspaceOption,
    out: OutOption = Path("reports"),
    log: Annotated[Path, typer.Option(help="Log file for the scheduled runs.")] = Path(
        "reports/batch.log"
    ),
    hour: Annotated[int, typer.Option(min=0, max=23, help="Hour of the 1st of the month.")] = 6,
    install: Annotated[bool, typer.Option(help="Add it to this user's crontab.")] = False,
) -> None:
    """Print (or install) a monthly cron entry that runs `hwb batch` for the current month."""
    line = cron_line(workspace, out, log, hour)
    if not install:
        typer.echo(line)
        return
    current = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    kept = [
        entry
        for entry in (current.stdout.splitlines() if current.returncode == 0 else [])
        if "# hwb-toolkit monthly briefings" not in entry
    ]
    subprocess.run(["crontab", "-"], input="\n".join([*kept, line]) + "\n", text=True, check=True)
    typer.echo(f"Installed: {line}")


@app.command()
def serve(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.")] = Path(
        "workspace"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8866,
    host: Annotated[str, typer.Option(
        help="Address to listen on: 127.0.0.1 (this computer only) or 0.0.0.0 (also phones "
             "on the same network, for a live event).")] = "127.0.0.1",
    token: Annotated[str | None, typer.Option(
        help="Require this token on the pages and reports (participants of a live event "
             "join with their session's code instead).")] = None,
    reports: Annotated[Path, typer.Option(help="Reports folder the Explorer links to.")] = Path(
        "reports"
    ),
    preheat: Annotated[bool, typer.Option(help="Keep a warm kernel per page.")] = False,
    public_url: Annotated[str | None, typer.Option(
        help="Address phones use to reach this server, shown on join screens (default: this "
             "computer's address on the local network).")] = None,
    max_kernels: Annotated[
        int | None,
        typer.Option(help="Most pages open at once (each holds a kernel); default: sized to "
                          "the memory free. Beyond it visitors are asked to try again.",
                     min=1),
    ] = None,
) -> None:
    """Serve the partner pages (Explorer, Workshop, Actions) and the live event pages."""
    from hwb_toolkit.apps.serve import serve as serve_pages

    try:
        serve_pages(workspace, port, token, reports=reports, preheat=preheat, host=host,
                    max_kernels=max_kernels, public_url=public_url)
    except KeyboardInterrupt:
        pass


_PYTHON_SHOW_WARNING = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Input warnings as one plain line (they name file and row); others as Python shows them."""
    if issubclass(category, InputWarning):
        typer.echo(f"hwb: warning: {message}", err=True)
    else:
        _PYTHON_SHOW_WARNING(message, category, filename, lineno, file, line)


def main() -> None:
    """Console-script entry point."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", InputWarning)
            warnings.showwarning = _show_warning
            app()
    except HwbError as error:
        typer.echo(f"hwb: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
