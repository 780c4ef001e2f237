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
