"""`vigil users …`: manage users and API tokens on the server machine, directly in the
database of a config file (whoever can read that database and key file is the machine's
administrator anyway). Every change is written to the audit log as `cli:<os user>`."""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigil.auth.roles import ROLE_PERMISSIONS, Permission, Role
from vigil.cli.common import fail, load_or_exit
from vigil.domain.frames import now_ms

if TYPE_CHECKING:
    from vigil.auth.store import AuthStore, User

app = typer.Typer(help="Users, roles and API tokens (on the server machine).",
                  no_args_is_help=True)
tokens = typer.Typer(help="Scoped, expiring API tokens.", no_args_is_help=True)
app.add_typer(tokens, name="tokens")

ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", envvar="VIGIL_CONFIG", help="The server's YAML config")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input")
]
Generate = Annotated[
    bool, typer.Option("--generate", help="Make a random password and print it")
]


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def opened(config_path: Path):  # type: ignore[no-untyped-def]
    """The users and the audit log of a config's store; a refused change (a taken name, a
    weak password) ends the command with its reason. Imported here, not at the top: the store
    costs every other `vigil` command a second of start-up."""
    from vigil.auth.passwords import WeakPassword
    from vigil.auth.store import AuthError, AuthStore
    from vigil.privacy.audit import AuditLog
    from vigil.store import EventStore

    config = load_or_exit(config_path)
    url = config.store.url
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    store = EventStore(url)
    try:
        store.migrate()
        yield AuthStore(store.engine), AuditLog(store.engine)
    except (AuthError, WeakPassword) as error:
        fail(str(error))
    finally:
        store.close()


def read_password(stdin: bool, generate: bool, username: str) -> tuple[str, bool]:
    """The new password and whether it was generated (and must be shown)."""
    if generate:
        return secrets.token_urlsafe(15), True
    if stdin:
        return sys.stdin.readline().rstrip("\n"), False
    password = typer.prompt(f"Password for {username}", hide_input=True,
                            confirmation_prompt=True)
    return str(password), False


def find(auth: AuthStore, username: str) -> User:
    user = auth.find_user(username)
    if user is None:
        fail(f"no user {username!r}")
    return user


def create(config: Path, username: str, role: Role, tenant: str | None, groups: list[str],
           stdin: bool, generate: bool) -> None:
    password, show = read_password(stdin, generate, username)
    with opened(config) as (auth, audit):
        user = auth.create_user(username.strip().lower(), password, role, tenant, groups)
        audit.append("user.create", actor=actor(), role="cli", tenant=user.tenant,
                     target=f"user:{user.username}",
                     details={"role": user.role.value, "camera_groups": groups})
    where = f"tenant {user.tenant}" if user.tenant else "the whole system"
    typer.echo(f"created {user.role.value} {user.username} of {where}")
    if show:
        typer.echo(f"password: {password}")


@app.command("create-admin")
def create_admin(
    config: ConfigPath,
    username: Annotated[str, typer.Option(help="User name")] = "admin",
    tenant: Annotated[str, typer.Option(help="The tenant this admin manages")] = "default",
    system: Annotated[
        bool, typer.Option("--system", help="A system administrator (tenants, no media)")
    ] = False,
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Create an administrator: the first-run step (no default passwords exist)."""
    role = Role.SYSADMIN if system else Role.ADMIN
    create(config, username, role, None if system else tenant, [], password_stdin, generate)


@app.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="Lower-case user name")],
    config: ConfigPath,
    role: Annotated[Role, typer.Option(help="admin, operator, investigator, viewer, auditor, "
                                            "sysadmin")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (not for sysadmin; an auditor "
                                                    "without one audits everything)")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Camera group (repeatable)")] = None,
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Create a user of a role in a tenant."""
    create(config, username, role, tenant, group or [], password_stdin, generate)


@app.command("list")
def list_users(
    config: ConfigPath,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Users with their role, tenant and state."""
    with opened(config) as (auth, _audit):
        users = auth.list_users(tenant, all_tenants=tenant is None)
    if as_json:
        typer.echo(json.dumps([user.public() for user in users], indent=2))
        return
    now = now_ms()
    table = Table("user", "role", "tenant", "groups", "state")
    for user in users:
        locked = user.locked_until_ms is not None and user.locked_until_ms > now
        state = "disabled" if user.disabled else "locked" if locked else "active"
        table.add_row(user.username, user.role.value, user.tenant or "(system)",
                      ", ".join(user.camera_groups), state)
    Console().print(table)


def set_disabled(config: Path, username: str, disabled: bool) -> None:
    with opened(config) as (auth, audit):
        user = find(auth, username)
        auth.update_user(user.id, disabled=disabled)
        audit.append("user.update", actor=actor(), role="cli", tenant=user.tenant,
                     target=f"user:{user.username}",
                     details={"before": {"disabled": user.disabled},
                              "after": {"disabled": disabled}})
    typer.echo(f"{username} {'disabled' if disabled else 'enabled'}")


@app.command("disable")
def disable(username: Annotated[str, typer.Argument()], config: ConfigPath) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    set_disabled(config, username, True)


@app.command("enable")
def enable(username: Annotated[str, typer.Argument()], config: ConfigPath) -> None:
    """Enable a disabled user again."""
    set_disabled(config, username, False)


@app.command("reset")
def reset(
    username: Annotated[str, typer.Argument()],
    config: ConfigPath,
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Set a new password (ends the user's sessions and unlocks the account)."""
    password, show = read_password(password_stdin, generate, username)
    with opened(config) as (auth, audit):
        user = find(auth, username)
        auth.set_password(user.id, password)
        audit.append("user.password", actor=actor(), role="cli", tenant=user.tenant,
                     target=f"user:{user.username}")
    typer.echo(f"password of {username} reset")
    if show:
        typer.echo(f"password: {password}")


@app.command("login-link")
def login_link(
    username: Annotated[str, typer.Argument()],
    config: ConfigPath,
) -> None:
    """Print a one-time login link (10 minutes; works only from the server machine)."""
    from vigil.auth.service import LINK_TTL_MS

    loaded = load_or_exit(config)
    with opened(config) as (auth, audit):
        user = find(auth, username)
        code = auth.create_login_link(user.id, LINK_TTL_MS)
        audit.append("auth.link.create", actor=actor(), role="cli", tenant=user.tenant,
                     target=f"user:{user.username}")
    server = loaded.server
    typer.echo(f"http://{server.host}:{server.port}/api/auth/link?code={code}")


@tokens.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="Owner of the token")],
    config: ConfigPath,
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    days: Annotated[int, typer.Option(min=1, max=3650, help="Lifetime in days")] = 90,
    scope: Annotated[
        list[Permission] | None,
        typer.Option(help="Narrow to these permissions (repeatable; default: the role's)"),
    ] = None,
) -> None:
    """Create an API token; its secret is printed once (send it as Authorization: Bearer)."""
    loaded = load_or_exit(config)
    if days > loaded.security.token_max_days:
        fail(f"--days: at most {loaded.security.token_max_days} (security.token_max_days)")
    with opened(config) as (auth, audit):
        user = find(auth, username)
        scopes = frozenset(scope) if scope else None
        if scopes is not None and not scopes <= ROLE_PERMISSIONS[user.role]:
            fail(f"--scope: a {user.role.value} does not have "
                 f"{', '.join(sorted(s.value for s in scopes - ROLE_PERMISSIONS[user.role]))}")
        token, secret = auth.create_token(user.id, name, scopes, now_ms() + days * 86_400_000)
        audit.append("token.create", actor=actor(), role="cli", tenant=user.tenant,
                     target=f"user:{user.username}",
                     details={"token": token.id, "days": days,
                              "scopes": sorted(s.value for s in scopes) if scopes else None})
    typer.echo(secret)


@tokens.command("list")
def token_list(username: Annotated[str, typer.Argument()], config: ConfigPath) -> None:
    """A user's tokens (never their secrets)."""
    with opened(config) as (auth, _audit):
        user = find(auth, username)
        found = auth.list_tokens([user.id])
    now = now_ms()
    table = Table("id", "name", "scopes", "expires", "state")
    for token in found:
        state = ("revoked" if token.revoked_ms else "expired" if token.expires_ms <= now
                 else "active")
        scopes = ", ".join(sorted(s.value for s in token.scopes)) if token.scopes else "(role)"
        from vigil.api.params import iso

        table.add_row(token.id, token.name, scopes, iso(token.expires_ms) or "", state)
    Console().print(table)


@tokens.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id (the part after vgl_)")],
    config: ConfigPath,
) -> None:
    """Revoke a token at once."""
    with opened(config) as (auth, audit):
        token = auth.get_token(token_id)
        if token is None or not auth.revoke_token(token_id):
            fail(f"no active token {token_id!r}")
        owner = auth.get_user(token.user_id)
        audit.append("token.revoke", actor=actor(), role="cli",
                     tenant=owner.tenant if owner else None,
                     target=f"user:{owner.username if owner else token.user_id}",
                     details={"token": token_id})
    typer.echo(f"token {token_id} revoked")
