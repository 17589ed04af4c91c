"""Fixtures for the access gateway: a fresh Postgres database per test (the throwaway
cluster of tests/unit/conftest.py), a clock the test moves, and two fake upstream
webservers (full and read-only) served by uvicorn on loopback sockets bound before the
server thread starts, so no test waits for a server to come up."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from dagster_platform.access.app import create_app
from dagster_platform.access.settings import AccessSettings

ADMIN = ("admin", "admin-password-0123")


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fake_webserver(name: str) -> Starlette:
    """Echoes what reached it, so tests see exactly what the gateway forwarded."""

    async def graphql(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {"upstream": name, "body": json.loads(body) if body else None, "headers": dict(request.headers)}
        )

    async def other(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {request.method} {request.url.path}?{request.url.query}")

    async def socket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-ws")
        while True:
            message = await websocket.receive_json()
            await websocket.send_json(
                {"type": "data", "id": message.get("id"), "payload": {"upstream": name, "got": message}}
            )

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", socket_endpoint),
            Route("/{path:path}", other, methods=["GET", "POST"]),
        ]
    )


@pytest.fixture(scope="session")
def upstreams() -> Iterator[dict[str, str]]:
    servers, threads, urls = [], [], {}
    for name in ("full", "read_only"):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        server = uvicorn.Server(uvicorn.Config(fake_webserver(name), log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        urls[name] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield urls
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(timeout=10)


@pytest.fixture
def engine(orders_db):
    """An empty database of its own (the orders_db fixture's), for the gateway's tables."""
    return orders_db.get_engine()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> AccessSettings:
    return AccessSettings()


@pytest.fixture
def app(engine, upstreams, clock, settings):
    return create_app(engine, upstreams["full"], upstreams["read_only"], settings, clock, bootstrap=ADMIN)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def directory(app, client):
    """The app's account store (tables exist once the client has started the app)."""
    return app.state.gateway.directory
