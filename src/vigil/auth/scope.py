"""`AccessScope`: the tenants (and optionally cameras and data kinds) a caller may read.

It is a frozenset of tenant ids, so every store function that takes `tenants:
Collection[str] | None` filters by it unchanged. The store's `scope_clauses` also honours
the camera restriction (camera groups) and the data kinds (a viewer's scope opens live view
but not events), so a route that forgets a permission check still reads nothing it should not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa


class AccessScope(frozenset[str]):
    cameras: frozenset[str] | None
    kinds: frozenset[str] | None

    def __new__(
        cls,
        tenants: Iterable[str],
        *,
        cameras: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> AccessScope:
        scope = super().__new__(cls, tenants)
        scope.cameras = None if cameras is None else frozenset(cameras)
        scope.kinds = None if kinds is None else frozenset(kinds)
        return scope

    def __repr__(self) -> str:
        return (
            f"AccessScope({sorted(self)!r}, cameras={self.cameras and sorted(self.cameras)!r}, "
            f"kinds={self.kinds and sorted(self.kinds)!r})"
        )

    def __reduce__(self) -> Any:
        return (_rebuild, (list(self), self.cameras, self.kinds))


def _rebuild(
    tenants: list[str], cameras: frozenset[str] | None, kinds: frozenset[str] | None
) -> AccessScope:
    return AccessScope(tenants, cameras=cameras, kinds=kinds)


# A scope spelled out as a cache key: tenants, cameras, kinds.
ScopeKey = tuple[frozenset[str] | None, frozenset[str] | None, frozenset[str] | None]


def scope_key(tenants: Collection[str] | None) -> ScopeKey:
    """The scope as a key for statements built once per scope. An `AccessScope` compares
    equal to any set of the same tenants whatever its cameras and kinds, so keyed on itself
    it would hand one camera group the statement built for another."""
    if tenants is None:
        return None, None, None
    if isinstance(tenants, AccessScope):
        return frozenset(tenants), tenants.cameras, tenants.kinds
    return frozenset(tenants), None, None


def scope_of(key: ScopeKey) -> AccessScope | None:
    """The scope a key spells (without cameras and kinds, a scope restricts as its set of
    tenants does)."""
    tenants, cameras, kinds = key
    return None if tenants is None else AccessScope(tenants, cameras=cameras, kinds=kinds)


def allows(
    tenants: Collection[str] | None, tenant: str, camera_id: str | None = None,
    kind: str | None = None,
) -> bool:
    """Whether a scope covers one row (tenant, camera) of a data kind."""
    if tenants is None:
        return True
    if tenant not in tenants:
        return False
    if isinstance(tenants, AccessScope):
        if kind is not None and tenants.kinds is not None and kind not in tenants.kinds:
            return False
        if camera_id is not None and tenants.cameras is not None:
            return camera_id in tenants.cameras
    return True


def scope_clauses(
    tenants: Collection[str] | None,
    tenant_column: sa.ColumnElement[Any],
    camera_column: sa.ColumnElement[Any] | None = None,
    kind: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses restricting a query to a scope; none for an unrestricted (None) scope."""
    if tenants is None:
        return []
    clauses: list[sa.ColumnElement[bool]] = [tenant_column.in_(sorted(tenants))]
    if isinstance(tenants, AccessScope):
        if kind is not None and tenants.kinds is not None and kind not in tenants.kinds:
            clauses.append(sa.false())
        if camera_column is not None and tenants.cameras is not None:
            clauses.append(camera_column.in_(sorted(tenants.cameras)))
    return clauses
