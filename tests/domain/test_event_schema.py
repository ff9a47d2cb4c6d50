"""The published event schema is the one the code emits, and events validate against it."""

from __future__ import annotations

import json

import jsonschema

from vigil.config import ROOT
from vigil.domain.events import Event, EventState, ObjectInfo, event_json_schema, uuid7

PUBLISHED = ROOT / "docs" / "schema" / "event-v1.json"


def test_published_schema_matches_the_code() -> None:
    # Regenerate with: .venv/bin/vigil schema > docs/schema/event-v1.json
    assert json.loads(PUBLISHED.read_text()) == event_json_schema()


def test_events_validate_against_the_published_schema() -> None:
    schema = json.loads(PUBLISHED.read_text())
    person = Event(
        id=uuid7(), tenant="city", camera_id="gate", camera_name="Gate", module="line",
        type="line.crossing", state=EventState.ENDED, line="door", direction="in",
        object=ObjectInfo(class_name="person", class_id=0, track_id=4, score=0.8,
                          box=(1, 2, 3, 4), color="red"),
        start_ms=1, end_ms=1, updated_ms=1,
    )
    scene = person.model_copy(update={"object": None, "module": "tamper", "type": "tamper.covered"})
    for event in (person, scene):
        jsonschema.validate(json.loads(event.model_dump_json()), schema)


def test_uuid7_ids_sort_by_time_and_are_unique() -> None:
    ids = [uuid7(1_790_000_000_000 + i // 3) for i in range(3000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(value[14] == "7" for value in ids)  # the version nibble
