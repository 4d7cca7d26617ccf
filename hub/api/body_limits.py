"""A body limit per route, enforced while the body streams in, before anything buffers it;
and a deadline for the body, so a slow sender cannot hold a request open for ever.

FastAPI reads a JSON body whole before it runs a route's dependencies, authentication
included; without a limit, 100 MB posted to ``/v1/access-rights`` held ~300 MiB of an
anonymous caller's data. Here every request gets a limit from its path: the payload limit for
the routes that carry payloads (``/v1/messages``, ``/v1/standards``), a small one for logins,
a modest one for every other JSON route. A declared ``Content-Length`` over the limit is
refused with 413 before one byte is read; a body that grows past it while streaming is cut
at that point (``body_deadline`` counts, as Starlette's ``RequestBodyLimitMiddleware`` did, and
raises the same 413 that ``hub.api.errors`` answers). The e-CMS node counts its own SOAP bodies (``HUB_ECMS_MAX_REQUEST_BYTES``).

The body must arrive within ``HUB_BODY_TIMEOUT_SECONDS`` plus one second per 100 KiB it
declares (or may send); a body sent one byte every 5 s is cut there with 408 and the
connection closed. Headers are timed by ``hub serve``'s protocol (``hub.api.serving``).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Generator
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.responses import FastJSONResponse
from hub.config import Settings

ENVELOPE_OVERHEAD = 64 * 1024  # the envelope around a payload, and JSON escaping of small ones
LOGIN_LIMIT = 16 * 1024  # a client id and secret, a username and password
JSON_LIMIT = 1024 * 1024  # registry, access rights, routes, persons, telework cases
SMALL = ("/v1/auth/token", "/v1/auth/login", "/v1/auth/validate", "/v1/auth/logout")
PAYLOADS = ("/v1/messages", "/v1/standards")
SELF_LIMITED = ("/ecms/",)
BYTES_PER_SECOND = 100 * 1024  # the slowest sender a large body is allowed to be


def body_limit(path: str, settings: Settings) -> int | None:
    """The most bytes a request to ``path`` may send; ``None`` when the route counts them itself."""
    if path.startswith(SELF_LIMITED):
        return None
    if path in SMALL:
        return LOGIN_LIMIT
    if path.startswith(PAYLOADS):
        return settings.max_payload_bytes + ENVELOPE_OVERHEAD
    return JSON_LIMIT


def too_large(limit: int, path: str) -> FastJSONResponse:
    return FastJSONResponse({"code": "payload_too_large", "limit": limit, "errors": [],
                             "message": f"the request body exceeds the limit of {limit} bytes for {path}"},
                            status_code=413, headers={"Connection": "close"})


def body_deadline(scope: Scope, receive: Receive, seconds: float, limit: int | None = None) -> Receive:
    """``receive`` that answers 408 (Connection: close) once the body is not in by ``seconds``,
    and 413 once more than ``limit`` bytes of it arrived (``None``: the route counts them).

    The count is Starlette's ``RequestBodyLimitMiddleware``'s, done here: that middleware wrapped
    ``receive`` and ``send`` once more for every request, on top of this wrapper. Its 413 is the
    same ``HTTPException``, answered by the app's handler (``hub.api.errors``) from the limit it
    finds in the scope under the same key."""
    deadline = time.monotonic() + seconds
    done = False
    received = 0
    if limit is not None:
        scope[MAX_BODY_SIZE_SCOPE_KEY] = limit

    async def timed() -> Message:
        nonlocal done, received
        if done:
            return await receive()  # after the body: only a disconnect is left to wait for
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            message = await within(receive(), left)
        except TimeoutError:
            raise HTTPException(408, f"the request body did not arrive within {seconds:.0f} s",
                                headers={"Connection": "close"}) from None
        if message["type"] != "http.request":
            done = True
            return message
        if limit is not None:
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, "Content Too Large")
        if not message.get("more_body", False):
            done = True
        return message
    return timed


async def within(reading: Coroutine[Any, Any, Message], seconds: float) -> Message:
    """``reading``'s message, or ``TimeoutError`` once it has waited ``seconds``.

    The timer is armed only if the read has to wait: a small body usually arrives with its
    headers, and the server answers its first read at once; an ``asyncio.timeout`` armed and
    cancelled around that read was about 3.5 us of the event loop per accept."""
    try:
        waiting_on = reading.send(None)
    except StopIteration as ready:
        return ready.value
    async with asyncio.timeout(seconds):  # a timer, not wait_for's task per read
        return await _Resumed(reading, waiting_on)


class _Resumed:
    """Awaits the rest of a coroutine that was started by hand and is waiting on ``waiting_on``:
    what ``await`` would have done had it started it (results sent in, errors thrown in, the
    task's cancellation included)."""

    def __init__(self, coro: Coroutine[Any, Any, Message], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Message]:
        waiting_on = self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except BaseException as exc:  # handed on to the coroutine, as await does
                resume, value = self._coro.throw, exc
            else:
                resume, value = self._coro.send, sent
            try:
                waiting_on = resume(value)
            except StopIteration as done:
                return done.value


def content_length(scope: Scope) -> int | None:
    """The declared Content-Length, if it is a number (read off the raw headers)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value.strip()
            return int(declared) if declared.isdigit() else None
    return None


class BodyLimits:
    """Outermost of the app's own middleware; the limits follow the serving hub's settings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hub = scope["app"].state.hub
        if hub is None:  # an app not serving yet (its lifespan builds the hub): nothing to protect
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        settings = hub.settings
        limit = body_limit(path, settings)
        size = content_length(scope)
        if limit is not None and size is not None and size > limit:
            await too_large(limit, path)(scope, receive, send)  # not one byte of the body is read
            return
        expected = size if size is not None else (limit if limit is not None else settings.ecms.max_request_bytes)
        receive = body_deadline(scope, receive, settings.body_timeout_seconds + expected / BYTES_PER_SECOND, limit)
        await self.app(scope, receive, send)
