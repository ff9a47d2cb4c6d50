"""`vigil bench fanout` end to end, small: real nats-server, API node, publisher and subscriber
processes; every event a subscriber watches reaches it through the fan-out, and both runs
report what the docs quote."""

from __future__ import annotations

from vigil.bench.fanout.run import FanoutSettings, run_fanout


def test_the_fanout_benchmark_delivers_every_watched_event() -> None:
    settings = FanoutSettings(
        subscribers=30,
        cameras=20,
        rate=20,
        watched=3,
        duration_s=2,
        processes=1,
        baseline_subscribers=10,
    )
    result = run_fanout(settings, lambda _text: None)
    fanout, baseline = result["runs"]
    assert (fanout["mode"], baseline["mode"]) == ("fanout", "baseline")
    assert fanout["connected"] == 30 and baseline["connected"] == 10
    assert fanout["events_published"] > 0
    # Subscribers that keep up lose nothing: each got every event of its cameras.
    assert fanout["deliveries"] == fanout["deliveries_expected"] > 0
    assert fanout["events_lost"] == 0 and fanout["subscribers_told_missed"] == 0
    for run in (fanout, baseline):
        assert run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
        assert run["idle_kib_per_connection"] > 0 and run["node_cpu_cores"] >= 0
