"""How many live streams one user and one tenant may hold on an API node.

A stream holds a socket and a buffer for as long as it is open; without a limit one script
(or one tenant's wall of screens) could take every connection a node has.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamLimits:
    per_user: int = 20
    per_tenant: int = 10_000
    # Seconds a refused client is told to wait (Retry-After): streams end when people close
    # their screens, so slots come free on the scale of minutes, not milliseconds.
    retry_after_s: int = 30


class StreamLimitError(Exception):
    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


class StreamCounts:
    """Open streams per user and per tenant on this node."""

    def __init__(self, limits: StreamLimits) -> None:
        self.limits = limits
        self._users: Counter[str] = Counter()
        self._tenants: Counter[str] = Counter()

    def take(self, user: str, tenant: str | None) -> None:
        """Count one more stream, or raise StreamLimitError saying which limit it hit."""
        limits = self.limits
        if self._users[user] >= limits.per_user:
            raise StreamLimitError(
                f"user {user!r} already has {limits.per_user} live streams open on this node; "
                "close one (another tab or screen) first",
                limits.retry_after_s,
            )
        if tenant is not None and self._tenants[tenant] >= limits.per_tenant:
            raise StreamLimitError(
                f"tenant {tenant!r} already has {limits.per_tenant} live streams open on this node",
                limits.retry_after_s,
            )
        self._users[user] += 1
        if tenant is not None:
            self._tenants[tenant] += 1

    def give_back(self, user: str, tenant: str | None) -> None:
        self._users[user] -= 1
        if self._users[user] <= 0:
            del self._users[user]
        if tenant is not None:
            self._tenants[tenant] -= 1
            if self._tenants[tenant] <= 0:
                del self._tenants[tenant]
