"""Accounts, browser sessions and API tokens in Postgres.

Every check reads the database, so a new role, a deleted account or a revoked token takes
effect on the next request, with no restart. Deleting an account deletes its sessions and
tokens by foreign-key cascade. The clock is injected so tests can move time without sleeping.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from dagster_platform.access import passwords, store
from dagster_platform.access.settings import AccessSettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    locations: tuple[str, ...] | None
    """A launcher's code locations; None: all of them."""
    password_hash: str


class AccountError(ValueError):
    """A request to change accounts that cannot be carried out (unknown name, bad role)."""


class Directory:
    """The accounts store; one per process, shared by all requests (thread-safe: the engine
    pools connections, the verification cache is a plain dict replaced atomically)."""

    def __init__(self, engine: sa.Engine, settings: AccessSettings, clock: Clock = utc_now):
        self.engine, self.settings, self.clock = engine, settings, clock
        # Basic-auth scripts send the password with every request; argon2 on each would cost
        # ~50 ms and 64 MiB. A keyed digest of (name, password) remembers a verification for as
        # long as the stored hash is unchanged (a password change or deletion invalidates it).
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}

    # --- accounts ---------------------------------------------------------------------
    def account(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(store.accounts).where(store.accounts.c.name == name)).first()
        return _account(row) if row else None

    def list_accounts(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.accounts).order_by(store.accounts.c.name)).all()
        return [_account(row) for row in rows]

    def set_account(
        self, name: str, role: str | None = None, password: str | None = None, locations: Sequence[str] | None = None
    ) -> Account:
        """Create the account, or change the role / password / locations given (others kept)."""
        if not name or len(name) > 200 or name != name.strip() or "\0" in name:
            raise AccountError(f"invalid account name {name!r}")
        if role is not None and role not in store.ROLES:
            raise AccountError(f"unknown role {role!r}; one of {', '.join(store.ROLES)}")
        values: dict = {"updated_at": self.clock()}
        if role is not None:
            values["role"] = role
            values["locations"] = list(locations) if locations else None
        if password is not None:
            values["password_hash"] = passwords.hash_password(password, self.settings.password_min_length)
        with self.engine.begin() as conn:
            table = store.accounts
            updated = conn.execute(table.update().where(table.c.name == name).values(values)).rowcount
            if not updated:
                if role is None or password is None:
                    raise AccountError(f"no account {name!r}: a new account needs a role and a password")
                conn.execute(table.insert().values(name=name, created_at=values["updated_at"], **values))
            if password is not None:  # a new password ends the sessions opened with the old one
                account_id = sa.select(table.c.id).where(table.c.name == name).scalar_subquery()
                conn.execute(store.sessions.delete().where(store.sessions.c.account_id == account_id))
        account = self.account(name)
        assert account is not None
        return account

    def delete_account(self, name: str) -> bool:
        """Remove the account; its sessions and tokens go with it (ON DELETE CASCADE)."""
        with self.engine.begin() as conn:
            return bool(conn.execute(store.accounts.delete().where(store.accounts.c.name == name)).rowcount)

    def bootstrap_admin(self, name: str, password: str) -> None:
        """The first admin from .env (DAGSTER_UI_USER / DAGSTER_UI_PASSWORD), when no account exists."""
        with self.engine.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(store.accounts)).scalar_one():
                return
        self.set_account(name, role="admin", password=password)

    def check_password(self, name: str, password: str) -> Account | None:
        account = None if "\0" in name else self.account(name)  # Postgres text cannot hold NUL
        key = hmac.digest(self._cache_key, f"{name}\0{password}".encode(), "sha256")
        if account is not None and self._verified.get(key) == account.password_hash:
            return account
        if not passwords.verify_password(account.password_hash if account else None, password):
            return None
        assert account is not None
        if len(self._verified) > 10_000:
            self._verified = {}
        self._verified[key] = account.password_hash
        return account

    # --- sessions -----------------------------------------------------------------------
    def open_session(self, account: Account) -> str:
        token, now = passwords.new_token(), self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                store.sessions.insert().values(
                    token_hash=passwords.token_digest(token), account_id=account.id, created_at=now, last_seen=now
                )
            )
        return token

    def session_account(self, token: str) -> Account | None:
        """The session's account while it is in use; idle longer than the timeout: ended."""
        return self._holder(store.sessions, "last_seen", token, expires=True)

    def _holder(self, table: sa.Table, seen: str, token: str, expires: bool) -> Account | None:
        """The account holding a session or API token (looked up by digest); notes its use at
        most once per 1 % of the idle timeout, so a busy client does not write per request."""
        digest, now, column = passwords.token_digest(token), self.clock(), table.c[seen]
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(store.accounts, column.label("seen"))
                .join(table, table.c.account_id == store.accounts.c.id)
                .where(table.c.token_hash == digest)
            ).first()
            if row is None:
                return None
            if expires and now - row.seen > self.settings.session_idle:
                conn.execute(table.delete().where(table.c.token_hash == digest))
                return None
            if row.seen is None or now - row.seen > self.settings.session_idle / 100:
                conn.execute(table.update().where(table.c.token_hash == digest).values({seen: now}))
        return _account(row)

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(store.sessions.delete().where(store.sessions.c.token_hash == passwords.token_digest(token)))

    # --- API tokens ---------------------------------------------------------------------
    def create_token(self, name: str) -> tuple[int, str]:
        """A new API token for the account: (its id, the token, shown once and stored hashed)."""
        account = self.account(name)
        if account is None:
            raise AccountError(f"no account {name!r}")
        token = passwords.new_token()
        with self.engine.begin() as conn:
            token_id = conn.execute(
                store.tokens.insert()
                .values(token_hash=passwords.token_digest(token), account_id=account.id, created_at=self.clock())
                .returning(store.tokens.c.id)
            ).scalar_one()
        return token_id, token

    def revoke_tokens(self, name: str, token_id: int | None = None) -> int:
        """Revoke one token of the account (by id) or all of them; the number revoked."""
        account_id = sa.select(store.accounts.c.id).where(store.accounts.c.name == name).scalar_subquery()
        query = store.tokens.delete().where(store.tokens.c.account_id == account_id)
        if token_id is not None:
            query = query.where(store.tokens.c.id == token_id)
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount

    def token_account(self, token: str) -> Account | None:
        return self._holder(store.tokens, "last_used", token, expires=False)


def _account(row: sa.Row) -> Account:
    locations = tuple(row.locations) if row.locations else None
    return Account(row.id, row.name, row.role, locations, row.password_hash)
