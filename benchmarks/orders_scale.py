"""Orders at scale, in-process: what one file costs after a long history, what a sensor
tick costs with 100,000 objects, and the peak memory of a run on a 500 MB file.

Every figure runs the project's own code (the orders step through ``materialize``, the
``file_sensor`` function) against a real PostgreSQL (a throwaway cluster,
tooling/postgres.py) and a real S3 API (moto's server) or the local folder store.

    python -m benchmarks --only scale
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from dagster import DagsterInstance, RunConfig, build_sensor_context, materialize

from tooling.postgres import throwaway_postgres
from dagster_platform.environment import pipeline_resources
from orders_and_sales.defs.orders.assets import ORDERS_ASSETS, RawOrdersConfig
from orders_and_sales.defs.orders.ledger import VALID_SCHEMA, FileRows, OrdersLedger
from orders_and_sales.defs.orders.tables import files_table
from orders_and_sales.defs.orders.automation import build_file_sensor
from orders_and_sales.defs.orders.storage import INCOMING_PREFIX
from dagster_platform.resources import LocalObjectStore, WarehouseResource
from orders_and_sales.sample_data import generate_orders_csv

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def log(message: str) -> None:
    print(f"[scale] {message}", flush=True)


def fresh_database(server: dict, name: str) -> WarehouseResource:
    admin = sa.create_engine(sa.URL.create("postgresql+psycopg2", **server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return WarehouseResource(**{**server, "database": name})


def ingest_seconds(store: LocalObjectStore, db: WarehouseResource, keys: list[str], instance) -> list[float]:
    """Wall time of one orders run per key (the step as a run executes it)."""
    times = []
    for key in keys:
        started = time.perf_counter()
        materialize(
            ORDERS_ASSETS,
            instance=instance,
            resources=pipeline_resources(store, orders_db=db),
            run_config={**RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=[key])}).to_config_dict(), **QUIET},
        )
        times.append(time.perf_counter() - started)
    return times


def history_file(index: int, rows: int) -> FileRows:
    """One already-ingested file: fresh order ids, dates over three years."""
    rng = np.random.default_rng(index)
    first = 1_000_000_000 + index * rows
    return FileRows(
        f"{INCOMING_PREFIX}history/{index:05d}.csv",
        f"h{index}",
        rows * 30,
        T0 + dt.timedelta(minutes=index),
        pa.table(
            {
                "order_id": pa.array(np.arange(first, first + rows)).cast(pa.string()),
                "date": pa.array(np.datetime64("2022-01-01") + rng.integers(0, 1095, rows).astype("timedelta64[D]")),
                "customer_id": pa.array(rng.integers(1, 500, rows)).cast(pa.string()),
                "amount": pa.array(rng.integers(100, 50_000, rows) / 100),
                "quantity": pa.array(rng.integers(1, 10, rows)),
                "row_no": pa.array(np.arange(rows)),
            }
        ).cast(VALID_SCHEMA),
    )


def ingest_growth(server: dict, history_files: int = 2000, rows_per_file: int = 5000, samples: int = 5) -> dict:
    """The same 1,000-row files into an empty store and into one holding the history,
    alternately (so load on the machine hits both alike); medians of ``samples`` pairs."""
    with tempfile.TemporaryDirectory() as lake, DagsterInstance.ephemeral() as instance:
        store = LocalObjectStore(root=lake)
        keys = []
        for n in range(samples + 1):
            body = generate_orders_csv(1000, seed=100 + n, dirty_fraction=0.01, start=dt.date(2025, 1, 1), days=30)
            keys.append(f"{INCOMING_PREFIX}new-{n}.csv")
            store.put_bytes(keys[-1], body)
        empty_db, db = fresh_database(server, "growth_empty"), fresh_database(server, "growth_history")
        ledger = OrdersLedger(db)
        started = time.perf_counter()
        for first in range(0, history_files, 100):
            ledger.commit(
                [history_file(i, rows_per_file) for i in range(first, min(first + 100, history_files))], "history"
            )
        loaded_s = time.perf_counter() - started
        with ledger.locked() as conn:
            files, rows = ledger.loaded_counts(conn)
        log(f"history: {files} files, {rows:,} rows loaded in {loaded_s:.0f}s")
        ingest_seconds(store, empty_db, keys[:1], instance)  # warms imports and caches
        ingest_seconds(store, db, keys[:1], instance)
        empty, after = [], []
        for key in keys[1:]:
            empty += ingest_seconds(store, empty_db, [key], instance)
            after += ingest_seconds(store, db, [key], instance)
    figures = {
        "history_files": files,
        "history_rows": rows,
        "empty_s": statistics.median(empty),
        "after_history_s": statistics.median(after),
        "history_load_s": round(loaded_s, 1),
    }
    figures["ratio"] = figures["after_history_s"] / figures["empty_s"]
    log(
        f"1,000-row file: {figures['empty_s']:.3f}s on an empty store, {figures['after_history_s']:.3f}s after "
        f"{rows:,} rows ({figures['ratio']:.2f}x)"
    )
    return figures


def sensor_tick(server: dict, objects: int = 100_000, ticks: int = 10) -> dict:
    """p50 of file_sensor ticks over a prefix of ``objects`` objects, all of them loaded."""
    from dagster_aws.s3 import S3Resource
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    import boto3

    from dagster_platform.resources import S3ObjectStore

    server_s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server_s3.start()
    host, port = server_s3.get_host_and_port()
    credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=f"http://{host}:{port}", **credentials).create_bucket(Bucket="bench-lake")
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    keys = [f"{INCOMING_PREFIX}{i:07d}.csv" for i in range(objects)]
    for key in keys:
        backend.put_object("bench-lake", key, b"x")
    store = S3ObjectStore(bucket="bench-lake", s3=S3Resource(endpoint_url=f"http://{host}:{port}", **credentials))
    db = fresh_database(server, "sensor_tick")
    ledger = OrdersLedger(db)
    ledger.commit([], "setup")
    now = dt.datetime(2024, 1, 1)
    with db.connect() as conn, conn.begin():
        conn.execute(
            files_table.insert(),
            [
                {
                    "key": o.key,
                    "etag": o.etag,
                    "last_modified": now,
                    "size": o.size,
                    "row_count": 1,
                    "run_id": "setup",
                    "ingested_at": now,
                }
                for o in store.list_objects(INCOMING_PREFIX)
            ],
        )
    times, cursor, file_sensor = [], None, build_file_sensor()
    try:
        with DagsterInstance.ephemeral() as instance:
            for _ in range(ticks):
                started = time.perf_counter()
                with build_sensor_context(
                    cursor=cursor, instance=instance, resources=pipeline_resources(store, orders_db=db)
                ) as context:
                    result = file_sensor(context)
                times.append(time.perf_counter() - started)
                assert not result.run_requests, "every object is loaded: nothing to request"
                cursor = result.cursor
    finally:
        server_s3.stop()
    figures = {"objects": objects, "p50": statistics.median(times), "max": max(times)}
    log(f"sensor tick over {objects:,} objects: p50 {figures['p50']:.2f}s, max {figures['max']:.2f}s")
    return figures


PEAK_SCRIPT = """
import resource, sys
from dagster import RunConfig, materialize
from orders_and_sales.defs.orders.assets import ORDERS_ASSETS, RawOrdersConfig
from dagster_platform.resources import LocalObjectStore, WarehouseResource
from dagster_platform.environment import pipeline_resources
store = LocalObjectStore(root=sys.argv[1])
db = WarehouseResource(host="127.0.0.1", port=int(sys.argv[2]), username="postgres", database=sys.argv[3])
result = materialize(ORDERS_ASSETS, resources=pipeline_resources(store, orders_db=db),
                     run_config=RunConfig(ops={"raw_orders": RawOrdersConfig(object_keys=[sys.argv[4]])}))
assert result.success
# VmHWM: this process's own peak RSS (getrusage would count the parent's pages copied at fork)
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_memory(server: dict, csv_mb: int = 500) -> dict:
    """Peak RSS of a process that runs the orders step on one ``csv_mb`` MB file (Dagster's
    own imports included: about 200 MiB of it)."""
    rows = int(csv_mb * 2**20 / 31.5)  # generated rows average ~31.5 bytes
    with tempfile.TemporaryDirectory() as lake:
        key = f"{INCOMING_PREFIX}big.csv"
        path = Path(lake) / key
        path.parent.mkdir(parents=True)
        path.write_bytes(generate_orders_csv(rows, seed=5))
        size_mib = path.stat().st_size / 2**20
        db = fresh_database(server, "peak_memory")
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", PEAK_SCRIPT, lake, str(server["port"]), db.database, key],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"},
        )
        seconds = time.perf_counter() - started
    peak_mib = int(child.stdout.strip().splitlines()[-1]) / 1024  # kB
    figures = {
        "csv_mb": round(size_mib),
        "rows": rows,
        "peak_mib": round(peak_mib),
        "ratio": peak_mib / size_mib,
        "seconds": seconds,
    }
    log(
        f"{size_mib:.0f} MiB CSV ({rows:,} rows): peak RSS {peak_mib:.0f} MiB ({figures['ratio']:.2f}x), {seconds:.0f}s"
    )
    return figures


def run() -> dict:
    with throwaway_postgres() as server:
        return {
            "sensor_tick_s": sensor_tick(server),
            "ingest_growth": ingest_growth(server),
            "peak_memory": peak_memory(server),
        }


if __name__ == "__main__":
    print(run())
