"""Paths of the bundled files the tests use."""

from vigil.config import ROOT

CLIP = ROOT / "media" / "vtest.mp4"
FACE_PHOTO = ROOT / "tests" / "data" / "face.jpg"
DEMO = ROOT / "examples" / "demo.yaml"

# Geometry of the demo (examples/demo.yaml) for the 768×576 clip: a walkway zone and a counting
# line across it, so the people in the clip produce zone, line and loitering events.
ZONE = {
    "name": "walkway",
    "polygon": [[0, 195], [560, 190], [768, 290], [768, 470], [430, 380], [250, 305], [0, 270]],
}
LINE = {"name": "lamp-post", "start": [380, 150], "end": [380, 420]}
