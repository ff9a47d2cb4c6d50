"""Login, logout, first-run setup, one-time login links, the caller's own identity, session
purpose, password and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from vigil.api.context import Auth, Config, Demo
from vigil.api.errors import error_responses
from vigil.api.params import iso
from vigil.auth.deps import require_principal
from vigil.auth.passwords import WeakPassword, verify_password
from vigil.auth.principal import Principal
from vigil.auth.roles import Permission
from vigil.auth.service import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AuthService,
    LoginFailed,
    LoginResult,
    is_loopback,
)
from vigil.auth.store import ApiToken, AuthError
from vigil.config import SecurityConfig
from vigil.domain.frames import now_ms
from vigil.privacy.audit import audit

TOKEN_ID = r"^[a-z0-9]{12}$"


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SetupIn(LoginIn):
    code: str = Field(min_length=1, max_length=64, description="One-time code from the server log")


class MeOut(BaseModel):
    username: str
    role: str | None
    tenant: str | None
    permissions: list[str]
    via: str
    purpose: str | None
    csrf_token: str | None = Field(
        None, description="Send as X-CSRF-Token with every change made with the session cookie"
    )


class StatusOut(BaseModel):
    setup_required: bool = Field(description="No user exists yet")
    setup_here: bool = Field(description="The first-run page may be used from this client")
    demo: bool = Field(description="The server runs `vigil demo`")


class PurposeIn(BaseModel):
    purpose: str | None = Field(None, max_length=512)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    scopes: list[Permission] | None = Field(
        None, description="Narrow the token to these permissions (default: the owner's role)"
    )
    days: int = Field(90, ge=1, le=3650, description="Lifetime in days")


class TokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str] | None
    created: str
    expires: str
    last_used: str | None
    revoked: str | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret; shown only now. Send as Authorization: Bearer")


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id, name=token.name,
        scopes=None if token.scopes is None else sorted(s.value for s in token.scopes),
        created=iso(token.created_ms) or "", expires=iso(token.expires_ms) or "",
        last_used=iso(token.last_used_ms), revoked=iso(token.revoked_ms),
    )


def me_out(principal: Principal) -> MeOut:
    return MeOut(
        username=principal.username,
        role=principal.role.value if principal.role else None,
        tenant=principal.tenant,
        permissions=sorted(p.value for p in principal.permissions),
        via=principal.via,
        purpose=principal.purpose,
        csrf_token=principal.csrf,
    )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def set_session(response: Response, request: Request, result: LoginResult,
                config: SecurityConfig) -> None:
    secure = config.secure_cookies
    if secure is None:
        secure = request.url.scheme == "https"
    common: dict[str, Any] = {"max_age": result.max_age_s, "path": "/", "samesite": "strict",
                              "secure": secure}
    response.set_cookie(SESSION_COOKIE, result.session_token, httponly=True, **common)
    # Readable by the page's script, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(CSRF_COOKIE, result.csrf, httponly=False, **common)


def clear_session(response: Response) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict")


def _failed(error: LoginFailed) -> HTTPException:
    headers = None
    if error.retry_after_s is not None:
        headers = {"Retry-After": str(int(error.retry_after_s) + 1)}
    return HTTPException(error.status, error.detail, headers=headers)


def issue_token(service: AuthService, user_id: str, body: TokenIn,
                owner_permissions: frozenset[Permission]) -> TokenCreatedOut:
    if body.days > service.config.token_max_days:
        raise HTTPException(422, f"days: at most {service.config.token_max_days}")
    scopes = None if body.scopes is None else frozenset(body.scopes)
    if scopes is not None and not scopes <= owner_permissions:
        extra = sorted(s.value for s in scopes - owner_permissions)
        raise HTTPException(422, f"scopes: the owner's role does not have {', '.join(extra)}")
    token, secret = service.store.create_token(
        user_id, body.name, scopes, now_ms() + body.days * 86_400_000
    )
    return TokenCreatedOut(**token_out(token).model_dump(), token=secret)


router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/status", summary="Whether first-run setup is needed (public)",
            response_model=StatusOut)
def status(service: Auth, demo: Demo, request: Request) -> StatusOut:
    required = not service.has_users()
    return StatusOut(
        setup_required=required,
        setup_here=required and is_loopback(client_ip(request)),
        demo=demo,
    )


@router.post(
    "/login",
    summary="Log in with user name and password; sets the session cookie",
    response_model=MeOut,
    responses=error_responses(401, 422, 429),
)
def login(
    service: Auth, config: Config, body: LoginIn, request: Request, response: Response
) -> MeOut:
    try:
        result = service.login(body.username, body.password, client_ip(request))
    except LoginFailed as error:
        raise _failed(error) from None
    set_session(response, request, result, config.security)
    return me_out(result.principal)


@router.post(
    "/setup",
    summary="First run: create the first administrator (only from 127.0.0.1, with the "
    "one-time code printed in the server log)",
    response_model=MeOut,
    responses=error_responses(403, 409, 422),
)
def setup(
    service: Auth, config: Config, body: SetupIn, request: Request, response: Response
) -> MeOut:
    ip = client_ip(request)
    try:
        service.complete_setup(body.code, body.username.strip().lower(), body.password, ip)
        result = service.login(body.username, body.password, ip)
    except LoginFailed as error:
        raise _failed(error) from None
    set_session(response, request, result, config.security)
    return me_out(result.principal)


@router.get(
    "/link",
    summary="Log in with a one-time link (the demo's; only from 127.0.0.1)",
    response_class=RedirectResponse,
    status_code=303,
    responses=error_responses(401, 403, 422),
)
def link(
    service: Auth, config: Config,
    request: Request, code: Annotated[str, Query(min_length=1, max_length=128)]
) -> RedirectResponse:
    try:
        result = service.login_with_link(code, client_ip(request))
    except LoginFailed as error:
        raise _failed(error) from None
    response = RedirectResponse("/", status_code=303)
    set_session(response, request, result, config.security)
    return response


@router.post("/logout", summary="End the session", status_code=204,
             response_class=Response)
def logout(service: Auth, request: Request) -> Response:
    service.logout(require_principal(request), client_ip(request))
    response = Response(status_code=204)
    clear_session(response)
    return response


@router.get("/me", summary="Who you are and what you may do", response_model=MeOut)
def me(request: Request) -> MeOut:
    return me_out(require_principal(request))


@router.put(
    "/purpose",
    summary="State the purpose of this session's searches and views (audited)",
    response_model=MeOut,
    responses=error_responses(409, 422),
)
def set_purpose(service: Auth, body: PurposeIn, request: Request) -> MeOut:
    principal = require_principal(request)
    if principal.session_id is None:
        raise HTTPException(409, "tokens state a purpose per request (X-Vigil-Purpose)")
    purpose = (body.purpose or "").strip() or None
    service.store.set_session_purpose(principal.session_id, purpose)
    request.state.purpose = purpose
    audit(request, "auth.purpose", target=f"user:{principal.username}",
          details={"purpose": purpose})
    updated = service.from_session(request.cookies.get(SESSION_COOKIE, ""))
    return me_out(updated or principal)


@router.post(
    "/password",
    summary="Change your password (ends every session of yours)",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 409, 422),
)
def change_password(service: Auth, body: PasswordChangeIn, request: Request) -> Response:
    principal = require_principal(request)
    user = service.store.get_user(principal.user_id or "")
    if user is None:
        raise HTTPException(409, "only users have passwords")
    if not verify_password(user.password_hash, body.current_password):
        audit(request, "user.password", target=f"user:{user.username}", outcome="denied")
        raise HTTPException(403, "the current password is wrong")
    try:
        service.store.set_password(user.id, body.new_password)
    except (AuthError, WeakPassword) as error:
        raise HTTPException(422, f"new_password: {error}") from None
    audit(request, "user.password", target=f"user:{user.username}")
    response = Response(status_code=204)
    clear_session(response)
    return response


@router.get("/tokens", summary="Your API tokens", response_model=list[TokenOut])
def my_tokens(service: Auth, request: Request) -> list[TokenOut]:
    principal = require_principal(request)
    return [token_out(t) for t in service.store.list_tokens([principal.user_id or ""])]


@router.post(
    "/tokens",
    summary="Create an API token for yourself (the secret is shown once)",
    status_code=201,
    response_model=TokenCreatedOut,
    responses=error_responses(403, 422),
)
def create_my_token(service: Auth, body: TokenIn, request: Request) -> TokenCreatedOut:
    principal = require_principal(request)
    if principal.via != "session" or principal.user_id is None:
        raise HTTPException(403, "create tokens from a login session, not with a token")
    created = issue_token(service, principal.user_id, body, principal.permissions)
    audit(request, "token.create", target=f"user:{principal.username}",
          details={"token": created.id, "scopes": created.scopes, "expires": created.expires})
    return created


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke one of your API tokens",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
def revoke_my_token(
    service: Auth,
    token_id: Annotated[str, Path(pattern=TOKEN_ID)], request: Request
) -> Response:
    principal = require_principal(request)
    token = service.store.get_token(token_id)
    if token is None or token.user_id != principal.user_id:
        raise HTTPException(404, f"no token {token_id!r} of yours")
    service.store.revoke_token(token_id)
    audit(request, "token.revoke", target=f"user:{principal.username}",
          details={"token": token_id})
    return Response(status_code=204)
