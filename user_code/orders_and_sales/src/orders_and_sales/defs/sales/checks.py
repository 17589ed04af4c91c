"""Blocking checks on daily_sales_summary: a wrong summary must not feed anything downstream."""

from typing import Any

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetIn,
    DailyPartitionsDefinition,
    asset_check,
)

from dagster_platform.resources import NETWORK_RETRY_POLICY
from .logic import negative_rows, total_mismatches


def sales_checks(partitions_def: DailyPartitionsDefinition) -> list[AssetChecksDefinition]:
    """The checks, partitioned like daily_sales_summary (``partitions_def``), so a check reads
    the partitions of its run (one day, or a whole single-run backfill) rather than every
    partition up to today."""
    common: dict[str, Any] = {
        "asset": "daily_sales_summary",
        "blocking": True,
        "partitions_def": partitions_def,
        "retry_policy": NETWORK_RETRY_POLICY,
    }

    @asset_check(**common, description="No negative revenue or quantity.")
    def summary_has_no_negative_totals(daily_sales_summary: pd.DataFrame) -> AssetCheckResult:
        bad = negative_rows(daily_sales_summary)
        return AssetCheckResult(
            passed=bad.empty,
            severity=AssetCheckSeverity.ERROR,
            metadata={"negative_rows": len(bad), "examples": bad.head(5).astype(str).to_dict("records")},
        )

    @asset_check(
        **common,
        additional_ins={"daily_sales": AssetIn("daily_sales")},
        description="Revenue, quantity and sale count add up to those of daily_sales.",
    )
    def summary_matches_daily_sales(
        context: AssetCheckExecutionContext,
        daily_sales_summary: pd.DataFrame,
        daily_sales: pd.DataFrame,
    ) -> AssetCheckResult:
        mismatches = total_mismatches(daily_sales, daily_sales_summary)
        if mismatches:
            context.log.error(f"daily_sales_summary totals differ from daily_sales: {mismatches}")
        return AssetCheckResult(
            passed=not mismatches,
            severity=AssetCheckSeverity.ERROR,
            metadata={"summary_rows": len(daily_sales_summary), "sales_rows": len(daily_sales), **mismatches},
        )

    return [summary_has_no_negative_totals, summary_matches_daily_sales]
