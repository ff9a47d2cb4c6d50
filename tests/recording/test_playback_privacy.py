"""Red line for recordings: the crowd photo, recorded as a camera, is served (frames, clips,
event clips, evidence exports) only with every face destroyed — checked on every frame served,
not a sample — and only to roles and tenants that may see that camera's media."""

from __future__ import annotations

import io
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.api.conftest import build_event
from tests.recording.conftest import RECORDED_CAMERA as CAMERA
from tests.security.conftest import World
from vigil.api.params import iso
from vigil.config import VigilConfig
from vigil.recording.export import verify
from vigil.vision.faces import FaceDetector

PURPOSE = {"X-Vigil-Purpose": "incident 42: bag theft at the crossing"}
FRAMES = 20  # the face clip: 2 s at 10 fps


@pytest.fixture(scope="module")
def faces() -> FaceDetector:
    config = VigilConfig()
    return FaceDetector(config.privacy.face_model, config.privacy.face_threshold)


def mp4_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def test_the_recording_itself_shows_faces(face_clip: Path, faces: FaceDetector) -> None:
    with av.open(str(face_clip)) as container:
        first = next(iter(container.decode(video=0))).to_ndarray(format="bgr24")
    assert len(faces.detect(first)) >= 5, "the clip must show faces for this test to mean much"


def test_served_frames_clips_and_exports_have_no_detectable_face(
    recorded: tuple[World, int, int], faces: FaceDetector
) -> None:
    world, start_ms, end_ms = recorded
    client = world.client("alpha:investigator", **PURPOSE)
    span = {"start": iso(start_ms), "end": iso(end_ms)}

    frame = client.get(f"/api/recordings/{CAMERA}/frame.jpg", params={"at": iso(start_ms)})
    assert frame.status_code == 200, frame.text
    image = cv2.imdecode(np.frombuffer(frame.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (564, 800)
    assert len(faces.detect(image)) == 0

    clip = client.get(f"/api/recordings/{CAMERA}/clip.mp4", params=span)
    assert clip.status_code == 200, clip.text
    assert clip.headers["content-type"] == "video/mp4"
    served = mp4_frames(clip.content)
    assert len(served) == FRAMES, "every recorded frame of the range is in the clip"
    for index, picture in enumerate(served):
        assert len(faces.detect(picture)) == 0, f"clip frame {index} shows a face"

    export = client.post(f"/api/recordings/{CAMERA}/export", json=span)
    assert export.status_code == 200, export.text
    exported = mp4_frames(export.content)
    assert len(exported) == FRAMES
    for index, picture in enumerate(exported):
        assert len(faces.detect(picture)) == 0, f"exported frame {index} shows a face"


def test_an_event_clip_covers_the_event_with_faces_blurred(
    recorded: tuple[World, int, int], faces: FaceDetector
) -> None:
    world, start_ms, _end_ms = recorded
    event = build_event(tenant="alpha", camera_id=CAMERA, start_ms=start_ms + 1000)
    world.store.upsert_events([event])
    response = world.client("alpha:investigator", **PURPOSE).get(f"/api/events/{event.id}/clip")
    assert response.status_code == 200, response.text
    frames = mp4_frames(response.content)
    assert len(frames) == FRAMES  # 5 s either side of a 1 s event: the whole recording
    assert all(len(faces.detect(picture)) == 0 for picture in frames)


def test_an_export_is_verified_against_the_audit_log_and_a_changed_byte_is_not(
    recorded: tuple[World, int, int],
) -> None:
    world, start_ms, _end_ms = recorded
    client = world.client("alpha:investigator", **PURPOSE)
    export = client.post(
        f"/api/recordings/{CAMERA}/export",
        json={
            "start": iso(start_ms),
            "end": iso(start_ms + 500),
            "case_id": world.case_ids["alpha"],
        },
    )
    assert export.status_code == 200, export.text
    verdict = verify(world.store.engine, export.content)
    assert verdict.ok and verdict.sha256 == export.headers["X-Vigil-SHA256"]
    assert verdict.record is not None
    assert verdict.record["actor"].startswith("alpha:investigator")
    details = verdict.record["details"]
    assert details["purpose"] == PURPOSE["X-Vigil-Purpose"]
    assert details["case_id"] == world.case_ids["alpha"]
    assert details["camera_id"] == CAMERA

    changed = bytearray(export.content)
    changed[len(changed) // 2] ^= 0x01
    assert not verify(world.store.engine, bytes(changed)).ok

    manifest = client.get(f"/api/recordings/exports/{verdict.sha256}")
    assert manifest.status_code == 200, manifest.text
    assert manifest.json()["manifest"]["sha256"] == verdict.sha256
    assert (
        world.client("bravo:admin").get(f"/api/recordings/exports/{verdict.sha256}").status_code
        == 404
    )


def test_roles_tenants_and_purpose_are_enforced_on_recordings(
    recorded: tuple[World, int, int],
) -> None:
    world, start_ms, end_ms = recorded
    frame = f"/api/recordings/{CAMERA}/frame.jpg?at={iso(start_ms)}"
    timeline = f"/api/recordings/{CAMERA}/timeline?start={iso(start_ms - 60_000)}"
    assert world.client("alpha:operator", **PURPOSE).get(frame).status_code == 403
    assert world.client("alpha:viewer", **PURPOSE).get(timeline).status_code == 403
    assert world.client("alpha:investigator").get(frame).status_code == 403  # no purpose
    for intruder in ("bravo:investigator", "bravo:admin"):
        client = world.client(intruder, **PURPOSE)
        assert client.get(frame).status_code == 404
        assert client.get(timeline).status_code == 404
        export = client.post(
            f"/api/recordings/{CAMERA}/export", json={"start": iso(start_ms), "end": iso(end_ms)}
        )
        assert export.status_code == 404
    line = world.client("alpha:admin").get(timeline)
    assert line.status_code == 200, line.text
    recorded_ranges = line.json()["recorded"]
    assert len(recorded_ranges) == 1
    assert recorded_ranges[0]["start"] == iso(start_ms)


def test_usage_and_metrics_report_recorded_bytes_after_a_retention_run(
    recorded: tuple[World, int, int],
) -> None:
    world, _start_ms, _end_ms = recorded
    admin = world.client("alpha:admin")
    before = admin.get("/api/recordings/usage")
    assert before.status_code == 200, before.text
    assert before.json() == {
        "tenant": "alpha",
        "used_bytes": None,
        "quota_bytes": None,
        "near_quota": False,
    }
    world.app.state.retention.run_once()
    after = admin.get("/api/recordings/usage").json()
    assert after["used_bytes"] > 0
    assert world.client("alpha:operator").get("/api/recordings/usage").status_code == 403
    # The stored bytes of every tenant together are for the system administrator only
    # (docs/security.md, /metrics); a tenant admin learns nothing of other tenants there.
    metrics = world.client("root").get("/metrics").text
    stored = [
        line for line in metrics.splitlines() if line.startswith("vigil_recording_stored_bytes ")
    ]
    assert stored and float(stored[0].split()[1]) >= after["used_bytes"]
    assert "alpha" not in "".join(row for row in metrics.splitlines() if "recording" in row)
    tenant_metrics = admin.get("/metrics")
    assert tenant_metrics.status_code == 200
    assert "vigil_recording_" not in tenant_metrics.text


def test_mjpeg_playback_at_4x_serves_blurred_frames_in_time_order(
    recorded: tuple[World, int, int], faces: FaceDetector
) -> None:
    world, start_ms, _end_ms = recorded
    client = world.client("alpha:investigator", **PURPOSE)
    response = client.get(
        f"/api/recordings/{CAMERA}/play.mjpeg",
        params={"start": iso(start_ms), "speed": 4, "fps": 25, "width": 640},
    )
    assert response.status_code == 200, response.text
    parts = [part for part in response.content.split(b"--vigil-frame\r\n") if part]
    times: list[str] = []
    for part in parts:
        head, _, body = part.partition(b"\r\n\r\n")
        times.append(head.decode().split("X-Vigil-Frame-Time: ")[1].split("\r\n")[0])
        image = cv2.imdecode(np.frombuffer(body.removesuffix(b"\r\n"), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[1] == 640
        assert len(faces.detect(image)) == 0, f"the frame of {times[-1]} shows a face"
    # 2 s of recording, one frame per 4 / 25 s of it: about 12 frames, in order.
    assert 10 <= len(parts) <= FRAMES
    assert times == sorted(times) and len(set(times)) == len(times)
    speed = client.get(
        f"/api/recordings/{CAMERA}/play.mjpeg", params={"start": iso(start_ms), "speed": 3}
    )
    assert speed.status_code == 422 and "speed" in speed.text
