"""The live event hub: one place in the server that reads, writes and analyses each session
and pushes every change to every open page.

Role: floor 4 (UI serving), the state behind the live participant pages. One
:class:`LiveHub` lives in the ``hwb serve`` process; each session in use has one
:class:`SessionChannel` holding what every page of that session shows (the wall, the
tallies, what is forming) and the open live streams (:class:`Subscriber`).

How the work stays proportional to the changes, not to the room:

- **The event loop never waits for the store, nor shares the interpreter with pandas.**
  Writes run one at a time on a store thread (SQLite takes one writer at a time anyway;
  a queue of one thread keeps them in arrival order without lock contention). Reading a
  session and building what the pages show runs in a helper process, and the themes and
  opinion-group analysis in another (:mod:`~hwb_toolkit.apps.live.worker`): both are
  CPU work in Python, which in a thread would hold the interpreter lock the event loop
  needs (measured at 200 participants: a read and its views took about 60 ms).
- **Read once per change, not once per participant.** A write asks its channel for a
  refresh (:meth:`SessionChannel.request_refresh`): the first request reads the session
  at once, requests that arrive meanwhile are folded into one more read after a short
  pause (:data:`REFRESH_PAUSE`). Each read is compared with the last, and only what
  changed (post-its added or removed, new tallies, the session opened or closed) is sent,
  once, as the same bytes to every stream.
- **Analyse once per change.** When the wall or the answers to statements changed, what
  is forming is recomputed in the analysis process, at most once per
  :data:`FORMING_PAUSE`, and sent only if it differs.
- **Changes made elsewhere** (the facilitator's Voila page approving, hiding or closing;
  another server) are noticed by polling the store's change counter
  (:meth:`~hwb_toolkit.store.Store.last_change`) every :data:`WATCH_SECONDS`.
- **A slow phone cannot hold the room back.** Each stream has a bounded queue; when it
  overflows, its queue is emptied and the page is sent a fresh snapshot instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

from hwb_toolkit.apps.live import worker
from hwb_toolkit.apps.live.access import live_secret
from hwb_toolkit.apps.live.limits import RateLimiter
from hwb_toolkit.errors import StoreError
from hwb_toolkit.workspace import Workspace

logger = logging.getLogger("hwb_toolkit.apps.live")

#: Seconds a channel waits after a read before reading again for changes that came
#: meanwhile (folds a burst of writes into one read and one message).
REFRESH_PAUSE = 0.2
#: Fewest seconds between two analyses of one session.
FORMING_PAUSE = 1.0
#: Seconds between two looks at the store's change counter.
WATCH_SECONDS = 1.0
#: Messages a stream may have waiting before it is sent a fresh snapshot instead.
QUEUE_LIMIT = 64
#: Put in a stream's queue: "send a fresh snapshot"; and "the connection is gone".
RESYNC = object()
CLOSED = object()


def event_message(event: str, payload: dict[str, Any]) -> bytes:
    """One server-sent event (``event:`` and one ``data:`` line of compact JSON)."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n".encode()


class Subscriber:
    """One open live stream: a bounded queue of messages for it to send."""

    def __init__(self, participant: str | None) -> None:
        self.participant = participant
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.resync_waiting = False

    def send(self, message: Any) -> None:
        """Queue ``message``; on overflow, drop what waits and ask for a snapshot instead.
        While a snapshot is due, later changes are dropped too: it will contain them."""
        if self.resync_waiting and message is not CLOSED:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.resync_waiting = message is not CLOSED
            self.queue.put_nowait(message if message is CLOSED else RESYNC)

    async def next(self, timeout: float) -> Any:
        """The next message to send (None after ``timeout`` seconds without one). Taking
        :data:`RESYNC` means the caller now builds the snapshot: changes queue again."""
        try:
            message = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        if message is RESYNC:
            self.resync_waiting = False
        return message


class SessionChannel:
    """What every page of one session shows, kept current, and the streams to push it to.

    ``row`` is the session as the store gives it (its rules: themes, statements, dots,
    open or closed); ``labels`` theme id -> title; ``session``, ``wall``, ``tallies`` and
    ``forming`` what the pages show (:mod:`~hwb_toolkit.apps.live.views`).
    """

    def __init__(self, hub: LiveHub, views: dict[str, Any]) -> None:
        self.hub = hub
        self.session_id = str(views["row"]["session_id"])
        self.row: dict[str, Any] = {}
        self.labels: dict[str, str] = {}
        self.session: dict[str, Any] = {}
        self.wall: dict[str, dict[str, Any]] = {}
        self.tallies: dict[str, Any] = {}
        self.forming: dict[str, Any] | None = None
        self.version = 0
        self.loaded_change = -1
        self.subscribers: set[Subscriber] = set()
        self._dirty = False
        self._refreshing: asyncio.Task | None = None
        self._forming_dirty = False
        self._forming_task: asyncio.Task | None = None
        self._reads_started = self._reads_applied = 0
        self._read_applied = asyncio.Condition()
        self._apply(views)

    # .. what the pages get ..................................................................
    def snapshot(self) -> dict[str, Any]:
        """Everything a page shows, for a page that has just connected."""
        return {"version": self.version, "session": self.session,
                "wall": list(self.wall.values()), "tallies": self.tallies,
                "forming": self.forming}

    def subscribe(self, participant: str | None) -> Subscriber:
        subscriber = Subscriber(participant)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Send one event to every stream of the session (encoded once)."""
        message = event_message(event, payload)
        for subscriber in list(self.subscribers):
            subscriber.send(message)

    @property
    def is_open(self) -> bool:
        return bool(self.row["open"])

    @property
    def themes(self) -> list[str]:
        return list(self.row["themes"])

    # .. keeping it current ..................................................................
    def request_refresh(self) -> None:
        """Read the session again soon (at once when idle; else once after the read under way)."""
        self._dirty = True
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def refreshed(self) -> None:
        """Return once a read that began after this call has been applied (for a page that
        must show a change it has just made, such as a form sent without JavaScript)."""
        wanted = self._reads_started + 1
        self.request_refresh()
        async with self._read_applied:
            await self._read_applied.wait_for(lambda: self._reads_applied >= wanted)

    async def _refresh_loop(self) -> None:
        while self._dirty:
            self._dirty = False
            self._reads_started += 1
            try:
                views = await self.hub.in_reader(worker.read_views, self.session_id)
            except Exception:  # noqa: BLE001 - keep the channel alive; the next change retries
                logger.exception("live: could not read session %s", self.session_id)
                self._dirty = True
                await asyncio.sleep(1.0)
                continue
            self._apply(views)
            async with self._read_applied:
                self._reads_applied = self._reads_started
                self._read_applied.notify_all()
            await asyncio.sleep(self.hub.refresh_pause)

    def _apply(self, views: dict[str, Any]) -> None:
        """Take a fresh read (:func:`~hwb_toolkit.apps.live.worker.read_views`); send what
        changed to every stream; ask for a new analysis when the wall or answers changed."""
        wall, counts = views["wall"], views["tallies"]
        changes: dict[str, Any] = {}
        if views["session"] != self.session:
            changes["session"] = views["session"]
        added = [post for key, post in wall.items() if key not in self.wall]
        removed = [key for key in self.wall if key not in wall]
        if added:
            changes["add"] = added
        if removed:
            changes["remove"] = removed
        poll_changed = counts.get("poll") != self.tallies.get("poll")
        if counts != self.tallies:
            changes["tallies"] = counts
        self.row, self.labels, self.session = views["row"], views["labels"], views["session"]
        self.wall, self.tallies = wall, counts
        self.loaded_change = max(self.loaded_change, views["change"])
        if self.version and changes:
            self.version += 1
            changes["version"] = self.version
            self.broadcast("update", changes)
        self.version = self.version or 1
        if added or removed or poll_changed:
            self.request_forming()

    def request_forming(self) -> None:
        """Work out what is forming again (at most once per :data:`FORMING_PAUSE`)."""
        self._forming_dirty = True
        if self._forming_task is None or self._forming_task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # built outside a running loop: the first refresh asks again
            self._forming_task = loop.create_task(self._forming_loop())

    async def _forming_loop(self) -> None:
        while self._forming_dirty:
            self._forming_dirty = False
            try:
                forming = await self.hub.in_analyser(worker.analyse_session, self.session_id)
            except Exception:  # noqa: BLE001 - a failed analysis must not stop the event
                logger.exception("live: analysis of session %s failed", self.session_id)
                forming = None
            if forming is not None and forming != self.forming:
                self.forming = forming
                self.broadcast("forming", {"forming": forming})
            await asyncio.sleep(self.hub.forming_pause)


class LiveHub:
    """Every live session of one workspace, in one server process.

    ``reader`` and ``analyser``: where :mod:`~hwb_toolkit.apps.live.worker`'s reads and
    analyses run (default: one helper process each, started on first use; until it is
    ready, its work runs on the store thread); tests pass thread pools. The pauses default to :data:`REFRESH_PAUSE`, :data:`FORMING_PAUSE` and
    :data:`WATCH_SECONDS`.
    """

    def __init__(self, workspace: str | Path | Workspace, *, reader: Executor | None = None,
                 analyser: Executor | None = None, refresh_pause: float = REFRESH_PAUSE,
                 forming_pause: float = FORMING_PAUSE,
                 watch_seconds: float = WATCH_SECONDS) -> None:
        self.workspace = Workspace.open(workspace)
        self.root = worker.workspace_key(self.workspace.root)
        self.secret = live_secret(self.workspace.root)
        self.store = self.workspace.store()
        self.strategy = self.workspace.strategy
        self.limiter = RateLimiter()
        self.refresh_pause = refresh_pause
        self.forming_pause = forming_pause
        self.watch_seconds = watch_seconds
        self.channels: dict[str, SessionChannel] = {}
        self.streams: dict[str, int] = {}
        self._loading: dict[str, asyncio.Future] = {}
        self._store_thread = ThreadPoolExecutor(1, thread_name_prefix="hwb-live-store")
        self._executors: dict[str, Executor | None] = {"reader": reader, "analyser": analyser}
        self._own = {name for name, executor in self._executors.items() if executor is None}
        self._warming: dict[str, Any] = {}
        self._watching: asyncio.Task | None = None

    # .. running work off the event loop ......................................................
    async def in_store(self, work: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run a call on the server's store on the store thread (one at a time, in arrival
        order: writes, and the few small reads the server makes itself)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._store_thread, partial(work, *args, **kwargs))

    async def in_reader(self, work: Callable, *args: Any) -> Any:
        """Run ``work(workspace, *args)`` (a :mod:`.worker` read) in the reader process."""
        return await self._run("reader", work, *args)

    async def in_analyser(self, work: Callable, *args: Any) -> Any:
        """Run ``work(workspace, *args)`` (a :mod:`.worker` analysis) in the analysis process."""
        return await self._run("analyser", work, *args)

    def _executor(self, name: str) -> Executor:
        """The executor for ``name``. While the reader's helper process is still starting
        (it imports pandas and scikit-learn: seconds, far more on a busy machine), reads
        run on the store thread, so the first people to open a page do not wait for it;
        an analysis, which could hold up writes there, waits for its own process."""
        executor = self._executors[name]
        if executor is None:
            executor = self._executors[name] = worker.helper_process()
            self._warming[name] = executor.submit(worker.warm, self.root)
        warming = self._warming.get(name)
        if name == "reader" and warming is not None and not warming.done():
            return self._store_thread
        return executor

    async def _run(self, name: str, work: Callable, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(name), work, self.root, *args)
        except BrokenProcessPool:
            logger.warning("live: the %s process died; starting a new one", name)
            self._executors[name] = None
            return await loop.run_in_executor(self._executor(name), work, self.root, *args)

    # .. sessions ...........................................................................
    async def channel(self, session_id: str) -> SessionChannel:
        """The session's channel, read on first use (concurrent first calls share one
        read). Raises :class:`StoreError` when there is no such session."""
        found = self.channels.get(session_id)
        if found is not None:
            return found
        loading = self._loading.get(session_id)
        if loading is None:
            loading = asyncio.ensure_future(self.in_reader(worker.read_views, session_id))
            self._loading[session_id] = loading
            loading.add_done_callback(lambda _f: self._loading.pop(session_id, None))
        views = await asyncio.shield(loading)
        found = self.channels.get(session_id)
        if found is None:
            found = self.channels[session_id] = SessionChannel(self, views)
            found.request_forming()
            self._start_watching()
        return found

    async def participant_state(self, channel: SessionChannel, participant: str) -> dict[str, Any]:
        """``participant``'s own dots, answers and waiting post-its, read fresh from the store."""
        return await self.in_reader(worker.read_participant, channel.row, participant,
                                    channel.labels)

    async def open_sessions(self) -> list[dict[str, Any]]:
        """The open sessions (id and name), oldest first."""
        sessions = await self.in_store(self.store.sessions, open_only=True)
        return [{"id": str(i), "name": str(n)} for i, n in zip(
            sessions["session_id"], sessions["name"], strict=True)]

    def _start_watching(self) -> None:
        if self._watching is None or self._watching.done():
            self._watching = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        """Refresh any channel whose session may have been changed by someone else."""
        while True:
            await asyncio.sleep(self.watch_seconds)
            try:
                change = await self.in_store(self.store.last_change)
            except StoreError:
                logger.exception("live: could not read the store's change counter")
                continue
            for channel in list(self.channels.values()):
                if change > channel.loaded_change:
                    channel.request_refresh()

    def close(self) -> None:
        """Stop watching and let the store thread and the helper processes go."""
        if self._watching is not None:
            self._watching.cancel()
        self._store_thread.shutdown(wait=False)
        for name in self._own:
            executor = self._executors[name]
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        self.store.close()
