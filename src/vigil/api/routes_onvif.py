"""ONVIF from the browser: discover cameras, read a camera's profiles and stream URIs (adding
it is then choosing a profile), and PTZ presets (list, go to, save).

Every call carries the camera's ONVIF credentials in its body (never in a URL, so they stay out
of access logs) and needs `config:write`; the audit log records each call, not the password.
Every address a request names, and every service address the device answers with, is held
to the source policy as a camera URL is (docs/security.md, "Camera sources").
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.sources import onvif
from vigil.sources.base import SourceError
from vigil.sources.policy import PolicyRefusal, SourcePolicy

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/onvif", tags=["onvif"])
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")


def _host(value: str) -> str:
    """A host name or an IP address: anything else cannot be a camera's address."""
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        if not _HOSTNAME.match(value):
            raise ValueError("must be a host name or an IP address") from None
        return value
    return value.strip("[]")


Host = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_host)]


class DiscoverIn(BaseModel):
    timeout_s: float = Field(3.0, gt=0.0, le=5.0, description="How long to wait for answers")
    address: Host | None = Field(
        None,
        description="Ask this one address instead of the whole local network (directed "
        "discovery, for networks that drop multicast)",
    )
    port: int = Field(3702, ge=1, le=65535, description="WS-Discovery port of `address`")


class FoundOut(BaseModel):
    endpoint: str
    xaddrs: list[str]
    name: str | None
    hardware: str | None
    host: str
    port: int


class DeviceIn(BaseModel):
    host: Host
    port: int = Field(80, ge=1, le=65535)
    username: str = Field("", max_length=256)
    password: str = Field("", max_length=256)


class ProfileOut(BaseModel):
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    stream_uri: str | None = Field(description="RTSP URL of the profile, without credentials")
    ptz: bool


class DeviceOut(BaseModel):
    manufacturer: str
    model: str
    firmware: str
    serial: str
    profiles: list[ProfileOut]


class PtzIn(DeviceIn):
    profile: str = Field(min_length=1, max_length=64, description="Profile token")


class GotoIn(PtzIn):
    preset: str = Field(min_length=1, max_length=64, description="Preset token")


class SaveIn(PtzIn):
    name: str = Field(min_length=1, max_length=64, description="Name of the new preset")


class PresetOut(BaseModel):
    token: str
    name: str


def _failed(problem: onvif.OnvifProblem) -> HTTPException:
    # The camera the request names (its host, port or credentials) is what was wrong: a
    # client error naming that, as for any other bad input.
    return HTTPException(422, f"host: {problem}")


def _pinned(policy: SourcePolicy, field: str, host: str, port: int) -> str:
    """The address of `host` the server may contact for a tenant (source policy, as for a
    camera URL), to be used instead of the name so that a second DNS answer cannot differ.
    422 naming `field`: "refused by policy" and nothing more (the log keeps why)."""
    try:
        return policy.addresses(host, port)[0]
    except PolicyRefusal as refusal:
        log.warning("ONVIF request to %s port %d refused: %s", host, port, refusal)
        raise HTTPException(422, f"{field}: {refusal.public}") from None
    except SourceError as error:
        raise HTTPException(422, f"{field}: the camera cannot be reached ({error})") from None


def _refused(refusal: PolicyRefusal) -> HTTPException:
    log.warning("ONVIF device named a service the source policy refuses: %s", refusal)
    return HTTPException(422, f"host: {refusal.public}")


@router.post(
    "/discover",
    summary="Find ONVIF cameras (WS-Discovery)",
    response_model=list[FoundOut],
    responses=error_responses(422),
)
async def discover(ctx: Context, body: DiscoverIn) -> list[FoundOut]:
    # The local network's multicast group is the server's own choice; an address the
    # tenant names is held to the source policy like a camera's.
    address = onvif.DISCOVERY_ADDRESS
    if body.address:
        pinned = await run_in_threadpool(_pinned, ctx.sources, "address", body.address, body.port)
        address = (pinned, body.port)
    try:
        found = await run_in_threadpool(onvif.discover, body.timeout_s, address)
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    return [FoundOut(**asdict(item)) for item in found]


@router.post(
    "/device",
    summary="An ONVIF camera's information, media profiles and stream URIs",
    response_model=DeviceOut,
    responses=error_responses(422),
)
async def device(ctx: Context, body: DeviceIn) -> DeviceOut:
    host = await run_in_threadpool(_pinned, ctx.sources, "host", body.host, body.port)
    try:
        found = await onvif.read_device(
            host, body.port, body.username, body.password, ctx.sources
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    except PolicyRefusal as refusal:
        raise _refused(refusal) from None
    return DeviceOut(
        manufacturer=found.manufacturer,
        model=found.model,
        firmware=found.firmware,
        serial=found.serial,
        profiles=[ProfileOut(**asdict(profile)) for profile in found.profiles],
    )


@router.post(
    "/ptz/presets",
    summary="A PTZ camera's presets",
    response_model=list[PresetOut],
    responses=error_responses(422),
)
async def list_presets(ctx: Context, body: PtzIn) -> list[PresetOut]:
    host = await run_in_threadpool(_pinned, ctx.sources, "host", body.host, body.port)
    try:
        found = await onvif.presets(
            host, body.port, body.username, body.password, body.profile, ctx.sources
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    except PolicyRefusal as refusal:
        raise _refused(refusal) from None
    return [PresetOut(token=p.token, name=p.name) for p in found]


@router.post(
    "/ptz/goto",
    summary="Move a PTZ camera to a preset",
    status_code=204,
    responses=error_responses(422),
)
async def goto(ctx: Context, body: GotoIn) -> None:
    host = await run_in_threadpool(_pinned, ctx.sources, "host", body.host, body.port)
    try:
        await onvif.goto_preset(
            host, body.port, body.username, body.password, body.profile, body.preset, ctx.sources
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    except PolicyRefusal as refusal:
        raise _refused(refusal) from None


@router.post(
    "/ptz/save",
    summary="Save a PTZ camera's current position as a preset",
    response_model=PresetOut,
    responses=error_responses(422),
)
async def save(ctx: Context, body: SaveIn) -> PresetOut:
    host = await run_in_threadpool(_pinned, ctx.sources, "host", body.host, body.port)
    try:
        token = await onvif.save_preset(
            host, body.port, body.username, body.password, body.profile, body.name, ctx.sources
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    except PolicyRefusal as refusal:
        raise _refused(refusal) from None
    return PresetOut(token=token, name=body.name)
