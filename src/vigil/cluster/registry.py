"""Worker heartbeats and camera leases in NATS KV buckets.

* `<prefix>_workers`: one key per live worker, refreshed every heartbeat; the bucket's TTL
  removes the key of a worker that stopped refreshing it (crashed, frozen, cut off).
* `<prefix>_leases`: one key per camera being analysed, holding the owning worker's id. A lease
  is taken with `create` (fails if someone holds it), renewed with `update` at the revision
  the owner last saw (fails if anyone else wrote it since), and released with a revision-checked
  delete. The bucket's TTL frees the lease of a worker that stopped renewing.
* `<prefix>_roles`: the same kind of lease for work one node of the cluster does at a time
  (evaluating alert rules), held by an API node.

Both TTLs are the cluster's `ttl_s`, so a dead worker's cameras become free about when the
other workers stop counting it as alive.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import nats.js.errors as js_errors
from nats.js import api
from nats.js.kv import KeyValue

from vigil.bus.nats import NatsBus
from vigil.bus.nats_codec import token
from vigil.bus.nats_errors import BusClosedError

T = TypeVar("T")
KV_TIMEOUT_S = 10.0
# A holder stops the leased work once this share of the lease's lifetime passed without a
# renewal: before the lease can expire and pass to someone else.
FENCE_SHARE = 0.75
WRONG_LAST_SEQUENCE = 10071  # JetStream's error code for a failed revision check
CREATE_ATTEMPTS = 3  # a key expiring mid-create is free; more misses than this mean contention


def process_name() -> str:
    """This process's default name in the cluster: host name and process id."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    return f"{host[:40]}-{os.getpid()}"


@dataclass(slots=True)
class WorkerInfo:
    """What a worker says about itself in each heartbeat."""

    id: str
    capacity: int
    host: str = ""
    pid: int = 0
    started_ms: int = 0
    cameras: list[str] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # CameraStatus fields
    metrics: dict[str, list[Any]] = field(default_factory=dict)  # name → [kind, help, value]
    # The classes its detector knows: an API node refuses a camera asking for others
    # (empty from a worker of an older version, which is not checked).
    labels: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> WorkerInfo:
        return cls(**json.loads(data))


class ClusterRegistry:
    """Heartbeats and leases for one cluster (`prefix`), over `bus`'s NATS connection."""

    def __init__(self, bus: NatsBus, *, ttl_s: float, replicas: int = 1) -> None:
        self.bus = bus
        self.ttl_s = ttl_s
        stem = token(bus.prefix)
        self._workers: KeyValue = bus.call(self._bucket(f"{stem}_workers", replicas), KV_TIMEOUT_S)
        self._leases: KeyValue = bus.call(self._bucket(f"{stem}_leases", replicas), KV_TIMEOUT_S)
        self._roles: KeyValue = bus.call(self._bucket(f"{stem}_roles", replicas), KV_TIMEOUT_S)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        # Bounded by the TTL too: an answer later than that is too late to keep a lease.
        timeout = min(KV_TIMEOUT_S, self.ttl_s)
        try:
            return self.bus.call(asyncio.wait_for(coroutine, timeout), timeout + 1)
        except BusClosedError:
            coroutine.close()  # never started: let it go quietly
            raise

    async def _bucket(self, name: str, replicas: int) -> KeyValue:
        try:
            return await self.bus.js.key_value(name)
        except js_errors.BucketNotFoundError:
            return await self.bus.js.create_key_value(
                api.KeyValueConfig(bucket=name, history=1, ttl=self.ttl_s, replicas=replicas)
            )

    # heartbeats ------------------------------------------------------------------------------

    def heartbeat(self, info: WorkerInfo) -> None:
        self._call(self._workers.put(token(info.id), info.encode()))

    def leave(self, worker_id: str) -> None:
        """Say this worker is gone now, rather than when its heartbeat expires."""
        self._call(self._workers.delete(token(worker_id)))

    def workers(self) -> dict[str, WorkerInfo]:
        """Live workers by id."""
        return self._call(self._live_workers())

    async def _live_workers(self) -> dict[str, WorkerInfo]:
        try:
            keys = await self._workers.keys()
        except js_errors.NoKeysError:
            return {}
        live: dict[str, WorkerInfo] = {}
        for key in keys:
            try:
                entry = await self._workers.get(key)
            except js_errors.NotFoundError:  # expired or left between keys() and get()
                continue
            if entry.value:
                info = WorkerInfo.decode(entry.value)
                live[info.id] = info
        return live

    # leases ----------------------------------------------------------------------------------

    def acquire(self, camera_id: str, worker_id: str) -> int | None:
        """Take the lease of `camera_id`; its revision, or None if another worker holds it."""
        return self._call(_create(self._leases, camera_id, worker_id))

    def renew(self, camera_id: str, worker_id: str, revision: int) -> int | None:
        """Extend a held lease; its new revision, or None if it was lost (expired and taken,
        or written by anyone else since `revision`)."""
        return self._call(_update(self._leases, camera_id, worker_id, revision))

    def release(self, camera_id: str, revision: int) -> None:
        """Give a lease up; a lease already lost is left to its new holder."""
        self._call(_delete(self._leases, camera_id, revision))

    def owner(self, camera_id: str) -> str | None:
        """The worker holding the lease of `camera_id`, if any."""
        return self._call(_holder(self._leases, camera_id))

    # roles: leases on work one node does at a time ------------------------------------------

    def acquire_role(self, role: str, node_id: str) -> int | None:
        return self._call(_create(self._roles, role, node_id))

    def renew_role(self, role: str, node_id: str, revision: int) -> int | None:
        return self._call(_update(self._roles, role, node_id, revision))

    def release_role(self, role: str, revision: int) -> None:
        self._call(_delete(self._roles, role, revision))

    def role_holder(self, role: str) -> str | None:
        return self._call(_holder(self._roles, role))


async def _create(bucket: KeyValue, key: str, holder: str) -> int | None:
    # A create refused because the key exists makes nats-py read the key back; when the
    # lease expires in between, that read finds nothing. The key is free then: try again.
    for _ in range(CREATE_ATTEMPTS):
        try:
            return int(await bucket.create(token(key), holder.encode()))
        except js_errors.KeyWrongLastSequenceError:
            return None
        except js_errors.KeyNotFoundError:
            continue
    return None


async def _update(bucket: KeyValue, key: str, holder: str, revision: int) -> int | None:
    try:
        return int(await bucket.update(token(key), holder.encode(), revision))
    except js_errors.KeyWrongLastSequenceError:
        return None


async def _delete(bucket: KeyValue, key: str, revision: int) -> None:
    try:
        await bucket.delete(token(key), last=revision)
    except js_errors.BadRequestError as error:
        if error.err_code != WRONG_LAST_SEQUENCE:
            raise


async def _holder(bucket: KeyValue, key: str) -> str | None:
    try:
        entry = await bucket.get(token(key))
    except js_errors.NotFoundError:  # never taken, released, or expired
        return None
    return entry.value.decode() if entry.value else None
