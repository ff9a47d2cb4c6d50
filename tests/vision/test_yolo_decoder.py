"""The YOLO decoder, through the real detector, on tiny ONNX graphs with known outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from vigil.config import DetectorConfig
from vigil.vision.detector import ModelError, OnnxDetector

SIZE = 64
LABELS = ["person", "car", "dog"]


def constant_model(path: Path, rows: np.ndarray, fixed_batch: bool = False) -> Path:
    """An ONNX model that ignores its image and returns `rows` (shape 1×A×B) for each image."""
    batch = 1 if fixed_batch else "batch"
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, SIZE, SIZE])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, *rows.shape[1:]])
    nodes = [
        helper.make_node("Shape", ["images"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch_dim"]),
        helper.make_node("Concat", ["batch_dim", "rest"], ["target"], axis=0),
        helper.make_node("Expand", ["rows", "target"], ["output0"]),
    ]
    inits = [
        numpy_helper.from_array(rows.astype(np.float32), "rows"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(rows.shape[1:], dtype=np.int64), "rest"),
    ]
    graph = helper.make_graph(nodes, "constant", [image], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def detector(path: Path, **overrides: object) -> OnnxDetector:
    settings = {
        "model": path,
        "family": "yolo",
        "input_size": SIZE,
        "labels": LABELS,
        "score_threshold": 0.3,
        "nms_iou": 0.5,
        "threads": 1,
        **overrides,
    }
    return OnnxDetector(DetectorConfig.model_validate(settings))


# Boxes in network pixels as centre x, centre y, width, height, then one score per class.
V8_BOXES = np.array(
    [
        [20, 30, 10, 20, 0.9, 0.0, 0.0],  # person, strong
        [21, 31, 10, 20, 0.8, 0.0, 0.0],  # same person, weaker: suppressed by NMS
        [21, 31, 10, 20, 0.0, 0.7, 0.0],  # a car on the same spot: another class, kept
        [50, 50, 8, 8, 0.0, 0.0, 0.2],  # dog below the score threshold
    ],
    dtype=np.float32,
)


def test_v8_output_is_decoded_suppressed_and_mapped_back(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None])  # (1, 4+C, N)
    image = np.zeros((64, 128, 3), dtype=np.uint8)  # scale 0.5, padded 16 px top and bottom
    (found,) = detector(model).detect([image])
    assert sorted(found.data["class_name"].tolist()) == ["car", "person"]
    person = found[found.data["class_name"] == "person"]
    assert person.confidence is not None and person.confidence[0] == pytest.approx(0.9)
    np.testing.assert_allclose(person.xyxy[0], [30, 8, 50, 48], atol=1e-4)


def test_v5_objectness_multiplies_class_scores(tmp_path: Path) -> None:
    rows = np.array(
        [[20, 30, 10, 20, 0.5, 0.9, 0.1, 0.0], [40, 40, 10, 10, 0.2, 0.0, 0.0, 0.9]],
        dtype=np.float32,
    )  # 0.18 < 0.3
    model = constant_model(tmp_path / "v5.onnx", rows[None])
    (found,) = detector(model).detect([np.zeros((64, 64, 3), dtype=np.uint8)])
    assert found.data["class_name"].tolist() == ["person"]
    assert found.confidence is not None and found.confidence[0] == pytest.approx(0.45)


def test_end_to_end_rows_and_batches_of_several_images(tmp_path: Path) -> None:
    rows = np.array([[10, 10, 30, 40, 0.8, 2], [0, 0, 5, 5, 0.1, 0]], dtype=np.float32)
    model = constant_model(tmp_path / "e2e.onnx", rows[None])
    images = [np.zeros((64, 64, 3), dtype=np.uint8) for _ in range(3)]
    results = detector(model).detect(images)
    assert len(results) == 3
    for found in results:
        assert found.data["class_name"].tolist() == ["dog"]
        np.testing.assert_allclose(found.xyxy[0], [10, 10, 30, 40])


def test_fixed_batch_model_runs_one_image_per_call(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "fixed.onnx", V8_BOXES.T[None], fixed_batch=True)
    results = detector(model).detect([np.zeros((64, 64, 3), dtype=np.uint8)] * 2)
    assert [len(found) for found in results] == [2, 2]


def test_class_filter_keeps_only_wanted_classes(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None])
    (found,) = detector(model, classes=["car"]).detect([np.zeros((64, 64, 3), dtype=np.uint8)])
    assert found.data["class_name"].tolist() == ["car"]


def test_wrong_label_count_is_explained(tmp_path: Path) -> None:
    model = constant_model(tmp_path / "v8.onnx", V8_BOXES.T[None])
    with pytest.raises(ValueError, match=r"check detector\.labels"):
        detector(model, labels=["a", "b", "c", "d", "e", "f", "g"]).detect(
            [np.zeros((64, 64, 3), dtype=np.uint8)]
        )


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        detector(tmp_path / "nope.onnx")
