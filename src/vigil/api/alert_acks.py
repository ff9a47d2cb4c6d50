"""How a fired alert was dealt with, as the API shows it beside the alert: who acknowledged
it, when and with which note, and whether (and how) it was escalated."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from vigil.alerts.alert import iso
from vigil.store.acks import Ack


class AcknowledgementOut(BaseModel):
    by: str = Field(description="Who acknowledged it (user name)")
    at: str = Field(description="ISO 8601 UTC")
    at_ms: int
    note: str | None


class EscalationOutcomeOut(BaseModel):
    type: str
    status: Literal["pending", "delivered", "failed"]
    detail: str | None


class EscalationOut(BaseModel):
    at: str = Field(description="ISO 8601 UTC: when the wait without acknowledgement ran out")
    at_ms: int
    outcomes: dict[str, EscalationOutcomeOut] = Field(description="By action name")


def acknowledgement_out(ack: Ack | None) -> AcknowledgementOut | None:
    if ack is None or ack.acked_ms is None:
        return None
    return AcknowledgementOut(
        by=ack.acked_by or "", at=iso(ack.acked_ms), at_ms=ack.acked_ms, note=ack.note
    )


def escalation_out(ack: Ack | None) -> EscalationOut | None:
    if ack is None or ack.escalated_ms is None:
        return None
    outcomes: dict[str, Any] = ack.escalation or {}
    return EscalationOut(
        at=iso(ack.escalated_ms),
        at_ms=ack.escalated_ms,
        outcomes={
            name: EscalationOutcomeOut(
                type=entry.get("type", ""),
                status=entry.get("status", "pending"),
                detail=entry.get("detail"),
            )
            for name, entry in outcomes.items()
        },
    )
