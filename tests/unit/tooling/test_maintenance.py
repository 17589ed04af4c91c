"""tooling.maintenance against a real dagster-webserver (SQLite DAGSTER_HOME, no daemon).

Two code locations serve the same small definitions: a sensor running by its code default
(with a cursor), a sensor whose code says running but that a person stopped, a schedule
whose code says stopped but that a person started, and a schedule running by its code. Pause must stop all of them and save
those states; resume must bring back exactly them, the person's choices and the code
defaults alike, without touching the cursor.
"""

from __future__ import annotations

import http.server
import json
import socket
import stat
import threading
import time

import pytest

from tooling import maintenance
from tooling.loopback import DagsterWebserver
from tooling.maintenance import STOPPED, MaintenanceError, instigators, main, pause, resume, status
from tooling.webserver import Webserver, WebserverError

LOCATIONS = ("alpha", "beta")
CURSOR = '{"seen": 41}'
DEFINITIONS = """
import dagster as dg


@dg.op
def noop():
    return None


@dg.job
def noop_job():
    noop()


@dg.sensor(job=noop_job, default_status=dg.DefaultSensorStatus.RUNNING)
def watch_files():
    return dg.SkipReason("test")


@dg.sensor(job=noop_job, default_status=dg.DefaultSensorStatus.RUNNING)
def watch_orders():
    return dg.SkipReason("test")


@dg.schedule(job=noop_job, cron_schedule="0 2 * * *")
def nightly():
    return {}


@dg.schedule(job=noop_job, cron_schedule="0 3 * * *", default_status=dg.DefaultScheduleStatus.RUNNING)
def early():
    return {}


defs = dg.Definitions(jobs=[noop_job], sensors=[watch_files, watch_orders], schedules=[nightly, early])
"""


def sensor(location: str, name: str) -> dict:
    return {"repositoryLocationName": location, "repositoryName": "__repository__", "sensorName": name}


def cursor(server: Webserver, location: str) -> str | None:
    data = server.query(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { sensorState {"
        " typeSpecificData { ... on SensorData { lastCursor } } } } } }",
        {"s": sensor(location, "watch_files")},
    )
    return data["sensorOrError"]["sensorState"]["typeSpecificData"]["lastCursor"]


def schedule_start(server: Webserver, location: str, name: str) -> float | None:
    """Where the schedule counts its ticks from (None: from its last tick)."""
    data = server.query(
        "query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) { ... on Schedule { scheduleState {"
        " typeSpecificData { ... on ScheduleData { startTimestamp } } } } } }",
        {"s": {"repositoryLocationName": location, "repositoryName": "__repository__", "scheduleName": name}},
    )
    return data["scheduleOrError"]["scheduleState"]["typeSpecificData"]["startTimestamp"]


def states(server: Webserver) -> dict[str, tuple[str, bool]]:
    return {key: (state.status, state.from_code) for key, (state, _) in instigators(server)[0].items()}


@pytest.fixture
def server(tmp_path):
    """A webserver on two locations, each with the three states above set through GraphQL."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (tmp_path / "defs.py").write_text(DEFINITIONS)
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        + "".join(
            f"  - python_file:\n      relative_path: {tmp_path / 'defs.py'}\n      location_name: {name}\n"
            for name in LOCATIONS
        )
    )
    process = DagsterWebserver(home, workspace, tmp_path / "webserver.log")
    try:
        client = Webserver.at(process.url)
        for location in LOCATIONS:
            client.query(
                "mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c)"
                " { __typename } }",
                {"s": sensor(location, "watch_files"), "c": CURSOR},
            )
            found, _ = instigators(client)
            maintenance.stop(client, *found[f"sensor {location}/watch_orders"])
            maintenance.by_selector(client, "start", found[f"schedule {location}/nightly"][0])
        yield client
    finally:
        process.stop()


BEFORE = {
    **{f"sensor {name}/watch_files": ("RUNNING", True) for name in LOCATIONS},  # its code's default
    **{f"sensor {name}/watch_orders": ("STOPPED", False) for name in LOCATIONS},  # stopped by a person
    **{f"schedule {name}/nightly": ("RUNNING", False) for name in LOCATIONS},  # started by a person
    **{f"schedule {name}/early": ("RUNNING", True) for name in LOCATIONS},  # its code's default
}


def saved_states(path) -> dict[str, tuple[str, bool]]:
    saved = json.loads(path.read_text())["instigators"]
    return {f"{s['kind']} {s['location']}/{s['name']}": (s["status"], s["from_code"]) for s in saved}


def test_pause_stops_everything_and_resume_restores_exactly_the_states_before(server, tmp_path):
    path = tmp_path / "maintenance" / "paused.json"
    assert states(server) == BEFORE and cursor(server, "alpha") == CURSOR

    done = pause(server, path)
    assert {status for status, _ in states(server).values()} == {STOPPED}, states(server)
    assert saved_states(path) == BEFORE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert done[-1].startswith("paused: 6 stopped, 8 states saved"), done
    first_saved = path.read_text()

    # Twice: nothing left to stop, and the states saved by the first pause are kept.
    done = pause(server, path)
    assert path.read_text() == first_saved and done[-1].startswith("paused: 0 stopped"), done
    assert any("already paused since" in line for line in done), done
    assert status(server, path)[0].startswith("paused since")

    resumed_at = time.time()
    done = resume(server, path)
    assert states(server) == BEFORE, states(server)
    assert cursor(server, "alpha") == cursor(server, "beta") == CURSOR
    # Both schedules count their ticks from the resume: none missed in the pause is replayed.
    assert all((schedule_start(server, "alpha", name) or 0) >= int(resumed_at) for name in ("early", "nightly"))
    assert not path.exists()
    assert sum("reset to its code default" in line for line in done) == 4, done
    assert sum("running again (set by hand)" in line for line in done) == 2, done

    # Resume with nothing saved: says so, changes nothing, exits 0.
    assert resume(server, path) == [f"not paused: no saved states at {path}, nothing to restore"]
    assert states(server) == BEFORE


def test_a_pause_that_failed_half_way_is_completed_and_a_state_not_found_stays_saved(server, tmp_path, monkeypatch):
    path = tmp_path / "paused.json"
    real_stop, calls = maintenance.stop, []

    def stop_once(*args):
        calls.append(args)
        if len(calls) > 1:
            raise WebserverError("the webserver went away")
        real_stop(*args)

    monkeypatch.setattr(maintenance, "stop", stop_once)
    with pytest.raises(WebserverError, match="went away"):
        pause(server, path)
    assert saved_states(path) == BEFORE  # saved before the first change
    assert sum(status == STOPPED for status, _ in states(server).values()) == 3  # 2 by hand + 1 by the pause
    monkeypatch.setattr(maintenance, "stop", real_stop)

    pause(server, path)
    assert {status for status, _ in states(server).values()} == {STOPPED}
    assert saved_states(path) == BEFORE  # the prior states, not the half-paused ones

    # A saved state whose location is gone at resume: the others come back, it stays saved.
    saved = json.loads(path.read_text())
    gone = {**saved["instigators"][0], "location": "gamma"}
    path.write_text(json.dumps({**saved, "instigators": [*saved["instigators"], gone]}))
    with pytest.raises(MaintenanceError, match=f"not restored: {gone['kind']} gamma/{gone['name']}"):
        resume(server, path)
    assert states(server) == BEFORE
    assert list(saved_states(path)) == [f"{gone['kind']} gamma/{gone['name']}"]


def test_the_command_line_and_its_clear_errors(server, tmp_path, capsys):
    path = tmp_path / "paused.json"
    assert main(["resume", "--url", server.url, "--state", str(path)]) == 0
    assert "not paused" in capsys.readouterr().out
    assert main(["status", "--url", server.url, "--state", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("not paused") and "sensor alpha/watch_orders: stopped (set by hand)" in out, out

    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        assert main(["pause", "--url", url, "--state", str(path)]) == 1
    assert "cannot reach the webserver" in capsys.readouterr().err and not path.exists()

    class Refuses(http.server.BaseHTTPRequestHandler):  # what the login answers a wrong password
        def do_POST(self):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="dagster"')
            self.end_headers()
            self.wfile.write(b"unauthorized")

        def log_message(self, *args):
            pass

    login = http.server.HTTPServer(("127.0.0.1", 0), Refuses)
    threading.Thread(target=login.serve_forever, daemon=True).start()
    try:
        assert main(["pause", "--url", f"http://127.0.0.1:{login.server_port}", "--state", str(path)]) == 1
    finally:
        login.shutdown()
        login.server_close()
    assert "refused the credentials: check DAGSTER_UI_USER / DAGSTER_UI_PASSWORD" in capsys.readouterr().err
    assert not path.exists()

    path.write_text("not json")
    assert main(["resume", "--url", server.url, "--state", str(path)]) == 1
    assert "is not a saved-states file" in capsys.readouterr().err
