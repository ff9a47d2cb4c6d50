"""Recording retention by crypto-shredding: an expired hour's key is deleted first, then its
segments. Once the key row is committed the hour is unreadable everywhere, so a crash before the
segments are deleted (or a backup of them) leaks nothing; the next run deletes what is left.

Hours are kept `retention_hours` (the camera's `recording.retention_hours`, else the global
one), except those an open case holds (vigil.recording.locks). A tenant over its quota loses its
oldest unlocked hours first; at `warn_ratio` of the quota it is warned (log, /metrics, API).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from vigil.config import CameraConfig, RecordingConfig
from vigil.domain.frames import now_ms
from vigil.privacy.audit import AuditLog
from vigil.privacy.quota import evict_oldest
from vigil.recording.hourfiles import hour_prefix
from vigil.recording.index import SegmentIndex
from vigil.recording.keys import HOUR_MS, KeyStore
from vigil.recording.locks import LockedRange, hour_locked, locked_ranges
from vigil.store.media import MediaStore

log = logging.getLogger(__name__)


@dataclass
class ShredReport:
    hours_shredded: int = 0
    segments_deleted: int = 0
    bytes_freed: int = 0
    hours_locked: int = 0  # expired hours kept for an open case
    usage: dict[str, int] = field(default_factory=dict)  # recorded bytes per tenant, after
    warned: list[str] = field(default_factory=list)  # tenants at or above the warn ratio


class RecordingRetention:
    def __init__(
        self,
        engine: sa.Engine,
        media: MediaStore,
        config: RecordingConfig,
        *,
        cameras: Callable[[], Iterable[CameraConfig]] = list,
        audit: AuditLog | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.engine = engine
        self.media = media
        self.config = config
        self.cameras = cameras
        self.audit = audit
        self.clock = clock
        self.keys = KeyStore(engine)
        self.index = SegmentIndex(engine)
        self.last_report: ShredReport | None = None

    def hours_for(self, camera: CameraConfig | None) -> float:
        own = camera.recording if camera is not None else None
        if own is not None and own.retention_hours is not None:
            return own.retention_hours
        return self.config.retention_hours

    def run_once(self) -> ShredReport:
        now = self.clock()
        report = ShredReport()
        configured = {camera.id: camera for camera in self.cameras()}
        shortest = min(
            [self.hours_for(c) for c in configured.values()] + [self.config.retention_hours]
        )
        locks: dict[str, list[LockedRange]] = {}
        cutoff = now - int(shortest * HOUR_MS)
        # Keys too: an hour whose segments never got indexed (a crash before the writer's
        # commit) has a key and unindexed ciphertext, and must be shredded all the same.
        hours = set(self.index.hours_before(cutoff)) | set(self.keys.hours_before(cutoff))
        for tenant, camera_id, hour in sorted(hours, key=lambda item: item[2]):
            keep_ms = int(self.hours_for(configured.get(camera_id)) * HOUR_MS)
            if hour + HOUR_MS > now - keep_ms:
                continue  # part of the hour is still within retention
            ranges = locks.setdefault(tenant, locked_ranges(self.engine, tenant))
            if hour_locked(ranges, camera_id, hour, HOUR_MS):
                report.hours_locked += 1
                continue
            self.shred(tenant, camera_id, hour, report, why="expired")
        self._enforce_quota(report, locks)
        self.last_report = report
        return report

    def shred(
        self, tenant: str, camera_id: str, hour_ms: int, report: ShredReport, why: str
    ) -> None:
        segments = self.index.hour_segments(tenant, camera_id, hour_ms)
        self.keys.shred(tenant, camera_id, hour_ms)  # first: from here on nothing opens
        # The hour's directory, whatever it holds: its hour files (every row's file is in
        # its hour's directory), and files no row names — a crash's, or one file per
        # segment from before hour files.
        self.media.delete_prefix(hour_prefix(tenant, camera_id, hour_ms))
        self.index.forget([row.id for row in segments])
        freed = sum(row.bytes for row in segments)
        report.hours_shredded += 1
        report.segments_deleted += len(segments)
        report.bytes_freed += freed
        if self.audit is not None:
            self.audit.append(
                "recording.shred",
                actor="system",
                role="system",
                tenant=tenant,
                target=f"camera:{camera_id}",
                details={"hour_ms": hour_ms, "segments": len(segments), "bytes": freed, "why": why},
            )

    def _enforce_quota(self, report: ShredReport, locks: dict[str, list[LockedRange]]) -> None:
        usage = self.index.bytes_by_tenant()
        quota_mb = self.config.quota_mb_per_tenant
        if quota_mb is not None:
            quota = int(quota_mb * 1024 * 1024)
            for tenant, used in usage.items():
                if used <= quota:
                    continue
                ranges = locks.setdefault(tenant, locked_ranges(self.engine, tenant))
                unlocked = (
                    (camera_id, hour, size)
                    for camera_id, hour, size in self.index.hours_of_tenant(tenant)
                    if not hour_locked(ranges, camera_id, hour, HOUR_MS)
                )

                def shred(hour: tuple[str, int, int], tenant: str = tenant) -> int:
                    self.shred(tenant, hour[0], hour[1], report, why="quota")
                    return hour[2]

                usage[tenant] = evict_oldest(used, quota, unlocked, shred)
            report.warned = sorted(
                t for t, used in usage.items() if used >= quota * self.config.warn_ratio
            )
            for tenant in report.warned:
                log.warning(
                    "recording: tenant %s uses %.0f%% of its %.0f MB quota",
                    tenant,
                    100 * usage[tenant] / quota,
                    quota_mb,
                )
        report.usage = usage
