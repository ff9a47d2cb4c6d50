"""The credential cache of AuthService: a change made on this node applies to the very next
request; one made elsewhere (another API node, the CLI: here a direct database write) within
`security.auth_cache_s`; an expired token is never accepted from the cache."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.databases import database_url
from vigil.auth.roles import Role
from vigil.auth.service import AuthService
from vigil.auth.store import AuthStore
from vigil.auth.tables import api_tokens
from vigil.config import SecurityConfig
from vigil.privacy.audit import AuditLog
from vigil.store import EventStore

PASSWORD = "correct horse battery staple 42"


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def service(tmp_path: Path, cache_s: float) -> tuple[AuthService, Clock, EventStore]:
    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    clock = Clock()
    auth = AuthService(
        AuthStore(store.engine),
        SecurityConfig(auth_cache_s=cache_s),
        AuditLog(store.engine),
        clock=clock,
    )
    return auth, clock, store


def token_for(auth: AuthService, clock: Clock, name: str, ttl_ms: int) -> tuple[str, str]:
    user = auth.store.create_user(name, PASSWORD, Role.OPERATOR, "alpha")
    made, secret = auth.store.create_token(user.id, "t", None, clock.ms + ttl_ms)
    return made.id, f"Bearer {secret}"


def revoke_elsewhere(store: EventStore, token_id: str, at_ms: int) -> None:
    """As another node or the CLI would: straight to the database, not through this process's
    AuthStore."""
    with store.engine.begin() as c:
        c.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_ms=at_ms))


def test_a_revocation_on_this_node_applies_to_the_next_request(tmp_path: Path) -> None:
    auth, clock, store = service(tmp_path, 2.0)
    token_id, header = token_for(auth, clock, "night-shift", 86_400_000)
    assert auth.authenticate(header, None) is not None
    assert auth.authenticate(header, None) is not None  # now from the cache
    assert auth.store.revoke_token(token_id)
    assert auth.authenticate(header, None) is None
    store.close()


def test_a_revocation_elsewhere_applies_within_the_cache_time(tmp_path: Path) -> None:
    auth, clock, store = service(tmp_path, 2.0)
    token_id, header = token_for(auth, clock, "night-shift", 86_400_000)
    first = auth.authenticate(header, None)
    assert first is not None and first.username == "alpha:night-shift"
    revoke_elsewhere(store, token_id, clock.ms)
    clock.ms += 1_999
    assert auth.authenticate(header, None) is not None  # the documented bound, not longer
    clock.ms += 1
    assert auth.authenticate(header, None) is None
    store.close()


def test_without_a_cache_every_request_asks_the_database(tmp_path: Path) -> None:
    auth, clock, store = service(tmp_path, 0.0)
    token_id, header = token_for(auth, clock, "night-shift", 86_400_000)
    assert auth.authenticate(header, None) is not None
    revoke_elsewhere(store, token_id, clock.ms)
    assert auth.authenticate(header, None) is None
    store.close()


def test_an_expired_token_is_not_accepted_from_the_cache(tmp_path: Path) -> None:
    auth, clock, store = service(tmp_path, 60.0)
    _, header = token_for(auth, clock, "night-shift", 500)
    assert auth.authenticate(header, None) is not None
    clock.ms += 500
    assert auth.authenticate(header, None) is None
    store.close()


def test_wrong_credentials_are_never_cached_as_right(tmp_path: Path) -> None:
    auth, clock, store = service(tmp_path, 60.0)
    _, header = token_for(auth, clock, "night-shift", 86_400_000)
    wrong = header[:-3] + ("aaa" if not header.endswith("aaa") else "bbb")
    assert auth.authenticate(wrong, None) is None
    assert auth.authenticate(header, None) is not None
    assert auth.authenticate(wrong, None) is None
    store.close()
