"""FastAPI dependencies: who is calling (`optional_principal`), and whether they may call this
route (`authorize`, applied to every route of the app)."""

from __future__ import annotations

import hmac
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from vigil.auth.policy import SAFE_METHODS, rule_for
from vigil.auth.principal import Principal
from vigil.auth.roles import PURPOSE_ROLES, Permission
from vigil.auth.service import (
    CSRF_HEADER,
    PURPOSE_HEADER,
    SESSION_COOKIE,
    AuthService,
    is_loopback,
)
from vigil.privacy.audit import audit

MAX_PURPOSE = 512
# A refused read that a page retries (a stream, a poll) is audited once per caller and path in
# this window, not every few seconds: the log must stay readable. Refused changes are always
# recorded.
DENIED_READ_DEDUPE_S = 300.0


async def optional_principal(request: Request) -> Principal | None:
    """The caller, from `Authorization: Bearer` or the session cookie; None if anonymous.
    A caller checked in the last `security.auth_cache_s` is answered from memory on the event
    loop; only a lookup in the store goes to a worker thread (a hand-off costs more than the
    check)."""
    service: AuthService | None = getattr(request.app.state, "auth", None)
    if service is None:
        return None
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    cached = service.cached(authorization, cookie)
    if cached is not None:
        return cached
    return await run_in_threadpool(service.authenticate, authorization, cookie)


CurrentPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_principal(request: Request) -> Principal:
    """For handlers: the principal `authorize` accepted for this request."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return principal


class _Dedupe:
    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def fresh(self, key: tuple[str, str], window_s: float) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last < window_s:
                return False
            self._seen[key] = now
            if len(self._seen) > 50_000:
                self._seen = {k: v for k, v in self._seen.items() if now - v < window_s}
            return True


def _dedupe(request: Request) -> _Dedupe:
    dedupe: _Dedupe = getattr(request.app.state, "audit_dedupe", None) or _Dedupe()
    request.app.state.audit_dedupe = dedupe
    return dedupe


def _details(request: Request) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for key, value in list(request.query_params.multi_items())[:30]:
        if key == "purpose":
            continue
        previous = details.get(key)
        value = value[:200]
        if previous is None:
            details[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            details[key] = [previous, value]
    return details


async def authorize(
    request: Request,
    principal: CurrentPrincipal,
    purpose: Annotated[
        str | None,
        Header(
            alias=PURPOSE_HEADER,
            max_length=MAX_PURPOSE,
            description="Why you are searching or viewing (recorded in the audit log; "
            "required of investigators for searches, event and snapshot views and exports)",
        ),
    ] = None,
) -> None:
    """Applied to every route: authentication, CSRF, role permission, purpose, rate limit and
    the audit record. Handlers and the data layer then narrow what is returned. Runs on the
    event loop; what reads or writes the store (the first-user check, audit records) runs in a
    worker thread."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    method = request.method
    rule = rule_for(method, template)
    service: AuthService | None = getattr(request.app.state, "auth", None)
    client = request.client.host if request.client else ""
    if (
        service is not None
        and template != "/healthz"
        and not is_loopback(client)
        and principal is None
        and not await run_in_threadpool(service.has_users)
    ):
        raise HTTPException(
            503,
            "Vigil has no administrator yet: run `vigil users create-admin` on the server, "
            "or open the first-run page from the server itself",
        )
    if rule.public:
        request.state.principal = principal
        return
    if principal is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    unsafe = method not in SAFE_METHODS
    if unsafe and principal.via == "session":
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf or not hmac.compare_digest(sent, principal.csrf):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header (CSRF protection)")
    export = method == "GET" and request.query_params.get("format") == "csv"
    action = rule.action
    if export:
        action = f"{(action or template.strip('/').replace('/', '.')).split('.')[0]}.export"
    elif unsafe and action is None:
        action = f"{method.lower()} {template}"
    needed = [rule.permission] if rule.permission else []
    if export and rule.permission is not Permission.AUDIT_READ:  # auditors export the log
        needed.append(Permission.EXPORT)
    missing = [perm for perm in needed if not principal.can(perm)]
    if missing:
        if action and (
            unsafe
            or _dedupe(request).fresh(
                (principal.actor, f"denied {request.url.path}"), DENIED_READ_DEDUPE_S
            )
        ):
            await run_in_threadpool(
                audit,
                request,
                action,
                target=request.url.path,
                outcome="denied",
                details={"missing": [perm.value for perm in missing]},
            )
        raise HTTPException(403, f"your role may not do this (needs {missing[0].value})")
    stated = (purpose or request.query_params.get("purpose") or principal.purpose or "").strip()
    if len(stated) > MAX_PURPOSE:
        raise HTTPException(422, f"purpose: at most {MAX_PURPOSE} characters")
    request.state.purpose = stated
    if (rule.purpose or export) and principal.role in PURPOSE_ROLES and not stated:
        raise HTTPException(
            403,
            "state the purpose of this search or view: send the X-Vigil-Purpose header or "
            "a purpose parameter, or set one for your session (PUT /api/auth/purpose); it is "
            "recorded in the audit log",
        )
    if rule.limit == "search" and service is not None:
        wait = service.search_limiter.hit(principal.actor)
        if wait is not None:
            raise HTTPException(
                429, "too many searches; slow down", headers={"Retry-After": str(int(wait) + 1)}
            )
    if action and not rule.self_audited:
        if rule.dedupe_s and not _dedupe(request).fresh(
            (principal.actor, request.url.path), rule.dedupe_s
        ):
            return
        if unsafe:
            # A change: written by ChangeAuditMiddleware once the response tells whether it
            # happened, was denied or failed (vigil.api.audit_outcome).
            request.state.pending_audit = {
                "action": action,
                "target": request.url.path,
                "details": _details(request),
            }
            return
        await run_in_threadpool(
            audit,
            request,
            action,
            target=request.url.path,
            outcome="allowed",
            details=_details(request),
        )
