"""The Parquet cache beside a Fingertips export: a large CSV is parsed once and read back from
the cache while the file is unchanged (same size, time and cache version).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from hwb_toolkit.errors import InputError
from hwb_toolkit.io.fingertips.checks import _to_pandas
from hwb_toolkit.io.fingertips.columns import _CANONICAL_FIELDS
from hwb_toolkit.io.fingertips.parse import _ingest
from hwb_toolkit.io.writers import atomic_path

log = logging.getLogger("hwb_toolkit.io.fingertips")


#: Bump when the canonical output (columns, types, cleaning) or the cache format changes:
#: old caches are then ignored and rebuilt. 2: Arrow IPC instead of Parquet. 3: values
#: checked finite and inside their limits (a cache of version 2 may hold a row that is not).
CACHE_VERSION = 3


#: Schema-metadata key holding the cache key (version, kind, path, size, mtime).
_CACHE_KEY = b"hwb_cache_key"


def _read_cached(
    path: Path, kind: str, cache: bool, cache_dir: str | os.PathLike | None
) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=path)
    if not path.is_file():
        raise InputError("not a file", file=path)
    if not cache:
        return _to_pandas(_ingest(path, kind))
    cache_path = _cache_path(path, kind, cache_dir)
    key = _cache_key(path, kind)
    table = _load_cache(cache_path, key)
    if table is None:
        table = _ingest(path, kind)
        _write_cache(table, cache_path, key)
    return _to_pandas(table)


def _cached_frame(path: Path, cache_dir: str | os.PathLike | None) -> pd.DataFrame | None:
    """A valid cache of ``path`` of either kind, without reading the file (None if none)."""
    for kind in ("fingertips", "tidy"):
        table = _load_cache(_cache_path(path, kind, cache_dir), _cache_key(path, kind))
        if table is not None:
            return _to_pandas(table)
    return None


def _cache_path(path: Path, kind: str, cache_dir: str | os.PathLike | None) -> Path:
    folder = Path(cache_dir) if cache_dir is not None else path.parent / ".cache"
    digest = hashlib.sha1(f"{kind}|{path.resolve()}".encode()).hexdigest()[:12]
    return folder / f"{path.name}.{kind}.{digest}.arrow"


def _cache_key(path: Path, kind: str) -> bytes:
    stat = path.stat()
    return f"v{CACHE_VERSION}|{kind}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()


def _load_cache(cache_path: Path, key: bytes) -> pa.Table | None:
    """The cached table when it exists and matches ``key``; None when absent, stale or corrupt.

    The file is memory-mapped: the table's buffers point into the mapping, which
    lives as long as they do (closing the file does not unmap it).
    """
    if not cache_path.is_file():
        return None
    try:
        with pa.memory_map(str(cache_path)) as source:
            reader = pa.ipc.open_file(source)
            if (reader.schema.metadata or {}).get(_CACHE_KEY) != key:
                return None
            table = reader.read_all()
        # Structure only (lengths, buffer sizes, offsets' ends): cheap, unlike full validation,
        # which would read every string and cost more than the load itself.
        table.validate()
    except Exception as error:  # a corrupt cache is never fatal: rebuild it
        log.info("ignoring unreadable cache %s (%s)", cache_path, error)
        return None
    found = [(field.name, field.type) for field in table.schema][: len(_CANONICAL_FIELDS)]
    if found != _CANONICAL_FIELDS:
        return None
    return table.replace_schema_metadata(None)


def _write_cache(table: pa.Table, cache_path: Path, key: bytes) -> None:
    """Write the cache atomically; a failure (read-only folder, disk full) only costs speed."""
    table = table.replace_schema_metadata({_CACHE_KEY: key})
    try:
        with (
            atomic_path(cache_path) as temporary,
            pa.OSFile(str(temporary), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as writer,
        ):
            writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    except (OSError, pa.ArrowException) as error:
        log.info("could not write cache %s (%s)", cache_path, error)
        return
    # Caches of CACHE_VERSION 1 were Parquet files of the same name: remove the one replaced.
    with contextlib.suppress(OSError):
        cache_path.with_suffix(".parquet").unlink(missing_ok=True)
