"""Checked credentials kept for a moment, so that 50 requests a second with one token do not
each look the token, its user and their camera groups up in the database.

An entry is used only while all of these hold: it is younger than `ttl_s`; the token or session
has not expired; and no identity change (revocation, logout, disabled or deleted user, role,
camera group, session purpose …) was written by this process since the entry was made
(`AuthStore.changes`). A change made on another API node, or by the CLI, applies within
`ttl_s` (`security.auth_cache_s`, 2 s by default: the same bound open streams have).
Only accepted credentials are kept; a wrong one is checked against the database each time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vigil.auth.principal import Principal
from vigil.auth.store import AuthStore

# Distinct credentials kept at most; past this the cache is emptied (a flood of distinct valid
# credentials is rare, and each is then simply checked again).
MAX_ENTRIES = 10_000


class CredentialCache:
    def __init__(self, ttl_s: float, clock_ms: Callable[[], int]) -> None:
        self.ttl_s = ttl_s
        self.clock_ms = clock_ms
        self._lock = threading.Lock()
        # credentials -> (principal, made at (clock ms), expires (clock ms), changes seen)
        self._entries: dict[tuple[str, str], tuple[Principal, float, int, int]] = {}

    def get(self, key: tuple[str, str]) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        principal, made_ms, expires_ms, changes = entry
        now = self.clock_ms()
        if (
            changes != AuthStore.changes
            or not 0 <= now - made_ms < self.ttl_s * 1000  # a clock set back ends it too
            or now >= expires_ms
        ):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return principal

    def put(
        self, key: tuple[str, str], principal: Principal, expires_ms: int, changes: int
    ) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (principal, self.clock_ms(), expires_ms, changes)
