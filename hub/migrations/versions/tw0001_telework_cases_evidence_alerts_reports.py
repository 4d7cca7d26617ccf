"""telework: agencies, cases, evidence, alerts, reports (the telework app's own branch)

Revision ID: tw0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "tw0001"
down_revision = "0001"
branch_labels = ("telework",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telework_agencies",
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_telework_agencies")),
    )
    op.create_table(
        "telework_cases",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("citizen_id", sa.String(13), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("book_number", sa.String(64), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_telework_cases")),
    )
    for column in ("agency", "citizen_id", "book_number"):
        op.create_index(op.f(f"ix_telework_cases_{column}"), "telework_cases", [column])
    op.create_table(
        "telework_evidence",
        sa.Column("evidence_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("work_date", sa.String(10), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("audit_ref", sa.String(100), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_telework_evidence")),
    )
    op.create_index(op.f("ix_telework_evidence_case_id"), "telework_evidence", ["case_id"])
    op.create_table(
        "telework_alerts",
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("supervisor_citizen_id", sa.String(13), nullable=False),
        sa.Column("work_date", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("delivery_ref", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_telework_alerts")),
        sa.UniqueConstraint("case_id", "work_date", name="uq_telework_alerts_case_day"),
    )
    op.create_table(
        "telework_reports",
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_telework_reports")),
    )


def downgrade() -> None:
    for table in ("telework_reports", "telework_alerts", "telework_evidence", "telework_cases", "telework_agencies"):
        op.drop_table(table)
