"""security: each trusted agency CA belongs to one member

Revision ID: i12_0001
Revises: 0001
Depends on: sec0001 (the table it alters)

A CA trusted before this revision keeps a NULL member and authenticates nobody until an
administrator trusts it again with ``--member`` (see hub.security.mtls).
"""
from alembic import op
import sqlalchemy as sa


revision = "i12_0001"
down_revision = "0001"
branch_labels = ("i12",)
depends_on = "sec0001"


def upgrade() -> None:
    with op.batch_alter_table("sec_trusted_cas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sec_trusted_cas", schema=None) as batch_op:
        batch_op.drop_column("member_id")
