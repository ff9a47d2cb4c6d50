"""Debouncing of on/off conditions (vigil.modules.debounce), the one implementation every
module that reports a lasting condition uses."""

from __future__ import annotations

from vigil.domain.events import Phase
from vigil.modules.debounce import Debounce


def test_needs_min_time_tolerates_short_dips_and_clears() -> None:
    hold = Debounce(on_s=2, off_s=1)
    steps = [
        (0, True),
        (1000, True),
        (1500, False),
        (2000, True),
        (2500, False),
        (3000, False),
        (3600, False),
        (4000, True),
    ]
    phases = [hold.step(ts, holds) for ts, holds in steps]
    assert phases == [None, None, None, Phase.START, None, None, Phase.END, None]
    assert hold.ended == (0, 2000)
    assert hold.since_ms == 4000  # a new episode is pending


def test_a_short_dip_does_not_restart_a_pending_condition() -> None:
    # The scene-fault debouncer used to restart here and start at 2500, the crowd one at 2000:
    # one noisy frame in a covered lens is noise, exactly like a missed detection in a crowd.
    hold = Debounce(on_s=2, off_s=1)
    phases = {ts: hold.step(ts, ts != 500) for ts in range(0, 3001, 500)}
    assert [ts for ts, phase in phases.items() if phase is Phase.START] == [2000]
    assert hold.ended is None and hold.held_s(3000) == 3.0


def test_unknown_verdicts_change_nothing_and_reset_ends_an_active_condition() -> None:
    hold = Debounce(on_s=0, off_s=0)
    assert hold.step(0, True) is Phase.START
    assert hold.step(500, None) is None and hold.active
    assert hold.step(1000, False) is Phase.END
    assert hold.step(1500, True) is Phase.START
    assert hold.reset() and hold.idle and not hold.active
    assert not hold.reset()
