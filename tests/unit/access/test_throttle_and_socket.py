"""Login throttling (per account+address and per address, persistent, not extended by
refused attempts) and the GraphQL websocket going through the same role check."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dagster_platform.access.settings import AccessSettings

from .conftest import ADMIN
from .test_gateway import LAUNCH, PASSWORD, basic, login, params


@pytest.fixture
def settings() -> AccessSettings:
    return AccessSettings(pair_max_failures=3, address_max_failures=5)


def test_pair_lockout_does_not_extend_and_ends(client, clock):
    for _ in range(3):
        assert login(client, *ADMIN[:1], "wrong-password-000").status_code == 401
    locked = login(client, *ADMIN)  # the right password is refused while locked
    assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
    clock.advance(seconds=30)
    assert login(client, ADMIN[0], "wrong-password-000").headers["retry-after"] == "30"  # not extended
    clock.advance(seconds=31)
    assert login(client, *ADMIN).status_code == 303


def test_other_addresses_are_unaffected_and_basic_auth_counts(app, client, clock):
    for _ in range(3):
        client.get("/x", headers=basic("admin", "wrong-password-000"))
    assert client.get("/x", headers=basic(*ADMIN)).status_code == 429
    with TestClient(app, client=("10.0.0.9", 1), follow_redirects=False) as elsewhere:
        assert elsewhere.get("/x", headers=basic(*ADMIN)).status_code == 200


def test_address_lockout_covers_every_account_and_tokens(app, client, clock):
    for index in range(5):
        login(client, f"guess{index}", "wrong-password-000")
    assert client.get("/x", headers={"Authorization": "Bearer whatever"}).status_code == 429
    assert login(client, *ADMIN).status_code == 429


def test_lockout_survives_a_restart(app, engine, upstreams, clock, settings, client):
    from dagster_platform.access.app import create_app

    for _ in range(3):
        login(client, ADMIN[0], "wrong-password-000")
    restarted = create_app(engine, upstreams["full"], upstreams["read_only"], settings, clock)
    with TestClient(restarted, follow_redirects=False) as again:
        assert login(again, *ADMIN).status_code == 429


def test_websocket_operations_are_judged_and_tagged(client, directory):
    directory.set_account("vera", role="viewer", password=PASSWORD)
    directory.set_account("lena", role="launcher", password=PASSWORD)
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"], headers=basic("vera", PASSWORD)) as ws:
        ws.send_json({"type": "start", "id": "1", "payload": {"query": "subscription { x }"}})
        assert ws.receive_json()["payload"]["upstream"] == "read_only"
        ws.send_json({"type": "start", "id": "2", "payload": {"query": LAUNCH, "variables": params()}})
        refused = ws.receive_json()
        assert refused["type"] == "error" and "needs the launcher role" in refused["payload"]["message"]
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"], headers=basic("lena", PASSWORD)) as ws:
        ws.send_json({"type": "start", "id": "3", "payload": {"query": LAUNCH, "variables": params()}})
        got = ws.receive_json()["payload"]["got"]["payload"]
        assert got["variables"]["p"]["executionMetadata"]["tags"] == [{"key": "launched_by", "value": "lena"}]


def test_websocket_without_credentials_is_closed(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
            ws.receive_json()
