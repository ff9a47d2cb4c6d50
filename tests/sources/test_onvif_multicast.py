"""Multicast WS-Discovery across a real (virtual) network link: Vigil's discovery runs in one
network namespace, a camera's WS-Discovery responder in another, joined by a veth pair. The
probe reaches the camera only through the multicast group 239.255.255.250 (the responder is
never told Vigil's address), and the camera's unicast answer comes back over the link.
Loopback multicast inside one namespace is unreliable, hence the two namespaces. Needs root
and iproute2 (`ip netns`); skipped where the sandbox does not allow them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIGIL_SIDE, CAMERA_SIDE = "10.77.0.1", "10.77.0.2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    if shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs root and iproute2 to make network namespaces")
    tag = f"{os.getpid() % 100_000}"
    vigil, camera = f"vigil-a{tag}", f"vigil-b{tag}"
    try:
        ip("netns", "add", vigil)
    except subprocess.CalledProcessError as error:
        pytest.skip(f"network namespaces are not allowed here: {error.stderr.decode().strip()}")
    try:
        ip("netns", "add", camera)
        ip("link", "add", f"va{tag}", "type", "veth", "peer", "name", f"vb{tag}")
        for namespace, link, address in (
            (vigil, f"va{tag}", VIGIL_SIDE),
            (camera, f"vb{tag}", CAMERA_SIDE),
        ):
            ip("link", "set", link, "netns", namespace)
            ip("-n", namespace, "addr", "add", f"{address}/30", "dev", link)
            ip("-n", namespace, "link", "set", link, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
            # Multicast leaves by the link, as on a camera network's default route.
            ip("-n", namespace, "route", "add", "224.0.0.0/4", "dev", link)
        yield vigil, camera
    finally:
        for namespace in (vigil, camera):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)


def in_namespace(namespace: str, *command: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, sys.executable, *command]


def test_multicast_discovery_finds_a_camera_on_the_link(namespaces: tuple[str, str]) -> None:
    vigil, camera = namespaces
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    responder = subprocess.Popen(
        in_namespace(camera, "-m", "tests.sources.wsdiscovery_responder", CAMERA_SIDE, "8080"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert responder.stdout is not None
        assert responder.stdout.readline().strip() == "ready"
        script = (
            "import json, dataclasses\n"
            "from vigil.sources.onvif import discover\n"
            "print(json.dumps([dataclasses.asdict(f) for f in discover(2.0)]))\n"
        )
        done = subprocess.run(
            in_namespace(vigil, "-c", script),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = json.loads(done.stdout)
        assert [(f["host"], f["port"], f["name"]) for f in found] == [
            (CAMERA_SIDE, 8080, "LoopbackPTZ")
        ]
        assert found[0]["xaddrs"] == [f"http://{CAMERA_SIDE}:8080/onvif/device_service"]
        assert responder.stdout.readline().strip() == f"probe from {VIGIL_SIDE}"
    finally:
        responder.kill()
        responder.wait(timeout=10)
