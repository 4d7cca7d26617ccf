"""security: person-update history (idempotent by update id) and the audit feed's position

Revision ID: sec0002
Revises: sec0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = "sec0002"
down_revision = "sec0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registry_person_updates',
    sa.Column('update_id', sa.String(length=64), nullable=False),
    sa.Column('citizen_id', sa.String(length=13), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['registry_persons.citizen_id'],
                            name=op.f('fk_registry_person_updates_citizen_id_registry_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_registry_person_updates'))
    )
    with op.batch_alter_table('registry_person_updates', schema=None) as batch_op:
        batch_op.create_index('ix_registry_person_updates_person', ['citizen_id'], unique=False)
    op.create_table('audit_feed_position',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_audit_feed_position'))
    )
    # The transport feed starts before the first event; the feed locks and moves this row.
    op.bulk_insert(sa.table('audit_feed_position', sa.column('name', sa.String), sa.column('last_event_id', sa.Integer)),
                   [{'name': 'transport', 'last_event_id': 0}])


def downgrade() -> None:
    op.drop_table('audit_feed_position')
    with op.batch_alter_table('registry_person_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_person_updates_person')
    op.drop_table('registry_person_updates')
