"""A camera's WS-Discovery side on a real network: joins the multicast group 239.255.255.250
on the given interface address, answers each Probe with a ProbeMatch naming
http://<address>:<port>/onvif/device_service, as an ONVIF camera does. Run inside a network
namespace by tests/sources/test_onvif_multicast.py:

    python -m tests.sources.wsdiscovery_responder 10.77.0.2 8080
"""

from __future__ import annotations

import socket
import sys

from tests.onvif_device import OnvifDevice
from vigil.sources.onvif import DISCOVERY_ADDRESS


def main(address: str, port: int) -> None:
    device = OnvifDevice(stream_uri=f"rtsp://{address}/stream", port=port)
    answer = device.probe_match().replace(b"127.0.0.1", address.encode())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", DISCOVERY_ADDRESS[1]))
    membership = socket.inet_aton(DISCOVERY_ADDRESS[0]) + socket.inet_aton(address)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    print("ready", flush=True)
    while True:
        data, sender = sock.recvfrom(65536)
        if b"Probe" in data:
            print(f"probe from {sender[0]}", flush=True)
            sock.sendto(answer, sender)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
