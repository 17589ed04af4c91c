"""`make migrate-sensors` runs tooling.migrate_sensors, passing UI_URL on as --url.

Aimed at a loopback port where nothing listens, the real step runs and stops with its
own error naming that URL (the migration itself is tested in test_migrate_sensors.py)."""

from __future__ import annotations

import subprocess
import sys

from tooling.loopback import free_port
from tooling.stack import ROOT


def test_make_migrate_sensors_runs_the_step_against_ui_url():
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        # -o: take the venv as installed (this interpreter is the one to use).
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "migrate-sensors",
            f"PYTHON={sys.executable}",
            f"UI_URL={url}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    assert f"-m tooling.migrate_sensors --url '{url}'" in result.stdout, result.stdout
    assert f"migrate-sensors: cannot reach the webserver at {url}" in result.stderr, result.stderr
