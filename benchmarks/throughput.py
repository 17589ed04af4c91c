"""Orders throughput: raw CSV -> cleaned -> per-date summary, three ways on the same file.

* ``seed``: the seed project's pandas code path: ``pd.read_csv`` with the default
  engine, numeric coercion, ``dropna`` and ``groupby().agg``.
* ``project``: this project's own compute functions, the ones the orders step runs
  (parse, clean, summarise), without storage.
* ``floor``: ``pyarrow.csv.read_csv`` of the same file, multithreaded: parsing alone.
  No path that reads the CSV can beat it; the project's compute path is reported as a
  multiple of it.
* ``pipeline``: the orders step itself (``materialize``), with the CSV in a
  ``LocalObjectStore`` and the orders store in a real Postgres (a throwaway cluster):
  staging, quarantine, the SQL load with its summary delta, the summary snapshot.
* ``seed_io``: the seed's pandas code with the same I/O as ``pipeline``: the CSV read
  from the store, the cleaned rows written to the same Postgres with pandas' ``to_sql``,
  the summary to the store as Parquet.

When MinIO answers on :9000 (the compose stack is up), seed and project also run with
the CSV read from and Parquet (cleaned orders and summary) written to MinIO, with the
pipelines' credentials from ``.env`` (or ``.env.example``).

Each path but the floor returns the summary frame, and the benchmark checks they all
agree before it reports a number, so a fast but wrong path cannot win.
"""

from __future__ import annotations

import io
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from dagster import DagsterInstance, materialize
from dagster_aws.s3 import S3Resource

from tooling.stack import Stack
from tooling.postgres import throwaway_postgres
from dagster_platform.io_managers import from_parquet_bytes, to_parquet_bytes
from orders_and_sales.defs.orders.assets import ORDERS_ASSETS
from orders_and_sales.defs.orders.logic import (
    clean_orders,
    last_of_each,
    read_orders_csv,
    split_orders,
    stream_orders_csv,
    summarize_orders,
)
from orders_and_sales.defs.orders.ingest import BLOCK_BYTES
from orders_and_sales.defs.orders.tables import metadata as ledger_metadata
from orders_and_sales.defs.orders.storage import INCOMING_PREFIX, SUMMARY_KEY
from dagster_platform.resources import LocalObjectStore, ObjectStore, S3ObjectStore, WarehouseResource
from orders_and_sales.sample_data import generate_orders_csv
from dagster_platform.environment import pipeline_resources


def seed_clean(csv: Path | io.BytesIO) -> pd.DataFrame:
    frame = pd.read_csv(csv)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    frame = frame.dropna(subset=["order_id", "date", "amount", "quantity"])
    return frame.drop_duplicates("order_id", keep="last")


def seed_summarize(frame: pd.DataFrame) -> pd.DataFrame:
    summary = frame.groupby("date").agg(
        total_amount=("amount", "sum"), total_quantity=("quantity", "sum"), order_count=("order_id", "count")
    )
    return summary.reset_index()


def seed_path(csv: Path) -> pd.DataFrame:
    return seed_summarize(seed_clean(csv))


def floor_path(csv: Path) -> None:
    """Parsing alone: pyarrow's multithreaded CSV reader, every column type inferred."""
    pacsv.read_csv(csv)


def canonical(summary: pd.DataFrame) -> pd.DataFrame:
    """Summaries from any path, in one comparable shape."""
    out = summary[["date", "total_amount", "total_quantity", "order_count"]].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out["total_amount"] = out["total_amount"].astype(float).round(2)
    out[["total_quantity", "order_count"]] = out[["total_quantity", "order_count"]].astype("int64")
    return out.sort_values("date").reset_index(drop=True)


WARM_UP = ("seed", "project", "floor")


def time_paths(
    paths: Mapping[str, Callable[[], pd.DataFrame | None]], repeats: int
) -> tuple[dict[str, float], dict[str, pd.DataFrame | None]]:
    """Each path's median wall time over ``repeats`` runs, and its last result. The paths take
    turns, one run each per round, so a slow spell of a shared machine falls on all of them
    rather than on one path's runs (ratios between paths moved by up to 30 % otherwise).
    The in-memory paths (:data:`WARM_UP`) first run once untimed: a process's first run of
    them took up to twice as long as the next, growing its heap page by page."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    results: dict[str, pd.DataFrame | None] = {name: paths[name]() for name in WARM_UP if name in paths}
    for _ in range(repeats):
        for name, path in paths.items():
            start = time.perf_counter()
            results[name] = path()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(runs)) for name, runs in times.items()}, results


def write_csv(rows: int, folder: Path) -> Path:
    path = folder / f"orders_{rows}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_orders_csv(rows))
    return path


def project_path(csv: Path) -> pd.DataFrame:
    """What the orders step computes, minus storage: the file read block by block
    (``stream_orders_csv``), each block cleaned (``split_orders``), duplicates across
    blocks resolved (the load does that in SQL, for files of more than one block only), and
    the per-date summary (the load's delta, here an Arrow group-by)."""
    blocks = [split_orders(block)[0] for block in stream_orders_csv(csv, csv.name, BLOCK_BYTES)]
    typed = pa.concat_tables(blocks)
    if len(blocks) > 1:
        keep = last_of_each(typed["order_id"], np.arange(typed.num_rows))
        if len(keep) < typed.num_rows:
            typed = typed.take(keep)
    return summarize_orders(typed)


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def pipeline_path(
    store: ObjectStore, key: str, orders_db: WarehouseResource, instance: DagsterInstance
) -> pd.DataFrame:
    """A run of the orders step ingesting ``key`` into an empty orders store."""
    reset_orders_store(orders_db)
    materialize(
        ORDERS_ASSETS,
        instance=instance,
        resources=pipeline_resources(store, orders_db=orders_db),
        run_config={"ops": {"raw_orders": {"config": {"object_keys": [key]}}}, **QUIET},
    )
    return from_parquet_bytes(store.get_bytes(SUMMARY_KEY))


def seed_io_path(store: ObjectStore, key: str, orders_db: WarehouseResource) -> pd.DataFrame:
    """The seed's pandas code, reading and writing where the pipeline does."""
    cleaned = seed_clean(io.BytesIO(store.get_bytes(key)))
    with orders_db.get_engine().begin() as conn:
        cleaned.to_sql("seed_cleaned_orders", conn, if_exists="replace", index=False, chunksize=50_000)
    summary = seed_summarize(cleaned)
    store.put_bytes("benchmarks/seed_summary.parquet", summary.to_parquet())
    return summary


def reset_orders_store(orders_db: WarehouseResource) -> None:
    with orders_db.get_engine().begin() as conn:
        ledger_metadata.drop_all(conn)


PATHS = {"seed": seed_path, "project": project_path, "floor": floor_path}
DATA_DIR = Path(__file__).parent / "data"


def check_agree(summaries: Mapping[str, pd.DataFrame | None], csv: Path) -> None:
    seed = summaries["seed"]
    assert seed is not None
    reference = canonical(seed)
    for name, summary in summaries.items():
        if summary is None:  # the floor only parses
            continue
        if not canonical(summary).equals(reference):
            raise AssertionError(f"the {name} path's summary differs from the seed's on {csv}")


def measure_size(rows: int, repeats: int, instance: DagsterInstance, orders_db: WarehouseResource) -> dict:
    csv = write_csv(rows, DATA_DIR)
    paths = {name: partial(path, csv) for name, path in PATHS.items()}
    with tempfile.TemporaryDirectory() as lake:
        store = LocalObjectStore(root=lake)
        key = INCOMING_PREFIX + csv.name
        store.put_bytes(key, csv.read_bytes())
        paths["pipeline"] = partial(pipeline_path, store, key, orders_db, instance)
        paths["seed_io"] = partial(seed_io_path, store, key, orders_db)
        seconds, summaries = time_paths(paths, repeats)
    check_agree(summaries, csv)
    figures = {"rows": rows, **{f"{name}_rows_per_s": rows / s for name, s in seconds.items()}}
    figures["project_vs_floor"] = seconds["project"] / seconds["floor"]  # times the parse floor's time
    figures["pipeline_vs_floor"] = seconds["pipeline"] / seconds["floor"]
    figures["pipeline_vs_seed_io"] = seconds["seed_io"] / seconds["pipeline"]
    print(
        f"orders {rows:>10,} rows: "
        + ", ".join(f"{n} {rows / s:>12,.0f} rows/s" for n, s in seconds.items())
        + f"  project/seed {seconds['seed'] / seconds['project']:.2f}×, project {figures['project_vs_floor']:.2f}× "
        f"the floor's time, pipeline {figures['pipeline_vs_floor']:.2f}× the floor's time, "
        f"pipeline/seed_io {figures['pipeline_vs_seed_io']:.2f}×"
    )
    return figures


MINIO = "http://127.0.0.1:9000"
MINIO_PREFIX = "benchmarks/orders/"  # not incoming/: the stack's file_sensor must not ingest it
MINIO_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET")


def seed_minio(client, bucket: str, key: str) -> pd.DataFrame:
    """boto3 get -> the seed's pandas -> pandas' to_parquet put (cleaned orders and summary)."""
    cleaned = seed_clean(io.BytesIO(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
    summary = seed_summarize(cleaned)
    for name, frame in (("cleaned", cleaned), ("summary", summary)):
        client.put_object(Bucket=bucket, Key=f"{MINIO_PREFIX}seed/{name}.parquet", Body=frame.to_parquet())
    return summary


def project_minio(store: S3ObjectStore, key: str) -> pd.DataFrame:
    """S3ObjectStore get -> read/clean/summarize -> the IO manager's Parquet put (cleaned orders and summary)."""
    cleaned = clean_orders(read_orders_csv(store.get_bytes(key), name=key)).cleaned
    summary = summarize_orders(cleaned)
    for name, frame in (("cleaned", cleaned), ("summary", summary)):
        store.put_bytes(f"{MINIO_PREFIX}project/{name}.parquet", to_parquet_bytes(frame))
    return summary


def measure_minio(rows: int, repeats: int) -> dict | None:
    """Seed vs project with the object store in MinIO; None (and why, printed) when MinIO is not up."""
    try:
        urllib.request.urlopen(f"{MINIO}/minio/health/live", timeout=2).close()
    except OSError as exc:
        print(f"orders via MinIO: skipped, MinIO does not answer at {MINIO} ({exc}); `make up` first")
        return None
    stack = Stack.from_env()
    missing = [name for name in MINIO_CREDENTIALS if not stack.env.get(name)]
    if missing:
        print(f"orders via MinIO: skipped, .env / .env.example lacks {', '.join(missing)}")
        return None
    env, client = stack.env, stack.s3()
    store = S3ObjectStore(
        bucket=env["S3_BUCKET"],
        s3=S3Resource(
            endpoint_url=MINIO,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env.get("AWS_REGION") or "us-east-1",
        ),
    )
    csv = write_csv(rows, DATA_DIR)
    key = MINIO_PREFIX + csv.name
    store.put_bytes(key, csv.read_bytes())
    try:
        seconds, summaries = time_paths(
            {"seed": partial(seed_minio, client, store.bucket, key), "project": partial(project_minio, store, key)},
            repeats,
        )
    finally:
        for item in list(store.list_objects(MINIO_PREFIX)):
            client.delete_object(Bucket=store.bucket, Key=item.key)
    check_agree(summaries, csv)
    print(
        f"orders {rows:>10,} rows via MinIO: "
        + ", ".join(f"{n} {rows / s:>12,.0f} rows/s" for n, s in seconds.items())
        + f"  project/seed {seconds['seed'] / seconds['project']:.2f}×"
    )
    return {"rows": rows, **{f"{name}_rows_per_s": rows / s for name, s in seconds.items()}}


def run(sizes: list[int], repeats: int) -> dict:
    """Every size; the headline figures are those of the largest."""
    with DagsterInstance.ephemeral() as instance, throwaway_postgres() as server:
        orders_db = WarehouseResource(**server)
        by_size = [measure_size(rows, repeats, instance, orders_db) for rows in sorted(sizes)]
    figures = {**by_size[-1], "by_size": by_size}
    minio = measure_minio(by_size[-1]["rows"], repeats)
    return {**figures, "minio": minio} if minio else figures
