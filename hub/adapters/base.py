"""The adapter contract every edge implements.

An adapter is built from a validated ``Settings`` model, declares its ``scheme`` (the name
routes use), its ``capabilities`` and the hub services it needs (``resources``), and
implements one method per direction it supports:

* ``send(message) -> Receipt`` (hub -> system), abstract;
* ``poll(sink) -> PollReport`` (system -> hub), for adapters with the ``receive``
  capability: take in what waits in the system for the hub and hand it to the
  :class:`InboundSink`. The transport's one scheduler (``hub.transport.inbound``) calls it
  on the interval ``poll_interval()`` asks for, and ``hub adapters poll ROUTE`` calls it on
  demand. Adapters never import the transport: the sink is all they see of the hub.
* ``query(request) -> QueryAnswer`` (hub asks the system, synchronously), for adapters with
  the ``query`` capability: answer one :class:`QueryRequest` of a published query service
  (``hub.integration.queries``) within ``request.timeout_seconds`` and in at most
  ``request.max_answer_bytes``; raise :class:`QueryTimedOut` or :class:`QueryAnswerError`
  (a refusal, garbage, a body too large), never return a partial answer. A query never
  changes state at the source.

Adapters are context managers; ``close`` releases connections.

Idempotency: ``send`` may be called more than once for the same message (at-least-once
delivery). Every adapter passes the message's identity to its system so a receiver applies
a message once: ``message.key`` where the system takes an opaque idempotency key (ids are
unique per sender only, so two senders' messages may share ``message.id``).

Losslessness of ``poll``: an item is acknowledged at the source (deleted, moved, or its
version remembered) only after the sink has committed it; when the sink raises, the item
stays and the next poll offers it again. Items carry ids derived from their content or
source, so offering one again is absorbed by the hub's idempotent accept.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from hub.errors import AdapterContractError, AdapterError
from hub.schemas.envelope import (
    Envelope, StoredMessage, StreamedPayload, outbound_document, outbound_parts, outbound_stream,
)

SEND = "send"
RECEIVE = "receive"  # has an inbound side: implements ``poll``
PUSH = "push"  # delivers without the receiver polling
QUERY = "query"  # answers query services synchronously: implements ``query``

# Hub services an adapter may declare in ``resources`` (handed in by the registry, which
# ``hub.bootstrap`` fills): this hub's e-CMS node (``hub.adapters.ecms.node.service.EcmsService``)
# and the shared person registry (``hub.registry.persons.PersonRegistry``).
ECMS_NODE = "ecms"
PERSON_REGISTRY = "persons"
# Layer 5 (``hub.integration``): the event fan-out (``EventHub``), the subscriptions' webhook
# secrets and suspension (``SubscriptionService``), and the hub's own broker URL (AMQP channel).
EVENTS = "events"
SUBSCRIPTIONS = "subscriptions"
BROKER = "broker"
# The hub's delivery signer (``hub.security.delivery_signing.DeliverySigner``): signs what an
# adapter sends so a receiver can verify it came from the hub.
SIGNER = "signer"
KNOWN_RESOURCES = frozenset({ECMS_NODE, PERSON_REGISTRY, EVENTS, SUBSCRIPTIONS, BROKER, SIGNER})

# What a receiver decided about an earlier outbound message (``InboundSink.record_outcome``);
# they are also the message's final status (``hub.transport.messages``).
COMPLETED, PARTLY_REJECTED, REJECTED = "completed", "partly_rejected", "rejected"
OUTCOME_STATUSES = (COMPLETED, PARTLY_REJECTED, REJECTED)


def outcome_status(accepted: int, rejected: int) -> str:
    """The outcome for a receiver's answer accepting ``accepted`` items and rejecting ``rejected``."""
    if rejected == 0:
        return COMPLETED
    return REJECTED if accepted == 0 else PARTLY_REJECTED


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class OutboundMessage:
    """One message to hand to a system: its metadata and the stored payload bytes.

    An adapter whose class sets ``streams_payload`` gets a large (spooled) payload as
    ``stream`` instead, with ``payload`` empty, to send without holding it whole; every
    other adapter always gets ``payload``.
    """

    meta: StoredMessage
    payload: bytes
    # This delivery cycle's id (``hub.schemas.envelope.delivery_id``): new for a replay.
    delivery_id: str | None = None
    stream: StreamedPayload | None = None

    @property
    def id(self) -> str:
        """The sender's message id (unique per sender only)."""
        return str(self.meta.id)

    @property
    def key(self) -> str:
        """The hub's key of the message: unique across senders, the same on every retry."""
        return self.meta.key or str(self.meta.id)

    @property
    def delivery(self) -> str:
        """The id of this delivery: the same on every retry, new when the message is replayed."""
        return self.delivery_id or self.key

    def document(self) -> bytes:
        """The envelope as JSON, as a receiver of the plain JSON protocol expects it."""
        return outbound_document(self.meta, self.payload)

    def document_parts(self) -> tuple[bytes, bytes, bytes]:
        """``document()`` in three pieces, for sending a large payload without copying it."""
        return outbound_parts(self.meta, self.payload)

    def document_stream(self) -> tuple[int, Callable[[], Iterator[bytes]]]:
        """``document()``'s length and its pieces, read afresh on every call (any message)."""
        if self.stream is not None:
            return outbound_stream(self.meta, self.stream)
        parts = self.document_parts()
        return sum(len(p) for p in parts), lambda: iter(parts)


@dataclass(frozen=True)
class Receipt:
    """What the receiving system answered: proof it has the message."""

    receipt: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


# ----------------------------------------------------------------------------- inbound


class Accepted(Protocol):
    """What ``InboundSink.accept`` answers (the transport's ``AcceptResult`` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def created(self) -> bool:
        """False: the hub had this message already (offered again after a crash)."""
        ...


class InboundState(Protocol):
    """A small durable memory of one inbound source: a watermark and keyed values.

    It generalises DPIS change capture's state: the watermark says how far the source has
    been read completely; a keyed value says what was last taken in for one item (e.g. a
    row's content digest), with an optional reference (the message id it became). Keys and
    values are at most 64 characters, references 36, a watermark 19 (a timestamp
    ``YYYY-MM-DD HH:MM:SS``): the state is for bookkeeping, not for payloads.
    """

    def watermark(self) -> str | None: ...

    def advance(self, watermark: str) -> None:
        """Move the watermark forward; a lower value than the stored one changes nothing."""
        ...

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, *, ref: str | None = None) -> None: ...

    def put_many(self, values: Mapping[str, str]) -> None:
        """``put`` for many keys in one transaction (without references)."""
        ...


class InboundSink(Protocol):
    """What an adapter's ``poll`` hands its items to: the hub, as the transport offers it."""

    def accept(self, envelope: Envelope) -> Accepted:
        """Store the envelope durably; returns once it is committed. Raises the hub's refusals
        (``InputError``, ``Forbidden``, ``IdempotencyConflict`` ...) for an envelope it will
        never take; anything else means "not now": leave the item for the next poll."""
        ...

    def record_outcome(self, message_id: str, *, key: str, status: str, detail: dict[str, Any],
                       error: str | None = None) -> bool:
        """Record the receiver's later answer to an outbound message (``status`` one of
        ``OUTCOME_STATUSES``, ``error`` the reasons of rejected items). Idempotent by ``key``:
        False if that key was recorded before. Raises ``NotFound`` for an unknown message and
        ``NotYetDelivered`` while it is still being delivered (keep the answer for later)."""
        ...

    def payload(self, message_id: str) -> bytes:
        """The stored payload of an earlier outbound message (to check an answer against it);
        ``NotFound`` if there is none."""
        ...

    def state(self, name: str | None = None) -> InboundState:
        """The durable state called ``name``, or this route's own when ``name`` is None. Name it
        after the source system (e.g. the DPIS capture's sender party) when the state must
        outlive the route."""
        ...


@dataclass
class PollReport:
    """What one poll of an inbound side did.

    The lists name the items (message ids, result file names, remote ProcessIDs), so
    ``len`` gives the counts; ``summary`` is the one line ``hub adapters poll`` prints.
    """

    summary: str
    accepted: list[str] = field(default_factory=list)  # taken in and committed now
    known: list[str] = field(default_factory=list)  # the hub had them already (a re-poll, a re-read file)
    refused: list[Any] = field(default_factory=list)  # refused or failed for good, each with its reason
    waiting: list[str] = field(default_factory=list)  # left at the source for a later poll
    error: str | None = None  # why the poll stopped early; what is left waits for the next poll
    detail: Any = None  # the adapter's own account (e.g. the DPIS watermark and bad rows)

    def counts(self) -> dict[str, int]:
        return {"accepted": len(self.accepted), "known": len(self.known), "refused": len(self.refused),
                "waiting": len(self.waiting)}


# ----------------------------------------------------------------------------- queries


class QueryAnswerError(AdapterError):
    """The system answered a query with an error, garbage, or more than the service's limit."""

    code = "query_answer_error"


class QueryTimedOut(QueryAnswerError):
    """The system did not answer a query within the service's timeout."""

    code = "query_timed_out"


@dataclass(frozen=True)
class QueryRequest:
    """One call of a query service, as the adapter sees it."""

    service: str  # the query service name, e.g. ``record.person/v1``
    consumer: str  # the calling subsystem (or ``hub`` for the unified record's own calls)
    body: dict[str, Any]
    timeout_seconds: float
    max_answer_bytes: int
    clearance: str = "001"  # the caller's clearance: answer nothing classified above it


@dataclass(frozen=True)
class QueryAnswer:
    """The system's answer; ``observed_at`` (ISO 8601) is when the source last knew it true."""

    body: dict[str, Any]
    observed_at: str | None = None


# ----------------------------------------------------------------------------- the contract


class Adapter(ABC):
    scheme: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset({SEND})
    Settings: ClassVar[type[BaseModel]] = NoSettings
    summary: ClassVar[str] = ""
    # The hub services this adapter needs (names from ``KNOWN_RESOURCES``); the registry
    # hands them to ``bind_resources`` right after building the adapter.
    resources: ClassVar[frozenset[str]] = frozenset()
    # Sends a large payload from ``OutboundMessage.stream`` without holding it (see there).
    streams_payload: ClassVar[bool] = False

    def __init__(self, settings: BaseModel) -> None:
        self.settings = settings
        self._resources: dict[str, Any] = {}

    def bind_resources(self, resources: Mapping[str, Any]) -> None:
        """Receive the declared hub services this process has (called by the registry)."""
        self._resources = {name: resources[name] for name in self.resources if name in resources}

    def resource(self, name: str) -> Any | None:
        """A declared hub service, or None when this process runs without it."""
        if name not in self.resources:
            raise AdapterContractError(f"adapter {self.scheme!r} uses resource {name!r} without declaring it")
        return self._resources.get(name)

    @abstractmethod
    def send(self, message: OutboundMessage) -> Receipt:
        """Deliver one message; raise ``DeliveryError`` (``permanent=True`` if retrying cannot help)."""

    def poll(self, sink: InboundSink) -> PollReport:
        """Take in what waits in the system for the hub (adapters with the ``receive`` capability).

        Hand each item to ``sink`` and acknowledge it at the source only after the sink has
        committed it. Let the sink's exceptions propagate (the item stays for the next poll);
        report what the system itself refused in the ``PollReport``.
        """
        raise AdapterError(f"adapter {self.scheme!r} cannot receive; its capabilities are {sorted(self.capabilities)}")

    def query(self, request: QueryRequest) -> QueryAnswer:
        """Answer one query (adapters with the ``query`` capability); see the module docstring."""
        raise AdapterError(f"adapter {self.scheme!r} answers no queries; its capabilities are {sorted(self.capabilities)}")

    def poll_interval(self) -> float | None:
        """Seconds between the scheduler's polls, or None: polled only on demand (``hub adapters poll``)."""
        return None

    def check(self) -> Health:
        """Health check: can the system be reached with these settings?"""
        return Health(True, "no check needed")

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
