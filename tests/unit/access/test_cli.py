"""The account command line against real Postgres: create with a generated password shown
once, change a role, tokens shown once and revoked, delete."""

from __future__ import annotations

import io

import pytest

from dagster_platform.access.__main__ import main
from dagster_platform.access.accounts import Directory
from dagster_platform.access.settings import AccessSettings
from dagster_platform.access.store import create_tables


@pytest.fixture
def cli_env(orders_db, monkeypatch):
    for name, value in {
        "DAGSTER_PG_HOST": orders_db.host, "DAGSTER_PG_PORT": str(orders_db.port), "DAGSTER_PG_DB": orders_db.database,
        "ACCESS_DB_USER": orders_db.username, "ACCESS_DB_PASSWORD": "trusted-locally",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    engine = orders_db.get_engine()
    create_tables(engine)
    return Directory(engine, AccessSettings())


def run(monkeypatch, capsys, stdin: str, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_user_lifecycle(cli_env, monkeypatch, capsys):
    code, out = run(monkeypatch, capsys, "", "user", "bob", "--role", "launcher", "--locations", "orders_and_sales")
    assert code == 0 and "bob: launcher in orders_and_sales" in out
    password = out.split("password (shown once): ")[1].strip()
    assert cli_env.check_password("bob", password) is not None
    code, out = run(monkeypatch, capsys, "", "user", "bob", "--role", "viewer")
    assert code == 0 and "password" not in out and cli_env.check_password("bob", password).role == "viewer"
    assert run(monkeypatch, capsys, "short\n", "user", "bob")[0] == 2
    code, out = run(monkeypatch, capsys, "", "token", "bob")
    token = out.strip().splitlines()[-1]
    assert cli_env.token_account(token).name == "bob"
    assert run(monkeypatch, capsys, "", "token", "bob", "--revoke", "all")[1].startswith("revoked 1")
    assert cli_env.token_account(token) is None
    assert run(monkeypatch, capsys, "", "user", "bob", "--delete")[0] == 0
    assert cli_env.account("bob") is None
    assert run(monkeypatch, capsys, "", "user", "bob", "--delete")[0] == 2
