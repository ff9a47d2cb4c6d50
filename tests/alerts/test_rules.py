"""Rule evaluation on synthetic events with a hand-moved clock: matching, phases,
de-duplication, count windows, cool-downs and time-zone-aware schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.alerts.conftest import BASE_MS, Clock, build_event, message, rule
from vigil.alerts.rules import RuleEngine, implied_messages
from vigil.domain.events import Event, EventState, Phase


def ms(text: str) -> int:
    """ISO 8601 UTC (…Z) to epoch milliseconds."""
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


def fired(engine: RuleEngine, *messages: object) -> list[str]:
    """Rule ids fired, message by message."""
    return [f.rule.id for m in messages for f in engine.evaluate(m)]


@pytest.mark.parametrize(
    ("conditions", "event_fields", "expected"),
    [
        ({"module": "line"}, {}, True),
        ({"module": "zone"}, {}, False),
        ({"type": "line.crossing"}, {}, True),
        ({"type": "zone.presence"}, {}, False),
        ({"cameras": ["gate", "dock"]}, {}, True),
        ({"cameras": ["dock"]}, {}, False),
        ({"line": "door"}, {}, True),
        ({"line": "fence"}, {}, False),
        ({"zone": "lot"}, {"type": "zone.presence", "line": None, "zone": "lot"}, True),
        ({"zone": "lot"}, {}, False),
        ({"classes": ["car", "person"]}, {}, True),
        ({"classes": ["car"]}, {}, False),
        ({"classes": ["person"]}, {"class_name": None}, False),  # a scene event has no class
        ({"direction": "in"}, {}, True),
        ({"direction": "out"}, {}, False),
        ({"min_score": 0.9}, {"score": 0.9}, True),
        ({"min_score": 0.9}, {"score": 0.89}, False),
        ({"min_dwell_s": 30}, {"dwell_s": 30.0}, True),
        ({"min_dwell_s": 30}, {"dwell_s": 29.9}, False),
        ({"min_dwell_s": 30}, {}, False),
        ({"tenant": "harbour"}, {}, False),  # a rule never sees another tenant's events
        ({"tenant": "harbour"}, {"tenant": "harbour"}, True),
        ({"enabled": False}, {}, False),
    ],
)
def test_each_condition_matches_or_not(
    conditions: dict[str, object], event_fields: dict[str, object], expected: bool
) -> None:
    engine = RuleEngine([rule(**conditions)])
    assert bool(engine.evaluate(message(build_event(**event_fields)))) is expected


def test_phase_start_end_and_instant_events() -> None:
    engine = RuleEngine([rule("on-start", phase="start"), rule("on-end", phase="end")])
    presence = dict(type="zone.presence", line=None, direction=None, zone="lot")
    start = build_event(state=EventState.ACTIVE, **presence)
    update = start.model_copy(update={"updated_ms": BASE_MS + 1000, "dwell_s": 1.0})
    end = start.model_copy(update={"state": EventState.ENDED, "end_ms": BASE_MS + 2000,
                                   "updated_ms": BASE_MS + 2000})
    assert fired(engine, message(start, Phase.START)) == ["on-start"]
    assert fired(engine, message(update, Phase.UPDATE)) == []
    assert fired(engine, message(end, Phase.END)) == ["on-end"]
    # A line crossing is published once, ended as it starts: it is both.
    assert fired(engine, message(build_event())) == ["on-start", "on-end"]


def test_an_event_fires_a_rule_once_across_updates_and_redeliveries() -> None:
    engine = RuleEngine([rule()])
    start = build_event(state=EventState.ACTIVE, type="zone.presence", zone="lot", line=None)
    update = start.model_copy(update={"updated_ms": BASE_MS + 500})
    end = start.model_copy(update={"state": EventState.ENDED, "updated_ms": BASE_MS + 900,
                                   "end_ms": BASE_MS + 900})
    crossing = build_event(at_ms=BASE_MS + 100)
    assert fired(engine, message(start, Phase.START), message(update, Phase.UPDATE),
                 message(end, Phase.END), message(start, Phase.START)) == ["r"]
    assert fired(engine, message(crossing), message(crossing)) == ["r"]


def test_repeat_on_update_fires_per_distinct_message() -> None:
    engine = RuleEngine([rule(repeat_on_update=True)])
    start = build_event(state=EventState.ACTIVE, type="zone.presence", zone="lot", line=None)
    update = start.model_copy(update={"updated_ms": BASE_MS + 500})
    assert fired(engine, message(start, Phase.START), message(update, Phase.UPDATE),
                 message(update, Phase.UPDATE)) == ["r", "r"]


def test_minimum_dwell_fires_on_the_update_that_reaches_it() -> None:
    engine = RuleEngine([rule(min_dwell_s=10)])
    start = build_event(state=EventState.ACTIVE, type="zone.presence", zone="lot", line=None,
                        dwell_s=0.0)
    updates = [
        start.model_copy(update={"updated_ms": BASE_MS + s * 1000, "dwell_s": float(s)})
        for s in (5, 10, 15)
    ]
    results = [fired(engine, message(start, Phase.START))]
    results += [fired(engine, message(update, Phase.UPDATE)) for update in updates]
    assert results == [[], [], ["r"], []]


def test_count_threshold_within_a_window_per_camera() -> None:
    """"More than 20 person crossings of line 'door' within 5 minutes"."""
    engine = RuleEngine([rule(line="door", classes=["person"],
                              count={"at_least": 21, "window_s": 300})])
    crossings = [build_event(at_ms=BASE_MS + i * 10_000) for i in range(21)]  # 200 s
    results = [fired(engine, message(event)) for event in crossings[:20]]
    assert results == [[]] * 20
    assert fired(engine, message(crossings[5])) == []  # the same event counts once
    firing = engine.evaluate(message(crossings[20]))
    assert [f.count for f in firing] == [21]
    # After firing the count starts again; another camera has its own count.
    later = [build_event(at_ms=BASE_MS + 201_000 + i) for i in range(20)]
    other = [build_event(at_ms=BASE_MS + 202_000 + i, camera_id="dock") for i in range(20)]
    assert fired(engine, *map(message, later + other)) == []


def test_count_window_forgets_old_events() -> None:
    engine = RuleEngine([rule(count={"at_least": 3, "window_s": 60})])
    times = [0, 30, 61, 62]  # at 62 s, the event at 0 s has left the window (…, 30, 61, 62]
    results = [fired(engine, message(build_event(at_ms=BASE_MS + t * 1000))) for t in times]
    assert results == [[], [], [], ["r"]]


def test_an_evaluator_taking_over_counts_on_from_the_stored_events() -> None:
    """Two crossings counted before the take-over (stored), one after: the rule fires on the
    third, as the evaluator that died would have."""
    at_least_3 = rule(line="door", count={"at_least": 3, "window_s": 600})
    stored = [build_event(at_ms=BASE_MS + i * 1000) for i in range(2)]
    engine = RuleEngine([at_least_3])
    assert engine.restore_counts("r", stored, since_ms=BASE_MS - 600_000, fired_ms={}) == 2
    # The previous evaluator died before acknowledging the second: delivered again, it counts
    # once and does not fire.
    assert fired(engine, message(stored[1])) == []
    firing = engine.evaluate(message(build_event(at_ms=BASE_MS + 5000)))
    assert [f.count for f in firing] == [3]


def test_restored_counts_leave_out_what_a_rule_already_fired_for_or_what_left_the_window(
) -> None:
    at_least_2 = rule(line="door", count={"at_least": 2, "window_s": 60})
    engine = RuleEngine([at_least_2])
    stored = [
        build_event(at_ms=BASE_MS - 120_000),  # before the window
        build_event(at_ms=BASE_MS + 1000),  # counted before the rule last fired on "gate"
        build_event(at_ms=BASE_MS + 1000, camera_id="dock"),  # counts: another camera
        build_event(at_ms=BASE_MS + 3000, line="fence"),  # never matched
    ]
    counted = engine.restore_counts("r", stored, since_ms=BASE_MS - 60_000,
                                    fired_ms={"gate": BASE_MS + 2000})
    assert counted == 1
    assert fired(engine, message(build_event(at_ms=BASE_MS + 4000))) == []  # gate: 1 of 2
    assert fired(engine, message(build_event(at_ms=BASE_MS + 4000, camera_id="dock"))) == ["r"]


def test_a_stored_event_implies_its_start_then_its_stored_state() -> None:
    presence = build_event(at_ms=BASE_MS + 40_000, start_ms=BASE_MS, type="zone.presence",
                           zone="lot", line=None, dwell_s=40.0)
    going_on = presence.model_copy(update={"state": EventState.ACTIVE, "end_ms": None})
    just_started = going_on.model_copy(update={"updated_ms": BASE_MS, "dwell_s": 0.0})
    crossing = build_event(at_ms=BASE_MS)

    def implied(event: Event) -> list[tuple[str, int, float | None]]:
        return [(m.phase.value, m.event.updated_ms, m.event.dwell_s)
                for m in implied_messages(event)]

    assert implied(presence) == [("start", BASE_MS, 0.0), ("end", BASE_MS + 40_000, 40.0)]
    assert implied(going_on) == [("start", BASE_MS, 0.0), ("update", BASE_MS + 40_000, 40.0)]
    assert implied(just_started) == [("start", BASE_MS, 0.0)]
    assert implied(crossing) == [("end", BASE_MS, None)]

    long_stay = rule(zone="lot", min_dwell_s=30, count={"at_least": 2, "window_s": 600})
    engine = RuleEngine([long_stay])
    since = BASE_MS - 600_000
    assert engine.restore_counts("r", [just_started], since_ms=since, fired_ms={}) == 0
    assert engine.restore_counts("r", [going_on], since_ms=since, fired_ms={}) == 1


def test_cooldown_per_camera_and_per_rule(clock: Clock) -> None:
    engine = RuleEngine(
        [rule("per-camera", cooldown_s=60), rule("whole-rule", cooldown_s=60,
                                                 cooldown_per_camera=False)],
        clock=clock,
    )
    assert fired(engine, message(build_event())) == ["per-camera", "whole-rule"]
    clock.advance(30)
    assert fired(engine, message(build_event(at_ms=BASE_MS + 1))) == []
    assert engine.suppressed == 2
    assert fired(engine, message(build_event(at_ms=BASE_MS + 2, camera_id="dock"))) == [
        "per-camera"]
    clock.advance(30)  # 60 s after the first alert
    assert fired(engine, message(build_event(at_ms=BASE_MS + 3))) == ["per-camera", "whole-rule"]


def test_cooldown_uses_the_clock_and_firing_time(clock: Clock) -> None:
    engine = RuleEngine([rule(cooldown_s=10)], clock=clock)
    [firing] = engine.evaluate(message(build_event()))
    assert firing.fired_ms == clock.now


def test_changed_rules_start_afresh_and_unchanged_ones_keep_their_memory() -> None:
    kept, changed = rule("kept"), rule("changed")
    engine = RuleEngine([kept, changed])
    crossing = build_event()
    assert fired(engine, message(crossing)) == ["kept", "changed"]
    engine.set_rules([kept, rule("changed", classes=["person"])])
    assert fired(engine, message(crossing)) == ["changed"]


BERLIN_WORKDAYS = {"timezone": "Europe/Berlin",
                   "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"],
                                "start": "08:00", "end": "17:00"}]}


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ("2026-01-14T07:30:00Z", True),   # Wednesday 08:30 CET (UTC+1)
        ("2026-01-14T06:59:59Z", False),  # 07:59:59 CET
        ("2026-01-14T15:59:59Z", True),   # 16:59:59 CET
        ("2026-01-14T16:00:00Z", False),  # 17:00 CET: the end is not included
        ("2026-07-15T06:30:00Z", True),   # Wednesday 08:30 CEST (UTC+2)
        ("2026-07-15T15:30:00Z", False),  # 17:30 CEST, though 15:30 UTC was inside in winter
        ("2026-01-17T10:00:00Z", False),  # Saturday
    ],
)
def test_schedule_follows_the_local_time_zone_and_dst(moment: str, active: bool) -> None:
    schedule = rule(schedule=BERLIN_WORKDAYS).schedule
    assert schedule is not None
    assert schedule.is_active(ms(moment)) is active


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        ("2026-01-16T22:30:00Z", True),   # Friday 23:30 CET
        ("2026-01-17T04:59:00Z", True),   # Saturday 05:59 CET: the Friday night goes on
        ("2026-01-17T05:00:00Z", False),  # Saturday 06:00 CET
        ("2026-01-15T22:30:00Z", False),  # Thursday 23:30 CET
        ("2026-01-16T04:00:00Z", False),  # Friday 05:00 CET belongs to Thursday's night
    ],
)
def test_schedule_windows_past_midnight(moment: str, active: bool) -> None:
    schedule = rule(schedule={"timezone": "Europe/Berlin", "windows": [
        {"days": ["fri"], "start": "22:00", "end": "06:00"}]}).schedule
    assert schedule is not None
    assert schedule.is_active(ms(moment)) is active


def test_schedule_on_dst_transition_nights() -> None:
    schedule = rule(schedule={"timezone": "Europe/Berlin", "windows": [
        {"days": ["sun"], "start": "02:00", "end": "03:00"}]}).schedule
    assert schedule is not None
    # 29 March 2026: clocks jump from 02:00 CET to 03:00 CEST; the hour never happens.
    spring = [ms("2026-03-29T00:59:59Z"), ms("2026-03-29T01:00:00Z")]
    assert [schedule.is_active(t) for t in spring] == [False, False]
    # 25 October 2026: 02:00-03:00 happens twice (CEST, then CET); both are inside.
    autumn = [ms("2026-10-25T00:30:00Z"), ms("2026-10-25T01:30:00Z"), ms("2026-10-25T02:00:00Z")]
    assert [schedule.is_active(t) for t in autumn] == [True, True, False]


def test_a_scheduled_rule_fires_only_inside_its_windows() -> None:
    engine = RuleEngine([rule(schedule=BERLIN_WORKDAYS)])
    night = build_event(at_ms=ms("2026-01-14T22:00:00Z"))
    day = build_event(at_ms=ms("2026-01-14T09:00:00Z"))
    assert fired(engine, message(night), message(day)) == ["r"]
