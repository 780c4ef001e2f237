"""The shared store under load: concurrent writer processes against one SQLite file.

Runs, in one go and on the same machine:

1. a single-writer baseline: one process writes the same W x N contributions
   and W x N votes alone, in the same batches;
2. the load: W processes (default 8) each write N contributions and N votes at
   the same time, in batches of B rows (one transaction per batch), released
   together by a barrier.

Prints rows per second overall and per writer for both, their ratio, and
checks that every row is present exactly once (count and set equality of
ids). Exits non-zero if any row was lost or duplicated, or a writer failed.

    .venv/bin/python bench/bench_store.py [--writers 8] [--rows 500] [--batch 25]
                                          [--synchronous FULL|NORMAL]

Time counts from the barrier (processes started, frames built) to the last
commit. The disk's fsync dominates with ``synchronous=FULL`` (the store's
default), so figures vary from run to run on a shared virtual disk.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from hwb_toolkit.store import Store


def contributions(writer: int, start: int, size: int) -> pd.DataFrame:
    numbers = range(start, start + size)
    return pd.DataFrame({
        "contribution_id": [f"w{writer}-c{n}" for n in numbers],
        "source": "bench",
        "session": f"table-{writer}",
        "kind": "post_it",
        "text": [f"post-it {n} from writer {writer}: more benches on the canal path" for n in numbers],
        "author": f"p_{writer:016x}",
        "sector": "resident",
        "created_at": pd.Timestamp("2026-09-12T10:00:00Z"),
        "theme": "walking-cycling",
    })


def votes(writer: int, start: int, size: int) -> pd.DataFrame:
    numbers = range(start, start + size)
    return pd.DataFrame({
        "source": "bench",
        "session": "plenary",
        "participant": [f"w{writer}-p{n}" for n in numbers],
        "item": [f"statement-{n % 40}" for n in numbers],
        "vote": [(-1, 0, 1)[n % 3] for n in numbers],
        "kind": "agree_disagree",
    })


def writer_process(path: str, writer: int, rows: int, batch: int, synchronous: str, barrier,
                   results) -> None:
    """Write ``rows`` contributions and ``rows`` votes in batches; report the elapsed seconds."""
    store = Store(path, synchronous=synchronous)
    # Build the frames before the clock starts: the bench measures the store, not pandas.
    batches = [(contributions(writer, s, min(batch, rows - s)), votes(writer, s, min(batch, rows - s)))
               for s in range(0, rows, batch)]
    barrier.wait(timeout=300)
    started = time.perf_counter()
    for contribution_frame, vote_frame in batches:
        store.add_contributions(contribution_frame)
        store.add_votes(vote_frame)
    results.put((writer, time.perf_counter() - started))
    store.close()


def run(path: Path, writers: list[int], rows: int, batch: int,
        synchronous: str) -> tuple[float, dict[int, float]]:
    """Start one process per writer id, release them together; return (wall s, per-writer s)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(writers) + 1)
    results = context.Queue()
    processes = [context.Process(target=writer_process,
                                 args=(str(path), w, rows, batch, synchronous, barrier, results))
                 for w in writers]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)  # every writer has started and built its frames
    started = time.perf_counter()
    elapsed = dict(results.get(timeout=600) for _ in processes)
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=60)
    failed = [w for w, p in zip(writers, processes, strict=True) if p.exitcode != 0]
    if failed:
        raise SystemExit(f"writer(s) {failed} failed")
    return wall, elapsed


def check(path: Path, writers: list[int], rows: int) -> list[str]:
    """Every row present exactly once: counts and id sets. Returns the problems found."""
    problems = []
    with Store(path) as store:
        stored_contributions = store.contributions()
        stored_votes = store.votes()
    expected_ids = {f"w{w}-c{n}" for w in writers for n in range(rows)}
    ids = stored_contributions["contribution_id"]
    if len(ids) != len(expected_ids) or set(ids) != expected_ids:
        problems.append(f"contributions: {len(ids)} rows, {len(set(ids))} distinct, "
                        f"{len(expected_ids - set(ids))} missing of {len(expected_ids)}")
    expected_ballots = {(f"w{w}-p{n}", f"statement-{n % 40}") for w in writers for n in range(rows)}
    ballots = list(zip(stored_votes["participant"], stored_votes["item"], strict=True))
    if len(ballots) != len(expected_ballots) or set(ballots) != expected_ballots:
        problems.append(f"votes: {len(ballots)} rows, {len(set(ballots))} distinct, "
                        f"{len(expected_ballots - set(ballots))} missing of {len(expected_ballots)}")
    with sqlite3.connect(path) as raw:
        integrity = raw.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rows", type=int, default=500, help="contributions (and votes) per writer")
    parser.add_argument("--batch", type=int, default=25, help="rows per transaction")
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL",
                        help="SQLite synchronous setting (the store's default is FULL)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="hwb-bench-store-") as folder:
        baseline_path = Path(folder) / "baseline.sqlite"
        load_path = Path(folder) / "load.sqlite"
        for path in (baseline_path, load_path):
            Store(path).close()

        total_rows = args.writers * args.rows
        base_wall, _ = run(baseline_path, [0], total_rows, args.batch, args.synchronous)
        load_wall, per_writer = run(load_path, list(range(args.writers)), args.rows, args.batch,
                                    args.synchronous)

        rows_each = 2 * args.rows  # contributions + votes
        base_rate = 2 * total_rows / base_wall
        load_rate = rows_each * args.writers / load_wall
        print(f"store bench: {args.writers} writers x {args.rows} contributions + {args.rows} votes, "
              f"{args.batch} rows per transaction, SQLite WAL, synchronous={args.synchronous} "
              f"(sqlite {sqlite3.sqlite_version})")
        print(f"  single writer : {2 * total_rows:6d} rows in {base_wall:6.2f} s = "
              f"{base_rate:8.0f} rows/s (same rows, one process)")
        print(f"  {args.writers} writers     : {rows_each * args.writers:6d} rows in {load_wall:6.2f} s "
              f"= {load_rate:8.0f} rows/s overall")
        for writer, seconds in sorted(per_writer.items()):
            print(f"    writer {writer}: {rows_each / seconds:8.0f} rows/s ({seconds:.2f} s)")
        print(f"  ratio overall/single: {load_rate / base_rate:.2f}x")

        problems = check(baseline_path, [0], total_rows) + check(
            load_path, list(range(args.writers)), args.rows)
        if problems:
            print("  LOST OR DUPLICATED ROWS:", *problems, sep="\n    ")
            return 1
        print(f"  check: all {4 * total_rows} rows present exactly once, integrity_check ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
