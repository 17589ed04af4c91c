"""The Celery broker and the settings the executor and the workers share: the one place.

Both sides build their Celery app from ``celery_settings()``: the run worker (the
orchestrator, ``executor.py``) sends each step there, and every Celery worker
(``worker.py``, ``celery -A scale.worker worker``) takes steps from it. So the
broker, the result backend and the delivery rules cannot drift apart.

Redis (``infra/celery-broker``) is the broker (db 0) and the result backend (db 1). It is
found at ``CELERY_BROKER_HOST`` (default ``celery-broker``, the compose service) and needs
``CELERY_BROKER_PASSWORD``. The URL is built here, at run time, from the environment of
the process that uses it: no password is stored in definitions, run configs or images.

A step is acknowledged only when it has finished (``task_acks_late``): the step of a
worker that dies (``docker kill``, a lost host) stays in the broker and is delivered
again to another worker ``CELERY_VISIBILITY_TIMEOUT_SECONDS`` after it was handed out.
That timeout must exceed the longest step, or a slow step is started a second time.

No Dagster import at import time: the workers' health check runs this file as a script
(``python broker.py ping``), importing only the standard library, celery and
``dagster_platform.variables`` (the settings' one default each).
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import quote

from dagster_platform.variables import numeric_setting, setting

BROKER_PORT = 6379
QUEUES_DB, RESULTS_DB = 0, 1
# The queue dagster-celery sends steps to unless a step has a `dagster-celery/queue` tag.
QUEUE = "dagster"


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(
            f"{name} is missing or empty: the Celery executor and workers need it "
            "(set it in .env; `make env` writes a random one)."
        )
    return value


def broker_url(db: int = QUEUES_DB) -> str:
    host = setting("CELERY_BROKER_HOST")
    password = quote(_required("CELERY_BROKER_PASSWORD"), safe="")
    return f"redis://:{password}@{host}:{BROKER_PORT}/{db}"


def visibility_timeout() -> int:
    return int(numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", int, 1))


def celery_settings() -> dict:
    """Keyword arguments of dagster_celery's ``CeleryExecutor``, for both sides."""
    from dagster_celery.defaults import broker_transport_options

    return {
        "broker": broker_url(QUEUES_DB),
        "backend": broker_url(RESULTS_DB),
        "config_source": {
            # Acknowledge a step when it is done, so a dead worker's step is delivered again.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "broker_transport_options": {
                **broker_transport_options,
                "visibility_timeout": visibility_timeout(),
                # Look for such steps every 5 s (kombu's default: a scan every 10 x 10 s).
                "unacked_restore_interval": 5,
                "unacked_restore_throttle": 1,
            },
            "broker_connection_retry_on_startup": True,
            "result_expires": 24 * 3600,
        },
    }


def worker_node() -> str:
    """The node name a worker of this host answers to (``-n celery@%h``)."""
    return f"celery@{socket.gethostname()}"


def ping(timeout: float = 5.0) -> int:
    """Health check: this host's worker answers a ping through the broker (0) or not (1)."""
    from celery import Celery

    app = Celery("health", broker=broker_url(QUEUES_DB))
    try:
        replies = app.control.ping(destination=[worker_node()], timeout=timeout)
    finally:
        app.close()
    if not replies:
        print(f"{worker_node()} did not answer a ping through the broker", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["ping"]:
        sys.exit("usage: python broker.py ping")
    sys.exit(ping())
