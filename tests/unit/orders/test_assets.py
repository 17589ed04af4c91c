"""materialize() of the orders step on a real S3 API (moto) and the local folder store."""

import io

import pyarrow.parquet as pq
import pytest
from dagster import DagsterEventType

from dagster_platform.io_managers import from_parquet_bytes
from orders_and_sales.defs.orders.ledger import OrdersLedger
from orders_and_sales.defs.orders.storage import quarantine_key, staging_key
from orders_and_sales.sample_data import generate_orders_csv

from .conftest import output_metadata, put_csv, put_csv_later, run_orders, summary_of
from .helpers import assert_summary_equal, csv_bytes, reference_summary

DIRTY = csv_bytes(
    "1,2023-01-01,10,10.00,1",
    "2,2023-01-01,11,20.00,2",
    ",2023-01-01,12,5.00,1",  # missing order_id
    "3,,13,5.00,1",  # missing date
    "4,2023-01-02,14,,1",  # missing amount
    "5,2023-02-30,15,5.00,1",  # invalid date
    "6,2023-01-02,16,n/a,1",  # invalid amount
    "7,2023-01-02,17,5.00,three",  # invalid quantity
    "2,2023-01-02,11,30.00,3",  # duplicate of 2: this one wins
)


def failure_description(result) -> str:
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert failure.step_key == "raw_orders"
    return failure.step_failure_data.user_failure_data.description


def totals(store) -> list[list]:
    summary = summary_of(store)
    return summary[["total_amount", "total_quantity", "order_count"]].values.tolist()


def test_orders_step_on_s3(s3_resources, s3_store):
    key = put_csv(s3_store, "2023-01-02_orders.csv", DIRTY)
    result = run_orders(s3_resources, [key])
    assert result.success

    summary = summary_of(s3_store)
    assert_summary_equal(summary, reference_summary(DIRTY))
    assert summary["order_count"].tolist() == [1, 1] and summary["total_amount"].tolist() == [10.0, 30.0]

    cleaned = output_metadata(result, "cleaned_orders")
    assert {k: v for k, v in cleaned.items() if k.startswith("dropped_")} == {
        "dropped_missing_order_id": 1,
        "dropped_missing_date": 1,
        "dropped_invalid_date": 1,
        "dropped_missing_amount": 1,
        "dropped_invalid_amount": 1,
        "dropped_missing_quantity": 0,
        "dropped_invalid_quantity": 1,
        "dropped_duplicate_order_id": 1,
        "dropped_total": 7,
    }
    assert cleaned["dagster/row_count"] == 2 and cleaned["loaded_files"] == {key: 2}
    assert cleaned["dagster/uri"].startswith("postgresql+psycopg2://postgres@127.0.0.1:")
    assert cleaned["dagster/uri"].endswith("#orders_rows")
    assert cleaned["quarantine_uri"] == f"s3://{s3_store.bucket}/{quarantine_key(result.run_id)}"
    dropped = from_parquet_bytes(s3_store.get_bytes(quarantine_key(result.run_id)))
    assert dropped.loc[dropped["reason"] == "invalid_amount", "amount"].tolist() == ["n/a"]
    assert dropped.loc[dropped["reason"] == "duplicate_order_id", "amount"].tolist() == ["20.00"]
    assert set(dropped["source_file"]) == {key}

    raw = output_metadata(result, "raw_orders")
    assert raw["dagster/row_count"] == 9 and raw["files_read"] == {key: 9} and raw["bad_files"] == []
    assert raw["dagster/uri"] == f"s3://{s3_store.bucket}/staging/raw_orders/"
    staged = pq.read_table(io.BytesIO(s3_store.get_bytes(staging_key(key))))
    assert staged.column("source_file").to_pylist() == [key] * 9

    summary_meta = output_metadata(result, "orders_summary")
    assert summary_meta["dagster/row_count"] == 2
    assert summary_meta["dagster/uri"] == f"s3://{s3_store.bucket}/lake/orders_summary.parquet"
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "cleaned_orders_unique_order_id": True,
        "orders_summary_not_empty": True,
        "orders_summary_no_negative_totals": True,
    }


def test_generated_files_match_an_independent_computation(s3_resources, s3_store):
    first = generate_orders_csv(5_000, seed=9, dirty_fraction=0.05, days=20)
    second = generate_orders_csv(3_000, seed=10, dirty_fraction=0.05, days=30)  # ids 1..3000 again: it wins
    run_orders(s3_resources, [put_csv(s3_store, "one.csv", first)])
    run_orders(s3_resources, [put_csv(s3_store, "two.csv", second)])
    assert_summary_equal(summary_of(s3_store), reference_summary(first, second))


def test_the_same_version_is_never_loaded_twice(s3_resources, s3_store):
    first = put_csv(s3_store, "a.csv", csv_bytes("1,2023-01-01,1,10,1", "2,2023-01-01,1,5,2"))
    second = put_csv(s3_store, "b.csv", csv_bytes("3,2023-01-01,1,1,1"))
    run_orders(s3_resources, [first])
    run_orders(s3_resources, [second])
    again = run_orders(s3_resources, [first])
    assert totals(s3_store) == [[16.0, 4, 3]]
    assert output_metadata(again, "cleaned_orders")["already_loaded_files"] == [first]
    assert output_metadata(again, "cleaned_orders")["loaded_files"] == {}


def test_a_reupload_replaces_that_files_rows(s3_resources, s3_store):
    key = put_csv(s3_store, "corrections.csv", csv_bytes("1,2023-01-01,1,10,1", "2,2023-01-02,1,5,2"))
    put_csv(s3_store, "other.csv", csv_bytes("9,2023-01-01,1,100,1"))
    run_orders(s3_resources)
    put_csv(s3_store, "corrections.csv", csv_bytes("1,2023-01-01,1,12,1"))  # 2 withdrawn, 1 corrected
    result = run_orders(s3_resources, [key])
    assert output_metadata(result, "cleaned_orders")["loaded_files"] == {key: 1}
    summary = summary_of(s3_store)
    assert summary["date"].astype(str).tolist() == ["2023-01-01"]  # 2023-01-02 had only order 2
    assert totals(s3_store) == [[112.0, 2, 2]]


def test_the_later_upload_wins_whatever_the_names(s3_resources, s3_store):
    store = s3_store
    first = put_csv(store, "zzz.csv", csv_bytes("1,2023-01-01,1,10,1"))  # uploaded first, sorts last
    late = put_csv_later(store, "aaa.csv", csv_bytes("1,2023-01-05,1,99,3"), than=first)
    run_orders(s3_resources)
    assert summary_of(store)["date"].astype(str).tolist() == ["2023-01-05"] and totals(store) == [[99.0, 3, 1]]

    put_csv_later(store, "zzz.csv", csv_bytes("1,2023-01-02,1,20,2"), than=late)  # re-uploaded: now the later one
    run_orders(s3_resources)
    assert summary_of(store)["date"].astype(str).tolist() == ["2023-01-02"] and totals(store) == [[20.0, 2, 1]]

    put_csv(store, "zzz.csv", csv_bytes("2,2023-01-02,1,1,1"))  # withdraws 1: aaa.csv's row is back
    run_orders(s3_resources)
    assert totals(store) == [[1.0, 1, 1], [99.0, 3, 1]]
    assert late in OrdersLedger(s3_resources["orders_db"]).versions_of([late])[0]


def test_same_last_modified_falls_back_to_the_key(local_resources, local_store):
    import os

    a = put_csv(local_store, "a.csv", csv_bytes("1,2023-01-01,1,10,1"))
    b = put_csv(local_store, "b.csv", csv_bytes("1,2023-01-01,1,20,1"))
    for key in (a, b):
        os.utime(local_store._path(key), ns=(1_700_000_000_000_000_000,) * 2)
    run_orders(local_resources)
    assert totals(local_store) == [[20.0, 1, 1]]


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
    description = failure_description(result)
    assert f"{key}: " in description and message in description
    assert s3_store.get_bytes(key) == data  # the file stays where it is
    assert not list(s3_store.list_objects("staging/"))
    etag = s3_store.head(key).etag
    assert OrdersLedger(s3_resources["orders_db"]).versions_of([key])[1] == {(key, etag)}


def test_in_a_batch_the_good_files_land_and_the_run_names_each_bad_one(s3_resources, s3_store):
    good = put_csv(s3_store, "good.csv", csv_bytes("1,2023-01-01,1,10,1"))
    bad = put_csv(s3_store, "bad.csv", b"nonsense")
    worse = put_csv(s3_store, "worse.csv", csv_bytes("1", header="order_id"))
    result = run_orders(s3_resources, [bad, good, worse], raise_on_error=False)
    assert not result.success
    description = failure_description(result)
    assert description.startswith("2 file(s) could not be ingested") and bad in description and worse in description
    assert totals(s3_store) == [[10.0, 1, 1]]
    assert output_metadata(result, "cleaned_orders")["loaded_files"] == {good: 1}

    catch_up = run_orders(s3_resources)  # rejected versions are not retried
    assert catch_up.success and output_metadata(catch_up, "raw_orders")["files_read"] == {}


def test_keys_outside_incoming_are_refused_without_echoing_them(s3_resources, s3_store):
    secret = "s3cr3t-value-from-the-environment"
    result = run_orders(s3_resources, ["incoming/orders/ok.csv", secret, "lake/x.csv"], raise_on_error=False)
    description = failure_description(result)
    assert "object_keys[1] is not an incoming orders file" in description and "object_keys[2]" in description
    assert secret not in description and "lake/x.csv" not in description
    assert not [e for e in result.all_events if secret in str(e)]


def test_missing_object_fails_clearly(s3_resources):
    result = run_orders(s3_resources, ["incoming/orders/gone.csv"], raise_on_error=False)
    assert "incoming/orders/gone.csv: does not exist" in failure_description(result)


def test_oversize_file_is_rejected_unread_and_stays(s3_resources, s3_store, monkeypatch):
    monkeypatch.setenv("ORDERS_MAX_FILE_MB", "0.001")  # about 1 KB
    key = put_csv(s3_store, "big.csv", csv_bytes(*[f"{i},2023-01-01,1,10,1" for i in range(200)]))
    result = run_orders(s3_resources, [key], raise_on_error=False)
    description = failure_description(result)
    assert f"{key}: " in description and "over the 0 MB cap (ORDERS_MAX_FILE_MB)" in description
    assert "Split the file, or raise the cap" in description
    assert s3_store.head(key).size > 1024 and not list(s3_store.list_objects("staging/"))


def test_only_the_order_columns_are_read(s3_resources, s3_store):
    extra = ",".join(f"c{i}" for i in range(2_000))
    header = "order_id,date,customer_id,amount,quantity," + extra
    key = put_csv(s3_store, "wide.csv", csv_bytes("1,2023-01-01,1,10,1," + extra, header=header))
    run_orders(s3_resources, [key])
    staged = pq.read_table(io.BytesIO(s3_store.get_bytes(staging_key(key))))
    assert staged.column_names == ["order_id", "date", "customer_id", "amount", "quantity", "source_file", "row_no"]


def test_catch_up_ingests_every_pending_version(s3_resources, s3_store):
    first = put_csv(s3_store, "1.csv", csv_bytes("1,2023-01-01,1,10,1"))
    run_orders(s3_resources, [first])
    second = put_csv(s3_store, "2.csv", csv_bytes("2,2023-01-01,1,20,1"))
    s3_store.put_bytes("incoming/orders/readme.txt", b"not an orders file")
    result = run_orders(s3_resources)
    assert output_metadata(result, "raw_orders")["mode"] == "catch-up"
    assert output_metadata(result, "raw_orders")["files_read"] == {second: 1}
    assert totals(s3_store) == [[30.0, 2, 2]]


def test_a_run_touches_only_the_dates_of_its_files(local_resources, local_store):
    history = generate_orders_csv(20_000, seed=1, dirty_fraction=0, days=300)
    run_orders(local_resources, [put_csv(local_store, "history.csv", history)])
    result = run_orders(local_resources, [put_csv(local_store, "new.csv", csv_bytes("900001,2024-06-01,1,5,1"))])
    assert output_metadata(result, "cleaned_orders")["dates_touched"] == 1
    assert output_metadata(result, "cleaned_orders")["stored_files"] == 2


def test_catch_up_with_nothing_incoming(s3_resources):
    result = run_orders(s3_resources, raise_on_error=False)
    assert output_metadata(result, "raw_orders")["dagster/row_count"] == 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["orders_summary_not_empty"] is False


def test_negative_totals_fail_the_check(s3_resources, s3_store):
    key = put_csv(s3_store, "refunds.csv", csv_bytes("1,2023-01-01,1,-50,1", "2,2023-01-01,1,10,1"))
    result = run_orders(s3_resources, [key], raise_on_error=False)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["orders_summary_no_negative_totals"].passed is False
    assert checks["orders_summary_no_negative_totals"].metadata["examples"].value == ["2023-01-01"]
    assert checks["orders_summary_not_empty"].passed is True


def test_local_mode(local_resources, local_store):
    key = put_csv(local_store, "local.csv", DIRTY)
    result = run_orders(local_resources, [key])
    assert result.success
    assert_summary_equal(summary_of(local_store), reference_summary(DIRTY))
    meta = output_metadata(result, "cleaned_orders")
    assert meta["dropped_total"] == 7 and meta["quarantine_uri"].startswith("file://")
    assert len(from_parquet_bytes(local_store.get_bytes(quarantine_key(result.run_id)))) == 7


def test_a_file_read_in_many_blocks_gives_the_same_result(s3_resources, s3_store, monkeypatch):
    from orders_and_sales.defs.orders import ingest

    monkeypatch.setattr(ingest, "BLOCK_BYTES", 4096)  # ~130 rows a block
    data = generate_orders_csv(3_000, seed=4, dirty_fraction=0.05, days=9)
    data += b"2,2023-01-05,1,99.00,7\n3,2023-01-06,1,1.25,1\n"  # ids of the first block again, in the last
    key = put_csv(s3_store, "blocks.csv", data)
    result = run_orders(s3_resources, [key])
    assert_summary_equal(summary_of(s3_store), reference_summary(data))
    meta = output_metadata(result, "cleaned_orders")
    reference = reference_summary(data)
    assert meta["loaded_files"] == {key: int(reference["order_count"].sum())}
    assert meta["dropped_duplicate_order_id"] > 0
    dropped = from_parquet_bytes(s3_store.get_bytes(quarantine_key(result.run_id)))
    assert (dropped["reason"] == "duplicate_order_id").sum() == meta["dropped_duplicate_order_id"]
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["cleaned_orders_unique_order_id"]
    staged = pq.read_table(io.BytesIO(s3_store.get_bytes(staging_key(key))))
    assert staged.num_rows == 3_002 and staged.column("row_no").to_pylist() == list(range(3_002))
    across = dropped[(dropped["reason"] == "duplicate_order_id") & dropped["order_id"].isin(["2", "3"])]
    assert sorted(across["order_id"]) == ["2", "3"] and set(across["source_file"]) == {key}
