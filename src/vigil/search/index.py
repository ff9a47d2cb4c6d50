"""The search index: captions, their vectors and keyword index, and which event has which.

Storage is one SQLite file beside the event store (`vigil.db` → `vigil.search.db`), written only
by the indexer and rebuilt whole by `vigil search reindex`: it is derived data, so it has its own
schema version (PRAGMA user_version) instead of an Alembic migration, and its writes never take
the event store's write lock. Tables:

- `captions`: one row per distinct caption (with the facts every filter reads: tenant, camera,
  class, colour, type, zone, line, direction, part of day) and its 384-d float32 vector;
- `captions_fts`: SQLite FTS5 (porter stemming) over the caption text, for keyword ranking;
- `docs`: one row per event: its caption, start time, its figures (count and what was
  counted, speed, duration: per event, for numeric filters) and a sequence number that grows
  with every write, so readers pick up changes incrementally.

Many events share a caption (the same kind of thing happening at the same place and time of
day), so vectors are stored and compared once per caption, not per event: scoring a query is a
matrix-vector product over the distinct captions, exact. The events of the matching captions
are gathered from postings (events grouped by caption, `postings.py`), and filters, facets and
paging run over compact numpy columns of the events held in memory (41 bytes per event at 1M).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from vigil.domain.events import Event, EventState
from vigil.search.captions import CaptionFacts, caption, facts
from vigil.search.columns import Codes, Grow
from vigil.search.embedding import Embedder
from vigil.search.figures import OPERATORS, counts_any, event_figures
from vigil.search.postings import Changed, Postings
from vigil.search.query import Filters, ParsedQuery, PlaceNames
from vigil.search.ranking import (
    FTS_WORD,
    fuse,
    hamming,
    in_hours,
    sign_bits,
    timeline_histogram,
    top,
    words_in,
)
from vigil.search.results import Explicit, Facet, Hit, SearchResult

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: figures per event
KEYWORD_LIMIT = 2000
# Keywords in more than this share of the captions (and at least COMMON_MIN) are not searched.
COMMON_SHARE = 0.05
COMMON_MIN = 200
# Candidate captions scored exactly up to this many; beyond, a sign-bit shortlist of SHORTLIST
# captions is rescored (see SearchIndex._similarity).
EXACT_LIMIT = 20_000
SHORTLIST = 4096
FACET_COLUMNS = ("camera_id", "class_name", "type", "color")
_COLUMNS = (
    "tenant",
    "camera_id",
    "camera_name",
    "module",
    "type",
    "class_name",
    "color",
    "zone",
    "line",
    "direction",
    "part_of_day",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS captions (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    tenant TEXT NOT NULL, camera_id TEXT NOT NULL, camera_name TEXT NOT NULL,
    module TEXT NOT NULL, type TEXT NOT NULL, class_name TEXT, color TEXT,
    zone TEXT, line TEXT, direction TEXT, part_of_day TEXT NOT NULL,
    model TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS captions_fts USING fts5(
    text, content='captions', content_rowid='id', tokenize='porter unicode61'
);
CREATE TABLE IF NOT EXISTS docs (
    doc INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    caption_id INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    ended INTEGER NOT NULL,
    count REAL, counted TEXT, speed REAL, duration REAL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_seq ON docs (seq);
"""


def index_path_for(store_url: str, fallback_dir: Path) -> Path:
    """`sqlite:///data/vigil.db` → `data/vigil.search.db`; a database server's store (database
    `vigil`) → `fallback_dir/vigil.search.db`: named after the database, so stores of two
    databases that share a data directory never share (and mix up) one index."""
    parsed = sa.make_url(store_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        db = Path(parsed.database)
        return db.with_name(db.stem + ".search.db")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", parsed.database or "")
    return fallback_dir / f"{name.strip('.') or 'vigil'}.search.db"


def caption_key(f: CaptionFacts, text: str) -> str:
    payload = json.dumps([asdict(f), text], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


class SearchIndex:
    """Thread-safe: one writer (the indexer or reindex) and any number of searching threads."""

    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        tz: ZoneInfo | None = None,
        *,
        exact_limit: int = EXACT_LIMIT,
        shortlist: int = SHORTLIST,
    ) -> None:
        self.path = path
        self.exact_limit = exact_limit
        self.shortlist = shortlist
        self.embedder = embedder
        self.tz = tz or ZoneInfo("UTC")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Every thread's connection, so that close() closes them all (a thread pool's
        # connections would otherwise hold the file open until the process ends).
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._mirror_lock = threading.Lock()
        self._init_schema()
        self._reset_mirror()

    # ------------------------------------------------------------------ connections

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        """Close every thread's connection; a thread that searches again opens a new one."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()
        self._local = threading.local()

    def _init_schema(self) -> None:
        db = self._db()
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            # Derived data: an index of another version is dropped and rebuilt by reindex.
            log.warning("search index %s has schema %d; starting it anew", self.path, version)
            db.executescript(
                "DROP TABLE IF EXISTS captions_fts; DROP TABLE IF EXISTS captions; "
                "DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS meta;"
            )
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '1')")
        db.execute("INSERT OR IGNORE INTO meta VALUES ('tz', ?)", (self.tz.key,))
        db.commit()
        stored_tz = self._meta("tz")
        if stored_tz != self.tz.key:
            log.warning(
                "search captions were written for time zone %s, the server now uses %s: run "
                "`vigil search reindex` so that times of day in captions match",
                stored_tz,
                self.tz.key,
            )

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ mirror

    def _reset_mirror(self) -> None:
        with self._mirror_lock:
            self._generation = self._meta("generation")
            self._caption_last = 0
            self._seq_last = 0
            self._n_captions = 0
            self._caption_row: dict[int, int] = {}
            self._caption_ids = Grow(np.int64)
            self._vectors = Grow(np.float32, self.embedder.dim)
            self._has_vector = Grow(np.bool_, fill=False)
            # Sign bits of each vector (384 bits = 6 x uint64), for the shortlist scan.
            self._bits = Grow(np.uint64, self.embedder.dim // 64)
            self._codes = {name: Codes() for name in _COLUMNS}
            self._columns = {name: Grow(np.int32) for name in _COLUMNS}
            self._texts: list[str] = []
            self._max_doc = 0
            self._doc_row = Grow(np.int32, fill=-1)  # caption row per doc; -1: none
            self._doc_start = Grow(np.int64)
            self._doc_seq = Grow(np.int64)
            # Figures per doc (NaN: the event has none) and what its count counted (a code).
            self._doc_figures = {
                name: Grow(np.float32, fill=np.nan) for name in ("count", "speed", "duration")
            }
            self._counted = Codes()
            self._doc_counted = Grow(np.int32)
            self._names_cache: dict[tuple[Any, ...], PlaceNames] = {}
            self._df_cache: dict[str, tuple[int, int]] = {}
            self._postings: Postings | None = None
            self._changed = Changed()

    def refresh(self, *, written: bool = False) -> None:
        """Pick up what was written since the last call (by this or another process);
        `written`: this thread has just written, which its own connection does not notice."""
        db = self._db()
        # Every search starts here: when no other connection committed since this one last
        # looked (SQLite's data_version, read without touching a table), the mirror is current
        # and neither the lock nor the three reads below are needed.
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if not written and getattr(self._local, "seen", None) == (db, version):
            return
        if self._meta("generation") != self._generation:
            self._reset_mirror()
        with self._mirror_lock:
            rows = db.execute(
                "SELECT id, text, model, vector, "
                + ", ".join(_COLUMNS)
                + " FROM captions WHERE id > ? ORDER BY id",
                (self._caption_last,),
            ).fetchall()
            if rows:
                self._add_captions(rows)
            docs = db.execute(
                "SELECT doc, caption_id, start_ms, seq, count, speed, duration, counted FROM docs "
                "WHERE seq > ?",
                (self._seq_last,),
            ).fetchall()
            if docs:
                array = np.array([d[:4] for d in docs], dtype=np.int64)
                top = int(array[:, 0].max())
                for grow in (
                    self._doc_row,
                    self._doc_start,
                    self._doc_seq,
                    self._doc_counted,
                    *self._doc_figures.values(),
                ):
                    grow.ensure(top + 1)
                numbers = np.array(
                    [[np.nan if v is None else v for v in d[4:7]] for d in docs], dtype=np.float32
                )
                for k, name in enumerate(("count", "speed", "duration")):
                    self._doc_figures[name].data[array[:, 0]] = numbers[:, k]
                self._doc_counted.data[array[:, 0]] = [self._counted.code(d[7]) for d in docs]
                rows_of = np.array(
                    [self._caption_row.get(int(c), -1) for c in array[:, 1]], dtype=np.int32
                )
                self._doc_row.data[array[:, 0]] = rows_of
                self._doc_start.data[array[:, 0]] = array[:, 2]
                self._doc_seq.data[array[:, 0]] = array[:, 3]
                self._max_doc = max(self._max_doc, top)
                self._seq_last = max(self._seq_last, int(array[:, 3].max()))
                if self._postings is not None:
                    self._changed.add(array[:, 0])
                    if self._changed.too_many(len(self._postings.docs)):
                        # Dropped now, rebuilt by the next search: a process that only writes
                        # never holds more than a rebuild's worth of changed docs.
                        self._postings, self._changed = None, Changed()
        # Noted only once the mirror holds it: a refresh that failed (a locked database, say)
        # is tried again by the next search instead of leaving the mirror behind until the
        # next commit.
        self._local.seen = (db, version)

    def _current_postings(self) -> Postings:
        """The postings, built first when there are none (at the start, or after `refresh`
        dropped them because too many docs changed). Under the mirror lock."""
        if self._postings is None:
            self._postings = Postings(
                self._doc_row.data[: self._max_doc + 1], self._n_captions, self._seq_last
            )
            self._changed = Changed()
        return self._postings

    def _add_captions(self, rows: list[tuple[Any, ...]]) -> None:
        start = self._n_captions
        n = start + len(rows)
        for grow in (
            self._caption_ids,
            self._vectors,
            self._has_vector,
            self._bits,
            *self._columns.values(),
        ):
            grow.ensure(n)
        model = self.embedder.name
        for offset, row in enumerate(rows):
            position = start + offset
            caption_id, text, row_model, vector = row[:4]
            self._caption_row[int(caption_id)] = position
            self._caption_ids.data[position] = caption_id
            self._texts.append(text)
            if row_model == model and len(vector) == 4 * self.embedder.dim:
                values = np.frombuffer(vector, dtype=np.float32)
                self._vectors.data[position] = values
                self._bits.data[position] = sign_bits(values)
                self._has_vector.data[position] = True
            for name, value in zip(_COLUMNS, row[4:], strict=True):
                self._columns[name].data[position] = self._codes[name].code(value)
            self._caption_last = max(self._caption_last, int(caption_id))
        self._n_captions = n

    # ------------------------------------------------------------------ writing

    def index_events(self, events: Sequence[Event]) -> int:
        """Index the latest state of `events`; returns how many docs were written. Idempotent:
        an event whose caption did not change (and did not just end) is not written again."""
        latest: dict[str, Event] = {}
        for event in events:
            current = latest.get(event.id)
            if current is None or _newer(event, current):
                latest[event.id] = event
        if not latest:
            return 0
        with self._write_lock:
            return self._index(list(latest.values()))

    def _index(self, events: list[Event]) -> int:
        db = self._db()
        prepared = []
        for event in events:
            f = facts(event, self.tz)
            text = caption(event, self.tz)
            prepared.append((event, f, text, caption_key(f, text)))
        existing: dict[str, tuple[int, int, tuple[Any, ...]]] = {}
        for chunk in _chunks([e.id for e in events], 500):
            marks = ",".join("?" * len(chunk))
            for event_id, caption_id, ended, *figures in db.execute(
                f"SELECT event_id, caption_id, ended, count, speed, duration, counted FROM docs "
                f"WHERE event_id IN ({marks})",
                chunk,
            ):
                existing[event_id] = (caption_id, ended, tuple(figures))
        keys = list({key for *_, key in prepared})
        caption_ids: dict[str, int] = {}
        for chunk in _chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            for caption_id, key in db.execute(
                f"SELECT id, key FROM captions WHERE key IN ({marks})", chunk
            ):
                caption_ids[key] = caption_id
        new: dict[str, tuple[CaptionFacts, str]] = {}
        for _, f, text, key in prepared:
            if key not in caption_ids:
                new[key] = (f, text)
        vectors = self.embedder.embed([text for _, text in new.values()]) if new else None
        writes = []
        for event, _, _, key in prepared:
            before = existing.get(event.id)
            ended = int(event.state is EventState.ENDED)
            figures = _stored_figures(event)
            if (
                before is not None
                and key in caption_ids
                and before[0] == caption_ids[key]
                and (before[1] >= ended)
                and (before[2] == figures or before[1] > ended)
            ):
                continue
            writes.append((event, key, ended, figures))
        if not writes and not new:
            return 0
        with db:
            for (key, (f, text)), vector in zip(
                new.items(), vectors if vectors is not None else [], strict=True
            ):
                cursor = db.execute(
                    "INSERT INTO captions (key, text, "
                    + ", ".join(_COLUMNS)
                    + ", model, vector) VALUES (?, ?, "
                    + ", ".join("?" * len(_COLUMNS))
                    + ", ?, ?)",
                    (
                        key,
                        text,
                        *(getattr(f, c) for c in _COLUMNS),
                        self.embedder.name,
                        np.asarray(vector, dtype=np.float32).tobytes(),
                    ),
                )
                caption_ids[key] = int(cursor.lastrowid or 0)
                db.execute(
                    "INSERT INTO captions_fts (rowid, text) VALUES (?, ?)", (caption_ids[key], text)
                )
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM docs").fetchone()[0]
            db.executemany(
                "INSERT INTO docs (event_id, caption_id, start_ms, updated_ms, ended, count, "
                "speed, duration, counted, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (event_id) DO UPDATE SET "
                "caption_id = excluded.caption_id, start_ms = excluded.start_ms, "
                "updated_ms = excluded.updated_ms, ended = excluded.ended, "
                "count = excluded.count, speed = excluded.speed, duration = excluded.duration, "
                "counted = excluded.counted, seq = excluded.seq",
                [
                    (e.id, caption_ids[key], e.start_ms, e.updated_ms, ended, *figures, seq)
                    for e, key, ended, figures in writes
                ],
            )
        self.refresh(written=True)
        return len(writes)

    def remove(self, event_ids: Iterable[str]) -> int:
        """Forget events (deleted from the store by retention, say)."""
        ids = list(event_ids)
        if not ids:
            return 0
        with self._write_lock, self._db() as db:
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM docs").fetchone()[0]
            removed = 0
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                removed += db.execute(
                    f"UPDATE docs SET caption_id = 0, seq = ? WHERE event_id IN ({marks}) "
                    "AND caption_id != 0",
                    (seq, *chunk),
                ).rowcount
        self.refresh(written=True)
        return removed

    def clear(self) -> None:
        """Empty the index (reindex starts here); readers reload on their next refresh."""
        with self._write_lock, self._db() as db:
            generation = int(self._meta("generation") or 0) + 1
            db.execute("DELETE FROM docs")
            db.execute("DELETE FROM captions")
            db.execute("INSERT INTO captions_fts (captions_fts) VALUES ('delete-all')")
            db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tz', ?)", (self.tz.key,))
        self._reset_mirror()

    def event_ids(self, after_doc: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """(doc, event id) of indexed events after `after_doc`, for consistency checks."""
        return [
            (int(d), str(e))
            for d, e in self._db().execute(
                "SELECT doc, event_id FROM docs WHERE doc > ? AND caption_id != 0 ORDER BY doc "
                "LIMIT ?",
                (after_doc, limit),
            )
        ]

    def max_updated_ms(self) -> int | None:
        row = self._db().execute("SELECT max(updated_ms) FROM docs").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # ------------------------------------------------------------------ reading

    def stats(self) -> dict[str, int]:
        self.refresh()
        with self._mirror_lock:
            docs = int((self._doc_row.data[: self._max_doc + 1] >= 0).sum())
            return {"captions": self._n_captions, "events": docs}

    def names(self, tenants: Collection[str] | None = None, *, refresh: bool = True) -> PlaceNames:
        """Camera, zone and line names and event types of indexed events in the scope."""
        if refresh:
            self.refresh()
        key = (self._n_captions, None if tenants is None else tuple(sorted(tenants)))
        cached = self._names_cache.get(key)
        if cached is not None:
            return cached
        with self._mirror_lock:
            n = self._n_captions
            scope = np.ones(n, dtype=bool)
            if tenants is not None:
                scope = np.isin(
                    self._columns["tenant"].data[:n], self._codes["tenant"].wanted(tenants)
                )

            def present(column: str) -> list[str]:
                used = np.unique(self._columns[column].data[:n][scope])
                values = self._codes[column].values
                return [v for c in used.tolist() if (v := values[c]) is not None]

            ids = self._columns["camera_id"].data[:n][scope].astype(np.int64)
            labels = self._columns["camera_name"].data[:n][scope].astype(np.int64)
            pairs = np.unique(ids << 32 | labels)
            cameras = {}
            for pair in pairs.tolist():
                camera = self._codes["camera_id"].values[pair >> 32]
                label = self._codes["camera_name"].values[pair & 0xFFFFFFFF]
                if camera is not None:
                    cameras[camera] = label or camera
            names = PlaceNames(
                cameras=cameras,
                zones=frozenset(present("zone")),
                lines=frozenset(present("line")),
                types=frozenset(present("type")),
                modules=frozenset(present("module")),
            )
        if len(self._names_cache) > 64:
            self._names_cache.clear()
        self._names_cache[key] = names
        return names

    def search(
        self,
        parsed: ParsedQuery,
        *,
        tenants: Collection[str] | None,
        limit: int,
        offset: int = 0,
        as_of: tuple[int, int] | None = None,
        explicit: Explicit | None = None,
        fetch: Callable[[list[str]], dict[str, Event]],
        timeline_buckets: int = 48,
    ) -> SearchResult:
        clock = _Timer()
        self.refresh()
        explicit = explicit or Explicit()
        with self._mirror_lock:
            n = self._n_captions
            max_doc = self._max_doc
            seq_now = self._seq_last
            caption_as_of, seq_as_of = as_of or (self._caption_last, seq_now)
            mask = self._caption_mask(n, parsed.filters, explicit, tenants)
            mask &= self._caption_ids.data[:n] <= caption_as_of
            rows = np.flatnonzero(mask)
            # A view of all vectors, no copy: gathering most rows would copy the matrix.
            vectors = self._vectors.data[:n]
            has_vector = self._has_vector.data[rows]
            bits = self._bits.data[:n]
            texts = self._texts
            # Views, no copies: rows below `n` never change, and the arrays behind a view stay
            # as they are when a refresh grows the columns.
            columns = {name: self._columns[name].data[:n] for name in FACET_COLUMNS}
            postings = self._current_postings()
            changed = self._changed.docs()
            changed_mark = self._changed.marked(max_doc + 1)
            changed_rows = self._doc_row.data[changed]
            doc_start = self._doc_start.data[: max_doc + 1]
            doc_seq = self._doc_seq.data[: max_doc + 1]
            figures = self._figure_columns(parsed.filters, max_doc + 1)
        clock.lap("filter")

        # Caption scores: similarity and keyword ranks, fused by reciprocal rank.
        similarity = np.full(len(rows), np.nan, dtype=np.float32)
        if parsed.semantic_text and len(rows):
            query = self.embedder.embed_query(parsed.semantic_text)
            clock.lap("embed")
            similarity = self._similarity(query, rows, vectors, bits)
            similarity[~has_vector] = np.nan
            clock.lap("vectors")
        keyword_rank = self._keyword_ranks(parsed.keywords, rows, caption_as_of)
        clock.lap("keywords")
        score, matched, best = fuse(similarity, keyword_rank, bool(parsed.keywords))
        caption_score = np.full(n + 1, -np.inf, dtype=np.float64)  # index n: "no caption"
        caption_score[rows[matched]] = score[matched]
        sim_of = np.full(n + 1, np.nan, dtype=np.float32)
        sim_of[rows] = similarity

        # Events: those of matching captions (from the postings, and of the docs changed since
        # they were built), in the time range, seen at `as_of`.
        docs, doc_rows = postings.docs_of(rows[matched])
        if len(changed):
            fresh = ~changed_mark[docs]
            # A caption added after `n` (by a concurrent refresh) is not seen here; a doc without
            # one has row -1, which reads entry n, "no caption", never kept.
            changed_rows = np.where(changed_rows >= n, n, changed_rows)
            ok = np.isfinite(caption_score[changed_rows])
            docs = np.concatenate([docs[fresh], changed[ok]])
            doc_rows = np.concatenate([doc_rows[fresh], changed_rows[ok]])
        starts = doc_start[docs]
        keep = np.ones(len(docs), dtype=np.bool_)
        if seq_as_of < seq_now:
            keep &= doc_seq[docs] <= seq_as_of
        if figures is not None:
            keep &= self._figures_ok(parsed.filters, docs, *figures)
        start_ms = _max_opt(parsed.filters.start_ms, explicit.start_ms)
        end_ms = _min_opt(parsed.filters.end_ms, explicit.end_ms)
        if start_ms is not None:
            keep &= starts >= start_ms
        if end_ms is not None:
            keep &= starts < end_ms
        if parsed.filters.hours is not None:
            keep &= in_hours(starts, parsed.filters.hours, ZoneInfo(parsed.tz))
        docs, doc_rows, starts = docs[keep], doc_rows[keep], starts[keep]
        clock.lap("events")
        total = len(docs)
        counts = np.bincount(doc_rows, minlength=n)[:n]
        facets = self._facets(counts, columns)
        timeline = timeline_histogram(starts, start_ms, end_ms, timeline_buckets)
        clock.lap("facets")

        page_docs = top(docs, doc_rows, starts, caption_score, offset + limit + 1)
        has_more = len(page_docs) > offset + limit
        page_docs = page_docs[offset : offset + limit]
        ids = self._event_ids(page_docs.tolist())
        on_page = np.isin(docs, page_docs)
        row_of = dict(zip(docs[on_page].tolist(), doc_rows[on_page].tolist(), strict=True))
        events = fetch([ids[d] for d in page_docs.tolist() if d in ids])
        hits = []
        for d in page_docs.tolist():
            event = events.get(ids.get(d, ""))
            if event is None or (tenants is not None and event.tenant not in tenants):
                continue
            row = row_of[d]
            text = texts[row]
            sim = float(sim_of[row])
            hits.append(
                Hit(
                    event,
                    text,
                    float(caption_score[row]),
                    None if np.isnan(sim) else round(sim, 3),
                    words_in(parsed.keywords, text),
                )
            )
        clock.lap("fetch")
        return SearchResult(
            hits=hits,
            total=total,
            facets=facets,
            timeline=timeline,
            as_of=(caption_as_of, seq_as_of),
            has_more=has_more,
            best_similarity=None if best is None else round(best, 3),
            timings_ms=clock.laps,
        )

    def _similarity(
        self, query: np.ndarray, rows: np.ndarray, vectors: np.ndarray, bits: np.ndarray
    ) -> np.ndarray:
        """Cosine similarity of the query to the candidate captions `rows`.

        Up to `exact_limit` candidates, exactly. Beyond, in two steps, so that a query reads
        48 bytes per caption instead of 1536: the Hamming distance of sign bits picks a
        shortlist of `shortlist` captions, which are then scored exactly; the others get NaN
        (no similarity rank; they can still match by keywords, or by filters alone).
        """
        n = len(vectors)
        if len(rows) <= max(self.exact_limit, self.shortlist):
            return vectors[rows] @ query if len(rows) * 4 < n else (vectors @ query)[rows]
        candidate_bits = bits if len(rows) == n else bits[rows]
        distance = hamming(candidate_bits, sign_bits(query))
        short = np.argpartition(distance, self.shortlist)[: self.shortlist]
        similarity = np.full(len(rows), np.nan, dtype=np.float32)
        similarity[short] = vectors[rows[short]] @ query
        return similarity

    def _caption_mask(
        self, n: int, filters: Filters, explicit: Explicit, tenants: Collection[str] | None
    ) -> np.ndarray:
        mask = np.ones(n, dtype=bool)

        def only(column: str, values: Collection[str] | None) -> None:
            nonlocal mask
            if values is not None:
                mask &= self._member(column, values)[self._columns[column].data[:n]]

        only("tenant", tenants)
        only("class_name", filters.classes)
        only("color", filters.colors)
        only("type", filters.types)
        only("direction", filters.directions)
        only("camera_id", explicit.cameras)
        only("class_name", explicit.classes)
        only("type", explicit.types)
        only("color", explicit.colors)
        for place in filters.places:
            anywhere = np.zeros(n, dtype=bool)
            for column, values in (
                ("camera_id", place.cameras),
                ("zone", place.zones),
                ("line", place.lines),
            ):
                if values:
                    anywhere |= self._member(column, values)[self._columns[column].data[:n]]
            mask &= anywhere
        return mask

    def _figure_columns(
        self, filters: Filters, n: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray, list[str | None]] | None:
        """What the query's numeric conditions read (views of the first `n` docs' figures, and
        what their counts counted), or None when it has none. Under the mirror lock."""
        if not filters.figures:
            return None
        values = {name: grow.data[:n] for name, grow in self._doc_figures.items()}
        return values, self._doc_counted.data[:n], list(self._counted.values)

    @staticmethod
    def _figures_ok(
        filters: Filters,
        docs: np.ndarray,
        values: dict[str, np.ndarray],
        counted: np.ndarray,
        counted_values: list[str | None],
    ) -> np.ndarray:
        """Whether each of `docs` has figures that meet every numeric condition; a missing
        figure (NaN) never does."""
        keep = np.ones(len(docs), dtype=np.bool_)
        for condition in filters.figures:
            with np.errstate(invalid="ignore"):
                keep &= OPERATORS[condition.op](values[condition.figure][docs], condition.value)
            if condition.figure == "count":
                wanted = [
                    code
                    for code, what in enumerate(counted_values)
                    if counts_any(what, condition.classes)
                ]
                keep &= np.isin(counted[docs], wanted)
        return keep

    def _member(self, column: str, values: Collection[str]) -> np.ndarray:
        """A lookup table: True at the codes of `values` (one gather instead of np.isin)."""
        table = np.zeros(len(self._codes[column].values), dtype=bool)
        table[self._codes[column].wanted(values)] = True
        return table

    def _keyword_ranks(self, keywords: list[str], rows: np.ndarray, as_of: int) -> np.ndarray:
        """Rank (0 = best) of each candidate caption by FTS5 bm25; -1 where no word occurs."""
        ranks = np.full(len(rows), -1, dtype=np.int64)
        terms = [t for k in keywords for t in FTS_WORD.findall(k.lower())]
        # Words in a large share of all captions ("long", "time") tell little and cost a
        # bm25 sort over all their captions: the similarity ranking covers them.
        terms = [t for t in dict.fromkeys(terms) if self._doc_frequency(t) <= self._common()]
        if not terms or not len(rows):
            return ranks
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        # The best KEYWORD_LIMIT captions: a word in thousands of captions ranks little and
        # its hits beyond those add nothing to the fused score.
        found = (
            self._db()
            .execute(
                "SELECT rowid FROM captions_fts WHERE captions_fts MATCH ? AND rowid <= ? "
                "ORDER BY bm25(captions_fts) LIMIT ?",
                (match, as_of, KEYWORD_LIMIT),
            )
            .fetchall()
        )
        with self._mirror_lock:
            found_rows = np.array(
                [self._caption_row.get(int(caption_id), -1) for (caption_id,) in found],
                dtype=np.int64,
            )
        if not len(found_rows):
            return ranks
        positions = np.searchsorted(rows, found_rows)
        positions = np.clip(positions, 0, len(rows) - 1)
        inside = rows[positions] == found_rows
        positions = positions[inside]
        ranks[positions] = np.arange(len(positions))
        return ranks

    def _common(self) -> int:
        return max(COMMON_MIN, int(self._n_captions * COMMON_SHARE))

    def _doc_frequency(self, term: str) -> int:
        """Captions containing `term` (after stemming), cached until the index grows 10 %."""
        n = self._n_captions
        cached = self._df_cache.get(term)
        if cached is not None and cached[1] * 1.1 >= n:
            return cached[0]
        count = int(
            self._db()
            .execute("SELECT count(*) FROM captions_fts WHERE captions_fts MATCH ?", (f'"{term}"',))
            .fetchone()[0]
        )
        if len(self._df_cache) > 10_000:
            self._df_cache.clear()
        self._df_cache[term] = (count, n)
        return count

    def _facets(self, counts: np.ndarray, columns: dict[str, np.ndarray]) -> dict[str, list[Facet]]:
        out: dict[str, list[Facet]] = {}
        # cached per caption count; the caller has just refreshed
        names = self.names(refresh=False).cameras if counts.any() else {}
        # Only the captions with events: a query's few hundred, not all the captions.
        held = np.flatnonzero(counts)
        weights = counts[held]
        for column in FACET_COLUMNS:
            values = self._codes[column].values
            per_code = np.bincount(columns[column][held], weights=weights, minlength=len(values))
            items = []
            for code in np.flatnonzero(per_code).tolist():
                value = values[code]
                if value is None:
                    continue
                label = names.get(value, value) if column == "camera_id" else value
                items.append(Facet(value, label, int(per_code[code])))
            items.sort(key=lambda f: (-f.count, f.value))
            out[column] = items
        return out

    def _event_ids(self, docs: list[int]) -> dict[int, str]:
        if not docs:
            return {}
        marks = ",".join("?" * len(docs))
        return {
            int(d): str(e)
            for d, e in self._db().execute(
                f"SELECT doc, event_id FROM docs WHERE doc IN ({marks})", docs
            )
        }


# ---------------------------------------------------------------------- helpers


def _stored_figures(event: Event) -> tuple[float | None, float | None, float | None, str | None]:
    """The event's figures as the docs table holds them (NULL for a missing one)."""
    count, speed, duration, counted = event_figures(event)

    def stored(value: float) -> float | None:
        return None if value != value else value  # NaN → NULL

    return stored(count), stored(speed), stored(duration), counted


def _newer(new: Event, old: Event) -> bool:
    if (new.state is EventState.ENDED) != (old.state is EventState.ENDED):
        return new.state is EventState.ENDED
    return new.updated_ms >= old.updated_ms


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _max_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


class _Timer:
    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._now()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self._last = now
