"""The store's public face: :class:`Store`, one object with every table's operations."""

from __future__ import annotations

from hwb_toolkit.store.actions import ActionsMixin
from hwb_toolkit.store.contributions import ContributionsMixin
from hwb_toolkit.store.engine import Database
from hwb_toolkit.store.history import HistoryMixin
from hwb_toolkit.store.sessions import SessionsMixin
from hwb_toolkit.store.transfer import TransferMixin
from hwb_toolkit.store.votes import VotesMixin


class Store(ContributionsMixin, VotesMixin, ActionsMixin, SessionsMixin, HistoryMixin, TransferMixin,
            Database):
    """The shared store at a SQLite file path (or workspace folder) or a SQLAlchemy URL.

    ``Store("workspace/store.sqlite")``, ``Store(Path("workspace"))`` (its
    ``store.sqlite``), ``Store("sqlite:///abs/path.sqlite")`` or
    ``Store("postgresql+psycopg://user@host/db")``. Tables are created on first
    use. ``busy_timeout`` (seconds) is how long a SQLite writer waits for
    another writer's transaction before giving up with :class:`StoreError`.
    ``synchronous`` (SQLite): "FULL" (default) flushes every commit to disk;
    "NORMAL" is several times faster on slow disks and as safe against a
    crashed or killed process, but a power cut may lose the last commits.
    Use as a context manager, or call :meth:`close`, to release connections.
    """
