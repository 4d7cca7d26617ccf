"""standards: registry of published data-standard versions and their events

Revision ID: std0001
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "std0001"
down_revision = "0001"
branch_labels = ("standards",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standard_versions",
        sa.Column("standard_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("patch", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("backoffice_system", sa.String(length=64), nullable=False),
        sa.Column("owner_agency", sa.String(length=200), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("schema_json", sa.JSON(), nullable=True),
        sa.Column("xsd_files", sa.JSON(), nullable=True),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sunset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecation_note", sa.Text(), nullable=True),
        sa.Column("replaced_by", sa.String(length=32), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("standard_id", "version", name=op.f("pk_standard_versions")),
    )
    op.create_table(
        "standard_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("standard_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_events")),
    )
    op.create_index("ix_standard_events_standard", "standard_events", ["standard_id", "version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_standard_events_standard", table_name="standard_events")
    op.drop_table("standard_events")
    op.drop_table("standard_versions")
