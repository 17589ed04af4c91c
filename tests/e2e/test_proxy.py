"""End to end, the UI proxy alone (infra/proxy): its image as compose builds it, run with
the flags and mounts compose gives it, in front of a stand-in `gateway` on a throwaway
Docker network. Needs only a Docker engine, not the stack.

1. on loopback: plain HTTP; Authorization and Cookie reach the gateway unchanged, with
   X-Forwarded-For / -Proto set by the proxy; /healthz and the health check follow the gateway;
2. the anti-CSRF rules (Host 421, Origin 403, GraphQL 405/415, websocket Origin);
3. beyond loopback: HTTPS with a self-signed certificate kept in its volume over restarts
   and re-creation, HTTP redirected to https, HSTS; or with the certificate named in .env;
4. plain HTTP beyond loopback only with DAGSTER_ALLOW_PLAIN_HTTP=1; bad TLS settings stop
   the proxy with a message naming the variable to fix.

The stand-in gateway echoes each request (method, path, headers) as JSON and answers a
websocket upgrade with 101, so the tests see exactly what nginx forwards.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .session import require_docker
from tooling.stack import ROOT, Stack

pytestmark = pytest.mark.e2e

STAND_IN_IMAGE = "python:3.11-slim-bookworm"
COMPOSE_PROXY = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["proxy"]
DEFAULTED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}")  # ${NAME:-default}
ECHO_GATEWAY = """
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                           "body": self.rfile.read(length).decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

ThreadingHTTPServer(("0.0.0.0", 8080), Echo).serve_forever()
"""


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str

    def echoed(self) -> dict:
        """What the stand-in gateway received."""
        assert self.status == 200, (self.status, self.body)
        return json.loads(self.body)


def request(
    port: int,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    tls: bool = False,
) -> Response:
    """One request to the proxy's published port, with exactly these headers (Host included)."""
    sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # certificates: served_certificate()
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=30, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read(65536).decode(errors="replace") if response.status != 101 else ""
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
    finally:
        connection.close()


def served_certificate(port: int) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ssl.get_server_certificate(("127.0.0.1", port)).encode())


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex().upper()


def handshake(port: int, certificate: x509.Certificate, hostname: str) -> None:
    """A TLS handshake that trusts only ``certificate`` and checks it names ``hostname``."""
    context = ssl.create_default_context(cadata=certificate.public_bytes(serialization.Encoding.PEM).decode())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=hostname):
            pass


@dataclass
class Proxy:
    container: str

    @property
    def port(self) -> int:
        """The host port docker published :8080 on (it may change over a restart)."""
        return int(docker("port", self.container, "8080/tcp").stdout.splitlines()[0].rsplit(":", 1)[1])

    def logs(self) -> str:
        result = docker("logs", self.container, check=False)
        return result.stdout + result.stderr

    def health_check(self) -> subprocess.CompletedProcess:
        """The health check compose runs in the container."""
        kind, *command = COMPOSE_PROXY["healthcheck"]["test"]
        assert kind == "CMD", COMPOSE_PROXY["healthcheck"]
        return docker("exec", self.container, *command, check=False)

    def wait_until_serving(self, timeout: float = 60) -> Proxy:
        """Until nginx answers HTTP on the port (on an HTTPS port too: 301 or 400). An open
        port is not enough: docker's port forwarder accepts before nginx listens."""
        deadline = time.monotonic() + timeout
        while True:
            running = docker("inspect", "-f", "{{.State.Running}}", self.container).stdout.strip() == "true"
            assert running, f"the proxy exited:\n{self.logs()}"
            try:
                request(self.port, "GET", "/healthz", {"Host": "localhost"})
                return self
            except (OSError, http.client.HTTPException):
                pass
            assert time.monotonic() < deadline, f"the proxy did not answer within {timeout} s:\n{self.logs()}"
            time.sleep(0.2)

    def restart(self) -> Proxy:
        docker("restart", "-t", "5", self.container)
        return self.wait_until_serving()


@dataclass
class Sandbox:
    """A throwaway network with a stand-in gateway; removes all it made, containers,
    network and volumes, however the test ends."""

    image: str
    name: str = field(default_factory=lambda: f"proxy-test-{uuid.uuid4().hex[:8]}")
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        return f"{self.name}-gateway"

    def start_gateway(self) -> None:
        docker("network", "create", self.name)
        docker(
            "run", "-d", "--name", self.gateway, "--network", self.name, "--network-alias", "gateway",
            STAND_IN_IMAGE, "python", "-c", ECHO_GATEWAY,
        )  # fmt: skip
        self.containers.append(self.gateway)
        # Until it answers: on a busy machine Python takes seconds to start, and a proxy
        # asked before then answers 502 for it.
        probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/', timeout=2)"
        deadline = time.monotonic() + 60
        while docker("exec", self.gateway, "python", "-c", probe, check=False).returncode != 0:
            assert time.monotonic() < deadline, (
                f"the stand-in gateway did not answer within 60 s:\n{docker('logs', self.gateway, check=False).stderr}"
            )
            time.sleep(0.2)

    def volume(self) -> str:
        name = f"{self.name}-tls-{len(self.volumes)}"
        docker("volume", "create", name)
        self.volumes.append(name)
        return name

    def proxy_args(
        self, env: dict[str, str], cert: Path | None = None, key: Path | None = None, volume: str | None = None
    ) -> tuple[str, list[str]]:
        """`docker run` arguments from docker-compose.yml's proxy service: its hardening,
        read-only root and tmpfs, its mounts (cert and key as DAGSTER_TLS_CERT_FILE /
        DAGSTER_TLS_KEY_FILE would give them, the certificate volume: ``volume`` or a new
        one), ``env`` (only variables compose passes it); :8080 on a free loopback port."""
        unknown = set(env) - set(COMPOSE_PROXY["environment"])
        assert not unknown, f"docker-compose.yml does not pass {unknown} to the proxy"
        name = f"{self.name}-proxy-{len(self.containers)}"
        self.containers.append(name)
        args = ["--name", name, "--network", self.name, "-p", "127.0.0.1::8080"]
        if COMPOSE_PROXY.get("read_only"):
            args.append("--read-only")
        for option in ("tmpfs", "cap_drop", "security_opt"):
            for value in COMPOSE_PROXY.get(option, []):
                args += [f"--{option.replace('_', '-')}", value]
        files = {"DAGSTER_TLS_CERT_FILE": cert, "DAGSTER_TLS_KEY_FILE": key}
        for mount in COMPOSE_PROXY["volumes"]:
            source, target = DEFAULTED.sub(lambda m: str(files[m[1]] or m[2]), mount).split(":", 1)
            if not source.startswith("/"):  # a named volume: this test's own
                source = volume or self.volume()
            args += ["-v", f"{source}:{target}"]
        for variable, value in env.items():
            args += ["-e", f"{variable}={value}"]
        return name, [*args, self.image]

    def proxy(self, **kwargs) -> Proxy:
        name, args = self.proxy_args(**kwargs)
        docker("run", "-d", *args)
        return Proxy(name).wait_until_serving()

    def refused(self, **kwargs) -> str:
        """Start a proxy that must refuse to start: its exit message."""
        _, args = self.proxy_args(**kwargs)
        result = docker("run", *args, check=False, timeout=60)
        assert result.returncode != 0, f"the proxy started:\n{result.stdout}{result.stderr}"
        return result.stderr

    def remove(self) -> None:
        for container in self.containers:
            docker("rm", "-f", "-v", container, check=False)
        for volume in self.volumes:
            docker("volume", "rm", "-f", volume, check=False)
        docker("network", "rm", self.name, check=False)


@pytest.fixture(scope="module")
def image(request) -> str:
    """The proxy image, built from docker-compose.yml's definition."""
    require_docker(request.config, "proxy tests")
    stack = Stack.from_env()
    stack.compose("build", "proxy", timeout=900)
    return stack.env_image("proxy")


@pytest.fixture
def sandbox(image: str) -> Iterator[Sandbox]:
    sandbox = Sandbox(image)
    try:
        sandbox.start_gateway()
        yield sandbox
    finally:
        sandbox.remove()


def self_signed(tmp_path: Path, hostname: str) -> tuple[x509.Certificate, Path, Path]:
    """An operator's certificate and key files (the key readable by the proxy's uid 33)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{hostname}.crt", tmp_path / f"{hostname}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o644)
    return certificate, cert_file, key_file


def logged_fingerprint(proxy: Proxy) -> str:
    found = re.findall(r"proxy: HTTPS; certificate sha256 Fingerprint=([0-9A-F:]+)", proxy.logs())
    assert found, proxy.logs()
    return found[-1].replace(":", "")


LOOPBACK = {"DAGSTER_BIND_ADDRESS": "127.0.0.1"}
BEYOND = {"DAGSTER_BIND_ADDRESS": "0.0.0.0", "DAGSTER_UI_HOSTS": "ui.example.test"}


# --- 1. loopback: plain HTTP, credentials pass through --------------------------------------
def test_on_loopback_plain_http_passes_the_credentials_to_the_gateway(sandbox: Sandbox):
    proxy = sandbox.proxy(env=LOOPBACK)
    sent = {
        "Authorization": "Bearer dg_token-123",
        "Cookie": "dagster_session=abc.def; other=1",
        "X-Forwarded-For": "203.0.113.9",  # a client's claim: kept, the proxy appends the real peer
        "X-Forwarded-Proto": "https",  # a client's claim: replaced
    }
    response = request(proxy.port, "GET", "/runs?view=all", sent)
    seen = response.echoed()
    assert (seen["method"], seen["path"]) == ("GET", "/runs?view=all")
    headers = seen["headers"]
    assert headers["Authorization"] == sent["Authorization"]
    assert headers["Cookie"] == sent["Cookie"]
    assert headers["Host"] == f"127.0.0.1:{proxy.port}"
    assert headers["X-Forwarded-Proto"] == "http"
    claimed, peer = headers["X-Forwarded-For"].split(", ")
    assert claimed == "203.0.113.9" and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", peer), headers["X-Forwarded-For"]
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["server"] == "nginx"  # server_tokens off: no version
    # A POST body reaches the gateway too (the login form).
    form = request(proxy.port, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, b"u=a&p=b")
    assert form.echoed()["body"] == "u=a&p=b"


def test_health_follows_the_gateway(sandbox: Sandbox):
    proxy = sandbox.proxy(env=LOOPBACK)
    health = request(proxy.port, "GET", "/healthz")
    assert health.echoed()["path"] == "/healthz"  # answered by the gateway, not by nginx
    assert proxy.health_check().returncode == 0, proxy.health_check().stderr

    docker("stop", "-t", "1", sandbox.gateway)
    assert request(proxy.port, "GET", "/healthz").status in (502, 503, 504)
    assert proxy.health_check().returncode != 0

    docker("start", sandbox.gateway)  # found again without restarting the proxy (resolver)
    deadline = time.monotonic() + 60
    while request(proxy.port, "GET", "/healthz").status != 200:
        assert time.monotonic() < deadline, "the proxy did not find the restarted gateway within 60 s"
        time.sleep(0.5)
    assert proxy.health_check().returncode == 0


# --- 2. anti-CSRF rules ----------------------------------------------------------------------
def test_host_origin_and_graphql_rules_still_hold(sandbox: Sandbox):
    proxy = sandbox.proxy(env=LOOPBACK)
    port, ui = proxy.port, f"http://127.0.0.1:{proxy.port}"
    json_type = {"Content-Type": "application/json"}
    query = b'{"query": "{ version }"}'
    assert request(port, "GET", "/", {"Host": f"evil.example:{port}"}).status == 421
    assert request(port, "GET", "/healthz", {"Host": "evil.example"}).status == 421
    for origin in ("http://evil.example", "null", f"http://127.0.0.1.evil.example:{port}"):
        assert request(port, "POST", "/graphql", {**json_type, "Origin": origin}, query).status == 403, origin
    assert request(port, "GET", "/graphql?query=mutation%20%7B%20x%20%7D").status == 405
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        assert request(port, "POST", "/graphql", {"Content-Type": content_type}, query).status == 415, content_type
    assert request(port, "POST", "/graphql", {**json_type, "Origin": ui}, query).echoed()["body"] == query.decode()
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    assert request(port, "GET", "/graphql", {**upgrade, "Origin": "http://evil.example"}).status == 403
    assert request(port, "GET", "/graphql", {**upgrade, "Origin": ui}).status == 101


# --- 3. HTTPS beyond loopback ----------------------------------------------------------------
def test_beyond_loopback_a_self_signed_certificate_is_made_once_and_kept(sandbox: Sandbox):
    volume = sandbox.volume()
    proxy = sandbox.proxy(env=BEYOND, volume=volume)
    assert "made a self-signed certificate" in proxy.logs()
    certificate = served_certificate(proxy.port)
    assert fingerprint(certificate) == logged_fingerprint(proxy)
    handshake(proxy.port, certificate, "ui.example.test")
    handshake(proxy.port, certificate, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(proxy.port, certificate, "other.example.test")

    response = request(proxy.port, "GET", "/runs", {"Cookie": "dagster_session=x"}, tls=True)
    assert response.echoed()["headers"]["X-Forwarded-Proto"] == "https"
    assert response.echoed()["headers"]["Cookie"] == "dagster_session=x"
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert request(proxy.port, "GET", "/", {"Host": "evil.example"}, tls=True).status == 421
    # Plain HTTP on the HTTPS port: sent to the same address over https.
    redirect = request(proxy.port, "GET", "/runs?view=all", {"Host": f"ui.example.test:{proxy.port}"})
    assert redirect.status == 301, redirect
    assert redirect.headers["location"] == f"https://ui.example.test:{proxy.port}/runs?view=all"
    assert proxy.health_check().returncode == 0  # the check's own port stays plain HTTP

    proxy.restart()
    assert fingerprint(served_certificate(proxy.port)) == fingerprint(certificate)
    docker("rm", "-f", proxy.container)
    recreated = sandbox.proxy(env=BEYOND, volume=volume)
    assert fingerprint(served_certificate(recreated.port)) == fingerprint(certificate)
    assert "made a self-signed certificate" not in recreated.logs()
    # Another host name: a certificate that names it.
    docker("rm", "-f", recreated.container)
    renamed = sandbox.proxy(env={**BEYOND, "DAGSTER_UI_HOSTS": "dagster.example.test"}, volume=volume)
    handshake(renamed.port, served_certificate(renamed.port), "dagster.example.test")
    assert fingerprint(served_certificate(renamed.port)) != fingerprint(certificate)


@pytest.mark.parametrize("bind", ["0.0.0.0", "127.0.0.1"])
def test_the_certificate_named_in_env_is_served(sandbox: Sandbox, tmp_path: Path, bind: str):
    certificate, cert, key = self_signed(tmp_path, "ui.example.test")
    proxy = sandbox.proxy(env={**BEYOND, "DAGSTER_BIND_ADDRESS": bind}, cert=cert, key=key)
    assert fingerprint(served_certificate(proxy.port)) == fingerprint(certificate) == logged_fingerprint(proxy)
    handshake(proxy.port, certificate, "ui.example.test")
    response = request(proxy.port, "GET", "/", tls=True)
    assert response.echoed()["headers"]["X-Forwarded-Proto"] == "https"
    assert "strict-transport-security" in response.headers


def test_tls_on_serves_https_on_loopback_too(sandbox: Sandbox):
    proxy = sandbox.proxy(env={**LOOPBACK, "DAGSTER_UI_TLS": "on"})
    handshake(proxy.port, served_certificate(proxy.port), "localhost")
    assert request(proxy.port, "GET", "/", tls=True).echoed()["headers"]["X-Forwarded-Proto"] == "https"
    assert request(proxy.port, "GET", "/").status == 301


# --- 4. plain HTTP beyond loopback, bad settings --------------------------------------------
def test_plain_http_beyond_loopback_only_with_the_opt_out(sandbox: Sandbox):
    plain = {**BEYOND, "DAGSTER_UI_TLS": "off"}
    message = sandbox.refused(env=plain)
    assert "DAGSTER_ALLOW_PLAIN_HTTP=1" in message and "refusing plain HTTP" in message, message

    proxy = sandbox.proxy(env={**plain, "DAGSTER_ALLOW_PLAIN_HTTP": "1"})
    response = request(proxy.port, "GET", "/")
    assert response.echoed()["headers"]["X-Forwarded-Proto"] == "http"
    assert "strict-transport-security" not in response.headers


def test_bad_tls_settings_stop_the_proxy_naming_what_to_fix(sandbox: Sandbox, tmp_path: Path):
    _, cert, key = self_signed(tmp_path, "ui.example.test")
    _, other_cert, _ = self_signed(tmp_path, "other.example.test")
    unreadable = tmp_path / "unreadable.key"
    unreadable.write_bytes(key.read_bytes())
    unreadable.chmod(0o600)  # owned by the test's user, not the proxy's group
    named = {"env": BEYOND}
    cases: list[tuple[str, dict]] = [
        ("DAGSTER_TLS_CERT_FILE is set but DAGSTER_TLS_KEY_FILE is not", {**named, "cert": cert}),
        ("DAGSTER_TLS_KEY_FILE is set but DAGSTER_TLS_CERT_FILE is not", {**named, "key": key}),
        ("DAGSTER_TLS_KEY_FILE is not the key of DAGSTER_TLS_CERT_FILE", {**named, "cert": other_cert, "key": key}),
        ("DAGSTER_TLS_KEY_FILE: the proxy (uid 33) cannot read it", {**named, "cert": cert, "key": unreadable}),
        ("DAGSTER_TLS_CERT_FILE names no file on the host", {**named, "cert": tmp_path / "missing.crt", "key": key}),
        ("DAGSTER_UI_TLS must be auto, on or off", {"env": {**BEYOND, "DAGSTER_UI_TLS": "yes"}}),
        (
            "DAGSTER_UI_TLS=off, yet DAGSTER_TLS_CERT_FILE names a certificate",
            {"env": {**LOOPBACK, "DAGSTER_UI_TLS": "off"}, "cert": cert, "key": key},
        ),
    ]
    for expected, settings in cases:
        message = sandbox.refused(**settings)
        assert expected in message, (expected, message)
