"""The cameras table: API-added cameras persist; config-file cameras are mirrored."""

from __future__ import annotations

import time

import pytest

from vigil.config import CameraConfig
from vigil.store import EventStore
from vigil.store.ptz_rows import PtzPosition


def camera(camera_id: str, tenant: str = "default", **fields: object) -> CameraConfig:
    return CameraConfig.model_validate(
        {"id": camera_id, "tenant": tenant, "url": f"rtsp://cam/{camera_id}", **fields}
    )


def test_put_get_list_delete(store: EventStore) -> None:
    zone = {"name": "z", "polygon": [[0, 0], [9, 0], [9, 9]]}
    store.put_camera(camera("gate", zones=[zone]), "api")
    store.put_camera(camera("dock", tenant="harbour"), "config")
    gate = store.get_camera("gate")
    assert gate is not None and gate.origin == "api" and gate.config.zones[0].name == "z"
    assert [c.config.id for c in store.list_cameras()] == ["gate", "dock"]
    assert [c.config.id for c in store.list_cameras(tenants=["harbour"])] == ["dock"]
    assert store.get_camera("gate", tenants=["harbour"]) is None
    assert store.delete_camera("gate") is True
    assert store.delete_camera("gate") is False
    assert store.get_camera("gate") is None


def test_replacing_keeps_creation_time(store: EventStore) -> None:
    store.put_camera(camera("gate", name="Gate"), "api")
    created = store.get_camera("gate")
    time.sleep(0.01)
    store.put_camera(camera("gate", name="Main gate", analysis_fps=2), "api")
    replaced = store.get_camera("gate")
    assert created is not None and replaced is not None
    assert replaced.created_ms == created.created_ms < replaced.updated_ms
    assert replaced.config.name == "Main gate" and replaced.config.analysis_fps == 2


def test_origin_is_checked(store: EventStore) -> None:
    with pytest.raises(ValueError, match="origin"):
        store.put_camera(camera("gate"), "elsewhere")  # type: ignore[arg-type]


def test_sync_config_mirrors_the_file_and_keeps_api_cameras(store: EventStore) -> None:
    store.put_camera(camera("old"), "config")
    store.put_camera(camera("added"), "api")
    store.put_camera(camera("taken"), "api")
    result = store.sync_config_cameras([camera("new"), camera("taken", name="From file")])
    by_id = {c.config.id: c for c in result}
    assert set(by_id) == {"added", "new", "taken"}
    assert by_id["added"].origin == "api"
    assert by_id["taken"].origin == "config" and by_id["taken"].config.name == "From file"


def test_config_cameras_are_listed_in_the_files_order(store: EventStore) -> None:
    """A cluster's engine lists its cameras from here: in the order of the config file, as a
    single node's engine starts them, not by id."""
    store.sync_config_cameras([camera("zulu"), camera("alpha"), camera("mike")])
    assert [c.config.id for c in store.list_cameras()] == ["zulu", "alpha", "mike"]


def test_a_ptz_position_is_kept_until_its_camera_is_deleted(store: EventStore) -> None:
    """Where the API last moved a PTZ camera is cluster state; a camera deleted (through the
    API, or dropped from the config file) takes it along, so one added again under the same
    id is analysed at its saved settings."""
    store.put_camera(camera("yard"), "api")
    store.put_camera(camera("gate"), "config")
    store.put_ptz_position("yard", PtzPosition("2", paused=True, resume_ms=1_795_000_000_000))
    store.put_ptz_position("gate", PtzPosition("3", paused=True))
    assert store.ptz_positions()["yard"].resume_ms == 1_795_000_000_000
    store.put_ptz_position("gate", PtzPosition("3", paused=False))
    store.put_ptz_position("yard", PtzPosition("2", paused=False))
    assert store.ptz_positions() == {
        "yard": PtzPosition("2", paused=False), "gate": PtzPosition("3", paused=False),
    }
    store.delete_camera("yard")
    assert set(store.ptz_positions()) == {"gate"}
    store.sync_config_cameras([])
    assert store.ptz_positions() == {}
