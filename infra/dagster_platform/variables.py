"""Every environment variable of the deployment, declared once: name, default, secret or
not, who reads it, what it means.

``.env.example``, ``docker-compose.yml`` (its ``${NAME:-default}`` values),
``dagster.yaml`` (the variables forwarded to run containers) and docs/configuration.md's table must
agree with this list: ``tests/unit/test_variables.py`` fails on any drift, and
``python -m dagster_platform.variables`` prints that table. ``environment.py`` takes the
variables the docker deployment requires, and the defaults of the knobs, from here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    """The value in .env.example (for a secret: its placeholder, which `make env` replaces)."""
    used_by: str
    meaning: str
    secret: bool = False
    required: bool = False
    """The docker deployment's code location refuses to load without it (environment.py)."""
    example: bool = True
    """Listed in .env.example as a setting; False: only mentioned there, commented out."""


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DAGSTER_BIND_ADDRESS",
        "127.0.0.1",
        "compose, proxy, init",
        "host address of the published ports (3000 UI, 9000 S3 API); not loopback ⇒ real secrets required",
    ),
    Variable(
        "DOCKER_SOCKET",
        "/var/run/docker.sock",
        "socket proxies",
        "the engine's socket (rootless Docker: `$XDG_RUNTIME_DIR/docker.sock`)",
        example=False,
    ),
    Variable(
        "DAGSTER_UI_TLS",
        "auto",
        "proxy",
        "`auto`: HTTPS unless DAGSTER_BIND_ADDRESS is loopback and no certificate is named; `on`: HTTPS; `off`: HTTP",
    ),
    Variable(
        "DAGSTER_TLS_CERT_FILE",
        "/dev/null",
        "compose (proxy)",
        "host path of the UI's certificate chain (PEM, readable by uid 33); `/dev/null`: a self-signed one",
    ),
    Variable(
        "DAGSTER_TLS_KEY_FILE",
        "/dev/null",
        "compose (proxy)",
        "host path of that certificate's private key (unencrypted PEM, readable by uid 33)",
    ),
    Variable(
        "DAGSTER_ALLOW_PLAIN_HTTP",
        "0",
        "proxy",
        "`1`: DAGSTER_UI_TLS=off may serve beyond loopback (only when TLS ends in front of this host)",
    ),
    Variable("DAGSTER_UI_USER", "admin", "gateway", "the first admin account, created when no account exists"),
    Variable(
        "DAGSTER_UI_PASSWORD",
        "change-me-ui-password",
        "gateway",
        "the first admin's password (only read while no account exists)",
        secret=True,
    ),
    Variable(
        "DAGSTER_UI_HOSTS",
        "",
        "proxy",
        "extra host names the UI answers to (comma separated); localhost, 127.0.0.1 and the bind address always",
    ),
    Variable("DAGSTER_SESSION_IDLE_HOURS", "12", "gateway", "a signed-in browser session ends after this long unused"),
    Variable(
        "DAGSTER_LOGIN_MAX_FAILURES",
        "5",
        "gateway",
        "failed logins for one account from one address (within the window) before that pair is locked out",
    ),
    Variable(
        "DAGSTER_LOGIN_ADDRESS_MAX_FAILURES",
        "20",
        "gateway",
        "failed logins from one address, any account, within the window before the address is locked out",
    ),
    Variable("DAGSTER_LOGIN_WINDOW_SECONDS", "900", "gateway", "the window the failed logins are counted in"),
    Variable(
        "DAGSTER_LOGIN_LOCKOUT_SECONDS",
        "60",
        "gateway",
        "a locked-out account/address gets 429 with Retry-After this long; refused attempts do not extend it",
    ),
    Variable("DAGSTER_PASSWORD_MIN_LENGTH", "12", "gateway", "the shortest password an account may have"),
    Variable("POSTGRES_USER", "postgres", "postgres, init", "superuser; no other service sees it"),
    Variable(
        "POSTGRES_PASSWORD", "change-me-postgres-superuser", "postgres, init", "the superuser's password", secret=True
    ),
    Variable("DAGSTER_PG_HOST", "postgres", "instance", "Dagster's storage: host"),
    Variable("DAGSTER_PG_PORT", "5432", "instance", "Dagster's storage: port"),
    Variable("DAGSTER_PG_DB", "dagster", "instance, postgres (backups)", "Dagster's storage: database"),
    Variable("DAGSTER_PG_USER", "dagster", "instance, init", "runtime role: rows only (DML), no DDL"),
    Variable(
        "DAGSTER_PG_PASSWORD",
        "change-me-dagster-instance",
        "instance, init",
        "the runtime role's password",
        secret=True,
    ),
    Variable(
        "DAGSTER_PG_MIGRATION_USER",
        "dagster_migrator",
        "init",
        "owner of the instance schema; only `init` (`dagster instance migrate`)",
    ),
    Variable(
        "DAGSTER_PG_MIGRATION_PASSWORD",
        "change-me-dagster-migration",
        "init",
        "the migration role's password",
        secret=True,
    ),
    Variable(
        "ACCESS_DB_USER",
        "dagster_access",
        "gateway, init",
        "the gateway's role: rows of the accounts tables (schema platform_access), INSERT-only on the audit trail",
    ),
    Variable("ACCESS_DB_PASSWORD", "change-me-access", "gateway, init", "the gateway role's password", secret=True),
    Variable("WAREHOUSE_DB_HOST", "postgres", "user code, init", "the warehouse: host", required=True),
    Variable("WAREHOUSE_DB_PORT", "5432", "user code, init", "the warehouse: port", required=True),
    Variable(
        "WAREHOUSE_DB_NAME",
        "warehouse",
        "user code, init, postgres (backups)",
        "the warehouse: database",
        required=True,
    ),
    Variable("WAREHOUSE_DB_USER", "warehouse_reader", "user code, init", "read-only pipeline role", required=True),
    Variable(
        "WAREHOUSE_DB_PASSWORD",
        "change-me-warehouse-reader",
        "user code, init",
        "the read-only role's password",
        secret=True,
        required=True,
    ),
    Variable(
        "ORDERS_DB_USER",
        "orders_writer",
        "user code, init",
        "the only role that writes: owns schema `orders` of the warehouse database",
        required=True,
    ),
    Variable(
        "ORDERS_DB_PASSWORD",
        "change-me-orders-writer",
        "user code, init",
        "the orders role's password",
        secret=True,
        required=True,
    ),
    Variable(
        "MINIO_ROOT_USER", "minio-root", "minio, minio-init (init checks it)", "MinIO root; no other service sees it"
    ),
    Variable(
        "MINIO_ROOT_PASSWORD",
        "change-me-minio-root",
        "minio, minio-init (init checks it)",
        "MinIO root's password",
        secret=True,
    ),
    Variable(
        "S3_BUCKET",
        "dagster-lake",
        "user code, compute logs",
        "bucket of incoming files, lake, quarantine, compute logs",
        required=True,
    ),
    Variable(
        "S3_ENDPOINT_URL", "http://minio:9000", "user code, compute logs", "any S3-compatible endpoint", required=True
    ),
    Variable("AWS_REGION", "us-east-1", "user code, compute logs", "region for the S3 client"),
    Variable(
        "AWS_ACCESS_KEY_ID",
        "pipelines",
        "user code, daemon (forwards), runs, minio-init",
        "the pipelines' MinIO user: `incoming/`, `staging/`, `quarantine/`, `lake/`",
        required=True,
    ),
    Variable(
        "AWS_SECRET_ACCESS_KEY",
        "change-me-pipelines-secret",
        "user code, daemon (forwards), runs, minio-init",
        "the pipelines' MinIO secret",
        secret=True,
        required=True,
    ),
    Variable(
        "UPLOADER_ACCESS_KEY_ID",
        "uploader",
        "uploaders, minio-init",
        "put into `incoming/orders/` only (no list, no read)",
    ),
    Variable(
        "UPLOADER_SECRET_ACCESS_KEY",
        "change-me-uploader-secret",
        "uploaders, minio-init",
        "the uploaders' secret",
        secret=True,
    ),
    Variable(
        "COMPUTE_LOGS_ACCESS_KEY_ID",
        "compute-logs",
        "webserver, daemon, user code, runs, minio-init",
        "Dagster's compute logs: `compute-logs/` only",
    ),
    Variable(
        "COMPUTE_LOGS_SECRET_ACCESS_KEY",
        "change-me-compute-logs-secret",
        "webserver, daemon, user code, runs, minio-init",
        "the compute logs' secret",
        secret=True,
    ),
    Variable(
        "DAGSTER_DEPLOYMENT",
        "local",
        "user code",
        "`local` (SQLite + folder, no secrets: `make dev`, unit tests) or `docker` (Postgres + S3); "
        "not a `.env` setting: compose (and the k8s ConfigMap) set `docker`",
        example=False,
    ),
    Variable(
        "DAGSTER_DAEMON_HEARTBEAT_TOLERANCE",
        "60",
        "daemon, webserver",
        "seconds without a heartbeat before a daemon thread counts as dead (Dagster's default: 1800)",
    ),
    Variable(
        "ORDERS_SENSOR_INTERVAL_SECONDS",
        "3",
        "user code",
        "`file_sensor` minimum interval (1–15; the sensor daemon loops every 5 s, so ≤ 5 means every loop)",
    ),
    Variable(
        "ORDERS_MAX_FILE_MB",
        "1024",
        "user code",
        "largest orders file accepted; a bigger one is rejected and stays in the bucket",
    ),
    Variable("SCHEDULE_TIMEZONE", "UTC", "user code", "timezone of schedules and daily partitions"),
    Variable(
        "ORDERS_SUMMARY_FRESHNESS_MINUTES",
        "60",
        "user code",
        "`orders_summary` must be materialized at least this often (≥ 1); past it the asset is stale "
        "and `asset_alerts` sends an alert ([Alerts](#alerts))",
    ),
    Variable(
        "ALERT_WEBHOOK_URL",
        "",
        "user code (alert sensors)",
        "where alerts are POSTed ([Alerts](#alerts)); empty: alerts are off, the sensors skip saying so. "
        "Treated as a secret (a Slack webhook URL is a token): never logged, redacted from alerts",
    ),
    Variable(
        "ALERT_FORMAT",
        "json",
        "user code (alert sensors)",
        "`json` (the alert object) or `slack` (incoming-webhook `text` + `blocks`)",
    ),
    Variable(
        "DAGSTER_UI_URL",
        "http://localhost:3000",
        "user code (alert sensors)",
        "the UI address as operators open it: alerts link to `<DAGSTER_UI_URL>/runs/<run id>`",
    ),
    Variable("IMAGE_TAG", "local", "compose", "tag of the built images"),
    Variable(
        "CELERY_BROKER_PASSWORD",
        "change-me-celery-broker",
        "celery-broker, celery-worker, daemon (forwards), runs of `scale`",
        "password of the Redis broker of the `scale` profile; the broker refuses to start without one",
        secret=True,
    ),
    Variable(
        "CELERY_BROKER_HOST",
        "celery-broker",
        "celery-worker, daemon (forwards), runs of `scale`",
        "where workers and Celery runs find the broker (another machine's address for a remote worker)",
    ),
    Variable(
        "CELERY_VISIBILITY_TIMEOUT_SECONDS",
        "300",
        "celery-worker",
        "a dead worker's step is delivered to another worker after this long; must exceed the longest Celery step",
    ),
    Variable(
        "DAGSTER_WORKSPACE",
        "workspace.yaml",
        "webserver, daemon",
        "the code locations they load; `workspace.scale.yaml` adds the `scale` profile's location",
    ),
    Variable(
        "LOCAL_DATA_DIR", ".local_data", "local mode", "folder of the local lake and SQLite warehouse", example=False
    ),
)

BY_NAME = {variable.name: variable for variable in VARIABLES}


def default(name: str) -> str:
    """The one default of a setting (its .env.example value)."""
    return BY_NAME[name].default


def setting(name: str) -> str:
    """The environment's value of a setting, or its default when unset or blank."""
    return os.environ.get(name, "").strip() or default(name)


class ConfigurationError(RuntimeError):
    """The environment is missing something the deployment needs, or has a value it cannot use."""


def numeric_setting(name: str, kind: type[int] | type[float], low: float, high: float | None = None) -> int | float:
    """:func:`setting` as an ``int`` or ``float`` in ``[low, high]``; a message naming the
    variable, its value and the accepted range otherwise."""
    raw = setting(name)
    try:
        value = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ConfigurationError(f"{name}={raw!r} is not {noun}; set it in .env (default {default(name)}).") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigurationError(f"{name}={raw!r} must be {bound}; set it in .env (default {default(name)}).")
    return value


def required_by_docker() -> tuple[str, ...]:
    return tuple(v.name for v in VARIABLES if v.required)


def markdown_table() -> str:
    """docs/configuration.md's table of variables."""
    lines = ["| Variable | Default (`.env.example`) | Used by | Meaning |", "|---|---|---|---|"]
    for v in VARIABLES:
        shown = "random (`make env`)" if v.secret else (f"`{v.default}`" if v.default else "empty")
        if not v.example:
            shown += " (commented out)"
        lines.append(f"| `{v.name}` | {shown} | {v.used_by} | {v.meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
