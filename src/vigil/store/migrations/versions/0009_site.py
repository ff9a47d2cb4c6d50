"""The site map: a floor plan or tile URL per tenant, and camera placements on it.

Revision ID: 0009_site
Revises: 0006_caption_vectors
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_site"
down_revision = "0008_recordings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_maps",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=True),
        sa.Column("image_type", sa.String(32), nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("tile_url", sa.String(2048), nullable=True),
        sa.Column("center", sa.JSON, nullable=True),
        sa.Column("zoom", sa.Float, nullable=True),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("tenant", name="pk_site_maps"),
    )
    op.create_table(
        "site_places",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("direction_deg", sa.Float, nullable=False),
        sa.Column("fov_deg", sa.Float, nullable=False),
        sa.Column("range", sa.Float, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_site_places"),
    )
    op.create_index("ix_site_places_tenant", "site_places", ["tenant"])


def downgrade() -> None:
    op.drop_table("site_places")
    op.drop_table("site_maps")
