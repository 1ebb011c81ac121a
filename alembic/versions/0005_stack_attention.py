"""stack attention

The decoder self-attention and cross-attention of encoder-decoder runs (BART, T5), one row per
example and stack beside the encoder's row in `attention`. Older stores gain an empty table.

Revision ID: 0005_stack_attention
Revises: 0004
Create Date: 2026-12-03 11:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_stack_attention'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stack_attention',
    sa.Column('example_id', sa.Integer(), nullable=False),
    sa.Column('stack', sa.String(length=20), nullable=False),
    sa.Column('rows', sa.LargeBinary(), nullable=False),
    sa.Column('full', sa.LargeBinary(), nullable=True),
    sa.Column('first_share', sa.LargeBinary(), nullable=False),
    sa.Column('special_share', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['example_id'], ['examples.id'], name=op.f('fk_stack_attention_example_id_examples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('example_id', 'stack', name=op.f('pk_stack_attention'))
    )


def downgrade() -> None:
    op.drop_table('stack_attention')
