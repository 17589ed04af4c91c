"""The warehouse queries: typed, bound parameters on SQLite, hostile values stay data."""

import datetime as dt

import pytest
import sqlalchemy as sa

from orders_and_sales.defs.sales import storage
from orders_and_sales.defs.sales.schema import SALES_COLUMNS

from .conftest import HOSTILE_IDS, query


def test_date_range_is_half_open_and_matches_independent_sql(warehouse, warehouse_path):
    frame = storage.sales_between(warehouse, dt.date(2023, 3, 1), dt.date(2023, 3, 4))
    expected = query(
        warehouse_path, "SELECT sale_id FROM sales WHERE date IN ('2023-03-01', '2023-03-02', '2023-03-03')"
    )
    assert sorted(frame["sale_id"]) == sorted(expected["sale_id"]) and len(frame) > 0
    assert frame["date"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2023-03-01", "2023-03-02", "2023-03-03"]
    assert str(frame["revenue"].dtype) == "float64" and str(frame["quantity"].dtype) == "int64"


def test_one_day_and_no_day(warehouse, warehouse_path):
    one = storage.sales_between(warehouse, dt.date(2023, 12, 31), dt.date(2024, 1, 1))
    assert len(one) == query(warehouse_path, "SELECT COUNT(*) AS n FROM sales WHERE date = '2023-12-31'")["n"][0] > 0
    none = storage.sales_between(warehouse, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert none.empty and list(none.columns) == SALES_COLUMNS


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_product_ids_are_bound_as_data(hostile_warehouse, hostile_warehouse_path, hostile):
    before = query(hostile_warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0]
    totals = storage.product_totals(hostile_warehouse, [hostile])
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(hostile_warehouse_path)))
    with engine.connect() as conn:  # an independent count, with SQLAlchemy Core
        expected = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.column("quantity")))
            .select_from(sa.table("sales"))
            .where(sa.column("product_id") == hostile)
        ).one()
    engine.dispose()
    assert totals["product_id"].tolist() == [hostile]
    assert totals["quantity"][0] == expected[1] and expected[0] >= 2
    assert query(hostile_warehouse_path, "SELECT COUNT(*) AS n FROM sales")["n"][0] == before


def test_product_ids_come_from_catalogue_and_sales(hostile_warehouse):
    ids = storage.product_ids(hostile_warehouse)
    assert set(HOSTILE_IDS) <= set(ids) and "P-001" in ids and len(ids) == len(set(ids))
