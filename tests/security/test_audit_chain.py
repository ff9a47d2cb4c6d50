"""The hash-chained audit log: what is recorded, verification, tampering, the CLI, auditors."""

from __future__ import annotations

import json
import logging
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.databases import database_url
from tests.security.conftest import World
from tests.server import vigil_command
from vigil.auth.tables import audit_log
from vigil.privacy.audit import GENESIS, AuditLog, canonical, record, record_hash, set_default
from vigil.store import EventStore


def fill(log: AuditLog, count: int = 5) -> None:
    for i in range(count):
        log.append("event.search", actor=f"user{i}", role="operator", tenant="alpha",
                   target="/api/events", purpose="", details={"camera": "gate", "i": i})


def test_each_record_holds_the_hash_of_the_previous_one(tmp_path: Path) -> None:
    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    log = AuditLog(store.engine)
    fill(log, 3)
    rows = log.query(tenants=None)[::-1]
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    for previous, current in pairwise(rows):
        assert current.prev_hash == previous.hash == record_hash(previous.as_dict())
    # The canonical form: sorted keys, no whitespace, every field but `hash`.
    form = json.loads(canonical(rows[1].as_dict()))
    assert "hash" not in form and form["prev_hash"] == rows[0].hash
    assert canonical(rows[1].as_dict()).decode().startswith('{"action":"event.search","actor":')
    result = log.verify()
    assert result.ok and result.checked == 3 and result.head_seq == 3
    store.close()


def test_altering_a_record_is_found_at_that_record(tmp_path: Path) -> None:
    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    log = AuditLog(store.engine)
    fill(log, 6)
    with store.engine.begin() as connection:  # a DBA hides who searched
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 4)
                           .values(actor="someone-else"))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4 and "altered" in (result.problem or "")
    # Recomputing the record's own hash moves nothing: the next record still disagrees.
    with store.engine.begin() as connection:
        row = dict(connection.execute(sa.select(audit_log).where(audit_log.c.seq == 4))
                   .mappings().one())
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 4)
                           .values(hash=record_hash(row)))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4
    store.close()


def test_deleting_a_record_is_found_where_it_is_missing(tmp_path: Path) -> None:
    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    log = AuditLog(store.engine)
    fill(log, 6)
    head = log.head()
    with store.engine.begin() as connection:
        connection.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 3 and "missing" in (result.problem or "")
    # Renumbering to close the gap breaks the links instead.
    with store.engine.begin() as connection:
        for seq in (4, 5, 6):
            connection.execute(sa.update(audit_log).where(audit_log.c.seq == seq)
                               .values(seq=seq - 1))
    renumbered = log.verify()
    assert renumbered.first_bad_seq == 3 and "altered" in (renumbered.problem or "")
    # Cutting off the newest records shows only against an anchor kept elsewhere.
    fresh = EventStore(database_url(tmp_path, "b"))
    fresh.migrate()
    log2 = AuditLog(fresh.engine)
    fill(log2, 6)
    anchor = log2.head()
    with fresh.engine.begin() as connection:
        connection.execute(sa.delete(audit_log).where(audit_log.c.seq >= 5))
    assert log2.verify().ok
    cut = log2.verify(anchor)
    assert not cut.ok and cut.first_bad_seq == 5
    assert head[0] == 6
    store.close()
    fresh.close()


def test_verify_cli_proves_the_chain_or_names_the_bad_record(tmp_path: Path) -> None:
    url = database_url(tmp_path)
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": url,
                                                "media_dir": str(tmp_path / "media")}}))
    store = EventStore(url)
    store.migrate()
    log = AuditLog(store.engine)
    fill(log, 4)

    def verify(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*vigil_command(), "audit", "verify", "--config", str(config),
                               *extra], capture_output=True, text=True, timeout=120, check=False)

    ok = verify()
    assert ok.returncode == 0 and "intact: 4 records" in ok.stdout, ok.stderr
    seq, digest = log.head()
    assert f"head {seq}:{digest}" in ok.stdout
    with store.engine.begin() as connection:
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 2)
                           .values(purpose="made up later"))
    broken = verify()
    assert broken.returncode == 1 and "broken at record 2" in broken.stderr
    exported = subprocess.run([*vigil_command(), "audit", "export", "--config", str(config)],
                              capture_output=True, text=True, timeout=120, check=True)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    store.close()


def test_logins_searches_views_exports_and_changes_are_recorded(world: World) -> None:
    admin = world.session("alpha:admin")
    event = world.events["alpha"].id
    admin.get("/api/events", params={"camera": "alpha:gate"})
    admin.get(f"/api/events/{event}")
    admin.get(f"/api/events/{event}/snapshot.jpg")
    admin.get("/api/events", params={"format": "csv"})
    admin.put("/api/cameras/alpha:dock", json={"id": "alpha:dock", "tenant": "alpha",
                                               "url": "media/a.mp4", "analysis_fps": 2})
    user = admin.post("/api/users", json={"username": "alpha-new", "role": "viewer",
                                          "password": "new user password"})
    admin.patch(f"/api/users/{user.json()['id']}", json={"role": "operator"})
    world.client().post("/api/auth/login", json={"username": "alpha:admin", "password": "no"})
    items = world.client("alpha:auditor").get("/api/audit", params={"limit": 100}).json()["items"]
    actions = [(r["action"], r["outcome"]) for r in items]
    for expected in [("auth.login", "ok"), ("auth.login", "denied"), ("event.search", "allowed"),
                     ("event.view", "allowed"), ("media.view", "allowed"),
                     ("event.export", "allowed"), ("camera.change", "allowed"),
                     ("user.create", "ok"), ("user.update", "ok")]:
        assert expected in actions, expected
    search = next(r for r in items if r["action"] == "event.search")
    assert search["details"] == {"camera": "alpha:gate"} and search["tenant"] == "alpha"
    assert search["actor"] == "alpha:admin" and search["ip"] == "testclient"
    update = next(r for r in items if r["action"] == "user.update")
    assert update["details"] == {"before": {"role": "viewer"}, "after": {"role": "operator"}}
    verdict = world.client("alpha:auditor").get("/api/audit/verify").json()
    assert verdict["ok"] is True and verdict["head_seq"] >= len(items)


def test_auditors_browse_their_tenant_and_export_csv(world: World) -> None:
    world.client("bravo:operator").get("/api/events")
    world.client("alpha:operator").get("/api/events")
    alpha = world.client("alpha:auditor").get("/api/audit", params={"limit": 1000}).json()
    assert {r["tenant"] for r in alpha["items"]} == {"alpha"}
    dpo = world.client("dpo").get("/api/audit", params={"limit": 1000}).json()
    assert {"alpha", "bravo"} <= {r["tenant"] for r in dpo["items"]}
    page = world.client("dpo").get("/api/audit", params={"limit": 2}).json()
    older = world.client("dpo").get("/api/audit", params={"before": page["next_before"],
                                                           "limit": 2}).json()
    assert older["items"][0]["seq"] < page["items"][-1]["seq"]
    csv = world.client("alpha:auditor").get("/api/audit", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, *rows = csv.text.strip().splitlines()
    assert header.startswith("seq,time,actor,role,tenant,action")
    assert rows and all(",alpha," in row for row in rows)
    # Browsing and exporting are themselves recorded.
    last = world.client("dpo").get("/api/audit", params={"actor": "alpha:auditor (token"})
    assert last.status_code == 200
    actions = {r["action"] for r in world.client("alpha:auditor").get(
        "/api/audit", params={"limit": 1000}).json()["items"]}
    assert {"audit.view", "audit.export"} <= actions
    assert world.client("alpha:admin").get("/api/audit").status_code == 403


def test_other_code_records_through_the_simple_function(world: World) -> None:
    set_default(world.app.state.audit)
    written = record("search.semantic", actor="alpha:investigator", role="investigator",
                     tenant="alpha", target="query", purpose="case 5", details={"q": "red car"})
    assert written is not None and written.action == "search.semantic"
    second = record("search.semantic", actor="x", tenant="alpha")
    assert second is not None and second.prev_hash == written.hash != GENESIS
    assert world.app.state.audit.verify().ok




def test_a_refused_read_retried_by_a_page_is_audited_once(world: World) -> None:
    viewer = world.client("alpha:viewer")
    for _ in range(4):  # the live page of a viewer retrying the event stream every few seconds
        assert viewer.get("/api/events/stream").status_code == 403
    assert viewer.get("/api/events").status_code == 403  # another path: its own record
    items = world.client("alpha:auditor").get("/api/audit", params={"limit": 100}).json()["items"]
    denied = [(r["action"], r["target"]) for r in items
              if r["outcome"] == "denied" and r["actor"].startswith("alpha:viewer")]
    assert denied == [("event.search", "/api/events"), ("event.stream", "/api/events/stream")]


def test_concurrent_appends_share_commits_and_each_caller_gets_its_own_committed_record(
    tmp_path: Path,
) -> None:
    """Group commit (many API threads at once): every caller's record is stored, with its own
    seq, and the chain still verifies without gaps."""
    from concurrent.futures import ThreadPoolExecutor

    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    log = AuditLog(store.engine)

    def one(i: int) -> tuple[int, int]:
        made = log.append("event.search", actor=f"user{i}", tenant="alpha", details={"i": i})
        return i, made.seq

    with ThreadPoolExecutor(16) as pool:
        returned = list(pool.map(one, range(200)))
    stored = {row.seq: row for row in log.query(tenants=None, limit=1000)}
    assert len(stored) == 200 and sorted(stored) == list(range(1, 201))
    for i, seq in returned:  # what each caller got back is what the log holds for it
        assert stored[seq].details == {"i": i} and stored[seq].actor == f"user{i}"
    result = log.verify()
    assert result.ok and result.checked == 200
    store.close()


def test_two_api_processes_appending_at_once_keep_one_chain_without_alarming_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two API processes (two logs, each with its own writer) take turns at the chain's head
    (`Dialect.write_turn`): neither reads a head the other is about to extend, so no append
    fails on a taken seq and starts again (each retry cost a whole commit's wait: 35 % of
    commits were retried under `vigil bench api`). Every caller's record is stored once, the
    chain verifies, and nothing in the logs reads like a fault."""
    from concurrent.futures import ThreadPoolExecutor

    store = EventStore(database_url(tmp_path, "a"))
    store.migrate()
    logs = [AuditLog(store.engine), AuditLog(store.engine)]
    refused: list[BaseException] = []
    sa.event.listen(
        store.engine, "handle_error", lambda context: refused.append(context.original_exception)
    )

    def one(i: int) -> tuple[int, int]:
        made = logs[i % 2].append("event.search", actor=f"user{i}", details={"i": i})
        return i, made.seq

    with caplog.at_level(logging.WARNING), ThreadPoolExecutor(8) as pool:
        returned = list(pool.map(one, range(120)))
    stored = {row.seq: row for row in logs[0].query(tenants=None, limit=1000)}
    assert sorted(stored) == list(range(1, 121))
    for i, seq in returned:
        assert stored[seq].details == {"i": i}
    assert logs[1].verify().ok
    assert refused == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    store.close()
