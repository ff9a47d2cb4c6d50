"""Decentralised NATS authentication for tests: an operator, accounts and users as nsc would
make them (NKeys, JWTs signed by their issuer, a user's credentials file)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

from vigil.services.nats import JwtTrust

# An account that may use JetStream without limits, like `nsc edit account --js-*-storage -1`.
UNLIMITED = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
             "wildcards": True, "conn": -1, "leaf": -1}
JETSTREAM = {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Identity:
    """An NKey pair: an operator's, an account's or a user's."""

    keys: Any
    seed: bytes

    @classmethod
    def new(cls, prefix: int) -> Identity:
        seed = nkeys.encode_seed(os.urandom(32), prefix)
        return cls(nkeys.from_seed(bytearray(seed)), seed)

    @property
    def public(self) -> str:
        return str(self.keys.public_key.decode())

    def issue(self, subject: str, name: str, claims: dict[str, Any]) -> str:
        """A JWT about `subject`, signed by this identity."""
        body = {"jti": "", "iat": int(time.time()), "iss": self.public, "name": name,
                "sub": subject, "nats": {**claims, "version": 2}}
        digest = hashlib.new("sha512_256", json.dumps(body).encode()).digest()
        body["jti"] = base64.b32encode(digest).decode().rstrip("=")
        header = {"typ": "JWT", "alg": "ed25519-nkey"}
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
        return f"{signed}.{_b64(self.keys.sign(signed.encode()))}"


@dataclass
class Operator:
    """An operator with a system account and one JetStream account, `vigil`."""

    operator: Identity
    system: Identity
    account: Identity

    @classmethod
    def new(cls) -> Operator:
        return cls(Identity.new(nkeys.PREFIX_BYTE_OPERATOR),
                   Identity.new(nkeys.PREFIX_BYTE_ACCOUNT),
                   Identity.new(nkeys.PREFIX_BYTE_ACCOUNT))

    def trust(self) -> JwtTrust:
        """What a server trusting this operator is configured with."""
        op = self.operator
        return JwtTrust(
            operator_jwt=op.issue(op.public, "vigil-test",
                                  {"type": "operator", "system_account": self.system.public}),
            system_account=self.system.public,
            accounts={
                self.system.public: op.issue(self.system.public, "SYS",
                                             {"type": "account", "limits": UNLIMITED}),
                self.account.public: op.issue(self.account.public, "vigil",
                                              {"type": "account",
                                               "limits": {**UNLIMITED, **JETSTREAM}}),
            },
        )

    def credentials(self, path: Path, *, signed_by: Identity | None = None) -> Path:
        """A new user's credentials file at `path`, signed by the `vigil` account (or by
        `signed_by`, an account the server does not know)."""
        user = Identity.new(nkeys.PREFIX_BYTE_USER)
        jwt = (signed_by or self.account).issue(
            user.public, "vigil-node",
            {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1})
        path.write_text(
            f"-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{user.seed.decode()}\n"
            "------END USER NKEY SEED------\n")
        path.chmod(0o600)
        return path
