"""Fixtures for the end-to-end tests: the real compose stack, driven as a user would.

The session fixture ``stack`` brings the stack up (``docker compose up -d --build --wait``;
an already running stack is simply reused), and at the end always runs
``docker compose down -v`` and removes the run containers the DockerRunLauncher started
(unless --keep-stack / E2E_KEEP_STACK=1). When an e2e test failed, the service logs are
printed and saved to tests/e2e/artifacts/compose-logs.txt.

Without a usable Docker engine the e2e tests are skipped with the reason; with
--require-e2e, CI=true or E2E_REQUIRED=1 that is a failure instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PROJECT = "dagster-platform"
LOCATION = "orders_and_sales"
RUN_LABEL = "io.dagster-platform.role=run-worker"
UI = "http://127.0.0.1:3000"
UP_TIMEOUT = int(os.environ.get("E2E_UP_TIMEOUT", "600"))

_failed_e2e: list[str] = []


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def e2e_required(config) -> bool:
    return (
        config.getoption("--require-e2e")
        or _truthy(os.environ.get("CI"))
        or _truthy(os.environ.get("E2E_REQUIRED"))
    )


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def docker_problem() -> str | None:
    """Why the e2e tests cannot run here, or None."""
    if not shutil.which("docker"):
        return "no `docker` CLI on PATH"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` timed out: the Docker engine does not answer"
    if info.returncode != 0:
        return f"no Docker engine: `docker info` failed: {(info.stderr or info.stdout).strip().splitlines()[-1:]}"
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if version.returncode != 0:
        return "`docker compose` is not available"
    return None


@dataclass
class Stack:
    """The compose project, plus the settings the tests use to talk to it."""

    env: dict[str, str]
    env_args: list[str]
    process_env: dict[str, str]
    started_by_tests: bool = False
    notes: list[str] = field(default_factory=list)

    # --- compose -----------------------------------------------------------------------
    def compose(self, *args: str, files: tuple[str, ...] = (), check: bool = True,
                timeout: float = 900, capture: bool = True) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "-p", PROJECT, "-f", "docker-compose.yml"]
        for extra in files:
            command += ["-f", extra]
        command += [*self.env_args, *args]
        result = subprocess.run(
            command, cwd=ROOT, env=self.process_env, text=True, timeout=timeout,
            capture_output=capture,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`{' '.join(command)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def up(self, *services: str, files: tuple[str, ...] = (), build: bool = False,
           no_deps: bool = False) -> float:
        started = time.monotonic()
        args = ["up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT)]
        if build:
            args.append("--build")
        if no_deps:
            args.append("--no-deps")
        self.compose(*args, *services, files=files, timeout=UP_TIMEOUT + 600)
        return time.monotonic() - started

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def dump_logs(self) -> str:
        logs = self.compose("logs", "--no-color", "--timestamps", "--tail", "400", check=False)
        runs = subprocess.run(
            ["docker", "ps", "-a", "--filter", f"label={RUN_LABEL}", "--format",
             "{{.ID}} {{.Status}} {{.Label \"dagster/job_name\"}} {{.Label \"dagster/run_id\"}}"],
            capture_output=True, text=True,
        )
        text = f"{logs.stdout}\n{logs.stderr}\n--- run containers ---\n{runs.stdout}"
        for line in runs.stdout.splitlines()[:10]:
            container = line.split()[0]
            out = subprocess.run(["docker", "logs", "--tail", "80", container], capture_output=True, text=True)
            text += f"\n--- docker logs {line} ---\n{out.stdout}{out.stderr}"
        return text

    def remove_run_containers(self) -> None:
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}"], capture_output=True, text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)

    # --- GraphQL -----------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{UI}/graphql", data=body, headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.load(response)
        assert not payload.get("errors"), f"GraphQL errors: {payload['errors']}"
        return payload["data"]

    def wait_for_webserver(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{UI}/server_info", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def env_image(self, target: str) -> str:
        """The image name compose gives a build target (see docker-compose.yml)."""
        return f"dagster-platform/{target}:{self.env.get('IMAGE_TAG') or 'local'}"

    # --- object store --------------------------------------------------------------------
    def s3(self):
        """boto3 client with the PIPELINES' credentials (not MinIO's root) on the published port."""
        import boto3

        return boto3.client(
            "s3", endpoint_url="http://127.0.0.1:9000",
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env.get("AWS_REGION") or "us-east-1",
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("e2e"):
        _failed_e2e.append(item.nodeid)


@pytest.fixture(scope="session")
def stack(request) -> Stack:
    problem = docker_problem()
    if problem:
        if e2e_required(request.config):
            pytest.fail(f"e2e tests are required (--require-e2e / CI=true) but cannot run: {problem}",
                        pytrace=False)
        pytest.skip(f"e2e tests skipped: {problem} (they need a Docker engine and `docker compose`)")

    env_file = ROOT / ".env"
    env_args: list[str] = []
    if not env_file.exists():
        env_file = ROOT / ".env.example"
        env_args = ["--env-file", str(env_file)]
    values = read_env_file(env_file)
    # Compose lets the shell environment override the env file; the tests do the same.
    env = {**values, **{key: os.environ[key] for key in values if key in os.environ}}
    process_env = dict(os.environ)
    if not env.get("DOCKER_GID"):
        socket = Path("/var/run/docker.sock")
        if socket.exists():
            env["DOCKER_GID"] = str(socket.stat().st_gid)
            process_env["DOCKER_GID"] = env["DOCKER_GID"]

    stack = Stack(env=env, env_args=env_args, process_env=process_env)
    keep = request.config.getoption("--keep-stack") or _truthy(os.environ.get("E2E_KEEP_STACK"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    already_up = bool(stack.compose("ps", "-q", "webserver", check=False).stdout.strip())
    stack.started_by_tests = not already_up
    try:
        try:
            seconds = stack.up(build=True)
            stack.wait_for_webserver()
        except BaseException:
            _failed_e2e.append("stack set-up (docker compose up)")
            raise
        stack.notes.append(f"compose up --build --wait: {seconds:.1f}s (stack was {'up' if already_up else 'down'})")
        print(f"\n[e2e] {stack.notes[-1]}")
        yield stack
    finally:
        if _failed_e2e:
            logs = stack.dump_logs()
            (ARTIFACTS / "compose-logs.txt").write_text(logs)
            print("\n[e2e] failures: " + ", ".join(_failed_e2e))
            print("[e2e] ===== docker compose logs (also in tests/e2e/artifacts/compose-logs.txt) =====")
            print(logs[-60_000:])
        if keep:
            print("\n[e2e] --keep-stack: leaving the stack running")
        else:
            stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
            stack.remove_run_containers()
