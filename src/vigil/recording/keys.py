"""The per tenant/camera/hour keys of recordings, in the database (never beside the segments),
each wrapped under the master key of `security.key_file` (vigil.recording.keywrap).

Deleting an hour's row is what makes its video unreadable (crypto-shredding): the segments in
the media store, and any copy of them in a backup, are ciphertext nobody can open any more.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from vigil.domain.frames import now_ms
from vigil.recording.crypto import new_key
from vigil.recording.keywrap import WRAPPING, KeyWrap
from vigil.store.db import dialect_insert
from vigil.store.schema import recording_keys

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000


def hour_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % HOUR_MS


class KeyStore:
    """Creates each hour's key on first use. The writer caches the keys it writes with (a
    database read per segment spared); readers always ask the database, so an hour shredded by
    another node's retention job is unreadable here at once.

    Without a `wrap` (the retention job) the store can only shred keys, never read or make one.
    """

    def __init__(self, engine: sa.Engine, wrap: KeyWrap | None = None) -> None:
        self.engine = engine
        self._wrap = wrap
        self._cache: dict[tuple[str, str, int], bytes] = {}
        self._lock = threading.Lock()

    def _wrapper(self) -> KeyWrap:
        if self._wrap is None:
            raise RuntimeError("recording keys are read and made only with security.key_file")
        return self._wrap

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
                key=self._wrapper().wrap(new_key(), tenant, camera_id, hour_ms),
                created_ms=now_ms(),
                wrapping=WRAPPING,
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
        """The hour's key, or None when it never existed or was shredded. Raises
        SegmentUnreadable when it does not unwrap with this key file."""
        wrap = self._wrapper()
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(recording_keys.c.key, recording_keys.c.wrapping).where(
                    recording_keys.c.tenant == tenant,
                    recording_keys.c.camera_id == camera_id,
                    recording_keys.c.hour_ms == hour_ms,
                )
            ).first()
        if row is None:
            return None
        stored = bytes(row[0])
        if row[1] is None:  # written before wrapping, and not yet wrapped by wrap_legacy
            return stored
        return wrap.unwrap(stored, tenant, camera_id, hour_ms)

    def wrap_legacy(self) -> int:
        """Wraps in place every key stored before wrapping existed; returns how many. Safe to
        run in several processes at once: a row another one wrapped first is left alone."""
        wrap = self._wrapper()
        k = recording_keys.c
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(k.tenant, k.camera_id, k.hour_ms, k.key).where(k.wrapping.is_(None))
            ).all()
        done = 0
        for tenant, camera_id, hour_ms, key in rows:
            update = (
                sa.update(recording_keys)
                .where(
                    k.tenant == tenant,
                    k.camera_id == camera_id,
                    k.hour_ms == hour_ms,
                    k.wrapping.is_(None),
                )
                .values(key=wrap.wrap(bytes(key), tenant, camera_id, hour_ms), wrapping=WRAPPING)
            )
            with self.engine.begin() as c:
                done += c.execute(update).rowcount
        if done:
            log.info("recording: wrapped %d hour keys stored before key wrapping", done)
        return done

    def hours_before(self, cutoff_ms: int) -> list[tuple[str, str, int]]:
        """(tenant, camera, hour) of every key of an hour that starts before `cutoff_ms`."""
        k = recording_keys.c
        statement = sa.select(k.tenant, k.camera_id, k.hour_ms).where(k.hour_ms < cutoff_ms)
        with self.engine.connect() as c:
            return [(r[0], r[1], r[2]) for r in c.execute(statement)]

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
