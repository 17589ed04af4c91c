"""tooling.migrate_sensors against a real dagster-webserver (SQLite DAGSTER_HOME, no daemon).

The old layout: one location named orders_and_sales serves run_failure_alerts; the sensor
is started and given a cursor through GraphQL. The webserver restarts on the new layout
(orders_and_sales without the sensor, platform with it) and the migration runs.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tooling.loopback import DagsterWebserver
from tooling.migrate_sensors import MOVES, main, migrate, new_state, stored_state, selector
from tooling.webserver import Webserver, WebserverError

MOVE = MOVES[0]
OLD_CURSOR = '{"positions": {"run_failures": 41}, "pending": []}'
ALERTS_OFF = {"ALERT_WEBHOOK_URL": "http://127.0.0.1:9/alerts"}  # platform_ops loads with a webhook set


def _workspace(path: Path, *entries: str) -> Path:
    path.write_text("load_from:\n" + "".join(entries))
    return path


def _module(module: str, location: str) -> str:
    return f"  - python_module:\n      module_name: {module}\n      location_name: {location}\n"


@pytest.fixture
def upgraded(tmp_path):
    """A webserver on the new layout whose instance ran the old one; yields the client."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    old = _workspace(tmp_path / "old.yaml", _module("platform_ops.definitions", MOVE.old_location))
    server = DagsterWebserver(home, old, tmp_path / "old.log", ALERTS_OFF)
    try:
        client = Webserver.at(server.url)
        client.query(
            "mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) { __typename } }",
            {"s": selector(MOVE.old_location, MOVE.sensor), "c": OLD_CURSOR},
        )
        client.query(
            "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }",
            {"s": selector(MOVE.old_location, MOVE.sensor)},
        )
        before = new_state(client, MOVE.old_location, MOVE.sensor)
        assert (before["status"], before["typeSpecificData"]["lastCursor"]) == ("RUNNING", OLD_CURSOR)
    finally:
        server.stop()
    stand_in = tmp_path / "orders_and_sales_stand_in.py"
    stand_in.write_text(
        "import dagster as dg\n\n\n@dg.asset\ndef orders():\n    return 1\n\n\ndefs = dg.Definitions(assets=[orders])\n"
    )
    new = _workspace(
        tmp_path / "new.yaml",
        f"  - python_file:\n      relative_path: {stand_in}\n      location_name: {MOVE.old_location}\n",
        _module("platform_ops.definitions", MOVE.new_location),
    )
    server = DagsterWebserver(home, new, tmp_path / "new.log", ALERTS_OFF)
    try:
        yield Webserver.at(server.url)
    finally:
        server.stop()


def test_the_moved_sensor_keeps_its_cursor_and_status_a_second_run_changes_nothing_and_an_own_cursor_stays(upgraded):
    assert new_state(upgraded, MOVE.new_location, MOVE.sensor)["typeSpecificData"]["lastCursor"] is None
    done = migrate(upgraded, MOVE)
    assert any("cursor copied" in line for line in done), done
    assert any("old state" in line and "stopped" in line for line in done), done
    new = new_state(upgraded, MOVE.new_location, MOVE.sensor)
    assert (new["status"], new["typeSpecificData"]["lastCursor"]) == ("RUNNING", OLD_CURSOR)
    old = stored_state(upgraded, MOVE.old_location, MOVE.sensor)
    assert old is not None and old["status"] == "STOPPED"

    assert migrate(upgraded, MOVE) == [
        f"{MOVE.sensor} ({MOVE.old_location} -> {MOVE.new_location}): already migrated, nothing to do"
    ]
    assert new_state(upgraded, MOVE.new_location, MOVE.sensor) == new

    # The new sensor ticks on and advances its cursor: running the step again keeps it.
    advanced = '{"positions": {"run_failures": 99}, "pending": []}'
    upgraded.query(
        "mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) { __typename } }",
        {"s": selector(MOVE.new_location, MOVE.sensor), "c": advanced},
    )
    done = migrate(upgraded, MOVE)
    assert any("already has its own cursor" in line for line in done), done
    assert new_state(upgraded, MOVE.new_location, MOVE.sensor)["typeSpecificData"]["lastCursor"] == advanced


def test_an_unreachable_webserver_is_a_clear_error(capsys):
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(WebserverError, match="cannot reach the webserver"):
            migrate(Webserver.at(url), MOVE)
        assert main(["--url", url]) == 1
    assert "cannot reach the webserver" in capsys.readouterr().err
