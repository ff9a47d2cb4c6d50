"""The alert service: evaluates rules on stored events, records what fires, hands deliveries to
the dispatcher, and manages the rules added through the API.

It follows the `committed` bus, on which the store sink republishes each event once it is
stored, so an alert never names an event that /api/events/{id} cannot serve yet.

In a cluster, count windows, cool-downs and "once per event" only hold if one evaluator sees
every event, so the API nodes take turns: the node holding the `alerts` role (a lease in NATS,
`vigil.cluster.role`) follows the shared durable consumer and acknowledges what it evaluated;
the others stand by. A new holder (and a single node, at start) begins with the cool-downs the
stored alerts imply and the count windows the stored events imply (what was counted since each
rule last fired); a holder re-reads the rules every few seconds, since they may be changed
through any node's API.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError

from vigil.alerts import stored_actions
from vigil.alerts.actions import Action, Attempt, build_actions
from vigil.alerts.alert import Alert, Links
from vigil.alerts.config import AlertsConfig, RuleConfig, unknown_actions
from vigil.alerts.delivery import MAX_BACKOFF_S, DeliveryReport, Dispatcher, attempt_once
from vigil.alerts.history import rule_events
from vigil.alerts.metrics import AlertCounters
from vigil.alerts.rules import Firing, RuleEngine
from vigil.alerts.stored_actions import StoredAction
from vigil.bus.base import Bus, Delivered, Subscription
from vigil.config import VigilConfig
from vigil.domain.alert_types import AlertTypes, counts_as_alert
from vigil.domain.events import Event, EventMessage, EventState, ObjectInfo, uuid7
from vigil.domain.frames import now_ms
from vigil.store import acks as ack_rows
from vigil.store import alerting as alerting_rows
from vigil.store import alerts as alert_rows
from vigil.store.alerts import AlertStatus, StoredAlert, StoredRule
from vigil.store.media import InvalidMediaKey, MediaStore
from vigil.store.store import EventStore

if TYPE_CHECKING:
    from vigil.cluster.role import RoleLease

log = logging.getLogger(__name__)

POLL_S = 0.1
RULES_REFRESH_S = 2.0  # in a cluster: rules changed through another node's API
HISTORY = 10  # attempts kept per action in an alert's outcomes
# Stored events read per count rule to rebuild its windows when taking over (newest first).
RESTORE_LIMIT = 50_000
ESCALATION_CHECK_S = 5.0
# Alerts that waited this much longer than their escalation delay (Vigil was down, the rule's
# escalation was added later) are not escalated any more: the news is stale.
ESCALATION_HORIZON_MS = 24 * 3600 * 1000
# A locked or unreachable database may recover; anything else will not.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError)
T = TypeVar("T")


class RuleError(Exception):
    """A rule change that cannot be made; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def public_url(config: VigilConfig) -> str:
    """Base URL for links in notifications: `alerts.public_url`, else the server's address."""
    if config.alerts.public_url:
        return config.alerts.public_url
    host = config.server.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.server.port}"


def _visible(tenant: str, tenants: Collection[str] | None) -> bool:
    return tenants is None or tenant in tenants


def sample_event(rule: RuleConfig, ts_ms: int) -> Event:
    """A made-up event that fits the rule, for test alerts; marked `attributes.test`."""
    module = rule.module or (rule.type.split(".")[0] if rule.type else "test")
    return Event(
        id=uuid7(ts_ms),
        tenant=rule.tenant,
        camera_id=rule.cameras[0] if rule.cameras else "test-camera",
        camera_name="Test camera",
        module=module,
        type=rule.type or f"{module}.test",
        state=EventState.ENDED,
        object=ObjectInfo(
            class_name=rule.classes[0] if rule.classes else "person",
            class_id=0,
            score=max(rule.min_score or 0.0, 0.9),
        ),
        zone=rule.zone,
        line=rule.line,
        direction=rule.direction,
        dwell_s=rule.min_dwell_s,
        start_ms=ts_ms,
        end_ms=ts_ms,
        updated_ms=ts_ms,
        attributes={"test": True},
    )


def _pending(kind: str) -> dict[str, Any]:
    """An escalation action's outcome before its first attempt."""
    return {"type": kind, "status": "pending", "attempts": 0, "detail": None, "history": []}


def _overall(outcomes: Mapping[str, Mapping[str, Any]]) -> AlertStatus:
    statuses = {entry["status"] for entry in outcomes.values()}
    if not statuses:
        return "recorded"
    if statuses & {"pending", "retrying"}:
        return "pending"
    if statuses == {"delivered"}:
        return "delivered"
    return "failed" if statuses == {"failed"} else "partial"


class AlertService:
    def __init__(
        self,
        config: AlertsConfig,
        store: EventStore,
        *,
        public_url: str,
        media: MediaStore | None = None,
        clock: Callable[[], int] = now_ms,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.links = Links(public_url.rstrip("/"))
        self.media = media
        self.actions = (
            dict(actions)
            if actions is not None
            else build_actions(config.actions, self.links, self._snapshot)
        )
        # Actions added through the API (vigil.alerts.stored_actions): name → tenant.
        self.action_tenants: dict[str, str] = {}
        self._clock = clock
        self._engine = RuleEngine(config.rules, clock=clock)
        self._rules_lock = threading.Lock()
        self._alert_types: AlertTypes = {}  # per camera, read with the rules
        self._dispatcher = Dispatcher(
            self.actions, self._on_report, queue_size=config.queue_size, clock=clock
        )
        self._deliveries: dict[str, dict[str, dict[str, Any]]] = {}  # alert → action → outcome
        self._deliveries_lock = threading.Lock()
        self._bus: Bus | None = None
        self._role: RoleLease | None = None
        self._subscription: Subscription | None = None
        self._rules_read = 0.0
        self._escalated_at = 0.0
        # Escalations are sent here, not by the evaluating thread, which must not wait on a
        # slow pager or on the backoff between its retries.
        self._escalator = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alert-escalate")
        self.counters = AlertCounters()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # Life cycle

    def start(self, bus: Bus, *, role: RoleLease | None = None) -> None:
        """Load the rules and follow `bus` (the committed bus) until `stop()`; with `role` (an
        API node of a cluster), only while this node holds it."""
        if self._thread is not None:
            raise RuntimeError("the alert service is already started")
        self.reload()
        self._dispatcher.start()
        self._bus, self._role = bus, role
        if role is None:
            # A restart goes on where the last run stopped, as a node taking over does.
            self._guarded("restoring cool-downs and counts", self._restore_memory)
            self._subscription = bus.subscribe("alerts", lossless=True)
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()

    @property
    def evaluating(self) -> bool:
        """Whether this node evaluates rules now (always, outside a cluster)."""
        return self._subscription is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Evaluate what was already received, then give deliveries up to `timeout` seconds."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout)
        if not self._dispatcher.stop(timeout):
            log.warning("alert deliveries were still in progress at shutdown")
        self._escalator.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            subscription = self._follow()
            if subscription is None:
                self._stopping.wait(POLL_S)
                continue
            message = subscription.get(timeout=POLL_S)
            if message is not None:
                self._handle_safely(subscription, message)
            if time.monotonic() - self._escalated_at > ESCALATION_CHECK_S:
                self._escalated_at = time.monotonic()
                self._guarded("escalating unacknowledged alerts", self.escalate_due)
        subscription = self._subscription
        if subscription is None:
            return
        subscription.close()
        # The sink stops first and its last events are already queued here: evaluate them too.
        while (message := subscription.get(timeout=0.05)) is not None:
            self._handle_safely(subscription, message)

    def _follow(self) -> Subscription | None:
        """What to read from now. In a cluster: the shared consumer, taken up when this node
        gains the role and closed when it loses it (what it left unacknowledged goes to the
        next holder)."""
        role, bus = self._role, self._bus
        if role is None or bus is None:
            return self._subscription
        if role.held and self._subscription is None:
            # The store or NATS may be unreachable just now: the next round tries again.
            self._subscription = self._guarded(
                "taking up alert evaluation", lambda: self._take_up(bus)
            )
        elif not role.held and self._subscription is not None:
            self._subscription.close()
            self._subscription = None
            log.info("this node no longer evaluates alert rules")
        elif (
            self._subscription is not None and time.monotonic() - self._rules_read > RULES_REFRESH_S
        ):
            self._guarded("re-reading the rules", self.reload)
        return self._subscription

    def _take_up(self, bus: Bus) -> Subscription:
        self.reload()
        self._restore_memory()
        subscription = bus.subscribe("alerts", lossless=True)
        log.info("this node now evaluates alert rules")
        return subscription

    def _restore_memory(self) -> None:
        self._restore_cooldowns()
        self._restore_counts()

    def _restore_cooldowns(self) -> None:
        """Cool-downs as the previous evaluator left them: from the alerts it stored."""
        rules = self._engine.rules
        longest = max((rule.cooldown_s for rule in rules), default=0.0)
        if longest <= 0:
            return
        since = self._clock() - round(longest * 1000)
        fired = alert_rows.last_fired(self.store.engine, since_ms=since)
        with self._rules_lock:
            self._engine.restore_cooldowns(fired)

    def _restore_counts(self) -> None:
        """Count windows as the previous evaluator left them: the stored events it counted
        since each count rule last fired, camera by camera."""
        now = self._clock()
        rules = [rule for rule in self._engine.rules if rule.count is not None and rule.enabled]
        if not rules:
            return
        windows_s = {rule.id: rule.count.window_s for rule in rules if rule.count is not None}
        earliest = now - round(max(windows_s.values()) * 1000)
        fired: dict[str, dict[str, int]] = {}
        for rule_id, camera_id, fired_ms in alert_rows.last_fired(
            self.store.engine, since_ms=earliest
        ):
            fired.setdefault(rule_id, {})[camera_id] = fired_ms
        for rule in rules:
            since = now - round(windows_s[rule.id] * 1000)
            stored = rule_events(self.store.engine, rule, since_ms=since, limit=RESTORE_LIMIT)
            if len(stored) == RESTORE_LIMIT:
                log.warning(
                    "rule %s: count windows restored from the newest %d events only",
                    rule.id,
                    RESTORE_LIMIT,
                )
            with self._rules_lock:
                self._engine.restore_counts(
                    rule.id, stored, since_ms=since, fired_ms=fired.get(rule.id, {})
                )

    @staticmethod
    def _guarded(what: str, work: Callable[[], T]) -> T | None:
        try:
            return work()
        except Exception:
            log.exception("alert service: %s failed; trying again later", what)
            return None

    def _handle_safely(self, subscription: Subscription, message: Delivered) -> None:
        try:
            self.handle(message)
        except Exception:
            log.exception("alert evaluation failed for a message; going on with the next")
        # Evaluated (or never evaluable): a bus that redelivers the unacknowledged must not
        # bring it back, nor stop delivering once too many wait for an acknowledgement.
        subscription.ack([message])

    # Evaluation

    def handle(self, message: object) -> list[Alert]:
        """Evaluate one bus message; store and dispatch what fires. Returns the new alerts."""
        if not isinstance(message, EventMessage):
            return []  # statistics points and the like are not events
        with self._rules_lock:
            firings = self._engine.evaluate(message)
            settings = self._alert_types
        event = message.event
        if counts_as_alert(settings, event.camera_id, event.module, event.type) is False:
            return []  # this camera just records events of this type
        return [alert for firing in firings if (alert := self._fire(firing)) is not None]

    def _fire(self, firing: Firing) -> Alert | None:
        rule, event = firing.rule, firing.event
        alert = Alert(
            id=uuid7(firing.fired_ms),
            rule_id=rule.id,
            rule_name=rule.title,
            event=event,
            fired_ms=firing.fired_ms,
            count=firing.count,
        )
        names = [name for name in rule.actions if name in self.actions]
        outcomes: dict[str, dict[str, Any]] = {
            name: {
                "type": self.actions[name].kind,
                "status": "pending",
                "attempts": 0,
                "last_error": None,
                "delivered_ms": None,
                "history": [],
            }
            for name in names
        }
        dedup_key = f"{rule.id}/{event.id}"
        if rule.repeat_on_update:
            dedup_key += f"/{firing.phase.value}/{event.updated_ms}"
        row = StoredAlert(
            id=alert.id,
            tenant=event.tenant,
            rule_id=rule.id,
            rule_name=alert.rule_name,
            event_id=event.id,
            camera_id=event.camera_id,
            event_type=event.type,
            fired_ms=alert.fired_ms,
            match_count=alert.count,
            status=_overall(outcomes),
            outcomes=outcomes,
        )
        try:
            if not self._retrying(
                lambda: alert_rows.insert_alert(self.store.engine, row, dedup_key)
            ):
                return None  # fired before (the bus delivered the message again)
        except Exception:
            # People must still be told; the record is what is lost, and the log says so.
            log.exception(
                "alert %s (rule %s, event %s) could not be stored", alert.id, rule.id, event.id
            )
        log.info(
            "alert %s: rule %s fired for event %s on %s",
            alert.id,
            rule.id,
            event.id,
            event.camera_id,
        )
        self.counters.add_fired(event.tenant)
        if names:
            with self._deliveries_lock:
                self._deliveries[alert.id] = outcomes
            self._dispatcher.submit(alert, names)
        return alert

    def _on_report(self, alert: Alert, report: DeliveryReport) -> None:
        if report.sent:
            self.counters.add_attempt(report.action, report.status, alert.event.tenant)
        else:
            self.counters.add_unsent(report.action, alert.event.tenant)
        with self._deliveries_lock:
            outcomes = self._deliveries.get(alert.id)
            if outcomes is None:
                return
            entry = outcomes[report.action]
            entry["status"] = report.status
            entry["attempts"] = report.attempts
            if report.status == "delivered":
                entry["delivered_ms"] = report.at_ms
            else:
                entry["last_error"] = report.detail
            if report.sent:
                entry["history"] = [
                    *entry["history"],
                    {
                        "attempt": report.attempts,
                        "at_ms": report.at_ms,
                        "ok": report.status == "delivered",
                        "detail": report.detail,
                    },
                ][-HISTORY:]
            status = _overall(outcomes)
            if status != "pending":
                del self._deliveries[alert.id]
            failures = [
                e["last_error"]
                for e in outcomes.values()
                if e["status"] != "delivered" and e["last_error"]
            ]
            # Written under the lock, so that a later report never loses to an earlier one.
            self._retrying(
                lambda: alert_rows.update_delivery(
                    self.store.engine,
                    alert.id,
                    status=status,
                    attempts=sum(e["attempts"] for e in outcomes.values()),
                    last_error=failures[-1] if failures else None,
                    outcomes=copy.deepcopy(outcomes),
                )
            )

    def _retrying(self, write: Callable[[], T], attempts: int = 5) -> T:
        delay = 0.05
        for _ in range(attempts - 1):
            try:
                return write()
            except TRANSIENT_ERRORS as error:
                log.warning("alert store busy, retrying in %.2f s: %s", delay, error)
                time.sleep(delay)
                delay *= 2
        return write()

    # Escalation

    def escalate_due(self) -> int:
        """Send the alerts whose rule has an escalation and that nobody acknowledged within its
        `after_min` through the escalation's actions, once each. Returns how many it claimed."""
        rules = {
            rule.id: rule
            for rule in self._engine.rules
            if rule.escalation is not None and rule.enabled
        }
        if not rules:
            return 0
        now = self._clock()
        waits = {
            rule_id: round(rule.escalation.after_min * 60_000)
            for rule_id, rule in rules.items()
            if rule.escalation is not None
        }
        due = ack_rows.due_for_escalation(
            self.store.engine,
            rules,
            fired_before_ms=now - min(waits.values()),
            since_ms=now - max(waits.values()) - ESCALATION_HORIZON_MS,
        )
        claimed = 0
        for stored in due:
            rule = rules[stored.rule_id]
            if rule.escalation is None or stored.fired_ms > now - waits[rule.id]:
                continue
            names = [name for name in rule.escalation.actions if name in self.actions]
            outcomes = {name: _pending(self.actions[name].kind) for name in names}
            # Claimed before sending: a crash during the send never escalates twice.
            ack_rows.mark_escalated(self.store.engine, stored, at_ms=now, outcomes=outcomes)
            claimed += 1
            event = self.store.get_event(stored.event_id)
            if event is None or not names:
                continue
            waited = rule.escalation.after_min
            alert = Alert(
                id=stored.id,
                rule_id=rule.id,
                event=event,
                fired_ms=stored.fired_ms,
                count=stored.match_count,
                escalated=True,
                rule_name=f"{stored.rule_name} (not acknowledged after {waited:g} min)",
            )
            self._escalator.submit(self._send_escalation, stored, alert, names, now)
        return claimed

    def _send_escalation(
        self, stored: StoredAlert, alert: Alert, names: list[str], at_ms: int
    ) -> None:
        """Send through each escalation action; a failure that may pass is retried with the
        action's backoff (doubled each time, `retries` times at most), the earliest due action
        first. The outcome (status, attempts, each attempt's result) is recorded after every
        attempt, so the console shows "retrying" while the pager is down."""
        outcomes = {name: _pending(self.actions[name].kind) for name in names}
        due = {name: time.monotonic() for name in names}
        delays = {name: self.actions[name].config.backoff_s for name in names}
        while due:
            name = min(due, key=due.__getitem__)
            if self._stopping.wait(max(0.0, due[name] - time.monotonic())):
                for left in due:
                    outcomes[left]["status"] = "failed"
                    outcomes[left]["detail"] = "not sent: Vigil stopped first"
                self._record_escalation(stored, at_ms, outcomes)
                return
            action = self.actions[name]
            attempt = attempt_once(action, alert)
            entry = outcomes[name]
            entry["attempts"] += 1
            entry["detail"] = attempt.detail
            entry["history"] = [*entry["history"], {
                "attempt": entry["attempts"], "at_ms": self._clock(), "ok": attempt.ok,
                "detail": attempt.detail,
            }][-HISTORY:]
            if attempt.ok or not attempt.retryable or entry["attempts"] > action.config.retries:
                entry["status"] = "delivered" if attempt.ok else "failed"
                del due[name]
            else:
                entry["status"] = "retrying"
                due[name] = time.monotonic() + delays[name]
                delays[name] = min(delays[name] * 2, MAX_BACKOFF_S)
            self.counters.add_escalation(name, entry["status"], alert.event.tenant)
            log.info("alert %s escalated through %s (attempt %d): %s", stored.id, name,
                     entry["attempts"], attempt.detail)
            self._record_escalation(stored, at_ms, outcomes)

    def _record_escalation(
        self, stored: StoredAlert, at_ms: int, outcomes: dict[str, dict[str, Any]]
    ) -> None:
        snapshot = copy.deepcopy(outcomes)
        self._guarded(
            "recording an escalation",
            lambda: self._retrying(
                lambda: ack_rows.mark_escalated(
                    self.store.engine, stored, at_ms=at_ms, outcomes=snapshot
                )
            ),
        )

    def _snapshot(self, key: str) -> bytes | None:
        if self.media is None:
            return None
        try:
            return self.media.get(key)
        except InvalidMediaKey:
            return None

    # Rules

    def reload(self) -> None:
        """Take up the current rules (the config file's, then those stored through the API) and
        the per-camera alert settings."""
        rules = [
            *self.config.rules,
            *(s.rule for s in alert_rows.list_rules(self.store.engine, None)),
        ]
        settings = {
            camera_id: frozenset(row.alert_types)
            for camera_id, row in alerting_rows.load(self.store.engine).items()
        }
        self._take_up_actions(stored_actions.load(self.store.engine))
        with self._rules_lock:
            self._engine.set_rules(rules)
            self._alert_types = settings
        self._rules_read = time.monotonic()

    def _take_up_actions(self, stored: Mapping[str, StoredAction]) -> None:
        """Build the stored actions whose settings are new or changed (a sender may hold a
        connection: unchanged ones are kept) and hand them to the dispatcher."""
        changed = {
            name: row.config for name, row in stored.items()
            if name not in self.config.actions
            and (name not in self.actions or self.actions[name].config != row.config)
        }
        if changed:
            built = build_actions(changed, self.links, self._snapshot)
            self.actions.update(built)
            self._dispatcher.update(built)
        self.action_tenants = {name: row.tenant for name, row in stored.items()}

    def actions_of(self, tenant: str) -> list[str]:
        """The action names a rule of `tenant` may use: the config file's and its own."""
        return [name for name in self.actions
                if self.action_tenants.get(name, tenant) == tenant]

    def save_action(self, name: str, tenant: str, values: dict[str, Any], *, by: str,
                    create: bool) -> StoredAction:
        """Add (`create`) or edit an action of the API; secrets left blank are kept."""
        if name in self.config.actions:
            raise RuleError(409, f"action {name!r} is declared in the config file; change it there")
        before = stored_actions.load(self.store.engine).get(name)
        if create and before is not None:
            raise RuleError(409, f"action {name!r} already exists")
        if not create and (before is None or before.tenant != tenant):
            raise RuleError(404, f"no alert action named {name!r}")
        try:
            config = stored_actions.parse(
                stored_actions.merged(values, None if before is None else before.config)
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"][1:] or first["loc"])
            raise RuleError(422, f"{where or 'type'}: {first['msg']}") from None
        row = StoredAction(name, tenant, config, by, self._clock())
        stored_actions.put(self.store.engine, row)
        self.reload()
        return row

    def list_rules(self, tenants: Collection[str] | None) -> list[StoredRule]:
        declared = [
            StoredRule(rule, "config")
            for rule in self.config.rules
            if _visible(rule.tenant, tenants)
        ]
        return [*declared, *alert_rows.list_rules(self.store.engine, tenants)]

    def get_rule(self, rule_id: str, tenants: Collection[str] | None) -> StoredRule | None:
        for rule in self.config.rules:
            if rule.id == rule_id:
                return StoredRule(rule, "config") if _visible(rule.tenant, tenants) else None
        return alert_rows.get_rule(self.store.engine, rule_id, tenants)

    def save_rule(self, rule: RuleConfig, *, create: bool) -> StoredRule:
        """Add (`create`) or replace a rule of the API; config-file rules are read-only."""
        if any(declared.id == rule.id for declared in self.config.rules):
            raise RuleError(
                409, f"rule {rule.id!r} is declared in the config file; change it there"
            )
        usable = dict.fromkeys(self.actions_of(rule.tenant))
        problem = unknown_actions(rule.actions, usable)
        if problem:
            raise RuleError(422, f"actions: {problem}")
        if rule.escalation is not None:
            problem = unknown_actions(rule.escalation.actions, usable)
            if problem:
                raise RuleError(422, f"escalation.actions: {problem}")
        exists = alert_rows.get_rule(self.store.engine, rule.id, None) is not None
        if create and exists:
            raise RuleError(409, f"rule {rule.id!r} already exists")
        if not create and not exists:
            raise RuleError(404, f"no alert rule with id {rule.id!r}")
        alert_rows.put_rule(self.store.engine, rule)
        self.reload()
        stored = alert_rows.get_rule(self.store.engine, rule.id, None)
        assert stored is not None
        return stored

    def delete_rule(self, rule_id: str) -> None:
        if any(declared.id == rule_id for declared in self.config.rules):
            raise RuleError(
                409, f"rule {rule_id!r} is declared in the config file; remove it there"
            )
        if not alert_rows.delete_rule(self.store.engine, rule_id):
            raise RuleError(404, f"no alert rule with id {rule_id!r}")
        self.reload()

    def test_rule(self, rule: RuleConfig) -> dict[str, Attempt]:
        """Send a test alert (a made-up event, marked as a test) through each of the rule's
        actions once, at the same time; nothing is stored."""
        now = self._clock()
        alert = Alert(
            id=uuid7(now),
            rule_id=rule.id,
            rule_name=rule.title,
            event=sample_event(rule, now),
            fired_ms=now,
            test=True,
        )
        names = [name for name in rule.actions if name in self.actions]
        if not names:
            return {}
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="alert-test") as pool:
            futures = {name: pool.submit(attempt_once, self.actions[name], alert) for name in names}
        return {name: future.result() for name, future in futures.items()}
