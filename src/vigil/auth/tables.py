"""Tables of identity, audit and evidence, defined in vigil.store.schema (one schema for the
whole database; migration 0005_identity creates them) and re-exported here."""

from vigil.store.schema import (
    api_tokens,
    audit_log,
    camera_groups,
    case_events,
    cases,
    login_failures,
    login_links,
    sessions,
    tenants,
    users,
)

__all__ = [
    "api_tokens",
    "audit_log",
    "camera_groups",
    "case_events",
    "cases",
    "login_failures",
    "login_links",
    "sessions",
    "tenants",
    "users",
]
