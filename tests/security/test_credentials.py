"""Credentials never widen: nobody mints a token for another user, and a token never carries
more than its creator holds. Today's failure this guards against: a system administrator (no
media rights) minting a token for a tenant admin and reading snapshots with it."""

from __future__ import annotations

import pytest

from tests.security.conftest import World


def token_count(world: World, user: str) -> int:
    return len(world.auth.store.list_tokens([world.user_ids[user]]))


@pytest.mark.parametrize(
    ("caller", "target"),
    [
        ("root", "alpha:admin"),  # sysadmin → media rights
        ("root", "dpo"),  # sysadmin → the whole audit log
        ("alpha:admin", "alpha:auditor"),  # tenant admin → audit rights
        ("alpha:admin", "alpha:operator"),
    ],
)
def test_nobody_mints_a_token_for_someone_else(world: World, caller: str, target: str) -> None:
    before = token_count(world, target)
    for client in (world.client(caller), world.session(caller)):
        response = client.post(
            f"/api/users/{world.user_ids[target]}/tokens", json={"name": "borrowed"}
        )
        assert response.status_code in (403, 404), response.text
        assert "token" not in response.json()
    assert token_count(world, target) == before


def test_own_token_through_the_users_route_needs_a_session(world: World) -> None:
    own = world.user_ids["alpha:admin"]
    assert (
        world.client("alpha:admin")
        .post(f"/api/users/{own}/tokens", json={"name": "chained"})
        .status_code
        == 403
    )
    created = world.session("alpha:admin").post(
        f"/api/users/{own}/tokens", json={"name": "mine", "scopes": ["stats:read"]}
    )
    assert created.status_code == 201, created.text
    assert created.json()["scopes"] == ["stats:read"]


def test_a_session_cannot_create_a_token_wider_than_itself(world: World) -> None:
    viewer = world.session("alpha:viewer")
    wide = viewer.post("/api/auth/tokens", json={"name": "x", "scopes": ["media:read"]})
    assert wide.status_code == 422
    assert token_count(world, "alpha:viewer") == 1  # the fixture's own
