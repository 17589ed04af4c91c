"""The gateway end to end against real Postgres and two fake upstream webservers: who gets
in (session, token, basic), where they go, what they may send, and what is recorded."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from dagster_platform.access import store
from dagster_platform.access.app import COOKIE, create_app

from .conftest import ADMIN
from tooling.loopback import free_port

LAUNCH = "mutation L($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename } }"
WIPE = 'mutation { wipeAssets(assetPartitionRanges: [{assetKey: {path: ["orders"]}}]) { __typename } }'
PASSWORD = "a-long-enough-password"


def params(location: str = "orders_and_sales") -> dict:
    return {"p": {"selector": {"repositoryLocationName": location, "repositoryName": "r", "jobName": "daily"}}}


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def graphql(client: TestClient, query: str, variables: dict | None = None, **headers: str):
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def login(client: TestClient, name: str, password: str, next_path: str = "/runs"):
    return client.post("/login", data={"name": name, "password": password, "next": next_path})


def audit_rows(engine, event: str = "mutation") -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(store.audit).where(store.audit.c.event == event).order_by(store.audit.c.id)).all()


def test_the_first_admin_comes_from_the_environment_and_basic_auth_still_works(client):
    response = graphql(client, "{ version }", **basic(*ADMIN))
    assert response.status_code == 200 and response.json()["upstream"] == "full"
    forwarded = response.json()["headers"]
    assert "authorization" not in forwarded and "cookie" not in forwarded


def test_no_credentials_api_gets_401_browser_goes_to_login(client):
    assert graphql(client, "{ version }").status_code == 401
    page = client.get("/runs?x=1", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/runs%3Fx%3D1"
    assert client.get("/login").status_code == 200


def test_login_sets_a_strict_cookie_and_sign_out_ends_the_session(client, directory):
    directory.set_account("vera", role="viewer", password=PASSWORD)
    response = login(client, "vera", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    token = response.cookies[COOKIE]
    assert client.get("/anything", headers={"Cookie": f"{COOKIE}={token}"}).text == "read_only GET /anything?"
    assert client.post("/logout", headers={"Cookie": f"{COOKIE}={token}"}).status_code == 303
    assert client.get("/anything", headers={"Cookie": f"{COOKIE}={token}"}).status_code == 401


def test_cookie_is_secure_under_https_and_next_cannot_leave_the_site(app, directory):
    with TestClient(app, base_url="https://gateway.test", follow_redirects=False) as secure:
        response = login(secure, *ADMIN, next_path="//evil.example/x")
        assert "Secure" in response.headers["set-cookie"] and response.headers["location"] == "/"


def test_wrong_password_and_unknown_account_look_the_same(client):
    wrong, unknown = login(client, "admin", "wrong-password-000"), login(client, "nobody", "wrong-password-000")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text == unknown.text and "wrong name, password or token" in wrong.text
    assert graphql(client, "{ version }", **basic("admin", "nope")).status_code == 401


def test_session_ends_after_the_idle_timeout_and_lives_while_used(client, clock, directory):
    token = login(client, *ADMIN).cookies[COOKIE]
    for _ in range(3):  # used every 11 h: stays alive past 12 h in total
        clock.advance(hours=11)
        assert client.get("/x", headers={"Cookie": f"{COOKIE}={token}"}).status_code == 200
    clock.advance(hours=12, seconds=1)
    assert client.get("/x", headers={"Cookie": f"{COOKIE}={token}"}).status_code == 401


def test_api_token_works_until_revoked(client, directory):
    directory.set_account("lena", role="launcher", password=PASSWORD)
    token_id, token = directory.create_token("lena")
    bearer = {"Authorization": f"Bearer {token}"}
    assert graphql(client, "{ version }", **bearer).json()["upstream"] == "full"
    assert directory.revoke_tokens("lena", token_id) == 1
    assert graphql(client, "{ version }", **bearer).status_code == 401


def test_token_use_is_audited_once_per_interval(client, directory, engine, clock):
    directory.set_account("lena", role="launcher", password=PASSWORD)
    _, token = directory.create_token("lena")
    for _ in range(3):  # a polling script: one entry, not three
        assert graphql(client, "{ version }", Authorization=f"Bearer {token}").status_code == 200
    clock.advance(minutes=10, seconds=1)
    assert graphql(client, "{ version }", Authorization=f"Bearer {token}").status_code == 200
    rows = audit_rows(engine, "token")
    assert [(r.account, r.via, r.outcome) for r in rows] == [("lena", "token", "ok")] * 2


def test_healthz_needs_no_login_and_follows_the_full_webserver(client, app):
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_healthz_is_503_while_the_webserver_is_down(engine, upstreams, clock, settings):
    down = f"http://127.0.0.1:{free_port()}"
    app = create_app(engine, down, upstreams["read_only"], settings, clock, bootstrap=ADMIN)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 503


def test_deleting_an_account_ends_its_sessions_and_tokens_at_once(client, directory):
    directory.set_account("lena", role="launcher", password=PASSWORD)
    session = login(client, "lena", PASSWORD).cookies[COOKIE]
    _, token = directory.create_token("lena")
    assert client.get("/x", headers={"Cookie": f"{COOKIE}={session}"}).status_code == 200
    assert directory.delete_account("lena")
    assert client.get("/x", headers={"Cookie": f"{COOKIE}={session}"}).status_code == 401
    assert client.get("/x", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_viewer_is_refused_a_launch_with_403_and_it_is_audited(client, directory, engine):
    directory.set_account("vera", role="viewer", password=PASSWORD)
    response = graphql(client, LAUNCH, params(), **basic("vera", PASSWORD))
    assert response.status_code == 403
    assert "needs the launcher role" in response.json()["errors"][0]["message"]
    [row] = audit_rows(engine)
    assert (row.account, row.role, row.outcome, row.fields, row.locations) == (
        "vera", "viewer", "refused", ["launchRun"], ["orders_and_sales"],
    )  # fmt: skip
    assert row.targets["jobs"] == ["daily"] and row.address == "testclient"


def test_launcher_launch_is_tagged_forwarded_and_audited_wipe_refused(client, directory, engine):
    directory.set_account("lena", role="launcher", password=PASSWORD, locations=["orders_and_sales"])
    auth = basic("lena", PASSWORD)
    response = graphql(client, LAUNCH, params(), **auth)
    assert response.status_code == 200
    forwarded = response.json()["body"]
    assert forwarded["variables"]["p"]["executionMetadata"]["tags"] == [{"key": "launched_by", "value": "lena"}]
    assert graphql(client, LAUNCH, params("platform"), **auth).status_code == 403
    wipe = graphql(client, WIPE, **auth)
    assert wipe.status_code == 403 and "needs the admin role" in wipe.json()["errors"][0]["message"]
    rows = audit_rows(engine)
    assert [(r.outcome, r.fields) for r in rows] == [
        ("allowed", ["launchRun"]), ("refused", ["launchRun"]), ("refused", ["wipeAssets"]),
    ]  # fmt: skip
    assert rows[2].targets == {"assets": ["orders"]}


def test_admin_mutation_is_allowed_and_audited(client, engine):
    stop = 'mutation { stopSensor(id: "file_sensor") { __typename } }'
    assert graphql(client, stop, **basic(*ADMIN)).status_code == 200
    [row] = audit_rows(engine)
    assert (row.account, row.role, row.outcome, row.via) == ("admin", "admin", "allowed", "basic")


def test_graphql_needs_json_and_rest_writes_need_admin(client, directory):
    directory.set_account("lena", role="launcher", password=PASSWORD)
    auth = basic("lena", PASSWORD)
    form = client.post("/graphql", content="query={version}", headers={**auth, "Content-Type": "text/plain"})
    assert form.status_code == 415
    assert client.get("/graphql", params={"query": WIPE}, headers=auth).status_code == 405
    assert client.post("/report_asset_materialization/orders", headers=auth).status_code == 403
    assert client.post("/report_asset_materialization/orders", headers=basic(*ADMIN)).status_code == 200


@pytest.mark.parametrize(
    "name", ["robert'); DROP TABLE platform_access.accounts; --", 'x" OR "1"="1', "名前 with spaces\tand tab"]
)
def test_hostile_names_are_just_names(client, directory, engine, name):
    directory.set_account(name, role="viewer", password=PASSWORD)
    assert graphql(client, "{ version }", **basic(name, PASSWORD)).json()["upstream"] == "read_only"
    assert graphql(client, LAUNCH, params(), **basic(name, PASSWORD)).status_code == 403
    assert login(client, name, "wrong-password-000").status_code == 401
    assert [a.name for a in directory.list_accounts()] == sorted(["admin", name])
    assert audit_rows(engine)[0].account == name


def test_admin_sees_the_audit_page_others_do_not(client, directory):
    directory.set_account("vera", role="viewer", password=PASSWORD)
    graphql(client, WIPE, **basic("vera", PASSWORD))
    page = client.get("/audit", headers=basic(*ADMIN))
    assert page.status_code == 200 and "wipeAssets" in page.text and "vera" in page.text
    assert client.get("/audit", headers=basic("vera", PASSWORD)).status_code == 403
