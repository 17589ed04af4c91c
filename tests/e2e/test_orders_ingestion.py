"""End to end: orders ingestion as a team lives with it, on the real stack.

Out-of-order names, a corrected re-upload, a burst, and two runs that really overlap.
Each test writes on dates of a year of its own (random per session), so it holds
whatever else the lake contains and can run alone.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid

import pandas as pd
import pytest

from .conftest import TIMINGS, Stack
from .waits import launch_run, read_parquet, runs_with_tag, wait_for, wait_location_loaded, wait_run_success

pytestmark = pytest.mark.e2e

HEADER = "order_id,date,customer_id,amount,quantity\n"
YEARS = random.Random().sample(range(2100, 2900), 4)


def orders_csv(first_id: int, rows: int, year: int, days: int = 28) -> tuple[bytes, pd.DataFrame]:
    """``rows`` clean orders with ids from ``first_id``, and their expected summary."""
    i = pd.RangeIndex(rows)
    frame = pd.DataFrame(
        {
            "order_id": first_id + i,
            "date": [dt.date(year, 1, 1) + dt.timedelta(days=int(d)) for d in i % days],
            "customer_id": 1 + i % 50,
            "amount": (i % 100) + 0.25,
            "quantity": 1 + i % 3,
        }
    )
    return HEADER.encode() + frame.to_csv(index=False, header=False).encode(), summarize(frame)


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame.groupby("date")
        .agg(
            total_amount=("amount", "sum"),
            total_quantity=("quantity", "sum"),
            order_count=("order_id", "count"),
        )
        .reset_index()
    )


def upload(stack: Stack, key: str, body: bytes) -> None:
    stack.s3().put_object(Bucket=stack.env["S3_BUCKET"], Key=key, Body=body)


def summary_of_year(stack: Stack, year: int) -> pd.DataFrame:
    summary = read_parquet(stack, "lake/orders_summary.parquet")
    summary["date"] = pd.to_datetime(summary["date"]).dt.date
    mine = summary[[d.year == year for d in summary["date"]]]
    return mine.reset_index(drop=True)[["date", "total_amount", "total_quantity", "order_count"]]


def wait_summary(stack: Stack, year: int, expected: pd.DataFrame, timeout: float = 120) -> float:
    """Seconds until the lake's summary for ``year`` equals ``expected`` exactly."""
    started = time.monotonic()
    expected = expected.sort_values("date").reset_index(drop=True)

    def probe():
        actual = summary_of_year(stack, year)
        if (
            len(actual) == len(expected)
            and (actual["order_count"].to_numpy() == expected["order_count"].to_numpy()).all()
        ):
            pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=0, atol=1e-9)
            return True
        return f"{int(actual['order_count'].sum())} of {int(expected['order_count'].sum())} orders of {year}"

    wait_for(f"orders_summary of {year} to match", probe, timeout)
    return time.monotonic() - started


def test_out_of_order_names_and_a_corrected_reupload(stack: Stack):
    wait_location_loaded(stack)
    year, tag = YEARS[0], uuid.uuid4().hex[:8]
    north_key, east_key = f"incoming/orders/zz-{tag}-north.csv", f"incoming/orders/aa-{tag}-east.csv"
    north, north_summary = orders_csv(10_000_000, 40, year, days=10)
    upload(stack, north_key, north)
    wait_summary(stack, year, north_summary)

    east, east_summary = orders_csv(20_000_000, 30, year, days=5)  # sorts before north: still found
    upload(stack, east_key, east)
    latency = wait_summary(stack, year, summarize_many(north_summary, east_summary))
    TIMINGS.append(f"out-of-order name: upload -> in orders_summary: {latency:.1f}s")

    corrected, corrected_summary = orders_csv(10_000_000, 20, year, days=10)  # rows withdrawn
    upload(stack, north_key, corrected)
    latency = wait_summary(stack, year, summarize_many(corrected_summary, east_summary))
    TIMINGS.append(f"changed re-upload: upload -> orders_summary replaced (not added): {latency:.1f}s")


def summarize_many(*summaries: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(summaries).groupby("date", as_index=False).sum()


def test_a_burst_is_batched_and_its_totals_are_exact(stack: Stack):
    wait_location_loaded(stack)
    year, tag, files = YEARS[1], uuid.uuid4().hex[:8], 100
    started = time.monotonic()
    expected = []
    for n in range(files):
        body, summary = orders_csv(30_000_000 + 50 * n, 50, year)
        upload(stack, f"incoming/orders/burst-{tag}-{n:03d}.csv", body)
        expected.append(summary)
    wait_summary(stack, year, summarize_many(*expected), timeout=300)
    drained = time.monotonic() - started
    runs = [
        r
        for r in runs_with_tag(stack, "dagster/sensor_name", "file_sensor")
        if tag in dict((t["key"], t["value"]) for t in r["tags"]).get("orders/first_key", "")
    ]
    TIMINGS.append(f"burst of {files} files: drained in {drained:.1f}s by {len(runs)} runs")
    assert 1 <= len(runs) < files / 4, f"{len(runs)} runs for {files} files: not batched"


def test_two_concurrent_runs_both_land(stack: Stack):
    wait_location_loaded(stack)
    year, tag = YEARS[2], uuid.uuid4().hex[:8]
    bodies = [orders_csv(40_000_000 + 1_000_000 * n, 200_000, year) for n in range(2)]
    keys = [f"incoming/orders/concurrent-{tag}-{n}.csv" for n in range(2)]
    for key, (body, _) in zip(keys, bodies):
        upload(stack, key, body)
    run_ids = [
        launch_run(stack, "daily_pipeline", {"ops": {"raw_orders": {"config": {"object_keys": [key]}}}}) for key in keys
    ]
    for run_id in run_ids:
        wait_run_success(stack, run_id)
    times = [
        stack.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { startTime endTime } } }", {"id": run_id}
        )["runOrError"]
        for run_id in run_ids
    ]
    assert max(t["startTime"] for t in times) < min(t["endTime"] for t in times), f"the runs did not overlap: {times}"
    # Whichever finished last wrote the summary while holding the store's lock: both files are in it.
    wait_summary(stack, year, summarize_many(*(s for _, s in bodies)), timeout=30)
