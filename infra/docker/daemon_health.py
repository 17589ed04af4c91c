"""Health check of the daemon (compose healthcheck of `daemon`), without importing dagster.

Healthy when every daemon type that has a heartbeat row in the instance database has
beaten since THIS container started and within the last TOLERANCE seconds. That is
stricter than `dagster-daemon liveness-check` (whose default tolerance, 30 min, lets a
restarted daemon pass on the previous process's heartbeats) and costs ~0.05 s of CPU
instead of ~1.5 s, so it can run every few seconds. Reads the same table dagster does
(`daemon_heartbeats.body`, a serialized DaemonHeartbeat with a float `timestamp`).

    python daemon_health.py [TOLERANCE_SECONDS]      exit 0 when live
"""

import json
import os
import sys
import time

import psycopg2

tolerance = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0


def container_started() -> float:
    """Wall-clock start of PID 1 (the container's init)."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/1/stat") as stat:
        start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as uptime:
        booted = time.time() - float(uptime.read().split()[0])
    return booted + start_ticks / ticks


try:
    connection = psycopg2.connect(
        host=os.environ["DAGSTER_PG_HOST"], port=os.environ.get("DAGSTER_PG_PORT", "5432"),
        dbname=os.environ["DAGSTER_PG_DB"], user=os.environ["DAGSTER_PG_USER"],
        password=os.environ["DAGSTER_PG_PASSWORD"], connect_timeout=5,
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT daemon_type, body FROM daemon_heartbeats")
        rows = cursor.fetchall()
    connection.close()
except psycopg2.Error as error:
    print(f"instance database: {error}".strip())
    sys.exit(1)

now, started = time.time(), container_started() - 1
beats = {daemon_type: json.loads(body)["timestamp"] for daemon_type, body in rows}
stale = sorted(t for t, ts in beats.items() if ts < started or ts < now - tolerance)
if not beats or stale:
    print(f"no recent heartbeat from: {', '.join(stale) or 'any daemon'}")
    sys.exit(1)
print(f"{len(beats)} daemons live")
