"""sentence pairs

Issue 21: a run over two text columns (``--text-field premise,hypothesis``) stores the second
text beside the first (``examples.text_pair``), the position of its first token
(``examples.pair_start``), and, per method, the share of the attribution mass (|scores| over
the content tokens) that falls on the second text (``attributions.pair_share``), which the
corpus filter reads. Only nullable columns: rows stored before this revision (and runs of one
text) have NULL there and read as single-text examples.

Revision ID: 0007_sentence_pairs
Revises: 0006_rationales_and_plausibility
Create Date: 2026-12-03 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_sentence_pairs'
down_revision = '0006_rationales_and_plausibility'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('examples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_pair', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pair_start', sa.Integer(), nullable=True))
    with op.batch_alter_table('attributions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pair_share', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attributions', schema=None) as batch_op:
        batch_op.drop_column('pair_share')
    with op.batch_alter_table('examples', schema=None) as batch_op:
        batch_op.drop_column('pair_start')
        batch_op.drop_column('text_pair')
