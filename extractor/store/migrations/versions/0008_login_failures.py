"""login_failures: failed logins by name and by client, shared by every server instance on one database

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 20:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_index("ix_login_failures_kind_key", "login_failures", ["kind", "key"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_kind_key", table_name="login_failures")
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    op.drop_table("login_failures")
