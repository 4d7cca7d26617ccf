"""Tables of the security layer: credentials, access rights, people and the audit chain.

Secrets are never stored: client secrets and passwords as argon2 hashes, session tokens as
SHA-256 (they are long random values, so a fast hash is enough and lookups stay indexed).
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from hub.db import metadata

clients = Table(
    "sec_clients",
    metadata,
    Column("id", String(200), primary_key=True),  # the OAuth2 client_id / GDX Consumer-Key
    Column("subsystem_id", String(200), nullable=True),  # the subsystem it acts for; NULL for staff clients
    Column("roles", JSON, nullable=False),
    Column("clearance", String(3), nullable=True),  # for staff clients; subsystem clients use the subsystem's
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
)

client_secrets = Table(
    "sec_client_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(200), ForeignKey("sec_clients.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # NULL: valid until rotated. Rotation sets the old secret's expiry to now + overlap.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Index("ix_sec_client_secrets_client", "client_id"),
)

access_rights = Table(
    "sec_access_rights",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(200), nullable=False),  # a subsystem id, or "group:NAME"
    Column("service", String(100), nullable=False),  # a service id, or "*"
    Column("provider", String(200), nullable=False),  # receiver subsystem, member, or "*"
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", String(200), nullable=False),
    UniqueConstraint("client", "service", "provider", name="uq_sec_access_rights_client_service_provider"),
)

group_members = Table(
    "sec_group_members",
    metadata,
    Column("group_name", String(64), primary_key=True),
    Column("subsystem_id", String(200), primary_key=True),
)

trusted_cas = Table(
    "sec_trusted_cas",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("cert_pem", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    # The member whose subsystems this CA may authenticate (migration i12_0001); NULL only for
    # rows trusted before the binding, which authenticate nobody.
    Column("member_id", String(120), nullable=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
)

users = Table(
    "sec_users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("member_id", String(120), nullable=True),  # agency operators act for their member
    Column("clearance", String(3), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sec_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(100), ForeignKey("sec_users.username", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO 8601 text: hashed exactly as stored
    Column("kind", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("decision", String(12), nullable=True),  # granted / refused, for access decisions
    Column("target", String(200), nullable=True),
    Column("detail", Text, nullable=False),  # canonical JSON text
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Index("ix_audit_log_at", "at"),
)

# The chain's head in one row: appenders lock it, so concurrent processes extend the chain
# one at a time (SQLite's BEGIN IMMEDIATE or PostgreSQL's row lock).
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("sealed_seq", Integer, nullable=False),
)

audit_seals = Table(
    "audit_seals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("first_seq", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("signed_at", String(40), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", Text, nullable=False),  # base64 Ed25519 over the canonical seal
)

# How far the audit feed has copied the transport's ``message_events`` into the chain. The
# row is locked and moved in the same transaction that appends the copied entries, so a
# restart or a second process neither skips nor repeats an event.
audit_feed_position = Table(
    "audit_feed_position",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
)
