"""`make new-location`: the scaffold makes a location that loads, whose example test passes,
and that compose and the workspaces know; it changes nothing of the other locations and
refuses names it cannot use. Run on a copy of the platform's files in a temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tooling import new_location

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_FILES = ("docker-compose.yml", "workspace.yaml", "workspace.scale.yaml", "dg.toml")


@pytest.fixture
def platform(tmp_path) -> Path:
    for name in PLATFORM_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "user_code" / "orders_and_sales").mkdir(parents=True)
    return tmp_path


def test_the_new_location_is_registered_and_nothing_else_changes(platform):
    before = {name: (platform / name).read_text() for name in PLATFORM_FILES}
    changed = new_location.scaffold("inventory", root=platform)
    assert {p.relative_to(platform).as_posix() for p in changed if "user_code" not in p.parts} == set(PLATFORM_FILES)
    assert all(p.is_relative_to(platform / "user_code" / "inventory") for p in changed if "user_code" in p.parts)
    services = yaml.safe_load((platform / "docker-compose.yml").read_text())["services"]
    service = services["inventory-code"]
    assert service["build"]["args"] == {"LOCATION": "inventory"} and service["build"]["target"] == "location"
    assert service["environment"]["DAGSTER_CURRENT_IMAGE"] == "dagster-platform/inventory:${IMAGE_TAG:-local}"
    assert service["read_only"] is True and service["healthcheck"]["test"][-1] == "4000"
    assert "AWS_SECRET_ACCESS_KEY" not in service["environment"]  # no pipeline secret unless asked for
    for workspace in ("workspace.yaml", "workspace.scale.yaml"):
        servers = [entry["grpc_server"] for entry in yaml.safe_load((platform / workspace).read_text())["load_from"]]
        assert {"host": "inventory-code", "port": 4000, "location_name": "inventory"} in servers
        assert before[workspace] in (platform / workspace).read_text()  # appended, nothing rewritten
    assert 'path = "user_code/inventory"' in (platform / "dg.toml").read_text()


def test_the_scaffolded_location_loads_and_its_test_passes(platform):
    new_location.scaffold("inventory", root=platform)
    project = platform / "user_code" / "inventory"
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    dg = Path(sys.executable).with_name("dg")
    check = subprocess.run([str(dg), "check", "defs"], cwd=project, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(project), "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0 and "2 passed" in tests.stdout, tests.stdout + tests.stderr


@pytest.mark.parametrize("name", ["orders_and_sales", "Inventory", "1x", "json", "class", "platform", "a-b"])
def test_unusable_names_are_refused_and_nothing_is_written(platform, name):
    before = {name: (platform / name).read_text() for name in PLATFORM_FILES}
    with pytest.raises(new_location.ScaffoldError, match="NAME=|exists"):
        new_location.scaffold(name, root=platform)
    assert {name: (platform / name).read_text() for name in PLATFORM_FILES} == before
    assert sorted(p.name for p in (platform / "user_code").iterdir()) == ["orders_and_sales"]
