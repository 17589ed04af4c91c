"""Pure DataFrame logic of the sales domain, testable without Dagster."""

import pandas as pd

SUMMARY_KEYS = ["date", "product_id"]


def summarize_daily(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per (date, product): revenue, quantity and number of sales."""
    summary = sales.groupby(SUMMARY_KEYS, sort=True, as_index=False).agg(
        revenue=("revenue", "sum"),
        quantity=("quantity", "sum"),
        sales_count=("sale_id", "count"),
    )
    summary["revenue"] = summary["revenue"].round(2)
    return summary.astype({"revenue": "float64", "quantity": "int64", "sales_count": "int64"})


def complete_product_metrics(totals: pd.DataFrame, product_ids: list[str]) -> pd.DataFrame:
    """One row per requested product, zeros for a product without sales, in request order."""
    metrics = totals.set_index("product_id").reindex(pd.Index(product_ids, name="product_id"))
    metrics = metrics.fillna({"revenue": 0.0, "quantity": 0, "active_days": 0})
    metrics["revenue"] = metrics["revenue"].round(2)
    return metrics.reset_index().astype({"revenue": "float64", "quantity": "int64", "active_days": "int64"})


def negative_rows(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[(summary["revenue"] < 0) | (summary["quantity"] < 0)]


def total_mismatches(sales: pd.DataFrame, summary: pd.DataFrame, cents: float = 0.01) -> dict[str, float]:
    """Differences between the totals of the sales and of their summary; counts must match exactly."""
    differences = {
        "revenue": round(float(sales["revenue"].sum() - summary["revenue"].sum()), 6),
        "quantity": float(sales["quantity"].sum() - summary["quantity"].sum()),
        "rows": float(len(sales) - summary["sales_count"].sum()),
    }
    return {name: diff for name, diff in differences.items() if abs(diff) > (cents if name == "revenue" else 0)}
