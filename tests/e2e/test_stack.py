"""End to end: the compose stack driven as a user would (GraphQL, S3, a browser).

Tests run in file order and share one stack (see conftest.py). Every wait has a
deadline and reports what it last saw.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import uuid

import pytest

from .browser import chromium, sign_in
from .conftest import ARTIFACTS, LOCATION, RUN_LABEL, TIMINGS, UI, Stack
from tooling.stack import RUN_FIELDS
from .waits import (
    REPOSITORY,
    launch_run,
    location_entry,
    read_parquet,
    tags_of,
    wait_for,
    wait_location_loaded,
    wait_run_success,
)

pytestmark = pytest.mark.e2e

LONG_RUNNING = (
    "postgres",
    "minio",
    "user-code",
    "platform-code",
    "webserver",
    "webserver-readonly",
    "gateway",
    "daemon",
    "proxy",
    "docker-proxy-web",
    "docker-proxy-daemon",
)
ONE_SHOT = ("minio-init", "init")
ASSETS = {
    "raw_orders",
    "cleaned_orders",
    "orders_summary",
    "raw_customers",
    "customers_bronze",
    "customers_silver",
    "customers_gold",
    "daily_sales",
    "daily_sales_summary",
    "product_metrics",
}
PARTITION = "2023-06-15"

# A dirty orders file with hand-computed expectations, on dates (2031) and ids (99000x)
# that no other data uses, so the check holds whatever else the lake contains.
DIRTY_ORDERS_CSV = """order_id,date,customer_id,amount,quantity
990001,2031-03-01,1,10.50,2
990002,2031-03-01,2,20.00,1
990003,2031-03-02,3,5.25,4
990004,,4,7.00,1
,2031-03-01,5,3.00,1
990005,2031-03-02,6,n/a,1
990006,2031-02-30,7,1.00,1
990007,2031-03-02,8,2.00,three
990003,2031-03-02,3,6.75,3
990008,2031-03-01,9,,2
"""
# Dropped: missing date, missing order_id, amount n/a, 30 February, quantity "three",
# missing amount, and the first 990003 (the later row with the same id wins).
EXPECTED_SUMMARY = {
    "2031-03-01": {"total_amount": 30.50, "total_quantity": 3, "order_count": 2},
    "2031-03-02": {"total_amount": 6.75, "total_quantity": 3, "order_count": 1},
}


# --- the stack -------------------------------------------------------------------------
def test_every_service_is_healthy(stack: Stack):
    for service in LONG_RUNNING:
        container = stack.container_id(service)
        assert container, f"service {service} has no container"
        state = json.loads(
            subprocess.run(
                ["docker", "inspect", "--format", "{{json .State}}", container],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        assert state["Status"] == "running", f"{service}: {state['Status']}"
        assert state.get("Health", {}).get("Status") == "healthy", f"{service}: {state.get('Health')}"
    for job in ONE_SHOT:
        container = stack.container_id(job)
        code = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.ExitCode}}", container],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert code == "0", f"one-shot job {job} exited {code}"


def test_code_location_is_loaded(stack: Stack):
    entry = wait_location_loaded(stack)
    assert [r["name"] for r in entry["locationOrLoadError"]["repositories"]] == [REPOSITORY]


def test_assets_are_present(stack: Stack):
    wait_location_loaded(stack)
    nodes = stack.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    assert ASSETS <= keys, f"missing assets: {sorted(ASSETS - keys)}"


def test_schedule_and_sensor_are_running(stack: Stack):
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    data = stack.graphql(
        """query($s: RepositorySelector!) {
             schedulesOrError(repositorySelector: $s) { __typename
               ... on Schedules { results { name scheduleState { status } } } }
             sensorsOrError(repositorySelector: $s) { __typename
               ... on Sensors { results { name sensorState { status } } } } }""",
        {"s": selector},
    )
    schedules = {s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]}
    sensors = {s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]}
    assert schedules.get("daily_schedule") == "RUNNING", schedules
    assert sensors.get("file_sensor") == "RUNNING", sensors


def test_run_launcher_and_daemons(stack: Stack):
    def probe():
        instance = stack.graphql("""{ instance {
            runLauncher { name }
            daemonHealth { allDaemonStatuses { daemonType required healthy
              lastHeartbeatErrors { message } } } } }""")["instance"]
        unhealthy = [d for d in instance["daemonHealth"]["allDaemonStatuses"] if d["required"] and not d["healthy"]]
        return instance if not unhealthy else f"unhealthy daemons: {unhealthy}"

    instance = wait_for("every required daemon to be healthy", probe, timeout=120)
    assert instance["runLauncher"]["name"] == "DockerRunLauncher"
    daemons = {d["daemonType"] for d in instance["daemonHealth"]["allDaemonStatuses"]}
    assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= daemons, daemons


def test_warehouse_user_is_read_only(stack: Stack):
    """The pipelines' warehouse role can read the seeded tables and nothing more."""
    env = stack.env

    def psql(sql: str, database: str = env["WAREHOUSE_DB_NAME"]) -> subprocess.CompletedProcess:
        return stack.compose(
            "exec",
            "-T",
            "-e",
            f"PGPASSWORD={env['WAREHOUSE_DB_PASSWORD']}",
            "postgres",
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            env["WAREHOUSE_DB_USER"],
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
            check=False,
        )

    read = psql("SELECT count(*) FROM sales")
    assert read.returncode == 0 and int(read.stdout.strip()) > 0, read.stderr
    write = psql("DELETE FROM sales WHERE sale_id = -1")
    assert write.returncode != 0 and "permission denied" in write.stderr, (write.stdout, write.stderr)
    other = psql("CREATE TABLE e2e_should_fail (x int)")
    assert other.returncode != 0, other.stdout
    instance_db = psql("SELECT 1", database=env["DAGSTER_PG_DB"])
    assert instance_db.returncode != 0, "the warehouse role can connect to Dagster's instance database"


# --- runs ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sensor_run(stack: Stack) -> dict:
    """A file_sensor run of a dirty orders file, once it has succeeded (made on first use,
    so every test that needs it also runs alone)."""
    wait_location_loaded(stack)
    bucket = stack.env["S3_BUCKET"]
    key = f"incoming/orders/{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-e2e-{uuid.uuid4().hex[:8]}.csv"
    started = time.monotonic()
    stack.s3().put_object(Bucket=bucket, Key=key, Body=DIRTY_ORDERS_CSV.encode())

    def launched():
        data = stack.graphql(
            """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}, limit: 50) {
                 ... on Runs { results { %s } } } }"""
            % RUN_FIELDS,
            {"tags": [{"key": "dagster/sensor_name", "value": "file_sensor"}]},
        )
        mine = [r for r in data["runsOrError"]["results"] if key in json.dumps(r["tags"])]
        return mine[0] if mine else None

    run = wait_for(f"file_sensor to launch a run for {key}", launched, timeout=90)
    run = wait_run_success(stack, run["runId"])
    TIMINGS.append(f"orders CSV upload -> file_sensor run SUCCESS: {time.monotonic() - started:.1f}s")
    return run


@pytest.fixture(scope="module")
def partition_run(stack: Stack) -> dict:
    """A daily_sales run of one partition, launched as the UI does, once it has succeeded."""
    wait_location_loaded(stack)
    launched = time.monotonic()
    run_id = launch_run(stack, "daily_sales_job", tags={"dagster/partition": PARTITION}, assets=["daily_sales"])
    run = wait_run_success(stack, run_id)
    TIMINGS.append(f"daily_sales partition launch -> SUCCESS: {time.monotonic() - launched:.1f}s")
    return run


def test_file_sensor_run_succeeds_in_its_own_container(stack: Stack, sensor_run: dict):
    run = sensor_run
    container = tags_of(run).get("docker/container_id")
    assert container, f"run has no docker/container_id tag: {tags_of(run)}"
    inspected = json.loads(
        subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
    )[0]
    labels = inspected["Config"]["Labels"]
    assert labels.get("dagster/run_id") == run["runId"]
    assert f"{RUN_LABEL.split('=')[0]}" in labels
    assert inspected["Config"]["Image"] == stack.env_image("user-code")
    assert container not in {stack.container_id(s) for s in LONG_RUNNING}
    assert inspected["State"]["ExitCode"] == 0

    summary = read_parquet(stack, "lake/orders_summary.parquet")
    summary["date"] = summary["date"].astype(str).str[:10]
    mine = summary[summary["date"].isin(EXPECTED_SUMMARY)].set_index("date")
    assert sorted(mine.index) == sorted(EXPECTED_SUMMARY), summary.tail()
    for day, expected in EXPECTED_SUMMARY.items():
        assert mine.loc[day, "total_amount"] == pytest.approx(expected["total_amount"]), (day, mine.loc[day])
        assert int(mine.loc[day, "total_quantity"]) == expected["total_quantity"], (day, mine.loc[day])
        assert int(mine.loc[day, "order_count"]) == expected["order_count"], (day, mine.loc[day])


def test_daily_sales_partition_materializes(stack: Stack, partition_run: dict):
    run = partition_run
    assert tags_of(run).get("dagster/partition") == PARTITION
    assert tags_of(run).get("docker/container_id")

    frame = read_parquet(stack, f"lake/daily_sales/{PARTITION}.parquet")
    env = stack.env
    count = stack.compose(
        "exec",
        "-T",
        "postgres",
        "psql",
        "-U",
        env.get("POSTGRES_USER") or "postgres",
        "-d",
        env["WAREHOUSE_DB_NAME"],
        "-tAc",
        f"SELECT count(*) FROM sales WHERE date = '{PARTITION}'",
    ).stdout.strip()
    assert len(frame) == int(count) > 0, (len(frame), count)


def test_compute_logs_are_in_minio_and_readable_from_the_ui(stack: Stack, partition_run: dict):
    run_id = partition_run["runId"]
    bucket = stack.env["S3_BUCKET"]
    s3 = stack.s3()

    def logs():
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"compute-logs/storage/{run_id}/")
        return [o["Key"] for o in listed.get("Contents", [])] or None

    keys = wait_for(f"compute logs of run {run_id} under compute-logs/", logs, timeout=60)
    err_keys = [k for k in keys if k.endswith(".err")]
    assert err_keys, keys
    text = s3.get_object(Bucket=bucket, Key=err_keys[0])["Body"].read().decode()
    assert "daily_sales" in text, text[:500]
    for secret in ("AWS_SECRET_ACCESS_KEY", "WAREHOUSE_DB_PASSWORD", "DAGSTER_PG_PASSWORD"):
        assert stack.env[secret] not in text, f"{secret} appears in the compute logs"

    # What the UI shows: the webserver reads the same object back through GraphQL.
    file_key = err_keys[0].rsplit("/", 1)[1].rsplit(".", 1)[0]
    data = stack.graphql(
        "query($k: [String!]!) { capturedLogs(logKey: $k) { stderr } }",
        {"k": [run_id, "compute_logs", file_key]},
    )
    assert "daily_sales" in (data["capturedLogs"]["stderr"] or ""), data


def test_ui_renders_in_headless_chromium(stack: Stack, request):
    """The UI through the proxy and the gateway, in a real browser signed in on the login page
    as a colleague is; the page's own fetch() and websocket calls then carry the session cookie."""
    wait_location_loaded(stack)
    pages = {  # page -> (screenshot, text the rendered page must contain)
        "/asset-groups": ("asset-graph-global.png", ("Global asset lineage", "orders", "customers", "sales")),
        f"/locations/{LOCATION}/asset-groups/orders": (
            "asset-graph-orders.png",
            ("raw_orders", "cleaned_orders", "orders_summary"),
        ),
    }
    with chromium(request) as browser:
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        sign_in(page, stack, "/asset-groups")
        for path, (name, expected) in pages.items():
            screenshot = ARTIFACTS / name
            screenshot.unlink(missing_ok=True)
            page.goto(f"{UI}{path}")
            missing = []
            for text in expected:
                try:
                    page.get_by_text(text, exact=False).first.wait_for(timeout=30_000)
                except Exception:  # playwright's TimeoutError: report every missing text at once
                    missing.append(text)
            html = page.content()
            screenshot.with_suffix(".html").write_text(html)
            page.screenshot(path=str(screenshot))
            assert not missing, f"{path}: {missing} not rendered (DOM saved next to {name})"
            # nux is disabled in dagster.yaml: no "Join the Dagster community" dialog over the page.
            assert "Join the Dagster community" not in html
            assert screenshot.exists() and screenshot.stat().st_size > 10_000, f"no screenshot of {path}"


def test_broken_definitions_show_as_a_failed_location(stack: Stack):
    """The gRPC server stays up (healthy) and serves the import error to the UI."""
    override = "tests/e2e/broken-code.override.yml"
    reload = """mutation { reloadRepositoryLocation(repositoryLocationName: "%s") { __typename } }""" % LOCATION
    try:
        stack.up("user-code", files=(override,), no_deps=True)
        stack.graphql(reload)

        def failed():
            entry = location_entry(stack)
            error = entry["locationOrLoadError"] or {}
            return entry if error.get("__typename") == "PythonError" else f"{entry['loadStatus']} {error}"

        entry = wait_for("the broken location to report its load error", failed, timeout=90)
        error = entry["locationOrLoadError"]
        text = " ".join([error["message"], *(cause["message"] for cause in error.get("causes") or [])])
        assert "deliberately broken" in text, text
    finally:
        stack.up("user-code", no_deps=True)
        stack.graphql(reload)
    wait_location_loaded(stack)


def test_down_and_up_keeps_run_history(stack: Stack, sensor_run: dict, partition_run: dict):
    run_ids = [sensor_run["runId"], partition_run["runId"]]
    stack.compose("down", timeout=300)  # no -v: the volumes stay
    seconds = stack.up()
    TIMINGS.append(f"docker compose down (no -v) + up --wait: {seconds:.1f}s")
    stack.wait_for_webserver()
    wait_location_loaded(stack)
    for run_id in run_ids:
        run = stack.run(run_id)
        assert run and run["status"] == "SUCCESS", f"run {run_id} lost after down/up: {run}"
