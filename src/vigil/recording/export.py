"""Evidence export: a face-redacted H.264 MP4 of a camera range, its SHA-256 recorded in the
hash-chained audit log with who exported it, why and for which case — so anyone holding the
file can check (`vigil export verify FILE`) that it is byte for byte the one Vigil produced."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from vigil.store.schema import audit_log

EXPORT_ACTION = "recording.export"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(
    *,
    camera_id: str,
    tenant: str,
    start: str,
    end: str,
    user: str,
    purpose: str,
    case_id: str | None,
    sha256: str,
    size: int,
    frames: int,
) -> dict[str, Any]:
    return {
        "camera_id": camera_id,
        "tenant": tenant,
        "start": start,
        "end": end,
        "user": user,
        "purpose": purpose,
        "case_id": case_id,
        "sha256": sha256,
        "bytes": size,
        "frames": frames,
        "format": "video/mp4 (H.264), faces redacted",
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    sha256: str
    record: dict[str, Any] | None  # the audit record of the export, when found

    def describe(self) -> str:
        if not self.ok or self.record is None:
            return f"NOT an export recorded by this Vigil (sha256 {self.sha256})"
        details = self.record["details"]
        when = datetime.fromtimestamp(self.record["ts_ms"] / 1000, tz=UTC).isoformat()
        return (
            f"OK: exported by {self.record['actor']} at {when} "
            f"(audit record {self.record['seq']}), camera {details.get('camera_id')}, "
            f"{details.get('start')} to {details.get('end')}, purpose "
            f"{details.get('purpose')!r}, case {details.get('case_id')}, sha256 {self.sha256}"
        )


def lookup(engine: sa.Engine, digest: str) -> dict[str, Any] | None:
    """The audit record of the export whose file has this SHA-256, if any."""
    statement = (
        sa.select(audit_log)
        .where(audit_log.c.action == EXPORT_ACTION, audit_log.c.target == f"sha256:{digest}")
        .order_by(audit_log.c.seq)
        .limit(1)
    )
    with engine.connect() as c:
        row = c.execute(statement).mappings().first()
    return None if row is None else dict(row)


def verify(engine: sa.Engine, data: bytes) -> Verdict:
    """Whether `data` is an export the audit log recorded (by its SHA-256)."""
    digest = sha256_hex(data)
    record = lookup(engine, digest)
    return Verdict(record is not None, digest, record)
