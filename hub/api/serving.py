"""``hub serve``'s HTTP protocol: uvicorn's httptools protocol with a deadline and a size
bound for request headers.

uvicorn times out idle keep-alive connections, but not a client that sends its request line
and headers one byte at a time (any byte cancels the keep-alive timer): such connections
stayed open for ever. Here every connection must complete a request's headers within
``HUB_HEADER_TIMEOUT_SECONDS`` of opening (or of its previous response); otherwise it is
closed. The body's deadline is the application's (``hub.api.body_limits``).

httptools (llhttp, in C) rather than h11: parsing requests and writing responses with the
pure-Python h11 was a third of the API process's CPU on ``POST /v1/messages``. llhttp puts
no bound on the size of the headers, so this protocol does: a request whose headers pass
``MAX_HEADER_BYTES`` is answered 400 and the connection closed, as h11's own bound did (and
no more than that plus one read is buffered while they arrive).

:class:`QuietServer`: uvicorn's server without its ten wake-ups a second while idle.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from itertools import chain
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.main import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 32 * 1024
JOIN_BYTES = 64 * 1024  # a body up to this size leaves in the same write as the response head


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._in_headers = True  # reading a request's headers (or waiting for them)
        self._header_bytes = 0  # bytes read while they were incomplete
        self._requests = 0
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        requests = self._requests
        super().data_received(data)
        # Counted only when this read began and ended inside one request's headers: a read that
        # carried a body, or the start of the next request, is never taken for headers.
        if self._in_headers and requests == self._requests and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._disarm()
                self.send_400_response(f"Request headers exceed {MAX_HEADER_BYTES} bytes.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._requests += 1
        self._in_headers = True
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_headers = False
        # Headers that arrived in one read were not counted above: measure them here (the
        # parser's error ends the request with uvicorn's 400 and closes the connection).
        # Each header counted as its name and value plus ": " and CRLF, summed without a
        # Python-level loop (this runs on every request).
        headers = self.headers
        if len(self.url) + 4 * len(headers) + sum(map(len, chain.from_iterable(headers))) > MAX_HEADER_BYTES:
            raise ValueError(f"request headers exceed {MAX_HEADER_BYTES} bytes")
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = HeadWithBody(self.transport, self.cycle, self.loop)
        if not self._waiting_for_headers():  # a request's headers are in: the body has its own deadline
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class HeadWithBody:
    """A response cycle's transport that sends the response head with the body's first write.

    uvicorn writes a response's status line and headers, then its body, as two writes: two
    ``send`` system calls and two TCP segments for every small answer, held under the GIL (a
    tenth of the event loop's samples on ``POST /v1/messages``, the head's write the larger
    part). Here the head waits for the body's first write and both leave as one; a head not
    followed by a write in the same turn of the event loop (a HEAD request, a stream whose first
    piece is not ready) is sent at the end of that turn, so nothing waits on a slow body.
    Everything else is the connection's transport's."""

    __slots__ = ("_transport", "_cycle", "_loop", "_head", "_head_seen")

    def __init__(self, transport: asyncio.Transport, cycle: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._cycle = cycle
        self._loop = loop
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._head is not None:  # the body's first write
            head, self._head = self._head, None
            if len(data) <= JOIN_BYTES:
                self._transport.writelines((head, data))
                return
            self._transport.write(head)  # a large body is not copied to join it
            self._transport.write(data)
        elif not self._head_seen and self._cycle.response_started:  # the head (not a 100 Continue)
            self._head_seen = True
            self._head = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        return getattr(self._transport, name)


def protocol(header_timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, with this header deadline."""
    return type("HubHttpProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout})


class SettingsHeaderDeadline(HeaderDeadlineProtocol):
    """The same protocol under a module-level name, for ``hub serve --workers N``: uvicorn
    pickles its configuration into each worker process, and a class made by ``protocol`` does
    not pickle. Each worker sets the deadline from its own settings (``hub.cli.server``)."""


def uvicorn_options(settings: Any) -> dict[str, Any]:  # noqa: ANN401  (hub.config.Settings)
    return {"http": protocol(settings.header_timeout_seconds),
            "timeout_keep_alive": settings.keep_alive_timeout_seconds}


class QuietServer(uvicorn.Server):
    """uvicorn's server, waking once a second instead of ten times while it waits.

    uvicorn's main loop sleeps 0.1 s between ticks to notice a shutdown request and, every tenth
    tick, to refresh the ``Date`` header: ten wake-ups a second of an idle process, the larger
    part of its CPU once the hub's own loops slept on work. Here the loop waits for the next
    whole second (when the ``Date`` header changes) or for a shutdown signal, which ends the
    wait at once, so stopping is as prompt as before.
    """

    _exit_requested: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._exit_requested = asyncio.Event()
        counter = 0  # on_tick refreshes the Date header when counter % 10 == 0: every tick here
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # Running out of time is the tick itself, not a failure.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), 1.0 - time.time() % 1.0 + 0.001)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        loop, requested = self._loop, self._exit_requested
        if loop is not None and requested is not None:
            loop.call_soon_threadsafe(requested.set)


def serve_quietly(app: Any, **options: Any) -> None:  # noqa: ANN401
    """``uvicorn.run(app, **options)`` for one process, with :class:`QuietServer`."""
    config = uvicorn.Config(app, **options)
    server = QuietServer(config)
    server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)
