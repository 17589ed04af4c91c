"""Login throttling, kept in Postgres so a restart does not reset it.

Two counters per failed attempt: the (account, address) pair and the address alone. A
counter reaching its limit within the window locks its key for the lock-out time; attempts
refused while locked are not counted, so they do not extend it, and once it ends the right
password works again. Other pairs and addresses are unaffected. Rows are updated under
``SELECT ... FOR UPDATE`` so concurrent failures count exactly.
"""

from __future__ import annotations

import json
import math

import sqlalchemy as sa

from dagster_platform.access import store
from dagster_platform.access.accounts import Clock
from dagster_platform.access.settings import AccessSettings


def _keys(account: str | None, address: str) -> list[tuple[str, str]]:
    """JSON keys: unambiguous for any name, and free of NUL (which Postgres text refuses)."""
    keys = [(json.dumps(["address", address]), "address")]
    if account is not None:
        keys.append((json.dumps(["pair", account, address]), "pair"))
    return keys


class Throttle:
    def __init__(self, engine: sa.Engine, settings: AccessSettings, clock: Clock):
        self.engine, self.settings, self.clock = engine, settings, clock

    def retry_after(self, account: str | None, address: str) -> int | None:
        """Seconds until this account/address may try again, or None when not locked."""
        now, table = self.clock(), store.throttle
        with self.engine.connect() as conn:
            until = conn.execute(
                sa.select(sa.func.max(table.c.locked_until)).where(
                    table.c.key.in_([key for key, _ in _keys(account, address)]), table.c.locked_until > now
                )
            ).scalar_one()
        return max(1, math.ceil((until - now).total_seconds())) if until else None

    def failed(self, account: str | None, address: str) -> None:
        now, table, window = self.clock(), store.throttle, self.settings.failure_window
        limits = {"address": self.settings.address_max_failures, "pair": self.settings.pair_max_failures}
        with self.engine.begin() as conn:
            for key, kind in _keys(account, address):
                insert = sa.dialects.postgresql.insert(table).values(key=key, failures=0)
                conn.execute(insert.on_conflict_do_nothing(index_elements=[table.c.key]))
                row = conn.execute(sa.select(table).where(table.c.key == key).with_for_update()).one()
                if row.locked_until is not None and row.locked_until > now:
                    continue  # refused during a lock-out: not counted
                fresh = row.window_start is None or now - row.window_start > window
                failures = 1 if fresh else row.failures + 1
                values: dict = {"failures": failures, "window_start": now if fresh else row.window_start}
                if failures >= limits[kind]:
                    values = {"failures": 0, "window_start": None, "locked_until": now + self.settings.lockout}
                conn.execute(table.update().where(table.c.key == key).values(values))

    def succeeded(self, account: str, address: str) -> None:
        """A right password clears the pair's count (the address's count stays: it is per address)."""
        with self.engine.begin() as conn:
            conn.execute(store.throttle.delete().where(store.throttle.c.key == _keys(account, address)[1][0]))
