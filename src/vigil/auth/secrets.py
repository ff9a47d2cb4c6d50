"""Encryption at rest of camera credentials (Fernet: AES-128-CBC + HMAC-SHA256).

The key lives in a file created on first run with mode 0600 (only the owner may read it). Back
it up with the database: without it, stored camera URLs cannot be decrypted.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"


class SecretError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._raw = base64.urlsafe_b64decode(key)

    def derive_key(self, purpose: bytes) -> bytes:
        """A 256-bit key for another use of the same key file (HKDF-SHA256, `purpose` as the
        info): one file to keep safe, and no derived key reveals the file or another key."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self._raw)

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        """Load the key, creating it (mode 0600, parent directories included) if absent."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first
                return cls.from_key_file(path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
            return cls(key)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretError(
                f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
            )
        try:
            return cls(path.read_bytes().strip())
        except ValueError as error:
            raise SecretError(f"{path} is not a Fernet key: {error}") from None

    def encrypt(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """Decrypt a value written by `encrypt`; a value without the prefix (written before
        encryption was enabled) is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretError(
                "a stored camera credential cannot be decrypted with this key file"
            ) from None
