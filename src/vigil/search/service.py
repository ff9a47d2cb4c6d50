"""The search service: query parsing, the index, the event store and the audit hook together.

One service per event store and process (`SearchService.for_store`), shared by the indexer that
the runtime starts, the API and the CLI, so the model and the in-memory columns exist once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from vigil.config import VigilConfig
from vigil.domain.events import Event
from vigil.domain.frames import now_ms
from vigil.search.embedding import Embedder, default_embedder
from vigil.search.index import SearchIndex, index_path_for
from vigil.search.query import (
    Interpretation,
    ParsedQuery,
    PlaceNames,
    QueryTextError,
    parse,
    zone_info,
)
from vigil.search.results import Explicit, SearchResult
from vigil.search.shared_vectors import SharedVectors
from vigil.store.events import from_row
from vigil.store.query import EventQuery, QueryError
from vigil.store.schema import events as events_table
from vigil.store.store import EventStore

log = logging.getLogger(__name__)

MAX_LIMIT = 200
CAMERAS_TTL_S = 2.0
NEIGHBOUR_WINDOW_MS = 120_000


def search_timezone(config: VigilConfig | None = None) -> str:
    """The server's zone for captions and queries without `tz`: `server.timezone` when the
    config sets it, else $VIGIL_TIMEZONE, else UTC."""
    configured = config.server.timezone if config is not None else None
    return configured or os.environ.get("VIGIL_TIMEZONE") or "UTC"


class SearchAudit(Protocol):
    """Called once per search, before results are returned: who (actor and tenant scope),
    what (the query text) and why (the stated purpose)."""

    def __call__(
        self,
        *,
        actor: str | None,
        tenants: Collection[str] | None,
        query: str,
        purpose: str | None,
        results: int,
    ) -> None: ...


class LoggingSearchAudit:
    """The audit hook until the hash-chained audit log is wired in: one log line per search."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("vigil.audit.search")

    def __call__(
        self,
        *,
        actor: str | None,
        tenants: Collection[str] | None,
        query: str,
        purpose: str | None,
        results: int,
    ) -> None:
        scope = "all" if tenants is None else ",".join(sorted(tenants)) or "none"
        self.logger.info(
            "search actor=%s tenants=%s purpose=%r results=%d query=%r",
            actor or "anonymous",
            scope,
            purpose or "",
            results,
            query,
        )


@dataclass(slots=True)
class SearchRequest:
    q: str
    tz: str | None = None
    limit: int = 24
    cursor: str | None = None
    explicit: Explicit = field(default_factory=Explicit)
    purpose: str | None = None
    actor: str | None = None


@dataclass(slots=True)
class SearchResponse:
    parsed: ParsedQuery
    result: SearchResult
    next_cursor: str | None
    reasons: list[str]


class SearchService:
    def __init__(
        self,
        store: EventStore,
        index: SearchIndex,
        *,
        default_tz: str = "UTC",
        audit: SearchAudit | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.default_tz = zone_info(default_tz).key
        self.audit: SearchAudit = audit or LoggingSearchAudit()
        self._cameras_cache: dict[tuple[str, ...] | None, tuple[float, list[Any]]] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def for_store(
        cls,
        store: EventStore,
        *,
        config: VigilConfig | None = None,
        embedder: Embedder | None = None,
        index_path: Path | None = None,
    ) -> SearchService:
        """The process's service for `store`, created on first use."""
        with _SHARED_LOCK:
            service = _SHARED.get(store)
            if service is None:
                url = store.engine.url.render_as_string(hide_password=False)
                # Without a config, the default store settings' data directory (data/media →
                # data), not the current directory.
                media_dir = config.store.media_dir if config is not None else Path("data/media")
                path = index_path or index_path_for(url, Path(media_dir).parent)
                tz = search_timezone(config)
                index = SearchIndex(path, embedder or _embedder(store, config), zone_info(tz))
                service = cls(store, index, default_tz=tz)
                _SHARED[store] = service
                store.on_close(lambda: _release(store))
            return service

    # ------------------------------------------------------------------ search

    def names(self, tenants: Collection[str] | None) -> PlaceNames:
        """Cameras (names, zones, lines) the caller may see, from the store and the index."""
        indexed = self.index.names(tenants)
        cameras = dict(indexed.cameras)
        zones, lines = set(indexed.zones), set(indexed.lines)
        for camera_id, name, camera_zones, camera_lines in self._stored_cameras(tenants):
            cameras[camera_id] = name
            zones.update(camera_zones)
            lines.update(camera_lines)
        return PlaceNames(
            cameras=cameras,
            zones=frozenset(zones),
            lines=frozenset(lines),
            types=indexed.types,
            modules=indexed.modules,
        )

    def _stored_cameras(
        self, tenants: Collection[str] | None
    ) -> list[tuple[str, str, list[str], list[str]]]:
        """The store's cameras in scope (id, name, zones, lines), read at most every 2 s."""
        key = None if tenants is None else tuple(sorted(tenants))
        now = time.monotonic()
        cached = self._cameras_cache.get(key)
        if cached is not None and now - cached[0] < CAMERAS_TTL_S:
            return cached[1]
        rows = [
            (
                c.config.id,
                c.config.name or c.config.id,
                [z.name for z in c.config.zones],
                [line.name for line in c.config.lines],
            )
            for c in self.store.list_cameras(tenants)
        ]
        if len(self._cameras_cache) > 256:
            self._cameras_cache.clear()
        self._cameras_cache[key] = (now, rows)
        return rows

    def parse(
        self, q: str, tz: str | None, tenants: Collection[str] | None, now: int | None = None
    ) -> ParsedQuery:
        return parse(
            q,
            self.names(tenants),
            tz=tz,
            default_tz=self.default_tz,
            now_ms=now_ms() if now is None else now,
        )

    def search(
        self,
        request: SearchRequest,
        tenants: Collection[str] | None,
        now: int | None = None,
        *,
        audit: SearchAudit | None = None,
    ) -> SearchResponse:
        """Raises RefusedQuery (never offered), QueryTextError or QueryError (bad input)."""
        if not 1 <= request.limit <= MAX_LIMIT:
            raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}, got {request.limit}")
        offset, as_of, fingerprint = 0, None, _fingerprint(request)
        now = now_ms() if now is None else now
        if request.cursor:
            offset, as_of, now = _decode_cursor(request.cursor, fingerprint)
        parsed = self.parse(request.q, request.tz, tenants, now)
        result = self.index.search(
            parsed,
            tenants=tenants,
            limit=request.limit,
            offset=offset,
            as_of=as_of,
            explicit=request.explicit,
            fetch=lambda ids: self.fetch(ids, tenants),
        )
        (audit or self.audit)(
            actor=request.actor,
            tenants=tenants,
            query=request.q,
            purpose=request.purpose,
            results=result.total,
        )
        next_cursor = None
        if result.has_more:
            next_cursor = _encode_cursor(offset + request.limit, result.as_of, now, fingerprint)
        reasons = [reason(parsed, hit.words, hit.similarity) for hit in result.hits]
        return SearchResponse(parsed, result, next_cursor, reasons)

    def fetch(self, ids: list[str], tenants: Collection[str] | None) -> dict[str, Event]:
        # Through the store's one scope path: tenant, camera groups and data kind.
        return self.store.get_events(ids, tenants)

    def neighbours(
        self,
        event: Event,
        tenants: Collection[str] | None,
        window_ms: int = NEIGHBOUR_WINDOW_MS,
        limit: int = 50,
    ) -> list[Event]:
        """Events of the same camera that started within ±`window_ms` of this one."""
        page = self.store.query_events(
            EventQuery(
                tenants=tenants,
                camera_ids=[event.camera_id],
                start_ms=event.start_ms - window_ms,
                end_ms=event.start_ms + window_ms + 1,
                limit=limit,
            )
        )
        return sorted((e for e in page.items if e.id != event.id), key=lambda e: e.start_ms)

    # ------------------------------------------------------------------ indexing

    def all_events(
        self, batch: int = 2000, since_updated_ms: int | None = None
    ) -> Iterator[list[Event]]:
        """Every stored event (or those updated since a time), in batches, by id."""
        after = ""
        table = events_table
        while True:
            statement = sa.select(table).where(table.c.id > after)
            if since_updated_ms is not None:
                statement = statement.where(table.c.updated_ms >= since_updated_ms)
            statement = statement.order_by(table.c.id).limit(batch)
            with self.store.engine.connect() as connection:
                rows = connection.execute(statement).mappings().all()
            if not rows:
                return
            yield [from_row(row) for row in rows]
            after = rows[-1]["id"]

    def count_events(self) -> int:
        with self.store.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(events_table)
                ).scalar_one()
            )

    def missing_events(self, event_ids: list[str]) -> list[str]:
        """Which of these ids the store no longer has (deleted by retention)."""
        if not event_ids:
            return []
        with self.store.engine.connect() as connection:
            present = set(
                connection.execute(
                    sa.select(events_table.c.id).where(events_table.c.id.in_(event_ids))
                ).scalars()
            )
        return [i for i in event_ids if i not in present]


# Released when its store is closed: a weak mapping would never let go, since each service
# holds its store.
_SHARED: dict[EventStore, SearchService] = {}
_SHARED_LOCK = threading.Lock()


def _release(store: EventStore) -> None:
    with _SHARED_LOCK:
        service = _SHARED.pop(store, None)
    if service is not None:
        service.index.close()


def reason(parsed: ParsedQuery, words: list[str], similarity: float | None) -> str:
    """Why a result matched, in a line: the filters the query became, the words found in its
    caption and its similarity to the query."""
    parts = [_describe(item) for item in parsed.interpretations]
    if words:
        parts.append("words: " + ", ".join(words))
    if similarity is not None and parsed.semantic_text:
        parts.append(f"similarity {similarity:.2f}")
    return " · ".join(parts) or "matches the filters"


def _describe(item: Interpretation) -> str:
    if item.kind in ("time", "hours"):
        return f"{item.words} ({item.meaning})"
    if item.words.replace(" ", "") == item.meaning.replace(" ", "").replace("_", ""):
        return f"{item.kind} {item.meaning}"
    return f"{item.kind} {item.meaning} ({item.words!r})"


def _fingerprint(request: SearchRequest) -> str:
    e = request.explicit
    payload = json.dumps(
        [
            request.q,
            request.tz,
            sorted(e.cameras or []),
            sorted(e.classes or []),
            sorted(e.types or []),
            sorted(e.colors or []),
            e.start_ms,
            e.end_ms,
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def _encode_cursor(offset: int, as_of: tuple[int, int], now: int, fingerprint: str) -> str:
    raw = json.dumps([offset, as_of[0], as_of[1], now, fingerprint], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[int, tuple[int, int], int]:
    invalid = QueryError("cursor", "not a cursor of this search; start without one")
    if len(cursor) > 200:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset, caption_id, seq, now, mark = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid from None
    if mark != fingerprint:
        raise QueryError("cursor", "belongs to another query or other filters; start again")
    if not all(isinstance(v, int) and v >= 0 for v in (offset, caption_id, seq, now)):
        raise invalid
    return offset, (caption_id, seq), now


__all__ = [
    "LoggingSearchAudit",
    "QueryTextError",
    "SearchAudit",
    "SearchRequest",
    "SearchResponse",
    "SearchService",
    "reason",
    "search_timezone",
]


def _embedder(store: EventStore, config: VigilConfig | None) -> Embedder:
    """The sentence model; on a cluster's API node, behind the vectors the nodes share."""
    if config is None or config.bus.url is None:
        return default_embedder()
    return SharedVectors(default_embedder(), store.engine)
