"""The pure cleaning functions on small dirty frames."""

import datetime as dt
import multiprocessing

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from orders_and_sales.defs.orders.logic import (
    REASON,
    REASONS,
    MalformedOrdersFile,
    clean_orders,
    last_of_each,
    null_percentage,
    read_orders_csv,
    stream_orders_csv,
    summarize_orders,
)
from orders_and_sales.sample_data import generate_orders_csv

from .helpers import assert_summary_equal, csv_bytes, reference_summary

GOOD = "1,2023-01-01,7,10.50,2"


def one_row(**values) -> pd.DataFrame:
    row = {"order_id": "1", "date": "2023-01-01", "customer_id": "7", "amount": "10.5", "quantity": "2"}
    return pd.DataFrame([{**row, **values}])


@pytest.mark.parametrize(
    "values, reason",
    [
        ({"order_id": None}, "missing_order_id"),
        ({"order_id": ""}, "missing_order_id"),
        ({"date": None}, "missing_date"),
        ({"amount": None}, "missing_amount"),
        ({"amount": "n/a"}, "invalid_amount"),
        ({"amount": "1.2.3"}, "invalid_amount"),
        ({"amount": "nan"}, "invalid_amount"),
        ({"amount": "1e999"}, "invalid_amount"),
        ({"date": "2023-02-30"}, "invalid_date"),
        ({"date": "2023-13-01"}, "invalid_date"),
        ({"date": "2023-1-5"}, "invalid_date"),
        ({"date": "yesterday"}, "invalid_date"),
        ({"quantity": None}, "missing_quantity"),
        ({"quantity": "three"}, "invalid_quantity"),
        ({"quantity": "2.5"}, "invalid_quantity"),
        ({"quantity": "99999999999999999999"}, "invalid_quantity"),
        ({"order_id": None, "amount": "n/a"}, "missing_order_id"),  # first reason wins
    ],
)
def test_each_drop_reason(values, reason):
    result = clean_orders(one_row(**values))
    assert result.cleaned.empty
    assert result.quarantined[REASON].tolist() == [reason]
    assert result.drop_counts()[reason] == 1 and sum(result.drop_counts().values()) == 1


def test_quarantine_keeps_original_values():
    result = clean_orders(one_row(amount="n/a", customer_id="42"))
    row = result.quarantined.iloc[0]
    assert (row["order_id"], row["amount"], row["customer_id"]) == ("1", "n/a", "42")


def test_valid_row_is_typed():
    result = clean_orders(one_row(amount="10.5", quantity="2", date="2024-02-29"))
    assert result.quarantined.empty
    row = result.cleaned.iloc[0]
    assert row["date"] == dt.date(2024, 2, 29)
    assert isinstance(row["amount"], float) and row["amount"] == 10.5
    assert int(row["quantity"]) == 2
    assert pd.api.types.is_integer_dtype(result.cleaned["quantity"])
    assert pd.api.types.is_float_dtype(result.cleaned["amount"])


@pytest.mark.parametrize("ids", [["5", "6", "5", "7", "5"], ["a", "b", "a", "c", "a"], ["05", "6", "5", "7", "5"]])
def test_duplicates_keep_the_last(ids):
    frame = pd.DataFrame(
        {
            "order_id": ids,
            "date": ["2023-01-01"] * 5,
            "customer_id": ["1"] * 5,
            "amount": ["1", "2", "3", "4", "5"],
            "quantity": ["1"] * 5,
        }
    )
    result = clean_orders(frame)
    expected = frame.drop_duplicates("order_id", keep="last")
    assert result.cleaned["order_id"].tolist() == expected["order_id"].tolist()
    assert result.cleaned["amount"].tolist() == expected["amount"].astype(float).tolist()
    assert result.drop_counts()["duplicate_order_id"] == len(frame) - len(expected)


def test_invalid_last_duplicate_does_not_hide_a_valid_one():
    frame = pd.concat([one_row(amount="3"), one_row(amount="oops")], ignore_index=True)
    result = clean_orders(frame)
    assert result.cleaned["amount"].tolist() == [3.0]
    assert result.quarantined[REASON].tolist() == ["invalid_amount"]


def test_sparse_integer_ids_dedupe_through_hash_table():
    ids = ["1", "1000000000000", "1", "-5", "-5"]
    frame = pd.concat([one_row(order_id=i, amount=str(n)) for n, i in enumerate(ids)], ignore_index=True)
    result = clean_orders(frame)
    assert result.cleaned["order_id"].tolist() == ["1000000000000", "1", "-5"]
    assert result.cleaned["amount"].tolist() == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    "spellings",
    [
        ["1", "2", "3"],  # compact integers: the counting path
        ["1", "2", "900000000000"],  # sparse integers: pandas' hash table
        ["7", "07", "0x7", "-0", "0", "-07", "-7"],  # the int cast takes these; as ids they differ
        ["7", "a7", "", "x"],  # not integers: Arrow's group-by
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_last_of_each_matches_pandas_on_sliced_chunks(spellings, seed):
    rng = np.random.default_rng(seed)
    ids = [spellings[i] for i in rng.integers(0, len(spellings), 400)]
    ids = [None if i % 37 == 0 else v for i, v in enumerate(ids)]
    whole = pa.array(["pad", *ids, "pad"])
    chunked = pa.chunked_array([whole.slice(1, 150), whole.slice(151, len(ids) - 150)])  # buffers with offsets
    rows = np.flatnonzero([v is not None for v in ids])
    expected = pd.Series(ids).iloc[rows].drop_duplicates(keep="last").index.to_numpy()
    assert last_of_each(chunked, rows).tolist() == expected.tolist()


def test_empty_frame():
    result = clean_orders(one_row().iloc[0:0])
    assert result.cleaned.empty and result.quarantined.empty
    assert set(result.drop_counts()) == set(REASONS)
    assert summarize_orders(result.cleaned).empty


def test_summary_matches_reference_on_generated_dirty_data():
    data = generate_orders_csv(20_000, seed=3, dirty_fraction=0.05, days=30)
    result = clean_orders(read_orders_csv(data))
    assert_summary_equal(summarize_orders(result.cleaned), reference_summary(data))
    assert len(result.cleaned) + len(result.quarantined) == 20_000
    counts = result.drop_counts()
    assert all(
        counts[r] > 0
        for r in (
            "missing_order_id",
            "missing_date",
            "missing_amount",
            "invalid_amount",
            "invalid_quantity",
            "invalid_date",
            "duplicate_order_id",
        )
    )
    assert result.cleaned["order_id"].is_unique


def test_summary_columns_and_types():
    data = csv_bytes("1,2023-01-02,1,1.5,2", "2,2023-01-01,1,2.5,3", "3,2023-01-02,1,3,1")
    summary = summarize_orders(clean_orders(read_orders_csv(data)).cleaned)
    assert summary.to_dict("list") == {
        "date": [dt.date(2023, 1, 1), dt.date(2023, 1, 2)],
        "total_amount": [2.5, 4.5],
        "total_quantity": [3, 3],
        "order_count": [1, 2],
    }


def test_read_keeps_text_and_empty_fields_are_null():
    table = read_orders_csv(csv_bytes('007,2023-01-01,,"1,5",n/a'), name="x.csv")
    assert table.schema.types == [pa.string()] * 5
    assert table.to_pylist() == [
        {"order_id": "007", "date": "2023-01-01", "customer_id": None, "amount": "1,5", "quantity": "n/a"}
    ]
    assert null_percentage(table) == 20.0


def test_extra_columns_are_ignored_and_order_does_not_matter():
    data = csv_bytes("x,2,10,2023-01-01,1,3", header="note,quantity,amount,date,customer_id,order_id")
    assert read_orders_csv(data).column_names == ["order_id", "date", "customer_id", "amount", "quantity"]


def test_a_missing_column_message_shows_a_bounded_header():
    wide = ",".join(f"c{i}" for i in range(1000)).encode() + b"\n1\n"
    with pytest.raises(MalformedOrdersFile) as raised:
        read_orders_csv(wide, name="x.csv")
    assert str(raised.value).endswith(
        "(found: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19 and 980 more)"
    )
    with pytest.raises(MalformedOrdersFile) as raised:
        read_orders_csv(b"\x00\x01\x02,\x7f\n", name="x.csv")
    assert (
        str(raised.value)
        == "x.csv: missing columns: order_id, date, customer_id, amount, quantity (found: a first line that is not text)"
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "x.csv: the file is empty"),
        (csv_bytes("1,2023-01-01,7,2", header="order_id,date,customer_id,quantity"), "x.csv: missing columns: amount"),
        (csv_bytes(GOOD, header="order_id,date,customer_id,quantity"), "x.csv: missing columns: amount"),
        (csv_bytes("1,2023-01-01", GOOD), "x.csv: not a readable CSV file"),
        (b"just some text without commas\nmore text\n", "x.csv: missing columns: order_id, date, customer_id"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe", "x.csv: "),
        (bytes(range(256)) * 4, "x.csv: "),
    ],
)
def test_malformed_files_say_what_is_wrong(data, message):
    with pytest.raises(MalformedOrdersFile) as raised:
        read_orders_csv(data, name="x.csv")
    assert str(raised.value).startswith(message)


DIRTY_3000 = generate_orders_csv(3_000, seed=4, dirty_fraction=0.05, days=9)


@pytest.mark.parametrize(
    "data",
    [
        DIRTY_3000,
        DIRTY_3000.replace(b"\n", b"\r\n"),
        DIRTY_3000.replace(b"\n", b"\r"),
        b"\xef\xbb\xbf" + DIRTY_3000,  # a byte-order mark, before the header only
        DIRTY_3000.rstrip(b"\n"),
    ],
    ids=["lf", "crlf", "cr", "bom", "no-final-line-break"],
)
@pytest.mark.parametrize("block_bytes", [4096, 5000])
def test_blocks_read_the_same_rows_as_the_whole_file(tmp_path, data, block_bytes):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    blocks = list(stream_orders_csv(path, "x.csv", block_bytes))
    assert len(blocks) > 10
    assert pa.concat_tables(blocks).equals(read_orders_csv(data))


LINES = DIRTY_3000.split(b"\n")


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b"\n".join([*LINES[:2000], b"1,2,3", *LINES[2000:]]),
            "x.csv: not a readable CSV file (CSV parse error: Expected 5",
        ),
        (b"\n".join([*LINES[:2000], b"9,2023-01-01,\xe9,1,1", *LINES[2000:]]), "x.csv: not a readable CSV file"),
        (DIRTY_3000.replace(b"\n", b"\r").replace(b"amount", b"amt", 1), "x.csv: missing columns: amount"),
        (DIRTY_3000[:100] + b"x" * 10_000 + DIRTY_3000[100:], "x.csv: no line break in 4,096 bytes"),
    ],
    ids=["short-row", "not-utf8", "cr-missing-column", "long-line"],
)
def test_a_problem_in_a_later_block_says_what_is_wrong(tmp_path, data, message):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(MalformedOrdersFile) as raised:
        list(stream_orders_csv(path, "x.csv", 4096))
    assert str(raised.value).startswith(message)


def _cleaned_rows(data: bytes) -> int:
    return len(clean_orders(read_orders_csv(data)).cleaned)


def test_cleaning_works_in_a_forked_child():
    """The column pool's threads exist only in the process that started them: a child
    forked after the parent cleaned must get a pool of its own, or its cleaning waits forever."""
    assert _cleaned_rows(DIRTY_3000) > 0  # the parent's pool has started its threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_cleaned_rows, (DIRTY_3000,)).get(timeout=30) == _cleaned_rows(DIRTY_3000)
