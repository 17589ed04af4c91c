"""Orders throughput: raw CSV -> cleaned -> per-date summary, three ways on the same file.

* ``seed``: the seed project's pandas code path: ``pd.read_csv`` with the default
  engine, numeric coercion, ``dropna`` and ``groupby().agg``.
* ``project``: this project's own functions, the ones the assets run.
* ``floor``: the least work pyarrow needs for the same result: parse, validate,
  dedupe, aggregate, all in Arrow compute kernels. Nothing useful can be much faster.

Each path returns the summary frame, and the benchmark checks all three agree before
it reports a number, so a fast but wrong path cannot win.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from user_code.orders.cleaning import clean_orders, read_orders_csv, summarize_orders
from user_code.sample_data import ORDER_COLUMNS, generate_orders_csv

NUMBER = r"^-?\d+(\.\d+)?$"


def seed_path(csv: Path) -> pd.DataFrame:
    frame = pd.read_csv(csv)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    frame = frame.dropna(subset=["order_id", "date", "amount", "quantity"])
    frame = frame.drop_duplicates("order_id", keep="last")
    summary = frame.groupby("date").agg(
        total_amount=("amount", "sum"), total_quantity=("quantity", "sum"), order_count=("order_id", "count")
    )
    return summary.reset_index()


def floor_path(csv: Path) -> pd.DataFrame:
    table = pacsv.read_csv(
        csv,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in ORDER_COLUMNS}, strings_can_be_null=True
        ),
    )
    date = table["date"]
    parsed = pc.strptime(date, format="%Y-%m-%d", unit="s", error_is_null=True)
    day_of_month = pc.cast(pc.utf8_slice_codeunits(pc.fill_null(date, "0000-00-00"), 8, 10), pa.int64(), safe=False)
    valid = pc.and_(
        # strptime rolls 2023-02-30 over to March 2nd: a real date keeps its day of month.
        pc.and_(pc.is_valid(table["order_id"]), pc.equal(pc.day(parsed), day_of_month)),
        pc.and_(pc.match_substring_regex(table["amount"], NUMBER), pc.match_substring_regex(table["quantity"], NUMBER)),
    )
    valid = pc.fill_null(valid, False)
    table = table.filter(valid).append_column("row", pa.array(np.arange(int(pc.sum(valid).as_py() or 0))))
    last = table.group_by("order_id", use_threads=False).aggregate([("row", "max")])
    rows = last["row_max"].combine_chunks()
    table = table.take(rows.take(pc.sort_indices(rows)))
    typed = pa.table({
        "date": pc.cast(pc.strptime(table["date"], format="%Y-%m-%d", unit="s"), pa.date32()),
        "amount": pc.cast(table["amount"], pa.float64()),
        "quantity": pc.cast(table["quantity"], pa.int64()),
        "order_id": table["order_id"],
    })
    summary = typed.group_by("date").aggregate(
        [("amount", "sum"), ("quantity", "sum"), ("order_id", "count")]
    )
    return summary.rename_columns(["date", "total_amount", "total_quantity", "order_count"]).to_pandas()


def canonical(summary: pd.DataFrame) -> pd.DataFrame:
    """Summaries from any path, in one comparable shape."""
    out = summary[["date", "total_amount", "total_quantity", "order_count"]].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out["total_amount"] = out["total_amount"].astype(float).round(2)
    out[["total_quantity", "order_count"]] = out[["total_quantity", "order_count"]].astype("int64")
    return out.sort_values("date").reset_index(drop=True)


def time_path(path: Callable[[Path], pd.DataFrame], csv: Path, repeats: int) -> tuple[float, pd.DataFrame]:
    """Median wall time of ``repeats`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = path(csv)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def write_csv(rows: int, folder: Path) -> Path:
    path = folder / f"orders_{rows}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_orders_csv(rows))
    return path


def project_path(csv: Path) -> pd.DataFrame:
    """What raw_orders -> cleaned_orders -> orders_summary compute, minus storage."""
    result = clean_orders(read_orders_csv(csv, name=csv.name))
    return summarize_orders(result.cleaned)


PATHS = {"seed": seed_path, "project": project_path, "floor": floor_path}
DATA_DIR = Path(__file__).parent / "data"


def measure_size(rows: int, repeats: int) -> dict:
    csv = write_csv(rows, DATA_DIR)
    seconds, summaries = {}, {}
    for name, path in PATHS.items():
        seconds[name], summaries[name] = time_path(path, csv, repeats)
    reference = canonical(summaries["seed"])
    for name in ("project", "floor"):
        if not canonical(summaries[name]).equals(reference):
            raise AssertionError(f"the {name} path's summary differs from the seed's on {csv}")
    figures = {"rows": rows, **{f"{name}_rows_per_s": rows / s for name, s in seconds.items()}}
    print(
        f"orders {rows:>10,} rows: " + ", ".join(f"{n} {rows / s:>12,.0f} rows/s" for n, s in seconds.items())
        + f"  project/seed {seconds['seed'] / seconds['project']:.2f}×, project/floor "
        f"{seconds['floor'] / seconds['project']:.2f}×"
    )
    return figures


def run(sizes: list[int], repeats: int) -> dict:
    """Every size; the headline figures are those of the largest."""
    by_size = [measure_size(rows, repeats) for rows in sorted(sizes)]
    return {**by_size[-1], "by_size": by_size}
