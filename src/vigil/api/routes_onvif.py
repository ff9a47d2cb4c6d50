"""ONVIF from the browser: discover cameras, read a camera's profiles and stream URIs (adding
it is then choosing a profile), and PTZ presets (list, go to, save).

Every call carries the camera's ONVIF credentials in its body (never in a URL, so they stay out
of access logs) and needs `config:write`; the audit log records each call, not the password.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.errors import error_responses
from vigil.sources import onvif

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


@router.post(
    "/discover",
    summary="Find ONVIF cameras (WS-Discovery)",
    response_model=list[FoundOut],
    responses=error_responses(422),
)
async def discover(body: DiscoverIn) -> list[FoundOut]:
    address = (body.address, body.port) if body.address else onvif.DISCOVERY_ADDRESS
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
async def device(body: DeviceIn) -> DeviceOut:
    try:
        found = await onvif.read_device(body.host, body.port, body.username, body.password)
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
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
async def list_presets(body: PtzIn) -> list[PresetOut]:
    try:
        found = await onvif.presets(
            body.host, body.port, body.username, body.password, body.profile
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    return [PresetOut(token=p.token, name=p.name) for p in found]


@router.post(
    "/ptz/goto",
    summary="Move a PTZ camera to a preset",
    status_code=204,
    responses=error_responses(422),
)
async def goto(body: GotoIn) -> None:
    try:
        await onvif.goto_preset(
            body.host, body.port, body.username, body.password, body.profile, body.preset
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None


@router.post(
    "/ptz/save",
    summary="Save a PTZ camera's current position as a preset",
    response_model=PresetOut,
    responses=error_responses(422),
)
async def save(body: SaveIn) -> PresetOut:
    try:
        token = await onvif.save_preset(
            body.host, body.port, body.username, body.password, body.profile, body.name
        )
    except onvif.OnvifProblem as problem:
        raise _failed(problem) from None
    return PresetOut(token=token, name=body.name)
