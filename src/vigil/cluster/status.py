"""What a running cluster looks like, read from NATS and the store (`vigil cluster status`):
the live workers and their cameras, the enabled cameras no worker runs, which API node
evaluates alerts, and what waits in JetStream for the store sinks and the alert evaluator."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.bus.base import Backlog
from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry
from vigil.domain.frames import now_ms
from vigil.store.store import EventStore

# The durable consumers the API nodes share (vigil.store.sink, vigil.alerts.service).
SINK_CONSUMER = "store-sink"
ALERTS_CONSUMER = "alerts"


@dataclass(frozen=True, slots=True)
class WorkerState:
    id: str
    host: str
    pid: int
    capacity: int
    cameras: list[str]
    online: int  # of its cameras, those delivering frames
    up_s: float


@dataclass(frozen=True, slots=True)
class ClusterState:
    workers: list[WorkerState]
    unassigned: list[str]  # enabled cameras that no live worker runs
    alerts_evaluator: str | None  # the API node holding the alerts role
    sink_backlog: dict[str, Backlog]  # by stream
    alerts_backlog: dict[str, Backlog]  # by stream, of the committed streams


def read_cluster(registry: ClusterRegistry, store: EventStore, committed: NatsBus
                 ) -> ClusterState:
    """The cluster as `registry` (on the main bus), `store` and the committed bus see it."""
    now = now_ms()
    workers = [
        WorkerState(
            id=info.id, host=info.host, pid=info.pid, capacity=info.capacity,
            cameras=sorted(info.cameras),
            online=sum(bool(status.get("online")) for status in info.statuses),
            up_s=max(0.0, (now - info.started_ms) / 1000) if info.started_ms else 0.0,
        )
        for info in sorted(registry.workers().values(), key=lambda info: info.id)
    ]
    running = {camera for worker in workers for camera in worker.cameras}
    enabled = [stored.config.id for stored in store.list_cameras(None) if stored.config.enabled]
    return ClusterState(
        workers=workers,
        unassigned=sorted(camera for camera in enabled if camera not in running),
        alerts_evaluator=registry.role_holder("alerts"),
        sink_backlog=registry.bus.backlog(SINK_CONSUMER),
        alerts_backlog=committed.backlog(ALERTS_CONSUMER),
    )
