"""The event store's tables, in SQLAlchemy Core. The Alembic migrations create exactly these.

Types are portable (SQLite now, PostgreSQL later): epoch milliseconds are BigInteger, ids are
36-character UUID strings, and JSON columns map to JSON on SQLite and JSON on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

# Constraint names are fixed so that later migrations can refer to them on every dialect.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
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
    # Keyset pagination orders by (start_ms, id); each index ends with the sort key so a
    # filtered, newest-first page is an index range scan.
    sa.Index(None, "tenant", "start_ms"),
    sa.Index(None, "camera_id", "start_ms"),
    sa.Index(None, "start_ms", "id"),
    sa.Index(None, "type"),
    sa.Index(None, "class_name"),
)

cameras = sa.Table(
    "cameras",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.CheckConstraint("origin IN ('config', 'api')", name="origin"),
    sa.Index(None, "tenant"),
)

# Per-minute aggregates of module samples (occupancy, queue length, speed …). One row per
# camera, module, metric, place, class and minute; '' stands for "no place" / "all classes"
# because primary-key columns cannot be NULL on every dialect.
series = sa.Table(
    "series",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("module", sa.String(64), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("place", sa.String(128), primary_key=True),
    sa.Column("class_name", sa.String(64), primary_key=True),
    sa.Column("bucket_ms", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("min", sa.Float, nullable=False),
    sa.Column("max", sa.Float, nullable=False),
    sa.Index(None, "tenant", "bucket_ms"),
)
