"""One scope path: search resolves its hits through the store's scope function, so a user
limited to camera groups gets no hit from the tenant's other cameras (search used to filter
by tenant only)."""

from __future__ import annotations

from tests.security.conftest import World
from vigil.auth.scope import AccessScope
from vigil.search.service import SearchService


def test_search_hits_outside_the_callers_camera_groups_are_dropped(world: World) -> None:
    event = world.events["alpha"]  # recorded by alpha:gate
    service = SearchService.for_store(world.store, config=world.config)
    docks_only = AccessScope({"alpha"}, cameras={"alpha:dock"}, kinds={"events"})
    gate = AccessScope({"alpha"}, cameras={"alpha:gate"}, kinds={"events"})
    assert service.fetch([event.id], docks_only) == {}
    assert list(service.fetch([event.id], gate)) == [event.id]  # control: its own camera
    assert service.fetch([event.id], AccessScope({"bravo"})) == {}
    no_events = AccessScope({"alpha"}, kinds={"live"})  # a viewer's kinds
    assert service.fetch([event.id], no_events) == {}
