"""Rule evaluation: which event messages fire which rules. Pure logic, no I/O.

Match conditions, schedules and count windows use the event's own time (`updated_ms`: when
the message's state was observed), so a backlog evaluated late gives the same answer. Cool-
downs use the injected clock instead: they limit how often people are notified.
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from vigil.alerts.config import RuleConfig
from vigil.domain.events import Event, EventMessage, EventState, Phase
from vigil.domain.frames import now_ms

log = logging.getLogger(__name__)

# Remembered (rule, event) pairs per rule for de-duplication; the oldest are forgotten first.
# Events are seldom updated for long, so this only needs to outlast one event's life.
DEFAULT_MEMORY = 50_000


@dataclass(frozen=True, slots=True)
class Firing:
    rule: RuleConfig
    event: Event
    phase: Phase
    fired_ms: int
    count: int | None = None  # matching events within the window, for count rules


def is_instant(event: Event) -> bool:
    """A line crossing and the like: published once, ended at the moment it started."""
    return event.end_ms is not None and event.end_ms == event.start_ms


def implied_messages(event: Event) -> list[EventMessage]:
    """The messages a stored event was published as, as far as the store can tell: its start
    (no dwell yet), then its stored state — its end, or the latest update of an event still
    going on; an instant event's one. Earlier updates are not stored."""
    if is_instant(event):
        return [EventMessage(phase=Phase.END, event=event)]
    started = event.model_copy(
        update={
            "state": EventState.ACTIVE,
            "end_ms": None,
            "updated_ms": event.start_ms,
            "dwell_s": None if event.dwell_s is None else 0.0,
        }
    )
    messages = [EventMessage(phase=Phase.START, event=started)]
    if event.state is EventState.ENDED:
        messages.append(EventMessage(phase=Phase.END, event=event))
    elif event.updated_ms > event.start_ms:
        messages.append(EventMessage(phase=Phase.UPDATE, event=event))
    return messages


def _phase_matches(rule: RuleConfig, message: EventMessage) -> bool:
    if rule.phase is None:
        return True
    if rule.phase == "end":
        return message.phase is Phase.END
    return message.phase is Phase.START or (
        message.phase is Phase.END and is_instant(message.event)
    )


def matches(rule: RuleConfig, message: EventMessage) -> bool:
    """The rule's conditions on this one message (not schedule, count or cool-down)."""
    event = message.event
    obj = event.object
    if not rule.enabled or rule.tenant != event.tenant:
        return False
    for wanted, actual in (
        (rule.module, event.module),
        (rule.type, event.type),
        (rule.zone, event.zone),
        (rule.line, event.line),
        (rule.direction, event.direction),
    ):
        if wanted is not None and wanted != actual:
            return False
    if rule.cameras is not None and event.camera_id not in rule.cameras:
        return False
    if rule.classes is not None and (obj is None or obj.class_name not in rule.classes):
        return False
    if rule.min_dwell_s is not None and (event.dwell_s is None or event.dwell_s < rule.min_dwell_s):
        return False
    if rule.min_score is not None and (obj is None or obj.score < rule.min_score):
        return False
    return _phase_matches(rule, message)


@dataclass
class _Window:
    """The matching events a count rule saw on one camera lately: their times, sorted, and
    their ids, so that an event counts once even when seen twice (restored from the store by
    an evaluator taking over, then delivered to it again)."""

    times: list[int] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # event id → its time in the window

    def add(self, event_id: str, at_ms: int) -> None:
        if event_id not in self.ids:
            self.ids[event_id] = at_ms
            bisect.insort(self.times, at_ms)

    def drop_until(self, at_ms: int) -> None:
        """Forget what happened at or before `at_ms`."""
        del self.times[: bisect.bisect_right(self.times, at_ms)]
        for event_id in [eid for eid, ms in self.ids.items() if ms <= at_ms]:
            del self.ids[event_id]

    def clear(self) -> None:
        self.times.clear()
        self.ids.clear()

    def __len__(self) -> int:
        return len(self.times)


@dataclass
class _RuleState:
    memory: int
    seen: OrderedDict[Hashable, None] = field(default_factory=OrderedDict)
    windows: dict[str, _Window] = field(default_factory=dict)  # by camera
    last_fired: dict[str, int] = field(default_factory=dict)  # cool-down key → clock ms

    def first_time(self, key: Hashable) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = None
        if len(self.seen) > self.memory:
            self.seen.popitem(last=False)
        return True


class RuleEngine:
    """Evaluates messages against a set of rules, keeping de-duplication, count windows and
    cool-downs per rule. Not thread-safe: one caller at a time."""

    def __init__(
        self,
        rules: Iterable[RuleConfig] = (),
        *,
        clock: Callable[[], int] = now_ms,
        memory: int = DEFAULT_MEMORY,
    ) -> None:
        self._clock = clock
        self._memory = memory
        self._rules: list[RuleConfig] = []
        self._state: dict[str, _RuleState] = {}
        self.suppressed = 0  # matches silenced by a cool-down
        self.set_rules(rules)

    @property
    def rules(self) -> list[RuleConfig]:
        return list(self._rules)

    def set_rules(self, rules: Iterable[RuleConfig]) -> None:
        """Replace the rule set. A rule that is unchanged keeps its memory (what it fired for,
        its counts and cool-downs); a changed one starts afresh."""
        old = {rule.id: rule for rule in self._rules}
        self._rules = list(rules)
        self._state = {
            rule.id: self._state[rule.id]
            if old.get(rule.id) == rule and rule.id in self._state
            else _RuleState(self._memory)
            for rule in self._rules
        }

    def restore_cooldowns(self, fired: Iterable[tuple[str, str, int]]) -> None:
        """Take up cool-downs from (rule id, camera id, fired at clock ms) of earlier firings:
        what another evaluator fired before this one took over."""
        rules = {rule.id: rule for rule in self._rules}
        for rule_id, camera_id, fired_ms in fired:
            rule = rules.get(rule_id)
            if rule is None:
                continue
            key = camera_id if rule.cooldown_per_camera else ""
            last = self._state[rule_id].last_fired
            last[key] = max(last.get(key, fired_ms), fired_ms)

    def restore_counts(
        self, rule_id: str, stored: Iterable[Event], *, since_ms: int, fired_ms: Mapping[str, int]
    ) -> int:
        """Rebuild a count rule's windows from stored events, as another evaluator counted
        them: each event's first matching message (`implied_messages`) at or after `since_ms`
        and after the rule last fired on its camera (`fired_ms`, by camera). Returns how many
        events now count. They are not marked as seen: one delivered again (the previous
        evaluator died before acknowledging it) is evaluated, and counts once."""
        rule = next((rule for rule in self._rules if rule.id == rule_id), None)
        if rule is None or rule.count is None:
            return 0
        windows = self._state[rule.id].windows
        counted = 0
        for event in stored:
            for message in implied_messages(event):
                at_ms = message.event.updated_ms
                if at_ms < since_ms or at_ms <= fired_ms.get(event.camera_id, at_ms - 1):
                    continue
                if not matches(rule, message) or (
                    rule.schedule is not None and not rule.schedule.is_active(at_ms)
                ):
                    continue
                windows.setdefault(event.camera_id, _Window()).add(event.id, at_ms)
                counted += 1
                break
        return counted

    def evaluate(self, message: EventMessage) -> list[Firing]:
        firings = []
        for rule in self._rules:
            # One tenant's rule that cannot be evaluated must not silence the others' alerts.
            try:
                firing = self._evaluate(rule, message)
            except Exception:
                log.exception("alert rule %s (tenant %s) failed to evaluate", rule.id, rule.tenant)
                continue
            if firing is not None:
                firings.append(firing)
        return firings

    def _evaluate(self, rule: RuleConfig, message: EventMessage) -> Firing | None:
        event = message.event
        at_ms = event.updated_ms
        if not matches(rule, message):
            return None
        if rule.schedule is not None and not rule.schedule.is_active(at_ms):
            return None
        state = self._state[rule.id]
        # By default an event fires a rule once; with repeat_on_update once per distinct
        # message, so a message delivered twice still fires once.
        key: Hashable = (
            (event.id, message.phase.value, event.updated_ms) if rule.repeat_on_update else event.id
        )
        if not state.first_time(key):
            return None
        count = None
        window: _Window | None = None
        if rule.count is not None:
            window = state.windows.setdefault(event.camera_id, _Window())
            window.add(event.id, at_ms)
            # Times at or before the window's start drop out; messages may arrive slightly
            # out of order, hence the sorted list rather than a queue.
            window.drop_until(at_ms - round(rule.count.window_s * 1000))
            count = len(window)
            if count < rule.count.at_least:
                return None
        now = self._clock()
        cooldown_key = event.camera_id if rule.cooldown_per_camera else ""
        last = state.last_fired.get(cooldown_key)
        if last is not None and now - last < rule.cooldown_s * 1000:
            self.suppressed += 1
            return None
        state.last_fired[cooldown_key] = now
        if window is not None:
            window.clear()  # the next alert needs a full count of its own
        return Firing(rule=rule, event=event, phase=message.phase, fired_ms=now, count=count)
