"""A node of a cluster whose NATS wants TLS with client certificates and a password: the
`bus` config's user, password_file, tls_ca, tls_cert and tls_key get it in; a wrong password or
no client certificate gets a clear refusal, and incomplete settings a message naming them.
And one whose NATS uses decentralised (JWT) authentication: `bus.credentials_file` gets it in,
credentials of an account the server does not trust are refused clearly."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from tests.services.nats_jwt import Identity, Operator
from tests.store.conftest import build_event
from vigil.bus.credentials import CredentialsError
from vigil.config import VigilConfig
from vigil.domain.events import EventMessage, Phase
from vigil.runtime import open_nats
from vigil.services.nats import NatsServer, TlsFiles

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _certificate(name: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
                 ip: str | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test CA")])
    ca = _certificate("vigil test CA", ca_key, ca_name, ca_key, ca=True)
    paths = Pki(*(directory / name for name in (
        "ca.pem", "server.pem", "server.key", "client.pem", "client.key")))
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for cert_path, key_path, name, ip in (
        (paths.server_cert, paths.server_key, "nats", "127.0.0.1"),
        (paths.client_cert, paths.client_key, "vigil-node", None),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        _write_key(key, key_path)
        cert = _certificate(name, key, ca_name, ca_key, ip=ip)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return paths


@pytest.fixture(scope="module")
def secured() -> Iterator[tuple[NatsServer, Pki]]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-nats-auth-"))
    try:
        pki = make_pki(directory)
        tls = TlsFiles(pki.server_cert, pki.server_key, client_ca=pki.ca)
        with NatsServer(directory / "nats", tls=tls, users={"vigil": PASSWORD}) as server:
            yield server, pki
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def bus_config(tmp_path: Path, server: NatsServer, pki: Pki, password: str = PASSWORD,
               **overrides: Any) -> VigilConfig:
    secret = tmp_path / "nats-password"
    secret.write_text(password + "\n")
    bus = {"url": server.url, "prefix": "auth", "user": "vigil", "password_file": str(secret),
           "tls_ca": str(pki.ca), "tls_cert": str(pki.client_cert),
           "tls_key": str(pki.client_key), **overrides}
    return VigilConfig.model_validate({"bus": {k: v for k, v in bus.items() if v is not None}})


def test_a_node_with_the_right_credentials_publishes_and_receives(
    tmp_path: Path, secured: tuple[NatsServer, Pki]
) -> None:
    server, pki = secured
    assert_round_trip(bus_config(tmp_path, server, pki))


def assert_round_trip(config: VigilConfig) -> None:
    """A node on `config` publishes an event and receives it through JetStream."""
    bus = open_nats(config)
    try:
        subscription = bus.subscribe("auth-test", lossless=True)
        event = build_event()
        bus.publish_many([EventMessage(phase=Phase.START, event=event)])
        received = subscription.get(timeout=10)
        assert isinstance(received, EventMessage) and received.event.id == event.id
    finally:
        bus.close()


@pytest.mark.parametrize(
    ("password", "overrides", "refusal"),
    [
        ("wrong", {}, "authorization"),
        (PASSWORD, {"tls_cert": None, "tls_key": None}, "certificate"),
    ],
    ids=["wrong password", "no client certificate"],
)
def test_a_node_without_the_right_credentials_is_refused_clearly(
    tmp_path: Path, secured: tuple[NatsServer, Pki], password: str,
    overrides: dict[str, Any], refusal: str,
) -> None:
    server, pki = secured
    config = bus_config(tmp_path, server, pki, password, **overrides)
    with pytest.raises(Exception, match=f"(?i){refusal}"):
        open_nats(config).close()


def test_incomplete_credentials_are_named(tmp_path: Path, secured: tuple[NatsServer, Pki]
                                          ) -> None:
    server, pki = secured
    with pytest.raises(ValidationError, match="tls_cert and tls_key go together"):
        bus_config(tmp_path, server, pki, tls_key=None)
    with pytest.raises(ValidationError, match="user and password_file go together"):
        bus_config(tmp_path, server, pki, password_file=None)
    # Files are read when the node connects: a missing one is named then.
    missing = bus_config(tmp_path, server, pki, tls_ca=str(tmp_path / "missing.pem"))
    with pytest.raises(CredentialsError, match=r"bus\.tls_ca: cannot use .*missing\.pem"):
        open_nats(missing)
    (tmp_path / "empty").write_text("")
    with pytest.raises(CredentialsError, match=r"bus\.password_file: .*empty is empty"):
        open_nats(bus_config(tmp_path, server, pki, password_file=str(tmp_path / "empty")))


@pytest.fixture(scope="module")
def operator_mode() -> Iterator[tuple[NatsServer, Operator]]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-nats-jwt-"))
    operator = Operator.new()
    try:
        with NatsServer(directory / "nats", trust=operator.trust()) as server:
            yield server, operator
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def jwt_config(server: NatsServer, credentials: Path | None, **more: Any) -> VigilConfig:
    bus = {"url": server.url, "prefix": "jwt", "credentials_file": credentials, **more}
    return VigilConfig.model_validate(
        {"bus": {key: str(value) for key, value in bus.items() if value is not None}})


def test_a_node_with_a_credentials_file_publishes_and_receives(
    tmp_path: Path, operator_mode: tuple[NatsServer, Operator]
) -> None:
    server, operator = operator_mode
    # JetStream, in the account the operator vouches for.
    assert_round_trip(jwt_config(server, operator.credentials(tmp_path / "vigil.creds")))


@pytest.mark.parametrize("who", ["untrusted account", "no credentials"])
def test_a_node_the_operator_does_not_vouch_for_is_refused_clearly(
    tmp_path: Path, operator_mode: tuple[NatsServer, Operator], who: str
) -> None:
    server, operator = operator_mode
    credentials = None
    if who == "untrusted account":
        stranger = Identity.new(nkeys.PREFIX_BYTE_ACCOUNT)
        credentials = operator.credentials(tmp_path / "stranger.creds", signed_by=stranger)
    with pytest.raises(ConnectionRefusedError, match=r"(?i)refused this node.*authorization"):
        open_nats(jwt_config(server, credentials)).close()


def test_a_credentials_file_that_is_not_one_is_named(
    tmp_path: Path, operator_mode: tuple[NatsServer, Operator]
) -> None:
    server, operator = operator_mode
    wrong = tmp_path / "vigil.creds"
    wrong.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(CredentialsError,
                       match=r"bus\.credentials_file: .*vigil\.creds is not a NATS credentials"):
        open_nats(jwt_config(server, wrong))
    with pytest.raises(ValidationError, match="one way to log in to NATS, not user and "
                                              "credentials_file"):
        jwt_config(server, operator.credentials(tmp_path / "ok.creds"), user="vigil",
                   password_file=tmp_path / "password")
