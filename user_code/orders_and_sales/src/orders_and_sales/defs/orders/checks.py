"""The orders quality checks' rules; the checks are evaluated in the orders step
(assets.py), on what it just stored, and block nothing downstream when they pass."""

from __future__ import annotations

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

TOTALS = ["total_amount", "total_quantity", "order_count"]


def negative_total_dates(summary: pd.DataFrame) -> list[str]:
    negative = (summary[TOTALS] < 0).any(axis=1)
    return [str(d) for d in summary.loc[negative, "date"]]


def duplicate_check(asset_key: str, check_name: str, count: int, examples: list[str]) -> AssetCheckResult:
    """Passed when no file of the run has an order_id twice in the store (counted by the
    load, on the rows it stored: ledger.OrdersLedger.commit)."""
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=count == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"duplicate_count": count, "examples": MetadataValue.json(examples[:20])},
    )
