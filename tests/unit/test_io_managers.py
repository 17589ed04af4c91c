"""ParquetIOManager: layout, metadata, multi-partition outputs and hostile keys."""

import io
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import (
    AssetKey,
    DailyPartitionsDefinition,
    StaticPartitionsDefinition,
    asset,
    build_input_context,
    materialize,
)

from dagster_platform.io_managers import ParquetIOManager, from_parquet_bytes, partition_file_name, to_parquet_bytes
from dagster_platform.resources import ObjectNotFound

DAYS = DailyPartitionsDefinition(start_date="2023-01-01", end_date="2023-01-05")


def range_tags(first: str, last: str) -> dict:
    """Run tags that make one run cover partitions first..last (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


HOSTILE = ["..", "a/b/../c", "'; DROP TABLE sales; --", 'ü "x" %2F']


@pytest.mark.parametrize("key", HOSTILE)
def test_partition_file_name_is_one_safe_segment(key):
    name = partition_file_name(key)
    assert "/" not in name and name not in (".", "..") and name.endswith(".parquet")


def test_unpartitioned_round_trip_and_metadata(s3_store):
    @asset
    def numbers() -> pd.DataFrame:
        return pd.DataFrame({"n": [1, 2, 3]})

    @asset
    def doubled(numbers: pd.DataFrame) -> pd.DataFrame:
        return numbers * 2

    result = materialize([numbers, doubled], resources={"io_manager": ParquetIOManager(store=s3_store)})
    assert result.success
    metadata = result.asset_materializations_for_node("numbers")[0].metadata
    assert metadata["dagster/uri"].value == f"s3://{s3_store.bucket}/lake/numbers.parquet"
    assert metadata["dagster/row_count"].value == 3
    assert from_parquet_bytes(s3_store.get_bytes("lake/doubled.parquet"))["n"].tolist() == [2, 4, 6]


def test_multi_partition_output_writes_every_partition(local_store):
    @asset(partitions_def=DAYS, metadata={"partition_expr": "date"})
    def days(context) -> pd.DataFrame:
        start = context.partition_time_window.start
        # No rows for the last day: its file must still exist, empty.
        return pd.DataFrame({"date": pd.date_range(start, periods=3).date, "v": [1, 2, 3]})

    @asset(partitions_def=DAYS)
    def total(days: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"v": [days["v"].sum()]})

    io_manager = ParquetIOManager(store=local_store)
    result = materialize([days], resources={"io_manager": io_manager}, tags=range_tags("2023-01-01", "2023-01-04"))
    assert result.success
    keys = sorted(o.key for o in local_store.list_objects("lake/days/"))
    assert keys == [f"lake/days/2023-01-0{i}.parquet" for i in range(1, 5)]
    assert from_parquet_bytes(local_store.get_bytes("lake/days/2023-01-04.parquet")).empty
    assert result.asset_materializations_for_node("days")[0].metadata["dagster/row_count"].value == 3
    assert materialize(
        [days, total], resources={"io_manager": io_manager}, partition_key="2023-01-02", selection=[total]
    ).success


def test_multi_partition_output_without_partition_expr_is_refused(local_store):
    @asset(partitions_def=DAYS)
    def undeclared() -> pd.DataFrame:
        return pd.DataFrame({"v": [1]})

    with pytest.raises(ValueError, match="partition_expr"):
        materialize(
            [undeclared],
            resources={"io_manager": ParquetIOManager(store=local_store)},
            tags=range_tags("2023-01-01", "2023-01-02"),
        )


def test_hostile_partition_keys_stay_inside_the_prefix(local_store, s3_store):
    hostile = StaticPartitionsDefinition(HOSTILE)

    @asset(partitions_def=hostile)
    def per_key(context) -> pd.DataFrame:
        return pd.DataFrame({"key": [context.partition_key]})

    for store in (local_store, s3_store):
        for key in HOSTILE:
            assert materialize(
                [per_key], resources={"io_manager": ParquetIOManager(store=store)}, partition_key=key
            ).success
        stored = list(store.list_objects("lake/per_key/"))
        assert len(stored) == len(HOSTILE)
        for key in HOSTILE:
            frame = from_parquet_bytes(store.get_bytes(f"lake/per_key/{partition_file_name(key)}"))
            assert frame["key"].tolist() == [key]


def test_loading_a_missing_asset_says_what_to_do(local_store):
    io_manager = ParquetIOManager(store=local_store)
    with pytest.raises(ObjectNotFound, match="never_built has no stored value .* materialize it"):
        io_manager.load_input(build_input_context(asset_key=AssetKey("never_built")))


def test_arrow_backed_frames_come_back_arrow_backed_and_others_unchanged():
    arrow = pd.DataFrame(
        {
            "id": pd.array(["a", None], dtype=pd.ArrowDtype(pa.string())),
            "day": pd.array([date(2023, 1, 1), None], dtype=pd.ArrowDtype(pa.date32())),
            "n": pd.array([1, None], dtype="int64[pyarrow]"),
        }
    )
    loaded = from_parquet_bytes(to_parquet_bytes(arrow))
    assert loaded.dtypes.tolist() == arrow.dtypes.tolist()  # strings too, not StringDtype copies
    pd.testing.assert_frame_equal(loaded, arrow)

    plain = pd.DataFrame({"id": ["a", "b"], "v": [1.5, 2.0], "k": [1, 2]})
    pd.testing.assert_frame_equal(from_parquet_bytes(to_parquet_bytes(plain)), plain)


def test_to_parquet_bytes_takes_arrow_tables_too():
    table = pa.table({"id": ["a", "b"], "n": [1, 2]})
    assert pq.read_table(io.BytesIO(to_parquet_bytes(table))).equals(table)
