"""Prometheus figures of alert delivery: what fired, every delivery attempt and its result, the
deliveries given up without an attempt (queue full, Vigil stopping), escalations, and how many
alerts wait for an acknowledgement, each series per tenant.

An alert that silently never reaches the pager is the failure that matters most; these series
let a monitoring system page someone when deliveries fail or the unacknowledged pile grows.
Counters are kept by the alert service of this process (the node that evaluates rules); the
unacknowledged figure is read from the store when scraped.

Every series has a `tenant` label, so that a tenant administrator's /metrics shows only their
tenant's series (`AlertCollector.scoped`); a caller limited to some camera groups sees none,
since a tenant's figures count every camera of it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from vigil.auth.scope import AccessScope
from vigil.domain.frames import now_ms
from vigil.store import acks

log = logging.getLogger(__name__)
UNACKNOWLEDGED_SPAN_MS = 24 * 3600 * 1000  # as the console's banner counts them


class AlertCounters:
    """Thread-safe counters the service and its delivery workers add to, per tenant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()  # by tenant
        self.attempts: Counter[tuple[str, str, str]] = Counter()  # (tenant, action, result)
        self.unsent: Counter[tuple[str, str]] = Counter()  # (tenant, action)
        self.escalations: Counter[tuple[str, str, str]] = Counter()  # (tenant, action, result)

    def add_fired(self, tenant: str) -> None:
        with self._lock:
            self.fired[tenant] += 1

    def add_attempt(self, action: str, result: str, tenant: str) -> None:
        with self._lock:
            self.attempts[tenant, action, result] += 1

    def add_unsent(self, action: str, tenant: str) -> None:
        with self._lock:
            self.unsent[tenant, action] += 1

    def add_escalation(self, action: str, result: str, tenant: str) -> None:
        with self._lock:
            self.escalations[tenant, action, result] += 1

    def snapshot(
        self,
    ) -> tuple[
        dict[str, int],
        dict[tuple[str, str, str], int],
        dict[tuple[str, str], int],
        dict[tuple[str, str, str], int],
    ]:
        with self._lock:
            return (dict(self.fired), dict(self.attempts), dict(self.unsent),
                    dict(self.escalations))


class AlertCollector(Collector):
    def __init__(
        self,
        counters: AlertCounters,
        engine: sa.Engine,
        clock: Callable[[], int] = now_ms,
        tenants: Collection[str] | None = None,
    ) -> None:
        self.counters = counters
        self.engine = engine
        self.clock = clock
        self.tenants = tenants  # series of these tenants only (None: every tenant)

    def scoped(self, tenants: Collection[str]) -> AlertCollector:
        """The same figures, limited to what a caller of this scope may see."""
        if isinstance(tenants, AccessScope) and tenants.cameras is not None:
            tenants = ()  # a tenant's totals would count cameras outside the caller's groups
        return AlertCollector(self.counters, self.engine, self.clock, frozenset(tenants))

    def _shown(self, tenant: str) -> bool:
        return self.tenants is None or tenant in self.tenants

    def collect(self) -> Iterator[Metric]:
        fired, attempts, unsent, escalations = self.counters.snapshot()
        family = CounterMetricFamily(
            "vigil_alerts_fired", "Alerts fired by this process", labels=["tenant"]
        )
        for tenant, value in sorted(fired.items()):
            if self._shown(tenant):
                family.add_metric([tenant], value)
        yield family
        family = CounterMetricFamily(
            "vigil_alert_delivery_attempts",
            "Delivery attempts per action and result (delivered, retrying: failed and will be "
            "tried again, failed: given up)",
            labels=["tenant", "action", "result"],
        )
        for (tenant, action, result), value in sorted(attempts.items()):
            if self._shown(tenant):
                family.add_metric([tenant, action, result], value)
        yield family
        family = CounterMetricFamily(
            "vigil_alert_deliveries_unsent",
            "Deliveries given up without an attempt (queue full, Vigil stopping)",
            labels=["tenant", "action"],
        )
        for (tenant, action), value in sorted(unsent.items()):
            if self._shown(tenant):
                family.add_metric([tenant, action], value)
        yield family
        family = CounterMetricFamily(
            "vigil_alert_escalations",
            "Escalation attempts of unacknowledged alerts, per action and result (delivered, "
            "retrying: failed and will be tried again, failed: given up)",
            labels=["tenant", "action", "result"],
        )
        for (tenant, action, result), value in sorted(escalations.items()):
            if self._shown(tenant):
                family.add_metric([tenant, action, result], value)
        yield family
        try:
            waiting = acks.unacknowledged_by_tenant(
                self.engine, since_ms=self.clock() - UNACKNOWLEDGED_SPAN_MS
            )
        except sa.exc.SQLAlchemyError as error:  # the other figures still count
            log.debug("metrics: unacknowledged alerts not counted: %s", error)
            return
        gauge = GaugeMetricFamily(
            "vigil_alerts_unacknowledged",
            "Alerts of the last 24 hours that nobody has acknowledged",
            labels=["tenant"],
        )
        # Zero, not absent, for a tenant known to have none waiting: "absent" reads as broken.
        known = {*waiting, *fired, *(self.tenants or ())}
        for tenant in sorted(known):
            if self._shown(tenant):
                gauge.add_metric([tenant], waiting.get(tenant, 0))
        yield gauge
