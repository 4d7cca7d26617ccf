"""legacy adapters: DPIS change-capture watermark and per-row published versions

Revision ID: leg0001
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "leg0001"
down_revision = "0001"
branch_labels = ("legacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legacy_capture_state",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("watermark", sa.String(length=19), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_legacy_capture_state")),
    )
    op.create_table(
        "legacy_capture_versions",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "row_key", name=op.f("pk_legacy_capture_versions")),
    )


def downgrade() -> None:
    op.drop_table("legacy_capture_versions")
    op.drop_table("legacy_capture_state")
