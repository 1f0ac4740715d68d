"""cases.claim_token and cases.heartbeat_at: a claim is held by one worker (its token) and renewed by a
heartbeat while the case runs, so a finish from a worker whose claim lapsed is refused

Revision ID: 0006
Revises: 0004 (re-chained at merge)
Create Date: 2026-12-02 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("claim_token")
