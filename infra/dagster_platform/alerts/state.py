"""An alert sensor's cursor: how far it has looked, what it still has to deliver, and
what it delivered lately. It is what makes alerts idempotent across ticks and daemon
restarts: a failure is queued once (its position moves past it in the same cursor), and
an alert leaves the queue only when delivered or given up on.

A tick that crashes saves no cursor, so its alerts are found again next tick; one that
is cut off between a POST and its cursor save could send an alert twice (at least once).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

MAX_PENDING = 50
"""Alerts kept for a later tick, at most; beyond that the oldest are dropped (and logged)."""
MAX_TICKS = 30
"""Ticks an alert is tried in before it is given up on (about 5 min at one tick per 10 s)."""
RECENT = 200
"""Ids of delivered alerts remembered, so an alert found again is not sent again."""


@dataclass
class AlertState:
    positions: dict = field(default_factory=dict)
    """source -> how far it was read (a storage id, an execution id, a timestamp)."""
    pending: list = field(default_factory=list)
    """[{"alert": {...}, "tries": ticks tried so far, "since": first queued (epoch s)}]."""
    recent: list = field(default_factory=list)
    """Ids of the last ``RECENT`` alerts delivered or given up on, oldest first."""
    started: bool = False

    @classmethod
    def parse(cls, cursor: str | None) -> "AlertState":
        try:
            data = json.loads(cursor) if cursor else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls()
        return cls(data.get("positions", {}), data.get("pending", []), data.get("recent", []), True)

    def dump(self) -> str:
        return json.dumps(
            {"positions": self.positions, "pending": self.pending, "recent": self.recent},
            separators=(",", ":"),
            sort_keys=True,
        )

    def known(self, alert_id: str) -> bool:
        return alert_id in self.recent or any(item["alert"]["id"] == alert_id for item in self.pending)

    def queue(self, alerts: list[dict], now: float | None = None) -> list[dict]:
        """Add the alerts not seen yet; returns those dropped to keep ``MAX_PENDING``."""
        now = time.time() if now is None else now
        for alert in alerts:
            if not self.known(alert["id"]):
                self.pending.append({"alert": alert, "tries": 0, "since": now})
        overflow = len(self.pending) - MAX_PENDING
        dropped = [item["alert"] for item in self.pending[: max(overflow, 0)]]
        del self.pending[: max(overflow, 0)]
        self._remember(a["id"] for a in dropped)
        return dropped

    def delivered(self, alert_id: str) -> None:
        self.pending = [item for item in self.pending if item["alert"]["id"] != alert_id]
        self._remember([alert_id])

    def failed(self, alert_id: str) -> bool:
        """One more tick tried; True when the alert is given up on (and forgotten)."""
        for item in self.pending:
            if item["alert"]["id"] == alert_id:
                item["tries"] += 1
                if item["tries"] >= MAX_TICKS:
                    self.delivered(alert_id)
                    return True
        return False

    def _remember(self, ids) -> None:
        self.recent = (self.recent + [i for i in ids if i not in self.recent])[-RECENT:]
