"""Prometheus metrics, computed when scraped from the engine's camera statuses and the sink.

A private registry keeps these apart from anything else in the process (and lets tests create
several apps); a custom collector means no gauges to keep in sync between scrapes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from vigil.api.context import Context
from vigil.auth.roles import Role
from vigil.auth.scope import allows
from vigil.fanout.stats import FanoutCollector
from vigil.pipeline.control import EngineControl
from vigil.store.sink import EventSink

log = logging.getLogger(__name__)
_METRIC_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_LABELS = ["camera", "tenant"]
# Names the fixed per-camera metrics use; an engine extra of the same name is not exported.
_RESERVED = frozenset(
    {"online", "input_fps", "analysed_fps", "lag_seconds", "dropped_frames", "reconnects"}
)


class VigilCollector(Collector):
    def __init__(
        self,
        engine: EngineControl,
        sink: EventSink | None,
        tenants: Collection[str] | None = None,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.tenants = tenants  # per-camera series only of these tenants' cameras (None: all)

    def collect(self) -> Iterator[Metric]:
        yield from self._cameras()
        if self.tenants is not None:
            # A tenant admin sees their cameras' series only: process-wide figures (events
            # published, the sink's last error) are every tenant's together.
            return
        for name, metric in self.engine.pipeline_metrics().items():
            family = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
            yield family(f"vigil_{name}", metric.help, value=metric.value)
        if self.sink is not None:
            yield from self._sink(self.sink)

    def _cameras(self) -> Iterator[Metric]:
        statuses = [
            s for s in self.engine.statuses() if allows(self.tenants, s.tenant, s.camera_id)
        ]
        gauges = {
            "online": GaugeMetricFamily(
                "vigil_camera_online", "1 while the camera delivers frames", labels=_LABELS
            ),
            "input_fps": GaugeMetricFamily(
                "vigil_camera_input_fps", "Frames per second read from the source", labels=_LABELS
            ),
            "analysed_fps": GaugeMetricFamily(
                "vigil_camera_analysed_fps", "Frames per second analysed", labels=_LABELS
            ),
            "lag": GaugeMetricFamily(
                "vigil_camera_lag_seconds",
                "Delay from frame capture to the end of its analysis",
                labels=_LABELS,
            ),
        }
        dropped = CounterMetricFamily(
            "vigil_camera_dropped_frames",
            "Frames dropped because analysis fell behind",
            labels=_LABELS,
        )
        reconnects = CounterMetricFamily(
            "vigil_camera_reconnects", "Reconnections to the source", labels=_LABELS
        )
        extras: dict[str, GaugeMetricFamily] = {}
        for s in statuses:
            labels = [s.camera_id, s.tenant]
            gauges["online"].add_metric(labels, 1.0 if s.online else 0.0)
            gauges["input_fps"].add_metric(labels, s.input_fps)
            gauges["analysed_fps"].add_metric(labels, s.analysed_fps)
            gauges["lag"].add_metric(labels, s.lag_ms / 1000)
            dropped.add_metric(labels, s.dropped_frames)
            reconnects.add_metric(labels, s.reconnects)
            # Engine-specific per-camera gauges (queue depth, inference latency, ...).
            for key, value in s.extra.items():
                if not _METRIC_NAME.match(key) or key in _RESERVED:
                    continue
                family = extras.get(key)
                if family is None:
                    family = extras[key] = GaugeMetricFamily(
                        f"vigil_camera_{key}", f"Camera {key.replace('_', ' ')}", labels=_LABELS
                    )
                family.add_metric(labels, value)
        yield GaugeMetricFamily("vigil_cameras", "Cameras the pipeline runs", value=len(statuses))
        yield from gauges.values()
        yield dropped
        yield reconnects
        yield from extras.values()

    def _sink(self, sink: EventSink) -> Iterator[Metric]:
        stats = sink.stats
        for name, help_text, value in (
            ("messages", "Bus messages received by the store sink", stats.messages),
            ("events_written", "Events written (after collapsing)", stats.events_written),
            ("batches", "Write transactions committed", stats.batches),
            ("errors", "Failed write attempts (each retried)", stats.errors),
            ("rejected", "Events the database refused as invalid (logged)", stats.rejected),
        ):
            yield CounterMetricFamily(f"vigil_sink_{name}", help_text, value=value)
        if stats.last_write_ms is not None:
            yield GaugeMetricFamily(
                "vigil_sink_last_write_timestamp_seconds",
                "Time of the last successful write",
                value=stats.last_write_ms / 1000,
            )
        if stats.last_error is not None:
            info = InfoMetricFamily("vigil_sink_last_error", "The sink's most recent error")
            info.add_metric([], {"error": stats.last_error[:200]})
            yield info
        try:
            backlog = sink.backlog()
        except Exception as error:  # NATS unreachable just now: the other figures still count
            log.debug("metrics: no sink backlog: %s", error)
            return
        if backlog:
            family = GaugeMetricFamily(
                "vigil_sink_backlog_messages",
                "JetStream messages the store sinks have not finished: waiting (not delivered "
                "yet) and unacknowledged (being written, or due again); an envelope of many "
                "events counts once",
                labels=["stream", "state"],
            )
            for stream, figures in sorted(backlog.items()):
                family.add_metric([stream, "waiting"], figures.waiting)
                family.add_metric([stream, "unacknowledged"], figures.unacknowledged)
            yield family


def metrics_scope(request: Request) -> Collection[str] | None:
    """Whose cameras the caller sees in /metrics: a tenant admin their tenant's, a system
    administrator (operations, no media) and internal callers every camera."""
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.tenants is None or principal.role is Role.SYSADMIN:
        return None
    return principal.scope()


router = APIRouter(tags=["meta"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(ctx: Context, request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    scope = metrics_scope(request)
    registry.register(VigilCollector(ctx.engine, ctx.sink, scope))
    hub = getattr(request.app.state, "fanout", None)  # made by the first live stream
    if hub is not None:
        registry.register(FanoutCollector(hub.stats, scope))
    # Collectors of other parts (retention counters …) registered on the app: figures of
    # every tenant together, so for system roles only.
    for collector in getattr(request.app.state, "metrics_collectors", []) if scope is None else []:
        registry.register(collector)
    alert_metrics = getattr(request.app.state, "alert_metrics", None)
    if scope is not None and alert_metrics is not None:
        # Alert series have a tenant label: a tenant admin gets their tenant's.
        registry.register(alert_metrics.scoped(scope))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
