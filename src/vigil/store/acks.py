"""Acknowledgements and escalations of fired alerts (table `alert_acks`).

An alert is *firing* until someone acknowledges it: the console's banner lists the firing
alerts of the caller's scope, and the alert service escalates those of rules with an
`escalation` once they have waited `after_min` minutes. Reads take the same `tenants` scope as
the alerts themselves (tenant, camera groups, the 'alerts' kind).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vigil.auth.scope import scope_clauses
from vigil.store.alerts import StoredAlert, alert_from_row
from vigil.store.db import dialect_insert
from vigil.store.schema import alert_acks, alerts

MAX_NOTE = 1000


@dataclass(frozen=True, slots=True)
class Ack:
    alert_id: str
    acked_ms: int | None
    acked_by: str | None
    note: str | None
    escalated_ms: int | None
    escalation: dict[str, Any] | None


def _ack_from_row(row: sa.RowMapping) -> Ack:
    return Ack(
        alert_id=row["alert_id"],
        acked_ms=row["acked_ms"],
        acked_by=row["acked_by"],
        note=row["note"],
        escalated_ms=row["escalated_ms"],
        escalation=row["escalation"],
    )


def acknowledge(
    engine: sa.Engine, alert: StoredAlert, *, by: str, note: str | None, at_ms: int
) -> tuple[Ack, bool]:
    """Record that `by` acknowledged `alert`. The first acknowledgement stands: a later one
    changes nothing. Returns the row and whether this call was the first."""
    insert = dialect_insert(engine, alert_acks).values(
        alert_id=alert.id,
        tenant=alert.tenant,
        acked_ms=at_ms,
        acked_by=by[:128],
        note=(note or None) and note[:MAX_NOTE],
    )
    new = insert.excluded
    c = alert_acks.c
    # Only a row without an acknowledgement (one the escalation wrote) takes this one.
    statement = insert.on_conflict_do_update(
        index_elements=[c.alert_id],
        set_={"acked_ms": new.acked_ms, "acked_by": new.acked_by, "note": new.note},
        where=c.acked_ms.is_(None),
    )
    with engine.begin() as connection:
        first = connection.execute(statement).rowcount > 0
        row = connection.execute(sa.select(alert_acks).where(c.alert_id == alert.id)).mappings()
        return _ack_from_row(row.one()), first


def mark_escalated(
    engine: sa.Engine, alert: StoredAlert, *, at_ms: int, outcomes: Mapping[str, Any]
) -> None:
    insert = dialect_insert(engine, alert_acks).values(
        alert_id=alert.id,
        tenant=alert.tenant,
        escalated_ms=at_ms,
        escalation=dict(outcomes),
    )
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[alert_acks.c.alert_id],
        set_={"escalated_ms": new.escalated_ms, "escalation": new.escalation},
    )
    with engine.begin() as connection:
        connection.execute(statement)


def acks_for(engine: sa.Engine, alert_ids: Collection[str]) -> dict[str, Ack]:
    """The rows of these alerts (one query for a page of alerts); callers scoped the ids."""
    if not alert_ids:
        return {}
    statement = sa.select(alert_acks).where(alert_acks.c.alert_id.in_(list(alert_ids)))
    with engine.connect() as connection:
        return {
            row["alert_id"]: _ack_from_row(row) for row in connection.execute(statement).mappings()
        }


def _unacknowledged(since_ms: int) -> tuple[sa.FromClause, list[Any]]:
    joined = alerts.outerjoin(alert_acks, alert_acks.c.alert_id == alerts.c.id)
    return joined, [alerts.c.fired_ms >= since_ms, alert_acks.c.acked_ms.is_(None)]


def firing(
    engine: sa.Engine, tenants: Collection[str] | None, *, since_ms: int, limit: int
) -> tuple[int, list[StoredAlert]]:
    """How many alerts fired since `since_ms` wait for an acknowledgement in this scope, and
    the newest `limit` of them."""
    joined, where = _unacknowledged(since_ms)
    where += scope_clauses(tenants, alerts.c.tenant, alerts.c.camera_id, "alerts")
    count = sa.select(sa.func.count()).select_from(joined).where(*where)
    newest = (
        sa.select(alerts)
        .select_from(joined)
        .where(*where)
        .order_by(alerts.c.fired_ms.desc(), alerts.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        total = int(connection.execute(count).scalar_one())
        rows = connection.execute(newest).mappings().all()
    return total, [alert_from_row(row) for row in rows]


def unacknowledged_by_tenant(engine: sa.Engine, *, since_ms: int) -> dict[str, int]:
    """How many alerts fired since `since_ms` wait for an acknowledgement, per tenant."""
    joined, where = _unacknowledged(since_ms)
    statement = (
        sa.select(alerts.c.tenant, sa.func.count()).select_from(joined).where(*where)
        .group_by(alerts.c.tenant)
    )
    with engine.connect() as connection:
        return {str(tenant): int(n) for tenant, n in connection.execute(statement)}


def due_for_escalation(
    engine: sa.Engine, rule_ids: Collection[str], *, fired_before_ms: int, since_ms: int
) -> list[StoredAlert]:
    """Alerts of these rules fired in [since_ms, fired_before_ms) that nobody acknowledged and
    that were not escalated yet, oldest first."""
    if not rule_ids:
        return []
    joined, where = _unacknowledged(since_ms)
    where += [
        alerts.c.fired_ms < fired_before_ms,
        alerts.c.rule_id.in_(list(rule_ids)),
        alert_acks.c.escalated_ms.is_(None),
    ]
    statement = (
        sa.select(alerts)
        .select_from(joined)
        .where(*where)
        .order_by(alerts.c.fired_ms, alerts.c.id)
        .limit(500)
    )
    with engine.connect() as connection:
        return [alert_from_row(row) for row in connection.execute(statement).mappings()]
