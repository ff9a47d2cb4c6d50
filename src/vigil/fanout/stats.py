"""What the fan-out of one API node has done, per tenant, for /metrics
(`vigil_fanout_*`, docs/scale.md): a tenant administrator sees their own tenant's figures only.

- connected: streams open now;
- delivered: messages put in subscribers' buffers;
- dropped: messages a slow subscriber lost because its buffer was full;
- missed: how often a subscriber fell behind (each time it is sent one `event: missed` and
  resynchronises from the store).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

SYSTEM = ""  # the label of streams held by users without a tenant (system roles)


def tenant_label(tenant: str | None) -> str:
    return SYSTEM if tenant is None else tenant


class FanoutStats:
    __slots__ = ("connected", "delivered", "dropped", "missed")

    def __init__(self) -> None:
        self.connected: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.missed: Counter[str] = Counter()


class FanoutCollector(Collector):
    """The figures of `stats`, only of `tenants` (None: every tenant and the system roles')."""

    def __init__(self, stats: FanoutStats, tenants: Collection[str] | None) -> None:
        self.stats = stats
        self.tenants = tenants

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self.stats
        connected = GaugeMetricFamily(
            "vigil_fanout_connected", "Live event streams open on this API node", labels=["tenant"]
        )
        families = {
            "delivered": CounterMetricFamily(
                "vigil_fanout_delivered",
                "Live event messages handed to subscribers' buffers",
                labels=["tenant"],
            ),
            "dropped": CounterMetricFamily(
                "vigil_fanout_dropped",
                "Live event messages slow subscribers lost (their buffer was full)",
                labels=["tenant"],
            ),
            "missed": CounterMetricFamily(
                "vigil_fanout_missed",
                "Times a subscriber fell behind and was told to resynchronise from the store",
                labels=["tenant"],
            ),
        }
        for tenant in sorted(set(stats.connected) | set(stats.delivered) | set(stats.dropped)):
            if self.tenants is not None and tenant not in self.tenants:
                continue
            connected.add_metric([tenant], stats.connected.get(tenant, 0))
            for name, family in families.items():
                family.add_metric([tenant], getattr(stats, name).get(tenant, 0))
        yield connected
        yield from families.values()
