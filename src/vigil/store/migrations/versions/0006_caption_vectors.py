"""Caption vectors shared by the API nodes of a cluster (the search index's embedding cache).

Revision ID: 0006_caption_vectors
Revises: 0005_identity
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_caption_vectors"
down_revision = "0005_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "caption_vectors",
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model", "digest", name="pk_caption_vectors"),
    )
    op.create_index("ix_caption_vectors_created_ms", "caption_vectors", ["created_ms"])


def downgrade() -> None:
    op.drop_table("caption_vectors")
