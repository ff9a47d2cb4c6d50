"""Retention: events kept N days, media M hours, media volume under a size quota; evidence
locks (cases) exempt what they hold until released.

Settings, most specific first: the camera's `retention:` (config file or camera API), the
tenant's override (set by its admin, audited), the global `retention:` section. A background
job (`RetentionJob.start`) enforces them every `interval_s`; each run deletes what is due, logs
and counts it (/metrics), and appends an audit record per tenant touched and one for the run.
The clock is injectable so tests can move time.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vigil.auth.store import AuthStore
from vigil.auth.tables import case_events, cases
from vigil.config import CameraConfig, RetentionConfig
from vigil.domain.frames import now_ms
from vigil.privacy.audit import AuditLog
from vigil.privacy.quota import evict_oldest
from vigil.recording.retention import RecordingRetention
from vigil.store.dialects import dialect_of
from vigil.store.media import InvalidMediaKey, MediaStore
from vigil.store.schema import caption_vectors, events

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
# Largest per-tenant values (a century); the API refuses more, the job ignores more.
RETENTION_LIMITS = {"events_days": 36_500.0, "media_hours": 876_000.0}


def _usable(value: Any, limit: float | None) -> float | None:
    """`value` as a positive, finite number within `limit`, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not 0 < number <= (limit or float("inf")) or number != number:
        return None
    return number


BATCH = 500
RETENTION_LOCK = 0x56494752  # advisory lock key: one API node of a cluster runs retention


@dataclass(frozen=True, slots=True)
class Policy:
    events_days: float
    media_hours: float
    source: str  # "camera", "tenant" or "global"


@dataclass
class TenantReport:
    events_deleted: int = 0
    snapshots_deleted: int = 0
    bytes_freed: int = 0


@dataclass
class RetentionReport:
    ran_ms: int
    tenants: dict[str, TenantReport] = field(default_factory=dict)
    quota_bytes: int | None = None
    media_bytes: int | None = None
    over_quota_locked: bool = False  # still over quota: only locked media is left
    failures: dict[str, str] = field(default_factory=dict)  # tenant → why its run failed

    def tenant(self, tenant: str) -> TenantReport:
        return self.tenants.setdefault(tenant, TenantReport())

    @property
    def events_deleted(self) -> int:
        return sum(t.events_deleted for t in self.tenants.values())

    @property
    def snapshots_deleted(self) -> int:
        return sum(t.snapshots_deleted for t in self.tenants.values())

    @property
    def bytes_freed(self) -> int:
        return sum(t.bytes_freed for t in self.tenants.values())

    def as_dict(self, tenants: Iterable[str] | None = None) -> dict[str, Any]:
        shown = (
            self.tenants
            if tenants is None
            else {k: v for k, v in self.tenants.items() if k in set(tenants)}
        )
        return {
            "ran_ms": self.ran_ms,
            "events_deleted": sum(t.events_deleted for t in shown.values()),
            "snapshots_deleted": sum(t.snapshots_deleted for t in shown.values()),
            "bytes_freed": sum(t.bytes_freed for t in shown.values()),
            "tenants": {k: vars(v) for k, v in shown.items()},
            **(
                {}
                if tenants is not None
                else {
                    "quota_bytes": self.quota_bytes,
                    "media_bytes": self.media_bytes,
                    "over_quota_locked": self.over_quota_locked,
                }
            ),
        }


def _locked_ids() -> sa.Select[Any]:
    return (
        sa.select(case_events.c.event_id)
        .join(cases, cases.c.id == case_events.c.case_id)
        .where(cases.c.released_ms.is_(None))
    )


class RetentionJob:
    def __init__(
        self,
        engine: sa.Engine,
        media: MediaStore,
        config: RetentionConfig,
        auth: AuthStore,
        *,
        cameras: Callable[[], Iterable[CameraConfig]] = list,
        audit: AuditLog | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.engine = engine
        self.media = media
        self.config = config
        self.auth = auth
        self.cameras = cameras
        self.audit = audit
        self.clock = clock
        self.runs = 0
        self.events_deleted = 0
        self.snapshots_deleted = 0
        self.bytes_freed = 0
        self.last_report: RetentionReport | None = None
        # Recorded video (vigil.recording.retention), shredded by hour on the same schedule.
        self.recordings: RecordingRetention | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # policy --------------------------------------------------------------------------------

    def tenant_override(self, tenant: str) -> dict[str, float]:
        """The tenant's own values; one that is not a usable number (stored by an older
        version, or written past the API) is ignored with a warning, so the global value
        applies rather than the run failing."""
        settings = self.auth.tenant_settings(tenant).get("retention") or {}
        override: dict[str, float] = {}
        for key, value in settings.items():
            if value is None:
                continue
            number = _usable(value, RETENTION_LIMITS.get(key))
            if number is None:
                log.warning("tenant %s: ignoring retention.%s = %r", tenant, key, value)
            else:
                override[key] = number
        return override

    def policy_for(self, tenant: str, camera: CameraConfig | None) -> Policy:
        events_days, media_hours = self.config.events_days, self.config.media_hours
        source = "global"
        override = self.tenant_override(tenant)
        if override:
            events_days = override.get("events_days", events_days)
            media_hours = override.get("media_hours", media_hours)
            source = "tenant"
        own = camera.retention if camera is not None else None
        if own is not None and (own.events_days or own.media_hours):
            events_days = own.events_days or events_days
            media_hours = own.media_hours or media_hours
            source = "camera"
        return Policy(events_days, media_hours, source)

    # enforcement ---------------------------------------------------------------------------

    def run_once(self) -> RetentionReport:
        with self._lock:
            return self._run()

    def _run(self) -> RetentionReport:
        now = self.clock()
        report = RetentionReport(ran_ms=now)
        configured = {camera.id: camera for camera in self.cameras()}
        with self.engine.connect() as c:
            pairs = c.execute(sa.select(events.c.tenant, events.c.camera_id).distinct()).all()
        for tenant, camera_id in pairs:
            # One tenant's failure (a setting, a camera's media) is that tenant's: it is
            # audited with its error and the run goes on for every other tenant.
            try:
                self._expire(report, tenant, configured.get(camera_id), camera_id, now)
            except Exception as error:
                log.exception("retention failed for tenant %s, camera %s", tenant, camera_id)
                report.failures.setdefault(tenant, f"{type(error).__name__}: {error}"[:300])
        self._enforce_quota(report)
        if self.recordings is not None:
            self.recordings.run_once()
        self._expire_caption_vectors(now)
        report.tenants = {k: v for k, v in report.tenants.items() if any(vars(v).values())}
        self._account(report)
        return report

    def _expire(
        self,
        report: RetentionReport,
        tenant: str,
        camera: CameraConfig | None,
        camera_id: str,
        now: int,
    ) -> None:
        policy = self.policy_for(tenant, camera)
        scope = [events.c.tenant == tenant, events.c.camera_id == camera_id]
        ended = sa.func.coalesce(events.c.end_ms, events.c.updated_ms)
        self._delete_events(
            report.tenant(tenant),
            [*scope, ended < now - int(policy.events_days * DAY_MS)],
        )
        self._delete_snapshots(
            report.tenant(tenant),
            [
                *scope,
                events.c.snapshot.is_not(None),
                ended < now - int(policy.media_hours * HOUR_MS),
            ],
        )

    def _expire_caption_vectors(self, now: int) -> None:
        # A cache of the search's sentence vectors (no text, no event), kept no longer than
        # events are by default; a caption whose vector went is embedded again when needed.
        with self.engine.begin() as c:
            c.execute(
                sa.delete(caption_vectors).where(
                    caption_vectors.c.created_ms < now - int(self.config.events_days * DAY_MS)
                )
            )

    def _select(self, where: list[Any], order: bool = False) -> list[tuple[str, str, str | None]]:
        statement = (
            sa.select(events.c.id, events.c.tenant, events.c.snapshot)
            .where(*where, events.c.id.not_in(_locked_ids()))
            .limit(BATCH)
        )
        if order:
            statement = statement.order_by(events.c.start_ms, events.c.id)
        with self.engine.connect() as c:
            return [(row[0], row[1], row[2]) for row in c.execute(statement)]

    def _remove_media(self, key: str | None) -> int:
        if not key:
            return 0
        try:
            size = self.media.size(key)
            self.media.delete(key)
        except InvalidMediaKey:
            return 0
        return size or 0

    def _delete_events(self, tally: TenantReport, where: list[Any]) -> None:
        while rows := self._select(where):
            # Rows first, re-checking evidence locks in the same statement: a case that took
            # an event since it was selected keeps it, and its snapshot, whole.
            with self.engine.begin() as c:
                gone = c.execute(
                    sa.delete(events)
                    .where(events.c.id.in_([r[0] for r in rows]), events.c.id.not_in(_locked_ids()))
                    .returning(events.c.snapshot)
                ).all()
            for (snapshot,) in gone:
                freed = self._remove_media(snapshot)
                if snapshot:
                    tally.snapshots_deleted += 1
                    tally.bytes_freed += freed
            tally.events_deleted += len(gone)

    def _delete_snapshots(self, tally: TenantReport, where: list[Any]) -> None:
        while rows := self._select(where):
            self._forget_snapshots(rows, {rows[0][1]: tally})

    def _forget_snapshots(
        self, rows: list[tuple[str, str, str | None]], tallies: dict[str, TenantReport]
    ) -> int:
        """Unlink the snapshots of `rows` (unless a case took the event meanwhile), then delete
        the files; returns the bytes freed."""
        keys = {event_id: snapshot for event_id, _tenant, snapshot in rows}
        with self.engine.begin() as c:
            forgotten = c.execute(
                sa.update(events)
                .where(events.c.id.in_(list(keys)), events.c.id.not_in(_locked_ids()))
                .values(snapshot=None)
                .returning(events.c.id, events.c.tenant)
            ).all()
        freed_total = 0
        for event_id, tenant in forgotten:
            freed = self._remove_media(keys[event_id])
            tally = tallies.setdefault(tenant, TenantReport())
            tally.snapshots_deleted += 1
            tally.bytes_freed += freed
            freed_total += freed
        return freed_total

    def _enforce_quota(self, report: RetentionReport) -> None:
        quota_mb = self.config.media_quota_mb
        if quota_mb is None:
            return
        quota = int(quota_mb * 1024 * 1024)
        report.quota_bytes = quota
        used = evict_oldest(
            self.media.total_bytes(), quota, self._oldest_snapshots(),
            lambda row: self._forget_snapshots([row], report.tenants),
        )
        report.over_quota_locked = used > quota  # what is left, a case holds
        report.media_bytes = used

    def _oldest_snapshots(self) -> Iterator[tuple[str, str, str | None]]:
        """Events with a snapshot no case holds, oldest first, a batch at a time (each batch
        read after the one before was evicted)."""
        while rows := self._select([events.c.snapshot.is_not(None)], order=True):
            yield from rows

    def _account(self, report: RetentionReport) -> None:
        self.runs += 1
        self.events_deleted += report.events_deleted
        self.snapshots_deleted += report.snapshots_deleted
        self.bytes_freed += report.bytes_freed
        self.last_report = report
        if report.events_deleted or report.snapshots_deleted:
            log.info(
                "retention: deleted %d events and %d snapshots (%d bytes)",
                report.events_deleted,
                report.snapshots_deleted,
                report.bytes_freed,
            )
        if self.audit is None:
            return
        for tenant, tally in report.tenants.items():
            self.audit.append(
                "retention.delete",
                actor="system",
                role="system",
                tenant=tenant,
                target=f"tenant:{tenant}",
                details=vars(tally),
                ts_ms=report.ran_ms,
            )
        for tenant, error in report.failures.items():
            self.audit.append(
                "retention.delete",
                actor="system",
                role="system",
                tenant=tenant,
                target=f"tenant:{tenant}",
                outcome="failed",
                details={"error": error},
                ts_ms=report.ran_ms,
            )
        if report.tenants or report.over_quota_locked or report.failures:
            self.audit.append(
                "retention.run",
                actor="system",
                role="system",
                details=report.as_dict(),
                ts_ms=report.ran_ms,
            )
        seq, head = self.audit.head()
        # An anchor outside the database: removing the newest audit records shows against it.
        log.info("audit chain head: seq=%d hash=%s", seq, head)

    # background ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self._cluster_turn() as mine:
                    if mine:
                        self.run_once()
            except Exception:
                log.exception("retention run failed; retrying at the next interval")
            self._stop.wait(self.config.interval_s)

    @contextmanager
    def _cluster_turn(self) -> Iterator[bool]:
        """Whether this node runs the scheduled pass: with PostgreSQL, the one API node that
        holds the advisory lock (the others skip this interval, so the audit log records each
        deletion once); with SQLite there is one node."""
        if not dialect_of(self.engine).shared:
            yield True
            return
        with self.engine.connect() as connection:
            mine = bool(
                connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": RETENTION_LOCK}
                ).scalar_one()
            )
            try:
                yield mine
            finally:
                if mine:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:key)"), {"key": RETENTION_LOCK}
                    )
                connection.commit()


# --- cases (evidence locks) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    tenant: str
    name: str
    purpose: str
    created_by: str
    created_ms: int
    released_ms: int | None
    released_by: str | None
    event_ids: list[str]


class CaseStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, tenant: str, name: str, purpose: str, created_by: str) -> Case:
        case_id = str(uuid.uuid4())
        with self.engine.begin() as c:
            c.execute(
                sa.insert(cases).values(
                    id=case_id,
                    tenant=tenant,
                    name=name,
                    purpose=purpose,
                    created_by=created_by,
                    created_ms=now_ms(),
                    released_ms=None,
                    released_by=None,
                )
            )
        found = self.get(case_id, [tenant])
        assert found is not None
        return found

    def get(self, case_id: str, tenants: Iterable[str] | None) -> Case | None:
        where = [cases.c.id == case_id]
        if tenants is not None:
            where.append(cases.c.tenant.in_(list(tenants)))
        with self.engine.connect() as c:
            row = c.execute(sa.select(cases).where(*where)).mappings().first()
            if row is None:
                return None
            ids = (
                c.execute(
                    sa.select(case_events.c.event_id)
                    .where(case_events.c.case_id == case_id)
                    .order_by(case_events.c.added_ms, case_events.c.event_id)
                )
                .scalars()
                .all()
            )
        return Case(**row, event_ids=list(ids))

    def all(self, tenants: Iterable[str] | None) -> list[Case]:
        statement = sa.select(cases.c.id).order_by(cases.c.created_ms.desc())
        if tenants is not None:
            statement = statement.where(cases.c.tenant.in_(list(tenants)))
        with self.engine.connect() as c:
            ids = c.execute(statement).scalars().all()
        return [case for case_id in ids if (case := self.get(case_id, tenants)) is not None]

    def missing_events(self, tenant: str, event_ids: Iterable[str]) -> list[str]:
        """Which of these ids are not events of `tenant`."""
        wanted = sorted(set(event_ids))
        with self.engine.connect() as c:
            found = set(
                c.execute(
                    sa.select(events.c.id).where(events.c.id.in_(wanted), events.c.tenant == tenant)
                ).scalars()
            )
        return [event_id for event_id in wanted if event_id not in found]

    def add_events(self, case: Case, event_ids: Iterable[str]) -> list[str]:
        """Lock events of the case's own tenant; returns the ids that were not found there."""
        wanted = sorted(set(event_ids))
        with self.engine.begin() as c:
            found = set(
                c.execute(
                    sa.select(events.c.id).where(
                        events.c.id.in_(wanted), events.c.tenant == case.tenant
                    )
                ).scalars()
            )
            for event_id in sorted(found - set(case.event_ids)):
                c.execute(
                    sa.insert(case_events).values(
                        case_id=case.id, event_id=event_id, added_ms=now_ms()
                    )
                )
        return [event_id for event_id in wanted if event_id not in found]

    def release(self, case: Case, by: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                sa.update(cases)
                .where(cases.c.id == case.id)
                .values(released_ms=now_ms(), released_by=by)
            )
