"""Changes that arrive at the same moment (threads of one server, or several API nodes on one
PostgreSQL) all take effect: none is lost to another's read-then-write."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.databases import database_url
from vigil.auth.roles import Role
from vigil.auth.store import AuthStore
from vigil.store import EventStore

THREADS = 8
ROUNDS = 20


@pytest.fixture
def users(tmp_path: Path) -> Iterator[AuthStore]:
    store = EventStore(database_url(tmp_path))
    store.migrate()
    yield AuthStore(store.engine)
    store.close()


def together(*work: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_parallel_wrong_passwords_all_count_towards_the_lockout(users: AuthStore) -> None:
    user = users.create_user("target", "correct horse battery staple", Role.VIEWER, "city")

    def guess() -> None:
        for _ in range(ROUNDS):
            users.record_failure(user.id, "203.0.113.9", 1_000, lock_after=10_000, lock_ms=60_000)

    together(*[guess] * THREADS)
    counted = users.get_user(user.id)
    assert counted is not None and counted.failed_logins == THREADS * ROUNDS
    # And the lockout triggers on the exact count, however the attempts interleave.
    users.unlock(user.id)
    together(*[lambda: users.record_failure(user.id, "203.0.113.9", 1_000, lock_after=THREADS,
                                            lock_ms=60_000)] * THREADS)
    locked = users.get_user(user.id)
    assert locked is not None and locked.locked_until_ms == 61_000
    assert users.locked_for(user.id, "203.0.113.9", 1_000)


def test_tenant_settings_changed_together_are_both_kept(users: AuthStore) -> None:
    users.ensure_tenant("city")

    def change(key: str) -> Callable[[], None]:
        def run() -> None:
            for i in range(ROUNDS):
                users.update_tenant_settings("city", {key: i})
        return run

    together(*[change(f"key{n}") for n in range(4)])
    assert users.tenant_settings("city") == {f"key{n}": ROUNDS - 1 for n in range(4)}
