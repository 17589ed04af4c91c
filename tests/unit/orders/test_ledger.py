"""The orders store on a real Postgres: incremental summaries equal a full recomputation,
and concurrent commits never lose each other's updates."""

import dataclasses
import datetime as dt
import threading
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from orders_and_sales.defs.orders.ledger import FileRows, OrdersLedger

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def file_rows(key: str, ids, dates, amounts, modified: dt.datetime, etag: str = "e1") -> FileRows:
    n = len(ids)
    rows = pa.table(
        {
            "order_id": pa.array([str(i) for i in ids]),
            "date": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in dates], pa.date32()),
            "customer_id": pa.array(["1"] * n),
            "amount": pa.array(amounts, pa.float64()),
            "quantity": pa.array([1] * n, pa.int64()),
            "row_no": pa.array(np.arange(n, dtype=np.int64)),
        }
    )
    return FileRows(key, etag, 100, modified, rows)


def recompute(files: dict[str, FileRows]) -> pd.DataFrame:
    """The summary from scratch: the later upload (LastModified, key, row) wins each order_id."""
    frames = []
    for f in files.values():
        frame = f.rows.to_pandas()
        frame["modified"], frame["key"] = f.last_modified, f.key
        frames.append(frame)
    rows = pd.concat(frames).sort_values(["modified", "key", "row_no"])
    winners = rows.drop_duplicates("order_id", keep="last")
    summary = (
        winners.groupby("date")
        .agg(
            total_amount=("amount", "sum"),
            total_quantity=("quantity", "sum"),
            order_count=("order_id", "count"),
        )
        .reset_index()
    )
    return summary.astype({"total_quantity": "int64", "order_count": "int64"})


def stored_summary(ledger: OrdersLedger) -> pd.DataFrame:
    with ledger.locked() as conn:
        return ledger.summary(conn)


def test_incremental_summary_equals_recomputation_over_random_uploads(orders_db):
    ledger, rng, files = OrdersLedger(orders_db), np.random.default_rng(3), {}
    for step in range(40):
        key = f"incoming/orders/{rng.integers(0, 8)}.csv"  # re-uploads are frequent
        n = int(rng.integers(0, 30))
        ids, dates = rng.integers(0, 60, n), rng.integers(0, 10, n)
        amounts = rng.integers(1, 10_000, n) / 100
        files[key] = file_rows(
            key, ids, dates, amounts, T0 + dt.timedelta(seconds=int(rng.integers(0, 50))), etag=f"e{step}"
        )
        ledger.commit([files[key]], run_id=f"run-{step}")
        pd.testing.assert_frame_equal(stored_summary(ledger), recompute(files), check_dtype=False, atol=1e-9)


def test_a_version_is_loaded_once(orders_db):
    ledger = OrdersLedger(orders_db)
    one = file_rows("incoming/orders/a.csv", [1, 2], [0, 0], [1.5, 2.5], T0)
    assert ledger.commit([one], "r1").loaded == {one.key: 2}
    again = ledger.commit([one], "r2")
    assert again.loaded == {} and again.already_loaded == [one.key]
    assert stored_summary(ledger)["order_count"].tolist() == [2]


def test_concurrent_commits_both_land(orders_db):
    """Two commits in two threads (two connections), sharing order ids and dates."""
    ledger = OrdersLedger(orders_db)
    ledger.commit([], "warm-up")
    batches = [
        [
            file_rows(
                f"incoming/orders/t{t}-{i}.csv",
                range(i * 10, i * 10 + 500),
                np.arange(500) % 7,
                np.full(500, 1.25),
                T0 + dt.timedelta(seconds=t),
            )
            for i in range(5)
        ]
        for t in range(2)
    ]
    barrier, errors = threading.Barrier(2), []

    def commit(batch, run_id):
        try:
            barrier.wait()
            OrdersLedger(orders_db).commit(batch, run_id)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(b, f"run-{i}")) for i, b in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    everything = {f.key: f for batch in batches for f in batch}
    pd.testing.assert_frame_equal(stored_summary(ledger), recompute(everything), check_dtype=False, atol=1e-9)
    with ledger.locked() as conn:
        assert ledger.loaded_counts(conn) == (10, 5_000)


def test_rejected_versions_are_known(orders_db):
    ledger = OrdersLedger(orders_db)
    ledger.reject("incoming/orders/bad.csv", "e1", "bad.csv: missing columns: amount", "r1")
    ledger.reject("incoming/orders/bad.csv", "e1", "bad.csv: missing columns: amount", "r2")  # idempotent
    loaded, rejected = ledger.known_versions("incoming/orders/", "incoming/orders/~")
    assert loaded == {} and rejected == {("incoming/orders/bad.csv", "e1")}


@pytest.mark.parametrize("amount", ["0.1", "1234567.891", "-3.5"])
def test_amounts_sum_exactly(orders_db, amount):
    ledger = OrdersLedger(orders_db)
    value = float(amount)
    ledger.commit([file_rows("incoming/orders/a.csv", range(1000), [0] * 1000, [value] * 1000, T0)], "r1")
    ledger.commit([file_rows("incoming/orders/a.csv", range(999), [0] * 999, [value] * 999, T0, etag="e2")], "r2")
    # numeric in Postgres: 1000 additions and a replacement leave no floating-point residue
    assert stored_summary(ledger)["total_amount"].tolist() == [float(Decimal(amount) * 999)]


def test_key_ranges_follow_the_listing_order_on_a_linguistic_database(en_us_orders_db):
    """S3 lists keys byte by byte ("B.csv" before "a.csv"); the sensor asks for the versions
    between the first and last key of a listing, so the store must compare keys the same way."""
    ledger = OrdersLedger(en_us_orders_db)
    upper, lower = (file_rows(f"incoming/orders/{name}.csv", [i], [0], [1.0], T0) for i, name in enumerate("Ba"))
    ledger.commit([upper, lower], "r1")
    loaded, _ = ledger.known_versions(upper.key, lower.key)
    assert loaded == {upper.key: "e1", lower.key: "e1"}


def test_a_store_from_before_byte_order_keys_is_upgraded(en_us_orders_db):
    """A store created with the database's collation gets byte-order keys on first use, rows kept."""
    engine = en_us_orders_db.get_engine()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE orders_files (key TEXT PRIMARY KEY, etag TEXT NOT NULL, last_modified TIMESTAMP NOT NULL,"
                " size BIGINT NOT NULL, row_count BIGINT NOT NULL, run_id TEXT NOT NULL, ingested_at TIMESTAMP NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TABLE orders_rows (source_key TEXT, row_no BIGINT, order_id TEXT NOT NULL, date DATE NOT NULL,"
                " customer_id TEXT, amount NUMERIC NOT NULL, quantity BIGINT NOT NULL, source_modified TIMESTAMP NOT NULL,"
                " PRIMARY KEY (source_key, row_no))"
            )
        )
        conn.execute(sa.text("CREATE INDEX ix_orders_rows_order_id ON orders_rows (order_id)"))
        conn.execute(
            sa.text("INSERT INTO orders_files VALUES (:key, 'e0', now(), 1, 0, 'old', now())"),
            [{"key": "incoming/orders/B.csv"}, {"key": "incoming/orders/a.csv"}],
        )
    ledger = OrdersLedger(en_us_orders_db)
    ledger.commit([file_rows("incoming/orders/c.csv", [1], [0], [2.5], T0)], "r1")
    loaded, _ = ledger.known_versions("incoming/orders/B.csv", "incoming/orders/c.csv")
    assert loaded == {"incoming/orders/B.csv": "e0", "incoming/orders/a.csv": "e0", "incoming/orders/c.csv": "e1"}
    assert stored_summary(ledger)["total_amount"].tolist() == [2.5]
    with engine.connect() as conn:
        collations = conn.execute(
            sa.text(
                "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns"
                " WHERE column_name IN ('key', 'source_key', 'order_id') AND table_name LIKE 'orders_%'"
            )
        ).all()
    assert sorted(collations) == [
        ("orders_files.key", "C"),
        ("orders_rejected.key", "C"),
        ("orders_rows.order_id", "C"),
        ("orders_rows.source_key", "C"),
    ]


def test_a_repeated_id_is_dropped_across_blocks_and_reported_within_one(orders_db):
    """A file cleaned in several blocks keeps the last row of an id; in a one-block file a
    repeat can only be a cleaning fault: it is stored and counted (the blocking check fails)."""
    ledger = OrdersLedger(orders_db)
    blocks = dataclasses.replace(
        file_rows("incoming/orders/big.csv", [1, 2, 1], [0, 0, 1], [1.0, 2.0, 3.0], T0), blocks=2
    )
    faulty = file_rows("incoming/orders/faulty.csv", [7, 7, 8], [0, 0, 0], [1.0, 1.0, 1.0], T0)
    result = ledger.commit([blocks, faulty], "r1")
    assert result.loaded == {blocks.key: 2, faulty.key: 3}
    assert result.duplicates is not None and result.duplicates.to_pydict()["row_no"] == [0]
    assert (result.stored_twice, result.stored_twice_examples) == (1, [f"{faulty.key}: 7"])
    assert ledger.commit([], "r2").stored_twice == 0
