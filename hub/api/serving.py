"""``hub serve``'s HTTP protocol: uvicorn's h11 protocol with a deadline for request headers.

uvicorn times out idle keep-alive connections, but not a client that sends its request line
and headers one byte at a time (any byte cancels the keep-alive timer): such connections
stayed open for ever. Here every connection must complete a request's headers within
``HUB_HEADER_TIMEOUT_SECONDS`` of opening (or of its previous response); otherwise it is
closed. The body's deadline is the application's (``hub.api.body_limits``). The header size
is bounded by h11 (``h11_max_incomplete_event_size``, set by ``hub serve``).
"""
from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 32 * 1024


class HeaderDeadlineH11(H11Protocol):
    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
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

    def handle_events(self) -> None:
        super().handle_events()
        if not self._waiting_for_headers():  # a request's headers are in: the body has its own deadline
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol(header_timeout: float) -> type[HeaderDeadlineH11]:
    """The protocol class uvicorn instantiates per connection, with this header deadline."""
    return type("HubH11Protocol", (HeaderDeadlineH11,), {"header_timeout": header_timeout})


class SettingsHeaderDeadlineH11(HeaderDeadlineH11):
    """The same protocol under a module-level name, for ``hub serve --workers N``: uvicorn
    pickles its configuration into each worker process, and a class made by ``protocol`` does
    not pickle. Each worker sets the deadline from its own settings (``hub.cli.server``)."""


def uvicorn_options(settings: Any) -> dict[str, Any]:  # noqa: ANN401  (hub.config.Settings)
    return {"http": protocol(settings.header_timeout_seconds),
            "timeout_keep_alive": settings.keep_alive_timeout_seconds,
            "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
