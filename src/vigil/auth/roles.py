"""Roles and what each may do. One table, used by the API policy, the UI and the docs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything within one tenant, including its users
    OPERATOR = "operator"  # live view and events
    INVESTIGATOR = "investigator"  # search, snapshots and exports, each with a stated purpose
    VIEWER = "viewer"  # live view only
    AUDITOR = "auditor"  # the audit log only
    SYSADMIN = "sysadmin"  # tenants and users of every tenant; never media or events


class Permission(StrEnum):
    CAMERAS_READ = "cameras:read"
    CONFIG_WRITE = "config:write"  # cameras, alert rules, retention, tenant settings
    LIVE = "live"
    EVENTS_READ = "events:read"
    STATS_READ = "stats:read"  # counts and statistics series (aggregates)
    SEARCH = "search"  # free-text / semantic search
    MEDIA_READ = "media:read"  # stored snapshots and clips
    EXPORT = "export"  # CSV and other bulk exports
    ALERTS_READ = "alerts:read"
    ALERTS_ACK = "alerts:ack"  # acknowledge fired alerts (with a note)
    CASES = "cases"  # evidence locks
    USERS_MANAGE = "users:manage"  # users and tokens of the own tenant (sysadmin: any)
    TENANTS_MANAGE = "tenants:manage"
    AUDIT_READ = "audit:read"
    METRICS_READ = "metrics:read"  # /metrics: a tenant admin sees their own cameras only


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({
        P.CAMERAS_READ, P.CONFIG_WRITE, P.LIVE, P.EVENTS_READ, P.STATS_READ, P.SEARCH,
        P.MEDIA_READ, P.EXPORT, P.ALERTS_READ, P.ALERTS_ACK, P.CASES, P.USERS_MANAGE,
        P.METRICS_READ,
    }),
    Role.OPERATOR: frozenset({
        P.CAMERAS_READ, P.LIVE, P.EVENTS_READ, P.STATS_READ, P.ALERTS_READ, P.ALERTS_ACK,
    }),
    Role.INVESTIGATOR: frozenset({
        P.CAMERAS_READ, P.EVENTS_READ, P.STATS_READ, P.SEARCH, P.MEDIA_READ, P.EXPORT, P.CASES,
    }),
    Role.VIEWER: frozenset({P.CAMERAS_READ, P.LIVE}),
    Role.AUDITOR: frozenset({P.AUDIT_READ}),
    Role.SYSADMIN: frozenset({P.USERS_MANAGE, P.TENANTS_MANAGE, P.METRICS_READ}),
}

# Roles whose searches, event views, snapshot views and exports need a stated purpose.
PURPOSE_ROLES = frozenset({Role.INVESTIGATOR})

# What kinds of stored data a permission opens in the data layer (`AccessScope.kinds`).
KIND_PERMISSIONS: dict[str, Permission] = {
    "cameras": P.CAMERAS_READ,
    "events": P.EVENTS_READ,
    "stats": P.STATS_READ,
    "media": P.MEDIA_READ,
    "live": P.LIVE,
    "alerts": P.ALERTS_READ,
    "search": P.SEARCH,
}


def kinds_for(permissions: frozenset[Permission]) -> frozenset[str]:
    return frozenset(kind for kind, perm in KIND_PERMISSIONS.items() if perm in permissions)
