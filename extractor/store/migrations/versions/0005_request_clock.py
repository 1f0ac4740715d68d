"""request clock: each case's urgency and receipt (with where each came from), its due time and decision
time; qa_reviews, the second-review sample of decided cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:00:00
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("urgency", sa.String(10), nullable=False, server_default="standard"))
        batch.add_column(sa.Column("urgency_source", sa.String(10), nullable=False, server_default="default"))
        batch.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("received_source", sa.String(10), nullable=False, server_default="upload"))
        batch.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_cases_due_at", ["due_at"])
        batch.create_index("ix_cases_received_at", ["received_at"])
    # cases of before: received when uploaded, standard; decided when their latest decision was recorded
    op.execute("UPDATE cases SET received_at = created_at, due_at = created_at + INTERVAL '7 days'"
               if op.get_bind().dialect.name == "postgresql"
               else "UPDATE cases SET received_at = created_at, due_at = datetime(created_at, '+7 days')")  # fmt: skip
    op.execute("UPDATE cases SET decided_at = (SELECT MAX(d.created_at) FROM decisions d WHERE d.case_id = cases.id)")
    # a PAS case of before was received at $submit and is expedited for a "stat" Claim (the CMS windows)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT case_id, expedited, received_at FROM pas_requests")).all()
    for case_id, expedited, received in rows:
        received = received if isinstance(received, datetime) else datetime.fromisoformat(str(received))
        due = received + (timedelta(hours=72) if expedited else timedelta(days=7))
        bind.execute(
            sa.text("UPDATE cases SET urgency = :u, urgency_source = 'given', received_at = :r, "
                    "received_source = 'given', due_at = :d WHERE id = :id"),
            {"u": "expedited" if expedited else "standard", "r": received, "d": due, "id": case_id},
        )  # fmt: skip
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(200), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("first_decision_id", sa.Integer(), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sampled_at", sa.DateTime(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decision", sa.String(30), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_qa_reviews_case_id", "qa_reviews", ["case_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_qa_reviews_case_id", table_name="qa_reviews")
    op.drop_table("qa_reviews")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_received_at")
        batch.drop_index("ix_cases_due_at")
        for name in ("decided_at", "due_at", "received_source", "received_at", "urgency_source", "urgency"):
            batch.drop_column(name)
