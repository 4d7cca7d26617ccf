"""Tables of the data-standards registry (Alembic branch ``standards``, revision std0001).

One row per published ``id@version``. The published content (meta, schema, examples) is
immutable once inserted; only the deprecation columns change. ``standard_events`` keeps who
published and deprecated what, and when.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from hub.db import metadata

standard_versions = Table(
    "standard_versions",
    metadata,
    Column("standard_id", String(100), primary_key=True),
    Column("version", String(32), primary_key=True),
    # semver parts as integers so "1.10.0" sorts after "1.9.0" in SQL
    Column("major", Integer, nullable=False),
    Column("minor", Integer, nullable=False),
    Column("patch", Integer, nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("backoffice_system", String(64), nullable=False),
    Column("owner_agency", String(200), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("schema_json", JSON, nullable=True),
    Column("xsd_files", JSON, nullable=True),
    Column("examples", JSON, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("deprecated_at", DateTime(timezone=True), nullable=True),
    Column("sunset_at", DateTime(timezone=True), nullable=True),
    Column("deprecation_note", Text, nullable=True),
    Column("replaced_by", String(32), nullable=True),
    Column("published_by", String(200), nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("source", String(16), nullable=False),
)

standard_events = Table(
    "standard_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("standard_id", String(100), nullable=False),
    Column("version", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(200), nullable=True),
    Column("detail", JSON, nullable=True),
    Index("ix_standard_events_standard", "standard_id", "version"),
)
