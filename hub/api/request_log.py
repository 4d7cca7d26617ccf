"""One ``http.request`` story line per request, with its duration.

The path is the route's template (``/v1/persons/{citizen_id}``) when the request matched one,
so the values in a URL — a citizen's ID above all — do not reach the log; an unmatched path
is logged as sent, with any 13-digit number masked (hub.logging_setup.redact).

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it adds no task or
copy of the body per request, and streamed answers pass through untouched.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from hub.logging_setup import story

log = story("hub.api.requests")
# Asked on every request whether its line is wanted: the standard logger answers from its
# cache, where asking the structlog proxy first bound (or fetched) a logger to ask it.
_level = logging.getLogger("hub.api.requests")


class RequestLog:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _level.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            log.info("http.request", method=scope["method"], path=getattr(route, "path", None) or scope["path"],
                     status=status["code"], duration_ms=round((time.perf_counter() - started) * 1000, 1))
