"""The append-only audit trail: logins, failures, sign-outs and every mutation, allowed or
refused. Only INSERT and SELECT are ever issued against it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from dagster_platform.access import store
from dagster_platform.access.accounts import Clock


class AuditTrail:
    def __init__(self, engine: sa.Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def record(
        self,
        event: str,
        outcome: str,
        *,
        account: str | None = None,
        role: str | None = None,
        address: str | None = None,
        via: str | None = None,
        fields: Sequence[str] | None = None,
        locations: Sequence[str] | None = None,
        targets: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        row = {
            "at": self.clock(),
            "event": event,
            "outcome": outcome,
            "account": account,
            "role": role,
            "address": address,
            "via": via,
            "fields": list(fields) if fields is not None else None,
            "locations": sorted(locations) if locations is not None else None,
            "targets": targets,
            "detail": detail,
        }
        with self.engine.begin() as conn:
            conn.execute(store.audit.insert().values(row))

    def newest(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.audit).order_by(store.audit.c.id.desc()).limit(limit)).mappings()
            return [dict(row) for row in rows]
