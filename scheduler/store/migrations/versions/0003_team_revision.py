"""Each team's revision: one number that every change to its roster, record
or ticket counts increments, so that the web instances' caches check for
changes with one primary-key lookup instead of aggregating three tables on
every request. Existing teams start at 0: their caches are rebuilt once.

Revision ID: 0003
Revises: 0002

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('teams') as batch:
        batch.add_column(sa.Column('revision', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('teams') as batch:
        batch.drop_column('revision')
