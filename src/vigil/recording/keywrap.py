"""Hour keys wrapped under a master key derived from `security.key_file`, so the database alone
(a dump, a stolen backup, a read-only SQL account) cannot open a recorded segment: that takes
the key file too, which lives outside the database and the media store.

A wrapped key is MAGIC + 12-byte nonce + AES-256-GCM(hour key) with tenant, camera and hour as
associated data: a wrapped key copied onto another hour's row does not unwrap there.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil.auth.secrets import SecretBox
from vigil.config import VigilConfig, default_key_file
from vigil.recording.crypto import SegmentUnreadable

WRAPPING = "aes-gcm-v1"
_PURPOSE = b"vigil recording key wrap v1"
_MAGIC = b"VGW1"
_NONCE_BYTES = 12


class KeyWrap:
    def __init__(self, master: bytes) -> None:
        self._aead = AESGCM(master)

    @classmethod
    def from_secrets(cls, box: SecretBox) -> KeyWrap:
        """The master key of the key file that also seals camera credentials."""
        return cls(box.derive_key(_PURPOSE))

    @classmethod
    def from_config(cls, config: VigilConfig) -> KeyWrap:
        """For a process whose store was opened without the key file (an API-only node)."""
        path = config.security.key_file or default_key_file(config.store.media_dir)
        return cls.from_secrets(SecretBox.from_key_file(path))

    def wrap(self, key: bytes, tenant: str, camera_id: str, hour_ms: int) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _MAGIC + nonce + self._aead.encrypt(nonce, key, _ident(tenant, camera_id, hour_ms))

    def unwrap(self, wrapped: bytes, tenant: str, camera_id: str, hour_ms: int) -> bytes:
        if not wrapped.startswith(_MAGIC) or len(wrapped) < len(_MAGIC) + _NONCE_BYTES + 16:
            raise SegmentUnreadable(f"the key of {camera_id} at {hour_ms} is not a wrapped key")
        nonce = wrapped[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        body = wrapped[len(_MAGIC) + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _ident(tenant, camera_id, hour_ms))
        except InvalidTag:
            raise SegmentUnreadable(
                f"the key of {camera_id} at {hour_ms} does not unwrap: another security.key_file"
                " wrapped it, or the row was altered"
            ) from None


def _ident(tenant: str, camera_id: str, hour_ms: int) -> bytes:
    return f"{tenant}\x00{camera_id}\x00{hour_ms}".encode()
