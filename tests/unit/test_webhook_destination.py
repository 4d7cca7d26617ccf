"""Where a webhook delivery connects: to an address the SSRF check approved (a DNS answer that
changes between check and connect cannot send the hub to loopback), resolved again for a new
connection but not for each request on a kept-alive one, and over https still verifying the
certificate for the URL's host name; behind a proxy, the name is checked before each attempt."""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.adapters.base import SUBSCRIPTIONS
from hub.adapters.webhook import WebhookAdapter, WebhookSettings
from hub.errors import DeliveryError
from tests.support.conformance import outbound
from tests.support.webhooks import WebhookSubscriber

HOST = "hooks.agency.example"
PUBLIC = "93.184.216.34"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class _Secrets:
    def signing_secrets(self, subscription_id: str) -> list[str]:
        return [SECRET]

    def suspend(self, subscription_id: str, reason: str) -> None:
        raise AssertionError("no subscription is suspended here")


class FakeDns:
    """``socket.getaddrinfo`` for HOST answering each address of ``answers`` in turn (the last
    one from then on); every other name goes to the real resolver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
        self.answers = list(answers)
        self.asked = 0
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
            if host != HOST:
                return real(host, port, *args, **kwargs)
            address = self.answers[min(self.asked, len(self.answers) - 1)]
            self.asked += 1
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def adapter(url: str, *, allow_loopback: bool = False) -> WebhookAdapter:
    hook = WebhookAdapter(WebhookSettings(url=url, subscription_id="s1", allow_loopback=allow_loopback,
                                          timeout_seconds=5))
    hook.bind_resources({SUBSCRIPTIONS: _Secrets()})
    return hook


def message() -> Any:
    return outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1", {"per_cardno": "1101700203450"})


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port nothing should ever connect to."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def test_a_dns_answer_that_turns_to_loopback_after_the_check_never_reaches_loopback(monkeypatch, listener):
    port = listener.getsockname()[1]
    dns = FakeDns(monkeypatch, PUBLIC, "127.0.0.1")
    connected: list[str] = []
    real_connect = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address[0])
        try:
            if not ipaddress.ip_address(address[0]).is_loopback:
                raise ConnectionRefusedError("no traffic leaves this machine in tests")
        except ValueError:  # a host name: resolved here, the second answer (loopback)
            pass
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    hook = adapter(f"https://{HOST}:{port}/hooks/hr")
    try:
        with pytest.raises(DeliveryError) as first:
            hook.send(message())
        # The hub connected to the address it checked, resolved once, and that failure is retried.
        assert connected == [PUBLIC] and dns.asked == 1
        assert not first.value.permanent
        # The retry is a new connection: the name is checked again, and its loopback answer refused.
        with pytest.raises(DeliveryError, match="destination refused") as second:
            hook.send(message())
        assert second.value.permanent and connected == [PUBLIC] and dns.asked == 2
    finally:
        hook.close()
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected to the loopback listener


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ports: list[int] = []
    close_next = False

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        KeepAlive.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        if KeepAlive.close_next:
            self.send_header("Connection", "close")
            KeepAlive.close_next = False
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keep_alive() -> Iterator[int]:
    KeepAlive.ports, KeepAlive.close_next = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_kept_alive_connection_is_not_resolved_again_a_new_one_is(monkeypatch, keep_alive):
    # Plain http goes only to a name for loopback (tests, demo): "localhost", resolved here.
    hook = adapter(f"http://localhost:{keep_alive}/hook", allow_loopback=True)
    real = socket.getaddrinfo
    asked: list[str] = []

    def counting(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host == "localhost":
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    try:
        hook.send(message())
        KeepAlive.close_next = True
        hook.send(message())  # same connection, which the subscriber then closes
        hook.send(message())  # a new connection
    finally:
        hook.close()
    assert KeepAlive.ports[0] == KeepAlive.ports[1] != KeepAlive.ports[2]
    assert asked == ["localhost", "localhost"]  # once per connection, not per request


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_subscriber(tmp_path: Path) -> Iterator[tuple[WebhookSubscriber, Path]]:
    cert, key = _self_signed(tmp_path)
    hook = WebhookSubscriber("tls")
    hook.secrets = [SECRET]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = hook._server  # noqa: SLF001 - the test subscriber, served over TLS here
    server.socket = context.wrap_socket(server.socket, server_side=True)
    hook.start()
    yield hook, cert
    hook.stop()


def test_an_https_delivery_to_the_pinned_address_still_verifies_the_hosts_certificate(monkeypatch,
                                                                                       https_subscriber):
    hook_server, cert = https_subscriber
    port = int(hook_server.url.rsplit(":", 1)[1].split("/")[0])
    FakeDns(monkeypatch, "127.0.0.1")
    url = f"https://{HOST}:{port}/hooks/tls"
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    untrusting = adapter(url, allow_loopback=True)
    try:
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.send(message())
    finally:
        untrusting.close()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the subscriber's certificate trusted
    trusting = adapter(url, allow_loopback=True)
    sent = message()
    try:
        trusting.send(sent)
    finally:
        trusting.close()
    assert sent.id in hook_server.applied
    assert hook_server.requests[-1]["headers"]["host"] == f"{HOST}:{port}"


def test_behind_a_proxy_the_destination_is_still_checked_before_each_attempt(monkeypatch, listener):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    # A proxy on a loopback port that records nothing: the hub must refuse before reaching it.
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    FakeDns(monkeypatch, "10.0.0.5")
    hook = adapter(f"https://{HOST}/hooks/hr")
    try:
        with pytest.raises(DeliveryError, match="destination refused") as refused:
            hook.send(message())
    finally:
        hook.close()
    assert refused.value.permanent
    with pytest.raises(BlockingIOError):
        listener.accept()
