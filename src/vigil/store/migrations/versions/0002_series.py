"""Statistics series: per-minute aggregates of module samples.

Revision ID: 0002_series
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_series"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("module", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("place", sa.String(128), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(
            "camera_id", "module", "metric", "place", "class_name", "bucket_ms", name="pk_series"
        ),
    )
    op.create_index("ix_series_tenant_bucket_ms", "series", ["tenant", "bucket_ms"])


def downgrade() -> None:
    op.drop_index("ix_series_tenant_bucket_ms", table_name="series")
    op.drop_table("series")
