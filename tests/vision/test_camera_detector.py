"""Bring your own model: fp16 YOLO exports, per-camera input size / classes / threshold, tiled
detection, and providers the installed onnxruntime lacks — on small ONNX graphs built here whose
outputs are known, through the real detector and router."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import supervision as sv
from onnx import TensorProto, helper, numpy_helper

from tests.vision.test_yolo_decoder import LABELS, V8_BOXES, constant_model, detector
from vigil.config import CameraDetectorConfig, DetectorConfig
from vigil.vision.detector import ModelError, OnnxDetector
from vigil.vision.routing import DetectorRouter
from vigil.vision.tiles import tile_windows


def names(found: sv.Detections) -> list[str]:
    return [str(name) for name in found.data["class_name"]]


def _save(
    path: Path,
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    inits: list[onnx.TensorProto],
) -> Path:
    model = helper.make_model(
        helper.make_graph(nodes, "test", inputs, outputs, inits),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def fp16_model(path: Path, rows: np.ndarray, size: int = 64) -> Path:
    """Like an Ultralytics `half=True` export: float16 image in, float16 rows out."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT16, ["b", 3, size, size])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT16, ["b", *rows.shape[1:]])
    nodes = [
        helper.make_node("Shape", ["images"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch"]),
        helper.make_node("Concat", ["batch", "rest"], ["target"], axis=0),
        helper.make_node("Expand", ["rows", "target"], ["output0"]),
    ]
    inits = [
        numpy_helper.from_array(rows.astype(np.float16), "rows"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(rows.shape[1:], dtype=np.int64), "rest"),
    ]
    return _save(path, nodes, [image], [out], inits)


def size_aware_model(path: Path) -> Path:
    """A dynamic-size v8 model that finds one person: a box half the input's side, centred,
    scored input side / 256 — so the score tells which input size a frame was run at."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["b", 3, "h", "w"])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["b", 7, 1])
    nodes = [
        helper.make_node("Shape", ["images"], ["shape"]),
        helper.make_node("Slice", ["shape", "three", "four"], ["width_i"]),
        helper.make_node("Cast", ["width_i"], ["width"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["width", "coeff"], ["row"]),
        helper.make_node("Reshape", ["row", "row_shape"], ["rows"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch"]),
        helper.make_node("Concat", ["batch", "rest"], ["target"], axis=0),
        helper.make_node("Expand", ["rows", "target"], ["output0"]),
    ]
    coeff = np.array([0.5, 0.5, 0.5, 0.5, 1 / 256, 0, 0], dtype=np.float32)
    ints = {
        "zero": [0],
        "one": [1],
        "three": [3],
        "four": [4],
        "rest": [7, 1],
        "row_shape": [1, 7, 1],
    }
    inits = [numpy_helper.from_array(coeff, "coeff")] + [
        numpy_helper.from_array(np.array(v, dtype=np.int64), k) for k, v in ints.items()
    ]
    return _save(path, nodes, [image], [out], inits)


def test_fp16_export_is_fed_float16_and_decoded_like_fp32(tmp_path: Path) -> None:
    model = fp16_model(tmp_path / "v8-half.onnx", V8_BOXES.T[None])
    image = np.zeros((64, 128, 3), dtype=np.uint8)
    (found,) = detector(model).detect([image])
    assert sorted(names(found)) == ["car", "person"]
    person = found[np.asarray(found.data["class_name"]) == "person"]
    assert isinstance(person, sv.Detections)
    assert person.confidence is not None and person.confidence[0] == pytest.approx(0.9, abs=1e-3)
    np.testing.assert_allclose(person.xyxy[0], [30, 8, 50, 48], atol=0.1)


def _router(model: Path, size: int = 64) -> DetectorRouter:
    config = DetectorConfig.model_validate(
        {
            "model": model,
            "family": "yolo",
            "input_size": size,
            "labels": LABELS,
            "score_threshold": 0.2,
            "threads": 1,
        }
    )
    return DetectorRouter(OnnxDetector(config), config, OnnxDetector)


def test_cameras_with_different_input_sizes_share_a_batch_and_map_back(tmp_path: Path) -> None:
    router = _router(size_aware_model(tmp_path / "sized.onnx"))
    image = np.zeros((64, 128, 3), dtype=np.uint8)
    small, large = router.detect([image, image], [None, CameraDetectorConfig(input_size=128)])
    assert small.confidence is not None and large.confidence is not None
    assert small.confidence.tolist() == pytest.approx([64 / 256])
    assert large.confidence.tolist() == pytest.approx([128 / 256])
    # Half the input, centred, is the middle of the letterboxed frame at either size.
    for found in (small, large):
        np.testing.assert_allclose(found.xyxy[0], [32, 0, 96, 64], atol=1e-3)


def test_per_camera_classes_and_threshold_filter_only_that_camera(tmp_path: Path) -> None:
    router = _router(constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None]))
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    plain, cars, strict, loose = router.detect(
        [image] * 4,
        [
            None,
            CameraDetectorConfig(classes=["car"]),
            CameraDetectorConfig(score_threshold=0.85),
            CameraDetectorConfig(score_threshold=0.1),  # lower than the worker's 0.2
        ],
    )
    assert sorted(names(plain)) == ["car", "person"]
    assert names(cars) == ["car"]
    assert names(strict) == ["person"]
    assert sorted(names(loose)) == ["car", "dog", "person"]  # dog at 0.2


def test_unknown_camera_classes_are_refused_by_name(tmp_path: Path) -> None:
    router = _router(constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None]))
    with pytest.raises(ModelError, match="unicorn"):
        router.check(CameraDetectorConfig(classes=["person", "unicorn"]))


def test_tiles_cover_the_frame_with_the_asked_overlap() -> None:
    windows = tile_windows(1000, 400, 3, 1, overlap=0.2)
    assert len(windows) == 3
    assert windows[0][0] == 0 and windows[-1][2] == 1000
    assert all((y0, y1) == (0, 400) for _, y0, _, y1 in windows)
    width = windows[0][2] - windows[0][0]
    shared = windows[0][2] - windows[1][0]
    assert shared == pytest.approx(0.2 * width, abs=1)


def test_tiled_camera_finds_in_each_tile_and_merges_into_frame_coordinates(
    tmp_path: Path,
) -> None:
    # The model finds the same box in any input: in a tile it lands at the tile's offset.
    router = _router(size_aware_model(tmp_path / "sized.onnx"))
    wide = np.zeros((64, 256, 3), dtype=np.uint8)  # two 128×64 tiles side by side
    (whole,) = router.detect([wide], [None])
    (tiled,) = router.detect([wide], [CameraDetectorConfig(tiles=(2, 1), tile_overlap=0.0)])
    assert len(whole) == 1
    boxes = sorted(tiled.xyxy.tolist())
    # Each 128×64 tile: its middle half, moved by the tile's offset; the whole 256×64 frame:
    # x 64-192, and y clipped to the frame (the letterbox padding is not part of the image).
    np.testing.assert_allclose(
        boxes, [[32, 0, 96, 64], [64, 0, 192, 64], [160, 0, 224, 64]], atol=1e-3
    )


def test_gpu_provider_missing_from_onnxruntime_is_a_clear_error(tmp_path: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA: the error cannot happen here")
    model = constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None])
    with pytest.raises(ModelError, match=r"detector\.provider 'tensorrt'.*onnxruntime-gpu"):
        detector(model, provider="tensorrt")


def test_engine_refuses_a_camera_whose_classes_the_model_lacks(tmp_path: Path) -> None:
    from vigil.bus import MemoryBus
    from vigil.config import parse_config
    from vigil.pipeline.local_engine import LocalEngine
    from vigil.privacy.redact import FaceRedactor
    from vigil.store import LocalMediaStore

    model = constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None])
    config = parse_config(
        {
            "detector": {
                "model": str(model),
                "family": "yolo",
                "input_size": 64,
                "labels": LABELS,
                "threads": 1,
            }
        }
    )
    engine = LocalEngine(
        config,
        detector=OnnxDetector(config.detector),
        redactor=FaceRedactor(None),  # type: ignore[arg-type]  # never called
        bus=MemoryBus(),
        media=LocalMediaStore(tmp_path),
    )
    camera = parse_config(
        {"cameras": [{"id": "dock", "url": "clip.mp4", "detector": {"classes": ["truck"]}}]}
    ).cameras[0]
    try:
        with pytest.raises(ModelError, match="truck"):
            engine.add_camera(camera)
        assert engine.cameras() == []
    finally:
        engine.output.close()


def test_api_answers_a_model_error_with_422_naming_the_detector() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from vigil.api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/cameras")
    def add() -> None:
        raise ModelError("cameras[].detector.classes: the model has no class truck")

    response = TestClient(app, raise_server_exceptions=False).post("/cameras")
    assert response.status_code == 422
    assert response.json()["detail"] == "cameras[].detector.classes: the model has no class truck"


def test_a_fixed_size_model_refuses_another_input_size_when_the_camera_is_added(
    tmp_path: Path,
) -> None:
    router = _router(constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None]))  # fixed 64×64
    with pytest.raises(ModelError, match=r"input_size: the model cannot run at 128"):
        router.check(CameraDetectorConfig(input_size=128))
    # The other cameras keep working.
    (found,) = router.detect([np.zeros((64, 64, 3), dtype=np.uint8)], [None])
    assert sorted(names(found)) == ["car", "person"]


def test_config_file_cameras_with_unknown_classes_are_refused_at_load() -> None:
    from vigil.config import parse_config

    with pytest.raises(ValueError, match=r"cameras\[dock\]\.detector\.classes.*truk"):
        parse_config(
            {"cameras": [{"id": "dock", "url": "clip.mp4", "detector": {"classes": ["truk"]}}]}
        )
