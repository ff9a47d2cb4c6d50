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


class EscalationAttemptOut(BaseModel):
    attempt: int
    at_ms: int
    ok: bool
    detail: str | None


class EscalationOutcomeOut(BaseModel):
    type: str
    status: Literal["pending", "retrying", "delivered", "failed"] = Field(
        description="retrying: failed and will be tried again with backoff"
    )
    detail: str | None
    attempts: int = Field(0, description="Attempts made so far")
    history: list[EscalationAttemptOut] = Field(
        default_factory=list, description="The latest attempts, oldest first"
    )


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
                attempts=entry.get("attempts", 0),
                history=entry.get("history", []),
            )
            for name, entry in outcomes.items()
        },
    )
