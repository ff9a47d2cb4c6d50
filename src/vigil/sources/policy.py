"""The source policy: which camera URLs the server may open on a tenant's behalf.

A camera URL is a request the server makes for whoever entered it. Left open, a tenant admin
could point a "camera" at the cloud metadata service, at the server's own API, at a database
listening on loopback, or at the server's key file, and read the answer through live view or
learn about it from the camera's status. So every camera whose URL a tenant chose is held to
this policy, and only the system administrator's own cameras (the config file's) are not:

- schemes: rtsp, rtsps, http, https; local files only below `sources.file_roots`, resolved
  (symlinks and `..` followed) before the check, never the store's database, its WAL, the key
  file or the media directory, and only with a video or image file name;
- network addresses are checked after DNS resolution, at every connection: the first, every
  HTTP redirect and every reconnect, so a name that re-resolves elsewhere (DNS rebinding) is
  caught. Loopback, link-local (cloud metadata), multicast, unspecified and reserved
  addresses and the server's own listening port are refused; private networks are allowed
  (cameras live there) unless `sources.allow_networks` narrows the choice or
  `sources.deny_networks` excludes some.

Callers (the camera routes, a connection test) use `SourcePolicy.check_url` before saving a
URL and `SourcePolicy.trusts` to tell the administrator's cameras apart; the sources call
`local_file` and `addresses` when they open. A refusal is a `PolicyRefusal`, whose `public`
text ("refused by policy") is all a tenant is told.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from vigil.domain.source_urls import IMAGE_SUFFIXES, SourceKind, classify, local_path, redact
from vigil.sources.base import REFUSED_BY_POLICY, UNREACHABLE, SourceError

if TYPE_CHECKING:
    from vigil.config import VigilConfig

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".ts",
        ".mts",
        ".m2ts",
        ".mpg",
        ".mpeg",
        ".flv",
        ".3gp",
        ".wmv",
        ".ogv",
        ".h264",
        ".264",
        ".h265",
        ".265",
        ".hevc",
        ".mjpeg",
        ".mjpg",
    }
)
MEDIA_SUFFIXES = VIDEO_SUFFIXES | IMAGE_SUFFIXES

# Cloud metadata and host-agent services outside link-local space (AWS IPv6, Alibaba, Azure).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class PolicyRefusal(SourceError):
    """A camera URL the policy refuses; `str()` says why (for logs), `public` what a tenant
    may be told."""

    def __init__(self, message: str) -> None:
        super().__init__(message, REFUSED_BY_POLICY)


def special_kind(address: IPAddress) -> str | None:
    """Why `address` is refused by default ("loopback", "link-local" …), None if it is not."""
    address = _unmapped(address)
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "unspecified"
    if address.is_reserved:
        return "reserved"
    return None


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_local(address: IPAddress) -> bool:
    """True if `address` belongs to this machine (binding to it succeeds)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """What cameras of tenants may open. Built once per process with `from_config`; the
    default instance (no file roots, no network lists) is the strictest sensible policy."""

    file_roots: tuple[Path, ...] = ()  # resolved
    allow_networks: tuple[IPNetwork, ...] = ()
    deny_networks: tuple[IPNetwork, ...] = ()
    protected_paths: tuple[Path, ...] = ()  # resolved files and directories never read
    own_ports: frozenset[int] = frozenset()
    # (camera id, URL) pairs of the config file, main streams included: the system
    # administrator's own cameras.
    trusted: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def from_config(cls, config: VigilConfig) -> SourcePolicy:
        from vigil.config import default_key_file

        store = config.store
        protected: list[Path] = [store.media_dir]
        database = _sqlite_file(store.url)
        if database is not None:
            protected += [
                database.with_name(database.name + s) for s in ("", "-wal", "-shm", "-journal")
            ]
        protected.append(config.security.key_file or default_key_file(store.media_dir))
        sources = config.sources
        return cls(
            file_roots=tuple(_resolved(p) for p in sources.file_roots),
            allow_networks=_networks(sources.allow_networks),
            deny_networks=_networks(sources.deny_networks),
            protected_paths=tuple(_resolved(p) for p in protected),
            own_ports=frozenset({config.server.port}),
            trusted=frozenset(
                (camera.id, url)
                for camera in config.cameras
                for url in (camera.url, camera.main_url)
                if url
            ),
        )

    def trusts(self, camera_id: str, url: str) -> bool:
        """True for a camera exactly as the config file declares it. A config camera whose URL
        was changed through the API is a tenant's choice again and is checked."""
        return (camera_id, url) in self.trusted

    def check_url(self, url: str) -> None:
        """Refuses (PolicyRefusal) a URL this policy would never open; returns None otherwise.

        Checks what can be checked without contacting anything: the scheme, a local file's
        resolved location, and a host given as an IP address or as `localhost`. Host names are
        deliberately not resolved here (that would tell a tenant which internal names exist);
        their addresses are checked when the camera connects, every time it connects.
        ValueError for a URL no source can read at all (empty, unknown scheme).
        """
        kind = classify(url)
        if kind in (SourceKind.FILE, SourceKind.IMAGE):
            self.local_file(url)
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host:
            raise PolicyRefusal(f"{redact(url)} names no host")
        try:
            port = parts.port or _default_port(parts.scheme.lower())
        except ValueError:
            raise PolicyRefusal(f"{redact(url)} has an invalid port") from None
        if host == "localhost" or host.endswith(".localhost"):
            raise PolicyRefusal(f"{redact(url)} names this machine (loopback)")
        try:
            address = ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            return  # a host name: checked on its resolved addresses at connection time
        self.check_address(address, port)

    def local_file(self, url: str) -> Path:
        """The resolved file a file URL or path names, if a tenant's camera may read it."""
        real = _resolved(local_path(url))
        if not any(real.is_relative_to(root) for root in self.file_roots):
            raise PolicyRefusal(f"{real} is not below a directory of sources.file_roots")
        if any(real == p or real.is_relative_to(p) for p in self.protected_paths):
            raise PolicyRefusal(f"{real} is one of the store's own files")
        if real.suffix.lower() not in MEDIA_SUFFIXES:
            raise PolicyRefusal(f"{real} does not have a video or image file name")
        return real

    def check_address(self, address: IPAddress, port: int) -> None:
        """Refuses (PolicyRefusal) a connection to `address`:`port`."""
        why = self._refusal(_unmapped(address), port)
        if why is not None:
            raise PolicyRefusal(f"{address} port {port} is {why}")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to now that a camera may connect to, in resolver
        order; connect to these, never to `host` again (its next answer may differ).
        SourceError (unreachable) if it does not resolve, PolicyRefusal if none is allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise SourceError(f"cannot resolve {host}", UNREACHABLE) from None
        allowed: list[str] = []
        refusals: list[str] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            text = str(sockaddr[0])
            address = ipaddress.ip_address(text.partition("%")[0])
            why = self._refusal(_unmapped(address), port)
            if why is None:
                if text not in allowed:
                    allowed.append(text)
            else:
                refusals.append(f"{address} is {why}")
        if not allowed:
            raise PolicyRefusal(f"{host} port {port}: " + "; ".join(refusals or ["no address"]))
        return allowed

    def _refusal(self, address: IPAddress, port: int) -> str | None:
        if any(address in net for net in self.deny_networks):
            return "in sources.deny_networks"
        if self.allow_networks and not any(address in net for net in self.allow_networks):
            return "outside sources.allow_networks"
        kind = special_kind(address)
        if kind is not None and not any(
            address in net and _names_space(net, kind) for net in self.allow_networks
        ):
            return kind
        if port in self.own_ports and (
            address.is_loopback or address.is_unspecified or _is_local(address)
        ):
            return "this server's own port"
        return None


def _names_space(network: IPNetwork, kind: str) -> bool:
    """True if an allow entry lies wholly in one refused kind of space (127.0.0.1/32 for a
    restreamer on this machine): the administrator named it on purpose. A broad entry such as
    0.0.0.0/0 only happens to contain loopback and does not admit it."""
    first, last = network.network_address, network.broadcast_address
    return special_kind(first) == kind and special_kind(last) == kind


def _default_port(scheme: str) -> int:
    return {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}.get(scheme, 0)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].partition("?")[0]
    return Path(path) if path and path != ":memory:" else None
