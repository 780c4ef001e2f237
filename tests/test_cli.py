"""Tests for the `hwb` command: it calls plain functions and prints plain errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hwb_toolkit.cli import cron_line

HWB = str(Path(sys.executable).with_name("hwb"))


def hwb(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([HWB, *args], capture_output=True, text=True, timeout=timeout)


def test_init_then_summary_prints_the_area_table(tmp_path):
    result = hwb("init", str(tmp_path / "ws"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ws" / "strategy.yaml").is_file()
    table = tmp_path / "summary.csv"
    result = hwb("summary", "--workspace", str(tmp_path / "ws"), "--area", "E08000021", "--csv", str(table))
    assert result.returncode == 0, result.stderr
    assert "Percentage of physically inactive adults" in result.stdout
    assert "Worse" in result.stdout
    assert table.read_text().startswith("indicator_id,indicator_name")


def test_init_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = hwb("init", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("hwb: ") and "not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_errors_are_one_plain_sentence(tmp_path):
    result = hwb("report", "--workspace", str(tmp_path / "nowhere"), "--area", "E08000021", "--period", "2026-11")
    assert result.returncode == 2
    assert "workspace folder not found" in result.stderr and "Traceback" not in result.stderr
    result = hwb("batch", "--workspace", str(tmp_path), "--period", "November")
    assert result.returncode == 2 and "YYYY-MM" in result.stderr


def test_schedule_prints_a_monthly_cron_entry(tmp_path):
    line = cron_line(tmp_path / "ws", tmp_path / "reports", tmp_path / "batch.log")
    assert line.startswith("0 6 1 * * ")
    assert " batch --workspace " in line and '--period "$(date +\\%Y-\\%m)"' in line
    assert line.endswith("# hwb-toolkit monthly briefings")
    result = hwb("schedule", "--workspace", str(tmp_path / "ws"), "--hour", "5")
    assert result.returncode == 0 and result.stdout.startswith("0 5 1 * * ")


@pytest.mark.parametrize("command", ["init", "summary", "report", "batch", "schedule", "serve"])
def test_every_command_has_help(command):
    result = hwb(command, "--help")
    assert result.returncode == 0 and "Usage" in result.stdout


# --- round two: areas, checks before a kernel, plain warnings, version ----------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "ws"
    assert hwb("init", str(folder)).returncode == 0
    return folder


def test_version():
    result = hwb("--version")
    assert result.returncode == 0 and result.stdout.strip() == "hwb-toolkit 0.1.0"


def test_areas_lists_the_workspace_areas(workspace):
    result = hwb("areas", "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["area_code", "area_name"]
    assert any(line.split()[:4] == ["E08000021", "Newcastle", "upon", "Tyne"] for line in lines)
    assert "E92000001" not in result.stdout and "E12000001" not in result.stdout  # no regions
    assert "E12000001" in hwb("areas", "--workspace", str(workspace), "--all").stdout


def test_area_codes_ignore_case_and_a_wrong_one_names_the_nearest(workspace):
    result = hwb("summary", "--workspace", str(workspace), "--area", "e08000021")
    assert result.returncode == 0, result.stderr
    assert "Percentage of physically inactive adults" in result.stdout
    result = hwb("summary", "--workspace", str(workspace), "--area", "E08000091")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nearest: E08000021 (Newcastle upon Tyne)" in result.stderr


def test_an_area_that_is_a_path_is_a_plain_error(workspace, tmp_path):
    result = hwb("report", "--workspace", str(workspace), "--area", "../2026-11/E08000021",
                 "--period", "2026-11", "--out", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("hwb: '../2026-11/E08000021' is not an area code")


def test_report_checks_workspace_and_area_before_starting_a_kernel(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hwb_toolkit.cli import app
    from hwb_toolkit.errors import ConfigError

    started = []
    monkeypatch.setattr("hwb_toolkit.report.pipeline.build_report", lambda *args, **kwargs: started.append(args))
    result = CliRunner().invoke(app, ["report", "--workspace", str(tmp_path / "nowhere"),
                                      "--area", "E08000021", "--period", "2026-11"])
    assert isinstance(result.exception, ConfigError)
    assert "workspace folder not found" in str(result.exception)
    assert started == []  # no kernel was started to find that out


def test_rows_left_out_are_reported_as_plain_warnings(tmp_path):
    folder = tmp_path / "ws"
    assert hwb("init", str(folder)).returncode == 0
    data = folder / "indicators" / "fingertips_all_data.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    position = next(n for n, line in enumerate(lines) if line.startswith("93015,")
                    and ",E08000021," in line and ",Persons," in line)
    fields = lines[position].split(",")
    fields[18] = str(int(fields[17]) - 1)  # Denominator below Count
    lines[position] = ",".join(fields)
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = hwb("summary", "--workspace", str(folder), "--area", "E08000021")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"hwb: warning: {data}, row {position + 1}, column 'Count': a count above its denominator"
    )
