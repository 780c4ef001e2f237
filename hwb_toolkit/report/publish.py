"""Publishing a report folder atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

REPORT_FILES = ("briefing.ipynb", "briefing.html", "summary.json")


_BACKUP_SUFFIX = ".previous"


_STAGING_PREFIX = ".staging-"


#: Written into a staging folder once its files are complete: from then on it is moved in.
_READY = ".ready"


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
