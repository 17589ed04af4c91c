"""Where the orders domain keeps things in the object store (docs/CONTRACT.md), and how one
incoming file is fetched: size-capped, streamed to a local file.

Every incoming file stays where the producer put it (``incoming/orders/``); the pipeline
writes a parsed copy per key to ``staging/raw_orders/`` and the rows it drops to
``quarantine/cleaned_orders/<run id>.parquet``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa

from dagster_platform.resources import ObjectStore, StoredObject
from dagster_platform.variables import numeric_setting
from .logic import SOURCE_FILE

INCOMING_PREFIX = "incoming/orders/"
STAGING_PREFIX = "staging/raw_orders/"
QUARANTINE_PREFIX = "quarantine/cleaned_orders/"
SUMMARY_KEY = "lake/orders_summary.parquet"
PARQUET = ".parquet"
ROW_NO = "row_no"

MAX_FILE_MB_VARIABLE = "ORDERS_MAX_FILE_MB"
MIN_FILE_MB = 0.001  # about 1 KB: a cap of zero would reject every file


class RejectedOrdersFile(ValueError):
    """This version of an incoming file cannot be ingested (malformed or over the size cap);
    the message says why. It is recorded, and not retried until the content changes."""

    def __init__(self, version: StoredObject, reason: str):
        super().__init__(reason)
        self.version = version


def max_file_bytes() -> int:
    """The size cap of one incoming file (``ORDERS_MAX_FILE_MB``, default 1024 MB).

    Parsing needs about 2-3x the file size in memory, so keep the cap under a third of the
    run containers' memory limit (``mem_limit`` in dagster.yaml).
    """
    return int(numeric_setting(MAX_FILE_MB_VARIABLE, float, MIN_FILE_MB) * 1024 * 1024)


def is_orders_csv(key: str) -> bool:
    """An orders file the pipeline ingests: ``incoming/orders/*.csv``."""
    return key.startswith(INCOMING_PREFIX) and key.lower().endswith(".csv") and len(key) > len(INCOMING_PREFIX) + 4


def staging_key(object_key: str) -> str:
    """One staging object per incoming key: re-ingesting a file overwrites, never adds."""
    return f"{STAGING_PREFIX}{quote(object_key, safe='')}{PARQUET}"


def quarantine_key(run_id: str) -> str:
    return f"{QUARANTINE_PREFIX}{quote(run_id, safe='')}{PARQUET}"


def _check_size(version: StoredObject, cap: int) -> None:
    if version.size > cap:
        raise RejectedOrdersFile(
            version,
            f"{version.key}: {version.size / 2**20:.1f} MB is over the {cap / 2**20:.0f} MB cap "
            f"({MAX_FILE_MB_VARIABLE}); it stays in the bucket. Split the file, or raise the cap "
            "together with the run containers' memory limit.",
        )


def download_incoming(store: ObjectStore, key: str, cap: int, folder: Path) -> tuple[StoredObject, Path]:
    """Stream ``key`` to a file in ``folder``: the version that was read, and the file.

    Raises :class:`RejectedOrdersFile` when the object is over ``cap`` bytes (checked before
    the download and again after it, in case it was replaced meanwhile), or the store's errors.
    """
    _check_size(store.head(key), cap)
    path = folder / f"{quote(key, safe='')}.csv"
    with path.open("wb") as local:
        version = store.download(key, local)
    _check_size(version, cap)
    return version, path


def with_provenance(chunk: pa.Table, key: str, first_row: int) -> pa.Table:
    """``chunk`` plus ``source_file`` and ``row_no`` (the row's position in the file)."""
    n = chunk.num_rows
    chunk = chunk.append_column(SOURCE_FILE, constant_text(key, n))
    return chunk.append_column(ROW_NO, pa.array(np.arange(first_row, first_row + n, dtype=np.int64)))


def constant_text(value: str, n: int) -> pa.DictionaryArray:
    """``value`` n times, dictionary-encoded: 4 bytes a row instead of a copy of the text."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))
