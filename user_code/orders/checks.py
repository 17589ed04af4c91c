"""Blocking quality checks: a failure stops everything downstream in the run."""


import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from .assets import cleaned_orders, orders_summary

TOTALS = ["total_amount", "total_quantity", "order_count"]


def duplicated_order_ids(frame: pd.DataFrame) -> list[str]:
    ids = frame["order_id"]
    return sorted(ids[ids.duplicated()].astype(str).unique().tolist())


def negative_total_dates(summary: pd.DataFrame) -> list[str]:
    negative = (summary[TOTALS] < 0).any(axis=1)
    return [str(d) for d in summary.loc[negative, "date"]]


@asset_check(asset=cleaned_orders, blocking=True, description="Every order_id appears once.")
def cleaned_orders_unique_order_id(cleaned_orders: pd.DataFrame) -> AssetCheckResult:
    duplicates = duplicated_order_ids(cleaned_orders)
    return AssetCheckResult(
        passed=not duplicates,
        severity=AssetCheckSeverity.ERROR,
        metadata={"duplicate_count": len(duplicates), "examples": MetadataValue.json(duplicates[:20])},
    )


@asset_check(asset=orders_summary, blocking=True, description="The summary has at least one date.")
def orders_summary_not_empty(orders_summary: pd.DataFrame) -> AssetCheckResult:
    return AssetCheckResult(passed=len(orders_summary) > 0, metadata={"row_count": len(orders_summary)})


@asset_check(asset=orders_summary, blocking=True, description="No date has a negative total.")
def orders_summary_no_negative_totals(orders_summary: pd.DataFrame) -> AssetCheckResult:
    dates = negative_total_dates(orders_summary)
    return AssetCheckResult(
        passed=not dates,
        metadata={"negative_dates": len(dates), "examples": MetadataValue.json(dates[:20])},
    )


ORDERS_CHECKS = [cleaned_orders_unique_order_id, orders_summary_not_empty, orders_summary_no_negative_totals]
