"""Hour keys wrapped under the key file's master key: what the database holds opens no segment
without `security.key_file`, and keys stored before wrapping are wrapped in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.media import CLIP
from tests.recording.conftest import file_camera, record_file, sealed_of
from vigil.auth.secrets import SecretBox
from vigil.config import RecordingConfig
from vigil.recording.crypto import LEGACY_MAGIC, SegmentUnreadable, new_key, unseal
from vigil.recording.keys import KeyStore, hour_of
from vigil.recording.keywrap import WRAPPING, KeyWrap
from vigil.recording.service import RecordingService
from vigil.store import EventStore, LocalMediaStore
from vigil.store.schema import recording_keys

FAR = 2**62


def key_rows(store: EventStore) -> list[sa.Row[tuple[bytes, str | None]]]:
    with store.engine.connect() as c:
        return list(c.execute(sa.select(recording_keys.c.key, recording_keys.c.wrapping)))


def test_the_database_alone_opens_no_segment(
    tmp_path: Path, store: EventStore, media: LocalMediaStore
) -> None:
    box = SecretBox.from_key_file(tmp_path / "vigil.key")
    service = RecordingService(
        store.engine, media, RecordingConfig(mode="continuous"), KeyWrap.from_secrets(box)
    )
    record_file(service, file_camera(CLIP))
    service.writer.close()
    row = service.index.between("cam", 0, FAR, None)[0]
    sealed = sealed_of(media, row)
    stored = key_rows(store)
    assert stored and all(wrapping == WRAPPING for _, wrapping in stored)
    # Everything the database holds about the key, tried as the key: nothing opens.
    for blob, _ in stored:
        blob = bytes(blob)
        for start in range(len(blob) - 31):
            with pytest.raises(SegmentUnreadable):
                unseal(blob[start : start + 32], sealed, row.media_key, row.id)
    # Another installation's key file cannot unwrap it either …
    other = SecretBox.from_key_file(tmp_path / "other.key")
    with pytest.raises(SegmentUnreadable):
        KeyStore(store.engine, KeyWrap.from_secrets(other)).key(
            row.tenant, row.camera_id, row.hour_ms
        )
    # … while the key file that wrapped it does.
    key = KeyStore(store.engine, KeyWrap.from_secrets(box)).key(
        row.tenant, row.camera_id, row.hour_ms
    )
    assert key is not None
    assert unseal(key, sealed, row.media_key, row.id)


def test_a_wrapped_key_moved_to_another_hour_does_not_unwrap(store: EventStore) -> None:
    wrap = KeyWrap(new_key())
    keys = KeyStore(store.engine, wrap)
    hour = hour_of(1_800_000_000_000)
    keys.key_for_writing("default", "cam", hour)
    with store.engine.begin() as c:
        c.execute(sa.update(recording_keys).values(hour_ms=hour + 3_600_000))
    with pytest.raises(SegmentUnreadable):
        KeyStore(store.engine, wrap).key("default", "cam", hour + 3_600_000)


def test_keys_stored_before_wrapping_are_wrapped_in_place_and_still_open_their_video(
    store: EventStore, media: LocalMediaStore
) -> None:
    hour = hour_of(1_800_000_000_000)
    plain_key = new_key()
    name = "recordings/default/cam/legacy.ts.sealed"
    media.put(name, legacy_seal(plain_key, b"an old segment", name), "application/octet-stream")
    with store.engine.begin() as c:  # a row as 0008_recordings wrote it: the key in the clear
        c.execute(
            sa.insert(recording_keys).values(
                tenant="default", camera_id="cam", hour_ms=hour, key=plain_key, created_ms=0
            )
        )
    wrap = KeyWrap(new_key())
    service = RecordingService(store.engine, media, RecordingConfig(mode="continuous"), wrap)
    service.writer.close()
    [(stored, wrapping)] = key_rows(store)
    assert wrapping == WRAPPING
    assert plain_key not in bytes(stored), "the key must no longer be readable in the database"
    assert service.keys.wrap_legacy() == 0, "a second run finds nothing left to wrap"
    key = KeyStore(store.engine, wrap).key("default", "cam", hour)
    sealed = media.get(name)
    assert key is not None and sealed is not None
    assert unseal(key, sealed, name, "any id") == b"an old segment"


def legacy_seal(key: bytes, plaintext: bytes, name: str) -> bytes:
    """A segment as recorded before hour files: its own file, named by it alone."""
    nonce = os.urandom(12)
    return LEGACY_MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, name.encode())
