"""The gateway's tables, in their own Postgres schema so that `make backup` (a dump of the
database) covers them and Dagster's migrations never see them.

Created idempotently at start (``CREATE ... IF NOT EXISTS`` via SQLAlchemy's checkfirst);
every statement elsewhere is SQLAlchemy Core with bound parameters, never string building.
The audit table is append-only by contract: the code only inserts into it, and the
deployment can grant the gateway's role INSERT (and SELECT for /audit) on it and no more.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

SCHEMA = "platform_access"
ROLES = ("viewer", "launcher", "admin")

metadata = sa.MetaData(schema=SCHEMA)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("locations", postgresql.ARRAY(sa.Text), nullable=True, comment="launcher scope; NULL: every location"),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"role IN {ROLES}", name="accounts_role"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey(accounts.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey(accounts.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
)

throttle = sa.Table(
    "throttle",
    metadata,
    sa.Column("key", sa.Text, primary_key=True, comment="'pair' or 'address' + the account name and address"),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account", sa.Text, nullable=True),
    sa.Column("role", sa.Text, nullable=True),
    sa.Column("address", sa.Text, nullable=True),
    sa.Column("via", sa.Text, nullable=True, comment="session, token, basic, websocket"),
    sa.Column("event", sa.Text, nullable=False, comment="login, login_failed, logout, throttled, mutation"),
    sa.Column("fields", postgresql.ARRAY(sa.Text), nullable=True),
    sa.Column("locations", postgresql.ARRAY(sa.Text), nullable=True),
    sa.Column("targets", postgresql.JSONB, nullable=True),
    sa.Column("outcome", sa.Text, nullable=False, comment="allowed, refused, ok, failed"),
    sa.Column("detail", sa.Text, nullable=True),
)


def create_tables(engine: sa.Engine) -> None:
    """Create the schema and tables when missing; safe to run at every start."""
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        metadata.create_all(conn, checkfirst=True)
