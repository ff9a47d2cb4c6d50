"""What a search returns (hits, facets, timeline) and the filters the UI adds to a query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.domain.events import Event


@dataclass(slots=True)
class Facet:
    value: str
    label: str
    count: int


@dataclass(slots=True)
class Hit:
    event: Event
    caption: str
    score: float
    similarity: float | None
    words: list[str]


@dataclass(slots=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[Facet]]
    timeline: dict[str, Any]
    as_of: tuple[int, int]  # (caption id, seq) the result was computed at
    has_more: bool
    best_similarity: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Explicit:
    """Filters given as API parameters (the UI's facet clicks), ANDed with the query's."""

    cameras: set[str] | None = None
    classes: set[str] | None = None
    types: set[str] | None = None
    colors: set[str] | None = None
    start_ms: int | None = None
    end_ms: int | None = None
