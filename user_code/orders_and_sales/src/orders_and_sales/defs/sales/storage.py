"""Every warehouse query of the sales domain: bound, typed parameters only.

Values never become SQL text. Parameters are typed so each dialect gets what it
compares correctly: SQLAlchemy's ``Date`` binds a ``date`` on Postgres and the ISO
text SQLite stores, and an expanding ``IN`` list binds one parameter per product id.
"""

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from dagster_platform.resources import WarehouseResource
from .schema import SALES_COLUMNS

SALES_BETWEEN = sa.text(
    f"SELECT {', '.join(SALES_COLUMNS)} FROM sales WHERE date >= :start AND date < :end ORDER BY date, sale_id"
).bindparams(sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date))

PRODUCT_TOTALS = sa.text(
    "SELECT product_id, SUM(revenue) AS revenue, SUM(quantity) AS quantity, "
    "COUNT(DISTINCT date) AS active_days FROM sales "
    "WHERE product_id IN :product_ids GROUP BY product_id"
).bindparams(sa.bindparam("product_ids", type_=sa.Text, expanding=True))

PRODUCT_IDS = sa.text("SELECT product_id FROM products UNION SELECT DISTINCT product_id FROM sales ORDER BY product_id")


def sales_between(warehouse: WarehouseResource, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Sales with ``start <= date < end``, one dtype per column on every dialect."""
    frame = warehouse.read_frame(SALES_BETWEEN, start=start, end=end)
    return frame.astype({"sale_id": "int64", "customer_id": "int64", "quantity": "int64", "revenue": "float64"}).assign(
        # SQLite hands back ISO text, Postgres a date: both become datetime64.
        date=pd.to_datetime(frame["date"]),
    )


def product_totals(warehouse: WarehouseResource, product_ids: list[str]) -> pd.DataFrame:
    """Revenue, quantity and active days per product; products without sales are absent."""
    frame = warehouse.read_frame(PRODUCT_TOTALS, product_ids=list(product_ids))
    return frame.astype({"revenue": "float64", "quantity": "int64", "active_days": "int64"})


def product_ids(warehouse: WarehouseResource) -> list[str]:
    """Every product the warehouse knows, from the catalogue and from sales."""
    return [p for p in warehouse.read_frame(PRODUCT_IDS)["product_id"].tolist() if isinstance(p, str)]
