"""Delivery: one worker thread and one bounded queue per action.

A slow or dead webhook therefore delays only its own deliveries: the rule evaluation, the
pipeline and the other actions go on. Failures that may pass are retried with exponential
backoff (`backoff_s`, doubled each time, `retries` times at most). Every attempt, and every
delivery that never got one (queue full, Vigil stopping), is reported to `on_attempt`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from vigil.alerts.actions import Action, Attempt
from vigil.alerts.alert import Alert
from vigil.domain.frames import now_ms

log = logging.getLogger(__name__)

POLL_S = 0.1
MAX_BACKOFF_S = 300.0
Status = Literal["retrying", "delivered", "failed"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The state of one alert's delivery through one action. `sent` is true when it reports an
    attempt just made; false when it reports a decision without one (queue full, stopping)."""

    action: str
    attempts: int
    at_ms: int
    status: Status
    detail: str
    sent: bool


Reporter = Callable[[Alert, DeliveryReport], None]


def attempt_once(action: Action, alert: Alert) -> Attempt:
    """`action.send`, with an unexpected exception reported as a final failure."""
    try:
        return action.send(alert)
    except Exception as error:
        log.exception("alert action %s failed unexpectedly", action.name)
        return Attempt(ok=False, retryable=False, detail=f"internal error: {error!r}"[:500])


class _Worker:
    def __init__(self, action: Action, queue_size: int) -> None:
        self.action = action
        self.queue: queue.Queue[Alert] = queue.Queue(maxsize=queue_size)
        self.thread: threading.Thread | None = None


class Dispatcher:
    def __init__(
        self,
        actions: Mapping[str, Action],
        on_report: Reporter,
        *,
        queue_size: int = 1000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._workers = {name: _Worker(action, queue_size) for name, action in actions.items()}
        self._queue_size = queue_size
        self._started = False
        self._on_report = on_report
        self._clock = clock
        self._closing = threading.Event()  # finish what is queued, then stop
        self._abandon = threading.Event()  # stop now: no more attempts or retries

    def start(self) -> None:
        self._started = True
        for name, worker in list(self._workers.items()):
            self._start(name, worker)

    def _start(self, name: str, worker: _Worker) -> None:
        worker.thread = threading.Thread(
            target=self._run, args=(worker,), name=f"alert-action-{name}", daemon=True
        )
        worker.thread.start()

    def update(self, actions: Mapping[str, Action]) -> None:
        """Take up actions added or edited since (through the API): a new one gets its worker
        (started if the dispatcher runs); an edited one delivers what is queued for it with
        its new settings."""
        for name, action in actions.items():
            worker = self._workers.get(name)
            if worker is not None:
                worker.action = action
                continue
            worker = self._workers[name] = _Worker(action, self._queue_size)
            if self._started:
                self._start(name, worker)

    def submit(self, alert: Alert, names: Sequence[str]) -> None:
        """Queue `alert` for each named action; never blocks."""
        for name in names:
            worker = self._workers[name]
            try:
                worker.queue.put_nowait(alert)
            except queue.Full:
                self._report(
                    alert, name, 0, "failed", "not sent: the delivery queue is full", sent=False
                )

    def stop(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued for up to `timeout` seconds, then give the rest up (reported
        as failed). Returns False if a send was still in progress at the end."""
        self._closing.set()
        deadline = time.monotonic() + timeout
        threads = [w.thread for w in self._workers.values() if w.thread is not None]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._abandon.set()
        for thread in threads:
            # An attempt in flight ends within the action's own timeout.
            thread.join(max(0.0, deadline + 1.0 - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _report(
        self, alert: Alert, action: str, attempts: int, status: Status, detail: str,
        *, sent: bool = True,
    ) -> None:
        report = DeliveryReport(action, attempts, self._clock(), status, detail, sent)
        try:
            self._on_report(alert, report)
        except Exception:
            log.exception("recording the delivery of alert %s failed", alert.id)

    def _run(self, worker: _Worker) -> None:
        while True:
            name = worker.action.name
            try:
                alert = worker.queue.get(timeout=POLL_S)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            if self._abandon.is_set():
                self._report(alert, name, 0, "failed", "not sent: Vigil stopped first", sent=False)
                continue
            self._deliver(worker.action, alert)

    def _deliver(self, action: Action, alert: Alert) -> None:
        delay = action.config.backoff_s
        attempt = 0
        while True:
            attempt += 1
            result = attempt_once(action, alert)
            if result.ok:
                self._report(alert, action.name, attempt, "delivered", result.detail)
                return
            if not result.retryable or attempt > action.config.retries:
                self._report(alert, action.name, attempt, "failed", result.detail)
                return
            self._report(alert, action.name, attempt, "retrying", result.detail)
            if self._abandon.wait(delay):
                self._report(
                    alert, action.name, attempt, "failed",
                    f"{result.detail}; no retry: Vigil stopped", sent=False,
                )
                return
            delay = min(delay * 2, MAX_BACKOFF_S)
