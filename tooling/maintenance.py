"""Maintenance mode: stop every schedule and sensor, then restore exactly the states they had.

    python -m tooling.maintenance pause    # save each state, stop what runs   (make pause)
    python -m tooling.maintenance resume   # restore the saved states          (make resume)
    python -m tooling.maintenance status   # paused or not; every state now
    ... [--url URL] [--state FILE]         # another webserver / saved-states file

Every change goes through the webserver's public GraphQL API (stopSensor, stopRunningSchedule,
startSensor, startSchedule, resetSensor, resetSchedule) with the credentials scripts use
(DAGSTER_UI_USER / DAGSTER_UI_PASSWORD of .env), so the login in front of the webserver
decides who may do it and records each mutation; nothing touches Dagster's storage.

*Exactly the states they had.* A schedule or sensor is either running or stopped, and that
status comes either from its code (``default_status``, nothing stored) or from a person who
started or stopped it (``canReset`` in GraphQL). Pause saves both; resume puts a status that
came from the code back with ``reset…`` (so a later change of the code's default applies
again) and a status set by a person back with ``start…`` / ``stop…``. A sensor that was
stopped stays stopped. Stopping, starting and resetting keep a sensor's cursor. A running
schedule counts its ticks from the resume: the ticks that fell in the pause are not run.

*The run queue.* Dagster 1.13 has no switch that holds the queue (dagster-io/dagster#3281,
#16805). The alternatives are instance settings: ``max_concurrent_runs: 0`` or a tag
concurrency limit of 0 in dagster.yaml, which need the webserver and the daemon restarted
and dagster.yaml edited, and concurrency pools, which hold only steps assigned to a pool.
So the hold is the ``daemon`` service stopped: runs stay queued (the UI still queues new
ones) and runs already in their own containers finish; backfills, run monitoring and
retries wait too. The Makefile stops it BEFORE this module stops the schedules and sensors
(``make pause``) and starts it AFTER the states are restored (``make resume``): a sensor
tick in flight writes its sensor's state back when it ends, so a sensor stopped during the
tick ran again afterwards (seen on the stack: ``file_sensor``, ticking every 3 s, back to
running after ``stopSensor``). With the daemon stopped no other process writes those states.

*Saved states* go to ``.local_data/maintenance/paused.json`` (mode 0600, directory 0700), the
operator's side of the stack like ``make backup``'s folder: they must outlive this process
and survive anything done to the stack during maintenance (a restore replaces the instance
database, an upgrade recreates every container), and they are only for whoever runs
``make resume`` from this checkout. The file is written before the first change, and a
second ``pause`` keeps what it holds (adding only schedules and sensors it did not know),
so a pause that failed half-way is completed by running it again. ``resume`` removes the
file once every state is back; one it could not restore (its location not loaded) stays
in it, named, for the next ``resume``. ``resume`` with no file says so and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tooling.stack import ROOT, UI
from tooling.webserver import Webserver, WebserverError

STATE_FILE = ROOT / ".local_data" / "maintenance" / "paused.json"
RUNNING, STOPPED = "RUNNING", "STOPPED"

WORKSPACE = """{ workspaceOrError { __typename ... on PythonError { message }
  ... on Workspace { locationEntries { name locationOrLoadError { __typename
    ... on PythonError { message }
    ... on RepositoryLocation { repositories { name
      sensors { id name canReset sensorState { status } }
      schedules { id name canReset scheduleState { status } } } } } } } } }"""

RESULT = "__typename ... on PythonError { message } ... on UnauthorizedError { message }"
SENSOR_NOT_FOUND = "... on SensorNotFoundError { message }"
SCHEDULE_NOT_FOUND = "... on ScheduleNotFoundError { message }"


class MaintenanceError(RuntimeError):
    """The saved states cannot be read, or some could not be restored: the message says what to do."""


@dataclass(frozen=True)
class Instigator:
    """One schedule or sensor and its status; ``from_code``: the status is its code's default."""

    kind: str  # "sensor" or "schedule"
    location: str
    repository: str
    name: str
    status: str
    from_code: bool

    @property
    def key(self) -> str:
        return f"{self.kind} {self.location}/{self.name}"

    def describe(self) -> str:
        return f"{self.status.lower()} ({'code default' if self.from_code else 'set by hand'})"


def instigators(server: Webserver) -> tuple[dict[str, tuple[Instigator, str]], list[str]]:
    """Every schedule and sensor the webserver loads, with its id (key -> (state, id)), and
    one line for each location it could not load."""
    workspace = server.query(WORKSPACE)["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        raise WebserverError(f"cannot list the code locations: {workspace.get('message')}")
    found: dict[str, tuple[Instigator, str]] = {}
    unloaded = []
    for entry in workspace["locationEntries"]:
        location = entry["locationOrLoadError"] or {}
        if location.get("__typename") != "RepositoryLocation":
            unloaded.append(f"location {entry['name']} is not loaded ({(location.get('message') or 'loading')[:200]})")
            continue
        for repository in location["repositories"]:
            for kind, field in (("sensor", "sensorState"), ("schedule", "scheduleState")):
                for item in repository[f"{kind}s"]:
                    state = Instigator(
                        kind,
                        entry["name"],
                        repository["name"],
                        item["name"],
                        item[field]["status"],
                        not item["canReset"],
                    )
                    found[state.key] = (state, item["id"])
    return found, unloaded


# --- the saved states -------------------------------------------------------------------
def load(path: Path) -> dict[str, Instigator] | None:
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        states = [Instigator(**item) for item in saved["instigators"]]
    except (ValueError, KeyError, TypeError) as error:
        raise MaintenanceError(
            f"{path} is not a saved-states file of this tool ({error}): restore the states by hand, then delete it"
        ) from error
    return {state.key: state for state in states}


def save(path: Path, states: dict[str, Instigator], since: str) -> None:
    """Written whole, then renamed over the old file: a crash leaves the old or the new one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"paused_at": since, "instigators": [asdict(s) for s in states.values()]}, indent=2)
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(body + "\n")
    os.replace(partial, path)


def paused_at(path: Path) -> str:
    return json.loads(path.read_text()).get("paused_at", "?") if path.exists() else ""


# --- the mutations ----------------------------------------------------------------------
def _selector(state: Instigator) -> dict:
    return {
        "repositoryLocationName": state.location,
        "repositoryName": state.repository,
        f"{state.kind}Name": state.name,
    }


def stop(server: Webserver, state: Instigator, instigator_id: str) -> None:
    if state.kind == "sensor":
        server.mutate(
            "mutation($id: String!) { stopSensor(id: $id) { %s } }" % RESULT,
            {"id": instigator_id},
            "stopSensor",
            ok=("StopSensorMutationResult",),
        )
    else:
        server.mutate(
            "mutation($id: String!) { stopRunningSchedule(id: $id) { %s %s } }" % (RESULT, SCHEDULE_NOT_FOUND),
            {"id": instigator_id},
            "stopRunningSchedule",
            ok=("ScheduleStateResult",),
        )


def by_selector(server: Webserver, verb: str, state: Instigator) -> None:
    """``start`` (a status set by hand: running) or ``reset`` (the status its code declares)."""
    kind = state.kind.capitalize()
    field = f"{verb}{kind}"
    not_found = SENSOR_NOT_FOUND if state.kind == "sensor" else SCHEDULE_NOT_FOUND
    server.mutate(
        f"mutation($s: {kind}Selector!) {{ {field}({state.kind}Selector: $s) {{ {RESULT} {not_found} }} }}",
        {"s": _selector(state)},
        field,
        ok=("Sensor",) if state.kind == "sensor" else ("ScheduleStateResult",),
    )


# --- pause, resume, status --------------------------------------------------------------
def pause(server: Webserver, path: Path = STATE_FILE) -> list[str]:
    """Save every state (keeping those a previous pause saved), then stop what runs."""
    current, unloaded = instigators(server)
    saved = load(path)
    lines = [f"warning: {line}: its schedules and sensors are not paused" for line in unloaded]
    if saved is None:
        saved, when = {}, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    else:
        when = paused_at(path)
        lines.append(f"already paused since {when}: the states saved then are kept")
    added = {key: state for key, (state, _) in current.items() if key not in saved}
    save(path, {**saved, **added}, when)
    stopped = 0
    for key, (state, instigator_id) in sorted(current.items()):
        if state.status == RUNNING:
            stop(server, state, instigator_id)
            lines.append(f"{key}: stopped (was {state.describe()})")
            stopped += 1
    lines.append(f"paused: {stopped} stopped, {len(saved) + len(added)} states saved in {path}")
    return lines


def restore(server: Webserver, prior: Instigator, now: Instigator, instigator_id: str) -> str | None:
    """Make ``now`` what ``prior`` was; a line saying what changed, or None."""
    if prior.from_code:
        if now.from_code:
            return None
        if now.kind == "schedule" and prior.status == RUNNING:
            # Started first so that the reset state counts its ticks from now: stopping
            # cleared where it was, and a reset alone would replay the ticks since its last
            # one (or, for one that never ticked, since 1970) as catch-up runs.
            by_selector(server, "start", now)
        by_selector(server, "reset", now)
        return f"{prior.key}: reset to its code default ({prior.status.lower()} when paused)"
    if now.status == prior.status and not now.from_code:
        return None
    if prior.status == RUNNING:
        by_selector(server, "start", now)
    else:
        stop(server, now, instigator_id)
    return f"{prior.key}: {prior.status.lower()} again (set by hand)"


def resume(server: Webserver, path: Path = STATE_FILE) -> list[str]:
    """Restore the saved states; the file goes once all are back. MaintenanceError when some
    could not be (they stay in the file for the next resume)."""
    saved = load(path)
    if saved is None:
        return [f"not paused: no saved states at {path}, nothing to restore"]
    current, unloaded = instigators(server)
    lines, missing = [], {}
    for key, prior in sorted(saved.items()):
        if key not in current:
            missing[key] = prior
            continue
        line = restore(server, prior, *current[key])
        if line:
            lines.append(line)
    if missing:
        save(path, missing, paused_at(path))
        raise MaintenanceError(
            f"restored {len(saved) - len(missing)} states; not found now, so not restored: {', '.join(sorted(missing))}"
            f" ({'; '.join(unloaded) or 'no longer in the code'}). They stay in {path}: fix the location and run "
            "`make resume` again, or delete the file to forget them."
        )
    path.unlink()
    lines.append(f"resumed: {len(saved)} states restored ({len(lines)} changed); {path} removed")
    return lines


def status(server: Webserver, path: Path = STATE_FILE) -> list[str]:
    saved = load(path)
    lines = [f"paused since {paused_at(path)}: {len(saved)} states saved in {path}" if saved else "not paused"]
    current, unloaded = instigators(server)
    for key, (state, _) in sorted(current.items()):
        before = f", {saved[key].describe()} before the pause" if saved and key in saved else ""
        lines.append(f"  {key}: {state.describe()}{before}")
    return lines + [f"  warning: {line}" for line in unloaded]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("pause", "resume", "status"))
    parser.add_argument("--url", default=UI, help=f"the webserver (default {UI}, the stack's UI)")
    parser.add_argument("--state", type=Path, default=STATE_FILE, help=f"saved-states file (default {STATE_FILE})")
    args = parser.parse_args(argv)
    action = {"pause": pause, "resume": resume, "status": status}[args.action]
    try:
        for line in action(Webserver.for_scripts(args.url), args.state):
            print(line)
    except (WebserverError, MaintenanceError) as error:
        print(f"maintenance {args.action}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
