"""Tables of the transport layer. The ``messages`` row doubles as the outbox entry.

Every message not yet finished has ``next_action_at``: the moment the relay must hand it
(again) to the broker. That one column covers first delivery, retries after backoff, and
recovery of messages whose broker copy or worker was lost (the lease ran out).
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
)

from hub.db import insert_rows, metadata

# ``id`` is the hub's key of a message (``hub.schemas.envelope.message_key``: derived from the
# sender and its message id; rows stored before migration s3a_0001 keep their message id as key).
# ``message_id`` is the sender's own id, unique per sender only (issue 12, finding 7).
messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("sender", String(200), nullable=False),
    Column("receiver", String(200), nullable=False),
    Column("service", String(100), nullable=False),
    Column("standard", String(120)),
    Column("correlation_id", String(128)),
    Column("classification", String(3), nullable=False),
    Column("speed", String(3), nullable=False),
    Column("user_id", String(13)),
    Column("content_type", String(40), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # When the current delivery cycle began (accept, or the last replay): max_age counts from here.
    Column("cycle_started_at", DateTime(timezone=True), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("payload_size", BigInteger, nullable=False),
    Column("route_id", Integer),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_action_at", DateTime(timezone=True)),
    Column("receipt", Text),
    Column("last_error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_messages_due", "next_action_at"),
    Index("ix_messages_sender_received", "sender", "received_at"),
    Index("ix_messages_receiver_received", "receiver", "received_at"),
    Index("ix_messages_received", "received_at", "id"),
    # Ordered delivery within a conversation looks up a receiver's earlier messages by it.
    Index("ix_messages_conversation", "receiver", "correlation_id", "received_at"),
    # The backlog and dead-letter gauges (/metrics) count by these (migration i17_0001).
    Index("ix_messages_status_route", "status", "route_id", "receiver"),
    # A conflict is only with the sender's own id (migration s3a_0001).
    Index("uq_messages_sender_message_id", "sender", "message_id", unique=True),
    Index("ix_messages_message_id", "message_id"),
)

message_payloads = Table(
    "message_payloads",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("body", LargeBinary, nullable=False),
)

# A payload above ``HUB_SPOOL_THRESHOLD_BYTES`` is stored here in pieces instead of in
# ``message_payloads``, so neither storing nor reading it needs the whole of it in memory,
# and it commits (and is shared by every API and worker machine) with its message's row.
message_payload_chunks = Table(
    "message_payload_chunks",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

message_events = Table(
    "message_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("attempt", Integer),
    Column("detail", JSON),
    Index("ix_message_events_message", "message_id", "id"),
)

routes = Table(
    "routes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", String(200), nullable=False),
    Column("service", String(100), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("max_age_seconds", Float, nullable=False),
    Column("backoff_base_seconds", Float, nullable=False),
    Column("backoff_max_seconds", Float, nullable=False),
    Column("require_standard", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("receiver", "service", name="uq_routes_receiver_service"),
)

# The durable state of adapters' inbound sides (``InboundSink.state``, hub/transport/inbound.py).
# Alembic branch ``legacy`` (revision ``leg0001``): they were made for DPIS change capture,
# whose names they keep. ``source`` is the state's name (e.g. the DPIS capture's sender party,
# or ``route-<id>``); ``legacy_capture_state`` holds its watermark (for DPIS the latest
# ``UPDATE_DATE`` of a fully processed poll, as CE ``YYYY-MM-DD HH:MM:SS``);
# ``legacy_capture_versions`` its keyed values (for DPIS the version last published per row,
# which makes re-reading the overlap window harmless) with an optional reference.
legacy_capture_state = Table(
    "legacy_capture_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("watermark", String(19)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

legacy_capture_versions = Table(
    "legacy_capture_versions",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("row_key", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("message_id", String(36)),
    Column("captured_at", DateTime(timezone=True), nullable=False),
)


_EVENT_COLUMNS = ("message_id", "at", "kind", "attempt", "detail")
_COPY_EVENTS = f"COPY message_events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"


def insert_events(conn: Any, events: list[dict[str, Any]]) -> None:  # noqa: ANN401  (a SQLAlchemy Connection)
    """Insert transport events (dicts of ``_EVENT_COLUMNS``) in ``conn``'s transaction. On
    PostgreSQL with psycopg one ``COPY``: the relay's executemany of a queued event per message
    spent most of its time building each row's parameters (a fifth of a worker's CPU while
    draining a backlog, in a profile). Ids come from the same sequence, in list order."""
    if not events:
        return
    if conn.dialect.driver == "psycopg":
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:
            for e in events:
                detail = e.get("detail")
                copy.write_row((e["message_id"], e["at"], e["kind"], e.get("attempt"),
                                None if detail is None else json.dumps(detail)))
        return
    insert_rows(conn, message_events, events)


def id_in(column: Any, name: str, *, postgresql: bool) -> Any:  # noqa: ANN401  (SQL expressions)
    """``column IN (ids)`` for a list bound as ``name``. On PostgreSQL ``column = ANY(:name)``
    with the list as one array: an expanded ``IN`` of a few hundred ids is a statement text too
    long for psycopg's cache of parsed queries, so it was re-parsed on every execution (the
    relay's marking round spent most of its time there), and its text differed with every
    batch length. Elsewhere an expanding ``IN`` (compiled once per list length)."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
