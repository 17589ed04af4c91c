"""Deterministic sample data: the warehouse tables and orders CSV files.

The same seeded generator feeds the local mode, the Docker stack's warehouse seed,
the tests and the benchmarks, so every one of them sees the same shapes of data,
including the dirty rows the pipelines must survive.

    python -m orders_and_sales.sample_data seed-warehouse      # docker: seeds the warehouse (idempotent)
    python -m orders_and_sales.sample_data orders-csv --rows 1000000 --out orders.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from dagster_platform.variables import setting

from .defs.customers.schema import customers_table
from .defs.orders.schema import ORDER_COLUMNS
from .defs.sales.schema import products_table, sales_table

WAREHOUSE_START = dt.date(2023, 1, 1)
WAREHOUSE_END = dt.date(2023, 12, 31)

# The last id is deliberately hostile: ids are data, and data reaches SQL and object keys.
PRODUCTS = pd.DataFrame(
    [
        ("P-001", "Espresso machine", "kitchen", 249.00),
        ("P-002", "Burr grinder", "kitchen", 89.50),
        ("P-003", "Milk jug", "accessories", 12.90),
        ("P-004", "Descaler", "consumables", 7.25),
        ("P-005", "Beans 1kg", "consumables", 21.00),
        ('P-006 O\'Brien/ü "special"', "Gift box", "gifts", 45.00),
    ],
    columns=["product_id", "name", "category", "unit_price"],
)
SEGMENTS = np.array(["consumer", "small_business", "enterprise"])


def generate_customers(n: int = 500, seed: int = 7) -> pd.DataFrame:
    """Customers with the warts of real CRM data: missing and upper-case emails."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    emails = pd.Series([f"Customer{i}@Example.COM" if i % 4 == 0 else f"customer{i}@example.com" for i in ids])
    emails[rng.random(n) < 0.03] = None
    return pd.DataFrame(
        {
            "customer_id": ids,
            "email": emails,
            "segment": SEGMENTS[rng.integers(0, len(SEGMENTS), n)],
            "lifetime_value": rng.gamma(2.0, 400.0, n).round(2),
            "signup_date": [WAREHOUSE_START - dt.timedelta(days=int(d)) for d in rng.integers(0, 900, n)],
        }
    )


def generate_sales(
    start: dt.date = WAREHOUSE_START,
    end: dt.date = WAREHOUSE_END,
    per_day: int = 40,
    n_customers: int = 500,
    seed: int = 11,
) -> pd.DataFrame:
    """About ``per_day`` sales for every day from ``start`` to ``end`` inclusive."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    counts = rng.poisson(per_day, len(days))
    n = int(counts.sum())
    product_idx = rng.integers(0, len(PRODUCTS), n)
    quantity = rng.integers(1, 6, n)
    return pd.DataFrame(
        {
            "sale_id": np.arange(1, n + 1),
            "date": np.repeat(days.date, counts),
            "product_id": PRODUCTS["product_id"].to_numpy()[product_idx],
            "customer_id": rng.integers(1, n_customers + 1, n),
            "quantity": quantity,
            "revenue": (quantity * PRODUCTS["unit_price"].to_numpy()[product_idx]).round(2),
        }
    )


def seed_warehouse(engine: sa.Engine, sales: pd.DataFrame | None = None) -> dict[str, int]:
    """Create the warehouse tables and replace their rows, in one transaction (idempotent)."""
    frames = {
        products_table: PRODUCTS,
        customers_table: generate_customers(),
        sales_table: generate_sales() if sales is None else sales,
    }
    with engine.begin() as conn:
        for table in frames:
            table.create(conn, checkfirst=True)
            conn.execute(table.delete())
        for table, frame in frames.items():
            conn.execute(table.insert(), frame.to_dict("records"))
    return {table.name: len(frame) for table, frame in frames.items()}


def generate_orders_csv(
    rows: int,
    seed: int = 42,
    dirty_fraction: float = 0.01,
    start: dt.date = WAREHOUSE_START,
    days: int = 365,
) -> bytes:
    """An orders CSV of ``rows`` rows, ``dirty_fraction`` of them dirty in one of seven ways.

    Dirty rows: missing order_id, missing date, missing amount, non-numeric amount,
    non-numeric quantity, impossible date, and a duplicate of the previous order_id.
    Vectorised end to end, so millions of rows take seconds.
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1, dtype=np.int64)
    kind = np.where(rng.random(rows) < dirty_fraction, rng.integers(0, 7, rows), -1)
    duplicate = (kind == 6) & (ids > 1)
    ids[duplicate] -= 1

    def spoil(array: pa.Array, which: int, value) -> pa.Array:
        return pc.if_else(pa.array(kind == which), pa.scalar(value, pa.string()), array)

    offsets = rng.integers(0, days, rows).astype("timedelta64[D]")
    dates = pc.strftime(pa.array(np.datetime64(start) + offsets), format="%Y-%m-%d")
    table = pa.table(
        {
            "order_id": spoil(pa.array(ids).cast(pa.string()), 0, None),
            "date": spoil(spoil(dates, 1, None), 5, "2023-02-30"),
            "customer_id": pa.array(rng.integers(1, 501, rows)).cast(pa.string()),
            "amount": spoil(spoil(pa.array(rng.uniform(1, 500, rows).round(2)).cast(pa.string()), 2, None), 3, "n/a"),
            "quantity": spoil(pa.array(rng.integers(1, 11, rows)).cast(pa.string()), 4, "three"),
        }
    )
    buffer = io.BytesIO((",".join(ORDER_COLUMNS) + "\n").encode())
    buffer.seek(0, io.SEEK_END)
    # Generated values never hold commas or quotes, so nothing needs quoting.
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return buffer.getvalue()


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"error: environment variable {name} is missing or empty; set it in .env (see .env.example).")
    return value


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orders_and_sales.sample_data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed-warehouse", help="seed the Postgres warehouse as the superuser (idempotent)")
    commands.add_parser(
        "seed-local", help="seed the local mode's SQLite warehouse, LOCAL_DATA_DIR/warehouse.db (idempotent; make dev)"
    )
    orders = commands.add_parser("orders-csv", help="write a generated orders CSV")
    orders.add_argument("--rows", type=int, default=1000)
    orders.add_argument("--seed", type=int, default=42)
    orders.add_argument("--dirty-fraction", type=float, default=0.01)
    orders.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "orders-csv":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(generate_orders_csv(args.rows, args.seed, args.dirty_fraction))
        print(f"wrote {args.rows} orders to {args.out}")
        return
    if args.command == "seed-local":
        database = Path(setting("LOCAL_DATA_DIR")).resolve() / "warehouse.db"
        if database.exists():
            print(f"{database} is there (delete it to seed it again)")
            return
        database.parent.mkdir(parents=True, exist_ok=True)
        url = sa.URL.create("sqlite", database=str(database))
    else:
        url = _warehouse_url()
    engine = sa.create_engine(url)
    try:
        counts = seed_warehouse(engine)
    finally:
        engine.dispose()
    print(f"seeded warehouse {url.database}: " + ", ".join(f"{name}={n}" for name, n in counts.items()))


def _warehouse_url() -> sa.URL:
    """The Postgres warehouse, as the superuser (the init job's environment)."""
    return sa.URL.create(
        "postgresql+psycopg2",
        username=os.environ.get("POSTGRES_USER") or "postgres",
        password=_required_env("POSTGRES_PASSWORD"),
        host=_required_env("WAREHOUSE_DB_HOST"),
        port=int(os.environ.get("WAREHOUSE_DB_PORT") or 5432),
        database=_required_env("WAREHOUSE_DB_NAME"),
    )


if __name__ == "__main__":
    _main()
