"""Plain-language search over events: GET /api/search (docs/search.md)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from vigil.api.access import tenant_scope
from vigil.api.context import Search
from vigil.api.errors import error_responses
from vigil.api.json_body import json_response
from vigil.api.params import split_values, time_range
from vigil.domain.events import Event
from vigil.domain.frames import now_ms
from vigil.search.embedding import EmbeddingError
from vigil.search.explain import account
from vigil.search.query import REFUSAL_MESSAGE, QueryTextError, RefusedQuery
from vigil.search.results import Explicit
from vigil.search.service import (
    MAX_LIMIT,
    LoggingSearchAudit,
    SearchAudit,
    SearchRequest,
    SearchService,
)
from vigil.store.query import QueryError

log = logging.getLogger(__name__)
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
Values = Annotated[list[str] | None, Query()]


class InterpretationOut(BaseModel):
    kind: str = Field(description="time, hours, place, class, colour, type or direction")
    words: str = Field(description="The words of the query that were read this way")
    meaning: str


class WordOut(BaseModel):
    word: str
    role: Literal["filter", "ranking", "ignored"]
    why: str = Field(description="Which filter it became, or why it ranks or is ignored")


class QueryOut(BaseModel):
    q: str
    tz: str = Field(description="IANA time zone the time words were read in")
    filters: list[InterpretationOut]
    semantic_text: str = Field(description="What was embedded for similarity ranking")
    keywords: list[str] = Field(description="Words left for keyword ranking (FTS5)")
    notes: list[str]
    words: list[WordOut] = Field(
        default_factory=list, description="Every word of the query, in order, and what it did"
    )


class MatchOut(BaseModel):
    filters: list[str] = Field(description="The filters the query became (all results meet them)")
    words: list[str] = Field(description="Keywords of the query found in the event's caption")
    similarity: float | None = Field(description="Cosine similarity of caption and query")


class HitOut(BaseModel):
    event: Event
    caption: str = Field(description="The event's caption: what search compared the query with")
    reason: str = Field(description="Why it matched, in a line")
    matched: MatchOut
    score: float = Field(description="Fused rank score (reciprocal rank fusion); higher first")


class FacetOut(BaseModel):
    value: str
    label: str
    count: int


class TimelineOut(BaseModel):
    start_ms: int | None
    end_ms: int | None
    bucket_ms: int | None
    counts: list[int]


class SuggestionOut(BaseModel):
    q: str = Field(description="The query without one of its filters")
    dropped: str = Field(description="The filter left out, e.g. 'time: Thu 18:00 – Fri 06:00'")
    total: int = Field(description="Matches of that query")


class SearchOut(BaseModel):
    query: QueryOut
    items: list[HitOut]
    total: int = Field(description="Matching events the caller may see, over all pages")
    facets: dict[str, list[FacetOut]] = Field(
        description="Counts among all matches per camera, class, type and colour"
    )
    timeline: TimelineOut
    next_cursor: str | None
    took_ms: float
    suggestions: list[SuggestionOut] = Field(
        default_factory=list,
        description="When nothing matched: the query without one of its filters, for each "
        "that has matches, most matches first",
    )


def request_audit(request: Request) -> SearchAudit:
    """The hash-chained audit log (vigil.privacy.audit) when the app has one, else a log line."""
    chain_audit: Callable[..., Any] | None
    try:
        from vigil.privacy.audit import audit as chain_audit
    except ImportError:  # pragma: no cover - the audit chain ships with the auth layer
        chain_audit = None
    fallback = LoggingSearchAudit()

    def record(
        *,
        actor: str | None,
        tenants: Collection[str] | None,
        query: str,
        purpose: str | None,
        results: int,
    ) -> None:
        if purpose and not getattr(request.state, "purpose", None):
            request.state.purpose = purpose
        written = None
        if chain_audit is not None and getattr(request.app.state, "audit", None) is not None:
            written = chain_audit(
                request,
                "search.query",
                target=query[:512],
                details={
                    "results": results,
                    "tenants": None if tenants is None else sorted(tenants),
                },
            )
        if written is None:
            fallback(actor=actor, tenants=tenants, query=query, purpose=purpose, results=results)

    return record


router = APIRouter(prefix="/api/search", tags=["search"])


@router.get(
    "",
    summary="Search events in plain language",
    description=(
        "`q` is read for time words (in `tz`), camera, zone and line names, classes with "
        "synonyms, colours, event types and directions, which become filters; the rest "
        "ranks by semantic similarity of the events' captions fused with keyword ranking. "
        "Each item says why it matched. Requests to find or identify a person, or to "
        "search by image, are refused with 400: Vigil never offers them. "
        "`camera`, `class`, `type`, `color`, `start`, `end` add filters (the UI's facets). "
        "Pages: pass `next_cursor` back as `cursor` with the same parameters."
    ),
    response_model=SearchOut,
    responses=error_responses(400, 422, 503),
)
def search(
    service: Search,
    request: Request,
    tenants: Scope,
    q: Annotated[str, Query(min_length=1, max_length=500, description="What to look for")],
    tz: Annotated[
        str | None,
        Query(
            max_length=64, description="IANA zone, e.g. Europe/Berlin; default: the server's"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 24,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    camera: Values = None,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
    type_: Annotated[list[str] | None, Query(alias="type")] = None,
    color: Values = None,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    purpose: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    if not q.strip():
        raise QueryError("q", "must not be blank: say what to look for")
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    explicit = Explicit(
        cameras=_set(split_values(camera, "camera")),
        classes=_set(split_values(class_, "class")),
        types=_set(split_values(type_, "type")),
        colors=_set(split_values(color, "color")),
        start_ms=start_ms,
        end_ms=end_ms,
    )
    principal = getattr(request.state, "principal", None)
    search_request = SearchRequest(
        q=q,
        tz=tz or None,
        limit=limit,
        cursor=cursor or None,
        explicit=explicit,
        purpose=purpose or getattr(request.state, "purpose", None) or None,
        actor=getattr(principal, "actor", None),
    )
    try:
        response = service.search(search_request, tenants, audit=request_audit(request))
    except RefusedQuery:
        raise HTTPException(400, REFUSAL_MESSAGE) from None
    except EmbeddingError as error:
        log.error("search model unavailable: %s", error)
        raise HTTPException(503, f"search is unavailable: {error}") from None
    except QueryTextError as error:
        raise QueryError(str(error).split(":", 1)[0], str(error).split(": ", 1)[-1]) from None
    out = _out(response)
    if out.total == 0 and not cursor:
        out.suggestions = _suggestions(service, search_request, response.parsed, tenants)
    return json_response(out)

MAX_SUGGESTIONS = 5  # filters tried left out, at most (each is one more search)


def _suggestions(
    service: SearchService, request: SearchRequest, parsed: Any, tenants: Collection[str] | None
) -> list[SuggestionOut]:
    """A search with no result is a dead end: try it without each of its filters in turn
    (the time, a place, a class …) and offer those that find something. These searches only
    count; the one audited search is the operator's own."""
    found = []
    for item in parsed.interpretations[:MAX_SUGGESTIONS]:
        pattern = re.compile(r"\b" + re.escape(item.words) + r"\b", re.IGNORECASE)
        shorter = " ".join(pattern.sub(" ", request.q).split())
        if not shorter or shorter == request.q:
            continue
        try:
            tried = service.search(replace(request, q=shorter, limit=1, cursor=None), tenants)
        except (RefusedQuery, QueryTextError, EmbeddingError, QueryError):
            continue
        if tried.result.total:
            found.append(
                SuggestionOut(
                    q=shorter, dropped=f"{item.kind}: {item.meaning}", total=tried.result.total
                )
            )
    return sorted(found, key=lambda suggestion: -suggestion.total)


def _set(values: list[str] | None) -> set[str] | None:
    return set(values) if values else None


def _out(response: Any) -> SearchOut:
    parsed, result = response.parsed, response.result
    filters = [f"{item.kind} {item.meaning}" for item in parsed.interpretations]
    items = [
        HitOut(
            event=hit.event,
            caption=hit.caption,
            reason=why,
            matched=MatchOut(filters=filters, words=hit.words, similarity=hit.similarity),
            score=round(hit.score, 6),
        )
        for hit, why in zip(result.hits, response.reasons, strict=True)
    ]
    facet_names = {"camera_id": "camera", "class_name": "class", "type": "type", "color": "color"}
    return SearchOut(
        query=QueryOut(
            q=parsed.raw,
            tz=parsed.tz,
            filters=[
                InterpretationOut(kind=i.kind, words=i.words, meaning=i.meaning)
                for i in parsed.interpretations
            ],
            semantic_text=parsed.semantic_text,
            keywords=parsed.keywords,
            notes=parsed.notes,
            words=[WordOut(word=w.word, role=w.role, why=w.why) for w in account(parsed)],
        ),
        items=items,
        total=result.total,
        facets={
            facet_names[key]: [
                FacetOut(value=f.value, label=f.label, count=f.count) for f in values
            ]
            for key, values in result.facets.items()
        },
        timeline=TimelineOut(**result.timeline),
        next_cursor=response.next_cursor,
        took_ms=round(sum(result.timings_ms.values()), 2),
    )
