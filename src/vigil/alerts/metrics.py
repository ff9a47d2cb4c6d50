"""Prometheus figures of alert delivery: what fired, every delivery attempt and its result, the
deliveries given up without an attempt (queue full, Vigil stopping), escalations, and how many
alerts wait for an acknowledgement.

An alert that silently never reaches the pager is the failure that matters most; these series
let a monitoring system page someone when deliveries fail or the unacknowledged pile grows.
Counters are kept by the alert service of this process (the node that evaluates rules); the
unacknowledged figure is read from the store when scraped.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from vigil.domain.frames import now_ms
from vigil.store import acks

log = logging.getLogger(__name__)
UNACKNOWLEDGED_SPAN_MS = 24 * 3600 * 1000  # as the console's banner counts them


class AlertCounters:
    """Thread-safe counters the service and its delivery workers add to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fired = 0
        self.attempts: Counter[tuple[str, str]] = Counter()  # (action, result)
        self.unsent: Counter[str] = Counter()  # by action
        self.escalations: Counter[tuple[str, str]] = Counter()  # (action, result)

    def add_fired(self) -> None:
        with self._lock:
            self.fired += 1

    def add_attempt(self, action: str, result: str) -> None:
        with self._lock:
            self.attempts[action, result] += 1

    def add_unsent(self, action: str) -> None:
        with self._lock:
            self.unsent[action] += 1

    def add_escalation(self, action: str, result: str) -> None:
        with self._lock:
            self.escalations[action, result] += 1

    def snapshot(
        self,
    ) -> tuple[int, dict[tuple[str, str], int], dict[str, int], dict[tuple[str, str], int]]:
        with self._lock:
            return self.fired, dict(self.attempts), dict(self.unsent), dict(self.escalations)


class AlertCollector(Collector):
    def __init__(
        self, counters: AlertCounters, engine: sa.Engine, clock: Callable[[], int] = now_ms
    ) -> None:
        self.counters = counters
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        fired, attempts, unsent, escalations = self.counters.snapshot()
        yield CounterMetricFamily("vigil_alerts_fired", "Alerts fired by this process", value=fired)
        family = CounterMetricFamily(
            "vigil_alert_delivery_attempts",
            "Delivery attempts per action and result (delivered, retrying: failed and will be "
            "tried again, failed: given up)",
            labels=["action", "result"],
        )
        for (action, result), value in sorted(attempts.items()):
            family.add_metric([action, result], value)
        yield family
        family = CounterMetricFamily(
            "vigil_alert_deliveries_unsent",
            "Deliveries given up without an attempt (queue full, Vigil stopping)",
            labels=["action"],
        )
        for action, value in sorted(unsent.items()):
            family.add_metric([action], value)
        yield family
        family = CounterMetricFamily(
            "vigil_alert_escalations",
            "Unacknowledged alerts sent through their rule's escalation, per action and result",
            labels=["action", "result"],
        )
        for (action, result), value in sorted(escalations.items()):
            family.add_metric([action, result], value)
        yield family
        try:
            waiting, _ = acks.firing(
                self.engine, None, limit=1, since_ms=self.clock() - UNACKNOWLEDGED_SPAN_MS
            )
        except sa.exc.SQLAlchemyError as error:  # the other figures still count
            log.debug("metrics: unacknowledged alerts not counted: %s", error)
            return
        yield GaugeMetricFamily(
            "vigil_alerts_unacknowledged",
            "Alerts of the last 24 hours that nobody has acknowledged",
            value=waiting,
        )
