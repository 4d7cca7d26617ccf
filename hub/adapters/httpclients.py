"""HTTP clients for the adapters that POST to a receiver, one per delivery thread.

``ThreadClients``: one httpx client per thread. A shared client's connection pool takes a lock
on every request, contended by every delivery thread; a client per thread keeps its own
keep-alive connection. ``close`` closes them all.

``ThreadPosts``: one keep-alive ``http.client`` connection per thread, for a delivery's POST.
Measured on this project's machine, an ``httpx.Client.post`` of a 2 KB envelope to a local
receiver costs the sender ~0.95 ms of CPU, the same POST over ``http.client`` ~0.22 ms: at a few
hundred deliveries a second that difference was the largest cost left in a worker. The POST
keeps what the httpx client gave it: the same timeout on connecting and on every read and
write, TLS verified with httpx's own context (its CA bundle, ``SSL_CERT_FILE``), no redirects
followed, and a connection the receiver closed while idle is not reused. A URL for which the
environment names a proxy (``HTTPS_PROXY``, ``ALL_PROXY``...) is not sent this way:
``ThreadPosts.usable`` says so, and the adapter keeps its httpx client for it.

``ThreadPosts(..., addresses=...)`` pins where a new connection goes: it connects to one of the
addresses that callable returns (asked once per new connection, so a check of those addresses,
such as the webhook adapter's SSRF check, covers exactly the address connected to), while the
URL's host name still names the server for TLS (SNI, certificate verification) and the Host
header. Without it, the host is resolved by the socket layer as usual.

A receiver's answer is read up to ``ANSWER_LIMIT_BYTES`` and no further, by both clients: a
delivery keeps only the start of it as the receipt, and a receiver (or anything between) that
answers with a huge or endless body must not fill the worker's memory. A connection whose answer
was not read to its end is closed, not reused.
"""
from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import httpx


# Receipts keep 2,000 characters and error texts 300: four bytes a character covers any UTF-8.
ANSWER_LIMIT_BYTES = 8192


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class ThreadClients(Generic[C]):
    def __init__(self, make: Callable[[], C]) -> None:
        self._make = make
        self._local = threading.local()
        self._clients: list[C] = []
        self._lock = threading.Lock()

    def get(self) -> C:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._make()
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


@dataclass(frozen=True)
class Answer:
    """A receiver's answer to a POST: its status and the start of its body (``truncated`` when
    the body went on past what was read)."""

    status_code: int
    content: bytes
    charset: str | None
    truncated: bool = False

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")


class ThreadPosts:
    """POSTs to one URL over a keep-alive connection per thread. Failures to connect, send or
    read raise ``httpx.TransportError`` (the error the httpx client raised for them)."""

    def __init__(self, url: str, *, timeout: float, headers: dict[str, str] | None = None,
                 addresses: Callable[[], Sequence[str]] | None = None) -> None:
        parsed = httpx.URL(url)
        self._https = parsed.scheme == "https"
        self._host = parsed.host
        self._port = parsed.port
        self._target = parsed.raw_path.decode("ascii")
        self._timeout = timeout
        self._headers = {"Accept": "*/*", **(headers or {})}
        self._ssl: ssl.SSLContext | None = httpx.create_ssl_context() if self._https else None
        self._addresses = addresses
        self._connections: ThreadClients[http.client.HTTPConnection] = ThreadClients(self._connect)

    @staticmethod
    def usable(url: str) -> bool:
        """False when the environment routes ``url`` through a proxy (httpx honours that)."""
        parsed = httpx.URL(url)
        proxies = urllib.request.getproxies()
        if not (proxies.get(parsed.scheme) or proxies.get("all")):
            return True
        return bool(urllib.request.proxy_bypass(parsed.host))

    def post(self, body: bytes | Iterable[bytes], headers: dict[str, str]) -> Answer:
        conn = self._connection()
        try:
            conn.request("POST", self._target, body=body, headers=self._merged(headers))
            response = conn.getresponse()
            content = response.read(ANSWER_LIMIT_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise _transport_error(exc) from exc
        truncated = len(content) > ANSWER_LIMIT_BYTES or not response.isclosed()
        if truncated or response.will_close:
            conn.close()  # the rest of the answer is still on the wire
        return Answer(response.status, content[:ANSWER_LIMIT_BYTES], response.headers.get_content_charset(),
                      truncated)

    def _merged(self, headers: dict[str, str]) -> dict[str, str]:
        """The route's headers, then the request's, a name given twice (in any case) once."""
        given = {name.lower() for name in headers}
        return {**{k: v for k, v in self._headers.items() if k.lower() not in given}, **headers}

    def _connect(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._https:
            conn = _HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._ssl)
        else:
            conn = _HTTPConnection(self._host, self._port, timeout=self._timeout)
        if self._addresses is not None:
            # http.client opens every socket (first connection and each reconnect) through
            # this attribute; TLS is wrapped afterwards with server_hostname=self.host.
            conn._create_connection = _pinned_connect(self._addresses)  # type: ignore[attr-defined]
        return conn

    def _connection(self) -> http.client.HTTPConnection:
        conn = self._connections.get()
        if conn.sock is not None and _closed_by_peer(conn.sock):
            conn.close()  # reconnects on the next request
        return conn

    def close(self) -> None:
        self._connections.close()


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        # The headers and each part of the body are separate writes: without this, Nagle's
        # algorithm holds a part back until the receiver acknowledges the previous one.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _pinned_connect(addresses: Callable[[], Sequence[str]]) -> Callable[..., socket.socket]:
    """``socket.create_connection`` that ignores the host it is given and connects to the
    first of ``addresses()`` that answers, on the same port."""

    def create_connection(address: tuple[str, int], timeout: float | None = None,
                          source_address: tuple[str, int] | None = None) -> socket.socket:
        port = address[1]
        failure: OSError | None = None
        for ip in addresses():
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                failure = exc
        raise failure or OSError(f"no address to connect to for {address[0]}")

    return create_connection


def post_limited(client: httpx.Client, url: str, *, content: bytes | Iterable[bytes],
                 headers: dict[str, str]) -> Answer:
    """``client.post`` that reads the answer up to ``ANSWER_LIMIT_BYTES``; the rest is not read
    and the connection is closed rather than kept. The answer is asked for uncompressed: a small
    compressed chunk can inflate to many megabytes before the limit is checked."""
    headers = {**headers, "Accept-Encoding": "identity"}
    with client.stream("POST", url, content=content, headers=headers) as response:
        content = bytearray()
        truncated = False
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > ANSWER_LIMIT_BYTES:
                truncated = True
                break
        # Leaving the block unread closes the connection instead of returning it to the pool.
        return Answer(response.status_code, bytes(content[:ANSWER_LIMIT_BYTES]), response.charset_encoding,
                      truncated)


def _transport_error(exc: BaseException) -> httpx.TransportError:
    """The httpx error for a failure, so a delivery's error text names it as before."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return httpx.TimeoutException(text)
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)):
        return httpx.ConnectError(text)
    if isinstance(exc, (OSError, http.client.RemoteDisconnected)):
        return httpx.NetworkError(f"{type(exc).__name__}: {text}")
    return httpx.RemoteProtocolError(f"{type(exc).__name__}: {text}")


def _closed_by_peer(sock: object) -> bool:
    """An idle keep-alive socket that is readable has been closed (or answered out of turn)
    by the receiver: sending on it would fail, or worse, after the request went out."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
