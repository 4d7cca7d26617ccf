"""security + registry: agencies, subsystems, credentials, access rights, people, audit chain, shared data

Revision ID: sec0001
Revises: 0001
Create Date: 2026-11-23

Written for the security branch only (branch label ``security``); it creates no table of
another layer.
"""
from alembic import op
import sqlalchemy as sa


revision = "sec0001"
down_revision = "0001"
branch_labels = ("security",)
depends_on = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain's head starts at the genesis hash; appenders lock and update this one row.
    op.bulk_insert(sa.table('audit_head', sa.column('id', sa.Integer), sa.column('last_seq', sa.Integer),
                            sa.column('last_hash', sa.String), sa.column('sealed_seq', sa.Integer)),
                   [{'id': 1, 'last_seq': 0, 'last_hash': '0' * 64, 'sealed_seq': 0}])
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('audit_seals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_seals'))
    )
    op.create_table('registry_juristic_persons',
    sa.Column('juristic_id', sa.String(length=13), nullable=False),
    sa.Column('name_th', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('juristic_id', name=op.f('pk_registry_juristic_persons'))
    )
    op.create_table('registry_members',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('instance', sa.String(length=32), nullable=False),
    sa.Column('member_class', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_th', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.String(length=120), nullable=True),
    sa.Column('ministry_code', sa.String(length=8), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('pilot', sa.Boolean(), nullable=False),
    sa.Column('contacts', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['registry_members.id'], name=op.f('fk_registry_members_parent_id_registry_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_members'))
    )
    op.create_table('registry_persons',
    sa.Column('citizen_id', sa.String(length=13), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('citizen_id', name=op.f('pk_registry_persons'))
    )
    op.create_table('sec_access_rights',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client', sa.String(length=200), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sec_access_rights')),
    sa.UniqueConstraint('client', 'service', 'provider', name='uq_sec_access_rights_client_service_provider')
    )
    op.create_table('sec_clients',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('subsystem_id', sa.String(length=200), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('clearance', sa.String(length=3), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sec_clients'))
    )
    op.create_table('sec_group_members',
    sa.Column('group_name', sa.String(length=64), nullable=False),
    sa.Column('subsystem_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('group_name', 'subsystem_id', name=op.f('pk_sec_group_members'))
    )
    op.create_table('sec_trusted_cas',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('cert_pem', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sec_trusted_cas'))
    )
    op.create_table('sec_users',
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('member_id', sa.String(length=120), nullable=True),
    sa.Column('clearance', sa.String(length=3), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_sec_users'))
    )
    op.create_table('registry_consents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('citizen_id', sa.String(length=13), nullable=False),
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['registry_persons.citizen_id'], name=op.f('fk_registry_consents_citizen_id_registry_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_consents'))
    )
    with op.batch_alter_table('registry_consents', schema=None) as batch_op:
        batch_op.create_index('ix_registry_consents_person_consumer', ['citizen_id', 'consumer'], unique=False)

    op.create_table('registry_person_facts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('citizen_id', sa.String(length=13), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['registry_persons.citizen_id'], name=op.f('fk_registry_person_facts_citizen_id_registry_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_person_facts'))
    )
    with op.batch_alter_table('registry_person_facts', schema=None) as batch_op:
        batch_op.create_index('ix_registry_person_facts_person', ['citizen_id', 'field', 'source'], unique=True)

    op.create_table('registry_subsystems',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.String(length=120), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('clearance', sa.String(length=3), nullable=False),
    sa.Column('endpoints', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['registry_members.id'], name=op.f('fk_registry_subsystems_member_id_registry_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_subsystems'))
    )
    with op.batch_alter_table('registry_subsystems', schema=None) as batch_op:
        batch_op.create_index('ix_registry_subsystems_member', ['member_id'], unique=False)

    op.create_table('registry_system_roles',
    sa.Column('member_id', sa.String(length=120), nullable=False),
    sa.Column('system_key', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['registry_members.id'], name=op.f('fk_registry_system_roles_member_id_registry_members')),
    sa.PrimaryKeyConstraint('member_id', 'system_key', 'role', name=op.f('pk_registry_system_roles'))
    )
    op.create_table('sec_client_secrets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['sec_clients.id'], name=op.f('fk_sec_client_secrets_client_id_sec_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sec_client_secrets'))
    )
    with op.batch_alter_table('sec_client_secrets', schema=None) as batch_op:
        batch_op.create_index('ix_sec_client_secrets_client', ['client_id'], unique=False)

    op.create_table('sec_sessions',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['username'], ['sec_users.username'], name=op.f('fk_sec_sessions_username_sec_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_sha256', name=op.f('pk_sec_sessions'))
    )


def downgrade() -> None:
    op.drop_table('sec_sessions')
    with op.batch_alter_table('sec_client_secrets', schema=None) as batch_op:
        batch_op.drop_index('ix_sec_client_secrets_client')

    op.drop_table('sec_client_secrets')
    op.drop_table('registry_system_roles')
    with op.batch_alter_table('registry_subsystems', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_subsystems_member')

    op.drop_table('registry_subsystems')
    with op.batch_alter_table('registry_person_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_person_facts_person')

    op.drop_table('registry_person_facts')
    with op.batch_alter_table('registry_consents', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_consents_person_consumer')

    op.drop_table('registry_consents')
    op.drop_table('sec_users')
    op.drop_table('sec_trusted_cas')
    op.drop_table('sec_group_members')
    op.drop_table('sec_clients')
    op.drop_table('sec_access_rights')
    op.drop_table('registry_persons')
    op.drop_table('registry_members')
    op.drop_table('registry_juristic_persons')
    op.drop_table('audit_seals')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
    op.drop_table('audit_head')
