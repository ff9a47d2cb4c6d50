"""`vigil bench ingest` end to end on real servers, small: every event stored once, ended."""

from __future__ import annotations

from vigil.bench.ingest import IngestSettings, run_ingest


def test_the_ingest_benchmark_runs_and_checks_what_it_stored(postgres_url: str) -> None:
    seen: dict[str, tuple[int, int]] = {}
    settings = IngestSettings(events=3_000, cameras=12, lag=1_000, batch=1_000)
    # Its own NATS server; the session's PostgreSQL, in scratch schemas it drops afterwards.
    result = run_ingest(settings, None, postgres_url,
                        lambda label, done, total: seen.update({label: (done, total)}))
    # run_ingest raises unless both sides stored every event exactly once, in its final state.
    assert result["events"] == 3_000 and result["messages"] == 6_000
    assert seen["raw COPY"] == (3_000, 3_000) and seen["sink: messages received"] == (6_000, 6_000)
    assert result["end_to_end_events_per_s"] > 0 and result["raw_copy_events_per_s"] > 0
    assert result["ratio"] > 0 and result["sink_errors"] == 0
    # Where the time went: every part that ran here; PostgreSQL was given, so not measured.
    cpu = result["cpu_us_per_event"]
    assert set(cpu) == {"publisher", "sink process", "nats-server"}
    assert all(micros > 0 for micros in cpu.values())
    # What the rows take on disk (sizing): at least the row data itself, on both sides.
    stored = result["stored_bytes_per_event"]
    assert set(stored) == {"full path", "raw COPY"}
    assert all(100 < size < 20_000 for size in stored.values())
