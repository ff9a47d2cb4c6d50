"""`vigil users …` on the server machine: first admin, users, tokens; all audited."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.databases import database_url
from tests.server import vigil_command
from vigil.auth.store import AuthStore
from vigil.domain.frames import now_ms
from vigil.privacy.audit import AuditLog
from vigil.store import EventStore


def run(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*vigil_command(), "users", *args, "--config", str(config)],
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


def test_users_cli_creates_lists_disables_resets_and_makes_tokens(tmp_path: Path) -> None:
    url = database_url(tmp_path)
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": url,
                                                "media_dir": str(tmp_path / "media")}}))
    weak = run(config, "create-admin", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "12 characters" in weak.stderr
    made = run(config, "create-admin", "--username", "chief", "--password-stdin",
               stdin="a good long password\n")
    assert made.returncode == 0 and "created admin chief of tenant default" in made.stdout
    generated = run(config, "create", "night-shift", "--role", "operator", "--tenant", "harbour",
                    "--generate")
    assert generated.returncode == 0
    # A user of a tenant other than default lives in its namespace, whatever was typed.
    assert "created operator harbour:night-shift of tenant harbour" in generated.stdout
    password = generated.stdout.split("password: ")[1].strip()
    assert len(password) >= 12
    listed = json.loads(run(config, "list", "--json").stdout)
    assert {(u["username"], u["role"], u["tenant"]) for u in listed} == {
        ("chief", "admin", "default"), ("harbour:night-shift", "operator", "harbour")}
    assert run(config, "disable", "harbour:night-shift").returncode == 0
    token = run(config, "tokens", "create", "chief", "--name", "grafana", "--days", "30",
                "--scope", "stats:read")
    assert token.returncode == 0 and token.stdout.startswith("vgl_")
    token_id = token.stdout.split("_")[1]
    too_broad = run(config, "tokens", "create", "harbour:night-shift", "--scope", "media:read")
    assert too_broad.returncode == 2 and "does not have media:read" in too_broad.stderr
    assert token_id in run(config, "tokens", "list", "chief").stdout
    assert run(config, "tokens", "revoke", token_id).returncode == 0
    reset = run(config, "reset", "harbour:night-shift", "--generate")
    assert reset.returncode == 0 and "password: " in reset.stdout
    link = run(config, "login-link", "chief")
    assert link.returncode == 0 and "/api/auth/link?code=" in link.stdout

    store = EventStore(url)
    users = AuthStore(store.engine)
    night = users.find_user("harbour:night-shift")
    assert night is not None and night.disabled
    found = users.check_token(token.stdout.strip(), now_ms())
    assert found is None  # revoked
    log = AuditLog(store.engine)
    actions = [r.action for r in reversed(log.query(tenants=None))]
    assert actions == ["user.create", "user.create", "user.update", "token.create",
                       "token.revoke", "user.password", "auth.link.create"]
    assert all(r.actor.startswith("cli") for r in log.query(tenants=None))
    assert log.verify().ok
    store.close()
