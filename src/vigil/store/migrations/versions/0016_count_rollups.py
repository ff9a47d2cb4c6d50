"""Hourly count rollups kept by triggers on `events` (GET /api/counts at a million events,
issue 18), filled from the events already stored.

Revision ID: 0016_count_rollups
Revises: 0015_recording_hour_files
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.count_rollups import POSTGRES_DROPS, SQLITE_DROPS, backfill, install_triggers

revision = "0016_count_rollups"
down_revision = "0015_recording_hour_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "count_rollups",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("line", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(128), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "camera_id", "hour", "type", "line", "zone", "class_name", "direction",
            name="pk_count_rollups",
        ),
    )
    op.create_index("ix_count_rollups_tenant_hour", "count_rollups", ["tenant", "hour"])
    connection = op.get_bind()
    backfill(connection)
    install_triggers(connection)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DROPS if postgres else SQLITE_DROPS:
        op.execute(statement)
    op.drop_table("count_rollups")
