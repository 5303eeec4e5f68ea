"""The first schema: teams, roster versions, the record, the audit log,
handoff notices, ticket counts, editors, sign-in failures and locks.

A revision is frozen once released: it spells out its tables rather than
importing `dbschema`, which only ever describes the newest schema.

Revision ID: 0001
Revises: (none)

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('teams',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('system', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('who', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_audit_entries_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index('ix_audit_entries_team_id', 'audit_entries', ['team_id', 'id'])
    op.create_table('editors',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_editors_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'email', name=op.f('pk_editors'))
    )
    op.create_table('handoff_notices',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('handoff', sa.String(length=40), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uncertain', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_handoff_notices_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'week', name=op.f('pk_handoff_notices'))
    )
    op.create_table('locks',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.JSON(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_locks_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'name', name=op.f('pk_locks'))
    )
    op.create_table('record_stints',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('member', sa.Text(), nullable=True),
    sa.Column('handoff', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_record_stints_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'week', name=op.f('pk_record_stints'))
    )
    op.create_table('roster_versions',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('saved_by', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_roster_versions_number_positive')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_roster_versions_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'number', name=op.f('pk_roster_versions'))
    )
    op.create_index('ix_roster_versions_team_version', 'roster_versions', ['team_id', 'version'])
    op.create_table('signin_failures',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('t', sa.Float(), nullable=False),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_signin_failures_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'key', name=op.f('pk_signin_failures'))
    )
    op.create_index('ix_signin_failures_expires', 'signin_failures', ['team_id', 'expires'])
    op.create_table('ticket_counts',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('unresolved_last_week', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_ticket_counts_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'week', name=op.f('pk_ticket_counts'))
    )


def downgrade() -> None:
    op.drop_table('ticket_counts')
    op.drop_index('ix_signin_failures_expires', table_name='signin_failures')
    op.drop_table('signin_failures')
    op.drop_index('ix_roster_versions_team_version', table_name='roster_versions')
    op.drop_table('roster_versions')
    op.drop_table('record_stints')
    op.drop_table('locks')
    op.drop_table('handoff_notices')
    op.drop_table('editors')
    op.drop_index('ix_audit_entries_team_id', table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_table('teams')
