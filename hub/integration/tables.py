"""Tables of layer 5: event subscriptions and one-stop applications.

Delivery state is not kept here: each subscription's deliveries and each application's parts
are transport messages, and their status is read from the ``messages`` table.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from hub.db import metadata

event_subscriptions = Table(
    "event_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subscriber", String(200), nullable=False),  # the subscribing subsystem
    Column("event_type", String(200), nullable=False),  # e.g. hr.person.changed/v1
    Column("channel", String(16), nullable=False),  # webhook | amqp | route
    Column("target", String(2000), nullable=True),  # webhook URL or queue name
    Column("match", JSON, nullable=False),  # {JSON Pointer: value or [values]}
    Column("fields", JSON, nullable=True),  # top-level members delivered; null = all
    # Webhook secrets: [{"secret", "created_at", "expires_at"}]; newest first.
    Column("secrets", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended
    Column("status_reason", Text, nullable=True),
    Column("route_id", Integer, nullable=True),  # the route this subscription created (webhook, amqp)
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber", "event_type", name="uq_event_subscriptions_subscriber_event_type"),
)
Index("ix_event_subscriptions_event_type", event_subscriptions.c.event_type)

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),  # the tracking id
    Column("application_type", String(200), nullable=False),  # the standard id@version
    Column("applicant", String(200), nullable=False),  # the e-service subsystem that submitted
    Column("submitted_by", String(200), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
)

application_parts = Table(
    "application_parts",
    metadata,
    Column("application_id", String(36), nullable=False),
    Column("part", String(100), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("message_id", String(36), nullable=False),
    UniqueConstraint("application_id", "part", name="uq_application_parts_application_part"),
)
Index("ix_application_parts_agency", application_parts.c.agency)

# Query services (issue 15): what a provider subsystem answers synchronously, and with what.
# ``adapter`` names an adapter with the ``query`` capability (``http``, ``dpis``) built from
# ``settings``, or one of the hub's own answerers (``telework-cases``, ``ecms-letters``,
# ``person-registry``); ``system`` labels the source for the unified record's owner rule.
query_services = Table(
    "query_services",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("system", String(64), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("request_standard", String(200), nullable=True),
    Column("answer_standard", String(200), nullable=True),
    Column("classification", String(3), nullable=False),
    Column("timeout_ms", Integer, nullable=False),
    Column("cache_seconds", Integer, nullable=False),
    Column("max_answer_bytes", Integer, nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("provider", "name", name="uq_query_services_provider_name"),
)
Index("ix_query_services_name", query_services.c.name)
