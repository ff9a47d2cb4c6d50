"""PTZ on a cluster: where each PTZ camera points as the API last moved it (its preset, and
whether its modules pause), read by the worker that analyses it.

Revision ID: 0018_ptz_state
Revises: 0016_count_rollups
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_ptz_state"
down_revision = "0016_count_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ptz_positions",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("preset", sa.String(64), nullable=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("resume_ms", sa.BigInteger, nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_ptz_positions"),
    )


def downgrade() -> None:
    op.drop_table("ptz_positions")
