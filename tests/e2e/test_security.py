"""End to end: the stack is secure by default (issue 8), checked from the outside in.

1. plain compose, no DOCKER_GID: only the socket proxies hold the Docker socket;
2. the authenticating proxy is the only UI port, with Host/Origin/method/content checks;
3. the socket proxies let the webserver and the daemon call only what they need, and
   terminating a run still works;
4. random secrets (`make env`), placeholder refusal, no secret leaks through run config;
5. least privilege in Postgres (runtime role without DDL) and in who holds which key;
6. hardened containers (services and runs); a hung daemon's health check fails in < 2 min.

The policy documents of the MinIO identities are checked statically in
tests/unit/test_minio_policies.py: the MinIO stand-in here enforces no IAM.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient
from requests.auth import HTTPBasicAuth

from .conftest import LOCATION, ROOT, RUN_LABEL, UI, Stack
from .waits import REPOSITORY, launch_run, wait_for

pytestmark = pytest.mark.e2e

PROXIES = ("docker-proxy-web", "docker-proxy-daemon")
SOCKET = "/var/run/docker.sock"


# --- helpers ---------------------------------------------------------------------------
def inspect(container: str) -> dict:
    out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def service_inspect(stack: Stack, service: str) -> dict:
    container = stack.container_id(service)
    assert container, f"service {service} has no container"
    return inspect(container)


def send(
    stack: Stack, method: str, path: str, headers: dict | None = None, body: bytes | None = None, auth: bool = True
) -> tuple[int, str]:
    """One request to the published UI port, with exactly these headers (Host included)."""
    connection = http.client.HTTPConnection("127.0.0.1", 3000, timeout=30)
    sent = {"Host": "127.0.0.1:3000", **({"Authorization": stack.auth_header()} if auth else {}), **(headers or {})}
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read(4096).decode(errors="replace") if response.status != 101 else ""
    finally:
        connection.close()


def in_container(stack: Stack, service: str, script: str) -> str:
    """Run a Python script in a service's container; its stdout."""
    return stack.compose("exec", "-T", service, "python", "-c", script).stdout


# Calls the Docker API through the container's DOCKER_HOST (its socket proxy) and prints
# each call's HTTP status: 200 when it went through (the engine's answer), else the proxy's.
DOCKER_PROBE = """
import json, docker
client = docker.from_env()
def status(call):
    try:
        call()
        return 200
    except docker.errors.APIError as error:
        return error.status_code
print(json.dumps({
    "create": status(lambda: client.api.create_container(
        "%(image)s", "true", labels={"io.dagster-platform.e2e": "probe"},
        host_config=client.api.create_host_config(privileged=True, binds=["/:/host"]))),
    "exec": status(lambda: client.api.exec_create("%(target)s", "id")),
    "pull": status(lambda: client.images.pull("busybox:latest")),
    "info": status(lambda: client.info()),
    "list": status(lambda: client.containers.list()),
}))
"""


def docker_calls(stack: Stack, service: str) -> dict:
    target = stack.container_id("postgres")
    out = in_container(stack, service, DOCKER_PROBE % {"image": stack.env_image("user-code"), "target": target})
    subprocess.run(  # a container a probe managed to create (the daemon's proxy allows create)
        "docker ps -aq --filter label=io.dagster-platform.e2e=probe | xargs -r docker rm -f",
        shell=True,
        capture_output=True,
    )
    return json.loads(out.strip().splitlines()[-1])


def wait_run_status(stack: Stack, run_id: str, statuses: tuple[str, ...], timeout: float) -> dict:
    def probe():
        run = stack.run(run_id)
        return run if run and run["status"] in statuses else f"status {run and run['status']}"

    return wait_for(f"run {run_id} to reach {statuses}", probe, timeout, interval=1)


# --- 1. plain compose, no Docker socket group -------------------------------------------
def test_no_docker_gid_and_only_the_socket_proxies_hold_the_socket(stack: Stack):
    for name in ("docker-compose.yml", ".env.example", "Makefile", "tooling/stack.py"):
        assert "DOCKER_GID" not in (ROOT / name).read_text(), f"{name} still uses DOCKER_GID"
    for service in ("webserver", "daemon", "user-code", "proxy"):
        info = service_inspect(stack, service)
        sockets = [m for m in info["Mounts"] if m["Destination"] == SOCKET]
        assert not sockets, f"{service} mounts the Docker socket"
        assert not info["HostConfig"].get("GroupAdd"), f"{service} has extra groups {info['HostConfig']['GroupAdd']}"
    for service, proxy in (("webserver", "docker-proxy-web"), ("daemon", "docker-proxy-daemon")):
        env = service_inspect(stack, service)["Config"]["Env"]
        assert f"DOCKER_HOST=tcp://{proxy}:2375" in env, f"{service} does not go through {proxy}"
    for proxy in PROXIES:
        mounts = [m for m in service_inspect(stack, proxy)["Mounts"] if m["Destination"] == SOCKET]
        assert mounts and not mounts[0]["RW"], f"{proxy}: the socket should be mounted read-only: {mounts}"
    no_socket = stack.compose("exec", "-T", "webserver", "test", "-e", SOCKET, check=False)
    assert no_socket.returncode != 0, "the webserver container has a Docker socket"


# --- 2. the authenticating proxy ----------------------------------------------------------
def test_only_the_proxy_and_the_s3_api_are_published(stack: Stack):
    published = {}
    for container in stack.compose("ps", "-q").stdout.split():
        info = inspect(container)
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        for port, bindings in (info["NetworkSettings"]["Ports"] or {}).items():
            if bindings:
                published[f"{service} {port}"] = {b["HostIp"] for b in bindings}
    bind = stack.env.get("DAGSTER_BIND_ADDRESS") or "127.0.0.1"
    assert published == {"proxy 8080/tcp": {bind}, "minio 9000/tcp": {bind}}, published


def test_the_ui_needs_the_login(stack: Stack):
    assert send(stack, "GET", "/", auth=False)[0] == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}
    assert send(stack, "GET", "/", headers=wrong, auth=False)[0] == 401
    assert send(stack, "GET", "/server_info", auth=False)[0] == 401
    assert send(stack, "GET", "/")[0] == 200
    # The health endpoint needs no login and says nothing (no versions, no names).
    status, body = send(stack, "GET", "/healthz", auth=False)
    assert (status, body) == (200, "ok\n")
    connection = http.client.HTTPConnection("127.0.0.1", 3000, timeout=10)
    connection.request("GET", "/healthz")
    assert connection.getresponse().getheader("Server") == "nginx"  # server_tokens off
    connection.close()


def test_graphql_refuses_cross_site_requests(stack: Stack):
    mutation = (
        'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "%s", '
        'repositoryName: "%s", jobName: "daily_pipeline"}}) { __typename } }' % (LOCATION, REPOSITORY)
    )
    runs_before = len(stack.graphql("{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"])
    query = json.dumps({"query": mutation}).encode()
    from urllib.parse import quote

    assert send(stack, "GET", f"/graphql?query={quote(mutation)}")[0] == 405
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        assert send(stack, "POST", "/graphql", {"Content-Type": content_type}, query)[0] == 415, content_type
    for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example:3000"):
        status, _ = send(stack, "POST", "/graphql", {"Content-Type": "application/json", "Origin": origin}, query)
        assert status == 403, origin
    # DNS rebinding: a foreign Host header never reaches the webserver.
    assert send(stack, "GET", "/", {"Host": "evil.example:3000"})[0] == 421
    runs_after = len(stack.graphql("{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"])
    assert runs_after == runs_before, "a refused request launched a run"
    # What the UI itself sends still works.
    assert (
        send(
            stack, "POST", "/graphql", {"Content-Type": "application/json", "Origin": UI}, b'{"query": "{ version }"}'
        )[0]
        == 200
    )


def test_graphql_websocket_checks_the_origin(stack: Stack):
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-ws",
    }
    assert send(stack, "GET", "/graphql", {**upgrade, "Origin": "http://evil.example"})[0] == 403
    assert send(stack, "GET", "/graphql", {**upgrade, "Origin": UI})[0] == 101


def test_passwords_are_kept_as_argon2id_hashes_and_never_logged(stack: Stack):
    """The proxy never sees a password (the gateway authenticates); the gateway keeps only an
    argon2id hash, in its own schema, which Dagster's runtime role cannot read."""
    password = stack.env["DAGSTER_UI_PASSWORD"]
    assert service_inspect(stack, "proxy")["Config"]["User"] not in ("", "root", "0"), "nginx runs as root"
    assert service_inspect(stack, "gateway")["Config"]["User"] not in ("", "root", "0"), "the gateway runs as root"
    assert not {"DAGSTER_UI_PASSWORD", "DAGSTER_UI_USER"} & {
        item.split("=", 1)[0] for item in service_inspect(stack, "proxy")["Config"]["Env"]
    }
    for service in ("proxy", "gateway", "webserver"):
        assert password not in stack.compose("logs", "--no-color", service).stdout, (
            f"the password is in {service}'s log"
        )
    psql = [
        "exec",
        "-T",
        "postgres",
        "psql",
        "-U",
        stack.env["POSTGRES_USER"],
        "-d",
        stack.env["DAGSTER_PG_DB"],
        "-tAc",
    ]
    stored = stack.compose(*psql, "SELECT password_hash FROM platform_access.accounts").stdout
    assert stored.strip() and all(line.startswith("$argon2id$") for line in stored.split()), stored
    assert password not in stored
    # Neither Dagster's runtime role (every code server and run holds it) nor the gateway's
    # own role may touch what they must not: accounts, and rewriting the audit trail.
    for role, statement in (
        (stack.env["DAGSTER_PG_USER"], "SELECT count(*) FROM platform_access.accounts"),
        (stack.env["ACCESS_DB_USER"], "DELETE FROM platform_access.audit"),
        (stack.env["ACCESS_DB_USER"], "UPDATE platform_access.audit SET outcome = 'ok'"),
        (stack.env["ACCESS_DB_USER"], "SELECT count(*) FROM public.runs"),
    ):
        denied = stack.compose(*psql, f"SET ROLE {role}; {statement}", check=False)
        assert denied.returncode != 0 and "permission denied" in denied.stderr, (role, statement, denied.stderr)


# --- 3. the socket proxies ----------------------------------------------------------------
def test_the_webserver_can_neither_create_containers_nor_exec(stack: Stack):
    calls = docker_calls(stack, "webserver")
    assert calls == {"create": 403, "exec": 403, "pull": 403, "info": 403, "list": 403}, calls


def test_the_daemon_can_neither_exec_nor_pull(stack: Stack):
    calls = docker_calls(stack, "daemon")
    assert {k: calls[k] for k in ("exec", "pull", "info", "list")} == {
        "exec": 403,
        "pull": 403,
        "info": 403,
        "list": 403,
    }, calls


def test_terminating_a_run_from_the_ui_stops_its_container(stack: Stack):
    # A year of daily_sales partitions in one run: about a minute of work.
    run_id = launch_run(
        stack,
        "daily_sales_job",
        tags={"dagster/asset_partition_range_start": "2023-01-01", "dagster/asset_partition_range_end": "2023-12-31"},
    )
    wait_run_status(stack, run_id, ("STARTED",), timeout=120)
    # The Python client as the README shows it: the same login as the UI.
    client = DagsterGraphQLClient(
        "127.0.0.1",
        port_number=3000,
        auth=HTTPBasicAuth(stack.env["DAGSTER_UI_USER"], stack.env["DAGSTER_UI_PASSWORD"]),
    )
    assert client.get_run_status(run_id) == DagsterRunStatus.STARTED
    result = stack.graphql(
        """mutation($id: String!) { terminateRun(runId: $id) { __typename
             ... on TerminateRunFailure { message } ... on PythonError { message } } }""",
        {"id": run_id},
    )
    assert result["terminateRun"]["__typename"] == "TerminateRunSuccess", result
    # The container stops within stop_timeout (30 s); the daemon marks the run CANCELED
    # within cancel_timeout_seconds (60 s) if the killed worker could not (dagster.yaml).
    run = wait_run_status(stack, run_id, ("CANCELED", "FAILURE", "SUCCESS"), timeout=150)
    assert run["status"] == "CANCELED", run
    container = {t["key"]: t["value"] for t in run["tags"]}["docker/container_id"]
    assert inspect(container)["State"]["Running"] is False


# --- 4. secrets ---------------------------------------------------------------------------
def test_make_env_writes_random_secrets_once(tmp_path: Path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path)
    (tmp_path / "infra/env").mkdir(parents=True)
    shutil.copy(ROOT / "infra/env/make_env.py", tmp_path / "infra/env")
    made = subprocess.run(["make", "-s", "env"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    env_file = tmp_path / ".env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    written = dict(
        line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    assert written.keys() == example.keys()
    secrets = [name for name, value in example.items() if value.startswith("change-me")]
    assert len(secrets) >= 9, secrets
    for name, value in written.items():
        if name in secrets:
            # letters and digits only: a value starting with "-" reads as an option to mc and other CLIs
            assert len(value) >= 32 and value.isascii() and value.isalnum(), name
            assert "change-me" not in value and value not in made.stdout, name
        else:
            assert value == example[name], name
    assert len({written[name] for name in secrets}) == len(secrets), "two secrets share a value"
    before = env_file.read_text()
    again = subprocess.run(["make", "-s", "env"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and env_file.read_text() == before, "make env overwrote .env"
    # An upgrade: a .env written before a setting existed gains it (a secret: a random value),
    # and keeps every line it had, edits included.
    older = "".join(line + "\n" for line in before.splitlines() if not line.startswith("ACCESS_DB_"))
    older = older.replace("DAGSTER_UI_USER=admin", "DAGSTER_UI_USER=ops")
    env_file.write_text(older)
    upgraded = subprocess.run(["make", "-s", "env"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert upgraded.returncode == 0 and "ACCESS_DB_PASSWORD" in upgraded.stdout, upgraded.stdout
    text = env_file.read_text()
    assert text.startswith(older)
    added = dict(
        line.split("=", 1) for line in text[len(older) :].splitlines() if "=" in line and not line.startswith("#")
    )
    assert added.keys() == {"ACCESS_DB_USER", "ACCESS_DB_PASSWORD"}, added
    assert added["ACCESS_DB_USER"] == example["ACCESS_DB_USER"] and added["ACCESS_DB_PASSWORD"].isalnum()
    assert added["ACCESS_DB_PASSWORD"] not in upgraded.stdout


def test_init_refuses_placeholders_unless_loopback(stack: Stack):
    placeholder = {"DAGSTER_UI_PASSWORD": "change-me-ui-password"}
    overrides = [arg for name, value in placeholder.items() for arg in ("-e", f"{name}={value}")]
    check = ["python", "/opt/dagster/infra/init/check_secrets.py"]
    warned = stack.compose("run", "--rm", "--no-deps", *overrides, "init", *check, check=False, timeout=120)
    assert warned.returncode == 0, warned.stderr
    assert "WARNING" in warned.stderr and "DAGSTER_UI_PASSWORD" in warned.stderr, warned.stderr
    # The real init command, published beyond loopback: refused before it touches anything.
    refused = stack.compose(
        "run", "--rm", "--no-deps", *overrides, "-e", "DAGSTER_BIND_ADDRESS=0.0.0.0", "init", check=False, timeout=120
    )
    assert refused.returncode != 0
    assert "refusing to start" in refused.stderr and "DAGSTER_UI_PASSWORD" in refused.stderr, refused.stderr
    assert "[2/4]" not in refused.stdout, "init went on after refusing"
    for name, value in stack.env.items():
        if name.endswith(("PASSWORD", "SECRET_ACCESS_KEY")) and "change-me" not in value:
            assert value not in warned.stdout + warned.stderr + refused.stdout + refused.stderr, name


METADATA = """label description
  ... on TextMetadataEntry { text } ... on JsonMetadataEntry { jsonString }
  ... on PathMetadataEntry { path } ... on UrlMetadataEntry { url } ... on MarkdownMetadataEntry { mdStr }"""
ERROR = "message stack cause { message stack } errorChain { error { message stack } }"
EVENTS = """query($id: ID!) {
  runOrError(runId: $id) { ... on Run { runConfigYaml } }
  logsForRun(runId: $id, limit: 10000) { __typename ... on EventConnection { events { __typename
    ... on MessageEvent { message }
    ... on DisplayableEvent { label description metadataEntries { %(m)s } }
    ... on ExecutionStepFailureEvent { error { %(e)s } failureMetadata { metadataEntries { %(m)s } } }
    ... on RunFailureEvent { error { %(e)s } }
    ... on EngineEvent { error { %(e)s } } } } } }""" % {"m": METADATA, "e": ERROR}


def test_run_config_cannot_read_secrets_into_logs(stack: Stack):
    """`{env: NAME}` in a run config resolves in the run worker: whatever fails there must
    not echo the value into the event log (messages, errors, metadata) or compute logs."""
    launcher = yaml.safe_load((ROOT / "dagster.yaml").read_text())["run_launcher"]["config"]
    forwarded = [name for name in launcher["env_vars"] if name.endswith(("PASSWORD", "SECRET_ACCESS_KEY"))]
    assert {"DAGSTER_PG_PASSWORD", "AWS_SECRET_ACCESS_KEY", "WAREHOUSE_DB_PASSWORD"} <= set(forwarded), forwarded
    secrets = {
        name: value
        for name, value in stack.env.items()
        if name.endswith(("PASSWORD", "SECRET_ACCESS_KEY")) and len(value) >= 8
    }
    runs, leaks = {}, []
    for name in forwarded:
        config = {"ops": {"raw_orders": {"config": {"object_keys": [{"env": name}]}}}}
        try:
            runs[name] = launch_run(stack, "daily_pipeline", config)
        except AssertionError as refused:
            # The code server resolves run config: a variable it does not hold (the Celery
            # broker's password is only forwarded to runs) cannot be read, and the refusal
            # names the variable, never a value.
            assert name in str(refused) and "which is not set" in str(refused), refused
            leaks += [
                f"{secret} in the refusal for {name}" for secret, value in secrets.items() if value in str(refused)
            ]
    assert runs, "no run could be launched at all"
    logs_s3, bucket = stack.s3("COMPUTE_LOGS"), stack.env["S3_BUCKET"]
    for name, run_id in runs.items():
        wait_run_status(stack, run_id, ("SUCCESS", "FAILURE", "CANCELED"), timeout=240)
        texts = {"event log": json.dumps(stack.graphql(EVENTS, {"id": run_id}))}
        prefix = f"compute-logs/storage/{run_id}/"
        # Uploaded when the step ends; a check with no compute logs to read would pass vacuously.
        objects = wait_for(
            f"the compute logs of the run for {name} under {prefix}",
            lambda prefix=prefix: (
                logs_s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents") or f"nothing under {prefix}"
            ),
            timeout=60,
        )
        for item in objects:
            body = logs_s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            texts[item["Key"]] = body.decode(errors="replace")
        for where, text in texts.items():
            leaks += [
                f"{secret} in {where} of the run for {name}" for secret, value in secrets.items() if value in text
            ]
    assert not leaks, "secret values readable through run config:\n" + "\n".join(leaks)


# --- 5. least privilege -------------------------------------------------------------------
def test_the_runtime_postgres_role_has_no_ddl(stack: Stack):
    env = stack.env

    def psql(user: str, password: str, sql: str) -> subprocess.CompletedProcess:
        return stack.compose(
            "exec",
            "-T",
            "-e",
            f"PGPASSWORD={password}",
            "postgres",
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            env["DAGSTER_PG_DB"],
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
            check=False,
        )

    runtime = (env["DAGSTER_PG_USER"], env["DAGSTER_PG_PASSWORD"])
    read = psql(*runtime, "SELECT count(*) FROM runs")
    assert read.returncode == 0 and int(read.stdout.strip()) >= 0, read.stderr
    for ddl in ("CREATE TABLE e2e_should_fail (x int)", "ALTER TABLE runs ADD COLUMN e2e_x int", "DROP TABLE kvs"):
        refused = psql(*runtime, ddl)
        assert refused.returncode != 0, f"the runtime role may run: {ddl}"
    owner = psql(*runtime, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owner.stdout.split() == [env["DAGSTER_PG_MIGRATION_USER"]], owner.stdout


def test_each_service_holds_only_its_own_keys(stack: Stack):
    def variables(service: str) -> set[str]:
        return {item.split("=", 1)[0] for item in service_inspect(stack, service)["Config"]["Env"]}

    webserver = variables("webserver")
    assert "COMPUTE_LOGS_SECRET_ACCESS_KEY" in webserver
    assert not webserver & {
        "AWS_SECRET_ACCESS_KEY",
        "WAREHOUSE_DB_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "POSTGRES_PASSWORD",
        "DAGSTER_PG_MIGRATION_PASSWORD",
        "UPLOADER_SECRET_ACCESS_KEY",
    }
    for service in ("daemon", "user-code", "proxy", *PROXIES):
        assert not variables(service) & {"MINIO_ROOT_PASSWORD", "POSTGRES_PASSWORD", "DAGSTER_PG_MIGRATION_PASSWORD"}
    assert variables("proxy") & {"DAGSTER_PG_PASSWORD", "AWS_SECRET_ACCESS_KEY"} == set()
    logs = stack.compose("logs", "--no-color", "minio-init").stdout
    for identity in ("uploader", "pipelines", "compute-logs"):
        assert f"user for {identity} has policy {identity}-{stack.env['S3_BUCKET']}" in logs, logs
    # The uploaders' key can drop a file where the sensor looks (what real MinIO also allows).
    # Named to sort before any timestamped upload: file_sensor's cursor is the last key seen.
    stack.s3("UPLOADER").put_object(
        Bucket=stack.env["S3_BUCKET"],
        Key="incoming/orders/00000000-e2e-uploader.txt",
        Body=b"not a csv: the sensor ignores it",
    )


# --- 6. hardening -------------------------------------------------------------------------
def test_every_container_is_hardened(stack: Stack):
    postgres_caps = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}
    for container in stack.compose("ps", "-q").stdout.split():
        info = inspect(container)
        service, host = info["Config"]["Labels"]["com.docker.compose.service"], info["HostConfig"]
        assert "no-new-privileges:true" in (host.get("SecurityOpt") or []), service
        assert host.get("CapDrop") == ["ALL"], (service, host.get("CapDrop"))
        added = {cap.removeprefix("CAP_") for cap in host.get("CapAdd") or []}
        assert added <= (postgres_caps if service == "postgres" else set()), (service, added)
        assert host.get("ReadonlyRootfs") is True, f"{service}: root filesystem is writable"
        if service not in ("init", "minio-init"):
            assert host["RestartPolicy"]["Name"] == "unless-stopped", service
            assert info["Config"].get("Healthcheck", {}).get("Test"), f"{service} has no health check"
    assert service_inspect(stack, "postgres")["Config"]["Image"] == "postgres:15.20-bookworm"
    # A hung daemon reports unhealthy within 2 minutes: heartbeat tolerance + the failing
    # checks in a row (tests/faults/test_daemon.py pauses the daemon and measures it).
    daemon = service_inspect(stack, "daemon")["Config"]
    tolerance = int(dict(item.split("=", 1) for item in daemon["Env"])["DAGSTER_DAEMON_HEARTBEAT_TOLERANCE"])
    check = daemon["Healthcheck"]
    assert tolerance + check["Interval"] / 1e9 * check["Retries"] < 120, (tolerance, check)

    runs = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}"], capture_output=True, text=True
    ).stdout.split()
    assert runs, "no run container to inspect (the run tests above launch some)"
    host = inspect(runs[0])["HostConfig"]
    assert "no-new-privileges:true" in host["SecurityOpt"] and host["CapDrop"] == ["ALL"], host
    assert host["Memory"] > 0 and host["PidsLimit"] > 0, host
