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

# Hourly counts of line crossings and zone entries, kept by triggers on `events`
# (vigil.store.count_rollups): GET /api/counts reads whole hours here instead of every event.
count_rollups = sa.Table(
    "count_rollups",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("hour", sa.BigInteger, nullable=False),  # start_ms // 3,600,000
    sa.Column("type", sa.String(64), nullable=False),
    # '' for NULL: primary key columns cannot be NULL.
    sa.Column("line", sa.String(128), nullable=False),
    sa.Column("zone", sa.String(128), nullable=False),
    sa.Column("class_name", sa.String(64), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint(
        "tenant",
        "camera_id",
        "hour",
        "type",
        "line",
        "zone",
        "class_name",
        "direction",
        name="pk_count_rollups",
    ),
    sa.Index(None, "tenant", "hour"),
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

# Alert rules created through the API; rules of the config file are read from the config.
# `spec` is the whole rule as the API accepts it (vigil.alerts.config.RuleConfig).
alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "tenant"),
)

# Every fired alert, with the outcome of each of its actions in `outcomes` (by action name:
# status, attempts, last error, recent attempts). `dedup_key` makes firing idempotent: the same
# rule and event (and, for rules that repeat on updates, the same message) is stored once, even
# when the bus delivers a message again after a restart.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
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
        "status IN ('pending', 'delivered', 'partial', 'failed', 'recorded')", name="status"
    ),
    sa.UniqueConstraint("dedup_key"),
    sa.Index(None, "tenant", "fired_ms"),
    sa.Index(None, "fired_ms", "id"),
    sa.Index(None, "rule_id", "fired_ms"),
    sa.Index(None, "camera_id", "fired_ms"),
    sa.Index(None, "event_id"),
)

# Where each PTZ camera points as the API last moved it (vigil.store.ptz_rows): workers
# analyse the camera with that preset's geometry, without modules while it is paused.
ptz_positions = sa.Table(
    "ptz_positions",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("preset", sa.String(64), nullable=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("resume_ms", sa.BigInteger, nullable=True),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# Identity, audit chain and evidence (issue 4; vigil.auth, vigil.privacy.audit/retention).
tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    # person_colors, retention overrides: changed only through audited admin actions.
    sa.Column("settings", sa.JSON, nullable=False),
)

camera_groups = sa.Table(
    "camera_groups",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("cameras", sa.JSON, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=True),  # None for system administrators
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("camera_groups", sa.JSON, nullable=False),  # [] = every camera of the tenant
    sa.Column("password_hash", sa.String(256), nullable=False),  # argon2id, PHC string
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until_ms", sa.BigInteger, nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Column("last_login_ms", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("username"),
    sa.Index(None, "tenant"),
)

# The session token itself is never stored: `id` is its SHA-256.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(512), nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Index(None, "user_id"),
)

# Bearer tokens `vgl_<id>_<secret>`: only the SHA-256 of the secret is stored.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column(
        "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=True),  # None = the owner's role, else a subset
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("last_used_ms", sa.BigInteger, nullable=True),
    sa.Column("revoked_ms", sa.BigInteger, nullable=True),
    sa.Index(None, "user_id"),
)

# Wrong passwords per account AND source address (issue 13): a guesser at one address locks
# the account for that address only, so nobody can lock a victim out of their own address.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column(
        "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until_ms", sa.BigInteger, nullable=True),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# One-time login links (the demo's, and `vigil users login-link`): SHA-256 of the code.
login_links = sa.Table(
    "login_links",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("used_ms", sa.BigInteger, nullable=True),
)

# Append-only, hash-chained: see vigil.privacy.audit for the canonical form.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("purpose", sa.String(512), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index(None, "tenant", "ts_ms"),
    sa.Index(None, "ts_ms"),
)

# Evidence locks: events (and their media) in an open case are exempt from retention.
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("purpose", sa.String(512), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("released_ms", sa.BigInteger, nullable=True),
    sa.Column("released_by", sa.String(128), nullable=True),
    sa.Index(None, "tenant"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column(
        "case_id", sa.String(36), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("added_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "event_id"),
)

# Sentence vectors of search captions, by model and a digest of the caption's text: every API
# node of a cluster indexes every event, and one node's embedding spares the others (and a new
# node rebuilding its index) the model's work. A cache: retention drops old rows, and a caption
# whose vector is gone is embedded again. No text, no event id: the digest is all it keeps.
caption_vectors = sa.Table(
    "caption_vectors",
    metadata,
    sa.Column("model", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "created_ms"),
)

# The site map of a tenant: an uploaded floor plan (offline) or a tile server's URL template,
# and where each camera stands on it, looking which way, seeing how wide.
site_maps = sa.Table(
    "site_maps",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("image", sa.LargeBinary, nullable=True),
    sa.Column("image_type", sa.String(32), nullable=True),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("tile_url", sa.String(2048), nullable=True),
    sa.Column("center", sa.JSON, nullable=True),
    sa.Column("zoom", sa.Float, nullable=True),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

site_places = sa.Table(
    "site_places",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("direction_deg", sa.Float, nullable=False),
    sa.Column("fov_deg", sa.Float, nullable=False),
    sa.Column("range", sa.Float, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "tenant"),
)

# Recordings (vigil.recording): encrypted segments of each camera's own stream, indexed here;
# the bytes live in the media store. One row per segment; `hour_ms` names the key that
# encrypts it, so retention finds an hour's segments by (tenant, camera, hour).
recording_segments = sa.Table(
    "recording_segments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("start_ms", sa.BigInteger, nullable=False),
    sa.Column("end_ms", sa.BigInteger, nullable=False),
    sa.Column("hour_ms", sa.BigInteger, nullable=False),
    sa.Column("media_key", sa.String(1024), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    # Where the sealed segment starts in its camera-hour file (0: a file of its own).
    sa.Column("byte_offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("codec", sa.String(32), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    # Time-range reads filter by camera and start: one index range scan per camera.
    sa.Index(None, "camera_id", "start_ms"),
    sa.Index(None, "tenant", "camera_id", "hour_ms"),
)

# Recording hour files a writer still appends to: bytes past their last indexed segment are a
# crash's leftovers, which the orphan sweep cuts off. A row goes when its file is complete.
recording_open_files = sa.Table(
    "recording_open_files",
    metadata,
    sa.Column("media_key", sa.String(1024), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("hour_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# The per tenant/camera/hour AES-256-GCM keys of recordings, kept in the database and never
# beside the segments: deleting a row makes that hour's segments unreadable everywhere,
# backups of the media store included (crypto-shredding).
recording_keys = sa.Table(
    "recording_keys",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("hour_ms", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.LargeBinary, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    # How `key` is stored: "aes-gcm-v1" wrapped under the key file's master key; NULL for a
    # row written before wrapping existed, wrapped in place when a process with the key starts.
    sa.Column("wrapping", sa.String(16), nullable=True),
)

# Ranges of recorded video a case keeps (an export made for the case): retention leaves the
# hours they touch, keys included, until the case is released.
recording_locks = sa.Table(
    "recording_locks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(36), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("start_ms", sa.BigInteger, nullable=False),
    sa.Column("end_ms", sa.BigInteger, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "case_id"),
)

# What people and the escalation did about a fired alert (issue 17): who acknowledged it, when,
# with which note; when it was escalated (sent through the rule's second action because nobody
# acknowledged it in time) and each escalation action's outcome. One row per alert at most,
# written on the first of these; fired alerts themselves stay as the evaluator wrote them.
alert_acks = sa.Table(
    "alert_acks",
    metadata,
    sa.Column("alert_id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("acked_ms", sa.BigInteger, nullable=True),
    sa.Column("acked_by", sa.String(128), nullable=True),
    sa.Column("note", sa.String(1000), nullable=True),
    sa.Column("escalated_ms", sa.BigInteger, nullable=True),
    sa.Column("escalation", sa.JSON, nullable=True),
    sa.Index(None, "tenant", "acked_ms"),
)

# Review items an operator marked reviewed, per tenant (vigil.store.review says why not per
# user), by the id of the item's first event.
review_marks = sa.Table(
    "review_marks",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("item_id", sa.String(36), primary_key=True),
    sa.Column("reviewed_by", sa.String(128), nullable=False),
    sa.Column("reviewed_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "item_id"),
)

# Per camera: which event types count as alerts there (the rest is just recorded); a camera
# without a row keeps the default (vigil.domain.alert_types).
camera_alerting = sa.Table(
    "camera_alerting",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("alert_types", sa.JSON, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# Alert actions added and edited through the API (webhook, MQTT, e-mail), per tenant; names are
# unique across tenants and those of the config file (vigil.alerts.stored_actions).
alert_actions = sa.Table(
    "alert_actions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)
