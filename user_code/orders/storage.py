"""Where the orders domain keeps things in the object store (docs/CONTRACT.md) and how
one incoming file is staged."""

from __future__ import annotations

import io
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.parquet as pq

from ..io_managers import to_parquet_bytes
from ..resources import ObjectStore
from ..sample_data import ORDER_COLUMNS
from .cleaning import SOURCE_FILE, read_orders_csv

INCOMING_PREFIX = "incoming/orders/"
STAGING_PREFIX = "staging/raw_orders/"
QUARANTINE_PREFIX = "quarantine/cleaned_orders/"
PARQUET = ".parquet"
RAW_SCHEMA = pa.schema([(column, pa.string()) for column in [*ORDER_COLUMNS, SOURCE_FILE]])


def is_orders_csv(key: str) -> bool:
    """An orders file the pipeline ingests: ``incoming/orders/*.csv``."""
    return key.startswith(INCOMING_PREFIX) and key.lower().endswith(".csv") and len(key) > len(INCOMING_PREFIX) + 4


def staging_key(object_key: str) -> str:
    """One staging object per incoming key: re-ingesting a file overwrites, never adds."""
    return f"{STAGING_PREFIX}{quote(object_key, safe='')}{PARQUET}"


def source_of_staging_key(key: str) -> str | None:
    if not (key.startswith(STAGING_PREFIX) and key.endswith(PARQUET)):
        return None
    return unquote(key[len(STAGING_PREFIX):-len(PARQUET)])


def quarantine_key(run_id: str) -> str:
    return f"{QUARANTINE_PREFIX}{quote(run_id, safe='')}{PARQUET}"


def stage_file(store: ObjectStore, object_key: str) -> pa.Table:
    """Parse one incoming CSV and write it, with its ``source_file``, to its staging key.

    Raises ``MalformedOrdersFile`` (nothing is written) or the store's errors.
    """
    table = read_orders_csv(store.get_bytes(object_key), name=object_key)
    table = table.append_column(SOURCE_FILE, pa.repeat(pa.scalar(object_key, pa.string()), table.num_rows))
    store.put_bytes(staging_key(object_key), to_parquet_bytes(table))
    return table


def staged_sources(store: ObjectStore) -> dict[str, str]:
    """Incoming key -> staging key, for every staged file, in incoming-key order."""
    staged = {}
    for item in store.list_objects(STAGING_PREFIX):
        source = source_of_staging_key(item.key)
        if source is not None:
            staged[source] = item.key
    return dict(sorted(staged.items()))


def read_staged(store: ObjectStore, staged: dict[str, str], fresh: dict[str, pa.Table]) -> pa.Table:
    """The union of the ``staged`` files (see :func:`staged_sources`), in order, rows in file order.

    ``fresh`` maps incoming keys staged by this run to the tables :func:`stage_file`
    returned: those are used as they are instead of being read back from the store.
    """
    tables = [
        fresh[source] if source in fresh else pq.read_table(io.BytesIO(store.get_bytes(key)))
        for source, key in staged.items()
    ]
    return pa.concat_tables([RAW_SCHEMA.empty_table(), *(t.select(RAW_SCHEMA.names) for t in tables)])
