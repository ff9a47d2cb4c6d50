"""AES-256-GCM sealing of recorded segments.

A sealed segment is MAGIC + 12-byte random nonce + ciphertext with its tag. The segment's media
key is the associated data: a segment copied under another name (another camera, another hour)
does not open, so nobody can pass one camera's video off as another's.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VGR1"
KEY_BYTES = 32
_NONCE_BYTES = 12


class SegmentUnreadable(Exception):
    """A segment that cannot be opened: its key is gone (shredded) or wrong, or it was altered."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, name: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, name.encode())


def unseal(key: bytes, sealed: bytes, name: str) -> bytes:
    if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + _NONCE_BYTES + 16:
        raise SegmentUnreadable(f"{name}: not a sealed Vigil segment")
    nonce = sealed[len(MAGIC) : len(MAGIC) + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[len(MAGIC) + _NONCE_BYTES :], name.encode())
    except InvalidTag:
        raise SegmentUnreadable(f"{name}: wrong key or altered bytes") from None
