"""Recording hour files: a camera's segments are appended to one file per hour, so each index
row says where in its file the segment lies (`byte_offset`; 0 for the one-file-per-segment rows
recorded before), and the files a writer still appends to are listed in
`recording_open_files`, so that the bytes a crash left past the last indexed segment are found
and cut off (the orphan sweep, vigil.recording.hourfiles).

Revision ID: 0015_recording_hour_files
Revises: 0014_console_alerting
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_recording_hour_files"
down_revision = "0014_console_alerting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recording_segments") as batch:
        batch.add_column(
            sa.Column("byte_offset", sa.BigInteger, nullable=False, server_default="0")
        )
    op.create_table(
        "recording_open_files",
        sa.Column("media_key", sa.String(1024), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("hour_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("media_key", name="pk_recording_open_files"),
    )


def downgrade() -> None:
    op.drop_table("recording_open_files")
    with op.batch_alter_table("recording_segments") as batch:
        batch.drop_column("byte_offset")
