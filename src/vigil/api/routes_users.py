"""Users, their API tokens, camera groups and tenants.

A tenant admin manages the users and camera groups of their own tenant; a system administrator
manages tenants and the users of every tenant, but never sees a tenant's cameras, events or
media. Every change is a permission change and is written to the audit log with before/after.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.api.access import tenant_cameras
from vigil.api.context import Accounts, Auth, Retention
from vigil.api.errors import error_responses
from vigil.api.params import NAME_PATTERN, iso
from vigil.api.routes_auth import (
    TOKEN_ID,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    issue_token,
    token_out,
)
from vigil.auth.deps import require_principal
from vigil.auth.passwords import WeakPassword
from vigil.auth.principal import Principal
from vigil.auth.roles import Role
from vigil.auth.store import AuthError, AuthStore, User
from vigil.privacy.audit import audit

UserId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="User id")]
TenantId = Annotated[str, Path(pattern=NAME_PATTERN, description="Tenant id")]
GroupName = Annotated[str, Path(pattern=NAME_PATTERN, description="Camera group name")]
TENANT_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.INVESTIGATOR, Role.VIEWER, Role.AUDITOR})


class UserOut(BaseModel):
    id: str
    username: str
    tenant: str | None
    role: Role
    camera_groups: list[str]
    disabled: bool
    locked: bool
    created: str
    last_login: str | None


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Role
    tenant: str | None = Field(None, max_length=64, description="Default: your own tenant")
    camera_groups: list[str] = Field(
        default_factory=list, max_length=100,
        description="Limit the user to these camera groups (none: every camera of the tenant)",
    )


class UserPatch(BaseModel):
    role: Role | None = None
    camera_groups: list[str] | None = Field(None, max_length=100)
    disabled: bool | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=256)


class GroupIn(BaseModel):
    cameras: list[str] = Field(max_length=1000)


class GroupOut(BaseModel):
    name: str
    tenant: str
    cameras: list[str]


class TenantIn(BaseModel):
    id: str = Field(pattern=NAME_PATTERN)
    name: str = Field("", max_length=256)


class TenantOut(BaseModel):
    id: str
    name: str
    created: str | None


def user_out(user: User, now: int) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, tenant=user.tenant, role=user.role,
        camera_groups=user.camera_groups, disabled=user.disabled,
        locked=user.locked_until_ms is not None and user.locked_until_ms > now,
        created=iso(user.created_ms) or "", last_login=iso(user.last_login_ms),
    )


router = APIRouter(tags=["users"])


def is_sysadmin(principal: Principal) -> bool:
    return principal.role is Role.SYSADMIN


def own_tenant(principal: Principal) -> str:
    if principal.tenant is None:
        raise HTTPException(422, "tenant: name the tenant (?tenant=…)")
    return principal.tenant


def manageable(store: AuthStore, principal: Principal, user_id: str) -> User:
    user = store.get_user(user_id)
    if user is None or not (
        is_sysadmin(principal)
        or (user.tenant is not None and user.tenant == principal.tenant)
    ):
        raise HTTPException(404, f"no user {user_id!r}")
    return user


def check_groups(store: AuthStore, tenant: str | None, groups: list[str]) -> None:
    if not groups:
        return
    if tenant is None:
        raise HTTPException(422, "camera_groups: only users of a tenant have camera groups")
    unknown = sorted(set(groups) - set(store.list_groups(tenant)))
    if unknown:
        raise HTTPException(422, f"camera_groups: no such group in {tenant}: {unknown}")


# users -----------------------------------------------------------------------------------

@router.get("/api/users", summary="Users of your tenant (system administrators: all)",
            response_model=list[UserOut])
def list_users(
    store: Accounts, service: Auth,
    request: Request, tenant: Annotated[str | None, Query(max_length=64)] = None
) -> list[UserOut]:
    principal = require_principal(request)
    if is_sysadmin(principal):
        users = store.list_users(tenant, all_tenants=tenant is None)
    else:
        users = store.list_users(own_tenant(principal))
    return [user_out(user, service.clock()) for user in users]


@router.post(
    "/api/users",
    summary="Create a user",
    status_code=201,
    response_model=UserOut,
    responses=error_responses(403, 409, 422),
)
def create_user(store: Accounts, service: Auth, body: UserIn, request: Request) -> UserOut:
    principal = require_principal(request)
    tenant = body.tenant
    if is_sysadmin(principal):
        if body.role not in (Role.SYSADMIN, Role.AUDITOR) and tenant is None:
            raise HTTPException(422, "tenant: required for this role")
    else:
        if body.role not in TENANT_ROLES:
            raise HTTPException(403, f"a tenant admin cannot create a {body.role.value}")
        if tenant not in (None, principal.tenant):
            raise HTTPException(403, f"tenant {tenant!r} is not yours")
        tenant = own_tenant(principal)
    check_groups(store, tenant, body.camera_groups)
    try:
        user = store.create_user(
            body.username.strip().lower(), body.password, body.role, tenant,
            body.camera_groups,
        )
    except AuthError as error:
        status = 409 if "taken" in str(error) else 422
        raise HTTPException(status, str(error)) from None
    except WeakPassword as error:
        raise HTTPException(422, f"password: {error}") from None
    audit(request, "user.create", tenant=user.tenant, target=f"user:{user.username}",
          details={"role": user.role.value, "camera_groups": user.camera_groups})
    return user_out(user, service.clock())


@router.get("/api/users/{user_id}", summary="One user", response_model=UserOut,
            responses=error_responses(404, 422))
def get_user(store: Accounts, service: Auth, user_id: UserId, request: Request) -> UserOut:
    return user_out(manageable(store, require_principal(request), user_id), service.clock())


@router.patch(
    "/api/users/{user_id}",
    summary="Change a user's role, camera groups or disabled flag",
    response_model=UserOut,
    responses=error_responses(403, 404, 409, 422),
)
def update_user(
    store: Accounts, service: Auth, user_id: UserId, body: UserPatch, request: Request
) -> UserOut:
    principal = require_principal(request)
    user = manageable(store, principal, user_id)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        return user_out(user, service.clock())
    if user.id == principal.user_id and (
        changes.get("disabled") or changes.get("role", user.role) != user.role
    ):
        raise HTTPException(409, "you cannot disable yourself or change your own role")
    role = changes.get("role")
    if role is not None and not is_sysadmin(principal) and role not in TENANT_ROLES:
        raise HTTPException(403, f"a tenant admin cannot grant {role.value}")
    if role in (Role.SYSADMIN,) and user.tenant is not None:
        raise HTTPException(422, "role: a tenant's user cannot become a system administrator")
    if role is not None and role is not Role.SYSADMIN and role is not Role.AUDITOR and (
        user.tenant is None
    ):
        raise HTTPException(422, "role: this user has no tenant")
    if "camera_groups" in changes:
        check_groups(store, user.tenant, changes["camera_groups"])
    updated = store.update_user(user.id, **changes)
    before = {k: getattr(user, k) for k in changes}
    audit(request, "user.update", tenant=user.tenant, target=f"user:{user.username}",
          details={"before": {k: getattr(v, "value", v) for k, v in before.items()},
                   "after": {k: getattr(v, "value", v) for k, v in changes.items()}})
    return user_out(updated, service.clock())


@router.post(
    "/api/users/{user_id}/password",
    summary="Set a user's password (ends their sessions, unlocks the account)",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def reset_password(
    store: Accounts, user_id: UserId, body: PasswordIn, request: Request
) -> Response:
    user = manageable(store, require_principal(request), user_id)
    try:
        store.set_password(user.id, body.password)
    except (AuthError, WeakPassword) as error:
        raise HTTPException(422, f"password: {error}") from None
    audit(request, "user.password", tenant=user.tenant, target=f"user:{user.username}")
    return Response(status_code=204)


@router.post(
    "/api/users/{user_id}/unlock",
    summary="Unlock an account locked after failed logins",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def unlock(store: Accounts, user_id: UserId, request: Request) -> Response:
    user = manageable(store, require_principal(request), user_id)
    store.unlock(user.id)
    audit(request, "user.unlock", tenant=user.tenant, target=f"user:{user.username}")
    return Response(status_code=204)


@router.delete(
    "/api/users/{user_id}",
    summary="Delete a user with their sessions and tokens",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 409, 422),
)
def delete_user(store: Accounts, user_id: UserId, request: Request) -> Response:
    principal = require_principal(request)
    user = manageable(store, principal, user_id)
    if user.id == principal.user_id:
        raise HTTPException(409, "you cannot delete yourself")
    store.delete_user(user.id)
    audit(request, "user.delete", tenant=user.tenant, target=f"user:{user.username}",
          details={"role": user.role.value})
    return Response(status_code=204)


# tokens of a user (service accounts) ---------------------------------------------------

@router.get("/api/users/{user_id}/tokens", summary="A user's API tokens",
            response_model=list[TokenOut], responses=error_responses(404, 422))
def user_tokens(store: Accounts, user_id: UserId, request: Request) -> list[TokenOut]:
    user = manageable(store, require_principal(request), user_id)
    return [token_out(t) for t in store.list_tokens([user.id])]


@router.post(
    "/api/users/{user_id}/tokens",
    summary="Create an API token for yourself (the secret is shown once)",
    description="Only for your own user id, from a login session, with at most your own "
    "permissions; for any other user the answer is 403 (administrators do not create "
    "credentials for others).",
    status_code=201,
    response_model=TokenCreatedOut,
    responses=error_responses(403, 404, 422),
)
def create_user_token(
    store: Accounts, service: Auth, user_id: UserId, body: TokenIn, request: Request
) -> TokenCreatedOut:
    principal = require_principal(request)
    user = manageable(store, principal, user_id)
    # Credentials never widen and are never minted for someone else: a token made for
    # another user would carry that user's rights (a system administrator's way to media,
    # a tenant admin's way to the audit log). Administrators reset and revoke instead.
    if user.id != principal.user_id:
        raise HTTPException(
            403, "credentials are created by their own user (POST /api/auth/tokens)"
        )
    if principal.via != "session":
        raise HTTPException(403, "create tokens from a login session, not with a token")
    created = issue_token(service, user.id, body, principal.permissions)
    audit(request, "token.create", tenant=user.tenant, target=f"user:{user.username}",
          details={"token": created.id, "scopes": created.scopes, "expires": created.expires})
    return created


@router.delete(
    "/api/users/{user_id}/tokens/{token_id}",
    summary="Revoke a user's API token",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def revoke_user_token(
    store: Accounts,
    user_id: UserId, token_id: Annotated[str, Path(pattern=TOKEN_ID)], request: Request
) -> Response:
    user = manageable(store, require_principal(request), user_id)
    token = store.get_token(token_id)
    if token is None or token.user_id != user.id:
        raise HTTPException(404, f"no token {token_id!r} of this user")
    store.revoke_token(token_id)
    audit(request, "token.revoke", tenant=user.tenant, target=f"user:{user.username}",
          details={"token": token_id})
    return Response(status_code=204)


# camera groups ------------------------------------------------------------------------------

def group_tenant(principal: Principal, tenant: str | None) -> str:
    if is_sysadmin(principal):
        if tenant is None:
            raise HTTPException(422, "tenant: name the tenant (?tenant=…)")
        return tenant
    if tenant not in (None, principal.tenant):
        raise HTTPException(404, f"no tenant {tenant!r}")
    return own_tenant(principal)


@router.get("/api/groups", summary="Camera groups of your tenant",
            response_model=list[GroupOut], responses=error_responses(404, 422))
def list_groups(
    store: Accounts,
    request: Request, tenant: Annotated[str | None, Query(max_length=64)] = None
) -> list[GroupOut]:
    owner = group_tenant(require_principal(request), tenant)
    return [GroupOut(name=name, tenant=owner, cameras=cameras)
            for name, cameras in store.list_groups(owner).items()]


@router.put(
    "/api/groups/{name}",
    summary="Create or replace a camera group",
    response_model=GroupOut,
    responses=error_responses(404, 422),
)
def put_group(
    store: Accounts, retention: Retention,
    name: GroupName, body: GroupIn, request: Request,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> GroupOut:
    owner = group_tenant(require_principal(request), tenant)
    unknown = sorted(set(body.cameras) - {camera.id for camera in tenant_cameras(retention, owner)})
    if unknown:
        raise HTTPException(422, f"cameras: not cameras of {owner}: {unknown[:10]}")
    before = store.list_groups(owner).get(name)
    store.put_group(owner, name, body.cameras)
    audit(request, "group.put", tenant=owner, target=f"group:{name}",
          details={"before": before, "after": sorted(set(body.cameras))})
    return GroupOut(name=name, tenant=owner, cameras=sorted(set(body.cameras)))


@router.delete(
    "/api/groups/{name}",
    summary="Delete a camera group",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def delete_group(
    store: Accounts,
    name: GroupName, request: Request,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    owner = group_tenant(require_principal(request), tenant)
    if not store.delete_group(owner, name):
        raise HTTPException(404, f"no camera group {name!r}")
    audit(request, "group.delete", tenant=owner, target=f"group:{name}")
    return Response(status_code=204)


# tenants ------------------------------------------------------------------------------------

@router.get("/api/tenants", summary="Tenants (a tenant admin sees their own)",
            response_model=list[TenantOut])
def list_tenants(store: Accounts, request: Request) -> list[TenantOut]:
    principal = require_principal(request)
    rows = store.list_tenants()
    if not is_sysadmin(principal):
        rows = [row for row in rows if row["id"] == principal.tenant]
    return [TenantOut(id=r["id"], name=r["name"], created=iso(r["created_ms"])) for r in rows]


@router.post(
    "/api/tenants",
    summary="Create a tenant (system administrators)",
    status_code=201,
    response_model=TenantOut,
    responses=error_responses(409, 422),
)
def create_tenant(store: Accounts, body: TenantIn, request: Request) -> TenantOut:
    if store.get_tenant(body.id) is not None:
        raise HTTPException(409, f"tenant {body.id!r} exists")
    row = store.ensure_tenant(body.id, body.name)
    audit(request, "tenant.create", tenant=body.id, target=f"tenant:{body.id}",
          details={"name": row["name"]})
    return TenantOut(id=row["id"], name=row["name"], created=iso(row["created_ms"]))
