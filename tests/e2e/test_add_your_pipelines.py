"""docs/add-your-pipelines.md, followed as written, on the shared stack (issue 22, item 7).

The guide's ```bash blocks are read from the page and run in order, so the page and this
test cannot drift: scaffold a location, test it, bring it up, deploy it; then its example
asset is materialized over GraphQL (what the guide's step 5 does in the UI) and must end
SUCCESS. Everything runs in a throwaway copy of the checkout (the repository is never
modified) with the same compose project, so it joins the session's stack. Afterwards the
stack is brought back to the checkout's own definition (the extra service removed as an
orphan) and the location's image is deleted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tooling.checkout import COMMAND_TIMEOUT, copy_checkout
from .conftest import TIMINGS
from .waits import launch_run, location_entry, wait_for, wait_run_success
from tooling.stack import ROOT, Stack, UP_TIMEOUT

pytestmark = pytest.mark.e2e

GUIDE = ROOT / "docs" / "add-your-pipelines.md"
NAME = "inventory"  # the guide's example name


def guide_blocks() -> list[str]:
    """The guide's ```bash blocks, in order."""
    tokens = MarkdownIt("commonmark").parse(GUIDE.read_text())
    return [t.content for t in tokens if t.type == "fence" and t.info.strip() == "bash"]


def venv_on_top_of_ours(target: Path) -> None:
    """A .venv in the copy that sees our installed packages (a .pth file), so `make venv`
    there installs only the copy's projects (editable), and never touches ours."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    ours = sysconfig.get_paths()["purelib"]
    [site] = list(target.glob("lib/python*/site-packages"))
    (site / "our-venv.pth").write_text(ours + "\n")
    (target / "bin" / "pip").write_text(f'#!/bin/sh\nexec {target}/bin/python -m pip "$@"\n')
    (target / "bin" / "pip").chmod(0o755)
    dg = Path(sys.executable).parent / "dg"
    (target / "bin" / "dg").write_text(f'#!/bin/sh\nexec {target}/bin/python {dg} "$@"\n')
    (target / "bin" / "dg").chmod(0o755)


@pytest.fixture(scope="module")
def copy(stack: Stack, tmp_path_factory):
    target = tmp_path_factory.mktemp("checkout")
    copy_checkout(target)
    venv_on_top_of_ours(target / ".venv")
    try:
        yield target
    finally:
        # Back to the checkout's own stack: the copy's images and mounts are replaced, and
        # the scaffolded service goes as an orphan.
        stack.compose(
            "up",
            "-d",
            "--build",
            "--wait",
            "--wait-timeout",
            str(UP_TIMEOUT),
            "--remove-orphans",
            timeout=COMMAND_TIMEOUT,
        )
        subprocess.run(["docker", "rmi", "-f", stack.env_image(NAME)], capture_output=True)
        shutil.rmtree(target, ignore_errors=True)


def run_block(block: str, cwd: Path, stack: Stack) -> float:
    env = {**stack.process_env, "COMPOSE_PROJECT_NAME": "dagster-platform"}
    env["PATH"] = f"{cwd / '.venv' / 'bin'}:{env['PATH']}"
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"guide block failed ({result.returncode}):\n{block}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return time.monotonic() - started


def test_the_guide_scaffolds_deploys_and_runs_a_location(stack: Stack, copy: Path):
    blocks = guide_blocks()
    assert len(blocks) >= 4, f"{GUIDE}: expected the scaffold, test, up and deploy blocks, found {blocks}"
    started = time.monotonic()
    for block in blocks:
        seconds = run_block(block, copy, stack)
        TIMINGS.append(f"guide block {block.splitlines()[0][:60]!r}: {seconds:.1f}s")
    assert not subprocess.run(
        ["git", "status", "--porcelain", "user_code/inventory"], cwd=ROOT, capture_output=True, text=True
    ).stdout, "the checkout itself was modified"

    def loaded():
        entry = location_entry(stack, NAME)
        error = entry["locationOrLoadError"] or {}
        return entry if error.get("__typename") == "RepositoryLocation" else f"{entry}"

    wait_for(f"location {NAME} to load", loaded, timeout=180)
    run_id = launch_run(stack, "__ASSET_JOB", assets=[f"{NAME}_hello"], location=NAME)
    wait_run_success(stack, run_id)
    TIMINGS.append(f"guide, scaffold to first SUCCESS: {time.monotonic() - started:.1f}s")
