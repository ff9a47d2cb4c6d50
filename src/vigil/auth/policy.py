"""Which permission each API route needs, what it writes to the audit log, whether an
investigator must state a purpose, and which routes are rate limited.

Rules match the route's path template (as in the OpenAPI document) and method; the first match
wins. A route nobody listed needs `events:read` to read and `config:write` to change anything,
so a route added later is never open by accident (tests/security enumerates every route).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from vigil.auth.roles import Permission as P

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Rule:
    permission: P | None  # None: any authenticated caller
    action: str | None = None  # audit action for reads; changes are always audited
    purpose: bool = False  # investigators must state why (X-Vigil-Purpose)
    limit: str | None = None  # rate-limit bucket
    public: bool = False  # no authentication at all
    dedupe_s: float = 0.0  # repeated identical reads within this window are audited once
    # The handler writes its own, more detailed audit records (who got which role …); the
    # policy then records only refusals.
    self_audited: bool = False


PUBLIC = Rule(None, public=True)
ANY = Rule(None)

# (methods, path template pattern, rule); '*' matches anything, including '/'.
RULES: list[tuple[frozenset[str] | None, str, Rule]] = [
    (frozenset({"GET"}), "/healthz", PUBLIC),
    (frozenset({"GET"}), "/", PUBLIC),
    (frozenset({"GET"}), "/api/auth/status", PUBLIC),
    (frozenset({"POST"}), "/api/auth/login", PUBLIC),
    (frozenset({"POST"}), "/api/auth/setup", PUBLIC),
    (frozenset({"GET"}), "/api/auth/link", PUBLIC),
    (None, "/api/auth/*", Rule(None, self_audited=True)),
    (frozenset({"GET"}), "/openapi.json", ANY),
    (frozenset({"GET"}), "/docs*", ANY),
    (frozenset({"GET"}), "/redoc", ANY),
    (frozenset({"GET"}), "/api/schema/*", ANY),
    (frozenset({"GET"}), "/api/modules", ANY),
    (frozenset({"GET"}), "/metrics", Rule(P.METRICS_READ)),
    # cameras and live view
    (
        frozenset({"GET"}),
        "/api/cameras/{camera_id}/live.*",
        Rule(P.LIVE, action="live.view", dedupe_s=300),
    ),
    (frozenset({"GET"}), "/api/cameras/{camera_id}/stats", Rule(P.LIVE)),
    (frozenset({"GET"}), "/api/camera-health", Rule(P.CAMERAS_READ)),
    (frozenset({"GET"}), "*heatmap*", Rule(P.STATS_READ)),
    (frozenset({"GET"}), "/api/cameras*", Rule(P.CAMERAS_READ)),
    # trying a URL returns a frame and checking settings changes nothing: named as such
    (frozenset({"POST"}), "/api/cameras/probe", Rule(P.CONFIG_WRITE, action="camera.probe")),
    (frozenset({"POST"}), "/api/cameras/validate", Rule(P.CONFIG_WRITE, action="camera.validate")),
    (None, "/api/cameras*", Rule(P.CONFIG_WRITE, action="camera.change")),
    # the site map (camera places; events on it come through the event stream's own rule)
    (frozenset({"GET"}), "/api/site*", Rule(P.CAMERAS_READ)),
    (None, "/api/site*", Rule(P.CONFIG_WRITE, action="site.change")),
    # ONVIF cameras: every call carries credentials and may move a camera
    (None, "/api/onvif*", Rule(P.CONFIG_WRITE, action="onvif")),
    # events, media and search
    # The live feed shows events as a list does: investigators state a purpose for it too
    # (docs/security.md, ¹), as a `purpose` parameter or for their session.
    (
        frozenset({"GET"}),
        "/api/events/stream",
        Rule(P.EVENTS_READ, action="event.stream", purpose=True),
    ),
    (
        frozenset({"GET"}),
        "/api/events",
        Rule(P.EVENTS_READ, action="event.search", purpose=True, limit="search"),
    ),
    (
        frozenset({"GET"}),
        "/api/events/{event_id}",
        Rule(P.EVENTS_READ, action="event.view", purpose=True),
    ),
    (
        frozenset({"GET"}),
        "/api/events/{event_id}/*",
        Rule(P.MEDIA_READ, action="media.view", purpose=True),
    ),
    (frozenset({"GET"}), "/api/media*", Rule(P.MEDIA_READ, action="media.view", purpose=True)),
    # recordings: only ever served redacted (vigil.recording.playback); exports are evidence
    (frozenset({"GET"}), "/api/recordings/exports/*", Rule(P.EXPORT, action="recording.manifest")),
    (frozenset({"GET"}), "/api/recordings/usage", Rule(P.MEDIA_READ)),
    (
        frozenset({"GET"}),
        "/api/recordings/{camera_id}/timeline",
        Rule(P.MEDIA_READ, action="recording.timeline", dedupe_s=300),
    ),
    (
        frozenset({"GET"}),
        "/api/recordings/*",
        Rule(P.MEDIA_READ, action="recording.view", purpose=True, dedupe_s=60),
    ),
    (
        frozenset({"POST"}),
        "/api/recordings/{camera_id}/export",
        Rule(P.EXPORT, action="recording.export", purpose=True, self_audited=True),
    ),
    (frozenset({"GET"}), "/api/clips*", Rule(P.MEDIA_READ, action="media.view", purpose=True)),
    (None, "/api/search*", Rule(P.SEARCH, action="search", purpose=True, limit="search")),
    # review items: events grouped per incident; marking one is operator work
    (frozenset({"GET"}), "/api/review", Rule(P.EVENTS_READ, action="event.search", purpose=True)),
    (frozenset({"PUT"}), "/api/review/{item_id}", Rule(P.ALERTS_ACK, action="review.mark")),
    (
        frozenset({"GET"}),
        "/api/event-count",
        Rule(P.EVENTS_READ, action="event.search", purpose=True),
    ),
    (frozenset({"GET"}), "/api/counts", Rule(P.STATS_READ)),
    (frozenset({"GET"}), "/api/series", Rule(P.STATS_READ)),
    (frozenset({"GET"}), "/api/statistics*", Rule(P.STATS_READ)),
    # alerts (reading them is part of the operator's work; rules are configuration)
    (
        frozenset({"POST"}),
        "/api/alerts/{alert_id}/acknowledge",
        Rule(P.ALERTS_ACK, action="alert.acknowledge"),
    ),
    (
        frozenset({"POST"}),
        "/api/alert-rules/preview",
        Rule(P.CONFIG_WRITE, action="alerts.preview"),
    ),
    (frozenset({"GET"}), "/api/alert*", Rule(P.ALERTS_READ)),
    (frozenset({"GET"}), "/api/rules*", Rule(P.ALERTS_READ)),
    (None, "/api/alert*", Rule(P.CONFIG_WRITE, action="alerts.change")),
    (None, "/api/rules*", Rule(P.CONFIG_WRITE, action="alerts.change")),
    # identity, audit, retention
    (frozenset({"GET"}), "/api/tenants*", Rule(P.USERS_MANAGE)),
    (None, "/api/tenants*", Rule(P.TENANTS_MANAGE, action="tenant.change", self_audited=True)),
    (frozenset({"GET"}), "/api/users*", Rule(P.USERS_MANAGE)),
    (None, "/api/users*", Rule(P.USERS_MANAGE, action="user.change", self_audited=True)),
    (frozenset({"GET"}), "/api/groups*", Rule(P.USERS_MANAGE)),
    (None, "/api/groups*", Rule(P.USERS_MANAGE, action="group.change", self_audited=True)),
    (frozenset({"GET"}), "/api/audit*", Rule(P.AUDIT_READ, action="audit.view")),
    (frozenset({"GET"}), "/api/cases*", Rule(P.CASES, action="case.view")),
    (None, "/api/cases*", Rule(P.CASES, action="case.change", self_audited=True)),
    (frozenset({"GET"}), "/api/retention*", Rule(P.CONFIG_WRITE)),
    (None, "/api/retention*", Rule(P.CONFIG_WRITE, action="retention.change", self_audited=True)),
    (frozenset({"GET"}), "/api/settings*", Rule(P.CONFIG_WRITE)),
    (None, "/api/settings*", Rule(P.CONFIG_WRITE, action="settings.change", self_audited=True)),
]
DEFAULT_READ = Rule(P.EVENTS_READ)
DEFAULT_WRITE = Rule(P.CONFIG_WRITE)


def rule_for(method: str, template: str) -> Rule:
    for methods, pattern, rule in RULES:
        if (methods is None or method in methods) and fnmatchcase(template, pattern):
            return rule
    return DEFAULT_READ if method in SAFE_METHODS else DEFAULT_WRITE
