"""Loopback helpers for the tests and tools that start their own servers (a throwaway
Postgres, `make dev`, a dagster-webserver): a free port, whether a webserver answers, and a
real dagster-webserver process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def webserver_answers(url: str) -> bool:
    """True once the Dagster webserver at ``url`` serves /server_info."""
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class DagsterWebserver:
    """A real ``dagster-webserver`` on a free loopback port, serving ``workspace`` from the
    instance in ``home`` (its DAGSTER_HOME), its output in ``log``; ready when constructed.
    For tests of the tools that talk to a webserver over GraphQL (no daemon runs)."""

    START_DEADLINE_S = 120

    def __init__(self, home: Path, workspace: Path, log: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(self.port), "-w", str(workspace)],
            env={**os.environ, **(env or {}), "DAGSTER_HOME": str(home)},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.START_DEADLINE_S
        while not webserver_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the webserver did not answer within {self.START_DEADLINE_S} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
