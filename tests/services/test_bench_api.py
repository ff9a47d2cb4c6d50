"""`vigil bench api` end to end, small: a seeded store and its search index, a real server,
client processes; every request answered, every kind measured, beside its store-only baseline,
with one API process and with two sharing the port; searches find events; `--kinds` chooses
the mix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.bench.api.load import KINDS, SEARCH_KINDS, kinds_of
from vigil.bench.api.run import ApiSettings, run_api, search_index
from vigil.cli.main import app

# Few captions embedded for real (the rest get neighbours of those): the sentence model on
# every one of a small store's ~1,900 distinct captions would take most of the test's time.
REAL_CAPTIONS = 50


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-api")


def test_the_api_benchmark_measures_every_kind(seeded: Path) -> None:
    url = f"sqlite:///{seeded / 'events.db'}"
    seen: dict[str, tuple[int, int]] = {}
    settings = ApiSettings(
        events=2_000,
        clients=4,
        processes=1,
        duration_s=2,
        workers=(1, 2),
        real_captions=REAL_CAPTIONS,
    )
    result = run_api(
        settings,
        url,
        seeded / "media",
        lambda label, done, total: seen.update({label: (done, total)}),
    )
    assert seen["seeding events"] == (2_000, 2_000)
    assert seen["indexing for search"] == (2_000, 2_000)
    assert result["search_index"]["events"] == 2_000  # the node's index covers the store
    assert Path(result["search_index"]["path"]) == seeded / "events.search.db"
    assert set(result["store_only_p50_ms"]) == {*KINDS, "counts_day_from_events"}
    assert [run["workers"] for run in result["runs"]] == [1, 2]
    for run in result["runs"]:
        assert set(run["statuses"]) == {"200"}  # no refusal, no error under load
        assert set(run["kinds"]) == set(KINDS)
        for row in run["kinds"].values():
            assert row["requests"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"]
        assert run["node_cpu_ms_per_request"] > 0
        # Searches through the real node find events (an empty index would answer none).
        assert run["searches_with_hits"] > 0
        assert run["kinds"]["search"]["with_hits"] > 0


def test_search_alone_reuses_the_index(seeded: Path) -> None:
    url = f"sqlite:///{seeded / 'events.db'}"
    progress = lambda label, done, total: seen.append(label)  # noqa: E731
    seen: list[str] = []
    search_index(url, seeded / "media", progress, REAL_CAPTIONS)  # built here unless it was
    seen.clear()
    settings = ApiSettings(
        events=2_000,
        clients=4,
        processes=1,
        duration_s=1,
        kinds=kinds_of(["search"]),
        real_captions=REAL_CAPTIONS,
    )
    result = run_api(settings, url, seeded / "media", progress)
    assert seen == []  # neither seeded nor indexed again
    assert set(result["store_only_p50_ms"]) == set(SEARCH_KINDS)
    (run,) = result["runs"]
    assert set(run["kinds"]) == set(SEARCH_KINDS)  # nothing but searches was asked
    assert set(run["statuses"]) == {"200"}


def test_kinds_are_chosen_by_group_or_name() -> None:
    assert kinds_of(["counts", "search_camera"]) == ("counts_day", "search_camera")
    assert kinds_of(["all"]) == KINDS
    with pytest.raises(ValueError, match="'serch'"):
        kinds_of(["serch"])


def test_an_unknown_kind_is_refused_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", "api", "--kinds", "events,serch", "--data", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--kinds" in result.output and "serch" in result.output
    assert not list(tmp_path.iterdir())  # refused before seeding anything
