"""The timing parts of a reader: media clock, sampler, rate meter, backoff and pacer."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from vigil.sources.backoff import Backoff
from vigil.sources.clock import MediaClock
from vigil.sources.pacer import Pacer
from vigil.sources.rate import RateMeter
from vigil.sources.sampler import FpsSampler


def timeline(pts: list[float | None], max_gap_s: float = 5.0) -> list[float]:
    clock = MediaClock(max_gap_s=max_gap_s, step_s=0.1)
    return [round(clock.advance(p), 3) for p in pts]


def test_clock_follows_regular_timestamps_from_zero() -> None:
    assert timeline([12.0, 12.1, 12.2, 12.4]) == [0.0, 0.1, 0.2, 0.4]


def test_clock_turns_backward_and_far_forward_jumps_into_one_frame_step() -> None:
    # A looping stream going back to 0, then a camera resuming 1000 s ahead.
    times = timeline([3.0, 3.1, 3.2, 0.0, 0.1, 1000.1, 1000.2])
    assert times == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]


def test_clock_keeps_real_gaps_below_the_limit() -> None:
    assert timeline([0.0, 0.1, 2.1, 2.2]) == [0.0, 0.1, 2.1, 2.2]
    # A pause is not taken for the frame duration that bridges a later jump.
    assert timeline([0.0, 3.0, 0.0]) == [0.0, 3.0, 4.0]


def test_clock_steps_over_missing_timestamps() -> None:
    assert timeline([None, 0.1, None, 0.3]) == [0.0, 0.1, 0.2, 0.3]


def test_clock_restart_places_a_new_stream_after_the_old_one() -> None:
    clock = MediaClock(max_gap_s=5.0, step_s=0.1)
    assert [clock.advance(t) for t in (50.0, 50.04)] == [0.0, pytest.approx(0.04)]
    clock.restart(0.5)  # reconnected: the new stream's own time means nothing to us
    assert clock.advance(50.1) == pytest.approx(0.54)


def sample(fps: float, times: list[float]) -> list[float]:
    sampler = FpsSampler(fps)
    return [t for t in times if sampler.accept(t)]


def test_sampler_halves_a_10fps_stream_at_5fps() -> None:
    times = [i / 10 for i in range(100)]
    picked = sample(5.0, times)
    assert len(picked) == 50
    assert all(abs(b - a - 0.2) < 1e-9 for a, b in pairwise(picked))


def test_sampler_keeps_the_mean_rate_when_rates_do_not_divide() -> None:
    # 10 s of media; the first frame is taken at once, so a count may round up by one.
    assert len(sample(3.0, [i / 25 for i in range(250)])) in (30, 31)
    assert len(sample(8.0, [i / 10 for i in range(100)])) in (80, 81)


def test_sampler_passes_every_frame_when_analysis_rate_is_higher() -> None:
    times = [i / 10 for i in range(50)]
    assert sample(10.0, times) == times
    assert sample(30.0, times) == times


def test_sampler_does_not_burst_after_a_gap() -> None:
    times = [0.0, 0.1, 0.2, 3.0, 3.1, 3.2, 3.3, 3.4]
    assert sample(5.0, times) == [0.0, 0.2, 3.0, 3.2, 3.4]


def test_sampler_rejects_a_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FpsSampler(0)


def test_rate_meter_measures_and_forgets() -> None:
    meter = RateMeter(window_s=2.0)
    for i in range(21):
        meter.tick(100.0 + i / 10)
    assert meter.rate(102.0) == pytest.approx(10.0)
    assert meter.rate(105.0) == 0.0


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_pacer_waits_for_media_time_and_can_be_cancelled() -> None:
    cancel = threading.Event()
    pacer = Pacer(cancel)
    started = time.monotonic()
    assert pacer.wait(10.0)  # the first frame anchors the schedule: no wait
    assert pacer.wait(10.3)
    assert 0.25 <= time.monotonic() - started < 1.0
    threading.Timer(0.1, cancel.set).start()
    assert not pacer.wait(20.0)
    assert time.monotonic() - started < 2.0


def test_pacer_skips_a_backlog_instead_of_replaying_it() -> None:
    pacer = Pacer(threading.Event(), max_lag_s=0.2)
    assert pacer.wait(0.0)
    time.sleep(0.5)  # the consumer stalled; frames at 0.1 … 0.5 are now late
    assert pacer.wait(0.1)
    started = time.monotonic()
    assert pacer.wait(0.3)  # rescheduled from the late frame: due 0.2 s later, not at once
    assert time.monotonic() - started >= 0.15
