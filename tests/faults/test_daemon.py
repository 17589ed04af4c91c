"""The daemon crashing (SIGKILL of its process) mid-burst, and hanging (docker pause).

A crash exits the container non-zero, so ``restart: unless-stopped`` brings it back; a
hang is only *reported* (compose does not restart unhealthy containers: README,
Reliability).
"""

from __future__ import annotations

import pytest

from tooling.stack import Stack
from e2e.waits import runs_with_tag, tags_of, wait_for, wait_location_loaded

from .harm import Files, docker, ledger_files, require, state, wait_healthy
from .recovery import Stopwatch, record

pytestmark = pytest.mark.faults

# The dagster-daemon process (PID 1 is docker-init: `init: true`). Its argv is
# [python, .../dagster-daemon, run, ...]; this finder's own argv is [python, -c, ...].
FIND_DAEMON = (
    "import os\n"
    "for p in filter(str.isdigit, os.listdir('/proc')):\n"
    "    a = open(f'/proc/{p}/cmdline', 'rb').read().decode(errors='replace').split('\\0')\n"
    "    if 'run' in a and any(x.endswith('dagster-daemon') for x in a[:2]): print(p)\n"
)


def test_f_daemon_killed_during_a_burst(stack: Stack):
    wait_location_loaded(stack)
    files = Files(stack, "daemon-kill")
    files.upload(count=50)
    wait_for(
        "a file_sensor run for the burst",
        lambda: [
            r
            for r in runs_with_tag(stack, "dagster/sensor_name", "file_sensor", limit=50)
            if files.tag in tags_of(r).get("orders/first_key", "")
        ],
        60,
        0.5,
    )
    container = stack.container_id("daemon")
    before = state(container)
    pids = stack.compose("exec", "-T", "daemon", "python", "-c", FIND_DAEMON).stdout.split()
    require(len(pids) == 1, f"expected one dagster-daemon process in the daemon container, found {pids}")
    stack.compose("exec", "-T", "daemon", "sh", "-c", f"kill -9 {pids[0]}", check=False)
    clock = Stopwatch()
    wait_for(
        "the daemon container to be restarted by Docker",
        lambda: (lambda s: s if s["restarts"] > before["restarts"] else str(s))(state(container)),
        30,
        0.5,
    )
    wait_healthy(stack, "daemon", 120)
    healthy = clock()
    files.wait_landed(240)
    loaded = ledger_files(stack, files.tag)
    require(loaded == 50, f"ledger orders.orders_files has {loaded} rows for the 50 burst files (exactly once each)")
    record(
        "f_daemon_sigkill_during_burst",
        healthy,
        90,
        "SIGKILL of dagster-daemon -> daemon healthy again",
        files_loaded=loaded,
        burst_landed_after_s=round(clock(), 1),
    )


def test_g_paused_daemon_is_reported_unhealthy(stack: Stack):
    wait_healthy(stack, "daemon", 120)
    container = stack.container_id("daemon")
    docker("pause", container)
    clock = Stopwatch()
    try:
        wait_for(
            "the paused daemon to be reported unhealthy",
            lambda: (lambda s: s if s["health"] == "unhealthy" else str(s))(state(container)),
            150,
            1,
        )
        seconds = clock()
    finally:
        docker("unpause", container, check=False)
    wait_healthy(stack, "daemon", 120)
    record("g_daemon_paused", seconds, 120, "docker pause of the daemon -> reported unhealthy")
