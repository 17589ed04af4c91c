"""Pure functions behind the orders assets: parse, validate, dedupe, summarise.

Everything runs in Arrow compute kernels, vectorised, in a few passes over the data:

* the CSV is read by pyarrow's multithreaded reader with every column as a string, so
  cleaning (not the reader) decides what parses;
* columns with few distinct values (dates, quantities, amounts of a typical file) are
  validated once per *distinct* value and mapped back with one hash lookup per row,
  which is much cheaper than parsing every row;
* duplicates are resolved with one hash group-by over the surviving rows.

Rows that do not survive are returned, with their original values and a ``reason``,
so the asset can quarantine them instead of losing them.
"""

from __future__ import annotations

import csv
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from collections.abc import Iterator
from typing import Any, Callable, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .schema import ORDER_COLUMNS

SOURCE_FILE = "source_file"
REASON = "reason"

# Drop reasons, in priority order: a row gets the first one that applies.
MISSING_ORDER_ID = "missing_order_id"
MISSING_DATE = "missing_date"
MISSING_AMOUNT = "missing_amount"
INVALID_DATE = "invalid_date"
INVALID_AMOUNT = "invalid_amount"
MISSING_QUANTITY = "missing_quantity"
INVALID_QUANTITY = "invalid_quantity"
DUPLICATE_ORDER_ID = "duplicate_order_id"
REASONS = (
    MISSING_ORDER_ID,
    MISSING_DATE,
    INVALID_DATE,
    MISSING_AMOUNT,
    INVALID_AMOUNT,
    MISSING_QUANTITY,
    INVALID_QUANTITY,
    DUPLICATE_ORDER_ID,
)

_REASON_ARRAY = pa.array(REASONS, pa.string())

DATE_FORMAT = "%Y-%m-%d"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DECIMAL_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$"
INTEGER_PATTERN = r"^[+-]?\d{1,18}$"  # at most 18 digits: always fits an int64

# Validate per distinct value while distinct values are at most this share of the rows.
DISTINCT_SHARE = 0.2

CsvSource = Union[bytes, pa.Buffer, str, os.PathLike]


class MalformedOrdersFile(ValueError):
    """An orders file that cannot be ingested at all; the message says why."""


@dataclass(frozen=True)
class CleanedOrders:
    cleaned: pd.DataFrame
    """Valid, deduplicated orders with typed columns."""
    quarantined: pd.DataFrame
    """Dropped rows: original (string) values plus ``reason``."""

    def drop_counts(self) -> dict[str, int]:
        """Dropped rows per reason, every reason present (zero when none)."""
        counts = self.quarantined[REASON].value_counts()
        return {reason: int(counts.get(reason, 0)) for reason in REASONS}


# Only the order columns are converted: a file with thousands of other columns costs what
# its order columns cost.
_CONVERT = pacsv.ConvertOptions(
    column_types={column: pa.string() for column in ORDER_COLUMNS},
    null_values=[""],
    strings_can_be_null=True,
    quoted_strings_can_be_null=True,
    include_columns=ORDER_COLUMNS,
)
_READ_ERRORS = (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError)


def read_orders_csv(source: CsvSource, name: str = "orders file") -> pa.Table:
    """Parse an orders CSV with every column as a string; empty fields become nulls.

    Raises :class:`MalformedOrdersFile` (message prefixed with ``name``) for a file that
    is empty, not a CSV, or lacks any of the order columns.
    """
    if isinstance(source, (bytes, bytearray, memoryview, pa.Buffer)):
        if not bytes(source[:1]):
            raise MalformedOrdersFile(f"{name}: the file is empty")
        readable: CsvSource | pa.BufferReader = pa.BufferReader(source)  # no copy, no Python file calls
    else:
        readable = source
    return _parsed(readable, name, header_from=source)


def _parsed(
    readable: CsvSource | pa.BufferReader,
    name: str,
    header_from: CsvSource | None,
    options: pacsv.ReadOptions | None = None,
) -> pa.Table:
    """The order columns of one CSV (a whole file, or a later block of one: ``options`` name
    its columns, and ``header_from`` is None, as it has no header line to explain an error)."""
    try:
        table = pacsv.read_csv(readable, read_options=options, convert_options=_CONVERT)
    except _READ_ERRORS as exc:
        raise _explain(exc, header_from, name) from exc
    return _checked(table, name)


def stream_orders_csv(path: str | os.PathLike, name: str, block_bytes: int) -> Iterator[pa.Table]:
    """:func:`read_orders_csv` a block of about ``block_bytes`` at a time, so memory holds two
    blocks' rows, whatever the file's size. A problem in any block raises
    :class:`MalformedOrdersFile` like :func:`read_orders_csv` does.

    Each block is parsed by the whole-file reader, on all cores (pyarrow's streaming reader
    parses a block on one core: the 5 M-row file took 0.7 s instead of 0.45 s), and the next
    block is read in another thread while the caller cleans the one it was given.
    """
    if os.path.getsize(path) <= block_bytes:
        yield read_orders_csv(path, name)
        return
    with ThreadPoolExecutor(1) as pool:
        blocks = _csv_blocks(path, block_bytes, name)
        pending = pool.submit(next, blocks, None)
        while (table := pending.result()) is not None:
            pending = pool.submit(next, blocks, None)
            yield table


def _csv_blocks(path: str | os.PathLike, block_bytes: int, name: str) -> Iterator[pa.Table]:
    """The file's rows, parsed a block of about ``block_bytes`` at a time, each block cut after
    its last line break. Later blocks are parsed with the header's column names. (Like
    pyarrow's reader with its default ``newlines_in_values=False``, a line break ends a row.)

    Blocks are read into Arrow's memory pool, which reuses the memory block after block:
    Python ``bytes`` of that size are mapped fresh each time (80,000 page faults, 0.3 s of
    kernel time, on the 5 M-row file).
    """
    later: pacsv.ReadOptions | None = None
    with pa.OSFile(os.fspath(path)) as source:
        start, size = 0, source.size()
        while start < size:
            source.seek(start)
            data = source.read_buffer(min(block_bytes, size - start))
            if start + data.size < size:
                end = _after_line_break(data, last=True)
                if end is None:
                    raise MalformedOrdersFile(f"{name}: no line break in {data.size:,} bytes; is this a CSV file?")
                data = data.slice(0, end)
            if later is None:
                table = read_orders_csv(data, name)
                header = data.slice(0, _after_line_break(data, last=False))
                later = pacsv.ReadOptions(column_names=pacsv.read_csv(pa.BufferReader(header)).column_names)
            else:
                table = _parsed(pa.BufferReader(data), name, None, later)
            start += data.size
            yield table


def _after_line_break(data: pa.Buffer, last: bool) -> int | None:
    """The position after the first (``last``: the last) line break in ``data``, None if it
    has none. Lines are short, so the start (the end) is searched first."""
    text = np.frombuffer(data, np.uint8)
    window = 1 << 16
    while True:
        part = text[max(0, len(text) - window) :] if last else text[:window]
        breaks = np.flatnonzero((part == _LF) | (part == _CR))
        if len(breaks):
            return len(text) - len(part) + int(breaks[-1]) + 1 if last else int(breaks[0]) + 1
        if len(part) == len(text):
            return None
        window *= 16


_LF, _CR = b"\n\r"  # a line ends at LF, CR or CRLF, as for pyarrow's reader


def _explain(exc: Exception, header_from: CsvSource | None, name: str) -> MalformedOrdersFile:
    message = str(exc).splitlines()[0]
    if "Empty CSV file" in message:
        return MalformedOrdersFile(f"{name}: the file is empty")
    if header_from is not None:
        _require_columns(_header(header_from), name)  # a wrong header is the more useful message
    return MalformedOrdersFile(f"{name}: not a readable CSV file ({message})")


def _checked(table: pa.Table, name: str) -> pa.Table:
    try:
        found = table.column_names
    except UnicodeDecodeError as exc:
        raise MalformedOrdersFile(f"{name}: not a CSV file (its first line is not UTF-8 text)") from exc
    _require_columns(found, name)
    for column in ORDER_COLUMNS:  # a non-UTF-8 file is garbage, not orders
        if not pa.types.is_string(table.schema.field(column).type):
            raise MalformedOrdersFile(f"{name}: column {column} is not text")
    return table.select(ORDER_COLUMNS)


def _header(source: CsvSource) -> list[str]:
    """The column names on the first line, as far as they can be read."""
    if isinstance(source, (bytes, bytearray, memoryview, pa.Buffer)):
        first = bytes(source[:65536])
    else:
        with open(source, "rb") as handle:
            first = handle.read(65536)
    end = _after_line_break(pa.py_buffer(first), last=False)
    line = (first[:end] if end else first).rstrip(b"\r\n").decode("utf-8", errors="replace")
    try:
        return next(csv.reader([line]), [])
    except csv.Error:  # no names to show
        return []


def _require_columns(found: list[str], name: str) -> None:
    missing = [column for column in ORDER_COLUMNS if column not in found]
    if missing:
        raise MalformedOrdersFile(f"{name}: missing columns: {', '.join(missing)} (found: {_shown(found)})")


def _shown(found: list[str], most: int = 20, width: int = 40) -> str:
    """The names found on the first line, fit for a log: a hostile file's binary first line
    is not repeated, nor are its 60,000 names."""
    if not all(column.isprintable() for column in found):
        return "a first line that is not text"
    shown = [column if len(column) <= width else column[: width - 1] + "…" for column in found[:most]]
    more = f" and {len(found) - most:,} more" if len(found) > most else ""
    return (", ".join(shown) or "none") + more


def null_percentage(table: pa.Table) -> float:
    """Share of null cells among the order columns, in percent (0 for an empty table)."""
    table = table.select([c for c in table.column_names if c in ORDER_COLUMNS])
    cells = table.num_rows * table.num_columns
    if not cells:
        return 0.0
    return round(100.0 * sum(column.null_count for column in table.columns) / cells, 3)


def as_arrow(frame: pa.Table | pd.DataFrame) -> pa.Table:
    """A table whose order columns are strings, from Arrow or from any pandas frame."""
    if isinstance(frame, pd.DataFrame):
        frame = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(frame.schema):
        if not pa.types.is_string(field.type) and (field.name in ORDER_COLUMNS or field.name == SOURCE_FILE):
            frame = frame.set_column(i, field.name, pc.cast(frame.column(i), pa.string()))
    return frame


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow-backed pandas columns: no copy into Python objects."""
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _is_missing(column: pa.ChunkedArray) -> np.ndarray:
    missing = pc.or_kleene(pc.is_null(column), pc.equal(column, ""))
    return missing.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _parse_dates(values: pa.Array) -> pa.Array:
    """date32 for strict YYYY-MM-DD calendar dates; null otherwise (2023-02-30 too)."""
    shaped = pc.if_else(pc.match_substring_regex(values, DATE_PATTERN), values, None)
    parsed = pc.strptime(shaped, format=DATE_FORMAT, unit="s", error_is_null=True)
    exact = pc.equal(pc.strftime(parsed, format=DATE_FORMAT), shaped)  # strptime rolls 02-30 over
    return pc.cast(pc.if_else(exact, parsed, None), pa.date32())


def _parse_decimals(values: pa.Array) -> pa.Array:
    shaped = pc.if_else(pc.match_substring_regex(values, DECIMAL_PATTERN), values, None)
    numbers = pc.cast(shaped, pa.float64())
    return pc.if_else(pc.is_finite(numbers), numbers, None)


def _parse_integers(values: pa.Array) -> pa.Array:
    shaped = pc.if_else(pc.match_substring_regex(values, INTEGER_PATTERN), values, None)
    return pc.cast(shaped, pa.int64())


def _parse_column(column: pa.ChunkedArray, parse: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    """``parse`` applied to every value; null where the value is missing or does not parse.

    Low-cardinality columns are parsed once per distinct value and mapped back by
    position: one hash pass (``dictionary_encode`` yields both the distinct values and
    each row's index among them) instead of a regex and a conversion per row.
    """
    if len(column) == 0:
        return parse(column)
    encoded = pc.dictionary_encode(column)
    distinct = encoded.chunk(0).dictionary  # every chunk shares the one dictionary
    if len(distinct) > DISTINCT_SHARE * len(column) or any(
        not chunk.dictionary.equals(distinct) for chunk in encoded.chunks[1:]
    ):
        return parse(column)
    parsed = parse(distinct)
    return pa.chunked_array([parsed.take(chunk.indices) for chunk in encoded.chunks], type=parsed.type)


_PARSERS: tuple[tuple[str, Callable[[pa.Array], pa.Array]], ...] = (
    ("date", _parse_dates),
    ("amount", _parse_decimals),
    ("quantity", _parse_integers),
)


def _integer_keys(order_ids: pa.ChunkedArray) -> np.ndarray | None:
    """The ids as int64 (nulls as 0) when every id is a canonical integer (equal ints <=> equal strings)."""
    try:
        numbers = pc.cast(order_ids, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pa.types.is_string(order_ids.type) or any(_not_canonical(chunk) for chunk in order_ids.chunks):
        return None
    return (pc.fill_null(numbers, 0) if numbers.null_count else numbers).to_numpy()


_ZERO, _PLUS, _MINUS = b"0+-"


def _not_canonical(ids: pa.StringArray) -> bool:
    """Whether any of these ids, all accepted by the int64 cast, is written other than as its
    integer is. The cast also takes "07", "0x7", "-0" and "-07" (Arrow 26 refuses "+7", spaces
    and "1e3"; a leading "+" is checked anyway): the ids of two or more bytes that start with
    "0", "+" or "-0". Their first bytes are read straight from the Arrow buffers; a
    ``starts_with`` scan per prefix cost 10 ms per million ids. (True may also come from a
    null slot holding bytes; that only costs the faster path.)
    """
    _, offsets, data = ids.buffers()
    if data is None:
        return False
    ends = np.frombuffer(offsets, np.int32, len(ids) + 1, ids.offset * 4)
    starts = ends[:-1][np.diff(ends) > 1]
    text = np.frombuffer(data, np.uint8)
    first = text[starts]
    if (first == _ZERO).any() or (first == _PLUS).any():
        return True
    return bool((text[starts[first == _MINUS] + 1] == _ZERO).any())


def last_of_each(order_ids: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray:
    """Of ``rows`` (ascending), those holding the last occurrence of their order id among ``rows``.

    Integer ids (the common case) are deduplicated without hashing strings: when the ids
    are compact, one ``bincount`` finds the ids seen more than once and only their rows
    are hashed; otherwise pandas' int64 hash table takes them all. Any other ids go
    through one Arrow hash group-by.
    """
    return _last_of_each(order_ids, rows, _integer_keys(order_ids) if len(rows) else None)


def _last_of_each(order_ids: pa.ChunkedArray, rows: np.ndarray, keys: np.ndarray | None) -> np.ndarray:
    """:func:`last_of_each` with the ids' integer keys already derived (None: not integers)."""
    if len(rows) == 0:
        return rows
    if keys is None:
        grouped = pa.table({"order_id": order_ids.take(pa.array(rows)), "row": rows}).group_by(
            "order_id", use_threads=False
        )
        return np.sort(grouped.aggregate([("row", "max")])["row_max"].to_numpy())
    if len(rows) < len(keys):  # (rows are ascending and distinct: all rows otherwise)
        keys = keys[rows]
    low, high = int(keys.min()), int(keys.max())
    if high - low >= 4 * len(keys):
        return rows[~pd.Series(keys).duplicated(keep="last").to_numpy()]
    offsets = keys - low
    repeated = (np.bincount(offsets) > 1)[offsets]  # one counting pass; ids seen once are kept
    if not repeated.any():
        return rows
    is_last = ~repeated
    among = np.flatnonzero(repeated)  # usually a few rows: hash only those
    is_last[among[~pd.Series(offsets[among]).duplicated(keep="last").to_numpy()]] = True
    return rows[is_last]


def clean_orders(raw: pa.Table | pd.DataFrame) -> CleanedOrders:
    """Split raw orders into typed, valid, deduplicated orders and quarantined rows.

    A row is dropped, for the first reason in :data:`REASONS` that applies, when its
    order_id, date, amount or quantity is missing; when its date is not a real
    ``YYYY-MM-DD`` date; when amount or quantity is not a number (quantity: an integer);
    or when a later valid row has the same order_id (the last one wins).
    """
    typed, quarantined = split_orders(as_arrow(raw))
    return CleanedOrders(cleaned=to_pandas(typed), quarantined=to_pandas(quarantined))


def _column_workers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(pa.cpu_count(), thread_name_prefix="orders-columns")


# One worker per core, kept for the process: a pool per call, one thread per task, cost
# 20-30 ms per million rows on two cores in thread start-up and switching. A forked child
# gets a pool of its own (the parent's threads do not exist in it).
_COLUMN_WORKERS = _column_workers()


def _after_fork_in_child() -> None:
    global _COLUMN_WORKERS
    _COLUMN_WORKERS = _column_workers()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _in_parallel(*tasks: Callable[[], Any]) -> list[Any]:
    """The tasks' results, in order, computed side by side: Arrow's kernels release the GIL,
    so independent column work uses every core, as the CSV reader does. (The tasks must
    not wait on each other: they share one pool.)"""
    futures = [_COLUMN_WORKERS.submit(task) for task in tasks]
    return [future.result() for future in futures]


def _parsed_with_problems(column: pa.ChunkedArray, parse: Callable[[pa.Array], pa.Array]) -> tuple:
    """``column`` parsed, with its missing and its unparsable rows (None, None: all parsed)."""
    parsed = _parse_column(column, parse)
    if not parsed.null_count:  # a clean column costs nothing more
        return parsed, None, None
    return parsed, _is_missing(column), parsed.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)


def split_orders(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """:func:`clean_orders` on Arrow: (typed valid rows, quarantined rows with ``reason``).

    Columns other than the order columns (``source_file``, ``row_no``) are carried along.
    """
    *parsed, id_missing, keys = _in_parallel(
        *[partial(_parsed_with_problems, table[name], parse) for name, parse in _PARSERS],
        partial(_is_missing, table["order_id"]),
        partial(_integer_keys, table["order_id"]),
    )

    code = np.full(table.num_rows, -1, dtype=np.int8)  # index into REASONS; -1 = keep

    def drop(reason: str, rows: np.ndarray) -> None:
        code[rows & (code < 0)] = REASONS.index(reason)  # the first reason wins

    drop(MISSING_ORDER_ID, id_missing)
    for (name, _), (_, missing, invalid) in zip(_PARSERS, parsed):
        if missing is not None:
            drop(f"missing_{name}", missing)
            drop(f"invalid_{name}", invalid)

    valid = np.flatnonzero(code < 0)
    keep = _last_of_each(table["order_id"], valid, keys)
    if len(keep) < len(valid):
        earlier = code < 0
        earlier[keep] = False
        code[earlier] = REASONS.index(DUPLICATE_ORDER_ID)

    kept = pa.array(code < 0)
    dropped = np.flatnonzero(code >= 0)
    typed, *typed_columns, quarantined = _in_parallel(
        partial(table.drop_columns([name for name, _ in _PARSERS]).filter, kept),
        *[partial(column.filter, kept) for column, _, _ in parsed],
        partial(table.take, pa.array(dropped)),
    )
    for (name, _), column in zip(_PARSERS, typed_columns):
        typed = typed.append_column(name, column)
    other = [c for c in table.column_names if c not in ORDER_COLUMNS]
    typed = typed.select(ORDER_COLUMNS + other)
    quarantined = quarantined.append_column(REASON, _REASON_ARRAY.take(pa.array(code[dropped])))
    return typed, quarantined


def summarize_orders(cleaned: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """One row per date: total_amount, total_quantity, order_count (sorted by date)."""
    columns = ["date", "amount", "quantity", "order_id"]
    if isinstance(cleaned, pa.Table):
        table = cleaned.select(columns)
    else:
        table = pa.Table.from_pandas(cleaned[columns], preserve_index=False)
    summary = table.group_by("date").aggregate([("amount", "sum"), ("quantity", "sum"), ("order_id", "count")])
    summary = summary.rename_columns(["date", "total_amount", "total_quantity", "order_count"])
    summary = summary.sort_by("date")
    frame = summary.to_pandas()
    return frame.astype({"total_amount": "float64", "total_quantity": "int64", "order_count": "int64"})
