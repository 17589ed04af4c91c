"""End to end: people, not a password (issue 23), on the real stack through the published
port, as a colleague's browser and a script reach it.

Accounts are made with `make user` / `make token` exactly as docs/security.md says; the
roles are enforced by the gateway on the GraphQL API (HTTP and websocket), viewers are
served by the ``--read-only`` webserver, a launch carries ``launched_by``, and `make audit`
shows who did what. The browser test signs in on the login page and out again. The
gateway's rules in detail (throttle windows, idle expiry, every role/mutation pair) are
unit-tested on a simulated clock in tests/unit/access/; here each is shown once for real.
"""

from __future__ import annotations

import base64
import http.client
import json
import uuid

import pytest
from dagster_graphql import DagsterGraphQLClient
from websockets.sync.client import connect

from .browser import chromium, sign_in
from .conftest import LOCATION, UI, Stack
from .waits import REPOSITORY, wait_run_success

pytestmark = pytest.mark.e2e

PARTITION = "2024-01-02"


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def post_graphql(authorization: str, query: str, variables: dict | None = None) -> tuple[int, dict]:
    """One GraphQL POST through the proxy: (HTTP status, JSON body; a plain-text refusal
    such as 401's as ``{"text": ...}``)."""
    connection = http.client.HTTPConnection("127.0.0.1", 3000, timeout=60)
    headers = {"Authorization": authorization, "Origin": UI, "Content-Type": "application/json"}
    try:
        connection.request("POST", "/graphql", json.dumps({"query": query, "variables": variables or {}}), headers)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        try:
            return response.status, json.loads(body)
        except json.JSONDecodeError:
            return response.status, {"text": body}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def people(stack: Stack):
    """A viewer (password from stdin) and a launcher limited to orders_and_sales (generated
    password, and an API token); deleted at the end."""
    suffix = uuid.uuid4().hex[:6]
    viewer, launcher = f"e2e-viewer-{suffix}", f"e2e-launcher-{suffix}"
    viewer_password = f"viewer-password-{suffix}"
    created = stack.make("user", f"NAME={viewer}", "ROLE=viewer", stdin=viewer_password + "\n").stdout
    assert f"{viewer}: viewer" in created and "password (shown once)" not in created, created
    created = stack.make("user", f"NAME={launcher}", "ROLE=launcher", f"LOCATIONS={LOCATION}").stdout
    assert f"{launcher}: launcher in {LOCATION}" in created and "password (shown once): " in created, created
    token = stack.make("token", f"NAME={launcher}").stdout.strip().splitlines()[-1]
    yield {"viewer": (viewer, basic(viewer, viewer_password)), "launcher": (launcher, f"Bearer {token}")}
    for name in (viewer, launcher):
        stack.make("user", f"NAME={name}", "DELETE=1")


def launch_mutation() -> tuple[str, dict]:
    query = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename } }"""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": "daily_sales_job"}
    return query, {
        "p": {"selector": selector, "executionMetadata": {"tags": [{"key": "dagster/partition", "value": PARTITION}]}}
    }


def test_a_viewer_sees_everything_and_changes_nothing(stack: Stack, people):
    name, authorization = people["viewer"]
    viewer = stack.signed_in(authorization)
    # Reads work, from Dagster's read-only webserver: it grants no permission at all.
    assert viewer.graphql("{ version }")["version"]
    permissions = {
        p["permission"]: p["value"] for p in viewer.graphql("{ permissions { permission value } }")["permissions"]
    }
    assert permissions.get("launch_pipeline_execution") is False and not any(permissions.values()), permissions
    admin_permissions = {
        p["permission"]: p["value"] for p in stack.graphql("{ permissions { permission value } }")["permissions"]
    }
    assert admin_permissions["launch_pipeline_execution"] is True
    # A mutation is refused by the gateway with 403 naming the role needed, over HTTP ...
    status, body = post_graphql(authorization, *launch_mutation())
    assert status == 403 and "launcher" in body["errors"][0]["message"], (status, body)
    # ... and over the GraphQL websocket, as the UI would send it.
    with connect(
        "ws://127.0.0.1:3000/graphql",
        subprotocols=["graphql-ws"],
        additional_headers={"Authorization": authorization, "Origin": UI},
        open_timeout=30,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        query, variables = launch_mutation()
        socket.send(json.dumps({"type": "start", "id": "1", "payload": {"query": query, "variables": variables}}))
        replies = [json.loads(socket.recv(timeout=30)) for _ in range(2)]
    refusal = next(r for r in replies if r.get("id") == "1")
    assert refusal["type"] == "error" and "launcher" in refusal["payload"]["message"], replies
    audit = stack.make("audit", "LIMIT=200").stdout
    refused = [line for line in audit.splitlines() if name in line and "refused" in line]
    assert any("launchRun" in line for line in refused) and any("websocket" in line for line in refused), audit


def test_a_launcher_launches_with_a_token_and_the_run_says_who(stack: Stack, people):
    name, authorization = people["launcher"]
    # The Python client as docs/security.md shows it: a personal token in a header.
    client = DagsterGraphQLClient("127.0.0.1", port_number=3000, headers={"Authorization": authorization, "Origin": UI})
    run_id = client.submit_job_execution(
        "daily_sales_job", repository_location_name=LOCATION, repository_name=REPOSITORY,
        tags={"dagster/partition": PARTITION},
    )  # fmt: skip
    run = wait_run_success(stack, run_id)
    assert {t["key"]: t["value"] for t in run["tags"]}.get("launched_by") == name, run["tags"]
    # The Runs page filters on it: the run is found by its tag.
    found = stack.graphql(
        "query($t: [ExecutionTag!]) { runsOrError(filter: {tags: $t}) { ... on Runs { results { runId } } } }",
        {"t": [{"key": "launched_by", "value": name}]},
    )
    assert run_id in [r["runId"] for r in found["runsOrError"]["results"]]
    # Sensors and schedules are the admins'.
    status, body = post_graphql(
        authorization,
        """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }""",
        {"s": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": "file_sensor"}},
    )
    assert status == 403 and "admin" in body["errors"][0]["message"], (status, body)
    audit = stack.make("audit", "LIMIT=200").stdout
    assert any(name in line and "allowed" in line and "launch" in line for line in audit.splitlines()), audit


def test_deleting_an_account_ends_its_token_at_once(stack: Stack):
    name = f"e2e-leaver-{uuid.uuid4().hex[:6]}"
    stack.make("user", f"NAME={name}", "ROLE=launcher")
    authorization = "Bearer " + stack.make("token", f"NAME={name}").stdout.strip().splitlines()[-1]
    assert post_graphql(authorization, "{ version }")[0] == 200
    assert f"deleted {name}" in stack.make("user", f"NAME={name}", "DELETE=1").stdout
    assert post_graphql(authorization, "{ version }")[0] == 401


def test_five_wrong_passwords_lock_that_account_from_that_address(stack: Stack):
    name, password = f"e2e-guessed-{uuid.uuid4().hex[:6]}", "the-right-password-0123"
    stack.make("user", f"NAME={name}", "ROLE=viewer", stdin=password + "\n")
    try:
        statuses = [post_graphql(basic(name, f"wrong-{i}"), "{ version }")[0] for i in range(5)]
        assert statuses == [401] * 5, statuses
        connection = http.client.HTTPConnection("127.0.0.1", 3000, timeout=30)
        connection.request("GET", "/server_info", headers={"Authorization": basic(name, password)})
        response = connection.getresponse()
        assert response.status == 429 and int(response.getheader("Retry-After")) > 0, response.status
        connection.close()
        # The lock-out is this account's from this address: the admin still gets in.
        assert stack.graphql("{ version }")["version"]
        audit = stack.make("audit", "LIMIT=50").stdout
        assert any(name in line and "throttled" in line for line in audit.splitlines()), audit
    finally:
        stack.make("user", f"NAME={name}", "DELETE=1")


def test_signing_in_and_out_in_a_browser(stack: Stack, request):
    """The login page in headless Chromium: the UI after signing in, the cookie's flags, and
    signing out ends the session."""
    with chromium(request) as browser:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, stack, "/runs")
        page.get_by_text("Runs", exact=False).first.wait_for(timeout=30_000)
        cookie = next(c for c in context.cookies() if c["name"] == "dagster_platform_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        page.goto(f"{UI}/logout")
        page.click("button[type=submit]")
        page.wait_for_url(f"{UI}/login", timeout=30_000)
        page.goto(f"{UI}/runs")
        assert "/login" in page.url, "signed out, yet the UI still opened"
