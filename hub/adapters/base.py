"""The adapter contract every edge implements.

An adapter is built from a validated ``Settings`` model, declares its ``scheme`` (the name
routes use) and ``capabilities``, and implements one abstract method per direction it
supports: ``send`` (hub -> system) and, for systems the hub must poll, ``receive``
(system -> hub). Adapters are context managers; ``close`` releases connections.

Idempotency: ``send`` may be called more than once for the same message (at-least-once
delivery). Every adapter passes ``message.id`` to its system as the idempotency key, so a
receiver applies a message once.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from hub.errors import AdapterError
from hub.schemas.envelope import StoredMessage, outbound_document, outbound_parts

SEND = "send"
RECEIVE = "receive"
PUSH = "push"  # delivers without the receiver polling


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class OutboundMessage:
    """One message to hand to a system: its metadata and the stored payload bytes."""

    meta: StoredMessage
    payload: bytes

    @property
    def id(self) -> str:
        return str(self.meta.id)

    def document(self) -> bytes:
        """The envelope as JSON, as a receiver of the plain JSON protocol expects it."""
        return outbound_document(self.meta, self.payload)

    def document_parts(self) -> tuple[bytes, bytes, bytes]:
        """``document()`` in three pieces, for sending a large payload without copying it."""
        return outbound_parts(self.meta, self.payload)


@dataclass(frozen=True)
class Receipt:
    """What the receiving system answered: proof it has the message."""

    receipt: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


class Adapter(ABC):
    scheme: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset({SEND})
    Settings: ClassVar[type[BaseModel]] = NoSettings
    summary: ClassVar[str] = ""

    def __init__(self, settings: BaseModel) -> None:
        self.settings = settings

    @abstractmethod
    def send(self, message: OutboundMessage) -> Receipt:
        """Deliver one message; raise ``DeliveryError`` (``permanent=True`` if retrying cannot help)."""

    def receive(self, limit: int = 100) -> list[dict[str, Any]]:
        """Fetch envelopes waiting in the system for the hub (adapters with the ``receive`` capability)."""
        raise AdapterError(f"adapter {self.scheme!r} cannot receive; its capabilities are {sorted(self.capabilities)}")

    def check(self) -> Health:
        """Health check: can the system be reached with these settings?"""
        return Health(True, "no check needed")

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
