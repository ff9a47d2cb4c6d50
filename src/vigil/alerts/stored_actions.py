"""Alert actions added and edited through the API, with secrets that are written, never read.

An action's secrets (a webhook's signing `secret` and extra `headers`, which carry tokens; an
MQTT or SMTP `password`) are stored for delivery but never returned: the API shows only which
are set. An edit that leaves a secret out (or blank) keeps the stored one, so an operator can
change a URL without knowing the token. Actions of the config file stay read-only here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter

from vigil.alerts.config import ActionBase, ActionConfig
from vigil.store.db import dialect_insert
from vigil.store.schema import alert_actions

SECRET_FIELDS = ("secret", "headers", "password")
_ADAPTER: TypeAdapter[ActionConfig] = TypeAdapter(ActionConfig)


@dataclass(frozen=True, slots=True)
class StoredAction:
    name: str
    tenant: str
    config: ActionConfig
    updated_by: str
    updated_ms: int


def parse(values: dict[str, Any]) -> ActionConfig:
    """An action's settings, validated (pydantic.ValidationError names the field)."""
    return _ADAPTER.validate_python(values)


def merged(values: dict[str, Any], before: ActionConfig | None) -> dict[str, Any]:
    """`values` with each secret left out or blank taken from `before` (same type only)."""
    if before is None or values.get("type") != before.type:
        return {k: v for k, v in values.items() if not (k in SECRET_FIELDS and _blank(v))}
    kept = before.model_dump()
    out = dict(values)
    for key in SECRET_FIELDS:
        if key in kept and _blank(values.get(key)):
            out[key] = kept[key]
    return out


def _blank(value: object) -> bool:
    return value is None or value == "" or value == {}


def public(config: ActionBase) -> tuple[dict[str, Any], list[str]]:
    """The settings without secrets, and the names of the secrets that are set."""
    values = config.model_dump(mode="json")
    secrets = [key for key in SECRET_FIELDS if key in values and not _blank(values[key])]
    return {k: v for k, v in values.items() if k not in SECRET_FIELDS}, secrets


def load(engine: sa.Engine, tenants: Collection[str] | None = None) -> dict[str, StoredAction]:
    statement = sa.select(alert_actions)
    if tenants is not None:
        statement = statement.where(alert_actions.c.tenant.in_(list(tenants)))
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return {
        row["name"]: StoredAction(row["name"], row["tenant"], parse(dict(row["config"])),
                                  row["updated_by"], row["updated_ms"])
        for row in rows
    }


def put(engine: sa.Engine, action: StoredAction) -> None:
    insert = dialect_insert(engine, alert_actions).values(
        name=action.name, tenant=action.tenant, config=action.config.model_dump(mode="json"),
        updated_by=action.updated_by[:128], updated_ms=action.updated_ms,
    )
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[alert_actions.c.name],
        set_={"config": new.config, "updated_by": new.updated_by, "updated_ms": new.updated_ms},
    )
    with engine.begin() as connection:
        connection.execute(statement)
