"""Connections for the gateway and the CLI, to the instance database (DAGSTER_PG_*).

The gateway's own role (ACCESS_DB_USER) uses the tables: not Dagster's runtime role, which
every code server and run container holds, so user code cannot make itself an admin. The
migration role (DAGSTER_PG_MIGRATION_USER) creates them in ``init`` and grants the gateway
role what it needs: rows on accounts, sessions, tokens and throttle, but only INSERT and
SELECT on the audit trail, so the gateway cannot rewrite history.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from dagster_platform.access import store
from dagster_platform.variables import ConfigurationError, setting


def engine_from_environment(migration: bool = False) -> sa.Engine:
    user_var, password_var = (
        ("DAGSTER_PG_MIGRATION_USER", "DAGSTER_PG_MIGRATION_PASSWORD")
        if migration
        else ("ACCESS_DB_USER", "ACCESS_DB_PASSWORD")
    )
    password = os.environ.get(password_var)
    if not password:
        raise ConfigurationError(f"{password_var} is not set: the accounts live in Dagster's Postgres database")
    url = sa.URL.create(
        "postgresql+psycopg2",
        username=setting(user_var),
        password=password,
        host=setting("DAGSTER_PG_HOST"),
        port=int(setting("DAGSTER_PG_PORT")),
        database=setting("DAGSTER_PG_DB"),
    )
    return sa.create_engine(url, pool_pre_ping=True)


def create_and_grant(engine: sa.Engine, runtime_role: str | None) -> None:
    """Create the tables (idempotent) and, given the gateway's role, grant it its rights."""
    store.create_tables(engine)
    if runtime_role is None:
        return
    quote = engine.dialect.identifier_preparer.quote
    role, schema = quote(runtime_role), quote(store.SCHEMA)
    rows = ", ".join(
        f"{schema}.{quote(t.name)}" for t in (store.accounts, store.sessions, store.tokens, store.throttle)
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {rows} TO {role}"))
        conn.execute(sa.text(f"GRANT SELECT, INSERT ON {schema}.{quote(store.audit.name)} TO {role}"))
        conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
