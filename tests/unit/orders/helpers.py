"""Shared by the orders tests: CSV building and an independent reference cleaner."""

import io

import pandas as pd

from orders_and_sales.defs.orders.schema import ORDER_COLUMNS

HEADER = ",".join(ORDER_COLUMNS)


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def reference_summary(*csvs: bytes) -> pd.DataFrame:
    """The seed's pandas semantics, written independently of orders_and_sales.defs.orders."""
    frame = pd.concat([pd.read_csv(io.BytesIO(c), dtype=str, keep_default_na=False) for c in csvs], ignore_index=True)
    frame = frame.replace("", None)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    frame = frame.dropna(subset=["order_id", "date", "amount", "quantity"])
    frame = frame.drop_duplicates("order_id", keep="last")
    summary = frame.groupby(frame["date"].dt.date).agg(
        total_amount=("amount", "sum"),
        total_quantity=("quantity", "sum"),
        order_count=("order_id", "count"),
    )
    return summary.reset_index().astype({"total_quantity": "int64", "order_count": "int64"})


def assert_summary_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    actual = actual.assign(date=pd.to_datetime(actual["date"]).dt.date).reset_index(drop=True)
    expected = expected.assign(date=pd.to_datetime(expected["date"]).dt.date).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        actual[["date", "total_amount", "total_quantity", "order_count"]],
        expected[["date", "total_amount", "total_quantity", "order_count"]],
        check_exact=False,
        rtol=1e-9,
        check_dtype=False,
    )
