"""The orders store's tables (see ledger.py for how they are used): the four stored tables
and the temporary ones a commit stages its batch in. Created on first use by
``OrdersLedger.locked``; a store from before keys compared byte by byte is upgraded there.
"""

from __future__ import annotations

import sqlalchemy as sa

# Keys and order ids compare byte by byte (collation "C"), the order S3 lists keys in. The
# database default in the postgres image (en_US) is linguistic: it sorts "B.csv" after
# "a.csv", so a key range taken from a listing would miss keys (known_versions), and its
# comparisons make every index insert slower (5 M rows: 18.0 -> 14.9 s, benchmarks/NOTES.md).
KEY_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BYTE_ORDER_COLUMNS = {"orders_files": ["key"], "orders_rejected": ["key"], "orders_rows": ["source_key", "order_id"]}

metadata = sa.MetaData()
files_table = sa.Table(
    "orders_files",
    metadata,
    sa.Column("key", KEY_TEXT, primary_key=True),
    sa.Column("etag", sa.Text, nullable=False),
    sa.Column("last_modified", sa.DateTime, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("ingested_at", sa.DateTime, nullable=False),
)
rejected_table = sa.Table(
    "orders_rejected",
    metadata,
    sa.Column("key", KEY_TEXT, primary_key=True),
    sa.Column("etag", sa.Text, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("rejected_at", sa.DateTime, nullable=False),
)
rows_table = sa.Table(
    "orders_rows",
    metadata,
    sa.Column("source_key", KEY_TEXT, primary_key=True),
    sa.Column("row_no", sa.BigInteger, primary_key=True),
    sa.Column("order_id", KEY_TEXT, nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("customer_id", sa.Text),
    sa.Column("amount", sa.Numeric, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("source_modified", sa.DateTime, nullable=False),
)
summary_table = sa.Table(
    "orders_summary_by_date",
    metadata,
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("total_amount", sa.Numeric, nullable=False),
    sa.Column("total_quantity", sa.BigInteger, nullable=False),
    sa.Column("order_count", sa.BigInteger, nullable=False),
)

ROW_COLUMNS = [c.name for c in rows_table.columns]
PER_FILE = ("source_key", "source_modified")
# The batch before it replaces its keys' rows, in temporary tables without indexes: one row
# per file in batch_files, and its rows in batch_rows with the file's number in place of
# the per-file columns (COPY then sends ~45 bytes a row, not ~106). batch_source_rows is
# orders_rows' shape again.
batch_metadata = sa.MetaData()
batch_files_table = sa.Table(
    "batch_files",
    batch_metadata,
    sa.Column("file_no", sa.Integer),
    *(sa.Column(c.name, c.type) for c in rows_table.columns if c.name in PER_FILE),
    prefixes=["TEMPORARY"],
)
batch_table = sa.Table(
    "batch_rows",
    batch_metadata,
    sa.Column("file_no", sa.Integer),
    *(sa.Column(c.name, c.type) for c in rows_table.columns if c.name not in PER_FILE),
    prefixes=["TEMPORARY"],
)
BATCH_COLUMNS = [c.name for c in batch_table.columns]
BATCH_SOURCE_ROWS_VIEW = (
    "CREATE TEMP VIEW batch_source_rows AS SELECT "
    + ", ".join(f"f.{c}" if c in PER_FILE else f"r.{c}" for c in ROW_COLUMNS)
    + " FROM batch_rows r JOIN batch_files f ON f.file_no = r.file_no"
)


def compare_keys_by_bytes(conn: sa.Connection) -> None:
    """Upgrade a Postgres store created before keys compared byte by byte (see KEY_TEXT):
    once, inside the caller's transaction (the orders lock); rebuilds those columns' indexes.
    SQLite compares text byte by byte already."""
    collations = conn.execute(
        sa.text(
            "SELECT c.relname, a.attname, co.collname FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relname IN :tables"
        ).bindparams(sa.bindparam("tables", expanding=True)),
        {"tables": list(BYTE_ORDER_COLUMNS)},
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    for table, column, collation in collations:
        if column in BYTE_ORDER_COLUMNS[table] and collation != "C":
            conn.execute(sa.text(f'ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} TYPE text COLLATE "C"'))
