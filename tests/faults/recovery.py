"""Recording what each fault scenario measured, and asserting its time bound.

Every scenario calls :func:`record` with its measured recovery time and the bound the
issue sets; the line goes to the shared terminal summary (TIMINGS) and the whole set to
tests/faults/artifacts/recovery.json, written after every record so a crash mid-suite
still leaves the earlier figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from e2e.session import TIMINGS

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RESULTS: dict[str, dict] = {}


def record(scenario: str, seconds: float, bound: float, what: str, **details) -> None:
    """Record ``seconds`` for ``scenario`` and fail when it exceeds ``bound``."""
    ok = seconds <= bound
    RESULTS[scenario] = {
        "what": what,
        "seconds": round(seconds, 1),
        "bound_seconds": bound,
        "within_bound": ok,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **details,
    }
    TIMINGS.append(f"fault {scenario}: {what}: {seconds:.1f}s (bound {bound:.0f}s)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "recovery.json").write_text(json.dumps(RESULTS, indent=2, sort_keys=True) + "\n")
    assert ok, f"{scenario}: {what} took {seconds:.1f}s, over the bound of {bound:.0f}s ({details})"


class Stopwatch:
    """Seconds since it was started (monotonic)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.started
