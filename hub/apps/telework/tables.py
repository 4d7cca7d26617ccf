"""The telework application's own tables (Alembic branch ``telework``, revision tw0001)."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, Text, UniqueConstraint

from hub.db import metadata

telework_agencies = Table(
    "telework_agencies", metadata,
    Column("agency", String(200), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

telework_cases = Table(
    "telework_cases", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("agency", String(200), nullable=False, index=True),
    Column("citizen_id", String(13), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("book_number", String(64), nullable=True, index=True),
    Column("body", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

telework_evidence = Table(
    "telework_evidence", metadata,
    Column("evidence_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("work_date", String(10), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("audit_ref", String(100), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

telework_alerts = Table(
    "telework_alerts", metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("supervisor_citizen_id", String(13), nullable=False),
    Column("work_date", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("delivery_ref", String(200), nullable=True),
    UniqueConstraint("case_id", "work_date", name="uq_telework_alerts_case_day"),
)

telework_reports = Table(
    "telework_reports", metadata,
    Column("report_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("agency", String(200), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("refs", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
