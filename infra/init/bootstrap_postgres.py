"""Create the stack's Postgres roles and databases, idempotently (run by the `init` job).

As the superuser (POSTGRES_USER / POSTGRES_PASSWORD, seen only by postgres and init):

* role DAGSTER_PG_MIGRATION_USER (login) owning database DAGSTER_PG_DB and every table in
  it: only init connects as it, to run `dagster instance migrate` (DDL);
* role DAGSTER_PG_USER (login), the runtime role of the webserver, daemon, code server and
  runs: CONNECT + DML (SELECT/INSERT/UPDATE/DELETE, sequences) on the instance tables,
  also on tables later migrations create (default privileges), and no DDL;
* database WAREHOUSE_DB_NAME, owned by the superuser, which seeds it;
* role WAREHOUSE_DB_USER (login): CONNECT + SELECT only, also on tables created later
  by the superuser (default privileges), and no access to the instance database;
* role ORDERS_DB_USER (login) owning schema ``orders`` of the warehouse (the orders store,
  user_code/orders/ledger.py), its search_path there; the reader may read that schema;
* role ACCESS_DB_USER (login), the gateway's: CONNECT to the instance database and nothing
  else here; ``python -m dagster_platform.access init`` (the next step of init) creates
  schema platform_access as the migration role and grants it rows there, and only INSERT
  and SELECT on the audit trail.

Passwords are (re)set from the environment on every run, so rotating one in .env and
re-running init is enough. Passwords are sent as query parameters, never logged.
"""

from __future__ import annotations

import os
import sys
import time

import psycopg2
from psycopg2 import sql


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name) or default
    if not value:
        sys.exit(f"init: environment variable {name} is missing or empty (see .env.example)")
    return value


def connect(database: str):
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = psycopg2.connect(
                host=env("DAGSTER_PG_HOST"),
                port=int(env("DAGSTER_PG_PORT", "5432")),
                user=env("POSTGRES_USER", "postgres"),
                password=env("POSTGRES_PASSWORD"),
                dbname=database,
                connect_timeout=5,
            )
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            return conn
        except psycopg2.OperationalError as error:
            if "password authentication failed" in str(error):
                # Retrying cannot help: the data volume was created with another password
                # (e.g. a new .env from `make env` over an old volume).
                sys.exit(
                    "init: Postgres refused POSTGRES_PASSWORD: the postgres-data volume was initialised "
                    "with another superuser password. Put the old one back in .env, or delete the data "
                    "with `make reset` (docker compose down -v)."
                )
            if time.monotonic() > deadline:
                raise
            print(f"init: waiting for postgres ({str(error).strip().splitlines()[0]})", flush=True)
            time.sleep(2)


def ensure_role(cur, name: str, password: str) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    verb = "ALTER" if cur.fetchone() else "CREATE"
    cur.execute(
        sql.SQL(verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s").format(
            sql.Identifier(name)
        ),
        (password,),
    )
    print(f"init: role {name} {'updated' if verb == 'ALTER' else 'created'}", flush=True)


def ensure_database(cur, name: str, owner: str) -> None:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    if cur.fetchone():
        cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner)))
        print(f"init: database {name} exists", flush=True)
    else:
        cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
        print(f"init: database {name} created", flush=True)
    # Only the owner (and roles granted CONNECT below) may connect.
    cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))


def run_statements(database: str, statements: tuple[str, ...], **names: str) -> None:
    """Run statements in ``database`` as the superuser; ``{name}`` is a quoted identifier."""
    conn = connect(database)
    ids = {key: sql.Identifier(name) for key, name in names.items()}
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(sql.SQL(statement).format(**ids))
    conn.close()


# The instance database: the runtime role gets rows, not schema (DML on what the owner
# has and will create).
INSTANCE_GRANTS = (
    # Stacks from before the split had the runtime role own the tables.
    "REASSIGN OWNED BY {runtime} TO {owner}",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO {runtime}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {runtime}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {runtime}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {runtime}",
)

# The warehouse: the pipelines' role reads what the superuser seeds, and writes nothing;
# the orders writer owns schema orders (the orders store), which the reader may read.
WAREHOUSE_GRANTS = (
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO {reader}",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {superuser} IN SCHEMA public GRANT SELECT ON TABLES TO {reader}",
    "CREATE SCHEMA IF NOT EXISTS orders AUTHORIZATION {writer}",
    "ALTER SCHEMA orders OWNER TO {writer}",
    "ALTER ROLE {writer} IN DATABASE {db} SET search_path = orders",
    "GRANT USAGE ON SCHEMA orders TO {reader}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA orders GRANT SELECT ON TABLES TO {reader}",
)


def main() -> None:
    superuser = env("POSTGRES_USER", "postgres")
    migrator, dagster_user, dagster_db = env("DAGSTER_PG_MIGRATION_USER"), env("DAGSTER_PG_USER"), env("DAGSTER_PG_DB")
    reader, warehouse_db = env("WAREHOUSE_DB_USER"), env("WAREHOUSE_DB_NAME")
    orders_writer, gateway = env("ORDERS_DB_USER"), env("ACCESS_DB_USER")
    if len({superuser, migrator, dagster_user, reader, orders_writer, gateway}) != 6:
        sys.exit(
            "init: POSTGRES_USER, DAGSTER_PG_MIGRATION_USER, DAGSTER_PG_USER, WAREHOUSE_DB_USER, "
            "ORDERS_DB_USER and ACCESS_DB_USER must be six different roles"
        )
    if dagster_db == warehouse_db:
        sys.exit("init: DAGSTER_PG_DB and WAREHOUSE_DB_NAME must be different databases")

    conn = connect("postgres")
    with conn.cursor() as cur:
        ensure_role(cur, migrator, env("DAGSTER_PG_MIGRATION_PASSWORD"))
        ensure_role(cur, dagster_user, env("DAGSTER_PG_PASSWORD"))
        ensure_role(cur, reader, env("WAREHOUSE_DB_PASSWORD"))
        ensure_role(cur, orders_writer, env("ORDERS_DB_PASSWORD"))
        ensure_role(cur, gateway, env("ACCESS_DB_PASSWORD"))
        ensure_database(cur, dagster_db, migrator)
        ensure_database(cur, warehouse_db, superuser)
        grants = (
            (dagster_db, dagster_user),
            (dagster_db, gateway),
            (warehouse_db, reader),
            (warehouse_db, orders_writer),
        )
        for database, role in grants:
            cur.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role))
            )
        # The orders store stages each commit in temporary tables.
        cur.execute(
            sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(warehouse_db), sql.Identifier(orders_writer)
            )
        )
    conn.close()
    run_statements(dagster_db, INSTANCE_GRANTS, owner=migrator, runtime=dagster_user)
    print(
        f"init: instance database {dagster_db}: {migrator} owns the schema, {dagster_user} may only "
        "read and write rows",
        flush=True,
    )
    run_statements(
        warehouse_db, WAREHOUSE_GRANTS, reader=reader, superuser=superuser, writer=orders_writer, db=warehouse_db
    )
    print(
        f"init: warehouse {warehouse_db}: {reader} may read, not write; {orders_writer} owns schema orders", flush=True
    )


if __name__ == "__main__":
    main()
