"""Authentication: login with lockout, sessions, API tokens, first-run setup, login links."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.auth.credential_cache import CredentialCache
from vigil.auth.passwords import burn_time, needs_rehash, verify_password
from vigil.auth.principal import Principal, user_principal
from vigil.auth.ratelimit import RateLimiter
from vigil.auth.roles import Permission, Role
from vigil.auth.store import AuthError, AuthStore, User
from vigil.config import SecurityConfig
from vigil.domain.frames import now_ms
from vigil.privacy.audit import AuditLog

log = logging.getLogger(__name__)

SESSION_COOKIE = "vigil_session"
CSRF_COOKIE = "vigil_csrf"
CSRF_HEADER = "x-csrf-token"
PURPOSE_HEADER = "X-Vigil-Purpose"
LINK_TTL_MS = 10 * 60 * 1000


class LoginFailed(Exception):
    def __init__(self, status: int, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class LoginResult:
    principal: Principal
    session_token: str
    csrf: str
    max_age_s: int


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class AuthService:
    def __init__(
        self,
        store: AuthStore,
        config: SecurityConfig,
        audit: AuditLog,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.config = config
        self.audit = audit
        self.clock = clock
        self.login_limiter = RateLimiter(config.login_per_minute)
        self.search_limiter = RateLimiter(config.search_per_minute)
        self._setup_code: str | None = None
        self._has_users = False
        self._cache = CredentialCache(config.auth_cache_s, clock)

    # first run -------------------------------------------------------------------------

    def has_users(self) -> bool:
        if not self._has_users:  # once true it stays true; until then, ask each time
            self._has_users = self.store.count_users() > 0
        return self._has_users

    def setup_code(self) -> str | None:
        """The one-time code of the first-run page, while no user exists (else None)."""
        if self.has_users():
            self._setup_code = None
            return None
        if self._setup_code is None:
            self._setup_code = secrets.token_hex(4) + "-" + secrets.token_hex(4)
        return self._setup_code

    def complete_setup(self, code: str, username: str, password: str, ip: str) -> User:
        expected = self.setup_code()
        if expected is None:
            raise LoginFailed(409, "setup is done: an administrator exists; log in instead")
        if not is_loopback(ip):
            raise LoginFailed(403, "the first-run page answers only on this machine (127.0.0.1)")
        if not hmac.compare_digest(code.strip(), expected):
            self.audit.append(
                "auth.setup",
                actor=username,
                outcome="denied",
                ip=ip,
                details={"reason": "wrong code"},
            )
            raise LoginFailed(403, "wrong setup code: use the one printed in the server log")
        try:
            user = self.store.create_user(username, password, Role.ADMIN, "default")
        except (AuthError, ValueError) as error:
            raise LoginFailed(422, str(error)) from None
        self._setup_code = None
        self._has_users = True
        self.audit.append(
            "user.create",
            actor=username,
            role=user.role.value,
            tenant=user.tenant,
            target=f"user:{user.username}",
            ip=ip,
            details={"role": user.role.value, "via": "first-run page"},
        )
        return user

    # principals ------------------------------------------------------------------------

    def principal_for(
        self,
        user: User,
        via: str,
        *,
        scopes: frozenset[Permission] | None = None,
        session_id: str | None = None,
        token_id: str | None = None,
        csrf: str | None = None,
        purpose: str | None = None,
    ) -> Principal:
        return user_principal(
            user_id=user.id,
            username=user.username,
            role=user.role,
            tenant=user.tenant,
            cameras=self.store.group_cameras(user.tenant, user.camera_groups),
            via="session" if via == "session" else "token",
            scopes=scopes,
            session_id=session_id,
            token_id=token_id,
            csrf=csrf,
            purpose=purpose,
        )

    def from_session(self, token: str) -> Principal | None:
        found = self._session_principal(token)
        return found[0] if found else None

    def _session_principal(self, token: str) -> tuple[Principal, int] | None:
        """The session's caller and when the session expires (ms)."""
        session = self.store.get_session(token, self.clock())
        if session is None or session.user.disabled:
            return None
        principal = self.principal_for(
            session.user,
            "session",
            session_id=session.id,
            csrf=session.csrf,
            purpose=session.purpose,
        )
        return principal, session.expires_ms

    def from_bearer(self, token: str) -> Principal | None:
        found = self._bearer_principal(token)
        return found[0] if found else None

    def _bearer_principal(self, token: str) -> tuple[Principal, int] | None:
        """The token's caller and when the token expires (ms)."""
        found = self.store.check_token(token, self.clock())
        if found is None:
            return None
        api_token, user = found
        if user.disabled:
            return None
        principal = self.principal_for(
            user, "token", scopes=api_token.scopes, token_id=api_token.id
        )
        return principal, api_token.expires_ms

    def cached(self, authorization: str | None, session_cookie: str | None) -> Principal | None:
        """The caller of these credentials if `authenticate` checked them in the last
        `security.auth_cache_s` and identity did not change on this node since; no I/O."""
        return self._cache.get((authorization or "", session_cookie or ""))

    def authenticate(
        self, authorization: str | None, session_cookie: str | None
    ) -> Principal | None:
        """A bearer token wins over a cookie; an invalid one is not silently ignored. A caller
        checked in the last `security.auth_cache_s` is answered from memory unless identity
        changed on this node since (CredentialCache)."""
        cached = self.cached(authorization, session_cookie)
        if cached is not None:
            return cached
        key = (authorization or "", session_cookie or "")
        changes = AuthStore.changes  # read before the lookup: a change during it drops the entry
        found: tuple[Principal, int] | None = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return None
            found = self._bearer_principal(value.strip())
        elif session_cookie:
            found = self._session_principal(session_cookie)
        if found is None:
            return None
        self._cache.put(key, found[0], found[1], changes)
        return found[0]

    # login -----------------------------------------------------------------------------

    def login(self, username: str, password: str, ip: str) -> LoginResult:
        username = username.strip().lower()[:64]
        wait = self.login_limiter.hit(ip or "?")
        if wait is not None:
            self.audit.append("auth.login", actor=username, outcome="limited", ip=ip)
            raise LoginFailed(429, "too many login attempts; wait a minute", wait)
        now = self.clock()
        user = self.store.find_user(username)
        if user is None:
            burn_time(password)
            self.audit.append(
                "auth.login",
                actor=username,
                outcome="denied",
                ip=ip,
                details={"reason": "unknown user or wrong password"},
            )
            raise LoginFailed(401, "wrong user name or password")
        audit_fields: dict[str, Any] = {
            "actor": user.username,
            "role": user.role.value,
            "tenant": user.tenant,
            "ip": ip,
        }
        source = ip or "?"
        if self.store.locked_for(user.id, source, now):
            burn_time(password)
            self.audit.append("auth.login", outcome="locked", **audit_fields)
            # Answered exactly as an unknown user: a different answer would tell a guesser
            # which names exist (and that their guessing locked one). The audit log and the
            # admin's user list say it is locked.
            raise LoginFailed(401, "wrong user name or password")
        if not verify_password(user.password_hash, password):
            # Counted per account and source address: a guesser elsewhere cannot lock the
            # user out of their own address.
            locked = self.store.record_failure(
                user.id,
                source,
                now,
                self.config.lockout_failures,
                int(self.config.lockout_minutes * 60_000),
            )
            self.audit.append(
                "auth.login",
                outcome="denied",
                **audit_fields,
                details={"reason": "wrong password", "locked": locked},
            )
            raise LoginFailed(401, "wrong user name or password")
        if user.disabled:
            self.audit.append(
                "auth.login", outcome="denied", **audit_fields, details={"reason": "disabled"}
            )
            raise LoginFailed(401, "wrong user name or password")
        if needs_rehash(user.password_hash):
            self.store.rehash(user.id, password)
        self.store.record_success(user.id, source, now)
        result = self._session(user, ip)
        self.audit.append("auth.login", outcome="ok", **audit_fields)
        return result

    def _session(self, user: User, ip: str) -> LoginResult:
        ttl_ms = int(self.config.session_hours * 3_600_000)
        token, csrf = self.store.create_session(user.id, self.clock(), ttl_ms, ip)
        principal = self.from_session(token)
        assert principal is not None
        return LoginResult(principal, token, csrf, ttl_ms // 1000)

    def login_with_link(self, code: str, ip: str) -> LoginResult:
        if not is_loopback(ip):
            raise LoginFailed(403, "login links work only on this machine (127.0.0.1)")
        user_id = self.store.use_login_link(code, self.clock())
        user = self.store.get_user(user_id) if user_id else None
        if user is None or user.disabled:
            self.audit.append("auth.link", actor="?", outcome="denied", ip=ip)
            raise LoginFailed(401, "this login link is unknown, used or expired")
        result = self._session(user, ip)
        self.audit.append(
            "auth.link", actor=user.username, role=user.role.value, tenant=user.tenant, ip=ip
        )
        return result

    def logout(self, principal: Principal, ip: str) -> None:
        if principal.session_id:
            self.store.delete_session(principal.session_id)
        self.audit.append(
            "auth.logout",
            actor=principal.actor,
            role=principal.role.value if principal.role else "",
            tenant=principal.tenant,
            ip=ip,
        )
