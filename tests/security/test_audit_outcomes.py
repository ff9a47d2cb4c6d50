"""The audit log tells the truth: a change that was refused or failed is recorded as denied or
failed with the reason, not as allowed (authorize used to record it before the handler ran)."""

from __future__ import annotations

from typing import Any

from tests.security.conftest import World


def records(world: World, action: str) -> list[Any]:
    return [r for r in world.app.state.audit.query(tenants=None) if r.action == action]


def test_a_refused_camera_is_recorded_as_failed_with_the_reason(world: World) -> None:
    admin = world.client("alpha:admin")
    body = {"id": "alpha:probe", "tenant": "alpha", "url": "http://169.254.169.254/"}
    assert admin.post("/api/cameras", json=body).status_code == 422
    [record] = [r for r in records(world, "camera.change")]
    assert record.outcome == "failed"
    assert record.details["status"] == 422
    assert record.details["error"] == "body.url: refused by policy"


def test_a_conflict_and_a_success_are_told_apart(world: World) -> None:
    admin = world.client("alpha:admin")
    body = {"id": "alpha:new", "tenant": "alpha", "url": "rtsp://10.0.0.7/s"}
    assert admin.post("/api/cameras", json=body).status_code == 201
    assert admin.post("/api/cameras", json=body).status_code == 409
    outcomes = [(r.outcome, r.details.get("status")) for r in records(world, "camera.change")]
    assert sorted(outcomes, key=str) == sorted([("allowed", None), ("failed", 409)], key=str)


def test_a_denied_change_is_recorded_as_denied(world: World) -> None:
    operator = world.client("alpha:operator")
    body = {"id": "alpha:x", "tenant": "alpha", "url": "rtsp://10.0.0.7/s"}
    assert operator.post("/api/cameras", json=body).status_code == 403
    assert [r.outcome for r in records(world, "camera.change")] == ["denied"]
