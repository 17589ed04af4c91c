"""pyproject.toml names the package's dependencies; the images install them from
requirements/ (before the code is copied, for the layer cache). Both lists must agree,
and every name must be pinned in constraints.txt."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirement_names(path: Path) -> set[str]:
    names: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line:
            names.add(canonical(line))
    return names


def canonical(name: str) -> str:
    return re.split(r"[<>=!~\[; ]", name, maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_dependencies_are_the_user_code_image_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {canonical(d) for d in project["dependencies"]} == requirement_names(ROOT / "requirements/user-code.txt")


def test_every_requirement_is_pinned():
    pinned = {
        canonical(line) for line in (ROOT / "requirements/constraints.txt").read_text().splitlines() if "==" in line
    }
    for image in ("user-code.txt", "dagster.txt", "dev.txt"):
        unpinned = requirement_names(ROOT / "requirements" / image) - pinned
        assert not unpinned, f"requirements/{image}: not pinned in constraints.txt: {sorted(unpinned)}"
