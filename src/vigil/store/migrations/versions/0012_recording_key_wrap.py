"""Recording keys wrapped under the master key of `security.key_file`: a column that says how
each key is stored. Rows already there stay NULL (stored as they are) until a process holding
the key file wraps them in place (`KeyStore.wrap_legacy`): a migration cannot read that file.

Revision ID: 0012_recording_key_wrap
Revises: 0011_login_failures
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_recording_key_wrap"
down_revision = "0011_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recording_keys") as batch:
        batch.add_column(sa.Column("wrapping", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recording_keys") as batch:
        batch.drop_column("wrapping")
