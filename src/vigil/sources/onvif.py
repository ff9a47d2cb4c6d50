"""ONVIF cameras: find them (WS-Discovery), read what they are and which streams they offer
(device information, media profiles, RTSP stream URIs), and move PTZ cameras to presets.

The calls are those of ONVIF Profile S (media, streaming) and the PTZ service of Profiles S/T,
as Axis, Hikvision, Dahua, Hanwha and Reolink cameras answer them; the client is
`onvif-zeep-async`, the one Home Assistant uses. Adding a discovered camera is then choosing a
profile: its stream URI becomes the camera's URL.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import httpx
import zeep.exceptions
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFError

from vigil.sources.base import UNREACHABLE, SourceError

if TYPE_CHECKING:
    from vigil.sources.policy import SourcePolicy

DISCOVERY_ADDRESS = ("239.255.255.250", 3702)
_PROBE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
    "<e:Header><w:MessageID>uuid:{id}</w:MessageID>"
    "<w:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>"
    "<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header>"
    "<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body>"
    "</e:Envelope>"
)
_XADDRS = re.compile(r"<(?:[\w-]+:)?XAddrs>([^<]*)</", re.S)
_SCOPES = re.compile(r"<(?:[\w-]+:)?Scopes[^>]*>([^<]*)</", re.S)
_ADDRESS = re.compile(r"<(?:[\w-]+:)?Address>([^<]*)</", re.S)
T = TypeVar("T")


class OnvifProblem(Exception):
    """An ONVIF call failed; the message is for the person setting the camera up."""


@dataclass(frozen=True, slots=True)
class Found:
    """One answer to a WS-Discovery probe."""

    endpoint: str
    xaddrs: list[str]
    name: str | None
    hardware: str | None
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Profile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    stream_uri: str | None
    ptz: bool


@dataclass(frozen=True, slots=True)
class Device:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    profiles: list[Profile]


@dataclass(frozen=True, slots=True)
class PtzStep:
    """A relative move, each axis a share of the camera's range: -1 to 1."""

    pan: float
    tilt: float
    zoom: float


@dataclass(frozen=True, slots=True)
class Preset:
    token: str
    name: str


def _scope(scopes: str, kind: str) -> str | None:
    for scope in scopes.split():
        prefix = f"onvif://www.onvif.org/{kind}/"
        if scope.startswith(prefix):
            return scope[len(prefix) :].replace("%20", " ")
    return None


def parse_probe_match(data: bytes) -> Found | None:
    text = data.decode("utf-8", "replace")
    xaddrs_match = _XADDRS.search(text)
    if xaddrs_match is None:
        return None
    xaddrs = xaddrs_match.group(1).split()
    url = httpx.URL(xaddrs[0])
    scopes = _SCOPES.search(text)
    address = _ADDRESS.search(text)
    return Found(
        endpoint=address.group(1).strip() if address else xaddrs[0],
        xaddrs=xaddrs,
        name=_scope(scopes.group(1), "name") if scopes else None,
        hardware=_scope(scopes.group(1), "hardware") if scopes else None,
        host=url.host,
        port=url.port or (443 if url.scheme == "https" else 80),
    )


def discover(timeout_s: float = 3.0, address: tuple[str, int] = DISCOVERY_ADDRESS) -> list[Found]:
    """Send a WS-Discovery Probe for video transmitters and collect the answers for
    `timeout_s`. By default multicast to the local network; a unicast `address` asks one
    device (directed discovery, for networks that drop multicast)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.settimeout(0.25)
        sock.sendto(_PROBE.format(id=uuid.uuid4()).encode(), address)
        found: dict[str, Found] = {}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                data, _sender = sock.recvfrom(65536)
            except TimeoutError:
                continue
            match = parse_probe_match(data)
            if match is not None:
                found.setdefault(match.endpoint, match)
                if address != DISCOVERY_ADDRESS:
                    break  # a directed probe has its one answer
        return list(found.values())
    except OSError as error:
        raise OnvifProblem(f"WS-Discovery could not send its probe: {error.strerror}") from None
    finally:
        sock.close()


def _explain(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if re.search(r"not ?authori[sz]ed|unauthori[sz]ed|401|password|credentials", text, re.I):
        return f"the camera refused the user name or password ({text})"
    if re.search(r"connect|timeout|timed out|refused|unreachable", text, re.I):
        return f"the camera cannot be reached ({text})"
    return f"the camera answered with an error ({text})"


async def _check_services(policy: SourcePolicy, xaddrs: dict[Any, Any]) -> None:
    """Refuse (PolicyRefusal) a device whose service addresses (its own answer, so its
    choice) lie where the policy forbids: otherwise a device on an allowed address could send
    the server's next requests to, say, the cloud metadata service."""
    for xaddr in xaddrs.values():
        url = str(xaddr)
        policy.check_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await asyncio.to_thread(policy.addresses, parts.hostname or "", port)


async def _session(
    host: str,
    port: int,
    username: str,
    password: str,
    work: Callable[[ONVIFCamera], Awaitable[T]],
    policy: SourcePolicy | None,
) -> T:
    """Run `work` against the device. With `policy` (a tenant's request) `host` must be an
    address the caller already checked, and the services the device names are checked too;
    PolicyRefusal if one is refused."""
    camera = ONVIFCamera(host, port, username, password)
    try:
        await camera.update_xaddrs()
        if policy is not None:
            await _check_services(policy, camera.xaddrs)
        return await work(camera)
    except (
        ONVIFError,
        zeep.exceptions.Error,
        OSError,
        httpx.HTTPError,
        aiohttp.ClientError,
        TimeoutError,
        ValueError,
    ) as error:
        raise OnvifProblem(_explain(error)) from None
    except SourceError as error:
        if error.public != UNREACHABLE:
            raise
        raise OnvifProblem(_explain(error)) from None
    finally:
        await camera.close()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


async def read_device(
    host: str, port: int, username: str, password: str, policy: SourcePolicy | None = None
) -> Device:
    """Device information and every media profile with its RTSP stream URI."""

    async def work(camera: ONVIFCamera) -> Device:
        info = await (await camera.create_devicemgmt_service()).GetDeviceInformation()
        media = await camera.create_media_service()
        profiles = []
        for profile in await media.GetProfiles():
            uri = await media.GetStreamUri(
                {
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    "ProfileToken": profile.token,
                }
            )
            encoder = getattr(profile, "VideoEncoderConfiguration", None)
            resolution = getattr(encoder, "Resolution", None)
            profiles.append(
                Profile(
                    token=str(profile.token),
                    name=_text(getattr(profile, "Name", None)) or str(profile.token),
                    encoding=_text(getattr(encoder, "Encoding", None)) or None,
                    width=getattr(resolution, "Width", None),
                    height=getattr(resolution, "Height", None),
                    stream_uri=_text(getattr(uri, "Uri", None)) or None,
                    ptz=getattr(profile, "PTZConfiguration", None) is not None,
                )
            )
        return Device(
            manufacturer=_text(info.Manufacturer),
            model=_text(info.Model),
            firmware=_text(info.FirmwareVersion),
            serial=_text(info.SerialNumber),
            profiles=profiles,
        )

    return await _session(host, port, username, password, work, policy)


async def presets(
    host: str,
    port: int,
    username: str,
    password: str,
    profile: str,
    policy: SourcePolicy | None = None,
) -> list[Preset]:
    async def work(camera: ONVIFCamera) -> list[Preset]:
        ptz = await camera.create_ptz_service()
        found = await ptz.GetPresets({"ProfileToken": profile})
        return [Preset(str(p.token), _text(getattr(p, "Name", None))) for p in found or []]

    return await _session(host, port, username, password, work, policy)


async def goto_preset(
    host: str,
    port: int,
    username: str,
    password: str,
    profile: str,
    preset: str,
    policy: SourcePolicy | None = None,
) -> None:
    async def work(camera: ONVIFCamera) -> None:
        ptz = await camera.create_ptz_service()
        await ptz.GotoPreset({"ProfileToken": profile, "PresetToken": preset})

    await _session(host, port, username, password, work, policy)


async def save_preset(
    host: str,
    port: int,
    username: str,
    password: str,
    profile: str,
    name: str,
    policy: SourcePolicy | None = None,
) -> str:
    """Save the camera's current position as a new preset; returns its token."""

    async def work(camera: ONVIFCamera) -> str:
        ptz = await camera.create_ptz_service()
        return str(await ptz.SetPreset({"ProfileToken": profile, "PresetName": name}))

    return await _session(host, port, username, password, work, policy)


async def relative_move(
    host: str,
    port: int,
    username: str,
    password: str,
    profile: str,
    step: PtzStep,
    policy: SourcePolicy | None = None,
) -> None:
    """Pan, tilt and zoom by `step` from where the camera is (PTZ RelativeMove, in the
    generic spaces every ONVIF PTZ camera has: -1..1 of its range)."""

    async def work(camera: ONVIFCamera) -> None:
        ptz = await camera.create_ptz_service()
        await ptz.RelativeMove(
            {
                "ProfileToken": profile,
                "Translation": {
                    "PanTilt": {"x": step.pan, "y": step.tilt},
                    "Zoom": {"x": step.zoom},
                },
            }
        )

    await _session(host, port, username, password, work, policy)
