"""Which sessions and API tokens holding streams are still valid, and what their users may see
now, in a few queries for all the streams of a node: streams are re-checked every few seconds,
never per event.

A session ends with logout or expiry, a token with revocation or expiry, both with the user
being disabled; any of these closes that credential's streams on every node, because each node
asks the shared store rather than waiting to be told. A change to the user's role, tenant or
camera groups (or to the cameras of those groups) changes the user's `Grant`: the hub closes
those streams too, so that a narrowed scope applies within seconds and the client reconnects
with the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import sqlalchemy as sa

from vigil.auth.store import AuthStore
from vigil.domain.frames import now_ms
from vigil.store.schema import api_tokens, sessions, users

Credential = tuple[str, str]  # ("session" | "token", id)
# What a user may see: (role, tenant, cameras of their groups; None = all of the tenant's).
Grant = tuple[str | None, str | None, frozenset[str] | None]
CredentialCheck = Callable[[Collection[Credential]], dict[Credential, Grant]]


def store_check(engine: sa.Engine) -> CredentialCheck:
    """A check against the auth tables of `engine`: the credentials still valid, each with its
    user's grant as it is now."""
    auth = AuthStore(engine)

    def valid(credentials: Collection[Credential]) -> dict[Credential, Grant]:
        session_ids = sorted({cid for kind, cid in credentials if kind == "session"})
        token_ids = sorted({cid for kind, cid in credentials if kind == "token"})
        now = now_ms()
        u = users.c
        found: list[tuple[Credential, str, str | None, list[str]]] = []
        with engine.connect() as connection:
            for chunk in _chunks(session_ids):
                rows = connection.execute(
                    sa.select(sessions.c.id, u.role, u.tenant, u.camera_groups)
                    .join(users, u.id == sessions.c.user_id)
                    .where(
                        sessions.c.id.in_(chunk), sessions.c.expires_ms > now, u.disabled.is_(False)
                    )
                )
                found.extend((("session", r[0]), r[1], r[2], r[3] or []) for r in rows)
            for chunk in _chunks(token_ids):
                rows = connection.execute(
                    sa.select(api_tokens.c.id, u.role, u.tenant, u.camera_groups)
                    .join(users, u.id == api_tokens.c.user_id)
                    .where(
                        api_tokens.c.id.in_(chunk),
                        api_tokens.c.revoked_ms.is_(None),
                        api_tokens.c.expires_ms > now,
                        u.disabled.is_(False),
                    )
                )
                found.extend((("token", r[0]), r[1], r[2], r[3] or []) for r in rows)
        # Few distinct (tenant, groups) among many users: resolve each combination once.
        cameras: dict[tuple[str | None, tuple[str, ...]], frozenset[str] | None] = {}
        grants: dict[Credential, Grant] = {}
        for credential, role, tenant, groups in found:
            combination = (tenant, tuple(sorted(groups)))
            if combination not in cameras:
                cameras[combination] = auth.group_cameras(tenant, list(combination[1]))
            grants[credential] = (role, tenant, cameras[combination])
        return grants

    return valid


def grant_of(role: str | None, tenant: str | None, cameras: frozenset[str] | None) -> Grant:
    """A principal's grant at connect, to compare with `store_check`'s later."""
    return (role, tenant, cameras)


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    # Bound the IN list: SQLite limits bound parameters per statement.
    return [ids[i : i + size] for i in range(0, len(ids), size)]
