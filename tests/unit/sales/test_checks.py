"""The blocking checks on daily_sales_summary pass on real data and stop downstream on bad data."""

import pandas as pd
import pytest
from dagster import BackfillPolicy, asset, materialize

from orders_and_sales.defs.sales.assets import BY_DATE
from orders_and_sales.defs.sales.logic import summarize_daily

from .conftest import DAILY_PARTITIONS, DAILY_SALES, SALES_CHECKS, range_tags

TAGS = range_tags("2023-02-01", "2023-02-03")


def summary_asset(spoil):
    """A stand-in daily_sales_summary whose output ``spoil`` corrupts."""

    @asset(
        name="daily_sales_summary",
        partitions_def=DAILY_PARTITIONS,
        metadata=BY_DATE,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def fake(daily_sales: pd.DataFrame) -> pd.DataFrame:
        return spoil(summarize_daily(daily_sales))

    return fake


@asset(partitions_def=DAILY_PARTITIONS, backfill_policy=BackfillPolicy.single_run(), metadata=BY_DATE)
def downstream(daily_sales_summary: pd.DataFrame) -> pd.DataFrame:
    return daily_sales_summary


def run(resources, spoil):
    return materialize(
        [DAILY_SALES, summary_asset(spoil), downstream, *SALES_CHECKS],
        resources=resources,
        tags=TAGS,
        raise_on_error=False,
    )


def outcomes(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_checks_pass_and_downstream_runs(local_resources):
    result = run(local_resources, lambda s: s)
    assert result.success
    assert outcomes(result) == {"summary_has_no_negative_totals": True, "summary_matches_daily_sales": True}
    assert len(result.asset_materializations_for_node("downstream")) == 3


def negative_quantity(summary: pd.DataFrame) -> pd.DataFrame:
    summary.loc[0, "quantity"] = -summary.loc[0, "quantity"]
    return summary


def dropped_row(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.iloc[1:]


@pytest.mark.parametrize(
    "spoil, failing",
    [
        (negative_quantity, {"summary_has_no_negative_totals", "summary_matches_daily_sales"}),
        (dropped_row, {"summary_matches_daily_sales"}),
    ],
)
def test_a_failing_check_blocks_downstream(local_resources, spoil, failing):
    result = run(local_resources, spoil)
    assert not result.success
    assert {name for name, passed in outcomes(result).items() if not passed} == failing
    assert result.asset_materializations_for_node("downstream") == []
