"""Loopback helpers for the tests and tools that start their own servers (a throwaway
Postgres, `make dev`, a dagster-webserver): a free port, and whether a webserver answers."""

from __future__ import annotations

import socket
import urllib.request


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
