"""Prometheus metrics of recording: what the writer stored, dropped or failed to store, and
what the last retention run found (recorded bytes, tenants at their quota's warning level).
No tenant labels: a tenant admin reading /metrics must not learn other tenants' names."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vigil.recording.retention import ShredReport
from vigil.recording.writer import WriterStats


class RecordingCollector(Collector):
    def __init__(
        self,
        writer: Callable[[], WriterStats | None],
        report: Callable[[], ShredReport | None],
    ) -> None:
        self.writer = writer
        self.report = report

    def collect(self) -> Iterator[Metric]:
        stats = self.writer()
        if stats is not None:
            yield CounterMetricFamily(
                "vigil_recording_segments", "Segments stored", value=stats.segments
            )
            yield CounterMetricFamily(
                "vigil_recording_bytes_written", "Sealed bytes stored", value=stats.bytes
            )
            yield CounterMetricFamily(
                "vigil_recording_segments_dropped",
                "Segments dropped because the store was too slow",
                value=stats.dropped,
            )
            yield CounterMetricFamily(
                "vigil_recording_store_errors",
                "Segments the media store refused",
                value=stats.errors,
            )
        report = self.report()
        if report is not None:
            yield GaugeMetricFamily(
                "vigil_recording_stored_bytes",
                "Recorded bytes kept, all tenants (last retention run)",
                value=sum(report.usage.values()),
            )
            yield GaugeMetricFamily(
                "vigil_recording_tenants_near_quota",
                "Tenants at or above recording.warn_ratio of their quota",
                value=len(report.warned),
            )
            yield CounterMetricFamily(
                "vigil_recording_hours_shredded",
                "Hours shredded by the last retention run",
                value=report.hours_shredded,
            )
