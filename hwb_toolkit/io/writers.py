"""Writing files atomically: the one way the toolkit replaces a file.

A reader (a partner's page, a running batch, a person opening the report) must
never see a half-written file, and a killed writer must never destroy the good
file that was there. So everything is written to a temporary file in the same
folder and moved into place with :func:`os.replace`, which is atomic on POSIX
and Windows when both paths are on one file system.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_text_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
