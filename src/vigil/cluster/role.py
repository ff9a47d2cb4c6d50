"""A cluster-wide role: work that one node does at a time, on a lease in the registry.

Evaluating alert rules is such work: count windows, cool-downs and "fired once per event" are
state that only means something when one evaluator sees every event. Every API node runs a
`RoleLease` for it; the node holding the lease does the work, the others stand by and take it
over when the holder stops renewing (crashed, frozen, cut off from NATS).

A holder that has not renewed for most of the lease's lifetime counts as not holding it
(`held` turns false, however long a renewal stays blocked on an unreachable NATS) before the
lease can expire and pass to another node: the self-fencing a worker applies to its cameras.
"""

from __future__ import annotations

import logging
import threading
import time

from vigil.cluster.registry import FENCE_SHARE, ClusterRegistry

log = logging.getLogger(__name__)


class RoleLease:
    """Try to hold `role` every `heartbeat_s`, renewing it while held; `held` says whether this
    node may do the role's work right now."""

    def __init__(self, registry: ClusterRegistry, role: str, node: str, *,
                 heartbeat_s: float, ttl_s: float) -> None:
        self.registry = registry
        self.role = role
        self.node = node
        self.heartbeat_s = heartbeat_s
        self.ttl_s = ttl_s
        self._revision: int | None = None
        self._renewed = 0.0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        with self._lock:
            return (self._revision is not None
                    and time.monotonic() - self._renewed <= FENCE_SHARE * self.ttl_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"role-{self.role}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Give the role up now, so another node takes it without waiting for the lease to
        expire."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.ttl_s + 5)
        with self._lock:
            revision, self._revision = self._revision, None
        if revision is not None:
            try:
                self.registry.release_role(self.role, revision)
            except Exception as error:  # it expires by itself
                log.warning("could not give up the %s role: %s", self.role, error)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._round()
            except Exception as error:
                # NATS unreachable: `held` turns false by itself once the lease is stale.
                log.debug("role %s: %s", self.role, error)
            self._stopping.wait(self.heartbeat_s)

    def _round(self) -> None:
        with self._lock:
            revision = self._revision
        # The lease's lifetime starts when NATS writes it, after we ask: count from the asking.
        asked = time.monotonic()
        if revision is None:
            taken = self.registry.acquire_role(self.role, self.node)
            if taken is not None:
                self._hold(taken, asked)
                log.info("node %s took the %s role", self.node, self.role)
            return
        renewed = self.registry.renew_role(self.role, self.node, revision)
        if renewed is None:
            self._let_go("another node holds it now")
        else:
            self._hold(renewed, asked)

    def _hold(self, revision: int, asked: float) -> None:
        with self._lock:
            self._revision = revision
            self._renewed = asked

    def _let_go(self, why: str) -> None:
        with self._lock:
            self._revision = None
        log.warning("node %s gave up the %s role: %s", self.node, self.role, why)
