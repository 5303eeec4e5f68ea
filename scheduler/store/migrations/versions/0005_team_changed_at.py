"""When each team last changed: set by every change, removals included, so
that the feeds' DTSTAMP and Last-Modified never move backwards (taken from
the newest remaining row, they did when an imported absence was removed, and
a calendar asking "modified since?" was told no). Existing teams start empty:
their newest rows still count.

Revision ID: 0005
Revises: 0004

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('teams') as batch:
        batch.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('teams') as batch:
        batch.drop_column('changed_at')
