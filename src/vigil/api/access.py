"""Which tenants a request may see, as a FastAPI dependency every data route takes.

Without authentication there is one trust domain, so the scope is unrestricted (None). The
authentication layer replaces this dependency (`app.dependency_overrides[tenant_scope]`) with
one that returns the caller's tenants; the store then filters every query by them.
"""

from __future__ import annotations

from collections.abc import Collection


def tenant_scope() -> Collection[str] | None:
    return None


def visible(tenant: str, tenants: Collection[str] | None) -> bool:
    return tenants is None or tenant in tenants
