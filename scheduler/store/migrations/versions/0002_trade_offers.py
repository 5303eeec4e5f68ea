"""Trade offers: a member's stint offered for a swap or to anyone, until a
second person closes it or its stint begins.

Revision ID: 0002
Revises: 0001

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('trade_offers',
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('member', sa.String(length=320), nullable=False),
    sa.Column('to_member', sa.String(length=320), nullable=True),
    sa.Column('to_week', sa.Date(), nullable=True),
    sa.Column('expires', sa.String(length=40), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('state', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('closed_by', sa.String(length=320), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_trade_offers_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'id', name=op.f('pk_trade_offers'))
    )
    op.create_index('ix_trade_offers_team_member_week', 'trade_offers', ['team_id', 'member', 'week'])


def downgrade() -> None:
    op.drop_index('ix_trade_offers_team_member_week', table_name='trade_offers')
    op.drop_table('trade_offers')
