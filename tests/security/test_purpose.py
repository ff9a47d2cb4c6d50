"""Purpose rules are consistent: code, docs/security.md and tests agree on when an
investigator must say why."""

from __future__ import annotations

from tests.security.conftest import World


def test_investigators_get_the_live_feed_only_with_a_stated_purpose(world: World) -> None:
    """docs/security.md: events, including the live feed, need a purpose from investigators."""
    investigator = world.client("alpha:investigator")
    refused = investigator.get("/api/events/stream")
    assert refused.status_code == 403 and "purpose" in refused.json()["detail"]
    with investigator.stream("GET", "/api/events/stream?purpose=case 2026-117") as response:
        assert response.status_code == 200
    # Other roles do not need one (the operator's feed opens; closed at once by the client).
    with world.client("alpha:operator").stream("GET", "/api/events/stream") as response:
        assert response.status_code == 200
