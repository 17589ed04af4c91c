"""The deterministic generator that feeds local mode, the warehouse seed, tests and benchmarks."""

import io
import subprocess
import sys

import pandas as pd
import sqlalchemy as sa

from orders_and_sales.sample_data import (
    ORDER_COLUMNS,
    PRODUCTS,
    generate_customers,
    generate_orders_csv,
    generate_sales,
    seed_warehouse,
)


def read(csv: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(csv), dtype=str, keep_default_na=False)


def test_orders_csv_is_deterministic_and_has_every_kind_of_dirt():
    csv = generate_orders_csv(20_000, seed=3)
    assert csv == generate_orders_csv(20_000, seed=3)
    assert csv != generate_orders_csv(20_000, seed=4)
    frame = read(csv)
    assert list(frame.columns) == ORDER_COLUMNS and len(frame) == 20_000
    dirty = {
        "missing order_id": (frame.order_id == "").sum(),
        "missing date": (frame.date == "").sum(),
        "impossible date": (frame.date == "2023-02-30").sum(),
        "missing amount": (frame.amount == "").sum(),
        "bad amount": (frame.amount == "n/a").sum(),
        "bad quantity": (frame.quantity == "three").sum(),
        "duplicate id": frame.order_id[frame.order_id != ""].duplicated().sum(),
    }
    assert all(count > 0 for count in dirty.values()), dirty
    assert 0.005 < sum(dirty.values()) / len(frame) < 0.02


def test_clean_orders_csv_has_no_dirt():
    frame = read(generate_orders_csv(5_000, dirty_fraction=0.0))
    assert (frame != "").all().all() and frame.order_id.is_unique


def test_warehouse_covers_2023_and_every_product():
    sales = generate_sales()
    assert str(sales.date.min()) == "2023-01-01" and str(sales.date.max()) == "2023-12-31"
    assert set(sales.product_id) == set(PRODUCTS.product_id)
    customers = generate_customers()
    assert customers.email.isna().any() and customers.customer_id.is_unique


def test_seeding_twice_gives_the_same_tables(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    first = seed_warehouse(engine)
    assert seed_warehouse(engine) == first
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sales")).scalar() == first["sales"]
    engine.dispose()


def test_the_domain_schemas_import_without_their_domains():
    """The init job and `make dev` run sample_data without Dagster: it imports each domain's
    schema.py and the variable registry, never a domain's assets or Dagster itself."""
    code = "import sys, orders_and_sales.sample_data; print(*sorted(m for m in sys.modules if m.startswith(('dagster', 'orders_and_sales'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [
        "dagster_platform",
        "dagster_platform.variables",
        "orders_and_sales",
        "orders_and_sales.defs",
        "orders_and_sales.defs.customers",
        "orders_and_sales.defs.customers.schema",
        "orders_and_sales.defs.orders",
        "orders_and_sales.defs.orders.schema",
        "orders_and_sales.defs.sales",
        "orders_and_sales.defs.sales.schema",
        "orders_and_sales.sample_data",
    ]
