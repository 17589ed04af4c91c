"""The compose stack as the e2e tests and the benchmarks drive it.

``Stack`` wraps ``docker compose`` for this project (``compose()``, ``up()``), its GraphQL
endpoint behind the proxy and the gateway (``graphql()``, ``ui_request()``: basic auth as the
first admin, DAGSTER_UI_USER / DAGSTER_UI_PASSWORD, or another account's token with
``signed_in()``, and the UI's own Origin, as a script would) and the
object store with one identity's credentials (``s3()``: the pipelines' by default).
Shared by tests/e2e/conftest.py (the ``stack`` fixture) and benchmarks/stack.py, so both
talk to the stack the same way. No pytest import here.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
PROJECT = "dagster-platform"
LOCATION = "orders_and_sales"
REPOSITORY = "__repository__"  # the one repository of a code location loaded from Definitions
RUN_LABEL = "io.dagster-platform.role=run-worker"
UI = "http://127.0.0.1:3000"
UP_TIMEOUT = int(os.environ.get("E2E_UP_TIMEOUT", "600"))
RUN_FIELDS = "runId status jobName tags { key value }"


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a .env file, parsed as compose and Dagster parse it (python-dotenv)."""
    return {key: value or "" for key, value in dotenv_values(path).items()}


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
    files: tuple[str, ...] = ()
    """Compose files added to docker-compose.yml in every call (the tests' overrides)."""
    started_by_tests: bool = False
    notes: list[str] = field(default_factory=list)
    authorization: str | None = None
    """The Authorization header sent to the UI; None: basic auth as the first admin (.env)."""

    @classmethod
    def from_env(cls, files: tuple[str, ...] = ()) -> "Stack":
        """Settings from .env (or .env.example when there is none), overridden by the
        shell environment as compose does; ``files`` are added to every compose call."""
        env_file = ROOT / ".env"
        env_args: list[str] = []
        if not env_file.exists():
            env_file = ROOT / ".env.example"
            env_args = ["--env-file", str(env_file)]
        values = read_env_file(env_file)
        env = {**values, **{key: os.environ[key] for key in values if key in os.environ}}
        return cls(env=env, env_args=env_args, process_env=dict(os.environ), files=files)

    def is_up(self) -> bool:
        return bool(self.compose("ps", "-q", "webserver", check=False).stdout.strip())

    # --- compose -----------------------------------------------------------------------
    def compose_command(self, files: tuple[str, ...] = ()) -> list[str]:
        """`docker compose` as this stack is driven: its project, its extra compose files (the
        e2e session's overrides) and env file; also the Makefile's COMPOSE in :meth:`make`, so a
        target recreates a service exactly as the stack was brought up."""
        command = ["docker", "compose", "-p", PROJECT, "-f", "docker-compose.yml"]
        for extra in (*self.files, *files):
            command += ["-f", extra]
        return [*command, *self.env_args]

    def compose(
        self, *args: str, files: tuple[str, ...] = (), check: bool = True, timeout: float = 900, capture: bool = True
    ) -> subprocess.CompletedProcess:
        command = [*self.compose_command(files), *args]
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=self.process_env,
            text=True,
            timeout=timeout,
            capture_output=capture,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"`{' '.join(command)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def make(
        self, *args: str, cwd: Path = ROOT, stdin: str = "", timeout: float = UP_TIMEOUT + 600
    ) -> subprocess.CompletedProcess:
        """``make <args>`` in ``cwd`` (the checkout, or a copy of it) against this stack, as the
        docs tell a user to run it; ``stdin`` is what a user would type (never the terminal).
        Fails with the output when make fails. What a target prints is its stdout; compose's
        own notes (v1 reports what it does there) are on stderr."""
        result = subprocess.run(
            # --no-print-directory: under `make test` this is a sub-make, which would add
            # "make[2]: Leaving directory ..." to what the target prints.
            ["make", "--no-print-directory", *args, f"COMPOSE={shlex.join(self.compose_command())}"],
            cwd=cwd,
            env=self.process_env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"`make {' '.join(args)}` in {cwd} exited {result.returncode}:\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def up(self, *services: str, files: tuple[str, ...] = (), build: bool = False, no_deps: bool = False) -> float:
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

    def dump_logs(self, tail: int = 400) -> str:
        """The last ``tail`` lines of every service's log, and the newest run containers' logs."""
        logs = self.compose("logs", "--no-color", "--timestamps", "--tail", str(tail), check=False)
        runs = subprocess.run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                f"label={RUN_LABEL}",
                "--format",
                '{{.ID}} {{.Status}} {{.Label "dagster/job_name"}} {{.Label "dagster/run_id"}}',
            ],
            capture_output=True,
            text=True,
        )
        text = f"{logs.stdout}\n{logs.stderr}\n--- run containers ---\n{runs.stdout}"
        for line in runs.stdout.splitlines()[:10]:
            container = line.split()[0]
            out = subprocess.run(["docker", "logs", "--tail", "80", container], capture_output=True, text=True)
            text += f"\n--- docker logs {line} ---\n{out.stdout}{out.stderr}"
        return text

    def remove_run_containers(self) -> None:
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)

    # --- UI / GraphQL (through the proxy) -------------------------------------------------
    def auth_header(self) -> str:
        if self.authorization:
            return self.authorization
        token = f"{self.env['DAGSTER_UI_USER']}:{self.env['DAGSTER_UI_PASSWORD']}".encode()
        return "Basic " + base64.b64encode(token).decode()

    def signed_in(self, authorization: str) -> "Stack":
        """The same stack, talked to as another account (``Bearer <token>`` or ``Basic ...``)."""
        return replace(self, authorization=authorization)

    def ui_request(
        self, path: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None
    ) -> urllib.request.Request:
        """A request to the UI as a script sends it: credentials and the UI's own Origin."""
        return urllib.request.Request(
            f"{UI}{path}",
            data=data,
            method=method,
            headers={"Authorization": self.auth_header(), "Origin": UI, **(headers or {})},
        )

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = self.ui_request("/graphql", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload = json.load(response)
        except urllib.error.HTTPError as error:  # say what the server said, not just the status
            detail = error.read().decode(errors="replace")[:2000]
            raise AssertionError(
                f"GraphQL HTTP {error.code} for {query.split('{')[0].strip() or 'query'}: {detail}"
            ) from error
        assert not payload.get("errors"), f"GraphQL errors: {payload['errors']}"
        return payload["data"]

    def run(self, run_id: str) -> dict | None:
        """The run (RUN_FIELDS) with this id, or None if the instance does not know it."""
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { %s } } }" % RUN_FIELDS,
            {"id": run_id},
        )
        run = data["runOrError"]
        return run if run["__typename"] == "Run" else None

    def wait_for_webserver(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.ui_request("/server_info"), timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def env_image(self, target: str) -> str:
        """The image name compose gives a build target (see docker-compose.yml)."""
        return f"dagster-platform/{target}:{self.env.get('IMAGE_TAG') or 'local'}"

    # --- object store --------------------------------------------------------------------
    def s3(self, identity: str = "AWS"):
        """boto3 client on the published port with one MinIO identity (never root): the
        pipelines' (``AWS``), ``UPLOADER`` or ``COMPUTE_LOGS`` (the .env prefixes)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url="http://127.0.0.1:9000",
            aws_access_key_id=self.env[f"{identity}_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env[f"{identity}_SECRET_ACCESS_KEY"],
            region_name=self.env.get("AWS_REGION") or "us-east-1",
        )


def launch_run(
    stack: Stack,
    job: str,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    assets: list[str] | None = None,
    location: str = LOCATION,
) -> str:
    """Launch ``job`` of ``location`` (only ``assets`` of it, when given) through GraphQL
    (``launchRun``), as the UI does; returns the run id. The one launch payload of the tests
    and the benchmarks."""
    selector: dict = {"repositoryLocationName": location, "repositoryName": REPOSITORY, "jobName": job}
    if assets:
        selector["assetSelection"] = [{"path": [asset]} for asset in assets]
    data = stack.graphql(
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
             ... on LaunchRunSuccess { run { runId } }
             ... on PythonError { message }
             ... on InvalidSubsetError { message }
             ... on RunConfigValidationInvalid { errors { message } } } }""",
        {
            "p": {
                "selector": selector,
                "runConfigData": run_config or {},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
            }
        },
    )
    result = data["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launchRun {job} of {location} failed: {result}")
    return result["run"]["runId"]
