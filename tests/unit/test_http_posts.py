"""The delivery POST over http.client (hub/adapters/httpclients.py): keep-alive reuse, a
connection the receiver closed while idle is not reused, failures raise the httpx errors the
adapter turns into retryable delivery errors, a proxied URL keeps the httpx client, and an answer
is read only up to ANSWER_LIMIT_BYTES, whichever client reads it."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hub.adapters.httpclients import ANSWER_LIMIT_BYTES, ThreadPosts, post_limited

FLOOD_BYTES = 64 * 1024 * 1024


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[int, dict[str, str], bytes]] = []
    close_after: set[int] = set()
    flood_cut = False

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len(self.seen)
        self.seen.append((self.client_address[1], {k.lower(): v for k, v in self.headers.items()}, body))
        if body in (b"flood", b"flood-chunked"):
            self._flood(chunked=body == b"flood-chunked")
            return
        answer = "ใบรับ".encode("tis-620") if body == b"thai" else b'{"ok":true}'
        self.send_response(503 if body == b"busy" else 202)
        self.send_header("Content-Type", "text/plain; charset=tis-620" if body == b"thai" else "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if n in self.close_after:
            self.close_connection = True  # closes after answering, without saying so

    def _flood(self, *, chunked: bool) -> None:
        """A 2xx whose body goes on for 64 MiB: the sender must stop reading long before."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(FLOOD_BYTES))
        self.end_headers()
        piece = b"x" * 65536
        try:
            for _ in range(FLOOD_BYTES // len(piece)):
                self.wfile.write(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the sender hung up, as it should
            Receiver.flood_cut = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.seen, Receiver.close_after, Receiver.flood_cut = [], set(), False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/inbox?x=1"
    server.shutdown()
    server.server_close()


def _eventually(condition, seconds: float = 20) -> bool:  # noqa: ANN001
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def post(posts: ThreadPosts, body: bytes, **headers: str):  # noqa: ANN201
    return posts.post(iter((body[:1], body[1:])), {"Content-Length": str(len(body)), **headers})


def test_posts_reuse_one_connection_and_send_the_body_and_headers(receiver):
    posts = ThreadPosts(receiver, timeout=5, headers={"X-Api-Key": "k", "content-type": "text/plain"})
    answers = [post(posts, f"message {i}".encode(), **{"Content-Type": "application/json"}) for i in range(3)]
    posts.close()
    assert [a.status_code for a in answers] == [202] * 3 and all(a.is_success for a in answers)
    assert answers[0].text == '{"ok":true}'
    assert [body for _, _, body in Receiver.seen] == [b"message 0", b"message 1", b"message 2"]
    assert len({port for port, _, _ in Receiver.seen}) == 1  # kept alive
    headers = Receiver.seen[0][1]
    assert headers["x-api-key"] == "k" and headers["content-type"] == "application/json"


def test_a_connection_the_receiver_closed_is_not_reused(receiver):
    Receiver.close_after = {0}
    posts = ThreadPosts(receiver, timeout=5)
    first = post(posts, b"one")
    threading.Event().wait(0.2)  # the receiver's close reaches this side
    second = post(posts, b"two")
    posts.close()
    assert first.is_success and second.is_success
    assert [body for _, _, body in Receiver.seen] == [b"one", b"two"]  # each delivered once
    assert Receiver.seen[0][0] != Receiver.seen[1][0]  # on a new connection


def test_an_answer_is_decoded_with_its_charset_and_a_failure_is_not_success(receiver):
    posts = ThreadPosts(receiver, timeout=5)
    assert post(posts, b"thai").text == "ใบรับ"
    busy = post(posts, b"busy")
    posts.close()
    assert busy.status_code == 503 and not busy.is_success


@pytest.mark.parametrize("flood", [b"flood", b"flood-chunked"])
def test_a_flooding_answer_is_read_only_to_the_limit_and_its_connection_dropped(receiver, flood):
    posts = ThreadPosts(receiver, timeout=5)
    answer = post(posts, flood)
    after = post(posts, b"next")
    posts.close()
    assert answer.is_success and answer.truncated and answer.content == b"x" * ANSWER_LIMIT_BYTES
    assert after.is_success and not after.truncated and after.text == '{"ok":true}'
    assert Receiver.seen[0][0] != Receiver.seen[1][0]  # the flooded connection was not reused
    assert _eventually(lambda: Receiver.flood_cut)  # the receiver could not write its 64 MiB: the sender hung up


@pytest.mark.parametrize("flood", [b"flood", b"flood-chunked"])
def test_the_httpx_path_also_reads_only_to_the_limit(receiver, flood):
    with httpx.Client(timeout=5) as client:
        answer = post_limited(client, receiver, content=flood, headers={})
        after = post_limited(client, receiver, content=b"next", headers={})
    assert answer.is_success and answer.truncated and answer.content == b"x" * ANSWER_LIMIT_BYTES
    assert after.text == '{"ok":true}' and not after.truncated
    assert Receiver.seen[0][1]["accept-encoding"] == "identity"
    assert _eventually(lambda: Receiver.flood_cut)


def test_an_unreachable_receiver_raises_the_httpx_connect_error():
    with pytest.raises(httpx.ConnectError):
        post(ThreadPosts("http://127.0.0.1:9/inbox", timeout=2), b"x")


def test_a_url_the_environment_sends_through_a_proxy_keeps_httpx(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert ThreadPosts.usable("https://agency.example/inbox")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not ThreadPosts.usable("https://agency.example/inbox")
    assert ThreadPosts.usable("http://agency.example/inbox")
    monkeypatch.setenv("NO_PROXY", "agency.example")
    assert ThreadPosts.usable("https://agency.example/inbox")


def _server_certificate(directory) -> tuple[str, str]:  # noqa: ANN001
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "receiver.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "receiver.pem", directory / "receiver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_https_is_verified_with_the_trust_httpx_uses(tmp_path, monkeypatch):
    """An untrusted certificate is refused before anything is sent; trusted through
    SSL_CERT_FILE (as httpx honours it) the POST goes through."""
    import ssl

    Receiver.seen, Receiver.close_after = [], set()
    cert, key = _server_certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/inbox"
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        with pytest.raises(httpx.ConnectError):
            post(ThreadPosts(url, timeout=5), b"untrusted")
        monkeypatch.setenv("SSL_CERT_FILE", cert)
        posts = ThreadPosts(url, timeout=5)
        assert post(posts, b"trusted").is_success
        posts.close()
    finally:
        server.shutdown()
        server.server_close()
    assert [body for _, _, body in Receiver.seen] == [b"trusted"]
