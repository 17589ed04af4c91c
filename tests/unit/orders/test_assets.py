"""materialize() of the orders graph on a real S3 API (moto) and the local folder store."""

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, DagsterEventType

from user_code.io_managers import from_parquet_bytes
from user_code.orders.assets import orders_summary
from user_code.orders.storage import quarantine_key, read_staged, stage_file, staged_sources, staging_key
from user_code.sample_data import generate_orders_csv

from .conftest import output_metadata, put_csv, run_orders
from .helpers import assert_summary_equal, csv_bytes, reference_summary

DIRTY = csv_bytes(
    "1,2023-01-01,10,10.00,1",
    "2,2023-01-01,11,20.00,2",
    ",2023-01-01,12,5.00,1",          # missing order_id
    "3,,13,5.00,1",                   # missing date
    "4,2023-01-02,14,,1",             # missing amount
    "5,2023-02-30,15,5.00,1",         # invalid date
    "6,2023-01-02,16,n/a,1",          # invalid amount
    "7,2023-01-02,17,5.00,three",     # invalid quantity
    "2,2023-01-02,11,30.00,3",        # duplicate of 2: this one wins
)


def lake(store, key: str) -> pd.DataFrame:
    return from_parquet_bytes(store.get_bytes(key))


def test_orders_graph_on_s3(s3_resources, s3_store):
    key = put_csv(s3_store, "2023-01-02_orders.csv", DIRTY)
    result = run_orders(s3_resources, [key])
    assert result.success

    summary = lake(s3_store, "lake/orders_summary.parquet")
    assert_summary_equal(summary, reference_summary(DIRTY))
    assert summary["order_count"].tolist() == [1, 1] and summary["total_amount"].tolist() == [10.0, 30.0]

    cleaned_meta = output_metadata(result, "cleaned_orders")
    assert cleaned_meta["dropped_missing_order_id"] == 1
    assert cleaned_meta["dropped_missing_date"] == 1
    assert cleaned_meta["dropped_missing_amount"] == 1
    assert cleaned_meta["dropped_invalid_date"] == 1
    assert cleaned_meta["dropped_invalid_amount"] == 1
    assert cleaned_meta["dropped_invalid_quantity"] == 1
    assert cleaned_meta["dropped_duplicate_order_id"] == 1
    assert cleaned_meta["dropped_total"] == 7
    assert cleaned_meta["dagster/row_count"] == 2
    assert cleaned_meta["dagster/uri"] == f"s3://{s3_store.bucket}/lake/cleaned_orders.parquet"

    quarantine = quarantine_key(result.run_id)
    assert cleaned_meta["quarantine_uri"] == f"s3://{s3_store.bucket}/{quarantine}"
    dropped = lake(s3_store, quarantine)
    assert sorted(dropped["reason"]) == sorted([
        "missing_order_id", "missing_date", "missing_amount", "invalid_date", "invalid_amount",
        "invalid_quantity", "duplicate_order_id",
    ])
    assert dropped.loc[dropped["reason"] == "invalid_amount", "amount"].tolist() == ["n/a"]
    assert dropped.loc[dropped["reason"] == "duplicate_order_id", "amount"].tolist() == ["20.00"]
    assert set(dropped["source_file"]) == {key}

    summary_meta = output_metadata(result, "orders_summary")
    assert summary_meta["dagster/row_count"] == 2
    [spec] = orders_summary.specs
    assert spec.metadata["owner"] == "data-team" and spec.metadata["sla_minutes"] == 60
    assert spec.owners == ["team:data-team"]
    raw_meta = output_metadata(result, "raw_orders")
    assert raw_meta["dagster/row_count"] == 9
    assert raw_meta["dagster/uri"] == f"s3://{s3_store.bucket}/lake/raw_orders.parquet"

    [observation] = [
        e.event_specific_data.asset_observation for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_OBSERVATION
    ]
    assert observation.asset_key == AssetKey("raw_orders")
    assert observation.metadata["row_count"].value == 9
    assert observation.metadata["null_percentage"].value == pytest.approx(100 * 3 / 45, abs=1e-3)

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "cleaned_orders_unique_order_id": True, "orders_summary_not_empty": True,
        "orders_summary_no_negative_totals": True,
    }


def test_generated_file_summary_matches_independent_computation(s3_resources, s3_store):
    data = generate_orders_csv(5_000, seed=9, dirty_fraction=0.05, days=20)
    key = put_csv(s3_store, "generated.csv", data)
    assert run_orders(s3_resources, [key]).success
    assert_summary_equal(lake(s3_store, "lake/orders_summary.parquet"), reference_summary(data))


def test_ingesting_the_same_file_twice_does_not_double_count(s3_resources, s3_store):
    first = put_csv(s3_store, "a.csv", csv_bytes("1,2023-01-01,1,10,1", "2,2023-01-01,1,5,2"))
    second = put_csv(s3_store, "b.csv", csv_bytes("3,2023-01-01,1,1,1"))
    run_orders(s3_resources, [first])
    run_orders(s3_resources, [second])
    result = run_orders(s3_resources, [first])  # again
    summary = lake(s3_store, "lake/orders_summary.parquet")
    assert summary[["total_amount", "total_quantity", "order_count"]].values.tolist() == [[16.0, 4, 3]]
    assert output_metadata(result, "raw_orders")["staged_file_count"] == 2


def test_later_file_wins_a_duplicate_order_id(s3_resources, s3_store):
    put_csv(s3_store, "2023-01-01.csv", csv_bytes("1,2023-01-01,1,10,1"))
    put_csv(s3_store, "2023-01-02.csv", csv_bytes("1,2023-01-01,1,99,1"))
    assert run_orders(s3_resources).success
    assert lake(s3_store, "lake/cleaned_orders.parquet")["amount"].tolist() == [99.0]


@pytest.mark.parametrize(
    "data, message",
    [
        (csv_bytes("1,2023-01-01,1,1", header="order_id,date,customer_id,quantity"), "missing columns: amount"),
        (b"\x00\x01\x02\xff\xfe\x89PNG binary garbage" * 50, "bad.csv: "),
        (b"", "the file is empty"),
    ],
)
def test_malformed_file_fails_its_run_and_stays(s3_resources, s3_store, data, message):
    key = put_csv(s3_store, "bad.csv", data)
    result = run_orders(s3_resources, [key], raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith(f"{key}: ") and message in description
    assert failure.step_key == "raw_orders"
    assert s3_store.get_bytes(key) == data  # the file stays where it is
    assert not list(s3_store.list_objects("staging/"))
    assert not result.asset_materializations_for_node("cleaned_orders")


def test_malformed_file_does_not_affect_other_files(s3_resources, s3_store):
    good = put_csv(s3_store, "good.csv", csv_bytes("1,2023-01-01,1,10,1"))
    bad = put_csv(s3_store, "bad.csv", b"nonsense")
    assert not run_orders(s3_resources, [bad], raise_on_error=False).success
    assert run_orders(s3_resources, [good]).success
    assert lake(s3_store, "lake/orders_summary.parquet")["order_count"].tolist() == [1]


def test_key_outside_incoming_orders_is_refused(s3_resources, s3_store):
    s3_store.put_bytes("lake/secret.csv", csv_bytes("1,2023-01-01,1,10,1"))
    result = run_orders(s3_resources, ["lake/secret.csv"], raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "not an orders file" in failure.step_failure_data.user_failure_data.description


def test_missing_object_fails_clearly(s3_resources):
    result = run_orders(s3_resources, ["incoming/orders/gone.csv"], raise_on_error=False)
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "incoming/orders/gone.csv: does not exist" in failure.step_failure_data.user_failure_data.description


def test_catch_up_ingests_unstaged_files_and_skips_bad_ones(s3_resources, s3_store):
    first = put_csv(s3_store, "1.csv", csv_bytes("1,2023-01-01,1,10,1"))
    run_orders(s3_resources, [first])
    put_csv(s3_store, "2.csv", csv_bytes("2,2023-01-01,1,20,1"))
    bad = put_csv(s3_store, "3.csv", csv_bytes("3,2023-01-01", header="order_id,date"))
    s3_store.put_bytes("incoming/orders/readme.txt", b"not an orders file")

    result = run_orders(s3_resources)
    assert result.success
    meta = output_metadata(result, "raw_orders")
    assert meta["mode"] == "catch-up"
    assert meta["ingested_files"] == {"incoming/orders/2.csv": 1}  # 1.csv was staged already
    assert len(meta["skipped_files"]) == 1 and meta["skipped_files"][0].startswith(f"{bad}: missing columns")
    assert s3_store.get_bytes(bad)
    assert lake(s3_store, "lake/orders_summary.parquet")["total_amount"].tolist() == [30.0]
    staged = pq.read_table(io.BytesIO(s3_store.get_bytes(staging_key("incoming/orders/2.csv"))))
    assert staged.column("source_file").to_pylist() == ["incoming/orders/2.csv"]


def test_read_staged_uses_this_runs_tables_and_reads_the_others(local_store):
    old = put_csv(local_store, "1.csv", csv_bytes("1,2023-01-01,1,10,1"))
    new = put_csv(local_store, "2.csv", csv_bytes("2,2023-01-02,1,20,1"))
    stage_file(local_store, old)
    fresh = {new: stage_file(local_store, new)}
    local_store.put_bytes(staging_key(new), b"not read: the fresh table stands in for it")
    table = read_staged(local_store, staged_sources(local_store), fresh)
    assert table.column("order_id").to_pylist() == ["1", "2"]
    assert table.column("source_file").to_pylist() == [old, new]


def test_catch_up_with_nothing_incoming(s3_resources, s3_store):
    result = run_orders(s3_resources, raise_on_error=False)
    assert output_metadata(result, "raw_orders")["dagster/row_count"] == 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["orders_summary_not_empty"] is False


def test_local_mode(local_resources, local_store):
    key = put_csv(local_store, "local.csv", DIRTY)
    result = run_orders(local_resources, [key])
    assert result.success
    assert_summary_equal(lake(local_store, "lake/orders_summary.parquet"), reference_summary(DIRTY))
    meta = output_metadata(result, "cleaned_orders")
    assert meta["dropped_total"] == 7
    assert meta["quarantine_uri"].startswith("file://")
    assert len(lake(local_store, quarantine_key(result.run_id))) == 7
