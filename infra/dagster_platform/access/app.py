"""The gateway: an ASGI app in front of the dagster-webserver(s).

Who: a session cookie from the login page, an API token (``Authorization: Bearer``), or
basic auth as before. What: queries pass; mutations (over HTTP or the websocket) are judged
by :mod:`.policy`, refused with 403 naming the role needed, tagged with ``launched_by``,
and written to the audit trail either way. Where: viewers reach the ``--read-only``
webserver, launchers and admins the full one. Blocking work (argon2, SQL) runs in the
thread pool so one slow login does not stall the event loop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

import anyio
import httpx
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from dagster_platform.access import pages, policy, store
from dagster_platform.access.accounts import Account, Clock, Directory, utc_now
from dagster_platform.access.audit import AuditTrail
from dagster_platform.access.proxy import Upstream
from dagster_platform.access.settings import AccessSettings
from dagster_platform.access.tagging import tag_launches
from dagster_platform.access.throttle import Throttle

COOKIE = "dagster_platform_session"
TOKEN_AUDIT_INTERVAL = timedelta(minutes=10)
DATABASE_RETRY_SECONDS = 20
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class Identity:
    account: Account
    via: str
    address: str


class Denied(Exception):
    """Authentication failed or is throttled: the status, message and headers to answer with."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no //host, no scheme): an open redirect otherwise."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class Gateway:
    def __init__(self, engine: sa.Engine, full: Upstream, read_only: Upstream, settings: AccessSettings, clock: Clock):
        self.full, self.read_only, self.settings = full, read_only, settings
        self.directory = Directory(engine, settings, clock)
        self.throttle = Throttle(engine, settings, clock)
        self.audit = AuditTrail(engine, clock)
        self.clock = clock
        # When each token's use was last written to the audit trail: a script polling every
        # second is recorded on its first request and then every TOKEN_AUDIT_INTERVAL.
        self._token_audited: dict[tuple[str, str], datetime] = {}

    async def _audit_token_use(self, account: Account, credentials: str, address: str) -> None:
        key, now = (account.name, hashlib.sha256(credentials.encode()).hexdigest()), self.clock()
        last = self._token_audited.get(key)
        if last is not None and now - last < TOKEN_AUDIT_INTERVAL:
            return
        if len(self._token_audited) > 10_000:
            self._token_audited = {}
        self._token_audited[key] = now
        await run_in_threadpool(
            self.audit.record, "token", "ok", account=account.name, role=account.role, address=address, via="token"
        )

    # --- who ----------------------------------------------------------------------------
    async def _throttled(self, account: str | None, address: str, via: str) -> None:
        wait = await run_in_threadpool(self.throttle.retry_after, account, address)
        if wait is not None:
            await run_in_threadpool(self.audit.record, "login", "throttled", account=account, address=address, via=via)
            raise Denied(429, f"too many failed logins; try again in {wait} s", {"Retry-After": str(wait)})

    async def _failed(self, account: str | None, address: str, via: str) -> Denied:
        await run_in_threadpool(self.throttle.failed, account, address)
        await run_in_threadpool(self.audit.record, "login_failed", "failed", account=account, address=address, via=via)
        return Denied(401, "wrong name, password or token", {"WWW-Authenticate": 'Bearer realm="dagster"'})

    async def password_login(self, name: str, password: str, address: str, via: str) -> Account:
        await self._throttled(name, address, via)
        account = await run_in_threadpool(self.directory.check_password, name, password)
        if account is None:
            raise await self._failed(name, address, via)
        await run_in_threadpool(self.throttle.succeeded, name, address)
        return account

    async def identify(self, conn: HTTPConnection) -> Identity | None:
        """The caller, None without credentials; :class:`Denied` for wrong or throttled ones."""
        address, header = _address(conn), conn.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            await self._throttled(None, address, "token")
            account = await run_in_threadpool(self.directory.token_account, credentials.strip())
            if account is None:
                raise await self._failed(None, address, "token")
            await self._audit_token_use(account, credentials.strip(), address)
            return Identity(account, "token", address)
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise Denied(400, "malformed basic auth header") from None
            return Identity(await self.password_login(name, password, address, "basic"), "basic", address)
        cookie = conn.cookies.get(COOKIE)
        if cookie:
            account = await run_in_threadpool(self.directory.session_account, cookie)
            if account is not None:
                return Identity(account, "session", address)
        return None

    # --- what ---------------------------------------------------------------------------
    async def judge(self, who: Identity, payload: Any, via: str) -> tuple[policy.Decision, dict]:
        """Decide on one GraphQL request; the payload to forward (tagged) when allowed."""
        if not isinstance(payload, dict):
            raise policy.PolicyError("a GraphQL request is a JSON object (batches are not accepted)")
        variables = payload.get("variables") or {}
        if isinstance(variables, str):
            variables = json.loads(variables)
        if not isinstance(variables, dict):
            raise policy.PolicyError("GraphQL variables must be a JSON object")
        document = policy.parse_document(payload.get("query"))
        decision = policy.decide(document, variables, who.account)
        if decision.allowed and decision.is_mutation:
            tagged = tag_launches(document, variables, who.account.name)
            if tagged is not None:
                payload = {**payload, "query": tagged[0], "variables": tagged[1]}
        if decision.is_mutation:
            await run_in_threadpool(
                self.audit.record,
                "mutation",
                "allowed" if decision.allowed else "refused",
                account=who.account.name,
                role=who.account.role,
                address=who.address,
                via=via,
                fields=decision.fields,
                locations=decision.locations,
                targets=decision.targets,
                detail=decision.message or None,
            )
        return decision, payload

    def upstream(self, account: Account) -> Upstream:
        return self.read_only if account.role == "viewer" else self.full


def _graphql_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


def create_app(
    engine: sa.Engine,
    full_url: str,
    read_only_url: str,
    settings: AccessSettings | None = None,
    clock: Clock = utc_now,
    bootstrap: tuple[str, str] | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    create_tables: bool = True,
) -> Starlette:
    """The gateway app. ``bootstrap`` = (name, password) of the first admin (DAGSTER_UI_USER /
    DAGSTER_UI_PASSWORD), created when no account exists; the tables are created at startup."""
    settings = settings or AccessSettings.from_environment()
    make_transport = transport_factory or (lambda: None)  # type: ignore[return-value]
    gateway = Gateway(
        engine, Upstream(full_url, make_transport()), Upstream(read_only_url, make_transport()), settings, clock
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if create_tables:  # the deployment's `init` does this with the migration role instead
            await run_in_threadpool(store.create_tables, engine)
        if bootstrap is not None:
            await run_in_threadpool(gateway.directory.bootstrap_admin, *bootstrap)
        yield
        await gateway.full.aclose()
        await gateway.read_only.aclose()

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return pages.login(_safe_next(request.query_params.get("next")))
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        next_path = _safe_next(form.get("next"))
        address = _address(request)
        try:
            account = await gateway.password_login(form.get("name", ""), form.get("password", ""), address, "login")
        except Denied as denied:
            return pages.login(next_path, denied.message, denied.status, denied.headers)
        token = await run_in_threadpool(gateway.directory.open_session, account)
        await run_in_threadpool(
            gateway.audit.record, "login", "ok", account=account.name, role=account.role, address=address, via="login"
        )
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
        )
        return response

    async def logout(request: Request) -> Response:
        who = await _identify_or_none(request)
        if request.method == "GET":
            return pages.logout(who.account.name) if who else RedirectResponse("/login", status_code=303)
        cookie = request.cookies.get(COOKIE)
        if cookie:
            await run_in_threadpool(gateway.directory.end_session, cookie)
        if who:
            await run_in_threadpool(
                gateway.audit.record, "logout", "ok", account=who.account.name, role=who.account.role,
                address=who.address, via=who.via,
            )  # fmt: skip
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def _identify_or_none(conn: HTTPConnection) -> Identity | None:
        try:
            return await _identify(conn)
        except Denied:
            return None

    async def authenticated(request: Request) -> Identity | Response:
        try:
            who = await _identify(request)
        except Denied as denied:
            return PlainTextResponse(denied.message + "\n", denied.status, headers=denied.headers)
        if who is not None:
            return who
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return PlainTextResponse(
            "sign in: /login, a token (Authorization: Bearer) or basic auth\n",
            401,
            headers={"WWW-Authenticate": 'Bearer realm="dagster"'},
        )

    async def _identify(conn: HTTPConnection) -> Identity | None:
        """:meth:`Gateway.identify`, retried while Postgres is unreachable (a restart takes a
        few seconds; Dagster's own storage retries the same way), instead of answering 500."""
        deadline = anyio.current_time() + DATABASE_RETRY_SECONDS
        while True:
            try:
                return await gateway.identify(conn)
            except sa.exc.OperationalError:
                if anyio.current_time() > deadline:
                    raise
                await anyio.sleep(0.5)

    async def healthz(_request: Request) -> Response:
        """For the proxy's health check, without a login: 200 only while the full webserver
        answers (viewers' read-only one is not waited for); says nothing else."""
        if await gateway.full.answers():
            return PlainTextResponse("ok\n")
        return PlainTextResponse("the webserver does not answer\n", 503)

    async def audit_page(request: Request) -> Response:
        who = await authenticated(request)
        if isinstance(who, Response):
            return who
        if who.account.role != "admin":
            return PlainTextResponse(
                f"refused: the audit trail needs the admin role; you are a {who.account.role}\n", 403
            )
        return pages.audit(await run_in_threadpool(gateway.audit.newest, 200))

    async def proxy(request: Request) -> Response:
        who = await authenticated(request)
        if isinstance(who, Response):
            return who
        body = await request.body()
        if request.url.path.rstrip("/").endswith("/graphql"):
            if request.method == "POST":
                if "application/json" not in request.headers.get("content-type", ""):
                    return PlainTextResponse("GraphQL takes Content-Type: application/json\n", 415)
                try:
                    payload = json.loads(body)
                    decision, forwarded = await gateway.judge(who, payload, who.via)
                except (json.JSONDecodeError, policy.PolicyError) as error:
                    return _graphql_error(400, str(error))
                if not decision.allowed:
                    return _graphql_error(403, decision.message)
                body = json.dumps(forwarded).encode()
            elif "query" in request.query_params:
                try:
                    document = policy.parse_document(request.query_params["query"])
                except policy.PolicyError as error:
                    return _graphql_error(400, str(error))
                if policy.decide(document, None, who.account).is_mutation:
                    return _graphql_error(405, "mutations take POST")
        elif request.method not in ("GET", "HEAD", "OPTIONS") and who.account.role != "admin":
            # The webserver's REST endpoints (report_asset_materialization, ...) write events.
            await run_in_threadpool(
                gateway.audit.record, "mutation", "refused", account=who.account.name, role=who.account.role,
                address=who.address, via=who.via, fields=[f"{request.method} {request.url.path}"],
            )  # fmt: skip
            return PlainTextResponse(f"refused: {request.method} {request.url.path} needs the admin role\n", 403)
        return await gateway.upstream(who.account).forward(request, body)

    async def socket(websocket: WebSocket) -> None:
        try:
            who = await _identify(websocket)
        except Denied:
            who = None
        if who is None:
            await websocket.close(code=1008)
            return

        async def inspect(message: dict) -> tuple[dict | None, dict | None]:
            kind, op_id = message.get("type"), message.get("id")
            if kind not in ("start", "subscribe"):
                return message, None
            try:
                decision, payload = await gateway.judge(who, message.get("payload"), f"{who.via}+websocket")
            except (policy.PolicyError, json.JSONDecodeError) as problem:
                decision, payload = policy.Decision(False, "viewer", message=str(problem)), {}
            if not decision.allowed:
                refusal = {"message": decision.message}
                return None, {"type": "error", "id": op_id, "payload": refusal if kind == "start" else [refusal]}
            return {**message, "payload": payload}, None

        await gateway.upstream(who.account).websocket(websocket, inspect)

    routes = [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["GET", "POST"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/{path:path}", proxy, methods=_ALL_METHODS),
        WebSocketRoute("/{path:path}", socket),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = gateway
    return app
