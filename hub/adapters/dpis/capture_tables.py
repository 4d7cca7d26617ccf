"""Hub-side state of DPIS change capture (in the hub's database, migration ``leg0001``).

``legacy_capture_state`` holds one watermark per source: the latest ``UPDATE_DATE`` (as CE
``YYYY-MM-DD HH:MM:SS``) of a fully processed poll. ``legacy_capture_versions`` holds, per
source and legacy row, the version last published; it is what makes re-reading the overlap
window (and rows stamped in BE) harmless.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table

from hub.db import metadata

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
