"""rationales and plausibility

Issue 23: human rationales (`ingest --rationale-field`) as a token mask per example, and each
method's plausibility against them (ERASER AUPRC, token F1, IOU F1; `random` the baseline).
Only new tables: stores from earlier revisions read as runs without rationales.

Revision ID: 0006_rationales_and_plausibility
Revises: 0005_stack_attention
Create Date: 2026-12-03 11:55:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_rationales_and_plausibility'
down_revision = '0005_stack_attention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rationales',
    sa.Column('example_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('mask', sa.LargeBinary(), nullable=False),
    sa.Column('marked', sa.Integer(), nullable=False),
    sa.Column('cut', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['example_id'], ['examples.id'], name=op.f('fk_rationales_example_id_examples'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_rationales_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('example_id', name=op.f('pk_rationales'))
    )
    with op.batch_alter_table('rationales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rationales_run_id'), ['run_id'], unique=False)

    op.create_table('plausibility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('example_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('auprc', sa.Float(), nullable=True),
    sa.Column('token_f1', sa.Float(), nullable=True),
    sa.Column('iou_f1', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['example_id'], ['examples.id'], name=op.f('fk_plausibility_example_id_examples'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_plausibility_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plausibility')),
    sa.UniqueConstraint('example_id', 'method', name=op.f('uq_plausibility_example_id_method'))
    )
    with op.batch_alter_table('plausibility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plausibility_example_id'), ['example_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plausibility_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_plausibility_run_method', ['run_id', 'method', 'example_id', 'auprc', 'token_f1', 'iou_f1'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plausibility', schema=None) as batch_op:
        batch_op.drop_index('ix_plausibility_run_method')
        batch_op.drop_index(batch_op.f('ix_plausibility_run_id'))
        batch_op.drop_index(batch_op.f('ix_plausibility_example_id'))

    op.drop_table('plausibility')
    with op.batch_alter_table('rationales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rationales_run_id'))

    op.drop_table('rationales')
