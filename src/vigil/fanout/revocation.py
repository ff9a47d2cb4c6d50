"""Which sessions and API tokens are still valid, in one query per kind for all the streams of
a node: streams are re-checked every few seconds, never per event.

A session ends with logout or expiry, a token with revocation or expiry, both with the user
being disabled; any of these closes that credential's streams on every node, because each node
asks the shared store rather than waiting to be told.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import sqlalchemy as sa

from vigil.domain import now_ms
from vigil.store.schema import api_tokens, sessions, users

Credential = tuple[str, str]  # ("session" | "token", id)
CredentialCheck = Callable[[Collection[Credential]], set[Credential]]


def store_check(engine: sa.Engine) -> CredentialCheck:
    """A check against the auth tables of `engine`: returns the credentials still valid."""

    def valid(credentials: Collection[Credential]) -> set[Credential]:
        session_ids = sorted({cid for kind, cid in credentials if kind == "session"})
        token_ids = sorted({cid for kind, cid in credentials if kind == "token"})
        now = now_ms()
        alive: set[Credential] = set()
        with engine.connect() as connection:
            for chunk in _chunks(session_ids):
                rows = connection.execute(
                    sa.select(sessions.c.id)
                    .join(users, users.c.id == sessions.c.user_id)
                    .where(
                        sessions.c.id.in_(chunk),
                        sessions.c.expires_ms > now,
                        users.c.disabled.is_(False),
                    )
                )
                alive.update(("session", row[0]) for row in rows)
            for chunk in _chunks(token_ids):
                rows = connection.execute(
                    sa.select(api_tokens.c.id)
                    .join(users, users.c.id == api_tokens.c.user_id)
                    .where(
                        api_tokens.c.id.in_(chunk),
                        api_tokens.c.revoked_ms.is_(None),
                        api_tokens.c.expires_ms > now,
                        users.c.disabled.is_(False),
                    )
                )
                alive.update(("token", row[0]) for row in rows)
        return alive

    return valid


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    # Bound the IN list: SQLite limits bound parameters per statement.
    return [ids[i : i + size] for i in range(0, len(ids), size)]
