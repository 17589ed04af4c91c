"""Sales logic on small frames, including dirty and empty ones."""

import pandas as pd

from orders_and_sales.defs.sales.logic import complete_product_metrics, negative_rows, summarize_daily, total_mismatches


def sales_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sale_id": [1, 2, 3, 4, 5],
            "date": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-01-01", "2023-01-02", "2023-01-02"]),
            "product_id": ["A", "A", "B", "A", 'ü "x"'],
            "customer_id": [1, 2, 3, 4, 5],
            "quantity": [1, 2, 3, 4, 5],
            "revenue": [0.1, 0.2, 3.0, 4.0, 5.55],
        }
    )


def test_summary_is_per_date_and_product():
    summary = summarize_daily(sales_frame())
    assert summary[["product_id", "quantity", "sales_count"]].values.tolist() == [
        ["A", 3, 2],
        ["B", 3, 1],
        ["A", 4, 1],
        ['ü "x"', 5, 1],
    ]
    assert summary["revenue"].tolist() == [0.3, 3.0, 4.0, 5.55]  # rounded to cents, no 0.30000000000000004
    assert not total_mismatches(sales_frame(), summary)


def test_summary_of_no_sales_is_empty_with_its_columns():
    summary = summarize_daily(sales_frame().iloc[0:0])
    assert summary.empty
    assert list(summary.columns) == ["date", "product_id", "revenue", "quantity", "sales_count"]


def test_negative_rows_are_found():
    summary = summarize_daily(sales_frame())
    assert negative_rows(summary).empty
    summary.loc[1, "quantity"] = -1
    summary.loc[2, "revenue"] = -0.01
    assert negative_rows(summary).index.tolist() == [1, 2]


def test_mismatches_name_each_measure_and_tolerate_float_noise():
    sales = sales_frame()
    summary = summarize_daily(sales)
    summary.loc[0, "revenue"] += 1e-9
    assert not total_mismatches(sales, summary)
    summary.loc[0, "quantity"] += 1
    summary.loc[1, "revenue"] += 0.02
    assert total_mismatches(sales, summary) == {"revenue": -0.02, "quantity": -1.0}
    assert total_mismatches(sales.iloc[1:], summarize_daily(sales)) == {"revenue": -0.1, "quantity": -1.0, "rows": -1.0}


def test_product_metrics_fill_products_without_sales_with_zeros():
    totals = pd.DataFrame({"product_id": ["B"], "revenue": [2.5], "quantity": [3], "active_days": [1]})
    metrics = complete_product_metrics(totals, ["A", "B"])
    assert metrics.to_dict("records") == [
        {"product_id": "A", "revenue": 0.0, "quantity": 0, "active_days": 0},
        {"product_id": "B", "revenue": 2.5, "quantity": 3, "active_days": 1},
    ]
