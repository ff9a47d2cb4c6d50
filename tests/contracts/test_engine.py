"""The engine contract the API relies on (vigil.pipeline.control.EngineControl), one suite
over both implementations: the single-node `LocalEngine` as `vigil serve` builds it
(runtime.build_engine, real detector, face model and recording) and the cluster API node's
`ClusterEngine` over a real NATS server and the store; and over the API suite's stand-in
for the pipeline (tests/api/conftest.py `StaticEngine`), so that the suite's routes meet an
engine that behaves as the real ones do.

A camera is added, changed and removed as the API's camera routes do it: handed to the
engine, then written to the store. Neither engine is started, so no camera has a picture yet:
what is held to here is what the API sees of cameras it knows, does not know, or cannot show
yet, and that both refuse a taken or unknown id alike."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import StaticEngine
from tests.media import CLIP
from vigil.bus import MemoryBus
from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry
from vigil.cluster.remote import ClusterEngine
from vigil.config import CameraConfig, parse_config
from vigil.pipeline.control import EngineControl, PipelineMetric
from vigil.runtime import build_engine
from vigil.services.nats import NatsServer
from vigil.store import EventStore, LocalMediaStore

_prefixes = itertools.count()


@pytest.fixture(params=["local", "cluster", "static"])
def engine(
    request: pytest.FixtureRequest, store: EventStore, tmp_path: Path
) -> Iterator[EngineControl]:
    if request.param == "static":
        yield StaticEngine([])
        return
    if request.param == "local":
        local = build_engine(
            parse_config({}), MemoryBus(), LocalMediaStore(tmp_path / "media"),
            offline=False, store=store,
        )
        try:
            yield local
        finally:
            local.stop()
        return
    server: NatsServer = request.getfixturevalue("nats_server")
    bus = NatsBus(server.url, prefix=f"engine{next(_prefixes)}")
    try:
        yield ClusterEngine(store, bus, ClusterRegistry(bus, ttl_s=30))
    finally:
        bus.close()


def add(
    engine: EngineControl, store: EventStore, camera_id: str, **settings: object
) -> CameraConfig:
    """As POST /api/cameras does: the engine first, then the store."""
    camera = CameraConfig.model_validate(
        {"id": camera_id, "url": str(CLIP), "modules": {"zone": {}}, **settings}
    )
    engine.add_camera(camera)
    store.put_camera(camera, "api")
    return camera


def ids(engine: EngineControl) -> list[str]:
    return [camera.id for camera in engine.cameras()]


def test_an_unknown_camera_is_a_key_error_or_none(engine: EngineControl) -> None:
    assert engine.status("nowhere") is None
    with pytest.raises(KeyError):
        engine.live_jpeg("nowhere")
    with pytest.raises(KeyError):
        engine.module_stats("nowhere")


def test_a_known_camera_is_listed_and_has_no_picture_before_it_runs(
    engine: EngineControl, store: EventStore
) -> None:
    assert engine.cameras() == []
    camera = add(engine, store, "gate")
    assert [known.id for known in engine.cameras()] == ["gate"]
    assert engine.cameras()[0].modules == camera.modules
    # Known but not (yet) showing anything: None, which the API answers with 503.
    assert engine.live_jpeg("gate", overlay=False, max_width=320) is None


def test_pipeline_metrics_are_typed_figures(engine: EngineControl) -> None:
    metrics = engine.pipeline_metrics()
    assert metrics, "an engine reports at least one figure"
    for name, metric in metrics.items():
        assert isinstance(metric, PipelineMetric), name
        assert metric.kind in ("counter", "gauge") and metric.help
        assert float(metric.value) >= 0.0


def test_a_taken_id_is_refused_and_changes_nothing(
    engine: EngineControl, store: EventStore
) -> None:
    add(engine, store, "gate")
    with pytest.raises(KeyError):
        engine.add_camera(CameraConfig(id="gate", url=str(CLIP), name="Another gate"))
    assert ids(engine) == ["gate"]
    assert engine.cameras()[0].name != "Another gate"


def test_an_unknown_id_cannot_be_replaced_or_removed(
    engine: EngineControl, store: EventStore
) -> None:
    with pytest.raises(KeyError):
        engine.replace_camera(CameraConfig(id="nowhere", url=str(CLIP)))
    with pytest.raises(KeyError):
        engine.remove_camera("nowhere")
    assert ids(engine) == []


def test_a_camera_is_replaced_then_removed(engine: EngineControl, store: EventStore) -> None:
    camera = add(engine, store, "gate")
    changed = camera.model_copy(update={"name": "North gate"})
    engine.replace_camera(changed)  # as PUT /api/cameras/gate does
    store.put_camera(changed, "api")
    assert [known.name for known in engine.cameras()] == ["North gate"]
    engine.remove_camera("gate")  # as DELETE /api/cameras/gate does
    store.delete_camera("gate")
    assert ids(engine) == []
    with pytest.raises(KeyError):
        engine.remove_camera("gate")


def test_a_disabled_camera_is_not_analysed_until_it_is_enabled(
    engine: EngineControl, store: EventStore
) -> None:
    """PUT with enabled=false removes a camera from the engine and keeps it stored; PUT with
    enabled=true adds it again."""
    camera = add(engine, store, "gate")
    engine.remove_camera("gate")
    store.put_camera(camera.model_copy(update={"enabled": False}), "api")
    assert ids(engine) == []
    with pytest.raises(KeyError):
        engine.replace_camera(camera)
    engine.add_camera(camera)
    store.put_camera(camera, "api")
    assert ids(engine) == ["gate"]


PTZ = {
    "zones": [{"name": "lot", "polygon": [[10, 10], [300, 10], [300, 200], [10, 200]]}],
    "modules": {"zone": {"zones": ["lot"]}},
    "ptz": {
        "onvif_url": "http://admin:secret@127.0.0.1:8000",
        "profile": "main",
        "presets": {"2": {
            "zones": [{"name": "lot", "polygon": [[400, 300], [700, 300], [700, 550]]}],
            "lines": [{"name": "barrier", "start": [400, 420], "end": [700, 420]}],
        }},
    },
}


def test_a_ptz_camera_is_analysed_at_its_preset_and_without_modules_while_paused(
    engine: EngineControl, store: EventStore
) -> None:
    """As vigil.pipeline.ptz has it around a move: no modules while the camera moves, the
    preset's zones and lines once it settled; deleted and added again, it starts afresh."""
    camera = add(engine, store, "yard", **PTZ)
    engine.analyse_as(camera, "2", paused=True)
    [moving] = engine.cameras()
    assert moving.modules == {} and [z.polygon[0] for z in moving.zones] == [(400, 300)]
    engine.analyse_as(camera, "2", paused=False)
    [settled] = engine.cameras()
    assert settled.modules == camera.modules
    assert [z.polygon[0] for z in settled.zones] == [(400, 300)]
    assert [line.name for line in settled.lines] == ["barrier"]
    with pytest.raises(KeyError):
        engine.analyse_as(camera.model_copy(update={"id": "nowhere"}), "2", paused=True)
    assert ids(engine) == ["yard"]

    engine.remove_camera("yard")
    store.delete_camera("yard")
    add(engine, store, "yard", **PTZ)
    [again] = engine.cameras()
    assert again.modules == camera.modules and again.lines == []
    assert [z.polygon[0] for z in again.zones] == [(10, 10)]
