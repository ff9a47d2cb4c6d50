"""What every action provides: one delivery attempt, reported, never raised.

Retrying is the dispatcher's job; an action only says whether a failure may pass if tried
again (a timeout, a 503) or will not (a 400, a refused login).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vigil.alerts.alert import Alert
from vigil.alerts.config import ActionBase


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    retryable: bool
    detail: str  # what happened, for people: "HTTP 503: busy", "connection refused"


def delivered(detail: str) -> Attempt:
    return Attempt(ok=True, retryable=False, detail=detail)


def failed(detail: str, *, retryable: bool) -> Attempt:
    return Attempt(ok=False, retryable=retryable, detail=detail[:500])


class Action(Protocol):
    @property
    def kind(self) -> str:
        """"webhook", "mqtt" or "email"."""
        ...

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> ActionBase: ...

    def send(self, alert: Alert) -> Attempt:
        """One attempt to deliver `alert`; returns its outcome instead of raising."""
        ...

    def target(self) -> str:
        """Where it delivers to, without credentials (for the API and logs)."""
        ...
