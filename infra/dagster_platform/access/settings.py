"""The gateway's knobs, read once from the variable registry (defaults live there only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dagster_platform.variables import numeric_setting


@dataclass(frozen=True)
class AccessSettings:
    session_idle: timedelta = timedelta(hours=12)
    pair_max_failures: int = 5
    """Failed logins for one account from one address before that pair is locked out."""
    address_max_failures: int = 20
    """Failed logins from one address (any account) before the address is locked out."""
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(seconds=60)
    password_min_length: int = 12

    @classmethod
    def from_environment(cls) -> AccessSettings:
        return cls(
            session_idle=timedelta(hours=numeric_setting("DAGSTER_SESSION_IDLE_HOURS", float, 0.01)),
            pair_max_failures=int(numeric_setting("DAGSTER_LOGIN_MAX_FAILURES", int, 1)),
            address_max_failures=int(numeric_setting("DAGSTER_LOGIN_ADDRESS_MAX_FAILURES", int, 1)),
            failure_window=timedelta(seconds=numeric_setting("DAGSTER_LOGIN_WINDOW_SECONDS", int, 1)),
            lockout=timedelta(seconds=numeric_setting("DAGSTER_LOGIN_LOCKOUT_SECONDS", int, 1)),
            password_min_length=int(numeric_setting("DAGSTER_PASSWORD_MIN_LENGTH", int, 8)),
        )
