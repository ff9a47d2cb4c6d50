"""The demo's local-only login: a demo admin with a fresh random password at every start, and
a one-time login link. Both are printed on the console of the machine running `vigil demo`; the
demo binds 127.0.0.1 and the link works only from there (and only once, for 10 minutes)."""

from __future__ import annotations

import secrets

from vigil.auth.roles import Role
from vigil.auth.service import LINK_TTL_MS, AuthService

DEMO_USER = "demo"


def prepare_demo_login(service: AuthService, url: str) -> str:
    """Create or refresh the demo admin; returns the console banner with link and password."""
    store = service.store
    password = secrets.token_urlsafe(15)
    user = store.find_user(DEMO_USER)
    if user is None:
        user = store.create_user(DEMO_USER, password, Role.ADMIN, "default")
        action = "user.create"
    else:
        store.set_password(user.id, password)
        if user.disabled:
            store.update_user(user.id, disabled=False)
        action = "user.password"
    service.audit.append(action, actor="vigil demo", role="system", tenant=user.tenant,
                         target=f"user:{DEMO_USER}", details={"via": "vigil demo"})
    code = store.create_login_link(user.id, LINK_TTL_MS)
    minutes = LINK_TTL_MS // 60_000
    return "\n".join([
        "",
        "  Vigil demo is running. Open this one-time login link in a browser on this machine",
        f"  (valid {minutes} minutes, usable once):",
        "",
        f"      {url}/api/auth/link?code={code}",
        "",
        f"  or open {url} and log in as '{DEMO_USER}' with the password: {password}",
        "  (a new password is made at every start; nothing here works from another machine)",
        "",
    ])
