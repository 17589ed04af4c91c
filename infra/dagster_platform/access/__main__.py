"""Command line for accounts, tokens, the audit trail and the gateway itself:

    python -m dagster_platform.access user NAME --role viewer [--locations a,b] [--delete]
    python -m dagster_platform.access token NAME [--revoke ID|all]
    python -m dagster_platform.access users | audit [--limit N] | init | serve ...

A password comes from standard input (the first line); without one a new account gets a
generated password, printed once, and an existing account keeps its own. Tokens are printed
once and stored hashed. ``init`` runs in the `init` job, in a code location's image, which
has no argon2: the account modules are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from typing import TYPE_CHECKING

from dagster_platform.access.database import create_and_grant, engine_from_environment
from dagster_platform.variables import ConfigurationError, setting

if TYPE_CHECKING:
    from dagster_platform.access.accounts import Directory


def _read_password() -> str | None:
    if sys.stdin.isatty():
        return getpass.getpass("Password (empty: keep it, or generate one for a new account): ") or None
    line = sys.stdin.readline().rstrip("\r\n")
    return line or None


def _user(directory: Directory, args: argparse.Namespace) -> str:
    from dagster_platform.access.accounts import AccountError
    from dagster_platform.access.passwords import generate_password

    if args.delete:
        if not directory.delete_account(args.name):
            raise AccountError(f"no account {args.name!r}")
        return f"deleted {args.name}; its sessions and tokens no longer work"
    locations = [x.strip() for x in args.locations.split(",") if x.strip()] if args.locations else None
    if locations and args.role != "launcher":
        raise AccountError("--locations limits a launcher; other roles see and act on every location")
    password, generated = _read_password(), False
    if password is None and directory.account(args.name) is None:
        password, generated = generate_password(), True
    account = directory.set_account(args.name, role=args.role, password=password, locations=locations)
    scope = f" in {', '.join(account.locations)}" if account.locations else ""
    lines = [f"{account.name}: {account.role}{scope}"]
    if generated:
        lines.append(f"password (shown once): {password}")
    return "\n".join(lines)


def _token(directory: Directory, args: argparse.Namespace) -> str:
    if args.revoke:
        count = directory.revoke_tokens(args.name, None if args.revoke == "all" else int(args.revoke))
        return f"revoked {count} token(s) of {args.name}"
    token_id, token = directory.create_token(args.name)
    return f"token {token_id} for {args.name} (shown once; revoke with --revoke {token_id}):\n{token}"


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from dagster_platform.access.app import create_app

    bootstrap = (setting("DAGSTER_UI_USER"), os.environ.get("DAGSTER_UI_PASSWORD", ""))
    app = create_app(
        engine_from_environment(),
        args.full,
        args.read_only,
        bootstrap=bootstrap if bootstrap[1] else None,
        create_tables=False,
    )
    # No access log: nginx in front keeps one, and the audit trail records what matters.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips=args.trusted_proxy,
        access_log=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_platform.access", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="create, change or delete an account")
    user.add_argument("name")
    user.add_argument("--role", choices=["viewer", "launcher", "admin"])
    user.add_argument("--locations", help="launcher only: comma-separated code locations it may act on")
    user.add_argument("--delete", action="store_true")
    token = commands.add_parser("token", help="create (or --revoke) an API token")
    token.add_argument("name")
    token.add_argument("--revoke", metavar="ID|all")
    commands.add_parser("users", help="list the accounts")
    audit = commands.add_parser("audit", help="print the newest audit entries")
    audit.add_argument("--limit", type=int, default=50)
    commands.add_parser("init", help="create the tables and grant the gateway's role (as the migration role)")
    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--full", required=True, help="URL of the full webserver")
    serve.add_argument("--read-only", required=True, help="URL of the --read-only webserver (viewers)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--trusted-proxy", default="127.0.0.1", help="address(es) whose X-Forwarded-For is believed")
    args = parser.parse_args(argv)
    if args.command == "init":
        try:
            create_and_grant(engine_from_environment(migration=True), setting("ACCESS_DB_USER"))
        except ConfigurationError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"access tables ready; {setting('ACCESS_DB_USER')} may use them")
        return 0
    return _accounts_command(args)


def _accounts_command(args: argparse.Namespace) -> int:
    from dagster_platform.access.accounts import AccountError, Directory
    from dagster_platform.access.audit import AuditTrail
    from dagster_platform.access.passwords import PasswordPolicyError
    from dagster_platform.access.settings import AccessSettings

    try:
        if args.command == "serve":
            _serve(args)
            return 0
        engine = engine_from_environment()
        directory = Directory(engine, AccessSettings.from_environment())
        if args.command == "user":
            print(_user(directory, args))
        elif args.command == "token":
            print(_token(directory, args))
        elif args.command == "users":
            for account in directory.list_accounts():
                scope = f" ({', '.join(account.locations)})" if account.locations else ""
                print(f"{account.name}\t{account.role}{scope}")
        elif args.command == "audit":
            for row in reversed(AuditTrail(engine, directory.clock).newest(args.limit)):
                print("\t".join("" if row[c] is None else str(row[c]) for c in row if c != "id"))
    except (AccountError, PasswordPolicyError, ConfigurationError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
