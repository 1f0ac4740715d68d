"""pas_requests: a case that came in as a Da Vinci PAS request Bundle (the Claim's identifier, member id,
provider, priority and receipt time), so $inquire finds it and the ClaimResponse can be rebuilt

Revision ID: 0004
Revises: 0002 (re-chained after 0003 at merge)
Create Date: 2026-12-02 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pas_requests",
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("claim_system", sa.String(255), nullable=False, server_default=""),
        sa.Column("claim_value", sa.String(255), nullable=False),
        sa.Column("member_id", sa.String(100), nullable=True),
        sa.Column("provider", sa.String(255), nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.Column("expedited", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("claim_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_pas_requests_claim_value", "pas_requests", ["claim_value"])


def downgrade() -> None:
    op.drop_index("ix_pas_requests_claim_value", table_name="pas_requests")
    op.drop_table("pas_requests")
