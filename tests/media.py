"""Paths of the bundled files the tests use."""

from vigil.config import ROOT

CLIP = ROOT / "media" / "vtest.mp4"
FACE_PHOTO = ROOT / "tests" / "data" / "face.jpg"
DEMO = ROOT / "examples" / "demo.yaml"
