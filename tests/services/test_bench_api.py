"""`vigil bench api` end to end, small: a seeded store, a real server, client processes; every
request answered, every kind measured, beside its store-only baseline, with one API process
and with two sharing the port."""

from __future__ import annotations

from pathlib import Path

from vigil.bench.api.load import KINDS
from vigil.bench.api.run import ApiSettings, run_api


def test_the_api_benchmark_measures_every_kind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    seen: dict[str, tuple[int, int]] = {}
    settings = ApiSettings(events=2_000, clients=4, processes=1, duration_s=2, workers=(1, 2))
    result = run_api(
        settings,
        url,
        tmp_path / "media",
        lambda label, done, total: seen.update({label: (done, total)}),
    )
    assert seen["seeding events"] == (2_000, 2_000)
    assert set(result["store_only_p50_ms"]) == {*KINDS, "counts_day_from_events"}
    assert [run["workers"] for run in result["runs"]] == [1, 2]
    for run in result["runs"]:
        assert set(run["statuses"]) == {"200"}  # no refusal, no error under load
        assert set(run["kinds"]) == set(KINDS)
        for row in run["kinds"].values():
            assert row["requests"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"]
        assert run["node_cpu_ms_per_request"] > 0
