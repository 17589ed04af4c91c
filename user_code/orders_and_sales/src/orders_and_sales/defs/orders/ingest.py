"""One orders run's work, without Dagster: read, stage, clean and load a list of incoming
files, in batches bounded by files and bytes, and report what happened to each.

A bad file never stops the good ones: it is rejected (recorded with its reason), and
the caller fails the run naming it after the good files are loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_platform.io_managers import to_parquet_bytes
from dagster_platform.resources import ObjectNotFound, ObjectStore, StoredObject
from .logic import (
    DUPLICATE_ORDER_ID,
    REASON,
    REASONS,
    SOURCE_FILE,
    MalformedOrdersFile,
    split_orders,
    stream_orders_csv,
)
from .detection import plan_batches
from .schema import ORDER_COLUMNS
from .ledger import VALID_SCHEMA, FileRows, OrdersLedger
from .storage import (
    INCOMING_PREFIX,
    ROW_NO,
    RejectedOrdersFile,
    download_incoming,
    is_orders_csv,
    quarantine_key,
    staging_key,
    with_provenance,
)

MAX_BATCH_FILES = 100
MAX_BATCH_BYTES = 256 * 2**20
BLOCK_BYTES = 32 * 2**20  # CSV bytes parsed at a time: a run's memory follows this, not the file
LOADED_COLUMNS = [*ORDER_COLUMNS, ROW_NO]
EMPTY_VALID = VALID_SCHEMA.empty_table()


@dataclass
class IngestReport:
    rows_read: dict[str, int] = field(default_factory=dict)
    """key -> rows in the file, for every file read."""
    loaded: dict[str, int] = field(default_factory=dict)
    """key -> valid rows loaded (replacing that key's earlier rows)."""
    already_loaded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drop_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    quarantine_uri: str | None = None
    dates_touched: int = 0
    stored_twice: int = 0
    """(file, order_id) pairs loaded more than once (see CommitResult.stored_twice)."""
    stored_twice_examples: list[str] = field(default_factory=list)


def check_requested_keys(keys: list[str]) -> list[str]:
    """Problems with keys named in run config. Values are never echoed: run config can
    resolve environment variables (``{env: ...}``), and secrets must not reach the logs."""
    return [
        f"object_keys[{i}] is not an incoming orders file (expected {INCOMING_PREFIX}<name>.csv; "
        "the value is not shown because run config values can come from the environment)"
        for i, key in enumerate(keys)
        if not is_orders_csv(key)
    ]


def pending_incoming(store: ObjectStore, ledger: OrdersLedger) -> list[str]:
    """Every incoming orders file whose current version is neither loaded nor rejected (catch-up)."""
    objects = [o for o in store.list_objects(INCOMING_PREFIX) if is_orders_csv(o.key)]
    if not objects:
        return []
    loaded, rejected = ledger.known_versions(objects[0].key, objects[-1].key)
    return [o.key for o in objects if loaded.get(o.key) != o.etag and (o.key, o.etag) not in rejected]


def ingest(
    store: ObjectStore,
    ledger: OrdersLedger,
    keys: list[str],
    run_id: str,
    max_file_bytes: int,
    log: Callable[[str], None] = lambda message: None,
) -> IngestReport:
    """Ingest ``keys`` (valid orders keys), committing one bounded batch at a time.

    Each file is streamed through in blocks of ``BLOCK_BYTES``: parsed, cleaned, and written
    to local Parquet files (its staging copy, and its valid rows for the load), so a run's
    memory follows the block size, not the file size.
    """
    report = IngestReport()
    quarantined: list[pa.Table] = []
    sizes = []
    for key in keys:
        try:
            sizes.append(store.head(key))
        except ObjectNotFound:
            report.problems.append(f"{key}: does not exist (any more) in the object store")
    with tempfile.TemporaryDirectory(prefix="orders-run-") as work:
        for batch in plan_batches(sizes, MAX_BATCH_FILES, MAX_BATCH_BYTES):
            files = [
                _read_one(store, ledger, item, run_id, max_file_bytes, report, quarantined, Path(work))
                for item in batch
            ]
            result = ledger.commit([f for f in files if f], run_id)
            report.loaded.update(result.loaded)
            report.already_loaded += result.already_loaded
            report.dates_touched += result.dates_touched
            report.stored_twice += result.stored_twice
            report.stored_twice_examples += result.stored_twice_examples
            if result.duplicates is not None and result.duplicates.num_rows:
                quarantined.append(result.duplicates)
                report.drop_counts[DUPLICATE_ORDER_ID] += result.duplicates.num_rows
            for key, rows in result.loaded.items():
                log(f"Loaded {key}: {rows} valid rows")
            for path in Path(work).iterdir():
                path.unlink()
    if quarantined:
        target = quarantine_key(run_id)
        store.put_bytes(target, to_parquet_bytes(pa.concat_tables(quarantined, promote_options="permissive")))
        report.quarantine_uri = store.uri(target)
    return report


def _read_one(
    store: ObjectStore,
    ledger: OrdersLedger,
    item: StoredObject,
    run_id: str,
    cap: int,
    report: IngestReport,
    quarantined: list[pa.Table],
    work: Path,
) -> FileRows | None:
    """Fetch, stage and clean one file; its valid rows go to a local Parquet file to load."""
    try:
        version, csv_path = download_incoming(store, item.key, cap, work)
        staged, valid = work / f"{csv_path.stem}.staged.parquet", work / f"{csv_path.stem}.valid.parquet"
        rows, blocks, dropped = 0, 0, []
        with _ParquetSink(staged) as staging, _ParquetSink(valid) as loading:
            for chunk in stream_orders_csv(csv_path, item.key, BLOCK_BYTES):
                chunk = with_provenance(chunk, item.key, rows)
                rows, blocks = rows + chunk.num_rows, blocks + 1
                staging.write(chunk)
                typed, bad = split_orders(chunk)
                loading.write(typed.select(LOADED_COLUMNS))
                if bad.num_rows:
                    dropped.append(
                        bad.set_column(
                            bad.schema.get_field_index(SOURCE_FILE), SOURCE_FILE, bad[SOURCE_FILE].cast(pa.string())
                        )
                    )
        csv_path.unlink()
    except RejectedOrdersFile as exc:
        ledger.reject(exc.version.key, exc.version.etag, str(exc), run_id)
        report.problems.append(str(exc))
        return None
    except MalformedOrdersFile as exc:
        ledger.reject(version.key, version.etag, str(exc), run_id)
        report.problems.append(str(exc))
        return None
    except ObjectNotFound:
        report.problems.append(f"{item.key}: does not exist (any more) in the object store")
        return None
    store.put_file(staging_key(item.key), staged)
    report.rows_read[item.key] = rows
    for bad in dropped:
        quarantined.append(bad)
        for reason, count in zip(*pc.value_counts(bad[REASON]).flatten()):
            report.drop_counts[reason.as_py()] += count.as_py()
    # Duplicates further apart than one block are resolved by the load (see ledger.commit).
    return FileRows(version.key, version.etag, version.size, version.last_modified, valid, blocks=blocks)


class _ParquetSink:
    """A Parquet file written a table at a time (the schema comes from the first table)."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)

    def __enter__(self) -> "_ParquetSink":
        return self

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()
        elif exc[0] is None:  # an empty file: an empty table with the loaded columns
            pq.write_table(EMPTY_VALID, self.path)
