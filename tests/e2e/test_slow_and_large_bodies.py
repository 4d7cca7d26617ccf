"""Finding 4 against a real ``hub serve``: slow headers and bodies are cut, large bodies are
refused before they are buffered (issue 12)."""
from __future__ import annotations

import socket
import threading
import time

import psutil
import pytest

from hub.bootstrap import build_hub
from tests.conftest import fast_settings
from tests.support.hubproc import HubProcess

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("slow")
    settings = fast_settings(data / "data")
    build_hub(settings).close()
    proc = HubProcess(settings, data / "hub.log", env={"HUB_HEADER_TIMEOUT_SECONDS": "2",
                                                       "HUB_BODY_TIMEOUT_SECONDS": "3"}).start()
    yield proc
    proc.stop()


def _connect(server) -> socket.socket:  # noqa: ANN001
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return data
        if not chunk:
            return data
        data += chunk


def test_headers_sent_one_byte_at_a_time_are_cut(server):
    sock = _connect(server)
    start = time.monotonic()
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    closed_after = None
    for byte in request:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - start
            break
        sock.settimeout(0.5)
        try:
            if sock.recv(1) == b"":
                closed_after = time.monotonic() - start
                break
        except TimeoutError:
            pass
    sock.close()
    assert closed_after is not None and closed_after < 10, "the server kept a slow-header connection open"


@pytest.mark.parametrize("reads", [1, 25])
def test_headers_past_the_bound_are_refused_and_the_connection_closed(server, reads):
    from hub.api.serving import MAX_HEADER_BYTES

    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (3 * MAX_HEADER_BYTES) + b"\r\n\r\n"
    sock = _connect(server)
    step = len(request) // reads + 1
    answer = b""
    try:
        for start in range(0, len(request), step):
            sock.sendall(request[start:start + step])
            time.sleep(0.02)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed while the headers were still arriving
    sock.settimeout(10)
    answer = _read_all(sock)
    sock.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:80]
    # Headers within the bound still pass on a new connection.
    sock = _connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fine: " + b"a" * 20_000 + b"\r\n\r\n")
    sock.settimeout(10)
    assert _read_all(sock).startswith(b"HTTP/1.1 200")
    sock.close()


def test_a_body_sent_one_byte_every_few_seconds_is_cut_with_408(server):
    sock = _connect(server)
    sock.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    start = time.monotonic()
    answer = b""
    sock.settimeout(0.2)
    while time.monotonic() - start < 20 and not answer:
        try:
            sock.sendall(b" ")
        except (BrokenPipeError, ConnectionResetError):
            break
        deadline = time.monotonic() + 1.5  # one byte every 1.5 s: never idle long, never done
        while time.monotonic() < deadline and not answer:
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            if answer == b"":
                break
    elapsed = time.monotonic() - start
    sock.settimeout(5)
    answer += _read_all(sock)  # the rest, up to the close the server announced
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request_timeout" in answer and elapsed < 10


def test_a_huge_declared_body_is_refused_before_it_is_read(server):
    sock = _connect(server)
    sock.sendall(b"POST /v1/access-rights HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 104857600\r\n\r\n" + b" " * 65536)
    sock.settimeout(10)
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413") and b"payload_too_large" in answer


def test_eight_parallel_100_mb_bodies_without_length_do_not_grow_memory(server):
    """Chunked bodies (no Content-Length) to small JSON routes: each is cut at 1 MiB."""
    proc = psutil.Process(server.proc.pid)
    before = proc.memory_info().rss
    peak = [before]
    answers: list[bytes] = []

    def post() -> None:
        sock = _connect(server)
        sock.sendall(b"POST /v1/access-rights HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b" " * (256 * 1024)
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            for _ in range(400):  # 100 MB
                sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(10)
        try:
            answers.append(sock.recv(65536))
        except (ConnectionResetError, TimeoutError):
            answers.append(b"")
        sock.close()

    def sample(stop: threading.Event) -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(stop,))
    sampler.start()
    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    stop.set()
    sampler.join()
    assert any(a.startswith(b"HTTP/1.1 413") for a in answers), answers
    assert peak[0] - before < 100 * MIB, f"RSS grew by {(peak[0] - before) / MIB:.0f} MiB"


def _response(sock: socket.socket, *, head_only: bool = False) -> tuple[bytes, bytes]:
    """One response off a keep-alive connection: its head and (unless ``head_only``) its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if head_only:
        return head, body
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_answers_on_one_connection_arrive_whole_head_continue_and_all(server):
    """The head goes out with the body (``HeadWithBody``); a HEAD answer has no body and a 100
    Continue comes before the request's body: neither waits for a write that does not come."""
    sock = _connect(server)
    sock.settimeout(10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = _response(sock)
    assert head.startswith(b"HTTP/1.1 200") and body.startswith(b"{")
    sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = _response(sock, head_only=True)
    assert head.startswith(b"HTTP/1.1 ") and rest == b""
    form = b"grant_type=client_credentials&client_id=nobody&client_secret=wrong"
    sock.sendall(b"POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Expect: 100-continue\r\nContent-Length: " + str(len(form)).encode() + b"\r\n\r\n")
    head, rest = _response(sock, head_only=True)
    assert head.startswith(b"HTTP/1.1 100") and rest == b""
    sock.sendall(form)
    head, body = _response(sock)
    assert head.startswith(b"HTTP/1.1 401") and b"invalid_client" in body
    sock.close()
