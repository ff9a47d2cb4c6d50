"""Which tenants (and cameras, and kinds of data) a request may see, as a FastAPI dependency
every data route takes.

The scope comes from the authenticated principal (`vigil.auth.deps.optional_principal`): a
user sees their own tenant, narrowed to their camera groups and to the kinds of data their role
reads; a system administrator sees no tenant's data. The store filters every query by it.
Internal principals (tests, the process itself) are unrestricted (None). Tests may still replace
this dependency (`app.dependency_overrides[tenant_scope]`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Depends

from vigil.auth.deps import optional_principal
from vigil.auth.principal import Principal
from vigil.auth.scope import allows
from vigil.config import CameraConfig
from vigil.privacy.retention import RetentionJob


async def tenant_scope(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Collection[str] | None:
    # async: no I/O here, so no thread-pool hand-off (see `vigil.api.context._from_state`).
    if principal is None:
        return frozenset()  # anonymous callers never get this far; if they did, they see nothing
    return principal.scope()


def visible(
    tenant: str,
    tenants: Collection[str] | None,
    camera_id: str | None = None,
    kind: str | None = None,
) -> bool:
    return allows(tenants, tenant, camera_id, kind)


def tenant_cameras(retention: RetentionJob, tenant: str) -> list[CameraConfig]:
    """A tenant's cameras, running or only stored: the retention job already knows them all
    (vigil.auth.wiring.build_identity), so camera groups and retention see the same set."""
    return [camera for camera in retention.cameras() if camera.tenant == tenant]
