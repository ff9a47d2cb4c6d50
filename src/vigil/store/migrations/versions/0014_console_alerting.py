"""Per-camera alert setting (which event types count as alerts on a camera) and alert actions
edited through the API (the operator's console, issue 17).

Revision ID: 0014_console_alerting
Revises: 0012_recording_key_wrap
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_console_alerting"
down_revision = "0012_recording_key_wrap"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_alerting",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("alert_types", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_camera_alerting"),
    )
    op.create_table(
        "alert_actions",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_alert_actions"),
    )


def downgrade() -> None:
    op.drop_table("alert_actions")
    op.drop_table("camera_alerting")
