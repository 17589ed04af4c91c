"""Code-location figures (issue 22) on the running stack: redeploying one location, and a
new location from scaffold to its first SUCCESS. Called by benchmarks/stack.py.

Both work in a throwaway copy of the checkout (tooling/checkout.py), with the commands a
person types there (`make deploy`, `make new-location`, `docker compose up`), and bring
the stack back to the checkout's own definition afterwards. The build cache is warm: the
stack's images were just built.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tooling.checkout import COMMAND_TIMEOUT, add_probe_asset, copy_checkout, probe_description
from tooling.stack import ROOT, Stack, launch_run

DEPLOYED = "platform"  # the location redeployed
NEW_LOCATION = "inventory"  # docs/add-your-pipelines.md's example name
LOADED_TIMEOUT = 300


def log(message: str) -> None:
    print(f"[locations] {message}", flush=True)


def poll(what: str, probe, timeout: float = LOADED_TIMEOUT) -> float:
    """Seconds until ``probe()`` is true (polled every 0.5 s); TimeoutError with its last value."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        try:
            last = probe()
        except Exception as error:  # the webserver may be reloading
            last = f"{type(error).__name__}: {error}"
        if last is True:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(f"{what}: not after {timeout:.0f}s (last: {last!r})")


def location_loaded(stack: Stack, name: str) -> bool | str:
    data = stack.graphql("""{ workspaceOrError { ... on Workspace { locationEntries {
        name locationOrLoadError { __typename } } } } }""")
    entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
    kind = ((entries.get(name) or {}).get("locationOrLoadError") or {}).get("__typename")
    return kind == "RepositoryLocation" or f"{name}: {kind}"


def failed_runs(stack: Stack) -> int:
    data = stack.graphql("{ runsOrError(filter: {statuses: [FAILURE]}) { ... on Runs { count } } }")
    return data["runsOrError"]["count"]


def redeploy(stack: Stack, wait_run) -> dict:
    """`make deploy LOCATION=platform` with a new asset, while a run of orders_and_sales is
    launched: command -> the asset in the UI (GraphQL, no Reload), then the same back to
    the checkout's code. ``wait_run(run_id)`` waits for a run and raises unless it succeeds."""
    failed_before = failed_runs(stack)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        copy_checkout(copy)
        token = f"benchmark {uuid.uuid4().hex}"
        add_probe_asset(copy, token)
        run_id = launch_run(stack, "__ASSET_JOB", assets=["raw_customers"], tags={"benchmark": "redeploy"})
        started = time.monotonic()
        stack.make("deploy", f"LOCATION={DEPLOYED}", cwd=copy)
        make_s = time.monotonic() - started
        loaded_s = make_s + poll("the new platform code in the UI", lambda: probe_description(stack) == token)
        log(f"make deploy LOCATION={DEPLOYED}: returned after {make_s:.1f}s, new code loaded after {loaded_s:.1f}s")
    started = time.monotonic()
    stack.make("deploy", f"LOCATION={DEPLOYED}", cwd=ROOT)
    back_s = time.monotonic() - started
    back_s += poll("the checkout's platform code in the UI", lambda: probe_description(stack) is None)
    wait_run(run_id)
    return {
        "location": DEPLOYED,
        "command_to_loaded_s": round(loaded_s, 1),
        "make_returned_s": round(make_s, 1),
        "back_to_checkout_s": round(back_s, 1),
        "run_launched_with_the_deploy": "SUCCESS",  # wait_run raised otherwise
        "failed_runs_during": failed_runs(stack) - failed_before,
    }


def digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and ".venv" not in path.parts
    }


def scaffold_to_success(stack: Stack, wait_run) -> dict:
    """docs/add-your-pipelines.md's path with its example as scaffolded (no file edited by
    hand): `make new-location`, `docker compose up -d --build --wait`, then the example
    asset launched until SUCCESS. Counts the files the scaffold created and edited."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        copy_checkout(copy)
        before = digests(copy)
        try:
            started = time.monotonic()
            stack.make("new-location", f"NAME={NEW_LOCATION}", cwd=copy)
            scaffold_s = time.monotonic() - started
            after = digests(copy)
            compose = subprocess.run(
                [*stack.compose_command(), "up", "-d", "--build", "--wait"],
                cwd=copy,
                env=stack.process_env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
            if compose.returncode != 0:
                raise RuntimeError(f"docker compose up in the copy failed: {compose.stderr[-2000:]}")
            deployed_s = time.monotonic() - started

            poll(f"location {NEW_LOCATION} to be loaded", lambda: location_loaded(stack, NEW_LOCATION))
            run_id = launch_run(stack, "__ASSET_JOB", assets=[f"{NEW_LOCATION}_hello"], location=NEW_LOCATION)
            wait_run(run_id)
            success_s = time.monotonic() - started
        finally:
            stack.compose("up", "-d", "--build", "--wait", "--remove-orphans", timeout=COMMAND_TIMEOUT)
            subprocess.run(["docker", "rmi", "-f", stack.env_image(NEW_LOCATION)], capture_output=True)
    created = sorted(set(after) - set(before))
    edited = sorted(name for name in before if after.get(name) != before[name])
    log(f"scaffold {scaffold_s:.1f}s, deployed {deployed_s:.1f}s, first SUCCESS {success_s:.1f}s; edited {edited}")
    return {
        "location": NEW_LOCATION,
        "scaffold_s": round(scaffold_s, 1),
        "deployed_s": round(deployed_s, 1),
        "first_success_s": round(success_s, 1),
        "files_created": len(created),
        "files_edited_by_scaffold": edited,
    }
