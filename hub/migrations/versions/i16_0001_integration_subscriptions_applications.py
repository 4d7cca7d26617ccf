"""integration: event subscriptions, one-stop applications and their parts

Revision ID: i16_0001
Revises: 0001
Create Date: 2026-11-29 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "i16_0001"
down_revision = "0001"
branch_labels = ("integration",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscriber", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=True),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("route_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_subscriptions")),
        sa.UniqueConstraint("subscriber", "event_type", name="uq_event_subscriptions_subscriber_event_type"),
    )
    op.create_index("ix_event_subscriptions_event_type", "event_subscriptions", ["event_type"], unique=False)
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_type", sa.String(length=200), nullable=False),
        sa.Column("applicant", sa.String(length=200), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_table(
        "application_parts",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.UniqueConstraint("application_id", "part", name="uq_application_parts_application_part"),
    )
    op.create_index("ix_application_parts_agency", "application_parts", ["agency"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_application_parts_agency", table_name="application_parts")
    op.drop_table("application_parts")
    op.drop_table("applications")
    op.drop_index("ix_event_subscriptions_event_type", table_name="event_subscriptions")
    op.drop_table("event_subscriptions")
