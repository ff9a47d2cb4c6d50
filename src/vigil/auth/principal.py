"""Who is calling: a user through a session or an API token, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vigil.auth.roles import ROLE_PERMISSIONS, Permission, Role, kinds_for
from vigil.auth.scope import AccessScope

Via = Literal["session", "token", "internal"]


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: Role | None
    tenant: str | None
    permissions: frozenset[Permission]
    # The tenants whose data this principal may read; None (unrestricted) only for internal
    # principals (tests, the CLI on the server machine), never for a user.
    tenants: frozenset[str] | None
    cameras: frozenset[str] | None = None  # camera-group restriction within the tenant
    via: Via = "internal"
    user_id: str | None = None
    session_id: str | None = None
    token_id: str | None = None
    csrf: str | None = None
    purpose: str | None = None  # the purpose stated for this session, if any
    extra: dict[str, str] = field(default_factory=dict)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> str:
        return f"{self.username} (token {self.token_id})" if self.token_id else self.username

    def scope(self) -> AccessScope | None:
        """The data-layer scope: tenants, camera groups, and the kinds of data readable."""
        if self.tenants is None:
            return None
        return AccessScope(self.tenants, cameras=self.cameras, kinds=kinds_for(self.permissions))


def internal_principal(name: str = "system") -> Principal:
    """Unrestricted: every tenant, every permission. For the process itself and tests."""
    return Principal(
        username=name,
        role=None,
        tenant=None,
        permissions=frozenset(Permission),
        tenants=None,
    )


def user_principal(
    *,
    user_id: str,
    username: str,
    role: Role,
    tenant: str | None,
    cameras: frozenset[str] | None,
    via: Via,
    scopes: frozenset[Permission] | None = None,
    session_id: str | None = None,
    token_id: str | None = None,
    csrf: str | None = None,
    purpose: str | None = None,
) -> Principal:
    permissions = ROLE_PERMISSIONS[role]
    if scopes is not None:  # a token may narrow its owner's permissions, never widen them
        permissions = permissions & scopes
    tenants = frozenset() if tenant is None or role is Role.SYSADMIN else frozenset({tenant})
    return Principal(
        username=username,
        role=role,
        tenant=tenant,
        permissions=permissions,
        tenants=tenants,
        cameras=cameras,
        via=via,
        user_id=user_id,
        session_id=session_id,
        token_id=token_id,
        csrf=csrf,
        purpose=purpose,
    )
