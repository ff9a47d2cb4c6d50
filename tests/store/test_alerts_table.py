"""Alert rules and fired alerts in the store: rule rows, idempotent alert inserts, delivery
updates, keyset paging, filters and tenant scoping."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.store.conftest import BASE_MS
from vigil.alerts.config import RuleConfig
from vigil.domain.events import Event, uuid7
from vigil.store import EventStore, QueryError
from vigil.store import alerts as rows
from vigil.store.alerts import AlertQuery, StoredAlert
from vigil.store.events import get_many


def alert(fired_ms: int, *, tenant: str = "default", rule_id: str = "r", camera_id: str = "cam-a",
          status: str = "pending", event_id: str | None = None) -> StoredAlert:
    return StoredAlert(
        id=uuid7(fired_ms), tenant=tenant, rule_id=rule_id, rule_name=rule_id.upper(),
        event_id=event_id or uuid7(fired_ms), camera_id=camera_id, event_type="line.crossing",
        fired_ms=fired_ms, match_count=None, status=status,
    )


def test_rules_are_stored_replaced_scoped_and_deleted(store: EventStore) -> None:
    engine = store.engine
    first = RuleConfig(id="night", name="Night", classes=["person"])
    rows.put_rule(engine, first)
    rows.put_rule(engine, RuleConfig(id="dock", tenant="harbour"))
    created = rows.get_rule(engine, "night", None)
    assert created is not None and created.rule == first and created.origin == "api"
    rows.put_rule(engine, first.model_copy(update={"name": "Nights"}))
    replaced = rows.get_rule(engine, "night", None)
    assert replaced is not None and replaced.rule.name == "Nights"
    assert replaced.created_ms == created.created_ms
    assert [s.rule.id for s in rows.list_rules(engine, ["harbour"])] == ["dock"]
    assert rows.get_rule(engine, "night", ["harbour"]) is None
    assert rows.delete_rule(engine, "night") and not rows.delete_rule(engine, "night")
    assert [s.rule.id for s in rows.list_rules(engine, None)] == ["dock"]


def test_an_alert_is_stored_once_per_dedup_key(store: EventStore) -> None:
    engine = store.engine
    assert rows.insert_alert(engine, alert(BASE_MS), "r/e1")
    assert not rows.insert_alert(engine, alert(BASE_MS + 1), "r/e1")
    assert len(rows.query_alerts(engine, AlertQuery()).items) == 1


def test_delivery_updates_replace_the_outcome(store: EventStore) -> None:
    engine = store.engine
    first = alert(BASE_MS)
    rows.insert_alert(engine, first, "k")
    outcomes = {"ops": {"type": "webhook", "status": "failed", "attempts": 2,
                        "last_error": "HTTP 400: no", "delivered_ms": None, "history": []}}
    rows.update_delivery(engine, first.id, status="failed", attempts=2,
                         last_error="HTTP 400: no", outcomes=outcomes)
    got = rows.get_alert(engine, first.id, None)
    assert got is not None
    assert (got.status, got.attempts, got.last_error, got.outcomes) == (
        "failed", 2, "HTTP 400: no", outcomes)
    assert rows.get_alert(engine, first.id, ["harbour"]) is None


def test_paging_newest_first_with_filters_and_tenant_scope(store: EventStore) -> None:
    engine = store.engine
    for i in range(7):
        rows.insert_alert(engine, alert(BASE_MS + i * 1000, camera_id="cam-b" if i % 2 else
                                        "cam-a", status="delivered" if i < 5 else "failed"),
                          f"k{i}")
    rows.insert_alert(engine, alert(BASE_MS + 500, tenant="harbour", rule_id="dock"), "h")
    page = rows.query_alerts(engine, AlertQuery(tenants=["default"], limit=3))
    times = [item.fired_ms - BASE_MS for item in page.items]
    assert times == [6000, 5000, 4000] and page.next_cursor
    rest = rows.query_alerts(engine, AlertQuery(tenants=["default"], limit=10,
                                                cursor=page.next_cursor))
    assert [item.fired_ms - BASE_MS for item in rest.items] == [3000, 2000, 1000, 0]
    assert rest.next_cursor is None

    def ids(**filters: object) -> list[int]:
        found = rows.query_alerts(engine, AlertQuery(**filters))
        return [item.fired_ms - BASE_MS for item in found.items]

    assert ids(camera_ids=["cam-b"]) == [5000, 3000, 1000]
    assert ids(statuses=["failed"]) == [6000, 5000]
    assert ids(rule_ids=["dock"]) == [500]
    assert ids(tenants=["harbour"]) == [500]
    assert ids(start_ms=BASE_MS + 1000, end_ms=BASE_MS + 3000) == [2000, 1000]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (lambda: AlertQuery(limit=0), "limit"),
        (lambda: AlertQuery(statuses=["lost"]), "status"),
        (lambda: AlertQuery(start_ms=2, end_ms=1), "start"),
        (lambda: AlertQuery(cursor="nonsense!"), "cursor"),
    ],
)
def test_bad_queries_name_the_parameter(query: Callable[[], AlertQuery], param: str) -> None:
    with pytest.raises(QueryError) as caught:
        query()
    assert caught.value.param == param


def test_events_of_a_page_in_one_query(store: EventStore,
                                       make_event: Callable[..., Event]) -> None:
    mine, theirs = make_event(), make_event(start_ms=BASE_MS + 1, tenant="harbour")
    store.upsert_events([mine, theirs])
    found = get_many(store.engine, [mine.id, theirs.id, uuid7()], ["default"])
    assert list(found) == [mine.id] and found[mine.id] == mine
