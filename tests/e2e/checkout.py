"""A throwaway copy of the checkout, for the e2e tests that change code and deploy it as a
user would (``make ...`` in the copy), so the repository itself is never modified. The
copy joins the session's stack: same compose project, same .env."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from tooling.stack import PROJECT, ROOT, UP_TIMEOUT, Stack

COMMAND_TIMEOUT = UP_TIMEOUT + 600


def copy_checkout(target: Path) -> None:
    """The working tree's files (tracked and untracked, not ignored), plus .env."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    env = ROOT / ".env" if (ROOT / ".env").exists() else ROOT / ".env.example"
    shutil.copy2(env, target / ".env")


def session_compose(stack: Stack) -> str:
    """The Makefile's COMPOSE for the session's stack: its project, the test overrides
    (tests/e2e/session.py) and env file, so a `make` target recreates a service exactly as
    the session brought it up (e.g. with the alert receiver's webhook URL)."""
    command = ["docker", "compose", "-p", PROJECT, "-f", "docker-compose.yml"]
    for extra in stack.files:
        command += ["-f", extra]
    return shlex.join([*command, *stack.env_args])


def make(stack: Stack, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``make <args>`` in ``cwd`` against the session's stack; fails with its output."""
    result = subprocess.run(
        ["make", *args, f"COMPOSE={session_compose(stack)}"],
        cwd=cwd,
        env=stack.process_env,
        text=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"`make {' '.join(args)}` in {cwd} exited {result.returncode}:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result
