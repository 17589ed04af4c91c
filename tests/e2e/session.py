"""The one ``stack`` session fixture, shared by the e2e and the fault-injection suites.

Registered once, from tests/conftest.py (``pytest_plugins``), so that a session running
both suites brings the stack up ONCE, whichever suite runs first or alone. It brings the
stack up (``docker compose up -d --build --wait``, plus the test-only OVERRIDES; an
already running stack is simply reused), and at the end always runs ``docker compose down -v`` and removes the run
containers the DockerRunLauncher started (unless --keep-stack / E2E_KEEP_STACK=1). When
a stack test (marker ``e2e`` or ``faults``) failed, the service logs are printed and
saved to tests/e2e/artifacts/compose-logs.txt; the logs as they were when a test failed
(before later tests push its lines out) go to tests/e2e/artifacts/failed-<test>.txt.

Without a usable Docker engine the stack tests are skipped with the reason; with
--require-e2e, CI=true or E2E_REQUIRED=1 that is a failure instead.
"""

from __future__ import annotations

import os
import re

import pytest

from tooling.stack import ARTIFACTS, Stack, docker_problem

STACK_MARKERS = ("e2e", "faults")
# Test-only additions to the stack, in every compose call of the session (up, exec, down):
# a webhook receiver the alert sensors post to (tests/e2e/test_alerts.py). One stack, so
# checking alerts costs no second bring-up and no restart of the code server.
OVERRIDES = ("tests/e2e/compose.alerts.yml",)
_failed: list[str] = []
TIMINGS: list[str] = []  # printed in the terminal summary


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def e2e_required(config) -> bool:
    return config.getoption("--require-e2e") or _truthy(os.environ.get("CI")) or _truthy(os.environ.get("E2E_REQUIRED"))


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("e2e timings")
        for line in TIMINGS:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and any(item.get_closest_marker(m) for m in STACK_MARKERS):
        _failed.append(item.nodeid)
        stack = item.funcargs.get("stack")
        if isinstance(stack, Stack):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
            (ARTIFACTS / f"failed-{name}.txt").write_text(stack.dump_logs(tail=3000))


def require_docker(config, what: str = "e2e tests") -> None:
    """Skip the calling test without a usable Docker engine, or fail it if e2e is required."""
    problem = docker_problem()
    if problem:
        if e2e_required(config):
            pytest.fail(f"{what} are required (--require-e2e / CI=true) but cannot run: {problem}", pytrace=False)
        pytest.skip(f"{what} skipped: {problem} (they need a Docker engine and `docker compose`)")


@pytest.fixture(scope="session")
def stack(request) -> Stack:
    require_docker(request.config)

    stack = Stack.from_env(files=OVERRIDES)
    keep = request.config.getoption("--keep-stack") or _truthy(os.environ.get("E2E_KEEP_STACK"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    already_up = stack.is_up()
    stack.started_by_tests = not already_up
    try:
        try:
            seconds = stack.up(build=True)
            stack.wait_for_webserver()
        except BaseException:
            _failed.append("stack set-up (docker compose up)")
            raise
        TIMINGS.append(
            f"docker compose up -d --build --wait: {seconds:.1f}s (stack was {'up' if already_up else 'down'})"
        )
        yield stack
    finally:
        if _failed:
            logs = stack.dump_logs()
            (ARTIFACTS / "compose-logs.txt").write_text(logs)
            print("\n[e2e] failures: " + ", ".join(_failed))
            print("[e2e] ===== docker compose logs (also in tests/e2e/artifacts/compose-logs.txt) =====")
            print(logs[-60_000:])
        if keep:
            print("\n[e2e] --keep-stack: leaving the stack running")
        else:
            stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
            stack.remove_run_containers()
