"""The per tenant/camera/hour keys of recordings, in the database (never beside the segments).

Deleting an hour's row is what makes its video unreadable (crypto-shredding): the segments in
the media store, and any copy of them in a backup, are ciphertext nobody can open any more.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from vigil.domain.frames import now_ms
from vigil.recording.crypto import new_key
from vigil.store.db import dialect_insert
from vigil.store.schema import recording_keys

HOUR_MS = 3_600_000


def hour_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % HOUR_MS


class KeyStore:
    """Creates each hour's key on first use. The writer caches the keys it writes with (a
    database read per segment spared); readers always ask the database, so an hour shredded by
    another node's retention job is unreadable here at once."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._cache: dict[tuple[str, str, int], bytes] = {}
        self._lock = threading.Lock()

    def key_for_writing(self, tenant: str, camera_id: str, hour_ms: int) -> bytes:
        ident = (tenant, camera_id, hour_ms)
        with self._lock:
            cached = self._cache.get(ident)
        if cached is not None:
            return cached
        # Two writers of one camera (a failover) race here: ON CONFLICT keeps the first key,
        # and both read back the one that won.
        insert = (
            dialect_insert(self.engine, recording_keys)
            .values(
                tenant=tenant,
                camera_id=camera_id,
                hour_ms=hour_ms,
                key=new_key(),
                created_ms=now_ms(),
            )
            .on_conflict_do_nothing()
        )
        with self.engine.begin() as c:
            c.execute(insert)
        key = self.key(tenant, camera_id, hour_ms)
        assert key is not None, "a key just inserted must be readable"
        with self._lock:
            self._cache[ident] = key
        return key

    def key(self, tenant: str, camera_id: str, hour_ms: int) -> bytes | None:
        """The hour's key, or None when it never existed or was shredded."""
        with self.engine.connect() as c:
            key = c.execute(
                sa.select(recording_keys.c.key).where(
                    recording_keys.c.tenant == tenant,
                    recording_keys.c.camera_id == camera_id,
                    recording_keys.c.hour_ms == hour_ms,
                )
            ).scalar_one_or_none()
        return None if key is None else bytes(key)

    def shred(self, tenant: str, camera_id: str, hour_ms: int) -> None:
        with self._lock:
            self._cache.pop((tenant, camera_id, hour_ms), None)
        with self.engine.begin() as c:
            c.execute(
                sa.delete(recording_keys).where(
                    recording_keys.c.tenant == tenant,
                    recording_keys.c.camera_id == camera_id,
                    recording_keys.c.hour_ms == hour_ms,
                )
            )
