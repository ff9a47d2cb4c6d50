"""Open streams follow revocation: an event feed (SSE) or live view (MJPEG) opened with a
token ends soon after the token is revoked, the user is disabled or deleted, or their role or
camera groups change so that the stream is no longer theirs to see. Real uvicorn, real HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.api.conftest import serve
from tests.security.conftest import World
from vigil.auth.roles import Role
from vigil.domain.frames import now_ms

# The promise is 5 s; the test allows twice that before calling the stream stuck.
GIVE_UP_S = 10.0


@pytest.fixture
def url(world: World) -> Iterator[str]:
    world.app.state.context.sse_keepalive_s = 0.2  # keep bytes flowing on an idle feed
    with serve(world.app) as base:
        yield base


def fresh_token(world: World, user: str) -> tuple[str, str]:
    token, secret = world.auth.store.create_token(
        world.user_ids[user], "stream", None, now_ms() + 3_600_000
    )
    return token.id, secret


def stream_ends_after(url: str, path: str, secret: str, change: Callable[[], object]) -> bool:
    """Opens the stream, checks it flows, applies `change`, and reports whether the server
    ended the stream within GIVE_UP_S."""
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.stream("GET", url + path, headers=headers, timeout=GIVE_UP_S) as response:
        assert response.status_code == 200, response.read()
        chunks = response.iter_bytes()
        next(chunks)
        change()
        deadline = time.monotonic() + GIVE_UP_S
        for _chunk in chunks:
            if time.monotonic() > deadline:
                return False
    return True


SSE = "/api/events/stream"
LIVE = "/api/cameras/alpha:gate/live.mjpeg?fps=5"


@pytest.mark.parametrize("path", [SSE, LIVE])
def test_revoking_the_token_ends_the_stream(world: World, url: str, path: str) -> None:
    token_id, secret = fresh_token(world, "alpha:operator")
    assert stream_ends_after(url, path, secret, lambda: world.auth.store.revoke_token(token_id))


@pytest.mark.parametrize("path", [SSE, LIVE])
def test_disabling_or_deleting_the_user_ends_the_stream(world: World, url: str, path: str) -> None:
    user = world.user_ids["alpha:operator"]
    _, secret = fresh_token(world, "alpha:operator")
    assert stream_ends_after(
        url, path, secret, lambda: world.auth.store.update_user(user, disabled=True)
    )
    _, secret = fresh_token(world, "alpha:admin")
    admin = world.user_ids["alpha:admin"]
    assert stream_ends_after(url, path, secret, lambda: world.auth.store.delete_user(admin))


def test_a_role_that_loses_the_permission_ends_the_event_feed(world: World, url: str) -> None:
    user = world.user_ids["alpha:operator"]
    _, secret = fresh_token(world, "alpha:operator")
    assert stream_ends_after(
        url, SSE, secret, lambda: world.auth.store.update_user(user, role=Role.VIEWER)
    )


def test_a_camera_group_change_ends_the_live_view(world: World, url: str) -> None:
    user = world.user_ids["alpha:operator"]
    world.auth.store.update_user(user, camera_groups=["alpha-group"])  # alpha:gate
    _, secret = fresh_token(world, "alpha:operator")
    world.auth.store.put_group("alpha", "docks", ["alpha:dock"])
    assert stream_ends_after(
        url, LIVE, secret, lambda: world.auth.store.update_user(user, camera_groups=["docks"])
    )


def test_an_untouched_stream_keeps_running(world: World, url: str) -> None:
    """The control: without a change the feed outlives several re-checks."""
    _, secret = fresh_token(world, "alpha:operator")
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.stream("GET", url + SSE, headers=headers, timeout=GIVE_UP_S) as response:
        started = time.monotonic()
        for _chunk in response.iter_bytes():
            if time.monotonic() - started > 5:
                break
        else:
            pytest.fail("the feed ended without any change to its credentials")
