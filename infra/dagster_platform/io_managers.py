"""Parquet in the object store, one file per asset or per partition.

Layout: ``<prefix>/<asset key path>.parquet`` for unpartitioned assets and
``<prefix>/<asset key path>/<quoted partition key>.parquet`` for partitioned ones.
Partition keys are data (product ids with quotes, slashes, unicode), so they are
percent-encoded into a single path segment that can never climb out of its folder.

Unlike Dagster's ``UPathIOManager`` family, this IO manager accepts an output that
covers many partitions (a single-run backfill): it splits the frame on the column
named by the asset's ``partition_expr`` metadata and writes every partition,
including empty ones, so downstream reads never find a hole.
"""

import io
from collections.abc import Sequence
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from .resources import ObjectNotFound, ObjectStore

PARTITION_EXPR = "partition_expr"


def partition_file_name(partition_key: str) -> str:
    """A single, safe path segment for any partition key."""
    return quote(partition_key, safe="") + ".parquet"


def to_parquet_bytes(data: pd.DataFrame | pa.Table) -> bytes:
    """zstd Parquet of a pandas frame (index dropped) or an Arrow table."""
    table = pa.Table.from_pandas(data, preserve_index=False) if isinstance(data, pd.DataFrame) else data
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def from_parquet_bytes(data: bytes) -> pd.DataFrame:
    """The frame with the dtypes it was stored with.

    A frame whose columns were all Arrow-backed (``pd.ArrowDtype``, as the orders assets
    return) comes back Arrow-backed, without a copy; plain ``to_pandas`` would turn its
    strings into ``StringDtype`` (large_string) copies. Other frames keep pandas' defaults.
    """
    table = pq.read_table(io.BytesIO(data))
    columns = (table.schema.pandas_metadata or {}).get("columns", [])
    arrow_backed = bool(columns) and all(str(c["numpy_type"]).endswith("[pyarrow]") for c in columns)
    return table.to_pandas(types_mapper=pd.ArrowDtype if arrow_backed else None)


def partition_labels(column: pd.Series) -> pd.Series:
    """The partition key each row belongs to, as the string Dagster uses."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d")
    return column.astype(str)


class ParquetIOManager(ConfigurableIOManager):
    """Stores pandas DataFrames as zstd Parquet in the object store."""

    store: ResourceDependency[ObjectStore]
    prefix: str = "lake"

    def _object_key(self, asset_path: Sequence[str], partition_key: str | None = None) -> str:
        base = "/".join([self.prefix, *(quote(part, safe="") for part in asset_path)])
        if partition_key is None:
            return base + ".parquet"
        return f"{base}/{partition_file_name(partition_key)}"

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"ParquetIOManager stores pandas DataFrames; {context.asset_key.to_user_string()} "
                f"returned {type(obj).__name__}."
            )
        path = context.asset_key.path
        if not context.has_asset_partitions:
            key = self._object_key(path)
            self.store.put_bytes(key, to_parquet_bytes(obj))
        elif len(context.asset_partition_keys) == 1:
            key = self._object_key(path, context.asset_partition_keys[0])
            self.store.put_bytes(key, to_parquet_bytes(obj))
        else:
            key = self._write_partitions(context, obj)
        context.add_output_metadata({"dagster/uri": self.store.uri(key), "dagster/row_count": len(obj)})

    def _write_partitions(self, context: OutputContext, obj: pd.DataFrame) -> str:
        """Split a multi-partition output by its partition column; returns the folder key."""
        column = (context.definition_metadata or {}).get(PARTITION_EXPR)
        if column not in obj.columns:
            raise ValueError(
                f"{context.asset_key.to_user_string()} produced {len(context.asset_partition_keys)} partitions "
                f"in one run, so it needs metadata {{'{PARTITION_EXPR}': <column>}} naming a column of its "
                f"output (columns: {list(obj.columns)})."
            )
        labels = partition_labels(obj[column])
        expected = set(context.asset_partition_keys)
        stray = set(labels.unique()) - expected
        if stray:
            raise ValueError(
                f"{context.asset_key.to_user_string()} returned rows for partitions outside the run: "
                f"{sorted(stray)[:5]}"
            )
        groups = dict(tuple(obj.groupby(labels, sort=False)))
        empty = obj.iloc[0:0]
        for partition_key in context.asset_partition_keys:
            frame = groups.get(partition_key, empty)
            self.store.put_bytes(self._object_key(context.asset_key.path, partition_key), to_parquet_bytes(frame))
        return self._object_key(context.asset_key.path).removesuffix(".parquet") + "/"

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = context.asset_key.path
        if not context.has_asset_partitions:
            keys = [self._object_key(path)]
        else:
            keys = [self._object_key(path, p) for p in context.asset_partition_keys]
        frames = []
        for key in keys:
            try:
                frames.append(from_parquet_bytes(self.store.get_bytes(key)))
            except ObjectNotFound as exc:
                raise ObjectNotFound(
                    f"{context.asset_key.to_user_string()} has no stored value at {self.store.uri(key)}: "
                    "materialize it (or that partition) first."
                ) from exc
        if len(frames) == 1:
            return frames[0]
        return pd.concat(frames, ignore_index=True)
