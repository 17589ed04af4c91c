"""The orders store: every ingested file's rows, which file version each key holds, and
the per-date summary, kept in SQL so that one file costs the same however long the
history is.

Tables (tables.py; schema ``orders`` on the warehouse server, the same names in the local SQLite file):

* ``orders_files``: one row per incoming key, the version (ETag) whose rows are loaded.
  A key + ETag in here is never ingested again (the sensor and every run check it).
* ``orders_rejected``: key + ETag versions that could not be ingested (malformed,
  oversize), with the reason; they are not retried until the content changes.
* ``orders_rows``: the valid rows of every loaded file version, with the file's
  ``source_modified``. Re-uploading a key replaces its rows.
* ``orders_summary_by_date``: the totals per date over the *winning* row of each
  order_id, maintained by deltas.

"Later upload wins": among all rows with one ``order_id`` the winner is the one with the
greatest (``source_modified`` = the object's LastModified, then ``source_key`` byte by byte, then its
row number in the file). A commit recomputes the winners only for the order_ids that the
committed files had or have, and adds the difference to the touched dates, so its cost
follows the files, not the history.

Commits take a transaction-scoped advisory lock (Postgres), so concurrent runs apply
their deltas one after the other and never lose each other's updates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from dagster_platform.resources import WarehouseResource
from .tables import (
    BATCH_COLUMNS,
    BATCH_SOURCE_ROWS_VIEW,
    ROW_COLUMNS,
    batch_files_table,
    batch_metadata,
    batch_table,
    compare_keys_by_bytes,
    files_table,
    metadata,
    rejected_table,
)

# pg_advisory_xact_lock key of the orders store ("ORDR"): commits and summary snapshots.
LOCK_KEY = 0x4F52_4452

ANALYZE_AFTER_ROWS = 10_000

# The stored rows of every order_id the batch touches, read once (by the order_id index)
# before the batch's keys are replaced: the winners before and after are both ranked from it.
_PRIOR_ROWS = """
CREATE TEMP TABLE prior_rows AS
SELECT r.source_key, r.row_no, r.order_id, r.date, r.amount, r.quantity, r.source_modified
FROM orders_rows r JOIN affected_ids a ON a.order_id = r.order_id
"""
# The winning row of each order_id among {rows}: the latest upload (see module docstring).
_WINNERS = """
SELECT order_id, date, amount, quantity FROM (
  SELECT order_id, date, amount, quantity,
         ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY source_modified DESC, source_key DESC, row_no DESC) AS rank
  FROM ({rows}) candidates
) ranked WHERE rank = 1
"""
_ROW_FIELDS = "source_key, row_no, order_id, date, amount, quantity, source_modified"
# The summary delta: minus the winners before the batch, plus the winners after it. One
# row per date touched, so the statement's row count is the number of dates touched.
_APPLY_DELTA = """
INSERT INTO orders_summary_by_date (date, total_amount, total_quantity, order_count)
SELECT date, SUM(sign * amount), SUM(sign * quantity), SUM(sign) FROM (
  SELECT date, amount, quantity, -1 AS sign FROM ({before}) winners_before
  UNION ALL
  SELECT date, amount, quantity, 1 AS sign FROM ({after}) winners_after
) delta WHERE true GROUP BY date
ON CONFLICT (date) DO UPDATE SET
  total_amount = orders_summary_by_date.total_amount + excluded.total_amount,
  total_quantity = orders_summary_by_date.total_quantity + excluded.total_quantity,
  order_count = orders_summary_by_date.order_count + excluded.order_count
"""
_TEMP_TABLES = ("batch_rows", "batch_files", "batch_duplicates", "affected_ids", "prior_rows")


VALID_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("date", pa.date32()),
        ("customer_id", pa.string()),
        ("amount", pa.float64()),
        ("quantity", pa.int64()),
        ("row_no", pa.int64()),
    ]
)


@dataclass(frozen=True)
class FileRows:
    """The valid rows of one version of one incoming file, ready to load."""

    key: str
    etag: str
    size: int
    last_modified: dt.datetime
    rows: pa.Table | Path
    """:data:`VALID_SCHEMA` rows, in memory or in a local Parquet file (read a batch at a time)."""
    blocks: int = 1
    """Blocks the file was cleaned in: with more than one, duplicates across blocks remain."""

    def batches(self, rows_per_batch: int = 500_000) -> Iterator[pa.RecordBatch]:
        if isinstance(self.rows, pa.Table):
            yield from self.rows.to_batches(max_chunksize=rows_per_batch)
        else:
            yield from pq.ParquetFile(self.rows).iter_batches(batch_size=rows_per_batch)


@dataclass(frozen=True)
class CommitResult:
    loaded: dict[str, int]
    """key -> rows loaded, for the files this commit loaded."""
    already_loaded: list[str]
    """keys whose version was loaded before (a resumed or repeated run): left alone."""
    dates_touched: int
    duplicates: pa.Table | None = None
    """Rows dropped because a later row of the same file has their order_id (files cleaned
    in several blocks only), with ``source_file`` and ``reason``."""
    stored_twice: int = 0
    """(file, order_id) pairs loaded more than once: a cleaning fault, which fails the
    unique-order_id check (cleaning keeps one row per order_id and block)."""
    stored_twice_examples: list[str] = field(default_factory=list)


class _RepeatedIds(NamedTuple):
    """What :meth:`OrdersLedger._resolve_repeated_ids` found (see the CommitResult fields)."""

    duplicates: pa.Table | None
    stored_twice: int
    examples: list[str]


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


class OrdersLedger:
    """The orders tables, through a :class:`WarehouseResource` with write access."""

    def __init__(self, database: WarehouseResource):
        self.database = database
        self.engine = database.get_engine()
        self.is_postgres = self.engine.dialect.name == "postgresql"

    @contextmanager
    def locked(self) -> Iterator[sa.Connection]:
        """A transaction holding the orders lock (Postgres: an advisory lock; SQLite locks
        the whole file for writers anyway). Creates the tables on first use."""
        with self.database.connect() as conn, conn.begin():
            if self.is_postgres:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                # Every statement here touches few rows; JIT compiling them costs ~0.1 s each.
                conn.execute(sa.text("SET LOCAL jit = off"))
            metadata.create_all(conn, checkfirst=True)
            if self.is_postgres:
                compare_keys_by_bytes(conn)
            yield conn

    def uri(self, table: str) -> str:
        """Where a table of the store is, without the password."""
        return f"{self.database.url().render_as_string(hide_password=True)}#{table}"

    # --- what is known about incoming objects ----------------------------------------
    def known_versions(self, first_key: str, last_key: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
        """For keys in [first_key, last_key]: key -> loaded ETag, and rejected (key, ETag) pairs.

        One range scan per table on the primary key, whatever the number of keys.
        """
        return self._versions(sa.text("key >= :lo AND key <= :hi"), {"lo": first_key, "hi": last_key})

    def versions_of(self, keys: list[str]) -> tuple[dict[str, str], set[tuple[str, str]]]:
        """:meth:`known_versions` for a list of keys."""
        if not keys:
            return {}, set()
        return self._versions(sa.text("key IN :keys").bindparams(sa.bindparam("keys", expanding=True)), {"keys": keys})

    def _versions(self, where: sa.TextClause, params: dict) -> tuple[dict[str, str], set[tuple[str, str]]]:
        with self.database.connect() as conn:
            if not sa.inspect(conn).has_table("orders_files"):
                return {}, set()
            loaded, rejected = (
                conn.execute(sa.select(table.c.key, table.c.etag).where(where), params).all()
                for table in (files_table, rejected_table)
            )
        return {key: etag for key, etag in loaded}, {(key, etag) for key, etag in rejected}

    def reject(self, key: str, etag: str, reason: str, run_id: str) -> None:
        with self.locked() as conn:
            conn.execute(rejected_table.delete().where(rejected_table.c.key == key, rejected_table.c.etag == etag))
            conn.execute(
                rejected_table.insert(),
                {
                    "key": key,
                    "etag": etag,
                    "reason": reason,
                    "run_id": run_id,
                    "rejected_at": _naive_utc(dt.datetime.now(dt.timezone.utc)),
                },
            )

    # --- loading -------------------------------------------------------------------------
    def commit(self, files: list[FileRows], run_id: str) -> CommitResult:
        """Load ``files`` (each replacing its key's earlier rows) and apply the summary delta,
        in one transaction. Versions already loaded are skipped, so a retried or repeated
        run ingests nothing twice."""
        with self.locked() as conn:
            current: dict[str, str] = (
                {
                    key: etag
                    for key, etag in conn.execute(
                        sa.select(files_table.c.key, files_table.c.etag).where(
                            files_table.c.key.in_([f.key for f in files])
                        )
                    )
                }
                if files
                else {}
            )
            fresh = [f for f in files if current.get(f.key) != f.etag]
            skipped = [f.key for f in files if current.get(f.key) == f.etag]
            if not fresh:
                return CommitResult({}, skipped, 0)
            keys = [f.key for f in fresh]
            self._drop_temp_tables(conn)
            batch_metadata.create_all(conn)
            conn.execute(sa.text(BATCH_SOURCE_ROWS_VIEW))
            copied = self._load_rows(conn, fresh)
            repeated = self._resolve_repeated_ids(conn, fresh)
            dropped = Counter(repeated.duplicates["source_file"].to_pylist()) if repeated.duplicates else Counter()
            loaded = {key: copied[key] - dropped[key] for key in keys}
            in_keys: sa.BindParameter = sa.bindparam("keys", expanding=True)
            conn.execute(
                sa.text(
                    "CREATE TEMP TABLE affected_ids AS"
                    " SELECT order_id FROM orders_rows WHERE source_key IN :keys"
                    " UNION SELECT order_id FROM batch_rows"
                ).bindparams(in_keys),
                {"keys": keys},
            )
            conn.execute(sa.text(_PRIOR_ROWS))
            delta = self._delta_statement(conn, keys)  # reads temp tables only: valid after the swap
            conn.execute(
                sa.text("DELETE FROM orders_rows WHERE source_key IN :keys").bindparams(in_keys), {"keys": keys}
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO orders_rows ({', '.join(ROW_COLUMNS)}) "
                    f"SELECT {', '.join(ROW_COLUMNS)} FROM batch_source_rows"
                )
            )
            self._refresh_statistics(conn, sum(loaded.values()))
            dates = conn.execute(delta, {"keys": keys}).rowcount
            conn.execute(sa.text("DELETE FROM orders_summary_by_date WHERE order_count = 0"))
            now = _naive_utc(dt.datetime.now(dt.timezone.utc))
            conn.execute(files_table.delete().where(files_table.c.key.in_(keys)))
            conn.execute(
                files_table.insert(),
                [
                    {
                        "key": f.key,
                        "etag": f.etag,
                        "last_modified": _naive_utc(f.last_modified),
                        "size": f.size,
                        "row_count": loaded[f.key],
                        "run_id": run_id,
                        "ingested_at": now,
                    }
                    for f in fresh
                ],
            )
            self._drop_temp_tables(conn)
        return CommitResult(loaded, skipped, int(dates), repeated.duplicates, repeated.stored_twice, repeated.examples)

    def _delta_statement(self, conn: sa.Connection, keys: list[str]) -> sa.TextClause:
        """The summary delta's INSERT, with the winners after the batch ranked over the
        batch's rows and the other files' stored rows of the same ids. A single file whose
        ids no other file holds (the usual new file) is its own winners: ``batch_rows``
        already has one row per order_id and file, so that ranking's sort is skipped."""
        in_keys: sa.BindParameter = sa.bindparam("keys", expanding=True)
        others = f"SELECT {_ROW_FIELDS} FROM prior_rows WHERE source_key NOT IN :keys"
        shared = conn.execute(sa.text(f"SELECT EXISTS ({others})").bindparams(in_keys), {"keys": keys}).scalar_one()
        before = _WINNERS.format(rows="SELECT * FROM prior_rows")
        if len(keys) == 1 and not shared:
            return sa.text(_APPLY_DELTA.format(before=before, after="SELECT * FROM batch_rows"))
        after = _WINNERS.format(rows=f"{others} UNION ALL SELECT {_ROW_FIELDS} FROM batch_source_rows")
        return sa.text(_APPLY_DELTA.format(before=before, after=after)).bindparams(in_keys)

    def _resolve_repeated_ids(self, conn: sa.Connection, fresh: list[FileRows]) -> _RepeatedIds:
        """order_ids that a file of the batch has more than once. A file cleaned in several
        blocks keeps the last row of each (the cleaning kept one per block): the earlier ones
        are dropped and returned. In any other file a repeat is a cleaning fault: counted,
        so that the unique-order_id check fails."""
        # One aggregate pass finds the few repeated ids, then one pass drops the earlier rows
        # (a hash semi-join against that small table): no index on the batch, no per-row
        # lookups (5 M rows: 17 s before with an index, benchmarks/NOTES.md).
        conn.execute(
            sa.text(
                "CREATE TEMP TABLE batch_duplicates AS SELECT file_no, order_id, MAX(row_no) AS last_row_no"
                " FROM batch_rows GROUP BY file_no, order_id HAVING COUNT(*) > 1"
            )
        )
        blocks: sa.BindParameter = sa.bindparam("blocks", expanding=True, type_=sa.Integer)
        multi = {"blocks": [file_no for file_no, f in enumerate(fresh) if f.blocks > 1]}
        faults = "FROM batch_duplicates WHERE file_no NOT IN :blocks"
        stored_twice = conn.execute(sa.text(f"SELECT COUNT(*) {faults}").bindparams(blocks), multi).scalar_one()
        examples = conn.execute(
            sa.text(f"SELECT file_no, order_id {faults} ORDER BY file_no, order_id LIMIT 20").bindparams(blocks),
            multi,
        ).all()
        faults_found = int(stored_twice), [f"{fresh[no].key}: {order_id}" for no, order_id in examples]
        if not multi["blocks"]:
            return _RepeatedIds(None, *faults_found)
        conn.execute(sa.text(f"DELETE {faults}").bindparams(blocks), multi)  # reported, not resolved
        conn.execute(sa.text("ANALYZE batch_duplicates"))
        dropped = (
            conn.execute(
                sa.text(
                    "DELETE FROM batch_rows WHERE EXISTS (SELECT 1 FROM batch_duplicates d"
                    " WHERE d.file_no = batch_rows.file_no AND d.order_id = batch_rows.order_id"
                    " AND batch_rows.row_no < d.last_row_no) "
                    "RETURNING file_no, row_no, order_id, date, customer_id, amount, quantity"
                )
            )
            .mappings()
            .all()
        )
        text = ["order_id", "date", "customer_id", "amount", "quantity"]
        frame = pd.DataFrame(dropped, columns=["file_no", "row_no", *text])
        frame[text] = frame[text].astype(str)
        duplicates = pa.table(
            {
                **{c: pa.array(frame[c], pa.string()) for c in text},
                "source_file": pa.array([fresh[no].key for no in frame["file_no"]], pa.string()),
                "row_no": pa.array(frame["row_no"], pa.int64()),
                "reason": pa.array(["duplicate_order_id"] * len(frame), pa.string()),
            }
        )
        return _RepeatedIds(duplicates, *faults_found)

    def _refresh_statistics(self, conn: sa.Connection, inserted: int) -> None:
        """ANALYZE after a load that grew the table by a tenth or more, so that the winners
        lookups of the next small file use the order_id index instead of scanning the
        whole history (autovacuum would get there too, but only a minute or so later)."""
        if not self.is_postgres or inserted < ANALYZE_AFTER_ROWS:
            return
        estimate = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'orders_rows'::regclass")).scalar()
        if estimate is None or estimate < 0 or inserted > 0.1 * estimate:
            conn.execute(sa.text("ANALYZE orders_rows"))

    @staticmethod
    def _drop_temp_tables(conn: sa.Connection) -> None:
        conn.execute(sa.text("DROP VIEW IF EXISTS batch_source_rows"))
        for name in _TEMP_TABLES:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))

    def _load_rows(self, conn: sa.Connection, files: list[FileRows]) -> Counter[str]:
        """Rows into ``batch_rows``: COPY on Postgres (streamed per record batch), inserts
        elsewhere. Returns key -> rows written."""
        written: Counter[str] = Counter({f.key: 0 for f in files})
        conn.execute(
            batch_files_table.insert(),
            [
                {"file_no": no, "source_key": f.key, "source_modified": _naive_utc(f.last_modified)}
                for no, f in enumerate(files)
            ],
        )
        if self.is_postgres:
            driver = conn.connection.driver_connection
            assert driver is not None, "a pooled connection always has its DBAPI connection"
            cursor = driver.cursor()
            copy = f"COPY batch_rows ({', '.join(BATCH_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
            for no, f in enumerate(files):
                for chunk in _csv_chunks(no, f):
                    cursor.copy_expert(copy, chunk)
                    written[f.key] += cursor.rowcount
            return written
        for no, f in enumerate(files):
            for batch in _numbered(no, f):
                if batch.num_rows:
                    conn.execute(batch_table.insert(), batch.to_pylist())
                    written[f.key] += batch.num_rows
        return written

    # --- reading -------------------------------------------------------------------------
    def summary(self, conn: sa.Connection) -> pd.DataFrame:
        """``orders_summary``: one row per date, sorted (read inside :meth:`locked`)."""
        frame = pd.read_sql_query(
            sa.text("SELECT date, total_amount, total_quantity, order_count FROM orders_summary_by_date ORDER BY date"),
            conn,
        )
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return frame.astype({"total_amount": "float64", "total_quantity": "int64", "order_count": "int64"})

    def loaded_counts(self, conn: sa.Connection) -> tuple[int, int]:
        """(files loaded, rows loaded) in the store."""
        files, rows = conn.execute(sa.text("SELECT COUNT(*), COALESCE(SUM(row_count), 0) FROM orders_files")).one()
        return int(files), int(rows)


def _numbered(file_no: int, f: FileRows) -> Iterator[pa.RecordBatch]:
    """The file's rows as ``batch_rows`` batches: with the file's number."""
    for rows in f.batches():
        yield pa.RecordBatch.from_pydict(
            {"file_no": pa.repeat(pa.scalar(file_no, pa.int32()), rows.num_rows)}
            | {name: rows[name] for name in BATCH_COLUMNS[1:]}
        )


def _csv_chunks(file_no: int, f: FileRows) -> Iterator[io.BytesIO]:
    """The file's rows as CSV (COPY input), a bounded batch at a time, written by Arrow.

    Arrow quotes every string and leaves nulls unquoted and empty, which is exactly how
    COPY's CSV format tells an empty string from NULL.
    """
    options = pacsv.WriteOptions(include_header=False)
    for batch in _numbered(file_no, f):
        buffer = io.BytesIO()
        pacsv.write_csv(batch, buffer, options)
        buffer.seek(0)
        yield buffer
