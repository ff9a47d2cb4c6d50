"""What a live-event subscriber may and wants to see, as a hashable key: subscribers with the
same key share one match per event, however many connections hold it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from vigil.auth.scope import AccessScope
from vigil.domain.events import Event


@dataclass(frozen=True, slots=True)
class StreamKey:
    """Tenants (None: every tenant, internal principals only), cameras (None: every camera of
    those tenants) and event types (None: every type). The access scope and the cameras asked
    for are folded into one camera set, so that two users who see the same cameras share a
    key whatever their camera groups are called."""

    tenants: frozenset[str] | None
    cameras: frozenset[str] | None
    types: frozenset[str] | None = None

    @classmethod
    def build(
        cls,
        scope: Collection[str] | None,
        cameras: Collection[str] | None = None,
        types: Collection[str] | None = None,
    ) -> StreamKey:
        """The key of a caller with access `scope` asking for `cameras` and `types`."""
        tenants = None if scope is None else frozenset(scope)
        allowed = None if cameras is None else frozenset(cameras)
        if isinstance(scope, AccessScope):
            if scope.kinds is not None and "events" not in scope.kinds:
                allowed = frozenset()  # a role that reads no events gets none, live or stored
            elif scope.cameras is not None:
                allowed = scope.cameras if allowed is None else allowed & scope.cameras
        return cls(tenants, allowed, None if types is None else frozenset(types))

    def matches(self, event: Event) -> bool:
        """The one check that decides whether this key's subscribers get `event`."""
        if self.tenants is not None and event.tenant not in self.tenants:
            return False
        if self.cameras is not None and event.camera_id not in self.cameras:
            return False
        return self.types is None or event.type in self.types
