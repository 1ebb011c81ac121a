"""head importance and head roles

Issue 24: per example and head, the causal importance (gate gradient, opt-in ablation), the
role statistics and the prediction row's share on frame and punctuation tokens (a new table),
and per reference method the prediction row's share on that method's top-10% tokens (a new
nullable column of head_scores). Only a new table and a nullable column: no data is
rewritten; examples stored before have no head_stats row and a NULL top_share.

Revision ID: 0008_head_stats
Revises: 0007_sentence_pairs
Create Date: 2026-12-03 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_head_stats"
down_revision = "0007_sentence_pairs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "head_stats",
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("gradient", sa.LargeBinary(), nullable=True),
        sa.Column("ablation", sa.LargeBinary(), nullable=True),
        sa.Column("roles", sa.LargeBinary(), nullable=False),
        sa.Column("structure_share", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name=op.f("fk_head_stats_example_id_examples"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_head_stats_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("example_id", name=op.f("pk_head_stats")),
    )
    with op.batch_alter_table("head_stats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_head_stats_run_id"), ["run_id"], unique=False)
    with op.batch_alter_table("head_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("top_share", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("head_scores", schema=None) as batch_op:
        batch_op.drop_column("top_share")
    with op.batch_alter_table("head_stats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_head_stats_run_id"))
    op.drop_table("head_stats")
