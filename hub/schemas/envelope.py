"""The envelope every client sends to ``POST /v1/messages`` and every receiver gets back.

Parties are X-Road-style identifiers ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``; ``classification``
and ``speed`` are the e-CMS secrecy and speed codes 001-004.
"""
from __future__ import annotations

import codecs
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

PARTY_PATTERN = r"^[A-Za-z0-9-]{1,32}/[A-Z]{2,10}/[A-Za-z0-9._-]{1,64}(/[A-Za-z0-9._-]{1,64})?$"
SERVICE_PATTERN = r"^[a-z][a-z0-9_.-]*/v[0-9]+$"
STANDARD_PATTERN = r"^[a-z][a-z0-9_.-]*@[0-9]+\.[0-9]+\.[0-9]+$"

PartyId = Annotated[str, StringConstraints(pattern=PARTY_PATTERN, max_length=200)]
ServiceId = Annotated[str, StringConstraints(pattern=SERVICE_PATTERN, max_length=100)]
StandardRef = Annotated[str, StringConstraints(pattern=STANDARD_PATTERN, max_length=120)]


class Code(StrEnum):
    """e-CMS secrecy (``SecretCode``) and speed (``SpeedCode``) codes share the values 001-004."""

    C001 = "001"
    C002 = "002"
    C003 = "003"
    C004 = "004"


SECRECY_NAMES = {"001": "ปกติ", "002": "ลับ", "003": "ลับมาก", "004": "ลับที่สุด"}
SPEED_NAMES = {"001": "ปกติ", "002": "ด่วน", "003": "ด่วนมาก", "004": "ด่วนที่สุด"}

JSON_TYPES = ("application/json",)
XML_TYPES = ("application/xml", "text/xml")
ContentType = Literal["application/json", "application/xml", "text/xml"]


def party_member(party: str) -> str:
    """``TH/GOV/0401/saraban`` -> ``TH/GOV/0401``: the member that owns a subsystem."""
    return "/".join(party.split("/")[:3])


class Envelope(BaseModel):
    """What a client submits. The hub adds ``received_at``, the payload's SHA-256 and size."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: uuid.UUID | None = Field(None, description="Idempotency key; the hub assigns one when absent.")
    sender: PartyId
    receiver: PartyId
    service: ServiceId
    standard: StandardRef | None = None
    correlation_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    classification: Code = Code.C001
    speed: Code = Code.C001
    user_id: str | None = Field(None, description="13-digit citizen ID of the officer acting.")
    content_type: ContentType = "application/json"
    payload: Any

    @field_validator("user_id")
    @classmethod
    def _citizen_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from hub.thai import validate_citizen_id

        return validate_citizen_id(value)

    # A model-level rule names the member it is about as a pointer before ": " (see
    # ``hub.schemas.validation``), so the 422 points at /payload rather than the envelope.
    @model_validator(mode="after")
    def _payload_matches_content_type(self) -> Envelope:
        if self.content_type in XML_TYPES:
            if not isinstance(self.payload, str):
                raise ValueError("/payload: an XML payload travels as a string (content_type is XML)")
        elif not isinstance(self.payload, (dict, list)):
            raise ValueError("/payload: a JSON payload must be an object or an array")
        return self

    def payload_bytes(self) -> bytes:
        """The payload as stored and hashed: canonical JSON (sorted keys), or the XML text in UTF-8."""
        if self.content_type in XML_TYPES:
            return self.payload.encode("utf-8")
        return orjson.dumps(self.payload, option=orjson.OPT_SORT_KEYS)


# The namespace of the hub's own message keys (``message_key``).
MESSAGE_KEY_NAMESPACE = uuid.UUID("3d0f6b8e-2c54-5a7e-9b1f-7a4c2e9d1b60")
_KEY_NAMESPACE_BYTES = MESSAGE_KEY_NAMESPACE.bytes


def message_key(sender: str, message_id: str) -> str:
    """The hub's key for the message ``sender`` sent with ``message_id``.

    A message id is the sender's own (idempotency) key, unique only among that sender's
    messages: two senders may use the same id for two messages. The hub keeps each under a
    key derived from both, so one sender can neither collide with nor claim another's id.
    """
    # uuid.uuid5's own computation (SHA-1 of the namespace and the name; RFC 4122's version and
    # variant bits; the 8-4-4-4-12 hex form), without building a ``uuid.UUID`` to format it:
    # uuid5 imports hashlib on every call, and the UUID object's constructor and ``str`` were
    # two thirds of what is left. ``tests/unit/test_envelope.py`` checks it against uuid5.
    digest = bytearray(hashlib.sha1(_KEY_NAMESPACE_BYTES + f"{sender}\n{message_id}".encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # the RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def delivery_id(key: str, received_at: datetime, cycle_started_at: datetime) -> str:
    """The id of one delivery cycle of a message: the same on every retry of it, new for each
    replay (a replay starts a new cycle). The first cycle's is the message key itself, so a
    receiver that keys on it sees a deliberate replay as new, and a retry as a duplicate."""
    if cycle_started_at <= received_at:
        return key
    return str(uuid.uuid5(MESSAGE_KEY_NAMESPACE, f"{key}\ncycle\n{cycle_started_at.isoformat()}"))


class StoredMessage(BaseModel):
    """The envelope metadata as the hub keeps it (the payload travels separately)."""

    id: uuid.UUID = Field(description="The sender's message id (unique per sender).")
    key: str | None = Field(None, description="The hub's key for this message, unique across senders; "
                                               "receivers get it as Idempotency-Key.")
    sender: str
    receiver: str
    service: str
    standard: str | None = None
    correlation_id: str | None = None
    classification: str
    speed: str
    user_id: str | None = None
    content_type: str
    received_at: datetime
    payload_sha256: str
    payload_size: int
    status: str
    attempts: int = 0
    receipt: str | None = None
    last_error: str | None = None

    def list_position(self) -> tuple[datetime, str]:
        """Where the message sits in listings (``received_at``, then id): what a cursor points after."""
        return self.received_at, self.key or str(self.id)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def outbound_parts(meta: StoredMessage, payload: bytes) -> tuple[bytes, bytes, bytes]:
    """The JSON document a receiver gets, as (head, payload, tail) to send without joining.

    The stored payload bytes are spliced in rather than parsed and dumped again, so a large
    payload is neither turned into Python objects nor copied on every delivery.
    """
    head = meta.model_dump(mode="json", exclude={"status", "attempts", "receipt", "last_error"})
    body = payload if meta.content_type in JSON_TYPES else orjson.dumps(payload.decode("utf-8"))
    return orjson.dumps(head)[:-1] + b',"payload":', body, b"}"


def outbound_document(meta: StoredMessage, payload: bytes) -> bytes:
    return b"".join(outbound_parts(meta, payload))


@dataclass(frozen=True)
class StreamedPayload:
    """A stored payload too large to hold whole: ``pieces()`` reads it from the store in
    pieces, afresh on every call."""

    size: int
    pieces: Callable[[], Iterator[bytes]]


def outbound_stream(meta: StoredMessage, payload: StreamedPayload) -> tuple[int, Callable[[], Iterator[bytes]]]:
    """``outbound_parts`` for a streamed payload: the document's length, and its pieces
    (read afresh on every call). An XML payload is escaped into a JSON string piece by piece."""
    head, _, tail = outbound_parts(meta, b"")
    if meta.content_type in JSON_TYPES:
        def document() -> Iterator[bytes]:
            yield head
            yield from payload.pieces()
            yield tail
        return len(head) + payload.size + len(tail), document

    def document() -> Iterator[bytes]:  # noqa: F811 - one of the two shapes
        decoder = codecs.getincrementaldecoder("utf-8")()
        yield head + b'"'
        for piece in payload.pieces():
            yield orjson.dumps(decoder.decode(piece))[1:-1]
        yield orjson.dumps(decoder.decode(b"", final=True))[1:-1] + b'"' + tail
    return sum(len(piece) for piece in document()), document
