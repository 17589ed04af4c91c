"""Refuse published placeholder secrets before anything listens beyond this machine.

Every secret in .env.example is a ``change-me-…`` placeholder, published in git. With
one still in use, init (and so the whole stack, which waits for init) refuses to start
when DAGSTER_BIND_ADDRESS is not a loopback address, and warns loudly when it is. Only
variable NAMES are printed, never values. ``make env`` writes random secrets.
"""

from __future__ import annotations

import ipaddress
import os
import sys

PLACEHOLDER = "change-me"
# Every secret init can see (compose passes them to init for this check only).
SECRETS = (
    "POSTGRES_PASSWORD",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_MIGRATION_PASSWORD",
    "WAREHOUSE_DB_PASSWORD",
    "ORDERS_DB_PASSWORD",
    "ACCESS_DB_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "UPLOADER_SECRET_ACCESS_KEY",
    "COMPUTE_LOGS_SECRET_ACCESS_KEY",
    "DAGSTER_UI_PASSWORD",
)


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it resolves to whatever it resolves to
        return False


def main() -> int:
    bind = os.environ.get("DAGSTER_BIND_ADDRESS", "").strip() or "127.0.0.1"
    missing = [name for name in SECRETS if not os.environ.get(name)]
    if missing:
        print(
            f"init: ERROR: these secrets are missing or empty: {', '.join(missing)}. "
            "Set them in .env (`make env` writes a .env with random ones).",
            file=sys.stderr,
        )
        return 1
    placeholders = [name for name in SECRETS if PLACEHOLDER in os.environ[name]]
    if not placeholders:
        print("init: secrets: no placeholder values in use")
        return 0
    names = ", ".join(placeholders)
    if not is_loopback(bind):
        print(
            f"init: ERROR: refusing to start: DAGSTER_BIND_ADDRESS={bind} publishes the stack beyond "
            f"this machine, and these secrets still hold the published '{PLACEHOLDER}-…' placeholder "
            f"from .env.example: {names}. Replace them with random values (move .env away and run "
            "`make env`, or edit .env), then `docker compose up -d` again.",
            file=sys.stderr,
        )
        return 1
    banner = "!" * 88
    print(
        f"{banner}\ninit: WARNING: these secrets hold the published '{PLACEHOLDER}-…' placeholder from "
        f".env.example: {names}.\ninit: WARNING: acceptable only because the ports are bound to {bind} "
        "(loopback); `make env` writes random ones.\n" + banner,
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
