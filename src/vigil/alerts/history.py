"""The stored events a rule's filters select since a moment: what a rule would have seen. Used
to restore rule state at start (windows, cooldowns) and to replay a rule for "test this rule"."""

from __future__ import annotations

import sqlalchemy as sa

from vigil.alerts.config import RuleConfig
from vigil.domain.events import Event
from vigil.store import events as event_rows


def rule_events(engine: sa.Engine, rule: RuleConfig, *, since_ms: int, limit: int) -> list[Event]:
    """Events of the rule's tenant whose latest state was observed at or after `since_ms` and
    that its filters match, at most `limit` (see `store.events.changed_since`)."""
    return event_rows.changed_since(
        engine,
        tenant=rule.tenant,
        since_ms=since_ms,
        limit=limit,
        camera_ids=rule.cameras,
        class_names=rule.classes,
        module=rule.module,
        type=rule.type,
        zone=rule.zone,
        line=rule.line,
    )
