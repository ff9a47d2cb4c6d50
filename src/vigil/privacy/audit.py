"""The append-only, hash-chained audit log: who did what, in which tenant, when, and why.

Record format (one row of `audit_log`): seq (1, 2, 3 … without gaps), ts_ms, actor, role,
tenant, action, target, purpose, outcome, ip, details (JSON object), prev_hash, hash.

The canonical form of a record is the UTF-8 JSON object of every field but `hash`, keys sorted,
no whitespace (`canonical()`). `hash` is the SHA-256 (hex) of that form; `prev_hash` is the hash
of the record before it, or 64 zeros for record 1. Changing any stored field breaks the record's
own hash, and recomputing that hash breaks the next record's `prev_hash`; removing a record
leaves a gap in `seq`. `vigil audit verify` walks the chain and names the first record that does
not hold. Removing the newest records is only visible against an anchor (a head seq and hash
kept elsewhere: the server logs the head at each retention run, and `verify --expect` checks it).

Other code records an action with `audit(request, "search", target=..., details=...)` in a
route, or `record("retention.run", actor="system", ...)` outside a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from vigil.auth.tables import audit_log
from vigil.domain.frames import now_ms
from vigil.store.dialects import dialect_of

log = logging.getLogger(__name__)

GENESIS = "0" * 64
AUDIT_TURN = 0x41554454  # "AUDT": processes append to the chain one at a time (`write_turn`)
CANONICAL_FIELDS = (
    "seq", "ts_ms", "actor", "role", "tenant", "action", "target", "purpose", "outcome", "ip",
    "details", "prev_hash",
)
_LIMITS = {"actor": 128, "role": 32, "tenant": 64, "action": 64, "target": 512,
           "purpose": 512, "outcome": 16, "ip": 64}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    ts_ms: int
    actor: str
    role: str
    tenant: str | None
    action: str
    target: str
    purpose: str
    outcome: str
    ip: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(
        {name: record[name] for name in CANONICAL_FIELDS},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
    ).encode("utf-8")


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def _clean_details(details: dict[str, Any] | None) -> dict[str, Any]:
    # Through JSON once, so what is hashed is exactly what the database gives back.
    return json.loads(json.dumps(details or {}, default=str, allow_nan=False))


class _Pending:
    """One record waiting for the group commit that writes it (`AuditLog.append`)."""

    __slots__ = ("error", "fields", "record")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.record: AuditRecord | None = None
        self.error: BaseException | None = None


class AuditLog:
    """Appends are group-committed: callers that arrive while a write is in progress queue
    up, and the next writer chains and commits all of them in one transaction. Each caller
    still returns only after its own record is committed (a request is answered after its
    audit record is durable), but 50 concurrent requests share a few commits instead of
    queueing for 50 (docs/benchmarks.md, `vigil bench api`)."""

    # Records per transaction at most, so one commit never holds the chain for long.
    MAX_BATCH = 500

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock()  # one writer at a time in this process
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []

    def append(
        self,
        action: str,
        *,
        actor: str,
        role: str = "",
        tenant: str | None = None,
        target: str = "",
        purpose: str = "",
        outcome: str = "ok",
        ip: str = "",
        details: dict[str, Any] | None = None,
        ts_ms: int | None = None,
    ) -> AuditRecord:
        fields: dict[str, Any] = {
            "ts_ms": now_ms() if ts_ms is None else ts_ms, "actor": actor, "role": role,
            "tenant": tenant, "action": action, "target": target, "purpose": purpose or "",
            "outcome": outcome, "ip": ip, "details": _clean_details(details),
        }
        for name, limit in _LIMITS.items():
            if isinstance(fields[name], str):
                fields[name] = fields[name][:limit]
        pending = _Pending(fields)
        with self._queue_lock:
            self._queue.append(pending)
        while pending.record is None and pending.error is None:
            with self._write_lock:
                # The writer before us may have committed our record with its batch.
                if pending.record is None and pending.error is None:
                    with self._queue_lock:
                        batch = self._queue[: self.MAX_BATCH]
                        del self._queue[: self.MAX_BATCH]
                    self._commit(batch)
        if pending.error is not None:
            raise pending.error
        assert pending.record is not None
        return pending.record

    def _commit(self, batch: list[_Pending]) -> None:
        """Chain and write `batch` in one transaction; every caller in it gets its record, or
        the error if the transaction could not be written."""
        for attempt in range(20):
            try:
                records = self._append([pending.fields for pending in batch])
            except sa.exc.IntegrityError as error:  # a process without the turn (an older
                # version during a rolling upgrade) took the same seq: retry
                if attempt == 19:
                    for pending in batch:
                        pending.error = error
                    return
            except BaseException as error:  # every waiter must see why, not wait forever
                for pending in batch:
                    pending.error = error
                if not isinstance(error, Exception):
                    raise  # cancelled or interrupted: the writer itself stops too
                return
            else:
                for pending, record in zip(batch, records, strict=True):
                    pending.record = record
                return

    def _append(self, batch: list[dict[str, Any]]) -> list[AuditRecord]:
        with self.engine.begin() as c:
            dialect_of(c).write_turn(c, AUDIT_TURN)
            last = c.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc())
                .limit(1)
            ).first()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            rows = []
            for fields in batch:
                record = {**fields, "seq": seq, "prev_hash": prev}
                record["hash"] = prev = record_hash(record)
                rows.append(record)
                seq += 1
            # RETURNING makes SQLAlchemy send the rows as one multi-row INSERT ("insertmanyvalues")
            # from a statement compiled once and cached. Plain executemany would be a pipeline
            # on psycopg, and a pipeline aborted by another process taking the same seq
            # (retried above) logs a warning an operator would take for a fault; a literal
            # multi-row `.values(rows)` is compiled anew for every batch.
            c.execute(sa.insert(audit_log).returning(audit_log.c.seq), rows).all()
        return [AuditRecord(**row) for row in rows]

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as c:
            last = c.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc())
                .limit(1)
            ).first()
        return (last[0], last[1]) if last else (0, GENESIS)

    def _rows(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            with self.engine.connect() as c:
                rows = c.execute(
                    sa.select(audit_log).where(audit_log.c.seq > after)
                    .order_by(audit_log.c.seq).limit(batch)
                ).mappings().all()
            if not rows:
                return
            for row in rows:
                yield dict(row)
            after = rows[-1]["seq"]

    def verify(self, expect: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the whole chain; the first record that does not hold is reported."""
        prev_hash, expected_seq, checked = GENESIS, 1, 0
        hashes: dict[int, str] = {}

        def bad(seq: int, problem: str) -> VerifyResult:
            return VerifyResult(False, checked, expected_seq - 1, prev_hash, seq, problem)

        for row in self._rows():
            seq = row["seq"]
            if seq != expected_seq:
                missing = f"{expected_seq}" if seq == expected_seq + 1 else (
                    f"{expected_seq}-{seq - 1}")
                return bad(expected_seq, f"record {missing} is missing (next stored is {seq})")
            row["details"] = row["details"] or {}
            if record_hash(row) != row["hash"]:
                return bad(seq, f"record {seq} was altered: its content does not match its hash")
            if row["prev_hash"] != prev_hash:
                return bad(
                    seq - 1,
                    f"record {seq - 1} was altered or replaced: record {seq} holds a different "
                    "hash for it",
                )
            prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
            if expect is not None and seq == expect[0]:
                hashes[seq] = row["hash"]
        head_seq = expected_seq - 1
        if expect is not None:
            anchor_seq, anchor_hash = expect
            if head_seq < anchor_seq:
                return VerifyResult(
                    False, checked, head_seq, prev_hash, head_seq + 1,
                    f"records {head_seq + 1}-{anchor_seq} are missing (the anchor names "
                    f"record {anchor_seq})",
                )
            if hashes.get(anchor_seq) != anchor_hash:
                return VerifyResult(
                    False, checked, head_seq, prev_hash, anchor_seq,
                    f"record {anchor_seq} differs from the anchor",
                )
        return VerifyResult(True, checked, head_seq, prev_hash)

    def query(
        self,
        *,
        tenants: list[str] | None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Newest first. `tenants=None`: every record (system auditors)."""
        c = audit_log.c
        where: list[Any] = []
        if tenants is not None:
            where.append(c.tenant.in_(tenants))
        if start_ms is not None:
            where.append(c.ts_ms >= start_ms)
        if end_ms is not None:
            where.append(c.ts_ms < end_ms)
        if actor:
            where.append(c.actor == actor)
        if action:
            where.append(c.action.startswith(action, autoescape=True))
        if before_seq is not None:
            where.append(c.seq < before_seq)
        statement = sa.select(audit_log).where(*where).order_by(c.seq.desc()).limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [AuditRecord(**{**row, "details": row["details"] or {}}) for row in rows]


# --- the simple interface for the rest of Vigil ----------------------------------------------

_default: list[AuditLog] = []


def set_default(audit: AuditLog | None) -> None:
    """The log `record()` writes to (set by the app at start)."""
    _default.clear()
    if audit is not None:
        _default.append(audit)


def record(
    action: str,
    *,
    actor: str = "system",
    role: str = "system",
    tenant: str | None = None,
    target: str = "",
    purpose: str = "",
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditRecord | None:
    """Append to the process's audit log, outside a request (jobs, the CLI)."""
    if not _default:
        log.warning("audit: no audit log configured; %s by %s not recorded", action, actor)
        return None
    return _default[0].append(
        action, actor=actor, role=role, tenant=tenant, target=target, purpose=purpose,
        outcome=outcome, details=details,
    )


def audit(
    request: Any,
    action: str,
    *,
    target: str = "",
    tenant: str | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditRecord | None:
    """Append a record for the caller of a FastAPI/Starlette request: actor, role, tenant,
    client address and stated purpose come from the request."""
    state = request.app.state
    audit_log_: AuditLog | None = getattr(state, "audit", None)
    if audit_log_ is None:
        return None
    principal = getattr(request.state, "principal", None)
    actor = getattr(principal, "actor", "anonymous")
    role = getattr(principal, "role", None)
    purpose = getattr(request.state, "purpose", None) or getattr(principal, "purpose", None)
    client = request.client.host if request.client else ""
    return audit_log_.append(
        action,
        actor=actor,
        role=str(role.value if role is not None else ("internal" if principal else "")),
        tenant=tenant if tenant is not None else getattr(principal, "tenant", None),
        target=target,
        purpose=purpose or "",
        outcome=outcome,
        ip=client,
        details=details,
    )
