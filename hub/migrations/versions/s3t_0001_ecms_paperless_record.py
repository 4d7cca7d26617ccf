"""ecms paperless record: letters marked as sent electronically only (seed 002)

Revision ID: s3t_0001
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "s3t_0001"
down_revision = "0001"
branch_labels = ("s3t",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecms_paperless",
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("marked_by", sa.String(200), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_ecms_paperless")),
    )


def downgrade() -> None:
    op.drop_table("ecms_paperless")
