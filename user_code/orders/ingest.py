"""One orders run's work, without Dagster: read, stage, clean and load a list of incoming
files, in batches bounded by files and bytes, and report what happened to each.

A bad file never stops the good ones: it is rejected (recorded with its reason), and
the caller fails the run naming it after the good files are loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ..io_managers import to_parquet_bytes
from ..resources import ObjectNotFound, ObjectStore, StoredObject
from .cleaning import REASON, REASONS, split_orders
from .detection import plan_batches
from .ledger import FileRows, OrdersLedger
from .storage import INCOMING_PREFIX, ROW_NO, RejectedOrdersFile, is_orders_csv, quarantine_key, read_incoming, stage

MAX_BATCH_FILES = 100
MAX_BATCH_BYTES = 256 * 2**20
LOADED_COLUMNS = ["order_id", "date", "customer_id", "amount", "quantity", ROW_NO]


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


def check_requested_keys(keys: list[str]) -> list[str]:
    """Problems with keys named in run config. Values are never echoed: run config can
    resolve environment variables (``{env: ...}``), and secrets must not reach the logs."""
    return [
        f"object_keys[{i}] is not an incoming orders file (expected {INCOMING_PREFIX}<name>.csv; "
        "the value is not shown because run config values can come from the environment)"
        for i, key in enumerate(keys) if not is_orders_csv(key)
    ]


def pending_incoming(store: ObjectStore, ledger: OrdersLedger) -> list[str]:
    """Every incoming orders file whose current version is neither loaded nor rejected (catch-up)."""
    objects = [o for o in store.list_objects(INCOMING_PREFIX) if is_orders_csv(o.key)]
    if not objects:
        return []
    loaded, rejected = ledger.known_versions(objects[0].key, objects[-1].key)
    return [o.key for o in objects if loaded.get(o.key) != o.etag and (o.key, o.etag) not in rejected]


def ingest(store: ObjectStore, ledger: OrdersLedger, keys: list[str], run_id: str, max_file_bytes: int,
           log: Callable[[str], None] = lambda message: None) -> IngestReport:
    """Ingest ``keys`` (valid orders keys), committing one bounded batch at a time."""
    report = IngestReport()
    quarantined: list[pa.Table] = []
    sizes = []
    for key in keys:
        try:
            sizes.append(store.head(key))
        except ObjectNotFound:
            report.problems.append(f"{key}: does not exist (any more) in the object store")
    for batch in plan_batches(sizes, MAX_BATCH_FILES, MAX_BATCH_BYTES):
        files = [f for f in (_read_one(store, ledger, item, run_id, max_file_bytes, report, quarantined) for item in batch) if f]
        result = ledger.commit(files, run_id)
        report.loaded.update(result.loaded)
        report.already_loaded += result.already_loaded
        report.dates_touched += result.dates_touched
        for key, rows in result.loaded.items():
            log(f"Loaded {key}: {rows} valid rows")
    if quarantined:
        target = quarantine_key(run_id)
        store.put_bytes(target, to_parquet_bytes(pa.concat_tables(quarantined, promote_options="default")))
        report.quarantine_uri = store.uri(target)
    return report


def _read_one(store: ObjectStore, ledger: OrdersLedger, item: StoredObject, run_id: str, cap: int,
              report: IngestReport, quarantined: list[pa.Table]) -> FileRows | None:
    try:
        version, raw = read_incoming(store, item.key, cap)
    except RejectedOrdersFile as exc:
        ledger.reject(exc.version.key, exc.version.etag, str(exc), run_id)
        report.problems.append(str(exc))
        return None
    except ObjectNotFound:
        report.problems.append(f"{item.key}: does not exist (any more) in the object store")
        return None
    stage(store, item.key, raw)
    report.rows_read[item.key] = raw.num_rows
    typed, dropped = split_orders(raw)
    del raw
    if dropped.num_rows:
        quarantined.append(dropped)
        for reason, count in zip(*pc.value_counts(dropped[REASON]).flatten()):
            report.drop_counts[reason.as_py()] += count.as_py()
    return FileRows(version.key, version.etag, version.size, version.last_modified, typed.select(LOADED_COLUMNS))
