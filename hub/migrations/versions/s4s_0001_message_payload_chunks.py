"""transport: large payloads stored in pieces (``message_payload_chunks``)

Revision ID: s4s_0001
Revises: 0002

A payload above ``HUB_SPOOL_THRESHOLD_BYTES`` is kept as numbered pieces of at most 1 MiB
instead of one ``message_payloads.body``: it is written piece by piece from the spooled
request and read piece by piece for delivery, never whole in memory.
"""
from alembic import op
import sqlalchemy as sa


revision = "s4s_0001"
down_revision = "0002"
branch_labels = ("s4s",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_payload_chunks",
        sa.Column("message_id", sa.String(length=36), sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("message_payload_chunks")
