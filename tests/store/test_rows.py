"""Events as rows (the bulk-ingest form): lossless both ways, and the same newer-wins rule."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from vigil.domain.event_rows import (
    COLUMNS,
    EventRow,
    copy_row,
    invalid_rows,
    probably_new,
    row_event,
    row_supersedes,
)
from vigil.domain.events import Event, EventMessage, EventState, Phase
from vigil.store.events import row_dict, supersedes, to_row

MakeEvent = Callable[..., Event]


def test_a_row_holds_the_whole_event(make_event: MakeEvent) -> None:
    scene = make_event(class_name="car", attributes={"text": "DHL", "peaks": [1.5, 2]})
    scene.object = None  # a scene event (tampering) has no object
    for event in (make_event(), scene, make_event(state=EventState.ACTIVE)):
        row = copy_row(event)
        assert len(row) == len(COLUMNS)
        assert row_event(row) == event
        assert row_event(list(row)) == event  # as JSON gives it back
        assert row_dict(row) == to_row(event)  # what the SQLAlchemy path writes


def test_rows_follow_the_same_rule_as_events(make_event: MakeEvent) -> None:
    start = make_event(state=EventState.ACTIVE)
    states = [
        start,
        start.model_copy(update={"updated_ms": start.updated_ms + 5}),
        start.model_copy(update={"state": EventState.ENDED, "updated_ms": start.updated_ms + 9}),
        start.model_copy(update={"state": EventState.ENDED, "updated_ms": start.updated_ms + 1}),
    ]
    for new, old in itertools.product(states, repeat=2):
        assert row_supersedes(copy_row(new), copy_row(old)) == supersedes(new, old)


def test_first_states_are_probably_new(make_event: MakeEvent) -> None:
    start = make_event(state=EventState.ACTIVE)
    end = start.model_copy(update={"state": EventState.ENDED, "updated_ms": start.start_ms + 9})
    assert probably_new(copy_row(start)) and not probably_new(copy_row(end))
    assert probably_new(copy_row(make_event()))  # an instantaneous event: ended at once


def test_an_event_row_makes_the_message_again(make_event: MakeEvent) -> None:
    event = make_event()
    assert EventRow("end", copy_row(event)).message() == EventMessage(phase=Phase.END,
                                                                      event=event)


def test_rows_are_checked_against_the_event_schema(make_event: MakeEvent) -> None:
    good = copy_row(make_event())
    column = {name: i for i, name in enumerate(COLUMNS)}

    def changed(**values: object) -> list[object]:
        row = list(good)
        for name, value in values.items():
            row[column[name]] = value
        return row

    rows = [good, changed(score=1.5), changed(state="weird"), changed(box="[1, 2]"),
            changed(attributes="[1]"), changed(class_id=None), changed(start_ms="soon"),
            list(good)[:-1], changed(class_name=None, class_id=None, score=None)]
    problems = invalid_rows(rows)
    assert sorted(problems) == [1, 2, 3, 4, 5, 6, 7]
    assert problems[1].startswith("score") and problems[2].startswith("state")
    assert invalid_rows([good] * 3) == {}
