"""document_cache: each uploaded PDF's reading (text, character boxes, OCR, page sizes), keyed by the sha256
of its bytes and the reader's versions and settings, so a document is read and OCR'd once

Revision ID: 0007
Revises: 0004 (re-chained at merge)
Create Date: 2026-12-02 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_cache",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("reader_key", sa.String(64), primary_key=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_document_cache_used_at", "document_cache", ["used_at"])


def downgrade() -> None:
    op.drop_index("ix_document_cache_used_at", table_name="document_cache")
    op.drop_table("document_cache")
