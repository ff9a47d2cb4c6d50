"""Synthetic events and a clock the tests move by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vigil.alerts.config import RuleConfig
from vigil.domain.events import Event, EventMessage, EventState, ObjectInfo, Phase, uuid7

BASE_MS = 1_795_000_000_000  # 2026-11-18 (a Wednesday) 11:06:40 UTC


@dataclass
class Clock:
    now: int = BASE_MS

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * 1000)


def build_event(
    *,
    at_ms: int = BASE_MS,
    event_id: str | None = None,
    tenant: str = "default",
    camera_id: str = "gate",
    type: str = "line.crossing",
    class_name: str | None = "person",
    score: float = 0.9,
    line: str | None = "door",
    direction: str | None = "in",
    zone: str | None = None,
    dwell_s: float | None = None,
    state: EventState = EventState.ENDED,
    start_ms: int | None = None,
    **fields: Any,
) -> Event:
    start = at_ms if start_ms is None else start_ms
    return Event(
        id=event_id or uuid7(start),
        tenant=tenant,
        camera_id=camera_id,
        camera_name=camera_id.title(),
        module=type.split(".")[0],
        type=type,
        state=state,
        object=None if class_name is None else ObjectInfo(
            class_name=class_name, class_id=0, track_id=3, score=score),
        line=line,
        direction=direction,
        zone=zone,
        dwell_s=dwell_s,
        start_ms=start,
        end_ms=at_ms if state is EventState.ENDED else None,
        updated_ms=at_ms,
        **fields,
    )


def message(event: Event, phase: Phase | None = None) -> EventMessage:
    if phase is None:
        phase = Phase.END if event.state is EventState.ENDED else Phase.START
    return EventMessage(phase=phase, event=event)


def rule(rule_id: str = "r", **fields: Any) -> RuleConfig:
    return RuleConfig.model_validate({"id": rule_id, **fields})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_event() -> Callable[..., Event]:
    return build_event
