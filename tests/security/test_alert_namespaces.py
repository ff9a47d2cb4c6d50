"""Alert-rule ids and alert-action names live in their tenant's namespace ('alpha:door-watch',
'alpha:pager') as camera ids do, so whether one is free never depends on another tenant: a name
another tenant holds answers exactly as a free one, another tenant's prefix is the same 422
whether or not it exists, and "already exists" only ever speaks of the caller's own tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import World, make_world
from tests.security.test_namespaces import same_answer
from vigil.config import ConfigError, parse_config

WEBHOOK = {"type": "webhook", "url": "https://hooks.example.org/in"}
# A system-wide action of the config file, which every tenant's rules may use.
ALERTS = {"actions": {"siren": {"type": "webhook", "url": "https://ops.example.org/siren"}}}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = make_world(tmp_path, alerts=ALERTS)
    yield built
    built.store.close()


def add_rule(client: TestClient, rule_id: str, **fields: Any) -> Any:
    return client.post("/api/alert-rules", json={"id": rule_id, "classes": ["person"], **fields})


def add_action(client: TestClient, name: str) -> Any:
    return client.post(f"/api/alert-actions/{name}", json=WEBHOOK)


def test_a_rule_id_another_tenant_holds_answers_exactly_as_a_free_one(world: World) -> None:
    bravo = world.client("bravo:admin")
    made = add_rule(bravo, "door-watch")
    assert (made.status_code, made.json()["id"]) == (201, "bravo:door-watch"), made.text
    alpha = world.client("alpha:admin")
    held = add_rule(alpha, "door-watch")
    free = add_rule(alpha, "pond-watch")
    same_answer(held, free, "door-watch", "pond-watch", fresh=("created", "updated"))
    assert held.status_code == 201, held.text
    assert (held.json()["id"], held.json()["tenant"]) == ("alpha:door-watch", "alpha")
    assert held.headers["Location"] == "/api/alert-rules/alpha:door-watch"
    assert alpha.get("/api/alert-rules/alpha:door-watch").json()["tenant"] == "alpha"
    # Bravo's rule is untouched and still only bravo's.
    assert [r["id"] for r in bravo.get("/api/alert-rules").json()] == ["bravo:door-watch"]
    assert alpha.get("/api/alert-rules/bravo:door-watch").status_code == 404


def test_a_qualified_rule_id_of_the_callers_tenant_is_kept_and_only_their_own_is_taken(
    world: World,
) -> None:
    alpha = world.client("alpha:admin")
    created = add_rule(alpha, "alpha:lane-watch")
    assert (created.status_code, created.json()["id"]) == (201, "alpha:lane-watch")
    again = add_rule(alpha, "lane-watch")
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "rule 'alpha:lane-watch' already exists",
    )
    # A bare id in a replacement's body names the rule of its tenant.
    body = {"id": "lane-watch", "classes": ["car"]}
    replaced = alpha.put("/api/alert-rules/alpha:lane-watch", json=body)
    assert (replaced.status_code, replaced.json()["classes"]) == (200, ["car"]), replaced.text


def test_a_generated_rule_id_stays_bare(world: World) -> None:
    made = world.client("alpha:admin").post("/api/alert-rules", json={"classes": ["person"]})
    assert made.status_code == 201, made.text
    assert ":" not in made.json()["id"] and made.json()["tenant"] == "alpha"
    assert made.headers["Location"] == f"/api/alert-rules/{made.json()['id']}"


def test_a_rule_id_in_another_tenants_namespace_is_422_whether_or_not_it_exists(
    world: World,
) -> None:
    assert add_rule(world.client("bravo:admin"), "door-watch").status_code == 201
    alpha = world.client("alpha:admin")
    held = add_rule(alpha, "bravo:door-watch")
    free = add_rule(alpha, "bravo:nothing")
    same_answer(held, free, "door-watch", "nothing")
    assert held.status_code == 422
    assert held.json()["detail"] == (
        "body.id: 'bravo:door-watch' is in the namespace of tenant 'bravo'; a rule of tenant "
        "'alpha' has an id 'alpha:<name>', e.g. 'alpha:door-watch'"
    )


def test_an_action_name_another_tenant_holds_answers_exactly_as_a_free_one(
    world: World,
) -> None:
    bravo = world.client("bravo:admin")
    made = add_action(bravo, "pager")
    assert (made.status_code, made.json()["name"]) == (201, "bravo:pager"), made.text
    alpha = world.client("alpha:admin")
    held = add_action(alpha, "pager")
    free = add_action(alpha, "phone")
    same_answer(held, free, "pager", "phone")
    assert held.status_code == 201, held.text
    assert (held.json()["name"], held.json()["tenant"]) == ("alpha:pager", "alpha")
    assert held.headers["Location"] == "/api/alert-actions/alpha:pager"
    listed = {a["name"] for a in alpha.get("/api/alert-actions").json()}
    assert listed == {"siren", "alpha:pager", "alpha:phone"}
    assert {a["name"] for a in bravo.get("/api/alert-actions").json()} == {"siren", "bravo:pager"}
    # Only their own is taken.
    again = add_action(alpha, "alpha:pager")
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "action 'alpha:pager' already exists",
    )


def test_an_action_name_in_another_tenants_namespace_is_422_whether_or_not_it_exists(
    world: World,
) -> None:
    assert add_action(world.client("bravo:admin"), "pager").status_code == 201
    alpha = world.client("alpha:admin")
    held = add_action(alpha, "bravo:pager")
    free = add_action(alpha, "bravo:nothing")
    same_answer(held, free, "pager", "nothing")
    assert held.status_code == 422
    assert held.json()["detail"] == (
        "name: 'bravo:pager' is in the namespace of tenant 'bravo'; an action of tenant "
        "'alpha' has a name 'alpha:<name>', e.g. 'alpha:pager'"
    )


def test_a_rule_names_actions_as_listed_its_own_and_the_config_files(world: World) -> None:
    alpha = world.client("alpha:admin")
    assert add_action(alpha, "pager").status_code == 201
    assert add_action(world.client("bravo:admin"), "phone").status_code == 201
    rule = add_rule(alpha, "night", actions=["alpha:pager", "siren"],
                    escalation={"after_min": 5, "actions": ["siren"]})
    assert rule.status_code == 201, rule.text
    assert rule.json()["actions"] == ["alpha:pager", "siren"]
    # Bravo's action is unknown to alpha's rules, and never listed as a choice.
    refused = add_rule(alpha, "night2", actions=["bravo:phone"])
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "actions: unknown action(s) bravo:phone; defined: alpha:pager, siren"
    )


def test_the_config_file_names_the_rule_id_to_write() -> None:
    rule = {"id": "door", "tenant": "acme", "classes": ["person"]}
    with pytest.raises(ConfigError) as raised:
        parse_config({"alerts": {"rules": [rule]}})
    assert "rules[0].id: a rule of tenant 'acme' has an id 'acme:<name>'; write 'acme:door'" in (
        str(raised.value)
    )
    config = parse_config({"alerts": {"rules": [{**rule, "id": "acme:door"}]}})
    assert [r.id for r in config.alerts.rules] == ["acme:door"]
