"""Work the live hub sends to its helper processes: reading a session and analysing it.

Role: floor 4 (UI serving), the pandas and scikit-learn side of the live pages. Reading a
session into tables, building what the pages show and finding themes and opinion groups
are CPU work in Python; in the server process they would hold the interpreter lock that
the event loop needs to answer a room of phones. So the hub runs these functions in
helper processes (:func:`helper_process`) and gets back plain dicts.

Each function takes the workspace folder and opens the workspace (strategy and store)
once per process (:func:`_workspace`), so the same functions also run in a thread pool
(as the tests do) or in the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from hwb_toolkit.apps.live.views import (
    forming_view,
    personal_view,
    public_wall,
    session_view,
    tallies,
)
from hwb_toolkit.apps.session import (
    load_participant,
    load_session,
    theme_labels,
    what_is_forming,
)
from hwb_toolkit.workspace import Workspace


@cache
def _workspace(root: str) -> Workspace:
    return Workspace.open(root)


def warm(root: str) -> bool:
    """Open the workspace (and import everything) ahead of the first real request."""
    _workspace(root).store()
    return True


def read_views(root: str, session_id: str) -> dict[str, Any]:
    """One fresh read of a session, as the pages show it: ``change`` (the store's change
    counter, read first, so a change made during the read is seen by the next one),
    ``row`` (the session as :meth:`~hwb_toolkit.store.Store.sessions` gives it),
    ``labels``, ``session``, ``wall`` and ``tallies`` (see :mod:`.views`).
    Raises :class:`~hwb_toolkit.errors.StoreError` when there is no such session."""
    workspace = _workspace(root)
    store = workspace.store()
    change = store.last_change()
    data = load_session(store, session_id)
    labels = theme_labels(workspace.strategy, data.themes)
    return {"change": change, "row": data.session, "labels": labels,
            "session": session_view(data, labels), "wall": public_wall(data, labels),
            "tallies": tallies(data, labels)}


def read_participant(root: str, row: dict[str, Any], participant: str,
                     labels: dict[str, str]) -> dict[str, Any]:
    """One participant's own dots, answers and waiting post-its (:func:`personal_view`)."""
    mine = load_participant(_workspace(root).store(), row, participant)
    return personal_view(mine, participant, labels)


def analyse_session(root: str, session_id: str) -> dict[str, Any]:
    """What is forming in the session now (:func:`forming_view` of :func:`what_is_forming`)."""
    workspace = _workspace(root)
    data = load_session(workspace.store(), session_id)
    labels = theme_labels(workspace.strategy, data.themes)
    texts = dict(zip(data.statements["contribution_id"].astype(str),
                     data.statements["text"].astype(str), strict=True))
    return forming_view(what_is_forming(data, workspace.strategy, labels), texts)


def helper_process() -> ProcessPoolExecutor:
    """A one-process pool for these functions, started fresh (``spawn``: the server has
    threads, which a forked child would inherit in an unknown state). The process ends
    when the server does, however the server ends (:func:`_leave_with_parent`)."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_leave_with_parent, initargs=(os.getpid(),))


def _leave_with_parent(parent: int, every_seconds: float = 1.0) -> None:
    """In a helper process: exit as soon as the server that started it is gone. A server
    killed outright (SIGKILL, a crash) never tells its pool to stop, and each orphaned
    helper would keep about 250 MB until the machine restarts."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(0)

    threading.Thread(target=watch, name="hwb-live-parent-watch", daemon=True).start()


def workspace_key(root: str | Path) -> str:
    """The workspace folder as these functions take it."""
    return str(Path(root).resolve())
