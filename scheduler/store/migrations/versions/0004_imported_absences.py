"""Absences imported from Google Calendar's out-of-office events, and the
announcements made about the changes they bring.

Revision ID: 0004
Revises: 0003

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('imported_absences',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('member', sa.String(length=320), nullable=False),
    sa.Column('event_id', sa.String(length=1024), nullable=False),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_imported_absences_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'member', 'event_id', name=op.f('pk_imported_absences'))
    )
    op.create_table('announcements',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_announcements_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'key', name=op.f('pk_announcements'))
    )


def downgrade() -> None:
    op.drop_table('announcements')
    op.drop_table('imported_absences')
