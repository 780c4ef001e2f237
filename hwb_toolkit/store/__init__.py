"""The shared store: contributions, votes, actions and workshop sessions that many partners write to.

The partner pages (workshop post-its, dots and agree/disagree, moderation, the
actions register) and the workspace all write here at once. The store is a
relational database reached through SQLAlchemy 2 Core: by default a SQLite file
in the workspace (``store.sqlite``), or any SQLAlchemy URL (for example
``postgresql+psycopg://...``) for a multi-user deployment. The SQL is portable;
only SQLite is tested.

Decisions (what a caller can rely on)
-------------------------------------
* **SQLite set-up.** Every connection sets ``busy_timeout`` (30 s by default),
  ``journal_mode=WAL`` (readers never block the writer and vice versa),
  ``foreign_keys=ON`` and ``synchronous=FULL`` (a committed post-it survives a
  power cut, not only a crashed process; ``Store(..., synchronous="NORMAL")``
  trades that for speed). Write transactions start with ``BEGIN IMMEDIATE``:
  the write lock is taken up front, so concurrent writers queue instead of
  failing with "database is locked" when a read snapshot cannot be upgraded.
  Before that, writers queue on an ``flock`` of ``<store>.lock`` polled every
  0.5-5 ms: SQLite's own busy handler naps up to 100 ms, leaving the lock idle
  and favouring the writer that just committed (measured: about 1.5x the
  throughput of 8 writers, and fairer). Reads use a plain ``BEGIN`` snapshot.
* **One call, one transaction.** Each ``add_*``/``save_action``/... call is one
  transaction: all its rows or none. A writer killed mid-transaction loses only
  its own unfinished write (SQLite discards the uncommitted WAL frames; other
  processes' commits are untouched). On databases that do not serialise writers
  (PostgreSQL), a unique-key race between two writers is retried a few times:
  the retry sees the other writer's row and treats it as already there.
* **History.** Every change writes a row to ``history`` (``entity``,
  ``entity_id``, ``action`` in insert/update/hide/unhide/approve/hold, ``by``,
  ``at`` UTC, ``reason``, ``before`` and ``after`` as JSON objects of the
  canonical row). Nothing is deleted: hiding a contribution only changes its
  status. A no-op (re-adding identical rows) writes no history.
* **Contributions** are keyed by ``contribution_id``. Re-adding the same id with
  identical content is a no-op; with different content it is a
  :class:`StoreError` naming the id and the differing columns (a contribution
  is what someone said: the store never rewrites it silently). The same id
  twice in one frame is kept once if identical, else an :class:`InputError`
  naming both rows. ``created_at`` is stored as given (NaT stays NaT), so that
  re-adding a frame stays a no-op. Text is kept verbatim (markup included:
  pages must escape it); other cells lose surrounding spaces.
* **Moderation.** A contribution's status is ``visible``, ``pending`` (awaiting
  a facilitator) or ``hidden``. ``add_contributions(screen=...)`` holds the rows
  the screening function flags as pending. :meth:`Store.contributions` returns
  visible rows unless asked for more. A status already in the store is never
  changed by re-adding or importing a row: only :meth:`Store.set_contribution_status`
  (history action hide/unhide/approve/hold) changes it.
* **Votes: one current vote per ballot.** A ballot is (``kind``, ``source``,
  ``session``, ``participant``, ``item``); its ``vote_id`` is a SHA-256 of that
  key, the table's unique key, so concurrent writers can never duplicate a
  ballot. A new vote on an existing ballot replaces the stored one (history
  ``update`` with before/after) unless it is older than the stored vote (both
  ``created_at`` known): then it is counted as ``stale`` and not applied. The
  same value again is a no-op (the first ``created_at`` is kept).
* **Dots.** The stored dot vote is the participant's current number of dots on
  the item (the canonical "dots given"). ``add_votes`` *sets* that number, so
  importing the same file twice does not double anyone's dots; rows of one
  frame with the same ballot are summed first (paper dots are often typed up
  one row per dot). A live workshop places and removes dots one at a time with
  :meth:`Store.place_dot` / :meth:`Store.remove_dot`, which change the count by
  one inside a write transaction and enforce the session's ``dots_per_person``
  (the participant's budget) and ``max_dots_per_item`` (the most dots one
  participant may put on one item; None = no limit), so two tabs of one person
  clicking at once can never exceed either. ``add_votes`` (imports of paper
  dots) does not apply the per-item cap: tallies apply it (``tally(cap=...)``).
  Other kinds with the same ballot twice in one frame are an :class:`InputError`
  naming both rows (which one counts is ambiguous).
* **Actions** are keyed by ``action_id``. :meth:`Store.new_action` adds an
  action under the next free id (``A001``, ``A002``, ...: one more than the
  largest in use), chosen *inside* its write transaction: SQLite writers are
  serialised, so two partners adding actions at the same moment always get
  two ids; on a database that does not serialise writers the unique key makes
  the second insert fail and the whole transaction is retried with a fresh
  id. A page must never compute "max + 1" itself from the register it read:
  saving under an id someone else has just taken would update their action.
  :meth:`Store.save_action` inserts or
  updates (history with before/after); it stamps ``updated_at`` (UTC, strictly
  increasing per action) and ``updated_by``. ``expected_updated_at`` gives
  optimistic concurrency: the save fails with :class:`StoreError` if someone
  saved the action since the caller read it. List columns are stored as JSON
  text and returned as Python lists of str; in CSV they are ";"-joined, so a
  list item may not contain ";".
* **Sessions** (live workshops): id, name, themes, statements (contribution ids
  of kind ``statement`` created with the session), ``dots_per_person``,
  ``max_dots_per_item`` (None = no limit), ``created_at``, ``created_by``, ``open``. Contributions and votes made in a
  session carry ``session`` = the session id and ``source`` = its name. A closed
  session refuses new contributions, votes and dots, checked inside the write
  transaction (:meth:`Store.import_csv` still restores an exported closed session whole).
* **Schema versions.** ``schema_version`` holds one row per version applied.
  Opening a store made by an older hwb-toolkit upgrades it in place, inside
  the write lock (so concurrent openers migrate once), adding what is missing:
  version 2 added ``sessions.max_dots_per_item`` (NULL, no limit, for the
  sessions already there). A store from a newer hwb-toolkit is refused.
* **CSV.** :meth:`Store.export_csv` writes contributions.csv (canonical columns
  plus ``status``), votes.csv, actions.csv, sessions.csv and history.csv from
  one consistent snapshot, each file replaced atomically. :meth:`Store.import_csv`
  reads whichever of them are present in one transaction, through the normal
  write paths (so importing twice is a no-op). Imported actions keep their
  ``updated_at``/``updated_by``; an action is only replaced by a *newer* one.
  history.csv rows are appended as they were (rows already present are skipped)
  and the import's own changes are recorded too, with reason "import from ...".
* ``by`` (who made the change) defaults to the row's ``author`` for
  contributions and ``participant`` for votes.
* **In memory** frames use pandas' default ``str`` dtype for text (missing =
  NaN), ``datetime64[us, UTC]`` for timestamps, float64 ``vote``; actions'
  ``start``/``end`` are ``datetime64[us]`` dates at midnight, list columns
  Python lists, as :func:`hwb_toolkit.system.actions.read_actions` returns.
  In the database every timestamp is naive UTC to the microsecond.
* Row numbers in errors about a DataFrame count like a spreadsheet (first data
  row = row 2), which matches the file the frame was read from with
  :func:`hwb_toolkit.io.tabular.read_table`. Columns beyond the canonical ones
  are ignored.
"""

from hwb_toolkit.store.actions import next_action_id
from hwb_toolkit.store.rows import WriteSummary
from hwb_toolkit.store.store import Store
from hwb_toolkit.store.tables import (
    CONTRIBUTION_STATUSES,
    DEFAULT_FILE,
    HISTORY_COLUMNS,
    SCHEMA_VERSION,
    SESSION_COLUMNS,
)

__all__ = [
    "Store",
    "next_action_id",
    "WriteSummary",
    "CONTRIBUTION_STATUSES",
    "HISTORY_COLUMNS",
    "SESSION_COLUMNS",
    "SCHEMA_VERSION",
    "DEFAULT_FILE",
]
