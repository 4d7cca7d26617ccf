"""transport: message ids are unique per sender, not across the hub (issue 12, finding 7)

Revision ID: s3a_0001
Revises: 0002

``messages.id`` becomes the hub's key of a message (for new rows derived from the sender and
its id, ``hub.schemas.envelope.message_key``); the sender's own id moves to ``message_id``,
unique together with ``sender``. Rows stored before keep their id as key, so the payloads,
events and everything else that refers to them stay as they are.

SQLite: ``message_id`` stays nullable in the schema (making it NOT NULL would rebuild the
table, and with foreign keys on, dropping the old ``messages`` would cascade to payloads and
events); the hub always writes it. PostgreSQL gets the NOT NULL.
"""
from alembic import op
import sqlalchemy as sa


revision = "s3a_0001"
down_revision = "0002"
branch_labels = ("s3a",)
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("message_id", sa.String(length=36), nullable=True))
    op.execute("UPDATE messages SET message_id = id")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("messages", "message_id", existing_type=sa.String(length=36), nullable=False)
    op.create_index("uq_messages_sender_message_id", "messages", ["sender", "message_id"], unique=True)
    op.create_index("ix_messages_message_id", "messages", ["message_id"], unique=False)


def downgrade() -> None:
    # Messages stored since keep their hub key as their id (a plain DROP COLUMN, which
    # SQLite >= 3.35 has, rather than a batch rebuild that would cascade).
    op.drop_index("ix_messages_message_id", table_name="messages")
    op.drop_index("uq_messages_sender_message_id", table_name="messages")
    op.drop_column("messages", "message_id")
