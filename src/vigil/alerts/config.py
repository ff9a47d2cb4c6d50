"""Alert settings: named actions and rules, as written under `alerts:` in the config file and
sent to /api/alert-rules. Every check names the key at fault."""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil import module_checks
from vigil.domain import namespaces
from vigil.domain.namespaces import CAMERA_ID, MAX_LENGTH
from vigil.domain.schedule import TimeWindow, check_timezone, in_windows

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID = re.compile(ID_PATTERN)
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# Placeholders an MQTT topic may use; all are ids, so a topic never carries free text.
TOPIC_FIELDS = frozenset({"tenant", "camera_id", "module", "type", "rule_id"})
SUBJECT_FIELDS = TOPIC_FIELDS | {"camera_name", "rule_name", "class_name", "zone", "line"}
# Headers Vigil sets itself; a configured header must not replace them.
RESERVED_HEADERS = frozenset({"content-type", "content-length", "host", "user-agent"})
WEEK_S = 7 * 24 * 3600


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{what} {value!r}: use 1-64 lower-case letters, digits, '-' or '_', "
            "starting alphanumeric"
        )
    return value


def check_rule_id(value: str, what: str = "rule id") -> str:
    """A rule id: a name, with its tenant's prefix for tenants other than `default`
    ('acme:door'; vigil.domain.namespaces), or a generated uuid7."""
    if not CAMERA_ID.match(value) or len(value) > MAX_LENGTH:
        raise ValueError(
            f"{what} {value!r}: use 1-64 lower-case letters, digits, '-' or '_', starting "
            "alphanumeric, after the tenant's prefix ('acme:door')"
        )
    return value


def template_fields(template: str) -> set[str]:
    """The placeholder names of a `{name}` template; raises ValueError for anything but plain
    names (no attribute access, indexing or format specs)."""
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"not a valid template: {error}") from None
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name like {{camera_id}}")
        names.add(name)
    return names


def _check_template(template: str, allowed: frozenset[str]) -> str:
    unknown = template_fields(template) - allowed
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"available: {', '.join(sorted(allowed))}"
        )
    return template


class Schedule(Strict):
    """When a rule is active: weekly windows in local time (DST is followed)."""

    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Berlin")
    windows: list[TimeWindow] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    def is_active(self, at_ms: int) -> bool:
        """Whether the rule is active at `at_ms` (epoch ms)."""
        return in_windows(self.windows, self.timezone, at_ms)


class CountThreshold(Strict):
    """Fire only when at least `at_least` matching events (distinct ids) happened on one camera
    within `window_s` seconds; the count starts again after the rule fires."""

    at_least: int = Field(ge=1, le=1_000_000)
    window_s: float = Field(gt=0, le=WEEK_S)


class Escalation(Strict):
    """A second action for an alert nobody acknowledged: after `after_min` minutes without an
    acknowledgement, the alert is sent once more, through `actions` (a pager, a phone call
    gateway, a supervisor's mail) instead of the rule's own."""

    after_min: float = Field(gt=0, le=24 * 60, description="Minutes without acknowledgement")
    actions: list[str] = Field(min_length=1, description="Action names from alerts.actions")


class RuleSpec(Strict):
    """What a rule matches and what it does; every match condition left out matches anything."""

    name: str = Field("", max_length=256, description="Shown in alerts and notifications")
    tenant: str = Field("default", min_length=1, max_length=64)
    enabled: bool = True
    module: str | None = Field(None, description="Analytics module, e.g. 'line'")
    type: str | None = Field(None, max_length=64, description="Event type, e.g. 'line.crossing'")
    cameras: list[str] | None = Field(None, min_length=1, description="Camera ids")
    zone: str | None = Field(None, max_length=128)
    line: str | None = Field(None, max_length=128)
    classes: list[str] | None = Field(None, min_length=1, description="Object classes")
    direction: Literal["in", "out"] | None = None
    phase: Literal["start", "end"] | None = Field(
        None,
        description="'start': when the event begins; 'end': when it ends; unset: its first "
        "matching message. Instantaneous events (line crossings) are both",
    )
    min_dwell_s: float | None = Field(None, ge=0, le=7 * 86_400)
    min_score: float | None = Field(None, ge=0, le=1)
    count: CountThreshold | None = None
    schedule: Schedule | None = None
    cooldown_s: float = Field(0, ge=0, le=WEEK_S, description="Silence after firing")
    cooldown_per_camera: bool = Field(
        True, description="Keep a cool-down per camera (true) or one for the whole rule"
    )
    repeat_on_update: bool = Field(
        False, description="Fire again on later messages of the same event (still cooled down)"
    )
    actions: list[str] = Field(default_factory=list, description="Action names from alerts.actions")
    escalation: Escalation | None = Field(
        None, description="Send the alert through a second action when nobody acknowledged it"
    )

    @field_validator("cameras")
    @classmethod
    def _camera_ids(cls, value: list[str] | None) -> list[str] | None:
        for camera in value or []:
            if not CAMERA_ID.match(camera) or len(camera) > MAX_LENGTH:
                raise ValueError(
                    f"camera id {camera!r}: use 1-64 lower-case letters, digits, '-' or '_', "
                    "starting alphanumeric, after the tenant's prefix ('acme:gate')"
                )
        return value

    @field_validator("actions")
    @classmethod
    def _action_names(cls, value: list[str]) -> list[str]:
        if len(value) != len(set(value)):
            raise ValueError(f"an action is listed twice: {value}")
        return value

    @field_validator("module")
    @classmethod
    def _known_module(cls, value: str | None) -> str | None:
        if value is not None and value not in (names := module_checks.catalogue().names()):
            raise ValueError(
                f"unknown analytics module {value!r}; available: {', '.join(sorted(names))}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        if self.count is not None and self.repeat_on_update:
            raise ValueError(
                "repeat_on_update: a count rule counts distinct events, so it cannot also fire "
                "on every update"
            )
        return self


class RuleConfig(RuleSpec):
    id: str = Field(
        description="Lower-case letters, digits, '-' and '_'; unique. A rule of a tenant other "
        "than 'default' has its tenant's prefix ('acme:door'), unless its id was generated"
    )

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_rule_id(value)

    @property
    def title(self) -> str:
        return self.name or self.id


class ActionBase(Strict):
    timeout_s: float = Field(10.0, gt=0, le=120, description="Limit of one attempt")
    retries: int = Field(
        3, ge=0, le=10, description="Further attempts after a failure that may pass later"
    )
    backoff_s: float = Field(
        1.0, gt=0, le=300, description="Wait before the first retry; doubles for each next one"
    )


class WebhookAction(ActionBase):
    """HTTP POST of the alert as JSON, signed with HMAC-SHA256 when `secret` is set."""

    type: Literal["webhook"]
    url: str
    secret: str | None = Field(None, min_length=1, description="Key of X-Vigil-Signature")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL with a host")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            lowered = name.lower()
            if not _HEADER_NAME.match(name) or "\n" in text or "\r" in text:
                raise ValueError(f"{name!r} is not a valid header")
            if lowered in RESERVED_HEADERS or lowered.startswith("x-vigil-"):
                raise ValueError(f"header {name!r} is set by Vigil itself")
        return value


class MqttAction(ActionBase):
    """Publish the alert as JSON to an MQTT broker (MQTT 3.1.1)."""

    type: Literal["mqtt"]
    host: str = Field(min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    topic: str = Field(
        "vigil/{tenant}/{camera_id}/{module}",
        min_length=1,
        description=f"Template; placeholders: {', '.join(sorted(TOPIC_FIELDS))}",
    )
    qos: Literal[0, 1, 2] = 1
    retain: bool = False
    username: str | None = None
    password: str | None = None
    tls: bool = Field(False, description="Connect with TLS (system CA certificates)")
    client_id: str = Field("", max_length=64, description="Empty: the broker assigns one")

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a topic to publish to cannot contain the wildcards + or #")
        return _check_template(value, TOPIC_FIELDS)


class EmailAction(ActionBase):
    """A plain-text e-mail over SMTP with the event summary and a link to it in the UI."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS")
    username: str | None = None
    password: str | None = None
    sender: str = Field(description="From address")
    to: list[str] = Field(min_length=1, description="Recipient addresses")
    subject: str = Field(
        "[Vigil] {rule_name}: {type} on {camera_name}",
        description=f"Template; placeholders: {', '.join(sorted(SUBJECT_FIELDS))}",
    )
    attach_snapshot: bool = Field(
        False, description="Attach the event's stored snapshot (faces are blurred before storage)"
    )

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _check_template(value, SUBJECT_FIELDS)

    @model_validator(mode="after")
    def _login(self) -> EmailAction:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


ActionConfig = Annotated[WebhookAction | MqttAction | EmailAction, Field(discriminator="type")]


class AlertsConfig(Strict):
    public_url: str | None = Field(
        None,
        description="Base URL of the UI for links in notifications; default: the server's "
        "own host and port",
    )
    queue_size: int = Field(
        1000, ge=1, le=100_000, description="Deliveries waiting per action at most"
    )
    actions: dict[str, ActionConfig] = Field(default_factory=dict)
    rules: list[RuleConfig] = Field(default_factory=list)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL with a host")
        return value.rstrip("/")

    @field_validator("actions", mode="before")
    @classmethod
    def _action_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name in value:
                check_id(str(name), "action name")
        return value

    @model_validator(mode="after")
    def _references(self) -> AlertsConfig:
        ids: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.id in ids:
                raise ValueError(f"rules[{index}].id: rule id {rule.id!r} is used twice")
            ids.add(rule.id)
            # As camera ids: a tenant's rule lives in its namespace, never renamed silently.
            if message := namespaces.misplaced(rule.id, rule.tenant, "rule", "id"):
                raise ValueError(f"rules[{index}].id: {message}")
            problem = unknown_actions(rule.actions, self.actions)
            if problem:
                raise ValueError(f"rules[{index}].actions: {problem}")
            if rule.escalation is not None:
                problem = unknown_actions(rule.escalation.actions, self.actions)
                if problem:
                    raise ValueError(f"rules[{index}].escalation.actions: {problem}")
        return self


def unknown_actions(names: list[str], actions: dict[str, Any]) -> str | None:
    """A message naming the actions that are not defined, or None when all are."""
    unknown = [name for name in names if name not in actions]
    if not unknown:
        return None
    defined = ", ".join(sorted(actions)) or "none (define them under alerts.actions)"
    return f"unknown action(s) {', '.join(unknown)}; defined: {defined}"
