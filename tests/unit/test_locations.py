"""Every code location under user_code/ is a dg project that Dagster's own tooling loads,
and loading one does no work: no connection, no file, no seed.

``dg`` runs as a user runs it, in a subprocess, from the location's folder or from an
empty directory with ``--target-path``; the local deployment's data directory is empty
and must stay empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCATIONS = sorted(path.parent for path in (ROOT / "user_code").glob("*/pyproject.toml"))
DG = Path(sys.executable).with_name("dg")


def dg(*args: str, cwd: Path, data: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DAGSTER_DEPLOYMENT": "local",
        "LOCAL_DATA_DIR": str(data),
        "DAGSTER_HOME": str(data.parent / "dagster_home"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    os.makedirs(env["DAGSTER_HOME"], exist_ok=True)
    return subprocess.run([str(DG), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def test_every_location_is_listed_in_the_dg_workspace():
    listed = {line.split('"')[1] for line in (ROOT / "dg.toml").read_text().splitlines() if line.startswith("path = ")}
    assert listed == {str(path.relative_to(ROOT)) for path in LOCATIONS}


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda path: path.name)
def test_dg_check_defs(location, tmp_path):
    result = dg("check", "defs", cwd=location, data=tmp_path / "data")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda path: path.name)
def test_listing_the_definitions_writes_nothing(location, tmp_path):
    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    data.mkdir()
    result = dg("list", "defs", "--json", "--target-path", str(location), cwd=work, data=data)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(result.stdout)
    assert listed["assets"] or listed["sensors"], f"dg listed nothing for {location.name}: {result.stdout[:500]}"
    assert list(work.iterdir()) == [] and list(data.iterdir()) == []
