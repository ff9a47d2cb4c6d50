"""Retention by age and size, per camera and tenant, with evidence locks; a moved clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import build_event
from tests.databases import database_url
from tests.security.conftest import World
from vigil.auth.store import AuthStore
from vigil.config import CameraConfig, RetentionConfig, parse_camera
from vigil.domain.events import Event
from vigil.privacy.audit import AuditLog
from vigil.privacy.retention import CaseStore, RetentionJob
from vigil.store import EventStore, LocalMediaStore, media_key

DAY, HOUR = 86_400_000, 3_600_000
NOW = 1_800_000_000_000


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class Site:
    def __init__(self, tmp_path: Path, config: RetentionConfig,
                 cameras: list[CameraConfig] | None = None) -> None:
        self.store = EventStore(database_url(tmp_path))
        self.store.migrate()
        self.media = LocalMediaStore(tmp_path / "media")
        self.auth = AuthStore(self.store.engine)
        self.audit = AuditLog(self.store.engine)
        self.clock = Clock(NOW)
        self.cases = CaseStore(self.store.engine)
        self.job = RetentionJob(self.store.engine, self.media, config, self.auth,
                                cameras=lambda: cameras or [], audit=self.audit,
                                clock=self.clock)

    def event(self, age_ms: int, tenant: str = "city", camera: str = "gate",
              size: int = 1000) -> Event:
        start = NOW - age_ms
        event = build_event(tenant=tenant, camera_id=camera, start_ms=start)
        key = media_key(tenant, camera, start, event.id)
        self.media.put(key, b"\xff\xd8" + b"x" * (size - 2), "image/jpeg")
        event = event.model_copy(update={"snapshot": key})
        self.store.upsert_events([event])
        return event

    def state(self, event: Event) -> str:
        stored = self.store.get_event(event.id)
        if stored is None:
            assert not self.media.exists(event.snapshot or "")
            return "deleted"
        if stored.snapshot is None:
            assert not self.media.exists(event.snapshot or "")
            return "no media"
        assert self.media.exists(stored.snapshot)
        return "kept"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, RetentionConfig(events_days=30, media_hours=72))


def test_events_and_media_expire_by_age_and_the_job_reports_it(site: Site) -> None:
    old = site.event(31 * DAY)
    stale_media = site.event(73 * HOUR)
    fresh = site.event(71 * HOUR)
    report = site.job.run_once()
    assert [site.state(e) for e in (old, stale_media, fresh)] == ["deleted", "no media", "kept"]
    assert (report.events_deleted, report.snapshots_deleted, report.bytes_freed) == (1, 2, 2000)
    assert (site.job.runs, site.job.events_deleted, site.job.snapshots_deleted) == (1, 1, 2)
    records = site.audit.query(tenants=None)
    assert [r.action for r in records[:2]] == ["retention.run", "retention.delete"]
    assert records[1].tenant == "city" and records[1].details["events_deleted"] == 1
    assert site.audit.verify().ok
    # Time passes: the fresh event's snapshot goes too, then the event itself.
    site.clock.ms += 2 * HOUR
    site.job.run_once()
    assert site.state(fresh) == "no media"
    site.clock.ms += 30 * DAY
    site.job.run_once()
    assert site.state(fresh) == site.state(stale_media) == "deleted"


def test_a_case_locks_its_events_and_media_until_released(site: Site) -> None:
    kept = site.event(40 * DAY)
    loose = site.event(40 * DAY)
    case = site.cases.create("city", "theft 17", "court order 2026/17", "investigator")
    site.cases.add_events(case, [kept.id])
    site.job.run_once()
    assert site.state(kept) == "kept" and site.state(loose) == "deleted"
    site.clock.ms += 365 * DAY
    site.job.run_once()
    assert site.state(kept) == "kept"
    locked_case = site.cases.get(case.id, ["city"])
    assert locked_case is not None
    site.cases.release(locked_case, "admin")
    site.job.run_once()
    assert site.state(kept) == "deleted"


@pytest.mark.parametrize("age", [40 * DAY, 80 * HOUR], ids=["event expires", "media expires"])
def test_a_case_that_takes_an_event_during_a_pass_keeps_it_whole(site: Site, age: int) -> None:
    evidence = site.event(age)
    case = site.cases.create("city", "theft 18", "court order 2026/18", "investigator")
    select = site.job._select

    def investigator_locks_it_meanwhile(*args: object, **kwargs: object) -> object:
        rows = select(*args, **kwargs)  # type: ignore[arg-type]
        if rows:
            site.cases.add_events(case, [evidence.id])  # between selection and deletion
        return rows

    site.job._select = investigator_locks_it_meanwhile  # type: ignore[method-assign]
    report = site.job.run_once()
    assert site.state(evidence) == "kept"
    assert (report.events_deleted, report.snapshots_deleted) == (0, 0)


def test_tenant_and_camera_settings_override_the_global_ones(tmp_path: Path) -> None:
    cameras = [parse_camera({"id": "lobby", "tenant": "city", "url": "x.mp4",
                             "retention": {"events_days": 2, "media_hours": 1}})]
    site = Site(tmp_path, RetentionConfig(events_days=30, media_hours=72), cameras)
    site.auth.update_tenant_settings("harbour", {"retention": {"events_days": 5}})
    city_gate = site.event(10 * DAY, tenant="city", camera="gate")
    city_lobby = site.event(3 * DAY, tenant="city", camera="lobby")
    lobby_recent = site.event(2 * HOUR, tenant="city", camera="lobby")
    harbour = site.event(6 * DAY, tenant="harbour", camera="dock")
    site.job.run_once()
    assert site.state(city_gate) == "no media"  # global: 30 days, 72 hours
    assert site.state(city_lobby) == "deleted"  # camera: 2 days
    assert site.state(lobby_recent) == "no media"  # camera: 1 hour of media
    assert site.state(harbour) == "deleted"  # tenant: 5 days
    assert site.job.policy_for("harbour", None).source == "tenant"
    assert site.job.policy_for("city", cameras[0]).source == "camera"


def test_the_media_quota_removes_the_oldest_unlocked_snapshots(tmp_path: Path) -> None:
    site = Site(tmp_path, RetentionConfig(events_days=30, media_hours=72,
                                          media_quota_mb=0.01))  # 10485 bytes
    events = [site.event(HOUR * (10 - i), size=3000) for i in range(6)]  # 18 kB, oldest first
    case = site.cases.create("city", "keep", "evidence", "x")
    site.cases.add_events(case, [events[0].id])
    report = site.job.run_once()
    states = [site.state(e) for e in events]
    assert states == ["kept", "no media", "no media", "no media", "kept", "kept"]
    assert report.media_bytes is not None and report.media_bytes <= 10485
    assert report.quota_bytes == 10485


def test_the_api_shows_and_changes_a_tenants_retention(world: World) -> None:
    admin = world.session("alpha:admin")
    shown = admin.get("/api/retention").json()
    assert shown["global"] == {"events_days": 30.0, "media_hours": 72.0, "source": "global"}
    assert {c["camera_id"] for c in shown["cameras"]} == {"alpha:gate", "alpha:dock"}
    changed = admin.put("/api/retention", json={"events_days": 7, "media_hours": 24})
    assert changed.status_code == 200
    assert changed.json()["tenant_override"] == {"events_days": 7.0, "media_hours": 24.0}
    assert world.client("bravo:admin").get("/api/retention").json()["tenant_override"] == {}
    run = admin.post("/api/retention/run")
    assert run.status_code == 200 and set(run.json()) == {
        "ran", "events_deleted", "snapshots_deleted", "bytes_freed"}
    assert world.client("alpha:operator").put("/api/retention", json={}).status_code == 403
    metrics = world.client("root").get("/metrics").text
    assert "vigil_retention_runs_total 1.0" in metrics
    actions = {r["action"] for r in world.client("alpha:auditor").get("/api/audit").json()["items"]}
    assert {"retention.settings", "retention.run"} <= actions


def test_cases_through_the_api(world: World) -> None:
    investigator = world.client("alpha:investigator", **{"X-Vigil-Purpose": "case 3"})
    event = world.events["alpha"].id
    made = investigator.post("/api/cases", json={"name": "Theft", "purpose": "police request 3",
                                                  "event_ids": [event]})
    assert made.status_code == 201 and made.json()["event_ids"] == [event]
    case_id = made.json()["id"]
    other = world.events["bravo"].id
    refused = investigator.post(f"/api/cases/{case_id}/events", json={"event_ids": [other]})
    assert refused.status_code == 404
    assert world.client("bravo:admin").get(f"/api/cases/{case_id}").status_code == 404
    released = investigator.post(f"/api/cases/{case_id}/release")
    assert released.status_code == 200 and released.json()["released"] is not None
    assert investigator.post(f"/api/cases/{case_id}/release").status_code == 409
