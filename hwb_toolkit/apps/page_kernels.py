"""The page kernels of ``hwb serve``: how many at once, and how long one waits for its browser.

Role: floor 4 (UI serving), beside :mod:`hwb_toolkit.apps.serve`, which names
:class:`PageKernelManager` as Voila's kernel manager (``apps/voila.json``). Each visit of a
Voila page starts a kernel (about 260-470 MB) that runs the page's notebook, then waits
for the visitor's browser to connect and drive the widgets. Two rules keep a server on a
small machine from being exhausted:

- **A cap.** At most :attr:`PageKernelManager.max_kernels` kernels at once; a visitor
  beyond it is shown a short "busy, try again in a minute" page (:data:`BUSY_PAGE`, HTTP
  503) and no kernel is started. The default is sized to the memory this machine (or its
  container) has free when the server starts (:func:`default_max_kernels`).
- **No browser, no kernel.** A kernel whose page was requested but whose browser never
  connected (a ``curl`` of the page, a link preview, a visitor who left during loading) is
  shut down once it has been quiet for :attr:`PageKernelManager.browser_wait` seconds
  (the culler looks every ``MappingKernelManager.cull_interval``, 5 s). Quiet means: no
  message from the kernel, and no file fetched by the page's browser. After its page,
  a browser fetches about 100 script files (5 MB) before it connects, which can take
  longer than the wait on a slow phone or a busy server; the page's response sets a
  short-lived cookie naming its kernel (:data:`LOADING_COOKIE`), and every request that
  carries it counts as a sign of that browser (:func:`note_page_files`). A plain ``curl``
  keeps no cookie. A kernel whose browser connected once is left to Jupyter's idle
  culler as before (never while connected), so a phone that drops its connection for a
  while can come back.

Not done, measured: running the kernels at a lower CPU priority than the server (so that
the server, which reads every kernel's output, is never starved by them) made a page 5
times slower to load on a machine with other work at normal priority (4 Explorer loads in
a row: 158 and 89 s with the kernels at nice 10, 32 and 16 s at nice 0, interleaved).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import os
from datetime import timedelta
from pathlib import Path

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import ensure_async
from traitlets import Float, Integer, TraitError

#: What one page kernel may hold (bytes): the Explorer's kernel measured 470 MB resident
#: after use, the Workshop's 260 MB (FIELD-NOTES, "Many visitors at once").
PAGE_KERNEL_BYTES = 500 * 2**20
#: Memory left for the server process itself and the rest of the machine (bytes).
SERVER_RESERVE_BYTES = 1024 * 2**20
#: Seconds a page kernel may stay quiet before its browser has connected.
BROWSER_WAIT_SECONDS = 30.0
#: Seconds a visitor shown the busy page is asked to wait (``Retry-After``).
RETRY_AFTER_SECONDS = 60
#: Name of the cookie a page sets for its browser's requests until it connects, followed
#: by the kernel's id; it lives :data:`LOADING_COOKIE_SECONDS`.
LOADING_COOKIE = "hwb-loading-"
LOADING_COOKIE_SECONDS = 300

#: Set by the page handler while it serves a visitor: called with the id of the kernel
#: the page gets (to set :data:`LOADING_COOKIE` before the page's first bytes are sent).
PAGE_KERNEL_CALLBACK: contextvars.ContextVar = contextvars.ContextVar(
    "hwb_page_kernel_callback", default=None)

#: The page a visitor gets when the cap is reached: self-contained (no script, nothing
#: fetched), readable on a phone; it asks the browser to try again by itself in a minute.
BUSY_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">
<title>Busy: please try again in a minute</title>
<style>
body {{ margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2933; background: #f5f7fa; line-height: 1.5; }}
main {{ max-width: 34rem; margin: 12vh auto 0; padding: 1.5rem; background: #fff;
       border-radius: 8px; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); }}
h1 {{ font-size: 1.5rem; margin: 0 0 0.75rem; }}
p {{ margin: 0 0 0.75rem; font-size: 1.05rem; }}
a {{ color: #0b5394; font-weight: 600; }}
@media (max-width: 40rem) {{ main {{ margin: 0; border-radius: 0; box-shadow: none; }} }}
</style>
</head>
<body>
<main>
<h1>Busy: please try again in a minute</h1>
<p>Many people have this site open right now, and it has no room to open another page.</p>
<p>This page will try again by itself in a minute, or you can
<a href="">try again now</a>.</p>
</main>
</body>
</html>
"""


class PageKernelsFull(Exception):
    """Raised instead of starting a visitor's kernel when the cap is reached."""


def _meminfo_bytes(text: str, field: str) -> int | None:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0]) * 1024  # /proc/meminfo counts kB
    return None


def _cgroup_room(root: Path) -> int | None:
    """Bytes a container's memory limit still allows (cgroup v2, else v1), or None."""
    for limit_name, usage_name in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes",
                                    "memory/memory.usage_in_bytes")):
        try:
            limit = (root / limit_name).read_text().strip()
            usage = int((root / usage_name).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit():
            return max(0, int(limit) - usage)
    return None


def available_memory_bytes(meminfo: Path = Path("/proc/meminfo"),
                           cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Memory free for new processes now (bytes): ``MemAvailable`` of ``meminfo``, or less
    if a container's memory limit (``cgroup``) leaves less. None when unknown."""
    try:
        available = _meminfo_bytes(meminfo.read_text(), "MemAvailable")
    except OSError:
        available = None
    if available is None:
        try:  # not Linux: the whole memory, as the C library reports it
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    room = _cgroup_room(cgroup)
    return available if room is None else min(available, room)


def default_max_kernels(available: int | None = None) -> int:
    """How many page kernels fit in ``available`` bytes (default: what
    :func:`available_memory_bytes` finds now) after :data:`SERVER_RESERVE_BYTES`, at
    :data:`PAGE_KERNEL_BYTES` each; at least 1. Unknown memory gives 4."""
    if available is None:
        available = available_memory_bytes()
    if available is None:
        return 4
    return max(1, math.floor((available - SERVER_RESERVE_BYTES) / PAGE_KERNEL_BYTES))


class PageKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager with a cap and a short wait for a page's browser (see the
    module docstring)."""

    max_kernels = Integer(
        0, config=True,
        help="Most page kernels at once; beyond it visitors see a 'busy' page. "
             "0: sized to the memory free when the server starts.",
    )
    browser_wait = Float(
        BROWSER_WAIT_SECONDS, config=True,
        help="Seconds a page's kernel may stay quiet before its browser has connected; "
             "then it is shut down.",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.max_kernels <= 0:
            self.max_kernels = default_max_kernels()
        self._starting = 0
        self._visitor_kernels: set[str] = set()
        #: kernel id -> since when it has been waiting for its browser (UTC)
        self._awaiting_browser: dict = {}
        claim = getattr(self, "get_rendered_notebook", None)
        if claim is not None:  # Voila's warm pool (--preheat): a visitor claims a kernel
            async def get_rendered_notebook(*args, **kwargs):
                result = await claim(*args, **kwargs)
                self._await_browser(result[2])
                return result

            self.get_rendered_notebook = get_rendered_notebook

    def kernels_in_use(self) -> int:
        """Visitors' kernels running or being started (with ``--preheat``, the kernels
        waiting in Voila's warm pool come on top: one per page)."""
        self._visitor_kernels &= self._kernels.keys()
        return len(self._visitor_kernels) + self._starting

    def is_full(self) -> bool:
        """Whether a visitor's page would exceed :attr:`max_kernels`."""
        return self.kernels_in_use() >= self.max_kernels

    async def start_kernel(self, **kwargs) -> str:
        # The check and the count happen with no await between them, so pages requested
        # at the same moment cannot all pass the check before any of them is counted.
        # Voila's warm pool (--preheat) marks its own kernels in their environment; it
        # refills itself in the background, is never refused and is counted only once a
        # visitor claims a kernel from it.
        if kwargs.get("env", {}).get("VOILA_PREHEAT") == "True":
            return await super().start_kernel(**kwargs)  # a visitor will claim it later
        if self.is_full():
            raise PageKernelsFull(f"{self.kernels_in_use()} page kernels running")
        self._starting += 1
        try:
            kernel_id = await super().start_kernel(**kwargs)
        finally:
            self._starting -= 1
        self._await_browser(kernel_id)
        return kernel_id

    def _await_browser(self, kernel_id: str) -> None:
        """``kernel_id`` is now a visitor's: count it, and wait for its browser."""
        self._visitor_kernels.add(kernel_id)
        self._awaiting_browser[kernel_id] = utcnow()
        callback = PAGE_KERNEL_CALLBACK.get()
        if callback is not None:
            callback(kernel_id)

    def browser_seen(self, kernel_id: str) -> None:
        """The browser of ``kernel_id``'s page is still loading it: its wait starts again."""
        if kernel_id in self._awaiting_browser:
            self._awaiting_browser[kernel_id] = utcnow()

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        self._awaiting_browser.pop(kernel_id, None)

    def browser_overdue(self, kernel_id: str, now=None) -> bool:
        """Whether ``kernel_id`` has waited for its browser longer than :attr:`browser_wait`:
        never connected, not running code, and quiet (no message from the kernel, e.g.
        the end of the page's last cell) for that long."""
        since = self._awaiting_browser.get(kernel_id)
        kernel = self._kernels.get(kernel_id)
        if since is None or kernel is None:
            return False
        if getattr(kernel, "execution_state", "") in ("busy", "starting"):
            return False
        quiet_since = max(since, getattr(kernel, "last_activity", since))
        return (now or utcnow()) - quiet_since > timedelta(seconds=self.browser_wait)

    async def cull_kernel_if_idle(self, kernel_id: str):
        try:
            self._kernels[kernel_id].last_activity  # noqa: B018
        except (KeyError, TraitError):
            return  # still starting (Jupyter's culler would log a TraitError)
        await super().cull_kernel_if_idle(kernel_id)

    async def cull_kernels(self):
        """Shut down every kernel whose browser is overdue (all at once: each shutdown
        waits for its process to end), then apply Jupyter's idle rules."""
        for kernel_id in list(self._awaiting_browser):
            if kernel_id not in self._kernels:
                self._awaiting_browser.pop(kernel_id, None)
        now = utcnow()
        overdue = [kernel_id for kernel_id in self._awaiting_browser
                   if self.browser_overdue(kernel_id, now)]
        await asyncio.gather(*(self._shut_down_unclaimed(kernel_id) for kernel_id in overdue))
        await super().cull_kernels()

    async def _shut_down_unclaimed(self, kernel_id: str) -> None:
        self._awaiting_browser.pop(kernel_id, None)
        self.log.warning("hwb-toolkit: shutting down kernel %s: its page's browser never"
                         " connected (%.0f s quiet)", kernel_id, self.browser_wait)
        try:
            # Nothing of a visitor's lives in it yet: no need to let it end gently.
            await ensure_async(self.shutdown_kernel(kernel_id, now=True))
        except Exception:  # noqa: BLE001 - one failed shutdown must not stop the others
            self.log.exception("hwb-toolkit: could not shut down kernel %s", kernel_id)


def note_page_files(manager, handler) -> None:
    """Count a finished request of ``handler`` (Tornado) as a sign of the browsers whose
    page cookies (:data:`LOADING_COOKIE`) it carries (see the module docstring)."""
    for name in handler.request.cookies:
        if name.startswith(LOADING_COOKIE):
            manager.browser_seen(name[len(LOADING_COOKIE):])
