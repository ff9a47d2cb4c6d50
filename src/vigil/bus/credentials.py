"""How a node proves itself to NATS and checks the servers: the `bus` config's user and
password, token or credentials file (read from files, so that the config file holds no secret)
and TLS."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from vigil.config import BusConfig


class CredentialsError(Exception):
    """A credentials or certificate file of the `bus` config cannot be used."""


def _secret(path: Path, name: str) -> str:
    try:
        value = path.read_text().strip()
    except OSError as error:
        raise CredentialsError(f"bus.{name}: cannot read {path}: {error.strerror}") from None
    if not value:
        raise CredentialsError(f"bus.{name}: {path} is empty")
    return value


def _credentials_file(path: Path) -> str:
    """`path`, checked to be a NATS credentials file: nats-py reads it at each (re)connect and
    would otherwise fail there, with a message that names neither the file nor the setting."""
    text = _secret(path, "credentials_file")
    if "BEGIN NATS USER JWT" not in text or "NKEY SEED" not in text:
        raise CredentialsError(
            f"bus.credentials_file: {path} is not a NATS credentials file (it needs the user JWT "
            "and the NKey seed blocks, as `nsc generate creds` writes them)")
    try:
        import nkeys  # noqa: F401 - nats-py signs the server's challenge with it
    except ImportError:
        raise CredentialsError(
            "bus.credentials_file needs the nkeys package: pip install 'vigil[scale]'"
        ) from None
    return str(path)


def _tls(bus: BusConfig) -> ssl.SSLContext:
    # Verifies the servers by tls_ca when given, else by the system's CAs.
    try:
        context = ssl.create_default_context(
            cafile=str(bus.tls_ca) if bus.tls_ca is not None else None
        )
    except (OSError, ssl.SSLError) as error:
        raise CredentialsError(f"bus.tls_ca: cannot use {bus.tls_ca}: {error}") from None
    if bus.tls_cert is not None and bus.tls_key is not None:
        try:
            context.load_cert_chain(str(bus.tls_cert), str(bus.tls_key))
        except (OSError, ssl.SSLError) as error:
            raise CredentialsError(
                f"bus.tls_cert / bus.tls_key: cannot use {bus.tls_cert} with {bus.tls_key}: "
                f"{error}"
            ) from None
    return context


def connect_options(bus: BusConfig) -> dict[str, Any]:
    """Keyword arguments for `nats.connect` beyond the servers."""
    options: dict[str, Any] = {}
    if bus.user is not None and bus.password_file is not None:
        options["user"] = bus.user
        options["password"] = _secret(bus.password_file, "password_file")
    if bus.token_file is not None:
        options["token"] = _secret(bus.token_file, "token_file")
    if bus.credentials_file is not None:
        options["user_credentials"] = _credentials_file(bus.credentials_file)
    if bus.tls_ca is not None or bus.tls_cert is not None:
        options["tls"] = _tls(bus)
    return options
