"""Admission control for accepts: answer 503 with Retry-After instead of queueing without bound.

Above the sustainable rate every accept waited its turn for the database, so latency grew
without limit (p99 over 100 s at twice that rate). Here at most ``HUB_ACCEPT_CONCURRENCY``
accepts (``POST /v1/messages``) are in flight; the next waits at most ``HUB_ACCEPT_WAIT_SECONDS``
for a slot and is otherwise refused with 503 and ``Retry-After``, so a client learns at once
to come back, and the accepted ones keep a bounded latency. ``/readyz`` reports
``admission: saturated`` while accepts are being refused, so a load balancer sends new work
elsewhere. A database that does not answer is a 503 with ``Retry-After`` too
(``hub.api.errors``).
"""
from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.api.responses import FastJSONResponse
from hub.errors import Unavailable

ADMITTED = (("POST", "/v1/messages"),)
SATURATED_FOR = 5.0  # /readyz says saturated for this long after a refusal


class Admission:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._slots: asyncio.Semaphore | None = None
        self._refused_at = 0.0

    def saturated(self) -> bool:
        return time.monotonic() - self._refused_at < SATURATED_FOR

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in ADMITTED:
            await self.app(scope, receive, send)
            return
        hub = scope["app"].state.hub
        if hub is None:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # the first accept: /readyz finds this middleware from now on
            scope["app"].state.admission = self
            self._slots = asyncio.Semaphore(hub.settings.accept_concurrency)
        try:
            if self._slots.locked():  # a free slot is taken at once, without a timer
                async with asyncio.timeout(hub.settings.accept_wait_seconds):
                    await self._slots.acquire()
            else:
                await self._slots.acquire()
        except TimeoutError:
            self._refused_at = time.monotonic()
            refusal = Unavailable("the hub is accepting as many messages as it can; try again shortly",
                                  retry_after=1)
            await FastJSONResponse(refusal.as_dict(), status_code=503,
                                   headers={"Retry-After": str(refusal.retry_after)})(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()
