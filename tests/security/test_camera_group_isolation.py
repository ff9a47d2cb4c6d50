"""The OpenAPI walk of test_isolation, for users of the same tenant limited to a camera group.

Users limited to alpha's "docks" group (camera alpha:dock) try every route on alpha:gate's
objects: its camera id, its event, its snapshot, its zone. Nothing of alpha:gate may come
back, and nothing of alpha may change. Streams are walked by test_stream_scope below.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import PASSWORD, World
from tests.security.test_isolation import (
    PUBLIC,
    PURPOSE,
    REFUSED,
    alpha_objects,
    body_for,
    fill_path,
    is_streaming,
    operations,
    query_for,
    snapshot_of_alpha,
)
from vigil.auth.roles import Role
from vigil.domain.frames import now_ms

LIMITED = [Role.OPERATOR, Role.INVESTIGATOR, Role.VIEWER]


@pytest.fixture
def limited(world: World) -> list[str]:
    """Users of alpha who see alpha:dock only, with a token each."""
    users = world.auth.store
    users.put_group("alpha", "docks", ["alpha:dock"])
    names = []
    for role in LIMITED:
        name = f"docks-{role.value}"
        user = users.create_user(name, PASSWORD, role, "alpha", camera_groups=["docks"])
        world.user_ids[name] = user.id
        world.tokens[name] = users.create_token(user.id, "t", None, now_ms() + 86_400_000)[1]
        names.append(name)
    return names


def gate_leaks(text: str, world: World) -> list[str]:
    markers = ["alpha:gate", world.events["alpha"].id, "alpha-lot", "alpha snapshot", "alphasecret"]
    return [marker for marker in markers if marker in text]


def test_every_route_keeps_camera_group_users_to_their_cameras(
    world: World, limited: list[str]
) -> None:
    objects = alpha_objects(world)
    before = snapshot_of_alpha(world)
    checked = 0
    for method, template, operation in operations(world):
        if is_streaming(operation) or (method, template) in PUBLIC:
            continue
        for user in limited:
            client = world.client(user, **PURPOSE)
            for path in fill_path(template, objects):
                kwargs: dict[str, Any] = {"params": query_for(operation, objects)}
                if "requestBody" in operation:
                    kwargs["json"] = body_for(method, template, objects)
                response = client.request(method.upper(), path, **kwargs)
                where = f"{user}: {method.upper()} {path} -> {response.status_code}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                if response.status_code in REFUSED:
                    continue
                assert 200 <= response.status_code < 300 or response.status_code == 429, where
                found = gate_leaks(response.text, world)
                assert not found, f"{where} leaks {found}: {response.text[:300]}"
                checked += 1
    assert checked > 10
    after = snapshot_of_alpha(world)
    for key in before:
        assert after[key] == before[key], f"alpha's {key} changed"


def test_streams_keep_camera_group_users_to_their_cameras(world: World, limited: list[str]) -> None:
    """The live feed and live view, opened by docks-only users on alpha:gate's objects and
    unfiltered while alpha:gate publishes an event: nothing of alpha:gate arrives."""
    from tests.api.conftest import serve
    from tests.security.test_isolation import read_stream

    objects = alpha_objects(world)
    streams = [(m, p, o) for m, p, o in operations(world) if is_streaming(o)]
    assert streams
    with serve(world.app) as url:
        for method, template, operation in streams:
            for user in limited:
                headers = {"Authorization": f"Bearer {world.tokens[user]}", **PURPOSE}
                for path in [*fill_path(template, objects), template]:
                    if "{" in path:
                        continue
                    status, text = read_stream(
                        world, url + path, headers, query_for(operation, objects)
                    )
                    where = f"{user}: {method.upper()} {path} -> {status}"
                    assert status in REFUSED or status == 200, where
                    if status == 200:
                        assert not gate_leaks(text, world), f"{where}: {text[:300]}"
