"""Users, sessions, API tokens, tenants, camera groups and one-time login links in SQL.

Secrets never reach the database: sessions, tokens and login links are stored as SHA-256 of
random values, passwords as argon2id hashes. Every statement uses bound parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vigil.auth.passwords import check_strength, hash_password
from vigil.auth.roles import Permission, Role
from vigil.auth.tables import (
    api_tokens,
    camera_groups,
    login_failures,
    login_links,
    sessions,
    tenants,
    users,
)
from vigil.domain import namespaces
from vigil.domain.frames import now_ms
from vigil.store.db import dialect_insert

# A user of a tenant other than 'default' is 'acme:bob' (see vigil.domain.namespaces).
USERNAME = re.compile(r"^([a-z0-9][a-z0-9_-]{0,63}:)?[a-z0-9][a-z0-9._@-]{0,63}$")
TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TOKEN = re.compile(r"^vgl_([a-z0-9]{12})_([A-Za-z0-9_-]{32,64})$")


class AuthError(ValueError):
    """A request about users or tokens that cannot be done, phrased for the caller."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    tenant: str | None
    role: Role
    camera_groups: list[str]
    disabled: bool
    failed_logins: int
    locked_until_ms: int | None
    created_ms: int
    updated_ms: int
    last_login_ms: int | None
    password_hash: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "tenant": self.tenant,
            "role": self.role.value,
            "camera_groups": list(self.camera_groups),
            "disabled": self.disabled,
            "locked_until_ms": self.locked_until_ms,
            "created_ms": self.created_ms,
            "last_login_ms": self.last_login_ms,
        }


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user: User
    csrf: str
    purpose: str | None
    created_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    user_id: str
    name: str
    secret_hash: str
    scopes: frozenset[Permission] | None
    created_ms: int
    expires_ms: int
    last_used_ms: int | None
    revoked_ms: int | None


def _user(row: sa.RowMapping) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        tenant=row["tenant"],
        role=Role(row["role"]),
        camera_groups=list(row["camera_groups"] or []),
        disabled=bool(row["disabled"]),
        failed_logins=row["failed_logins"],
        locked_until_ms=row["locked_until_ms"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
        last_login_ms=row["last_login_ms"],
        password_hash=row["password_hash"],
    )


def _token(row: sa.RowMapping) -> ApiToken:
    scopes = row["scopes"]
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        scopes=None if scopes is None else frozenset(Permission(s) for s in scopes),
        created_ms=row["created_ms"],
        expires_ms=row["expires_ms"],
        last_used_ms=row["last_used_ms"],
        revoked_ms=row["revoked_ms"],
    )


def check_username(username: str) -> str:
    if not USERNAME.match(username) or len(username) > namespaces.MAX_LENGTH:
        raise AuthError(
            "username: use 1-64 lower-case letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit, after the tenant's prefix ('acme:bob') for a "
            "tenant other than 'default'"
        )
    return username


def check_tenant(tenant: str) -> str:
    if not TENANT.match(tenant):
        raise AuthError("tenant: use 1-64 lower-case letters, digits, '-' or '_'")
    return tenant


class AuthStore:
    # Counts the identity changes made in this process (any AuthStore, any table): the
    # credential cache of AuthService drops what it holds when it moves, so a revocation,
    # logout, role or group change made on this node applies to the very next request.
    changes = 0

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as connection:
            yield connection
        AuthStore.changes += 1

    # tenants and camera groups -----------------------------------------------------------

    def list_tenants(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(tenants).order_by(tenants.c.id)).mappings().all()
        return [dict(row) for row in rows]

    def get_tenant(self, tenant: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(tenants).where(tenants.c.id == tenant)).mappings().first()
        return dict(row) if row else None

    def ensure_tenant(self, tenant: str, name: str = "") -> dict[str, Any]:
        check_tenant(tenant)
        insert = dialect_insert(self.engine, tenants).values(
            id=tenant, name=name or tenant, created_ms=now_ms(), settings={}
        )
        with self._begin() as c:
            c.execute(insert.on_conflict_do_nothing(index_elements=[tenants.c.id]))
        found = self.get_tenant(tenant)
        assert found is not None
        return found

    def rename_tenant(self, tenant: str, name: str) -> None:
        with self._begin() as c:
            c.execute(sa.update(tenants).where(tenants.c.id == tenant).values(name=name))

    def tenant_settings(self, tenant: str) -> dict[str, Any]:
        found = self.get_tenant(tenant)
        return dict(found["settings"] or {}) if found else {}

    def update_tenant_settings(self, tenant: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.ensure_tenant(tenant)
        with self._begin() as c:
            # Read, merge and write under the row's write lock, taken first by a no-op UPDATE
            # (on PostgreSQL a concurrent change waits for this transaction; on SQLite the
            # transaction holds the database's write lock from here), so that changes made at
            # the same time (retention by one admin, person colours by another) both stay.
            c.execute(
                sa.update(tenants).where(tenants.c.id == tenant).values(settings=tenants.c.settings)
            )
            current = c.execute(
                sa.select(tenants.c.settings).where(tenants.c.id == tenant)
            ).scalar_one()
            settings = {**(current or {}), **changes}
            settings = {k: v for k, v in settings.items() if v is not None}
            c.execute(sa.update(tenants).where(tenants.c.id == tenant).values(settings=settings))
        return settings

    def list_groups(self, tenant: str) -> dict[str, list[str]]:
        statement = sa.select(camera_groups).where(camera_groups.c.tenant == tenant)
        with self.engine.connect() as c:
            rows = c.execute(statement.order_by(camera_groups.c.name)).mappings().all()
        return {row["name"]: list(row["cameras"]) for row in rows}

    def put_group(self, tenant: str, name: str, cameras: Iterable[str]) -> None:
        check_tenant(name)  # same shape as a tenant id
        insert = dialect_insert(self.engine, camera_groups).values(
            tenant=tenant, name=name, cameras=sorted(set(cameras)), updated_ms=now_ms()
        )
        with self._begin() as c:
            c.execute(
                insert.on_conflict_do_update(
                    index_elements=[camera_groups.c.tenant, camera_groups.c.name],
                    set_={
                        "cameras": insert.excluded.cameras,
                        "updated_ms": insert.excluded.updated_ms,
                    },
                )
            )

    def delete_group(self, tenant: str, name: str) -> bool:
        with self._begin() as c:
            result = c.execute(
                sa.delete(camera_groups).where(
                    camera_groups.c.tenant == tenant, camera_groups.c.name == name
                )
            )
        return result.rowcount > 0

    def group_cameras(self, tenant: str | None, names: list[str]) -> frozenset[str] | None:
        """The cameras a user of these groups may see; None (all of the tenant) for none."""
        if not names or tenant is None:
            return None
        groups = self.list_groups(tenant)
        return frozenset(camera for name in names for camera in groups.get(name, []))

    # users -------------------------------------------------------------------------------

    def count_users(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        tenant: str | None,
        camera_groups: list[str] | None = None,
    ) -> User:
        check_username(username)
        if role is Role.SYSADMIN:
            tenant = None
        elif tenant is None:
            # An auditor without a tenant audits the whole system (a city's DPO).
            if role is not Role.AUDITOR:
                raise AuthError("tenant: every role but sysadmin and auditor has a tenant")
        else:
            self.ensure_tenant(tenant)
        try:  # 'bob' for tenant acme is 'acme:bob': "taken" never speaks of another tenant
            username = check_username(namespaces.qualify(username, tenant, "user", "name"))
        except namespaces.NamespaceError as error:
            raise AuthError(f"username: {error}") from None
        check_strength(password, username)
        ts = now_ms()
        row = {
            "id": str(uuid.uuid4()),
            "username": username,
            "tenant": tenant,
            "role": role.value,
            "camera_groups": list(camera_groups or []),
            "password_hash": hash_password(password),
            "disabled": False,
            "failed_logins": 0,
            "locked_until_ms": None,
            "created_ms": ts,
            "updated_ms": ts,
            "last_login_ms": None,
        }
        try:
            with self._begin() as c:
                c.execute(sa.insert(users).values(**row))
        except sa.exc.IntegrityError:
            raise AuthError(f"username: {username!r} is taken") from None
        user = self.get_user(str(row["id"]))
        assert user is not None
        return user

    def get_user(self, user_id: str) -> User | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
        return _user(row) if row else None

    def find_user(self, username: str) -> User | None:
        statement = sa.select(users).where(users.c.username == username.strip().lower())
        with self.engine.connect() as c:
            row = c.execute(statement).mappings().first()
        return _user(row) if row else None

    def list_users(self, tenant: str | None = None, *, all_tenants: bool = False) -> list[User]:
        statement = sa.select(users).order_by(users.c.username)
        if not all_tenants:
            statement = statement.where(users.c.tenant == tenant)
        with self.engine.connect() as c:
            return [_user(row) for row in c.execute(statement).mappings()]

    def update_user(self, user_id: str, **fields: Any) -> User:
        allowed = {"role", "camera_groups", "disabled", "tenant"}
        unknown = set(fields) - allowed
        if unknown:
            raise AuthError(f"cannot change {', '.join(sorted(unknown))}")
        values = {k: (v.value if isinstance(v, Role) else v) for k, v in fields.items()}
        with self._begin() as c:
            c.execute(
                sa.update(users).where(users.c.id == user_id).values(**values, updated_ms=now_ms())
            )
            if fields.get("disabled") or "role" in fields or "tenant" in fields:
                # Whatever was granted before ends now: sessions and tokens must be renewed.
                c.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))
        user = self.get_user(user_id)
        if user is None:
            raise AuthError("no such user")
        return user

    def set_password(self, user_id: str, password: str) -> None:
        user = self.get_user(user_id)
        if user is None:
            raise AuthError("no such user")
        check_strength(password, user.username)
        with self._begin() as c:
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(
                    password_hash=hash_password(password),
                    failed_logins=0,
                    locked_until_ms=None,
                    updated_ms=now_ms(),
                )
            )
            c.execute(sa.delete(login_failures).where(login_failures.c.user_id == user_id))
            c.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))

    def rehash(self, user_id: str, password: str) -> None:
        with self._begin() as c:
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(password_hash=hash_password(password))
            )

    def delete_user(self, user_id: str) -> bool:
        with self._begin() as c:
            for table in (sessions, api_tokens, login_links, login_failures):
                c.execute(sa.delete(table).where(table.c.user_id == user_id))
            result = c.execute(sa.delete(users).where(users.c.id == user_id))
        return result.rowcount > 0

    def locked_for(self, user_id: str, source: str, now: int) -> bool:
        """Whether this account is locked for logins from `source` (a client address)."""
        with self.engine.connect() as c:
            until = c.execute(
                sa.select(login_failures.c.locked_until_ms).where(
                    login_failures.c.user_id == user_id, login_failures.c.source == source
                )
            ).scalar_one_or_none()
        return until is not None and until > now

    def record_failure(
        self, user_id: str, source: str, now: int, lock_after: int, lock_ms: int
    ) -> bool:
        """Count one wrong password from `source`; True if that locks the account for it.

        Counted per account AND source address, so a guesser elsewhere cannot lock the user
        out of their own address. The user row keeps the account-wide count and the latest
        lock, which is what administrators see and lift."""
        # One atomic increment, not a read and a write: failed logins that arrive together
        # (threads of one server, or several API nodes on PostgreSQL) must each count, or
        # parallel guessing would never reach the lockout.
        source = source[:64]
        with self._begin() as c:
            # Counts of addresses that stopped guessing a lockout period ago are forgotten,
            # so the table stays as small as the guessing that is going on.
            c.execute(
                sa.delete(login_failures).where(
                    login_failures.c.user_id == user_id,
                    login_failures.c.updated_ms < now - lock_ms,
                    sa.or_(
                        login_failures.c.locked_until_ms.is_(None),
                        login_failures.c.locked_until_ms <= now,
                    ),
                )
            )
            insert = dialect_insert(self.engine, login_failures).values(
                user_id=user_id, source=source, failures=1, locked_until_ms=None, updated_ms=now
            )
            failures = c.execute(
                insert.on_conflict_do_update(
                    index_elements=[login_failures.c.user_id, login_failures.c.source],
                    set_={
                        "failures": login_failures.c.failures + 1,
                        "updated_ms": insert.excluded.updated_ms,
                    },
                ).returning(login_failures.c.failures)
            ).scalar_one()
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(failed_logins=users.c.failed_logins + 1)
            )
            if failures < lock_after:
                return False
            c.execute(
                sa.update(login_failures)
                .where(login_failures.c.user_id == user_id, login_failures.c.source == source)
                .values(failures=0, locked_until_ms=now + lock_ms)
            )
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(failed_logins=0, locked_until_ms=now + lock_ms)
            )
        return True

    def record_success(self, user_id: str, source: str, now: int) -> None:
        with self._begin() as c:
            c.execute(
                sa.delete(login_failures).where(
                    login_failures.c.user_id == user_id, login_failures.c.source == source[:64]
                )
            )
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(failed_logins=0, last_login_ms=now)
            )

    def unlock(self, user_id: str) -> None:
        """Lift the lock for every address (an administrator's action)."""
        with self._begin() as c:
            c.execute(sa.delete(login_failures).where(login_failures.c.user_id == user_id))
            c.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(failed_logins=0, locked_until_ms=None)
            )

    # sessions ----------------------------------------------------------------------------

    def create_session(self, user_id: str, now: int, ttl_ms: int, ip: str) -> tuple[str, str]:
        """A new session; returns (session token for the cookie, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._begin() as c:
            c.execute(sa.delete(sessions).where(sessions.c.expires_ms < now))
            c.execute(
                sa.insert(sessions).values(
                    id=sha256(token),
                    user_id=user_id,
                    csrf=csrf,
                    purpose=None,
                    created_ms=now,
                    expires_ms=now + ttl_ms,
                    last_seen_ms=now,
                    ip=ip[:64],
                )
            )
        return token, csrf

    def get_session(self, token: str, now: int) -> Session | None:
        if not token or len(token) > 128:
            return None
        s = sessions.c
        statement = (
            sa.select(
                s.id.label("session_id"),
                s.csrf,
                s.purpose,
                s.created_ms.label("session_created"),
                s.expires_ms,
                users,
            )
            .join(users, users.c.id == s.user_id)
            .where(s.id == sha256(token), s.expires_ms > now)
        )
        with self.engine.connect() as c:
            row = c.execute(statement).mappings().first()
        if row is None:
            return None
        return Session(
            id=row["session_id"],
            user=_user(row),
            csrf=row["csrf"],
            purpose=row["purpose"],
            created_ms=row["session_created"],
            expires_ms=row["expires_ms"],
        )

    def set_session_purpose(self, session_id: str, purpose: str | None) -> None:
        with self._begin() as c:
            c.execute(
                sa.update(sessions).where(sessions.c.id == session_id).values(purpose=purpose)
            )

    def delete_session(self, session_id: str) -> None:
        with self._begin() as c:
            c.execute(sa.delete(sessions).where(sessions.c.id == session_id))

    # API tokens --------------------------------------------------------------------------

    def create_token(
        self, user_id: str, name: str, scopes: frozenset[Permission] | None, expires_ms: int
    ) -> tuple[ApiToken, str]:
        """A new token; returns it and its secret form `vgl_<id>_<secret>`, shown once."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = {
            "id": token_id,
            "user_id": user_id,
            "name": name[:128],
            "secret_hash": sha256(secret),
            "scopes": None if scopes is None else sorted(s.value for s in scopes),
            "created_ms": now_ms(),
            "expires_ms": expires_ms,
            "last_used_ms": None,
            "revoked_ms": None,
        }
        with self._begin() as c:
            c.execute(sa.insert(api_tokens).values(**row))
        return _token(row), f"vgl_{token_id}_{secret}"  # type: ignore[arg-type]

    def check_token(self, presented: str, now: int) -> tuple[ApiToken, User] | None:
        match = TOKEN.match(presented)
        if match is None:
            return None
        token_id, secret = match.groups()
        with self.engine.connect() as c:
            row = (
                c.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        token = _token(row)
        if not hmac.compare_digest(token.secret_hash, sha256(secret)):
            return None
        if token.revoked_ms is not None or token.expires_ms <= now:
            return None
        user = self.get_user(token.user_id)
        if user is None:
            return None
        if token.last_used_ms is None or now - token.last_used_ms > 60_000:
            # Bookkeeping, not an identity change: cached credentials stay valid.
            with self.engine.begin() as c:
                c.execute(
                    sa.update(api_tokens)
                    .where(api_tokens.c.id == token_id)
                    .values(last_used_ms=now)
                )
        return token, user

    def list_tokens(self, user_ids: Iterable[str]) -> list[ApiToken]:
        statement = sa.select(api_tokens).where(api_tokens.c.user_id.in_(list(user_ids)))
        with self.engine.connect() as c:
            rows = c.execute(statement.order_by(api_tokens.c.created_ms)).mappings().all()
        return [_token(row) for row in rows]

    def get_token(self, token_id: str) -> ApiToken | None:
        with self.engine.connect() as c:
            row = (
                c.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))
                .mappings()
                .first()
            )
        return _token(row) if row else None

    def revoke_token(self, token_id: str) -> bool:
        with self._begin() as c:
            result = c.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=now_ms())
            )
        return result.rowcount > 0

    # one-time login links ----------------------------------------------------------------

    def create_login_link(self, user_id: str, ttl_ms: int) -> str:
        code = secrets.token_urlsafe(24)
        with self._begin() as c:
            c.execute(
                sa.insert(login_links).values(
                    id=sha256(code), user_id=user_id, expires_ms=now_ms() + ttl_ms, used_ms=None
                )
            )
        return code

    def use_login_link(self, code: str, now: int) -> str | None:
        """The user id of an unused, unexpired code, which is spent by this call."""
        if not code or len(code) > 128:
            return None
        with self._begin() as c:
            result = c.execute(
                sa.update(login_links)
                .where(
                    login_links.c.id == sha256(code),
                    login_links.c.used_ms.is_(None),
                    login_links.c.expires_ms > now,
                )
                .values(used_ms=now)
            )
            if result.rowcount != 1:
                return None
            return c.execute(
                sa.select(login_links.c.user_id).where(login_links.c.id == sha256(code))
            ).scalar_one()
