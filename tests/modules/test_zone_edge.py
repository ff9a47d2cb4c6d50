"""Every module that asks "is this object in the zone?" gets the same answer, at the frame's
edge too (the zone module used to say no where the occupancy module said yes)."""

from __future__ import annotations

from tests.modules.synth import Path, build, every, run, scene

WHOLE_FRAME = {"name": "all", "polygon": [[0, 0], [640, 0], [640, 480], [0, 480]]}


def test_an_object_standing_on_the_frame_edge_is_in_a_whole_frame_zone() -> None:
    # Bottom-centre at y = 480: the box was clipped to the 640×480 frame.
    frames = scene(every(200, 3000), Path(1, "person", (320, 480)))
    zone = run(build("zone", {}, zones=[WHOLE_FRAME]), frames)
    assert [ts for ts, _ in zone.starts()] == [0]
    occupancy = build("occupancy", {"min_count": 1, "min_duration_s": 1}, zones=[WHOLE_FRAME])
    counted = run(occupancy, frames)
    assert {value for _, value in counted.metric("occupancy", "all")} == {1}
    assert len(counted.starts()) == 1
