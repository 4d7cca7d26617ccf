"""Inbound sinks for tests: the hub's own, and a recording one that can be made to fail.

``RecordingSink`` implements ``hub.adapters.base.InboundSink`` in memory: it records every
accepted envelope and every recorded outcome once (by id / key, as the hub does), knows the
outbound messages a test registered with :meth:`RecordingSink.sent` (their payloads, and
that they were delivered), and keeps its states in memory. ``failing()`` gives a sink over
the same memory whose ``accept`` and ``record_outcome`` raise :class:`SinkFailure`, the way
the hub's database being down would.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.adapters.base import OUTCOME_STATUSES, OutboundMessage
from hub.bootstrap import Hub
from hub.errors import NotFound
from hub.schemas.envelope import Envelope
from hub.transport.inbound import TransportSink


def hub_sink(hub: Hub, scope: str = "test") -> TransportSink:
    """The sink the hub's scheduler hands an adapter, for an adapter a test built itself."""
    return TransportSink(hub.engine, hub.messages, scope)


class SinkFailure(RuntimeError):
    """Stands in for the hub failing to commit (database down, process dying)."""


class MemoryState:
    """``InboundState`` in memory (lost with the object)."""

    def __init__(self) -> None:
        self._watermark: str | None = None
        self._values: dict[str, str] = {}

    def watermark(self) -> str | None:
        return self._watermark

    def advance(self, watermark: str) -> None:
        self._watermark = max(filter(None, (self._watermark, watermark)))

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def put(self, key: str, value: str, *, ref: str | None = None) -> None:
        self._values[key] = value

    def put_many(self, values: Mapping[str, str]) -> None:
        self._values.update(values)


@dataclass(frozen=True)
class Accepted:
    id: str
    created: bool


class RecordingSink:
    def __init__(self) -> None:
        self.envelopes: dict[str, Envelope] = {}  # accepted, by message id
        self.outcomes: dict[str, dict[str, Any]] = {}  # recorded, by key
        self.offered = 0  # calls of accept and record_outcome, including repeats and failures
        self.outbound: dict[str, bytes] = {}
        self.states: dict[str, MemoryState] = {}
        self._fail = False

    def failing(self) -> RecordingSink:
        """A sink over the same memory that refuses to commit anything."""
        twin = RecordingSink()
        twin.envelopes, twin.outcomes, twin.outbound, twin.states = (self.envelopes, self.outcomes, self.outbound,
                                                                     self.states)
        twin._fail = True
        return twin

    def sent(self, message: OutboundMessage) -> None:
        """Register an outbound message as delivered (so a receiver's outcome can be recorded)."""
        self.outbound[message.id] = message.payload

    @property
    def items(self) -> list[str]:
        """What reached the sink and was kept: accepted message ids and recorded outcome keys."""
        return [*self.envelopes, *self.outcomes]

    def accept(self, envelope: Envelope) -> Accepted:
        self.offered += 1
        if self._fail:
            raise SinkFailure("the hub could not commit the envelope")
        message_id = str(envelope.id)
        created = message_id not in self.envelopes
        self.envelopes.setdefault(message_id, envelope)
        return Accepted(message_id, created)

    def record_outcome(self, message_id: str, *, key: str, status: str, detail: dict[str, Any],
                       error: str | None = None) -> bool:
        self.offered += 1
        if self._fail:
            raise SinkFailure("the hub could not commit the outcome")
        if message_id not in self.outbound:
            raise NotFound(f"no message with id {message_id}")
        assert status in OUTCOME_STATUSES, status
        if key in self.outcomes:
            return False
        self.outcomes[key] = {"message_id": message_id, "status": status, "detail": detail, "error": error}
        return True

    def payload(self, message_id: str) -> bytes:
        if message_id not in self.outbound:
            raise NotFound(f"no message with id {message_id}")
        return self.outbound[message_id]

    def state(self, name: str | None = None) -> MemoryState:
        return self.states.setdefault(name or "route", MemoryState())
