"""The pre-commit hooks run the same checks as `make lint` (CI's lint step), so a commit that
passes them does not then fail CI's lint for a check the hooks skipped or ran differently."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _lint_commands() -> set[str]:
    """The venv tool invocations of the Makefile's lint recipe, without their path arguments."""
    recipe = re.search(r"^lint:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "Makefile has no lint target"
    return {
        re.sub(r"\s+\.$", "", line.strip()).replace("$(VENV)/", ".venv/")
        for line in recipe.group(1).splitlines()
        if line.strip().startswith("$(VENV)/bin/")
    }


def test_every_hook_is_a_lint_command_and_every_lint_tool_has_a_hook():
    hooks = [
        hook
        for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    ]
    entries = {hook["entry"] for hook in hooks}
    assert entries == _lint_commands()
    # mypy checks the files pyproject.toml lists, as in CI, not only the staged ones.
    assert all(hook.get("pass_filenames", True) is False for hook in hooks if "mypy" in hook["entry"])
