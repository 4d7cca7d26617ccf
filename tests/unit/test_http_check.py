"""`hub adapters check` for the http adapter asks in a way a POST-only receiver answers."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hub.adapters.registry import AdapterRegistry


class PostOnlyInbox(BaseHTTPRequestHandler):
    """Like many agency inboxes: POST only; HEAD and GET (but /health) answer 501/404."""

    def do_POST(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def inbox() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PostOnlyInbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def check(**settings: object):  # noqa: ANN201
    with AdapterRegistry().build("http", settings) as adapter:
        return adapter.check()


def test_a_post_only_receiver_is_healthy(inbox: str) -> None:
    assert httpx.head(f"{inbox}/inbox").status_code == 501  # what the old HEAD check called unhealthy
    health = check(url=f"{inbox}/inbox")
    assert health.ok and "accepts connections" in health.detail


def test_the_health_url_is_asked_when_set(inbox: str) -> None:
    assert check(url=f"{inbox}/inbox", health_url=f"{inbox}/health").ok
    missing = check(url=f"{inbox}/inbox", health_url=f"{inbox}/nothing-here")
    assert not missing.ok and "HTTP 404" in missing.detail


def test_a_closed_port_is_unhealthy() -> None:
    health = check(url="http://127.0.0.1:9/inbox", timeout_seconds=1)
    assert not health.ok and "127.0.0.1:9 does not accept connections" in health.detail
