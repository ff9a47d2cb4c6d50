"""Keeping stored media under a quota: the oldest first, until usage is back under it. One
loop for both quotas Vigil enforces, event snapshots (`retention.media_quota_mb`, whole
store) and recorded video (`recording.quota_mb_per_tenant`, per tenant), so they evict alike.
What is evicted and what an evidence lock keeps differ (a snapshot row, an hour of video) and
stay with the caller, which passes only what it may evict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def evict_oldest(used: int, quota: int, oldest: Iterable[T], evict: Callable[[T], int]) -> int:
    """Evict items of `oldest` (oldest first; read lazily, only as far as needed) while
    `used` bytes exceed `quota`; `evict` returns the bytes it freed. Returns the usage after,
    still over the quota when nothing evictable was left."""
    for item in oldest:
        if used <= quota:
            break
        used -= evict(item)
    return used
