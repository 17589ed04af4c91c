"""A throwaway copy of the checkout, to change code and deploy it as a user would (``make
...`` in the copy) while the repository itself is never modified. The copy joins the
running stack: same compose project, same .env. Shared by the e2e tests and the benchmarks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tooling.stack import ROOT, UP_TIMEOUT, Stack

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


# A visible code change for a deploy of `platform`: one new asset, `deploy_probe`.
PLATFORM_DEFS = Path("user_code/platform/src/platform_ops/defs")
PROBE_ASSET = "deploy_probe"


def add_probe_asset(checkout: Path, description: str) -> None:
    """Add the asset ``deploy_probe`` with ``description`` to the `platform` location of ``checkout``."""
    (checkout / PLATFORM_DEFS / f"{PROBE_ASSET}.py").write_text(
        '"""A visible code change, written by tooling/checkout.py into a copy of the checkout."""\n\n'
        "import dagster as dg\n\n\n"
        f"@dg.asset(description={description!r})\n"
        f"def {PROBE_ASSET}() -> None:\n"
        "    return None\n"
    )


def probe_description(stack: Stack) -> str | None:
    """The description of ``deploy_probe`` as the UI reads it, or None while no location serves it."""
    data = stack.graphql(
        """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { __typename
             ... on AssetNode { description repository { location { name } } } } }""",
        {"k": {"path": [PROBE_ASSET]}},
    )
    node = data["assetNodeOrError"]
    if node["__typename"] != "AssetNode":
        return None
    assert node["repository"]["location"]["name"] == "platform", node
    return node["description"]
