"""Which pins of requirements/constraints.txt are behind their newest release (`make pins`).

The venv is installed from the constraints file, so pip's own outdated list (one query of the
package index for every installed distribution) is the answer for the pinned packages. The
Dagster family moves in lockstep (core 1.M.P with integration libraries 0.(M+16).P): the
report says which patch every member of the family has, since a core release alone, before
its libraries reach the index, cannot be taken.

    python -m tooling.pins        # exit status 0 either way: this is a report, not a gate
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parents[1] / "requirements" / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
DAGSTER_CORE = re.compile(r"^1\.(\d+)\.(\d+)$")
DAGSTER_LIBRARY = re.compile(r"^0\.(\d+)\.(\d+)$")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a constraints file, by normalised name."""
    return {_normal(m[1]): m[2] for line in text.splitlines() if (m := PIN.match(line.strip()))}


def behind(pinned: dict[str, str], outdated: list[dict]) -> list[tuple[str, str, str]]:
    """(name, pinned, newest) for each pinned package that pip lists as outdated."""
    rows = [(_normal(o["name"]), o["version"], o["latest_version"]) for o in outdated]
    return sorted((name, pinned[name], latest) for name, _, latest in rows if name in pinned)


def lockstep_patch(pinned: dict[str, str], latest: dict[str, str]) -> str | None:
    """The newest 1.M.P that every pinned Dagster-family package has reached, or None."""
    patches = []
    for name, version in pinned.items():
        if not name.startswith("dagster"):
            continue
        newest = latest.get(name, version)
        if m := DAGSTER_CORE.match(newest):
            patches.append((int(m[1]), int(m[2])))
        elif m := DAGSTER_LIBRARY.match(newest):
            patches.append((int(m[1]) - 16, int(m[2])))
    return f"1.{min(patches)[0]}.{min(patches)[1]}" if patches else None


def report(pinned: dict[str, str], outdated: list[dict]) -> str:
    rows = behind(pinned, outdated)
    if not rows:
        return "every pin of requirements/constraints.txt is its newest release"
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{len(rows)} pins behind their newest release:"]
    lines += [f"  {name:<{width}}  {old} -> {new}" for name, old, new in rows]
    target = lockstep_patch(pinned, {name: new for name, _, new in rows})
    if target and target != pinned.get("dagster"):
        lines.append(f"Dagster family: every member has reached {target}; move the family's pins together")
    elif target:
        lines.append(f"Dagster family: not every member is past {target} on the index yet, so the family stays on it")
    return "\n".join(lines)


def main() -> int:
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--outdated", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        print(f"pip could not reach the package index: {listed.stderr.strip()[-500:]}", file=sys.stderr)
        return 2
    print(report(pins(CONSTRAINTS.read_text()), json.loads(listed.stdout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
