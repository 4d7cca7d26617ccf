"""A webhook subscriber for tests: verifies each request with the ``standardwebhooks`` library
(the counterpart a real subscriber uses), applies each ``webhook-id`` once, and can be told to
be down (503), gone (410) or broken (500)."""
from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class WebhookSubscriber:
    def __init__(self, name: str) -> None:
        self.name = name
        self.secrets: list[str] = []
        self.mode = "up"  # up | down (503) | gone (410) | broken (500)
        self.down_for = 0  # answer 503 to this many more requests, then come up
        self.requests: list[dict[str, Any]] = []  # every request: headers and raw body
        self.applied: dict[str, Any] = {}  # webhook-id -> the verified body, applied once
        self.applied_order: list[str] = []
        self.seen = Counter()
        self.bad_signatures = 0
        self._lock = threading.Lock()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = subscriber.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/{name}"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append({"headers": {k.lower(): v for k, v in headers.items()}, "body": body})
            if self.mode == "gone":
                return 410
            if self.mode == "broken":
                return 500
            if self.mode == "down" or self.down_for > 0:
                self.down_for = max(0, self.down_for - 1)
                return 503
            if not self.verify(headers, body):
                self.bad_signatures += 1
                return 401
            webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
            self.seen[webhook_id] += 1
            if webhook_id not in self.applied:  # the subscriber's own idempotency, by webhook-id
                self.applied[webhook_id] = orjson.loads(body)
                self.applied_order.append(webhook_id)
            return 200

    def verify(self, headers: dict[str, str], body: bytes, secrets: list[str] | None = None) -> bool:
        for secret in secrets if secrets is not None else self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def start(self) -> WebhookSubscriber:
        threading.Thread(target=self._server.serve_forever, daemon=True, name=f"webhook-{self.name}").start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
