"""The database under the store: engine, write queue, transactions and schema."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy timeout alone queues the writers
    fcntl = None
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from hwb_toolkit.errors import StoreError
from hwb_toolkit.store.rows import _dumps, _now
from hwb_toolkit.store.tables import (
    _MIGRATIONS,
    DEFAULT_FILE,
    SCHEMA_VERSION,
    _chunks,
    history_table,
    metadata,
    schema_version_table,
)

_WRITE_ATTEMPTS = 5


def _resolve_url(url_or_path: str | os.PathLike) -> tuple[str, Path | None]:
    """A SQLAlchemy URL and, for a SQLite file, its path (a folder means its store.sqlite)."""
    if isinstance(url_or_path, os.PathLike) or "://" not in str(url_or_path):
        path = Path(url_or_path)
        if path.is_dir():
            path = path / DEFAULT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}", path
    url = str(url_or_path)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        return url, path
    return url, None


class _WriterQueue:
    """Hands the SQLite write lock from one writer to the next without SQLite's long naps.

    SQLite's busy handler polls a locked database with sleeps growing to 100 ms,
    so with several writers the lock sits idle between transactions and a
    writer that just committed tends to win again. Writers of a store file
    therefore first take an exclusive ``flock`` on ``<store>.lock`` (polled
    every 0.5-5 ms, and a thread lock within a process), then ``BEGIN
    IMMEDIATE``. The kernel releases the flock when a process dies, so a
    killed writer never blocks the others. Without ``fcntl`` (Windows) or for
    server databases this is a no-op and the busy timeout alone applies.
    """

    def __init__(self, database: Path | None, timeout: float, *, file: Path | None) -> None:
        self._lock_path = None if database is None or fcntl is None else Path(f"{database}.lock")
        self._timeout = timeout
        self._file = file
        self._thread_lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self._lock_path is None:
            yield
            return
        deadline = time.monotonic() + self._timeout
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreError(f"the store is busy: another writer held it for more than "
                             f"{self._timeout:g} s; try again", file=self._file)
        # Opened per turn (a few microseconds): no descriptor outlives the
        # transaction, none is shared with a forked child.
        descriptor = None
        try:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            pause = 0.0005
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"the store is busy: another writer held it for more "
                                         f"than {self._timeout:g} s; try again",
                                         file=self._file) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.005)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            if descriptor is not None:
                os.close(descriptor)
            self._thread_lock.release()


def _switch_to_wal(cursor, timeout: float) -> None:
    """Put the file in WAL mode (a no-op once it is). Switching a rollback-journal file
    (one made by another tool, or before WAL was used) needs an exclusive lock; when
    another connection is mid-transaction SQLite answers "locked" at once instead of
    calling the busy handler (deadlock avoidance), so wait here, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class Database:
    """The connection to the store's database (see :class:`hwb_toolkit.store.Store`)."""

    def __init__(self, url_or_path: str | os.PathLike = DEFAULT_FILE, *,
                 busy_timeout: float = 30.0, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise StoreError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.url, self.path = _resolve_url(url_or_path)
        self.busy_timeout = float(busy_timeout)
        self.synchronous = synchronous
        self._engine = self._create_engine()
        # Writers share the pool but start with BEGIN IMMEDIATE on SQLite (see "begin" below).
        self._writer = self._engine.execution_options(hwb_write=True)
        self._queue = _WriterQueue(self.path, self.busy_timeout, file=self.path)
        self._ensure_schema()

    # .. engine ...................................................................
    def _create_engine(self) -> Engine:
        url = sa.make_url(self.url)
        if url.get_backend_name() != "sqlite":
            return sa.create_engine(self.url, pool_pre_ping=True)
        if self.path is None:  # in-memory: one shared connection, no WAL
            engine = sa.create_engine(self.url, poolclass=sa.pool.StaticPool,
                                      connect_args={"check_same_thread": False})
        else:
            engine = sa.create_engine(self.url, connect_args={"timeout": self.busy_timeout})
        busy_ms = int(self.busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
            # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
            # transaction handling would start deferred transactions and commit before DDL).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")  # first: WAL switch may wait
            _switch_to_wal(cursor, self.busy_timeout)
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA synchronous = {self.synchronous}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # noqa: ANN001
            immediate = connection.get_execution_options().get("hwb_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for inspection and tests; write through the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # .. transactions ..............................................................
    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one write transaction; retry unique-key races; explain lock timeouts."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._queue.turn(), self._writer.begin() as connection:
                    return work(connection)
            except IntegrityError as error:
                # Only possible where writers are not serialised (not SQLite): another
                # writer inserted the same key between our check and our insert.
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise StoreError(f"could not save after {_WRITE_ATTEMPTS} attempts: "
                                     f"{error.orig}", file=self.path) from None
            except OperationalError as error:
                message = str(error.orig).lower()
                if "locked" in message or "busy" in message:
                    raise StoreError(
                        f"the store is busy: another writer held it for more than "
                        f"{self.busy_timeout:g} s; try again", file=self.path) from None
                if "serializ" in message or "deadlock" in message:
                    continue
                raise StoreError(f"the database refused the change: {error.orig}",
                                 file=self.path) from None
        raise StoreError("could not save: the database kept reporting conflicts", file=self.path)

    def _read(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in one read snapshot."""
        try:
            with self._engine.connect() as connection:
                return work(connection)
        except OperationalError as error:
            raise StoreError(f"could not read the store: {error.orig}", file=self.path) from None

    def _ensure_schema(self) -> None:
        def installed(connection: Connection) -> int | None:
            if not sa.inspect(connection).has_table("schema_version"):
                return None
            return connection.execute(sa.select(sa.func.max(schema_version_table.c.version))).scalar()

        def create(connection: Connection) -> None:
            # Inside the write lock, so concurrent first openings create the tables once.
            metadata.create_all(connection, checkfirst=True)
            if connection.execute(sa.select(sa.func.count()).select_from(schema_version_table)).scalar() == 0:
                connection.execute(schema_version_table.insert().values(
                    version=SCHEMA_VERSION, applied_at=_now()))

        def migrate(connection: Connection) -> None:
            # Read again under the write lock: another process may have migrated meanwhile.
            current = installed(connection)
            if current is None or current >= SCHEMA_VERSION:
                return
            for target in range(current + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[target](connection)
                connection.execute(schema_version_table.insert().values(
                    version=target, applied_at=_now()))

        try:
            version = self._read(installed)
            if version is None:
                self._write(create)
                version = self._read(installed)
            if version is not None and version < SCHEMA_VERSION:
                self._write(migrate)
                version = self._read(installed)
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open the store: {error}", file=self.path) from None
        if version != SCHEMA_VERSION:
            newer = version is not None and version > SCHEMA_VERSION
            raise StoreError(
                f"the store has schema version {version}, this hwb-toolkit expects "
                f"{SCHEMA_VERSION}" + ("; upgrade hwb-toolkit" if newer else ""), file=self.path)

    @staticmethod
    def _record_history(connection: Connection, entries: list[dict[str, Any]]) -> None:
        if entries:
            connection.execute(history_table.insert(), entries)

    @staticmethod
    def _history_entry(entity: str, entity_id: str, action: str, by: str | None, at: dt.datetime,
                       before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                       reason: str | None = None) -> dict[str, Any]:
        return {
            "entity": entity, "entity_id": entity_id, "action": action, "changed_by": by,
            "changed_at": at, "reason": reason, "before_json": _dumps(before),
            "after_json": _dumps(after),
        }

    @staticmethod
    def _existing(connection: Connection, table: sa.Table, key: str,
                  ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        column = table.c[key]
        for chunk in _chunks(list(ids)):
            for row in connection.execute(sa.select(table).where(column.in_(chunk))).mappings():
                found[row[key]] = dict(row)
        return found
