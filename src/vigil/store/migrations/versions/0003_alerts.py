"""Alert rules created through the API, and fired alerts with their delivery outcomes.

Revision ID: 0003_alerts
Revises: 0002_series
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0002_series"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_index("ix_alert_rules_tenant", "alert_rules", ["tenant"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("rule_name", sa.String(256), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("fired_ms", sa.BigInteger, nullable=False),
        sa.Column("match_count", sa.Integer, nullable=True),
        sa.Column("dedup_key", sa.String(192), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.Column("outcomes", sa.JSON, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'partial', 'failed', 'recorded')",
            name="ck_alerts_status",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("dedup_key", name="uq_alerts_dedup_key"),
    )
    op.create_index("ix_alerts_tenant_fired_ms", "alerts", ["tenant", "fired_ms"])
    op.create_index("ix_alerts_fired_ms_id", "alerts", ["fired_ms", "id"])
    op.create_index("ix_alerts_rule_id_fired_ms", "alerts", ["rule_id", "fired_ms"])
    op.create_index("ix_alerts_camera_id_fired_ms", "alerts", ["camera_id", "fired_ms"])
    op.create_index("ix_alerts_event_id", "alerts", ["event_id"])


def downgrade() -> None:
    for name in (
        "ix_alerts_event_id",
        "ix_alerts_camera_id_fired_ms",
        "ix_alerts_rule_id_fired_ms",
        "ix_alerts_fired_ms_id",
        "ix_alerts_tenant_fired_ms",
    ):
        op.drop_index(name, table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_alert_rules_tenant", table_name="alert_rules")
    op.drop_table("alert_rules")
