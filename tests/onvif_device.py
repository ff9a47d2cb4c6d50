"""A small ONVIF device on 127.0.0.1 for tests: it answers the SOAP calls Vigil makes
(device information, services, media profiles, stream URI, PTZ presets) and a unicast
WS-Discovery probe, and gives the RTSP URL it was started with as its profile's stream.

The answers follow what Profile S/T cameras (Axis, Hikvision, Dahua, Reolink) send, trimmed to
the elements Vigil reads; nothing here is mocked inside Vigil: its real ONVIF client talks to
this server over HTTP and UDP.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl">'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
FAULT = (
    "<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code>"
    '<s:Reason><s:Text xml:lang="en">{text}</s:Text></s:Reason></s:Fault>'
)
_OPERATION = re.compile(rb"<(?:[A-Za-z0-9_-]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9_-]+:)?([A-Za-z]+)")


@dataclass
class OnvifDevice:
    stream_uri: str
    username: str = "admin"
    password: str = "camera-pass"
    presets: dict[str, str] = field(default_factory=lambda: {"1": "Home", "2": "Gate"})
    position: str | None = None  # the preset it last went to; None after a relative move
    moves: list[tuple[float, float, float]] = field(default_factory=list)  # pan, tilt, zoom
    calls: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, operation: str, body: bytes) -> tuple[int, str]:
        self.calls.append(operation)
        if operation not in ("GetSystemDateAndTime",) and not self._authorised(body):
            return 400, FAULT.format(text="Sender not authorized")
        if operation == "GetServices":
            services = "".join(
                f"<tds:Service><tds:Namespace>{ns}</tds:Namespace>"
                f"<tds:XAddr>{self.base}/onvif/{path}</tds:XAddr>"
                "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version>"
                "</tds:Service>"
                for ns, path in (
                    ("http://www.onvif.org/ver10/device/wsdl", "device_service"),
                    ("http://www.onvif.org/ver10/media/wsdl", "media_service"),
                    ("http://www.onvif.org/ver20/ptz/wsdl", "ptz_service"),
                )
            )
            return 200, f"<tds:GetServicesResponse>{services}</tds:GetServicesResponse>"
        if operation == "GetDeviceInformation":
            return 200, (
                "<tds:GetDeviceInformationResponse><tds:Manufacturer>Vigil Test</tds:Manufacturer>"
                "<tds:Model>Loopback PTZ</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
                "<tds:SerialNumber>T-0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>"
            )
        if operation == "GetProfiles":
            return 200, (
                '<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true">'
                "<tt:Name>mainStream</tt:Name>"
                '<tt:VideoEncoderConfiguration token="enc0"><tt:Name>enc0</tt:Name>'
                "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
                "<tt:Resolution><tt:Width>768</tt:Width><tt:Height>576</tt:Height></tt:Resolution>"
                "<tt:Quality>5</tt:Quality></tt:VideoEncoderConfiguration>"
                '<tt:PTZConfiguration token="ptz0"><tt:Name>ptz0</tt:Name>'
                "<tt:UseCount>1</tt:UseCount><tt:NodeToken>node0</tt:NodeToken>"
                "</tt:PTZConfiguration>"
                "</trt:Profiles></trt:GetProfilesResponse>"
            )
        if operation == "GetStreamUri":
            return 200, (
                f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{self.stream_uri}</tt:Uri>"
                "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
                "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
            )
        if operation == "GetPresets":
            presets = "".join(
                f'<tptz:Preset token="{token}"><tt:Name>{name}</tt:Name></tptz:Preset>'
                for token, name in self.presets.items()
            )
            return 200, f"<tptz:GetPresetsResponse>{presets}</tptz:GetPresetsResponse>"
        if operation == "GotoPreset":
            token = _text(body, "PresetToken")
            if token not in self.presets:
                return 400, FAULT.format(text="No such preset")
            self.position = token
            return 200, "<tptz:GotoPresetResponse/>"
        if operation == "SetPreset":
            token = str(len(self.presets) + 1)
            self.presets[token] = _text(body, "PresetName") or f"Preset {token}"
            self.position = token
            return (
                200,
                f"<tptz:SetPresetResponse><tptz:PresetToken>{token}</tptz:PresetToken>"
                "</tptz:SetPresetResponse>",
            )
        if operation == "RelativeMove":
            pan_tilt = _attributes(body, "PanTilt")
            zoom = _attributes(body, "Zoom")
            self.moves.append(
                (float(pan_tilt.get("x", 0)), float(pan_tilt.get("y", 0)), float(zoom.get("x", 0)))
            )
            self.position = None
            return 200, "<tptz:RelativeMoveResponse/>"
        return 400, FAULT.format(text=f"{operation} is not supported")

    def _authorised(self, body: bytes) -> bool:
        # WS-Security UsernameToken with PasswordDigest = base64(sha1(nonce + created +
        # password)), checked as a camera checks it.
        return (
            f"<Username>{self.username}</Username>".encode()
            in re.sub(rb"<(/?)[A-Za-z0-9_-]+:Username", rb"<\1Username", body)
            and b"Password" in body
            and self._password_ok(body)
        )

    def _password_ok(self, body: bytes) -> bool:
        digest = _text(body, "Password")
        nonce = _text(body, "Nonce")
        created = _text(body, "Created")
        if digest is None or nonce is None or created is None:
            return False
        expected = base64.b64encode(
            hashlib.sha1(
                base64.b64decode(nonce) + created.encode() + self.password.encode()
            ).digest()
        ).decode()
        return digest == expected

    def probe_match(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
            "<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
            "</a:Action></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>"
            "<a:EndpointReference><a:Address>urn:uuid:5f5a6f00-0000-4000-8000-000000000001"
            "</a:Address></a:EndpointReference>"
            "<d:Types>dn:NetworkVideoTransmitter</d:Types>"
            "<d:Scopes>onvif://www.onvif.org/name/LoopbackPTZ "
            "onvif://www.onvif.org/hardware/T-0001</d:Scopes>"
            f"<d:XAddrs>{self.base}/onvif/device_service</d:XAddrs>"
            "<d:MetadataVersion>1</d:MetadataVersion>"
            "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
        ).encode()


def _text(body: bytes, element: str) -> str | None:
    match = re.search(
        rb"<(?:[A-Za-z0-9_-]+:)?" + element.encode() + rb"(?:\s[^>]*)?>([^<]*)<", body
    )
    return match.group(1).decode() if match else None


def _attributes(body: bytes, element: str) -> dict[str, str]:
    match = re.search(rb"<(?:[A-Za-z0-9_-]+:)?" + element.encode() + rb"(\s[^>]*)/?>", body)
    if not match:
        return {}
    return {
        name.decode(): value.decode()
        for name, value in re.findall(rb'([A-Za-z_:]+)="([^"]*)"', match.group(1))
    }


@contextmanager
def running_onvif_device(stream_uri: str) -> Iterator[tuple[OnvifDevice, int]]:
    """The device's HTTP server and its WS-Discovery UDP port (for a unicast probe)."""
    device = OnvifDevice(stream_uri)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found = _OPERATION.search(body)
            status, answer = device.answer(found.group(1).decode() if found else "?", body)
            data = ENVELOPE.format(body=answer).encode()
            self.send_response(status if status == 200 else 500)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    device.port = http.server_address[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    stop = threading.Event()

    def discovery() -> None:
        while not stop.is_set():
            try:
                data, sender = udp.recvfrom(65536)
            except TimeoutError:
                continue
            if b"Probe" in data:
                udp.sendto(device.probe_match(), sender)

    threads = [
        threading.Thread(target=http.serve_forever, daemon=True),
        threading.Thread(target=discovery, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield device, udp.getsockname()[1]
    finally:
        stop.set()
        http.shutdown()
        http.server_close()
        threads[1].join()  # the discovery loop sees `stop` within its 0.2 s receive timeout
        udp.close()
