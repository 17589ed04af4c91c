"""raw_orders -> cleaned_orders -> orders_summary, materialized together by one step.

One step per run, because the three are one transaction's worth of work: the files of
the run are staged (``raw_orders``), their valid rows replace those keys' earlier rows in
the orders store (``cleaned_orders``), and the per-date summary is updated by the
difference and snapshotted to the lake (``orders_summary``). The snapshot is written
while the store's lock is held, so of two concurrent runs the later snapshot always
contains both runs' files. A run's cost follows its files, never the history (see
ledger.py).
"""

from typing import Any

import datetime as dt

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Config,
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    apply_freshness_policy,
    map_asset_specs,
    multi_asset,
)
from pydantic import Field

from dagster_platform.io_managers import to_parquet_bytes
from dagster_platform.resources import NETWORK_RETRY_POLICY, ObjectStore, WarehouseResource
from dagster_platform.variables import numeric_setting
from .checks import duplicate_check, negative_total_dates
from .ingest import IngestReport, check_requested_keys, ingest, pending_incoming
from .ledger import OrdersLedger
from .storage import STAGING_PREFIX, SUMMARY_KEY, max_file_bytes

GROUP = "orders"
OWNERS = ["team:data-team"]
FRESHNESS_VARIABLE = "ORDERS_SUMMARY_FRESHNESS_MINUTES"


class RawOrdersConfig(Config):
    object_keys: list[str] = Field(
        default_factory=list,
        description=(
            "Incoming objects to ingest (incoming/orders/*.csv); file_sensor names one batch. "
            "Empty: catch up, ingesting every incoming file whose current version is not loaded yet."
        ),
    )


# Tuples, not lists: load_from_defs_folder collects a module's lists of specs as assets of
# their own, and these are the multi-asset's.
SPECS = (
    AssetSpec(
        "raw_orders",
        kinds={"csv", "parquet"},
        owners=OWNERS,
        group_name=GROUP,
        description="Each incoming/orders/*.csv file as read, one Parquet copy per key under staging/raw_orders/.",
    ),
    AssetSpec(
        "cleaned_orders",
        deps=["raw_orders"],
        kinds={"postgres"},
        owners=OWNERS,
        group_name=GROUP,
        description=(
            "Valid, typed orders of every file (table orders_rows); for each order_id the later upload "
            "wins. Dropped rows go to quarantine/cleaned_orders/<run id>.parquet with a reason."
        ),
    ),
    AssetSpec(
        "orders_summary",
        deps=["cleaned_orders"],
        kinds={"parquet"},
        owners=OWNERS,
        group_name=GROUP,
        # Its freshness policy is a setting, attached when the location loads: with_summary_freshness.
        description="One row per date: total_amount, total_quantity, order_count (lake/orders_summary.parquet).",
    ),
)
CHECK_SPECS = (
    AssetCheckSpec(
        "cleaned_orders_unique_order_id",
        asset="cleaned_orders",
        blocking=True,
        description="Every order_id appears once per file.",
    ),
    AssetCheckSpec(
        "orders_summary_not_empty",
        asset="orders_summary",
        blocking=True,
        description="The summary has at least one date.",
    ),
    AssetCheckSpec(
        "orders_summary_no_negative_totals",
        asset="orders_summary",
        blocking=True,
        description="No date has a negative total.",
    ),
)


def summary_freshness_policy() -> FreshnessPolicy:
    """orders_summary materialized at least every ORDERS_SUMMARY_FRESHNESS_MINUTES (read now;
    Dagster allows no less than 1): past it, Dagster's freshness daemon marks the asset FAIL
    and the asset_alerts sensor sends an alert."""
    minutes = numeric_setting(FRESHNESS_VARIABLE, int, 1)
    return FreshnessPolicy.time_window(fail_window=dt.timedelta(minutes=minutes))


def orders_assets() -> list[AssetsDefinition]:
    """ORDERS_ASSETS as the location loads them (definitions.py): with orders_summary's
    freshness policy, whose setting is read now, never at import."""
    policy = summary_freshness_policy()

    def attach(spec: AssetSpec) -> AssetSpec:
        return apply_freshness_policy(spec, policy) if spec.key.to_user_string() == "orders_summary" else spec

    return [asset for asset in map_asset_specs(attach, ORDERS_ASSETS) if isinstance(asset, AssetsDefinition)]


def orders_pipeline(
    context: AssetExecutionContext, config: RawOrdersConfig, object_store: ObjectStore, orders_db: WarehouseResource
):
    ledger = OrdersLedger(orders_db)
    catch_up = not config.object_keys
    keys = pending_incoming(object_store, ledger) if catch_up else list(dict.fromkeys(config.object_keys))
    wrong = check_requested_keys(keys)
    if wrong:
        raise Failure(
            description="; ".join(wrong), metadata={"bad_files": MetadataValue.json(wrong)}, allow_retries=False
        )

    report = ingest(object_store, ledger, keys, context.run.run_id, max_file_bytes(), context.log.info)
    with ledger.locked() as conn:
        summary = ledger.summary(conn)
        object_store.put_bytes(SUMMARY_KEY, to_parquet_bytes(summary))
        stored_files, stored_rows = ledger.loaded_counts(conn)

    yield MaterializeResult(
        asset_key="raw_orders",
        metadata={
            "mode": "catch-up" if catch_up else "files",
            "dagster/uri": MetadataValue.path(object_store.uri(STAGING_PREFIX)),
            "dagster/row_count": sum(report.rows_read.values()),
            "files_read": MetadataValue.json(report.rows_read),
            "bad_files": MetadataValue.json(report.problems),
        },
    )
    yield MaterializeResult(
        asset_key="cleaned_orders",
        metadata={
            **_drop_metadata(report),
            "dagster/uri": MetadataValue.path(ledger.uri("orders_rows")),
            "dagster/row_count": stored_rows,
            "loaded_files": MetadataValue.json(report.loaded),
            "already_loaded_files": MetadataValue.json(report.already_loaded),
            "stored_files": stored_files,
            "dates_touched": report.dates_touched,
        },
        check_results=[
            duplicate_check(
                "cleaned_orders", "cleaned_orders_unique_order_id", report.stored_twice, report.stored_twice_examples
            )
        ],
    )
    negative = negative_total_dates(summary)
    yield MaterializeResult(
        asset_key="orders_summary",
        metadata={
            "dagster/uri": MetadataValue.path(object_store.uri(SUMMARY_KEY)),
            "dagster/row_count": len(summary),
            **(
                {
                    "first_date": str(summary["date"].min()),
                    "last_date": str(summary["date"].max()),
                    "total_amount": float(summary["total_amount"].sum()),
                }
                if len(summary)
                else {}
            ),
        },
        check_results=[
            AssetCheckResult(
                asset_key="orders_summary",
                check_name="orders_summary_not_empty",
                passed=len(summary) > 0,
                metadata={"row_count": len(summary)},
            ),
            AssetCheckResult(
                asset_key="orders_summary",
                check_name="orders_summary_no_negative_totals",
                passed=not negative,
                severity=AssetCheckSeverity.ERROR,
                metadata={"negative_dates": len(negative), "examples": MetadataValue.json(negative[:20])},
            ),
        ],
    )
    if report.problems:
        raise Failure(
            description=f"{len(report.problems)} file(s) could not be ingested (the others were): "
            + "; ".join(report.problems),
            metadata={"bad_files": MetadataValue.json(report.problems)},
            allow_retries=False,  # a broken file stays broken until its content changes
        )


def _drop_metadata(report: IngestReport) -> dict[str, Any]:
    counts = report.drop_counts
    metadata: dict[str, Any] = {f"dropped_{reason}": n for reason, n in counts.items()}
    metadata["dropped_total"] = sum(counts.values())
    if report.quarantine_uri:
        metadata["quarantine_uri"] = MetadataValue.path(report.quarantine_uri)
    return metadata


# The one step, as an asset definition without a freshness policy (unit tests and benchmarks
# materialize it). A tuple, and the function above left undecorated, so that
# load_from_defs_folder does not collect it: the location takes orders_assets() instead.
ORDERS_ASSETS = (
    multi_asset(
        name="raw_orders",  # the op: run configs say ops.raw_orders.config.object_keys
        specs=SPECS,
        check_specs=CHECK_SPECS,
        retry_policy=NETWORK_RETRY_POLICY,
        can_subset=False,
    )(orders_pipeline),
)
