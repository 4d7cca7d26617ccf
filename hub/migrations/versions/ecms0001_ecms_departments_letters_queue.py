"""ecms: departments, letters, poll queues

Revision ID: ecms0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "ecms0001"
down_revision = "0001"
branch_labels = ("ecms",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecms_departments",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("ministry_code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name_th", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=True),
        sa.Column("party", sa.String(200), nullable=True),
        sa.Column("clearance", sa.String(3), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ecms_departments")),
        sa.UniqueConstraint("party", name=op.f("uq_ecms_departments_party")),
    )
    op.create_table(
        "ecms_letters",
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("sender_code", sa.String(20), nullable=False),
        sa.Column("receiver_code", sa.String(20), nullable=False),
        sa.Column("letter_id", sa.String(100), nullable=False),
        sa.Column("correspondence_date", sa.String(10), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("secret_code", sa.String(3), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(128), nullable=False),
        sa.Column("accept_id", sa.String(100), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_ecms_letters")),
        sa.UniqueConstraint("sender_code", "receiver_code", "letter_id", "correspondence_date", "generation",
                            name="uq_ecms_letters_generation"),
    )
    op.create_index("ix_ecms_letters_receiver", "ecms_letters", ["receiver_code", "letter_id", "correspondence_date"])
    op.create_table(
        "ecms_queue",
        sa.Column("process_id", sa.String(36), nullable=False),
        sa.Column("owner_code", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("letter_message_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("secret_code", sa.String(3), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("process_id", name=op.f("pk_ecms_queue")),
        sa.UniqueConstraint("message_id", name=op.f("uq_ecms_queue_message_id")),
    )
    op.create_index("ix_ecms_queue_owner", "ecms_queue", ["owner_code", "created_at"])
    op.create_index("ix_ecms_queue_letter", "ecms_queue", ["letter_message_id"])


def downgrade() -> None:
    op.drop_table("ecms_queue")
    op.drop_table("ecms_letters")
    op.drop_table("ecms_departments")
