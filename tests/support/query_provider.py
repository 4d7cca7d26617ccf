"""A provider's query endpoint on loopback, for the ``http`` adapter's query side.

``ProviderServer().answer`` is what it answers next: a JSON document, ``"garbage"``,
``"huge"`` (more than any test service's limit; ``"huge-unannounced"`` without a
Content-Length), ``"error"`` (HTTP 500), ``"forbidden"`` (HTTP 403) or ``"hold"``
(nothing until ``release`` is set: a provider that hangs, without a timed test).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ProviderServer:
    def __init__(self, answer: Any = None) -> None:
        self.answer: Any = answer if answer is not None else {"fields": {}}
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                answer = server.answer
                if answer == "hold":
                    server.release.wait(30)
                    answer = {"fields": {}}
                status, body = 200, b""
                if answer == "garbage":
                    body = b"<html>not json"
                elif answer in ("huge", "huge-unannounced"):
                    body = b'{"fields": {"x": "' + b"a" * 200_000 + b'"}}'
                elif answer == "error":
                    status, body = 500, b'{"message": "database down"}'
                elif answer == "forbidden":
                    status, body = 403, b'{"message": "the hub may not ask us this"}'
                else:
                    body = json.dumps(answer, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    if answer != "huge-unannounced":  # HTTP/1.0: without a length the body ends at close
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the hub stopped listening: it cut the answer off or timed out

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/query"

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
