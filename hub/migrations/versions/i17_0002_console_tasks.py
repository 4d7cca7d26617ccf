"""operations: the console's bulk-replay tasks, persisted so they survive a restart

Revision ID: i17_0002
Revises: i17_0001
Create Date: 2026-11-29 18:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = "i17_0002"
down_revision = "i17_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("replayed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_tasks")),
    )


def downgrade() -> None:
    op.drop_table("console_tasks")
