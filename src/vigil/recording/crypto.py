"""AES-256-GCM sealing of recorded segments.

A sealed segment is MAGIC + 12-byte random nonce + ciphertext with its tag. Its name is the
associated data: the camera-hour file it is appended to and the segment's id in the index
(`segment_name`), so a segment copied into another camera's or hour's file, or swapped with
another row's in the same file, does not open: nobody can pass one camera's video off as
another's. Segments sealed before hour files existed (LEGACY_MAGIC) are named by their file.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VGR2"
LEGACY_MAGIC = b"VGR1"
KEY_BYTES = 32
_NONCE_BYTES = 12


class SegmentUnreadable(Exception):
    """A segment that cannot be opened: its key is gone (shredded) or wrong, or it was altered."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def segment_name(media_key: str, segment_id: str) -> str:
    return f"{media_key}#{segment_id}"


def seal(key: bytes, plaintext: bytes, media_key: str, segment_id: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    name = segment_name(media_key, segment_id)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, name.encode())


def unseal(key: bytes, sealed: bytes, media_key: str, segment_id: str) -> bytes:
    magic = sealed[: len(MAGIC)]
    if magic not in (MAGIC, LEGACY_MAGIC) or len(sealed) < len(MAGIC) + _NONCE_BYTES + 16:
        raise SegmentUnreadable(f"{media_key}: not a sealed Vigil segment")
    name = media_key if magic == LEGACY_MAGIC else segment_name(media_key, segment_id)
    nonce = sealed[len(MAGIC) : len(MAGIC) + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[len(MAGIC) + _NONCE_BYTES :], name.encode())
    except InvalidTag:
        raise SegmentUnreadable(f"{media_key}: wrong key or altered bytes") from None
