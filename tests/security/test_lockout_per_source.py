"""Lockout per account AND source address: a guesser locks the account for their own address
only, so they cannot lock the real user out from somewhere else."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.security.conftest import PASSWORD, World, make_world


def client_at(world: World, address: str) -> TestClient:
    return TestClient(world.app, raise_server_exceptions=False, client=(address, 40000))


def login(client: TestClient, password: str) -> int:
    return client.post(
        "/api/auth/login", json={"username": "alpha:viewer", "password": password}
    ).status_code


def test_a_guesser_locks_the_account_only_for_their_own_address(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    attacker = client_at(world, "198.51.100.7")
    victim = client_at(world, "192.0.2.20")
    for _ in range(world.config.security.lockout_failures):
        assert login(attacker, "wrong guess!") == 401
    # The attacker's address is locked out, even with the right password …
    assert login(attacker, PASSWORD) == 401
    # … but the user, at their own address, still gets in.
    assert login(victim, PASSWORD) == 200
    # Their success does not lift the attacker's lock.
    assert login(attacker, PASSWORD) == 401
    # The administrator sees the lock and lifts it for every address.
    admin = world.client("alpha:admin")
    user_id = world.user_ids["alpha:viewer"]
    listed = {u["id"]: u for u in admin.get("/api/users").json()}
    assert listed[user_id]["locked"] is True
    assert admin.post(f"/api/users/{user_id}/unlock").status_code == 204
    assert login(attacker, PASSWORD) == 200


def test_wrong_passwords_from_many_addresses_each_count_for_their_own(tmp_path: Path) -> None:
    world = make_world(tmp_path, security={"lockout_failures": 3})
    # Two wrong passwords from each of three addresses lock none of them …
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        for _ in range(2):
            assert login(client_at(world, address), "wrong guess!") == 401
    assert login(client_at(world, "198.51.100.1"), PASSWORD) == 200
    # … and a third from one address locks exactly that one.
    assert login(client_at(world, "198.51.100.2"), "wrong guess!") == 401
    assert login(client_at(world, "198.51.100.2"), PASSWORD) == 401
    assert login(client_at(world, "198.51.100.3"), PASSWORD) == 200
