"""Carry sensor state across a move between code locations, through the webserver's GraphQL API.

Dagster keys a sensor's state (running or stopped, and its cursor) by its code location
and repository. When a sensor moves to another location, the moved sensor starts with no
cursor, and the old state stays behind in storage, no longer loadable. This step, run once
after the upgrade and before the daemon ticks the moved sensor, copies the old cursor onto
the new sensor, starts it if the old one was running, and stops the old state.

It is idempotent: a second run changes nothing, and a cursor the new sensor already has
is never overwritten. It uses Dagster's public GraphQL API only (never its storage).

    python -m tooling.migrate_sensors            # the stack's UI at http://127.0.0.1:3000, .env credentials
    python -m tooling.migrate_sensors --url URL  # another webserver
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from tooling.stack import REPOSITORY, UI
from tooling.webserver import Webserver, WebserverError


@dataclass(frozen=True)
class Move:
    sensor: str
    old_location: str
    new_location: str


# Every sensor that changed location, in the order the layout changed.
MOVES = (Move("run_failure_alerts", old_location="orders_and_sales", new_location="platform"),)

STATE_FIELDS = "id name status instigationType typeSpecificData { ... on SensorData { lastCursor } }"


def stored_state(server: Webserver, location: str, sensor: str) -> dict | None:
    """The state stored for `sensor` under `location`'s repository, loadable or not."""
    data = server.query(
        "query($s: RepositorySelector!) { repositoryOrError(repositorySelector: $s) {"
        " __typename ... on Repository { id origin { id } } ... on PythonError { message } } }",
        {"s": {"repositoryLocationName": location, "repositoryName": REPOSITORY}},
    )["repositoryOrError"]
    if data["__typename"] != "Repository":
        raise WebserverError(f"location {location!r} is not loaded by the webserver: {data}")
    states = server.query(
        "query($id: String!) { instigationStatesOrError(repositoryID: $id) { __typename"
        " ... on InstigationStates { results { %s } } ... on PythonError { message } } }" % STATE_FIELDS,
        {"id": f"{data['origin']['id']}::{data['id']}"},  # Dagster's compound id: origin id, selector id
    )["instigationStatesOrError"]
    if states["__typename"] != "InstigationStates":
        raise WebserverError(f"cannot list the sensor states of {location!r}: {states}")
    found = [s for s in states["results"] if s["name"] == sensor and s["instigationType"] == "SENSOR"]
    return found[0] if found else None


def selector(location: str, sensor: str) -> dict:
    return {"repositoryLocationName": location, "repositoryName": REPOSITORY, "sensorName": sensor}


def new_state(server: Webserver, location: str, sensor: str) -> dict:
    data = server.query(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename"
        " ... on Sensor { sensorState { %s } } ... on SensorNotFoundError { message }"
        " ... on UnauthorizedError { message } ... on PythonError { message } } }" % STATE_FIELDS,
        {"s": selector(location, sensor)},
    )["sensorOrError"]
    if data["__typename"] != "Sensor":
        raise WebserverError(
            f"sensor {sensor!r} is not served by location {location!r} ({data.get('message')}): "
            "deploy the new layout first"
        )
    return data["sensorState"]


def cursor_of(state: dict) -> str | None:
    return (state.get("typeSpecificData") or {}).get("lastCursor")


def migrate(server: Webserver, move: Move) -> list[str]:
    """Apply one move; returns what it did, one line per action (or why it did nothing)."""
    name = f"{move.sensor} ({move.old_location} -> {move.new_location})"
    old = stored_state(server, move.old_location, move.sensor)
    if old is None:
        return [f"{name}: no state under {move.old_location!r}, nothing to migrate"]
    new = new_state(server, move.new_location, move.sensor)
    done = []
    old_cursor, new_cursor = cursor_of(old), cursor_of(new)
    if old_cursor is not None and new_cursor is None:
        server.mutate(
            "mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) {"
            " __typename ... on PythonError { message } ... on UnauthorizedError { message } } }",
            {"s": selector(move.new_location, move.sensor), "c": old_cursor},
            "setSensorCursor",
            ok=("Sensor",),
        )
        done.append(f"{name}: cursor copied ({len(old_cursor)} characters)")
    elif old_cursor is not None and new_cursor != old_cursor:
        done.append(f"{name}: the new sensor already has its own cursor, left as it is (old cursor not copied)")
    if old["status"] == "RUNNING":
        if new["status"] != "RUNNING":
            server.mutate(
                "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {"
                " __typename ... on PythonError { message } ... on UnauthorizedError { message } } }",
                {"s": selector(move.new_location, move.sensor)},
                "startSensor",
                ok=("Sensor",),
            )
            done.append(f"{name}: new sensor started (the old one was running)")
        server.mutate(
            "mutation($id: String!) { stopSensor(id: $id) {"
            " __typename ... on PythonError { message } ... on UnauthorizedError { message } } }",
            {"id": old["id"]},
            "stopSensor",
            ok=("StopSensorMutationResult",),
        )
        done.append(f"{name}: old state under {move.old_location!r} stopped")
    return done or [f"{name}: already migrated, nothing to do"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=UI, help=f"the webserver (default {UI}, the stack's login proxy)")
    args = parser.parse_args(argv)
    server = Webserver.for_scripts(args.url)
    try:
        for move in MOVES:
            for line in migrate(server, move):
                print(line)
    except WebserverError as error:
        print(f"migrate-sensors: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
