"""decisions.rationale: the reviewer's rationale, kept beside the machine draft in the review;
documents.parts: where each part of a split fax packet starts in the stored text

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rationale", sa.Text(), nullable=True))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("parts")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("rationale")
