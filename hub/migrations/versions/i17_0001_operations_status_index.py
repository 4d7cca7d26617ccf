"""operations: index that makes the backlog and dead-letter gauges cheap at scrape time

/metrics counts messages per status, route and receiver on every scrape; with this index the
count reads the index only (no table scan), however many delivered messages the store holds.

Revision ID: i17_0001
Revises: 0001
Create Date: 2026-11-29 16:00:00
"""
from alembic import op

revision = "i17_0001"
down_revision = "0001"
branch_labels = ("operations",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_status_route", ["status", "route_id", "receiver"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_route")
