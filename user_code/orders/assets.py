"""raw_orders -> cleaned_orders -> orders_summary."""


import pandas as pd
from dagster import (
    AssetExecutionContext, AssetObservation, Config, Failure, MetadataValue, asset,
)
from pydantic import Field

from ..io_managers import to_parquet_bytes
from ..resources import NETWORK_RETRY_POLICY, ObjectNotFound, ObjectStore
from .cleaning import (
    MalformedOrdersFile, clean_orders, null_percentage, summarize_orders, to_pandas,
)
from .storage import INCOMING_PREFIX, is_orders_csv, quarantine_key, read_staged, stage_file, staged_sources

GROUP = "orders"
OWNERS = ["team:data-team"]


class RawOrdersConfig(Config):
    object_keys: list[str] = Field(
        default_factory=list,
        description=(
            "Incoming objects to ingest (incoming/orders/*.csv); file_sensor names exactly one. "
            "Empty: catch up, ingesting every incoming file not yet staged (the daily schedule)."
        ),
    )


def _explicit_failure(problems: list[str]) -> Failure:
    return Failure(
        description="; ".join(problems),
        metadata={"bad_files": MetadataValue.json(problems)},
        allow_retries=False,  # a broken file stays broken: retrying cannot help
    )


@asset(
    kinds={"csv", "pyarrow"}, owners=OWNERS, group_name=GROUP, retry_policy=NETWORK_RETRY_POLICY,
    description="Orders CSVs from incoming/orders/, staged once per file; the value is the union of all staged files.",
)
def raw_orders(context: AssetExecutionContext, config: RawOrdersConfig, object_store: ObjectStore) -> pd.DataFrame:
    catch_up = not config.object_keys
    if catch_up:
        staged = staged_sources(object_store)
        keys = [o.key for o in object_store.list_objects(INCOMING_PREFIX) if is_orders_csv(o.key) and o.key not in staged]
    else:
        keys = list(dict.fromkeys(config.object_keys))
        wrong = [f"{key}: not an orders file (expected {INCOMING_PREFIX}*.csv)" for key in keys if not is_orders_csv(key)]
        if wrong:
            raise _explicit_failure(wrong)

    fresh, problems = {}, []
    for key in keys:
        try:
            fresh[key] = stage_file(object_store, key)
        except MalformedOrdersFile as exc:
            problems.append(str(exc))
        except ObjectNotFound:
            problems.append(f"{key}: does not exist (any more) in the object store")
    if problems and not catch_up:
        raise _explicit_failure(problems)
    for problem in problems:
        context.log.warning(f"Skipped a malformed orders file, it stays where it is: {problem}")
    ingested = {key: table.num_rows for key, table in fresh.items()}
    for key, rows in ingested.items():
        context.log.info(f"Staged {key}: {rows} rows")

    staged = staged_sources(object_store)
    table = read_staged(object_store, staged, fresh)
    nulls = null_percentage(table)
    context.log_event(
        AssetObservation(asset_key=context.asset_key, metadata={"row_count": table.num_rows, "null_percentage": nulls})
    )
    context.add_output_metadata({
        "mode": "catch-up" if catch_up else "files",
        "ingested_files": MetadataValue.json(ingested),
        "skipped_files": MetadataValue.json(problems),
        "staged_file_count": len(staged),
        "null_percentage": nulls,
    })
    return to_pandas(table)


@asset(
    kinds={"pyarrow"}, owners=OWNERS, group_name=GROUP, retry_policy=NETWORK_RETRY_POLICY,
    description=(
        "Valid, typed, deduplicated orders (last order_id wins). Dropped rows go to "
        "quarantine/cleaned_orders/<run id>.parquet with a reason."
    ),
)
def cleaned_orders(context: AssetExecutionContext, raw_orders: pd.DataFrame, object_store: ObjectStore) -> pd.DataFrame:
    result = clean_orders(raw_orders)
    key = quarantine_key(context.run.run_id)
    object_store.put_bytes(key, to_parquet_bytes(result.quarantined))
    counts = result.drop_counts()
    context.add_output_metadata({
        **{f"dropped_{reason}": n for reason, n in counts.items()},
        "dropped_total": sum(counts.values()),
        "quarantine_uri": MetadataValue.path(object_store.uri(key)),
    })
    return result.cleaned


@asset(
    kinds={"pandas"}, owners=OWNERS, group_name=GROUP, retry_policy=NETWORK_RETRY_POLICY,
    metadata={"owner": "data-team", "sla_minutes": 60},
    description="One row per date: total_amount, total_quantity, order_count.",
)
def orders_summary(context: AssetExecutionContext, cleaned_orders: pd.DataFrame) -> pd.DataFrame:
    summary = summarize_orders(cleaned_orders)
    if len(summary):
        context.add_output_metadata({
            "first_date": str(summary["date"].min()), "last_date": str(summary["date"].max()),
            "total_amount": float(summary["total_amount"].sum()),
        })
    return summary


ORDERS_ASSETS = [raw_orders, cleaned_orders, orders_summary]
