"""A throwaway PostgreSQL server on a loopback port, for tests and benchmarks that need the
real database (advisory locks, COPY, numeric sums) without the compose stack.

Uses the server binaries of Debian's ``postgresql-15`` package (``.ci/run`` installs it).
Postgres refuses to run as root, so as root the cluster belongs to the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from tooling.loopback import free_port


def server_binaries() -> Path | None:
    """The newest installed ``/usr/lib/postgresql/<major>/bin`` with initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@contextmanager
def throwaway_postgres(database: str = "orders") -> Iterator[dict]:
    """Start a fresh cluster; yields connection settings (host, port, user, database).

    The cluster trusts local connections: it listens on 127.0.0.1 only and is deleted on exit.
    """
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql-15")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="pg-throwaway-"))
    data = folder / "data"
    if as_user:
        shutil.chown(folder, "postgres")
    port = free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(folder / "server.log"),
            "start",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off -c shared_buffers=256MB",
        )
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database)
        yield {"host": "127.0.0.1", "port": port, "username": "postgres", "database": database}
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
            )
        for _ in range(10):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                break
            time.sleep(0.2)
