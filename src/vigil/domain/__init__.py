"""The bottom floor: plain typed values every other package shares, with no I/O and no imports
from the rest of Vigil (frames, events, series points, geometry). See docs/architecture.md."""
