"""Stack figures on the running compose stack: sensor latency, per-run overhead, backfill, footprint.

    python -m benchmarks --only stack          # through the report (results.json, RESULTS.md)
    python -m benchmarks.stack [--no-cold]     # just these figures, printed as JSON

The stack is driven exactly as the e2e tests drive it (``tooling/stack.py``): compose,
GraphQL on :3000, boto3 on :9000 with the pipelines' credentials. It is brought up if it
is not up, and ALWAYS torn down at the end (``down -v`` and the run containers, found by
label), whatever happened. Numbers are printed, never judged: nothing here fails on speed.

Timestamps come from the runs themselves (``creationTime``/``startTime``/``endTime`` in
the instance database, written by processes on the same kernel clock as this one), so
GraphQL polling does not add to a measured latency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml

from tooling.stack import LOCATION, PROJECT, UI, Stack, launch_run

from . import locations

RUN_TIMEOUT = 300
RUN_FIELDS = "runId status jobName creationTime startTime endTime tags { key value }"
YEAR = [str(dt.date(2023, 1, 1) + dt.timedelta(days=i)) for i in range(365)]
# Docker sizes are decimal MB (what `docker images` prints); memory is MiB (docker stats).
MB = 1_000_000
# Size of the python:3.11-slim-bookworm stand-in here vs the upstream image (uncompressed).
STANDIN_PYTHON_MB = 191
UPSTREAM_PYTHON_SLIM_MB = 130


def run_limit() -> int:
    """The run queue's limit, from dagster.yaml (its one place)."""
    instance = yaml.safe_load((Path(__file__).resolve().parent.parent / "dagster.yaml").read_text())
    return int(instance["concurrency"]["runs"]["max_concurrent_runs"])


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), like numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def parse_mem(text: str) -> float:
    """'123.4MiB / 23.5GiB' or '1.2GiB' -> MiB."""
    value = text.split("/")[0].strip()
    match = re.fullmatch(r"([\d.]+)\s*([KMGT]?i?B)", value)
    if not match:
        raise ValueError(f"unrecognised memory figure {text!r}")
    number, unit = float(match.group(1)), match.group(2)
    factor = {
        "B": 1 / 2**20,
        "KiB": 1 / 1024,
        "KB": 1000 / 2**20,
        "MiB": 1,
        "MB": 1e6 / 2**20,
        "GiB": 1024,
        "GB": 1e9 / 2**20,
        "TiB": 2**20,
    }[unit]
    return number * factor


def service_of(container_name: str) -> str:
    """'dagster-platform_user-code_1' (v1) or 'dagster-platform-user-code-1' (v2) -> 'user-code'."""
    name = container_name.lstrip("/")
    for sep in ("_", "-"):
        prefix = f"{PROJECT}{sep}"
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            return re.sub(rf"{re.escape(sep)}\d+$", "", rest)
    return name


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


# --- GraphQL helpers -------------------------------------------------------------------------
def run_by_id(stack: Stack, run_id: str) -> dict | None:
    data = stack.graphql(
        "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { %s } } }" % RUN_FIELDS,
        {"id": run_id},
    )
    run = data["runOrError"]
    return run if run["__typename"] == "Run" else None


def runs_with_tag(stack: Stack, key: str, value: str, limit: int = 50) -> list[dict]:
    data = stack.graphql(
        """query($tags: [ExecutionTag!], $limit: Int) { runsOrError(filter: {tags: $tags}, limit: $limit) {
             ... on Runs { results { %s } } } }"""
        % RUN_FIELDS,
        {"tags": [{"key": key, "value": value}], "limit": limit},
    )
    return data["runsOrError"].get("results", [])


def wait_for_tagged_runs(stack: Stack, key: str, value: str, timeout: float, what: str) -> list[dict]:
    """Poll until at least one run carries the tag ``key=value``; returns those runs."""
    deadline = time.monotonic() + timeout
    while not (runs := runs_with_tag(stack, key, value)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} launched no run within {timeout:.0f}s")
        time.sleep(0.5)
    return runs


def wait_runs_done(stack: Stack, run_ids: list[str], timeout: float = RUN_TIMEOUT) -> list[dict]:
    """Poll until every run has ended; returns the runs. A run that did not succeed raises."""
    deadline = time.monotonic() + timeout
    pending, done = list(run_ids), {}
    while pending:
        for run_id in list(pending):
            run = run_by_id(stack, run_id)
            if run and run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                if run["status"] != "SUCCESS":
                    raise RuntimeError(f"run {run_id} ({run['jobName']}) ended {run['status']}")
                done[run_id] = run
                pending.remove(run_id)
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} runs not done after {timeout:.0f}s: {pending[:3]}")
            time.sleep(0.5)
    return [done[run_id] for run_id in run_ids]


def wait_location_loaded(stack: Stack, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            data = stack.graphql(
                """{ workspaceOrError { ... on Workspace { locationEntries {
                name loadStatus locationOrLoadError { __typename } } } } }""",
                timeout=10,
            )
            entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
            entry = entries.get(LOCATION) or {}
            last = entry
            if (
                entry.get("loadStatus") == "LOADED"
                and (entry.get("locationOrLoadError") or {}).get("__typename") == "RepositoryLocation"
            ):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, AssertionError, KeyError) as error:
            last = repr(error)  # KeyError: the workspace is still loading (an error, no entries yet)
        time.sleep(0.5)
    raise TimeoutError(f"code location {LOCATION} not loaded after {timeout:.0f}s: {last}")


def asset_job(stack: Stack, asset_key: str) -> str:
    """The implicit asset job that can run ``asset_key`` (named __ASSET_JOB...)."""
    data = stack.graphql(
        "query($k: [AssetKeyInput!]) { assetNodes(assetKeys: $k) { jobNames } }",
        {"k": [{"path": [asset_key]}]},
    )
    names = data["assetNodes"][0]["jobNames"]
    implicit = [name for name in names if name.startswith("__ASSET_JOB")]
    return (implicit or names)[0]


def phases(run: dict, t0: float) -> dict:
    """Where the time of one run went, from ``t0`` (wall clock of the trigger)."""
    return {
        "to_created_s": round(run["creationTime"] - t0, 2),
        "created_to_started_s": round((run["startTime"] or run["creationTime"]) - run["creationTime"], 2),
        "started_to_end_s": round(run["endTime"] - (run["startTime"] or run["creationTime"]), 2),
        "total_s": round(run["endTime"] - t0, 2),
    }


# --- figures ---------------------------------------------------------------------------------
def sensor_latency(stack: Stack, uploads: int = 5) -> dict:
    """Object lands in incoming/orders/ -> the run file_sensor launched for it reaches SUCCESS."""
    from orders_and_sales.sample_data import generate_orders_csv

    s3, bucket = stack.s3(), stack.env["S3_BUCKET"]
    samples = []
    for i in range(uploads):
        key = f"incoming/orders/bench-{uuid.uuid4().hex[:12]}.csv"  # any name: detection does not rely on order
        body = generate_orders_csv(1_000, seed=100 + i)
        t0 = time.time()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        runs = wait_for_tagged_runs(stack, "orders/first_key", key, 120, f"file_sensor for {key}")
        run = wait_runs_done(stack, [runs[0]["runId"]])[0]
        sample = phases(run, t0)
        samples.append(sample)
        log(f"sensor upload {i + 1}/{uploads}: {sample}")
    totals = [s["total_s"] for s in samples]
    return {
        "p50": round(statistics.median(totals), 2),
        "p95": round(percentile(totals, 95), 2),
        "n": len(totals),
        "min": round(min(totals), 2),
        "max": round(max(totals), 2),
        "sensor_interval_s": int(stack.env.get("ORDERS_SENSOR_INTERVAL_SECONDS") or 10),
        "p50_upload_to_run_created": round(statistics.median(s["to_created_s"] for s in samples), 2),
        "p50_run_created_to_started": round(statistics.median(s["created_to_started_s"] for s in samples), 2),
        "p50_run_started_to_end": round(statistics.median(s["started_to_end_s"] for s in samples), 2),
        "samples": samples,
    }


def burst(stack: Stack, files: int = 500, rows: int = 50) -> dict:
    """``files`` small files uploaded at once -> every one in orders_summary, exactly."""
    import io

    import pandas as pd

    s3, bucket, tag = stack.s3(), stack.env["S3_BUCKET"], uuid.uuid4().hex[:8]
    year = 3000 + int(tag, 16) % 900  # dates no other data uses
    header = "order_id,date,customer_id,amount,quantity\n"
    expected_amount, expected_orders = 0.0, files * rows
    bodies = []
    for n in range(files):
        lines = [f"{9_000_000_000 + n * rows + i},{year}-01-{1 + i % 28:02d},1,{1 + i % 7}.5,1" for i in range(rows)]
        expected_amount += sum(1 + i % 7 + 0.5 for i in range(rows))
        bodies.append(header + "\n".join(lines) + "\n")
    t0 = time.time()
    for n, body in enumerate(bodies):
        s3.put_object(Bucket=bucket, Key=f"incoming/orders/burst-{tag}-{n:04d}.csv", Body=body.encode())
    uploaded_s = time.time() - t0
    deadline = time.monotonic() + 900
    while True:
        summary = pd.read_parquet(
            io.BytesIO(s3.get_object(Bucket=bucket, Key="lake/orders_summary.parquet")["Body"].read())
        )
        mine = summary[pd.to_datetime(summary["date"]).dt.year == year]
        if int(mine["order_count"].sum()) >= expected_orders or time.monotonic() > deadline:
            break
        time.sleep(1)
    drain_s = time.time() - t0
    runs = [
        r
        for r in runs_with_tag(stack, "dagster/sensor_name", "file_sensor", limit=1000)
        if tag in {t["key"]: t["value"] for t in r["tags"]}.get("orders/first_key", "")
    ]
    exact = (
        int(mine["order_count"].sum()) == expected_orders
        and abs(float(mine["total_amount"].sum()) - expected_amount) < 1e-6
    )
    figures = {
        "files": files,
        "rows_per_file": rows,
        "drain_s": round(drain_s, 1),
        "upload_s": round(uploaded_s, 1),
        "runs": len(runs),
        "exact": exact,
    }
    log(f"burst: {figures}")
    return figures


IN_PROCESS_SCRIPT = r"""
import json, statistics, sys, time
from dagster import DagsterInstance, materialize
from orders_and_sales.defs.customers.assets import raw_customers
from dagster_platform.environment import resources_for
resources = resources_for()
times = []
with DagsterInstance.ephemeral() as instance:
    for _ in range(int(sys.argv[1]) + 1):
        started = time.perf_counter()
        result = materialize([raw_customers], resources=resources, instance=instance)
        assert result.success
        times.append(time.perf_counter() - started)
print(json.dumps({"first": times[0], "times": times[1:]}))
"""


def run_overhead(stack: Stack, runs: int = 5, asset_key: str = "raw_customers") -> dict:
    """A cheap asset through the DockerRunLauncher (launch -> SUCCESS) vs ``materialize`` in process.

    The in-process baseline runs inside the user-code container, so both paths use the
    same warehouse and the same object store; it excludes the interpreter's import time.
    """
    job = asset_job(stack, asset_key)
    samples = []
    for i in range(runs + 1):  # the first run warms the page cache of the image; not counted
        t0 = time.time()
        run_id = launch_run(stack, job, assets=[asset_key], tags={"benchmark": "run_overhead"})
        run = wait_runs_done(stack, [run_id])[0]
        sample = phases(run, t0)
        log(f"docker run {i}/{runs}{' (warm-up, not counted)' if i == 0 else ''}: {sample}")
        if i:
            samples.append(sample)
    inproc = stack.compose("exec", "-T", "user-code", "python", "-c", IN_PROCESS_SCRIPT, str(runs), timeout=600)
    in_process = json.loads(inproc.stdout.strip().splitlines()[-1])
    log(f"in process: {in_process}")
    totals = [s["total_s"] for s in samples]
    return {
        "docker_p50": round(statistics.median(totals), 2),
        "in_process_p50": round(statistics.median(in_process["times"]), 3),
        "n": len(totals),
        "asset": asset_key,
        "docker_p95": round(percentile(totals, 95), 2),
        "p50_launch_to_created": round(statistics.median(s["to_created_s"] for s in samples), 2),
        "p50_created_to_started": round(statistics.median(s["created_to_started_s"] for s in samples), 2),
        "p50_started_to_end": round(statistics.median(s["started_to_end_s"] for s in samples), 2),
        "samples": samples,
    }


def backfill(stack: Stack, per_partition_runs: int = 30) -> dict:
    """daily_sales + daily_sales_summary over 2023: one single-run backfill vs one run per partition."""
    assets = [{"path": ["daily_sales"]}, {"path": ["daily_sales_summary"]}]

    # 1. The backfill as a user launches it (UI / GraphQL); BackfillPolicy.single_run() on
    # both assets makes the backfill daemon submit ONE run for the 365 partitions.
    t0 = time.time()
    data = stack.graphql(
        """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
             ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {"p": {"partitionNames": YEAR, "assetSelection": assets, "title": "benchmark: 2023 single run"}},
    )
    result = data["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill failed: {result}")
    backfill_id = result["backfillId"]
    runs = wait_for_tagged_runs(stack, "dagster/backfill", backfill_id, 600, f"backfill {backfill_id}")
    single = wait_runs_done(stack, [r["runId"] for r in runs], timeout=900)
    backfill_s = max(r["endTime"] for r in single) - t0
    backfill_phases = phases(single[0], t0)
    log(f"single-run backfill {backfill_id}: {len(single)} run(s), {backfill_s:.1f}s {backfill_phases}")

    # 2. The same single run launched directly (partition range tags): no backfill-daemon tick.
    t0 = time.time()
    run_id = launch_run(
        stack,
        "daily_sales_job",
        tags={"dagster/asset_partition_range_start": YEAR[0], "dagster/asset_partition_range_end": YEAR[-1]},
    )
    direct = wait_runs_done(stack, [run_id], timeout=900)[0]
    direct_phases = phases(direct, t0)
    log(f"single run (range tags): {direct_phases}")

    # 3. One run per partition, all submitted at once, through the queue
    # (max_concurrent_runs), as a per-partition backfill would run: wall time to the last.
    days = YEAR[:per_partition_runs]
    t0 = time.time()
    run_ids = [
        launch_run(stack, "daily_sales_job", tags={"dagster/partition": day, "benchmark": "per_partition"})
        for day in days
    ]
    per = wait_runs_done(stack, run_ids, timeout=1800)
    wall = max(r["endTime"] for r in per) - t0
    per_run = [r["endTime"] - (r["startTime"] or r["creationTime"]) for r in per]
    log(f"{len(days)} per-partition runs: {wall:.1f}s wall, p50 {statistics.median(per_run):.1f}s started->end")
    extrapolated = wall * len(YEAR) / len(days)
    return {
        "partitions": len(YEAR),
        "single_run_s": round(backfill_s, 1),
        "per_partition_extrapolated_s": round(extrapolated, 1),
        "speedup": round(extrapolated / backfill_s, 1) if backfill_s else None,
        "single_run_direct_s": round(direct_phases["total_s"], 1),
        "single_run_execution_s": round(direct_phases["started_to_end_s"], 1),
        "backfill_daemon_wait_s": backfill_phases["to_created_s"],
        "per_partition_measured_runs": len(days),
        "per_partition_measured_wall_s": round(wall, 1),
        "per_partition_run_p50_s": round(statistics.median(per_run), 2),
        "max_concurrent_runs": run_limit(),
    }


# --- footprint -------------------------------------------------------------------------------
def project_images(stack: Stack) -> dict[str, str]:
    return {target: stack.env_image(target) for target in ("dagster", "user-code")}


def image_sizes(stack: Stack) -> dict[str, float]:
    sizes = {}
    for target, image in project_images(stack).items():
        out = docker("image", "inspect", "--format", "{{.Size}}", image, check=False)
        if out.returncode == 0:
            sizes[target] = round(int(out.stdout.strip()) / MB, 1)
    return sizes


def idle_memory(stack: Stack, settle_s: float = 30, samples: int = 3) -> dict[str, float]:
    """MiB per running service (docker stats, median of ``samples``), after ``settle_s``."""
    log(f"idle memory: settling {settle_s:.0f}s, then {samples} docker stats samples")
    time.sleep(settle_s)
    ids = stack.compose("ps", "-q").stdout.split()
    readings: dict[str, list[float]] = {}
    for i in range(samples):
        out = docker("stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *ids)
        for line in out.stdout.strip().splitlines():
            name, usage = line.split("\t")
            readings.setdefault(service_of(name), []).append(parse_mem(usage))
        if i + 1 < samples:
            time.sleep(5)
    return {service: round(statistics.median(values), 1) for service, values in sorted(readings.items())}


# A container's CPU time so far: cgroup v2 (systemd or cgroupfs driver), then v1's cpuacct.
CPU_COUNTERS = (
    ("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", "usage_usec", 1e6),
    ("/sys/fs/cgroup/docker/{id}/cpu.stat", "usage_usec", 1e6),
    ("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage", "", 1e9),
)


def cpu_seconds(container_id: str) -> float | None:
    for pattern, field, per_second in CPU_COUNTERS:
        path = Path(pattern.format(id=container_id))
        if path.exists():
            text = path.read_text()
            return int(text.split(field)[1].split()[0] if field else text) / per_second
    return None


def idle_cpu(stack: Stack, seconds: float = 60) -> dict:
    """CPU seconds per service over ``seconds`` of the idle stack, from the containers'
    cgroup counters (docker stats shows a moment, not a sum). Empty where cgroups are not
    readable from here."""
    ids = stack.compose("ps", "-q").stdout.split()
    names = docker("inspect", "--format", "{{.Id}} {{.Name}}", *ids).stdout.split("\n") if ids else []
    services = dict(line.split(" ", 1) for line in names if line.strip())
    before = {cid: cpu_seconds(cid) for cid in services}
    time.sleep(seconds)
    used = {
        service_of(services[cid]): round(cpu_seconds(cid) - start, 1)  # type: ignore[operator]
        for cid, start in before.items()
        if start is not None
    }
    log(f"idle CPU over {seconds:.0f}s: {used}")
    return {
        "seconds": seconds,
        "cpu_s_by_service": dict(sorted(used.items())),
        "cores": round(sum(used.values()) / seconds, 2),
    }


def remove_project_images(stack: Stack) -> None:
    """The images compose builds (not the sandbox stand-ins), plus their dangling build stages."""
    for image in project_images(stack).values():
        docker("rmi", "-f", image, check=False)
    docker("image", "prune", "-f", "--filter", "label=io.dagster-platform.build", check=False)


def timed_up(stack: Stack, build: bool = False) -> dict:
    """`up -d --wait` (every service healthy) and, measured beside it, the UI answering
    with the code location loaded."""
    ui: dict[str, float] = {}
    errors: list[str] = []
    started = time.monotonic()
    stop = threading.Event()

    def watch_ui():
        try:
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(f"{UI}/healthz", timeout=2):  # no login needed
                        pass
                    wait_location_loaded(stack, timeout=600)
                    ui["ui_s"] = time.monotonic() - started
                    return
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    time.sleep(0.25)
        except Exception as error:  # reported beside the figure, not lost with the thread
            errors.append(f"{type(error).__name__}: {error}")

    watcher = threading.Thread(target=watch_ui, daemon=True)
    watcher.start()
    try:
        wait_s = stack.up(build=build)
    finally:
        watcher.join(timeout=180)
        stop.set()
    if "ui_s" not in ui:
        log(f"the UI was not seen healthy with its location loaded during up: {errors or 'still waiting'}")
    return {"up_wait_s": round(wait_s, 1), "ui_s": round(ui.get("ui_s", float("nan")), 1)}


# --- the whole thing -------------------------------------------------------------------------
def celery_burst(stack: Stack) -> dict:
    """The scale profile's broker + workers beside the stack: one celery_fanout burst with 1
    and with 2 workers (tooling/scale.py), steps/min; the workers are removed afterwards."""
    from tooling import scale

    scaled = scale.scale_stack(stack)
    try:
        scale.up_workers(scaled, 1, build=True)
        result = scale.burst(
            scaled,
            launch=lambda job, config: launch_run(scaled, job, run_config=config, location=scale.LOCATION),
            wait=lambda run_id: wait_runs_done(scaled, [run_id]),
        )
    finally:
        scale.remove_workers(scaled)
    log(f"celery burst: {result}")
    return result


def run(
    cold: bool | None = None, uploads: int = 5, runs: int = 5, per_partition_runs: int = 30, skip: tuple[str, ...] = ()
) -> dict:
    """Every stack figure, side by side; always leaves the stack down (``down -v``)."""
    if cold is None:
        cold = os.environ.get("BENCH_STACK_COLD", "1").strip().lower() not in {"0", "false", "no"}
    stack = Stack.from_env()
    results: dict = {
        "sensor_latency_s": {"p50": 0, "p95": 0, "n": 0},
        "run_overhead_s": {"docker_p50": 0, "in_process_p50": 0, "n": 0},
        "backfill": {"partitions": 365, "single_run_s": 0, "per_partition_extrapolated_s": 0},
        "footprint": {"idle_total_mib": 0, "user_code_image_mb": 0, "warm_up_s": 0, "cold_up_build_s": 0},
        "burst": {"files": 500, "drain_s": 0, "runs": 0, "exact": False},
    }
    footprint = results["footprint"]
    errors: dict[str, str] = {}
    try:
        if cold:
            log("cold: down -v, removing the project images, then up --build --wait")
            stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
            stack.remove_run_containers()
            remove_project_images(stack)
            cold_up = timed_up(stack, build=True)
            # "To a healthy UI" (the target): the webserver answers with the code location loaded;
            # `up --wait` also waits for the daemon's first liveness check (every 15 s).
            footprint["cold_up_build_s"] = cold_up["ui_s"]
            footprint["cold_up_build_all_healthy_s"] = cold_up["up_wait_s"]
            log(f"cold up --build: {cold_up}")
        else:
            log("up --build --wait (not cold: images may be cached)")
            footprint["up_build_s"] = timed_up(stack, build=True)["up_wait_s"]
        wait_location_loaded(stack)

        if "footprint" not in skip:
            by_service = idle_memory(stack)
            footprint["idle_mib_by_service"] = by_service
            footprint["idle_total_mib"] = round(sum(by_service.values()), 1)
            sizes = image_sizes(stack)
            footprint["image_mb"] = sizes
            footprint["user_code_image_mb"] = sizes.get("user-code", 0)
            footprint["user_code_image_mb_upstream_base_estimate"] = round(
                sizes.get("user-code", 0) - STANDIN_PYTHON_MB + UPSTREAM_PYTHON_SLIM_MB, 1
            )
            footprint["base_image_note"] = (
                f"images are built on the sandbox's python:3.11-slim-bookworm stand-in ({STANDIN_PYTHON_MB} MB); "
                f"upstream is ~{UPSTREAM_PYTHON_SLIM_MB} MB"
            )
            log(f"idle memory {by_service} = {footprint['idle_total_mib']} MiB; images {sizes} MB")
            results["idle_cpu"] = idle_cpu(stack)

        for name, figure, call in (
            ("sensor", "sensor_latency_s", lambda: sensor_latency(stack, uploads)),
            ("overhead", "run_overhead_s", lambda: run_overhead(stack, runs)),
            ("backfill", "backfill", lambda: backfill(stack, per_partition_runs)),
            ("burst", "burst", lambda: burst(stack)),
            ("celery", "celery", lambda: celery_burst(stack)),
            ("redeploy", "redeploy", lambda: locations.redeploy(stack, lambda run: wait_runs_done(stack, [run]))),
            (
                "scaffold",
                "scaffold_to_success",
                lambda: locations.scaffold_to_success(stack, lambda run: wait_runs_done(stack, [run])),
            ),
        ):
            if name in skip:
                continue
            try:
                results[figure] = call()
            except Exception as error:  # one broken figure must not lose the others
                errors[figure] = f"{type(error).__name__}: {error}"
                log(f"{figure} FAILED: {errors[figure]}")

        if "footprint" not in skip:
            log("warm up: down (volumes kept), then up --wait")
            stack.compose("down", check=False, timeout=300)
            stack.remove_run_containers()
            warm = timed_up(stack)
            footprint["warm_up_s"] = warm["ui_s"]
            footprint["warm_up_all_healthy_s"] = warm["up_wait_s"]
            log(f"warm up (volumes kept): {warm}")
            log("warm up, fresh volumes: down -v, then up --wait")
            stack.compose("down", "-v", check=False, timeout=300)
            fresh = timed_up(stack)
            footprint["warm_up_fresh_volumes_s"] = fresh["ui_s"]
            footprint["warm_up_fresh_volumes_all_healthy_s"] = fresh["up_wait_s"]
            log(f"warm up (fresh volumes): {fresh}")
    except Exception as error:
        errors["stack"] = f"{type(error).__name__}: {error}"
        log(f"FAILED: {errors['stack']}")
    finally:
        log("teardown: down -v and the run containers")
        stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        stack.remove_run_containers()
    if errors:
        results["stack_errors"] = errors
    return results


FIGURES = ("footprint", "sensor", "overhead", "backfill", "burst", "celery", "redeploy", "scaffold")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--no-cold", action="store_true", help="skip removing the images before the first up")
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-partition-runs", type=int, default=30)
    parser.add_argument("--skip", action="append", default=[], choices=FIGURES)
    args = parser.parse_args(argv)
    results = run(
        cold=not args.no_cold,
        uploads=args.uploads,
        runs=args.runs,
        per_partition_runs=args.per_partition_runs,
        skip=tuple(args.skip),
    )
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
