"""Alert rules added through the API, and fired alerts with their delivery outcomes.

Every row carries its tenant and every read takes a `tenants` scope (None: unrestricted), as
for events and cameras: fired alerts are narrowed to the scope's cameras and need the 'alerts'
kind, the events shown with them the 'events' kind.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import ValidationError

from vigil.alerts.config import RuleConfig
from vigil.auth.scope import scope_clauses
from vigil.domain.frames import now_ms
from vigil.store.db import dialect_insert
from vigil.store.query import MAX_LIMIT, QueryError, check_range, decode_cursor, newest_first, page
from vigil.store.schema import alert_rules, alerts

log = logging.getLogger(__name__)

RuleOrigin = Literal["config", "api"]
AlertStatus = Literal["pending", "delivered", "partial", "failed", "recorded"]
ALERT_STATUSES: tuple[AlertStatus, ...] = ("pending", "delivered", "partial", "failed", "recorded")


@dataclass(frozen=True, slots=True)
class StoredRule:
    rule: RuleConfig
    origin: RuleOrigin
    created_ms: int | None = None  # None for rules of the config file
    updated_ms: int | None = None


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: str
    tenant: str
    rule_id: str
    rule_name: str
    event_id: str
    camera_id: str
    event_type: str
    fired_ms: int
    match_count: int | None
    status: AlertStatus
    attempts: int = 0
    last_error: str | None = None
    outcomes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Fired alerts, newest first, with `start_ms <= fired_ms < end_ms`."""

    tenants: Collection[str] | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    rule_ids: Collection[str] | None = None
    camera_ids: Collection[str] | None = None
    statuses: Collection[str] | None = None
    limit: int = 50
    cursor: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}, got {self.limit}")
        check_range(self.start_ms, self.end_ms)
        for status in self.statuses or ():
            if status not in ALERT_STATUSES:
                raise QueryError("status", f"{status!r} is not one of {', '.join(ALERT_STATUSES)}")
        if self.cursor is not None:
            decode_cursor(self.cursor)


@dataclass(frozen=True, slots=True)
class AlertPage:
    items: list[StoredAlert]
    next_cursor: str | None


def _in(column: sa.ColumnElement[Any], values: Collection[str] | None) -> list[Any]:
    return [] if values is None else [column.in_(list(values))]


def _rule_from_row(row: sa.RowMapping) -> StoredRule | None:
    try:
        rule = RuleConfig.model_validate(row["spec"])
    except ValidationError as error:
        # A rule stored by an older version may name a module that no longer exists.
        log.error("stored alert rule %s is no longer valid and is ignored: %s", row["id"], error)
        return None
    return StoredRule(rule, "api", row["created_ms"], row["updated_ms"])


def list_rules(engine: sa.Engine, tenants: Collection[str] | None) -> list[StoredRule]:
    statement = (
        sa.select(alert_rules)
        .where(*scope_clauses(tenants, alert_rules.c.tenant))
        .order_by(alert_rules.c.created_ms, alert_rules.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [stored for row in rows if (stored := _rule_from_row(row)) is not None]


def get_rule(engine: sa.Engine, rule_id: str, tenants: Collection[str] | None) -> StoredRule | None:
    statement = sa.select(alert_rules).where(
        alert_rules.c.id == rule_id, *scope_clauses(tenants, alert_rules.c.tenant)
    )
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return _rule_from_row(row) if row is not None else None


def put_rule(engine: sa.Engine, rule: RuleConfig) -> None:
    """Insert or replace a rule; its creation time is kept on replace."""
    ts = now_ms()
    insert = dialect_insert(engine, alert_rules).values(
        id=rule.id,
        tenant=rule.tenant,
        name=rule.name,
        spec=rule.model_dump(mode="json"),
        created_ms=ts,
        updated_ms=ts,
    )
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[alert_rules.c.id],
        set_={
            "tenant": new.tenant,
            "name": new.name,
            "spec": new.spec,
            "updated_ms": new.updated_ms,
        },
    )
    with engine.begin() as connection:
        connection.execute(statement)


def delete_rule(engine: sa.Engine, rule_id: str) -> bool:
    with engine.begin() as connection:
        result = connection.execute(sa.delete(alert_rules).where(alert_rules.c.id == rule_id))
    return result.rowcount > 0


def alert_from_row(row: sa.RowMapping) -> StoredAlert:
    return StoredAlert(
        id=row["id"],
        tenant=row["tenant"],
        rule_id=row["rule_id"],
        rule_name=row["rule_name"],
        event_id=row["event_id"],
        camera_id=row["camera_id"],
        event_type=row["event_type"],
        fired_ms=row["fired_ms"],
        match_count=row["match_count"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        outcomes=row["outcomes"] or {},
    )


def insert_alert(engine: sa.Engine, alert: StoredAlert, dedup_key: str) -> bool:
    """Store a fired alert; False (and nothing written) when `dedup_key` was stored before."""
    insert = dialect_insert(engine, alerts).values(
        id=alert.id,
        tenant=alert.tenant,
        rule_id=alert.rule_id,
        rule_name=alert.rule_name,
        event_id=alert.event_id,
        camera_id=alert.camera_id,
        event_type=alert.event_type,
        fired_ms=alert.fired_ms,
        match_count=alert.match_count,
        dedup_key=dedup_key,
        status=alert.status,
        attempts=alert.attempts,
        last_error=alert.last_error,
        outcomes=alert.outcomes,
    )
    with engine.begin() as connection:
        result = connection.execute(insert.on_conflict_do_nothing(index_elements=["dedup_key"]))
    return result.rowcount > 0


def last_fired(engine: sa.Engine, *, since_ms: int) -> list[tuple[str, str, int]]:
    """(rule id, camera id, when it last fired there) for the alerts fired since `since_ms`:
    the cool-downs an alert evaluator taking over must respect."""
    c = alerts.c
    statement = (
        sa.select(c.rule_id, c.camera_id, sa.func.max(c.fired_ms))
        .where(c.fired_ms >= since_ms)
        .group_by(c.rule_id, c.camera_id)
    )
    with engine.connect() as connection:
        return [(rule, camera, int(ms)) for rule, camera, ms in connection.execute(statement)]


def update_delivery(
    engine: sa.Engine,
    alert_id: str,
    *,
    status: AlertStatus,
    attempts: int,
    last_error: str | None,
    outcomes: dict[str, Any],
) -> None:
    statement = (
        sa.update(alerts)
        .where(alerts.c.id == alert_id)
        .values(
            status=status,
            attempts=attempts,
            last_error=last_error[:512] if last_error else None,
            outcomes=outcomes,
        )
    )
    with engine.begin() as connection:
        connection.execute(statement)


def get_alert(
    engine: sa.Engine, alert_id: str, tenants: Collection[str] | None
) -> StoredAlert | None:
    statement = sa.select(alerts).where(
        alerts.c.id == alert_id,
        *scope_clauses(tenants, alerts.c.tenant, alerts.c.camera_id, "alerts"),
    )
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return alert_from_row(row) if row is not None else None


def query_alerts(engine: sa.Engine, q: AlertQuery) -> AlertPage:
    c = alerts.c
    where: list[Any] = [
        *scope_clauses(q.tenants, c.tenant, c.camera_id, "alerts"),
        *_in(c.rule_id, q.rule_ids),
        *_in(c.camera_id, q.camera_ids),
        *_in(c.status, q.statuses),
    ]
    if q.start_ms is not None:
        where.append(c.fired_ms >= q.start_ms)
    if q.end_ms is not None:
        where.append(c.fired_ms < q.end_ms)
    statement = newest_first(sa.select(alerts).where(*where), c.fired_ms, c.id, q.cursor, q.limit)
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    items, next_cursor = page(
        [alert_from_row(row) for row in rows], q.limit, lambda alert: (alert.fired_ms, alert.id)
    )
    return AlertPage(items=items, next_cursor=next_cursor)
