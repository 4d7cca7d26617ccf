"""integration: query services (request/response across agencies)

Revision ID: s3q_0001
Revises: 0001
Create Date: 2026-11-29 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = "s3q_0001"
down_revision = "0001"
branch_labels = ("s3q",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("adapter", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("request_standard", sa.String(length=200), nullable=True),
        sa.Column("answer_standard", sa.String(length=200), nullable=True),
        sa.Column("classification", sa.String(length=3), nullable=False),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("cache_seconds", sa.Integer(), nullable=False),
        sa.Column("max_answer_bytes", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_services")),
        sa.UniqueConstraint("provider", "name", name="uq_query_services_provider_name"),
    )
    op.create_index("ix_query_services_name", "query_services", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_query_services_name", table_name="query_services")
    op.drop_table("query_services")
