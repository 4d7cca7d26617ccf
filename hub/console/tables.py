"""The console's own table: bulk-replay tasks, kept so a task and its progress outlive the
process that ran it (a restart shows it as interrupted, and it can be resumed)."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, Text

from hub.db import metadata

console_tasks = Table(
    "console_tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("ids", JSON, nullable=False),  # the message ids, in the order they are replayed
    Column("done", Integer, nullable=False),
    Column("replayed", Integer, nullable=False),
    Column("failed", JSON, nullable=False),  # message id -> why it was not replayed
    # running, stopping (asked to stop), stopped, finished, interrupted (its process ended)
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)
