"""`make dev`, the embedded local mode, stops cleanly: on SIGTERM to make (a service manager,
an IDE's stop button) and on Ctrl-C (SIGINT to the terminal's process group), every process
it started exits and the port is free again.

It is started as a background job is (SIGINT ignored, as a non-interactive shell starts
one): that is how `dagster dev` used to ignore both signals (tooling/dev.py says why).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tooling.loopback import free_port, webserver_answers

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 180
STOP_DEADLINE_S = 15  # measured ~6 s on 2 busy cores: dagster dev stops its daemon threads first


def _wait_until(condition: Callable[[], bool], deadline_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {deadline_s} s; make dev's output:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _port_free(port: int) -> bool:
    """True if a new server can listen on ``port`` (with SO_REUSEADDR, as uvicorn binds, so
    the test's own closed connections in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda make: make.send_signal(signal.SIGTERM), id="SIGTERM to make"),
        pytest.param(lambda make: os.killpg(make.pid, signal.SIGINT), id="Ctrl-C to the group"),
    ],
)
def test_make_dev_stops_on_a_signal_and_frees_its_port(tmp_path: Path, stop):
    port = free_port()
    log = tmp_path / "make-dev.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "dev", f"DEV_PORT={port}", f"LOCAL_DATA_DIR={tmp_path / 'data'}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_ignore_sigint,
        )
    try:
        _wait_until(
            lambda: webserver_answers(f"http://127.0.0.1:{port}"), START_DEADLINE_S, "the UI did not answer", log
        )
        stop(make)
        _wait_until(lambda: make.poll() is not None, STOP_DEADLINE_S, "make dev did not exit", log)
        _wait_until(lambda: _group_gone(make.pid), STOP_DEADLINE_S, "a process of make dev kept running", log)
        assert _port_free(port), f"port {port} is still taken after make dev exited"
    finally:
        if not _group_gone(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
