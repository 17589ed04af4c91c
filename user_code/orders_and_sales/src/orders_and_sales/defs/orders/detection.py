"""Which incoming objects need ingesting, and how they are batched into runs (pure rules,
no Dagster calls; ``file_sensor`` applies them every tick).

* **Detection.** An ``incoming/orders/*.csv`` object is pending when its key + ETag is
  neither loaded nor rejected in the orders ledger, and not already in a run that is
  still in flight. Names need not sort in arrival order, and a re-upload (new ETag) is
  pending again. Each tick looks at the prefix in a rolling *sweep*: it carries on after
  the key where the previous tick stopped, wraps around at the end, and stops after a
  time and object budget, so a tick costs the same with 100,000 objects as with 10.
* **Batching.** Pending objects go into runs of at most ``max_files`` files and
  ``max_bytes`` bytes (an oversize file still gets a run of its own, which rejects it),
  so a burst drains in a few runs and a lone new file runs alone at once.
* **In flight and retries.** The cursor remembers the batches it requested until their
  run has finished. When a run ends without loading a file (a transient failure: the
  object store or the database was down), the file becomes pending again, after a
  back-off, for at most ``MAX_ATTEMPTS`` runs; a malformed file is rejected by its run
  and therefore not retried until its content changes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from dagster_platform.resources import StoredObject

MAX_ATTEMPTS = 4
RETRY_BACKOFF_SECONDS = 20  # doubled per attempt: 20, 40, 80 s
IN_FLIGHT_TIMEOUT_SECONDS = 6 * 3600  # a batch whose run never showed up is forgotten after this
MAX_FILES_IN_FLIGHT = 2_000
RETRY_MEMORY_SECONDS = 7 * 86400  # bounds the cursor; the rest waits for the next ticks


def version_id(key: str, etag: str) -> str:
    return f"{key}@{etag}"


def sweep(
    objects_after, objects_from_start, position: str | None, max_objects: int, budget_s: float, clock=time.monotonic
) -> tuple[list[list[StoredObject]], str | None]:
    """Objects of one tick, as key-ordered segments, and where the next tick carries on.

    ``objects_after(position)`` and ``objects_from_start()`` iterate the prefix in key order.
    The sweep stops after ``max_objects`` objects or ``budget_s`` seconds; a sweep that
    reached its starting point again returns ``None`` (the next tick starts at the top).
    """
    started = clock()
    segments: list[list[StoredObject]] = []
    seen = 0

    def take(objects: Iterable[StoredObject], stop_after: str | None) -> str | None:
        nonlocal seen
        segment: list[StoredObject] = []
        segments.append(segment)
        for item in objects:
            if stop_after is not None and item.key > stop_after:
                return None
            segment.append(item)
            seen += 1
            if seen >= max_objects or clock() - started > budget_s:
                return item.key
        return None

    stopped = take(objects_after(position) if position else objects_from_start(), None)
    if stopped is None and position:
        stopped = take(objects_from_start(), position)
    return [s for s in segments if s], stopped


def plan_batches(pending: list[StoredObject], max_files: int, max_bytes: int) -> list[list[StoredObject]]:
    """Consecutive batches of at most ``max_files`` files and ``max_bytes`` bytes."""
    batches: list[list[StoredObject]] = []
    current: list[StoredObject] = []
    size = 0
    for item in pending:
        if current and (len(current) >= max_files or size + item.size > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item.size
    if current:
        batches.append(current)
    return batches


def batch_run_key(batch: list[StoredObject], attempt: int) -> str:
    """The same files, versions and attempt always give the same run key (Dagster then
    never launches that run twice); a retry is a new attempt."""
    digest = hashlib.sha256("\n".join(version_id(o.key, o.etag) for o in batch).encode()).hexdigest()[:24]
    return f"orders:{digest}:{attempt}"


@dataclass
class SensorState:
    """``file_sensor``'s cursor: where the sweep is, what is in flight, what is retried."""

    position: str | None = None
    in_flight: dict[str, dict] = field(default_factory=dict)
    """run key -> {"files": {key: etag}, "at": requested (epoch s), "attempt": n}."""
    retries: dict[str, list] = field(default_factory=dict)
    """version id -> [attempts so far, not before (epoch s)]."""

    @classmethod
    def parse(cls, cursor: str | None) -> "SensorState":
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except ValueError:  # a cursor from before this format: start a fresh sweep
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(data.get("position"), data.get("in_flight", {}), data.get("retries", {}))

    def dump(self) -> str:
        return json.dumps(
            {"position": self.position, "in_flight": self.in_flight, "retries": self.retries},
            separators=(",", ":"),
            sort_keys=True,
        )

    def in_flight_versions(self) -> set[str]:
        return {version_id(k, e) for batch in self.in_flight.values() for k, e in batch["files"].items()}

    def files_in_flight(self) -> int:
        return sum(len(batch["files"]) for batch in self.in_flight.values())

    def oldest_request(self) -> float | None:
        return min((batch["at"] for batch in self.in_flight.values()), default=None)

    def finish(self, finished_run_keys: Iterable[str], loaded_or_rejected, now: float) -> list[str]:
        """Forget finished batches (and ones too old to wait for). A file they did not
        load or reject is retried after a back-off; returns the versions given up on."""
        given_up = []
        for run_key in list(self.in_flight):
            batch = self.in_flight[run_key]
            if run_key not in finished_run_keys and now - batch["at"] < IN_FLIGHT_TIMEOUT_SECONDS:
                continue
            del self.in_flight[run_key]
            for key, etag in batch["files"].items():
                vid = version_id(key, etag)
                if loaded_or_rejected(key, etag):
                    self.retries.pop(vid, None)
                    continue
                attempts = batch["attempt"] + 1
                self.retries[vid] = [attempts, now + RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1)]
                if attempts >= MAX_ATTEMPTS:
                    given_up.append(vid)
        for vid, (_, not_before) in list(self.retries.items()):
            if now - not_before > RETRY_MEMORY_SECONDS:  # given up long ago: the catch-up run owns it
                del self.retries[vid]
        return given_up

    def attempt_of(self, item: StoredObject, now: float) -> int | None:
        """The attempt number a pending file would run as, or None while it must wait."""
        attempts, not_before = self.retries.get(version_id(item.key, item.etag), [0, 0])
        if attempts >= MAX_ATTEMPTS or now < not_before:
            return None
        return attempts

    def request(self, batch: list[StoredObject], attempt: int, now: float) -> str:
        run_key = batch_run_key(batch, attempt)
        self.in_flight[run_key] = {"files": {o.key: o.etag for o in batch}, "at": now, "attempt": attempt}
        return run_key

    def keys_of(self, run_keys: Iterable[str]) -> list[str]:
        return sorted(
            {key for run_key in run_keys if run_key in self.in_flight for key in self.in_flight[run_key]["files"]}
        )
