"""Events and cameras.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("camera_name", sa.String(256), nullable=False),
        sa.Column("module", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=True),
        sa.Column("class_id", sa.Integer, nullable=True),
        sa.Column("track_id", sa.Integer, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("box", sa.JSON, nullable=True),
        sa.Column("color", sa.String(32), nullable=True),
        sa.Column("zone", sa.String(128), nullable=True),
        sa.Column("line", sa.String(128), nullable=True),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.Column("dwell_s", sa.Float, nullable=True),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("snapshot", sa.String(1024), nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_tenant_start_ms", "events", ["tenant", "start_ms"])
    op.create_index("ix_events_camera_id_start_ms", "events", ["camera_id", "start_ms"])
    op.create_index("ix_events_start_ms_id", "events", ["start_ms", "id"])
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_class_name", "events", ["class_name"])
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.CheckConstraint("origin IN ('config', 'api')", name="ck_cameras_origin"),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
    )
    op.create_index("ix_cameras_tenant", "cameras", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_cameras_tenant", table_name="cameras")
    op.drop_table("cameras")
    for name in (
        "ix_events_class_name",
        "ix_events_type",
        "ix_events_start_ms_id",
        "ix_events_camera_id_start_ms",
        "ix_events_tenant_start_ms",
    ):
        op.drop_index(name, table_name="events")
    op.drop_table("events")
