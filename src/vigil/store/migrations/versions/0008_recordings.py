"""Recordings: the segment index, the per tenant/camera/hour encryption keys, and the
ranges cases keep.

Revision ID: 0008_recordings
Revises: 0006_caption_vectors
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_recordings"
down_revision = "0006_caption_vectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_segments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("hour_ms", sa.BigInteger, nullable=False),
        sa.Column("media_key", sa.String(1024), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("codec", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recording_segments"),
    )
    op.create_index(
        "ix_recording_segments_camera_id_start_ms",
        "recording_segments",
        ["camera_id", "start_ms"],
    )
    op.create_index(
        "ix_recording_segments_tenant_camera_id_hour_ms",
        "recording_segments",
        ["tenant", "camera_id", "hour_ms"],
    )
    op.create_table(
        "recording_keys",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("hour_ms", sa.BigInteger, nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "camera_id", "hour_ms", name="pk_recording_keys"),
    )


    op.create_table(
        "recording_locks",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recording_locks"),
    )
    op.create_index("ix_recording_locks_case_id", "recording_locks", ["case_id"])


def downgrade() -> None:
    op.drop_table("recording_locks")
    op.drop_table("recording_keys")
    op.drop_table("recording_segments")
