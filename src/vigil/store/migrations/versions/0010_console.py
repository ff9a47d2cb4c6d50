"""Acknowledgement and escalation of fired alerts, and reviewed marks of review items (the
operator's console, issue 17).

Revision ID: 0010_console
Revises: 0006_caption_vectors
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_console"
down_revision = "0009_site"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_acks",
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("acked_ms", sa.BigInteger, nullable=True),
        sa.Column("acked_by", sa.String(128), nullable=True),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.Column("escalated_ms", sa.BigInteger, nullable=True),
        sa.Column("escalation", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name="pk_alert_acks"),
    )
    op.create_index("ix_alert_acks_tenant_acked_ms", "alert_acks", ["tenant", "acked_ms"])
    op.create_table(
        "review_marks",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("reviewed_by", sa.String(128), nullable=False),
        sa.Column("reviewed_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "item_id", name="pk_review_marks"),
    )
    op.create_index("ix_review_marks_item_id", "review_marks", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_review_marks_item_id", table_name="review_marks")
    op.drop_table("review_marks")
    op.drop_index("ix_alert_acks_tenant_acked_ms", table_name="alert_acks")
    op.drop_table("alert_acks")
