"""How a rule would have behaved over the stored events of the last 24 hours, and which rules
are too broad to save.

An operator who saves a rule from a half-filled form should learn before the first night
shift that it matches everything. The preview replays the stored events of the rule's tenant
through a fresh `RuleEngine` holding only this rule, with the events' own times as its clock,
so count windows, schedules and cool-downs act as they would have.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from vigil.alerts.config import RuleConfig
from vigil.alerts.history import rule_events
from vigil.alerts.rules import RuleEngine, implied_messages, matches
from vigil.auth.scope import allows

SPAN_MS = 24 * 3600 * 1000
SCAN_LIMIT = 100_000  # stored events replayed at most (newest first)
# More alerts a day than a control room can look at: one every 86 s. A rule above it is
# refused; a cool-down, a count threshold or a narrower condition brings it under.
MAX_FIRINGS_PER_DAY = 1000


@dataclass(frozen=True, slots=True)
class Preview:
    start_ms: int
    end_ms: int
    matched: int  # distinct events that meet the conditions (and the schedule)
    fired: int  # alerts it would have fired, after count thresholds and cool-downs
    scanned: int  # stored events replayed
    truncated: bool  # more events than SCAN_LIMIT: the figures cover the newest only


def empty_condition(rule: RuleConfig) -> str | None:
    """Why a rule without any condition is refused (it would fire for every event), naming the
    field to fill; None when it has one."""
    conditions = (
        rule.module,
        rule.type,
        rule.zone,
        rule.line,
        rule.classes,
        rule.direction,
        rule.min_dwell_s,
        rule.min_score,
        rule.count,
    )
    if any(condition is not None for condition in conditions):
        return None
    return (
        "type: the rule has no condition and would fire for every event; choose an event "
        "type or module, a zone or line, or object classes"
    )


def preview(
    engine: sa.Engine, rule: RuleConfig, tenants: Collection[str] | None, *, now_ms: int
) -> Preview:
    """Replay the last 24 hours of the caller's events (their scope: tenant, camera groups)
    through `rule` alone."""
    since = now_ms - SPAN_MS
    stored = rule_events(engine, rule, since_ms=since, limit=SCAN_LIMIT)
    stored = [event for event in stored if allows(tenants, event.tenant, event.camera_id, "events")]
    messages = sorted(
        (
            message
            for event in stored
            for message in implied_messages(event)
            if since <= message.event.updated_ms <= now_ms
        ),
        key=lambda message: message.event.updated_ms,
    )
    # A disabled rule is previewed as if enabled: the question is what it would do.
    candidate = rule.model_copy(update={"enabled": True})
    clock = [since]
    replay = RuleEngine([candidate], clock=lambda: clock[0])
    matched: set[str] = set()
    fired = 0
    for message in messages:
        at_ms = message.event.updated_ms
        clock[0] = at_ms
        if matches(candidate, message) and (
            candidate.schedule is None or candidate.schedule.is_active(at_ms)
        ):
            matched.add(message.event.id)
        fired += len(replay.evaluate(message))
    return Preview(
        start_ms=since,
        end_ms=now_ms,
        matched=len(matched),
        fired=fired,
        scanned=len(stored),
        truncated=len(stored) == SCAN_LIMIT,
    )


def too_broad(result: Preview) -> str | None:
    """Why a rule that would have fired too often is refused, naming the field that helps."""
    if result.fired <= MAX_FIRINGS_PER_DAY:
        return None
    return (
        f"cooldown_s: this rule would have fired {result.fired} times in the last 24 hours "
        f"(at most {MAX_FIRINGS_PER_DAY} are allowed); set a cool-down or a count, or "
        "narrow it by type, zone, line or class"
    )
