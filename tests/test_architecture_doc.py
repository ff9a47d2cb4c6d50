"""docs/architecture.md's diagram of the floors is the list the import test enforces
(tests/test_floors.py), so the picture cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_floors import FLOORS

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def diagram_floors() -> list[tuple[str, ...]]:
    text = DOC.read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no mermaid diagram"
    nodes = dict(re.findall(r'^\s*F(\d+)\["([^"]+)"\]', block.group(1), re.M))
    chain = re.search(r"^\s*(F\d+(?:\s*-->\s*F\d+)+)\s*$", block.group(1), re.M)
    assert chain, "the diagram chains its floors bottom to top (F0 --> F1 --> …)"
    order = re.findall(r"F(\d+)", chain.group(1))
    return [tuple(part.strip() for part in nodes[index].split("·")) for index in order]


def test_the_diagram_shows_the_floors_the_imports_are_held_to() -> None:
    enforced = [tuple(name.removeprefix("vigil.") for name in floor) for floor in FLOORS]
    assert diagram_floors() == enforced
