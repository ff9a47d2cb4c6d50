"""queue: length and estimated waiting time in a zone."""

from __future__ import annotations

import pytest

from tests.modules.synth import Path, build, every, run, scene
from vigil.domain.events import Phase


def steady_queue(people: int = 12) -> list[Path]:
    """Person i joins at 10·i s and is served (leaves) 50 s later: one departure every 10 s,
    five people waiting, each for 50 s."""
    return [
        Path(i + 1, "person", (120 + 15 * (i % 10), 200), t0=10000 * i, t1=10000 * (i + 5))
        for i in range(people)
    ]


def value_at(series: list[tuple[int, float]], ts: int) -> float:
    return dict(series)[ts]


def test_length_and_wait_from_the_departure_rate() -> None:
    module = build("queue", {"window_s": 60, "exit_grace_s": 2})
    result = run(module, scene(every(500, 105000), *steady_queue()))
    assert value_at(result.metric("queue_length", "plaza"), 105000) == 5
    # Departures in the last 60 s: six (one every 10 s) → 0.1/s; Little: 5 ÷ 0.1/s = 50 s.
    assert value_at(result.metric("wait_s", "plaza"), 105000) == pytest.approx(50.0)


def test_wait_from_the_dwell_of_recent_departures() -> None:
    module = build("queue", {"window_s": 60, "wait_method": "recent_dwell"})
    result = run(module, scene(every(500, 105000), *steady_queue()))
    assert value_at(result.metric("wait_s", "plaza"), 105000) == pytest.approx(50.0)


def test_a_queue_that_does_not_move_reports_the_longest_wait_so_far() -> None:
    module = build("queue", {})
    stuck = [Path(i, "person", (120 + 20 * i, 200), t0=5000) for i in range(4)]
    result = run(module, scene(every(1000, 35000), *stuck))
    assert value_at(result.metric("wait_s"), 35000) == pytest.approx(30.0)
    assert value_at(result.metric("wait_s"), 0) == 0.0  # empty queue: no wait


def test_before_a_whole_window_the_rate_is_over_the_time_observed() -> None:
    module = build("queue", {"window_s": 600, "exit_grace_s": 2})
    result = run(module, scene(every(500, 105000), *steady_queue()))
    # Six departures in the 105 s observed so far (not in 600 s): 5 ÷ (6 / 105 s) = 87.5 s.
    assert value_at(result.metric("wait_s"), 105000) == pytest.approx(87.5)


def test_slow_only_leaves_out_people_walking_through() -> None:
    settings = {"slow_only": True, "max_speed": 0.3}
    waiting = [Path(i, "person", (120 + 20 * i, 200)) for i in range(3)]
    walker = Path(9, "person", (100, 250), (40, 0))  # 40 px/s, 60 px tall: 0.67 heights/s
    result = run(build("queue", settings), scene(every(200, 4000), *waiting, walker))
    lengths = dict(result.metric("queue_length"))
    assert lengths[0] == 0  # speed not known yet on the first frame
    assert set(lengths[ts] for ts in every(200, 4000, 1000)) == {3}
    everyone = run(build("queue", {}), scene(every(200, 4000), *waiting, walker))
    assert dict(everyone.metric("queue_length"))[2000] == 4


def test_long_queue_event_starts_after_min_duration_and_ends_after_clear() -> None:
    settings = {"max_length": 4, "min_duration_s": 10, "clear_s": 5, "update_every_s": 60}
    long_ = [Path(i, "person", (120 + 20 * i, 200), t0=0, t1=30000) for i in range(4)]
    result = run(build("queue", settings), scene(every(1000, 45000), *long_))
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert result.phases() == [Phase.START, Phase.END]
    assert start_ts == 10000 and start.type == "queue.long" and start.zone == "plaza"
    assert start.attributes["length"] == 4 and start.track_id is None
    # Last seen at 30 s, gone after the 2 s exit grace (33 s), then 5 s under the threshold.
    assert end_ts == 38000 and end.attributes["peak_length"] == 4


def test_long_wait_threshold() -> None:
    settings = {"max_length": None, "max_wait_s": 20, "min_duration_s": 0}
    stuck = [Path(1, "person", (150, 200))]
    result = run(build("queue", settings), scene(every(1000, 25000), *stuck))
    ((start_ts, start),) = result.starts()
    assert start_ts == 20000 and start.attributes["wait_s"] == pytest.approx(20.0)
