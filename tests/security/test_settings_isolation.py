"""One tenant's settings cannot hurt another tenant: a stored retention value the job cannot
use does not stop the run for everyone, and a failure is audited as a failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.security.test_retention import DAY, Site
from vigil.config import RetentionConfig


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, RetentionConfig(events_days=30, media_hours=72))


@pytest.mark.parametrize("bad", ["1e400", "soon", -3, 0, [1], 1e12])
def test_a_tenants_unusable_stored_setting_does_not_stop_the_run(site: Site, bad: Any) -> None:
    site.auth.update_tenant_settings("mallory", {"retention": {"events_days": bad}})
    mine = site.event(31 * DAY, tenant="city")
    theirs = site.event(31 * DAY, tenant="mallory", camera="yard")
    report = site.job.run_once()
    assert report.failures == {}
    assert site.state(mine) == "deleted"
    assert site.state(theirs) == "deleted"  # the global 30 days applies to them instead


def test_a_failing_tenant_is_audited_as_failed_and_the_others_still_run(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault no setting can cause any more (the database of one tenant's rows refusing a
    delete, say) is simulated in the one place it would surface."""
    real = site.job.policy_for

    def failing(tenant: str, camera: Any) -> Any:
        if tenant == "mallory":
            raise RuntimeError("disk on fire")
        return real(tenant, camera)

    monkeypatch.setattr(site.job, "policy_for", failing)
    mine = site.event(31 * DAY, tenant="city")
    theirs = site.event(31 * DAY, tenant="mallory", camera="yard")
    report = site.job.run_once()
    assert site.state(mine) == "deleted" and site.state(theirs) == "kept"
    assert report.failures == {"mallory": "RuntimeError: disk on fire"}
    failed = [r for r in site.audit.query(tenants=None) if r.outcome == "failed"]
    assert [(r.action, r.tenant, r.details) for r in failed] == [
        ("retention.delete", "mallory", {"error": "RuntimeError: disk on fire"})
    ]


def test_the_api_refuses_non_finite_and_out_of_range_retention(world: Any) -> None:
    admin = world.client("alpha:admin")
    for body in (
        '{"events_days": NaN}',
        '{"events_days": Infinity}',
        '{"events_days": 1e9}',
        '{"media_hours": -1}',
        '{"media_hours": 0}',
    ):
        response = admin.put(
            "/api/retention", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, body
    assert admin.get("/api/retention").json()["tenant_override"] == {}


def test_one_tenants_failing_alert_rule_does_not_silence_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule that cannot be evaluated (a fault validation now keeps out, simulated where it
    would surface) costs its own tenant's alert, not every tenant's."""
    from tests.alerts.test_rules import message, rule
    from tests.api.conftest import build_event
    from vigil.alerts.rules import RuleEngine

    engine = RuleEngine([rule("mallory-rule", tenant="mallory"), rule("city-rule")])
    real = engine._evaluate

    def failing(rule_config: Any, msg: Any) -> Any:
        if rule_config.id == "mallory-rule":
            raise ZeroDivisionError("a rule nobody can evaluate")
        return real(rule_config, msg)

    monkeypatch.setattr(engine, "_evaluate", failing)
    firings = engine.evaluate(message(build_event()))
    assert [f.rule.id for f in firings] == ["city-rule"]
