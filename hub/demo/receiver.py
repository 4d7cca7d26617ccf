"""A simulated agency inbox: an HTTP endpoint that applies each message once.

It honours ``Idempotency-Key`` the way the hub asks every receiver to: a repeated key is
acknowledged again but not applied again. It can be switched "down" (answers 503) to show
retries.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class AgencyInbox:
    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        self.applied: dict[str, dict[str, Any]] = {}
        self.received = Counter[str]()
        self.refused_while_down = 0
        self.duplicates = 0
        self.down = False
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key", "")
                status, answer = inbox.handle(key, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_HEAD(self) -> None:  # noqa: N802
                self.send_response(503 if inbox.down else 200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return  # the demo prints its own summary

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"inbox-{name}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/inbox"

    def handle(self, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if not key:
            return 400, {"error": "Idempotency-Key header is required"}
        with self._lock:
            self.received[key] += 1
            if self.down:
                self.refused_while_down += 1
                return 503, {"error": f"{self.name} is down for maintenance"}
            if key in self.applied:
                self.duplicates += 1
                return 200, {"receipt": self.applied[key]["receipt"], "duplicate": True}
            try:
                document = json.loads(body)
            except ValueError:
                return 400, {"error": "body is not JSON"}
            receipt = f"{self.name}-{len(self.applied) + 1:06d}"
            self.applied[key] = {"receipt": receipt, "document": document}
        return 200, {"receipt": receipt}

    def start(self) -> AgencyInbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> AgencyInbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
