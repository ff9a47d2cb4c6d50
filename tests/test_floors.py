"""The house's floors (docs/architecture.md): no import cycles between modules, and no import
that runs up the floors. A new upward import or cycle fails here; the few that remain from
before the restructuring are listed below, each with why, and may only shrink."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Bottom to top. A module belongs to the floor of the longest prefix that names it. A floor may
# import its own floor and any floor below it, never one above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("vigil.domain", "vigil.text"),
    ("vigil.config", "vigil.alerts.config", "vigil.module_checks"),
    ("vigil.sources", "vigil.vision"),
    ("vigil.modules",),
    ("vigil.bus",),
    (
        "vigil.store",
        "vigil.auth.store",
        "vigil.auth.tables",
        "vigil.auth.passwords",
        "vigil.auth.roles",
        "vigil.auth.secrets",
        "vigil.auth.principal",
        "vigil.auth.scope",
    ),
    ("vigil.privacy", "vigil.recording"),
    ("vigil.pipeline",),
    (
        "vigil.alerts",
        "vigil.search",
        "vigil.cluster",
        "vigil.auth",
        "vigil.services",
        "vigil.fanout",
    ),
    ("vigil.runtime",),
    ("vigil.api",),
    ("vigil.cli", "vigil.bench", "vigil.__main__"),
)


def floor_of(module: str) -> int:
    best, floor = -1, -1
    for index, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), index
    assert floor >= 0, f"{module} is on no floor: add it to FLOORS and docs/architecture.md"
    return floor


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / "vigil").rglob("*.py"))}


def imports(path: Path, known: set[str], *, top_level_only: bool) -> Iterator[str]:
    """The Vigil modules `path` imports (`from a import b` counts as a.b where that is a
    module). With `top_level_only`, only those run when the module is first imported: not
    inside functions, not under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    nodes: list[ast.AST] = list(tree.body) if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                nodes.extend(node.body)
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports that module; `from module import name`
            # imports the module.
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name for name in submodules if name in known] or [node.module]
        else:
            continue
        for name in names:
            if name.startswith("vigil") and name in known:
                yield name


# Upward imports that predate the floors, each with why it is still here. None are left: the
# last two (config -> modules.registry, for module settings) became `vigil.module_checks`.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def test_no_import_runs_up_the_floors() -> None:
    known = modules()
    upward = set()
    for module, path in known.items():
        for target in imports(path, set(known), top_level_only=False):
            if floor_of(target) > floor_of(module):
                upward.add((module, target))
    unexpected = sorted(upward - set(KNOWN_UPWARD))
    assert not unexpected, "imports up the floors:\n" + "\n".join(
        f"  {a} (floor {floor_of(a)}) -> {b} (floor {floor_of(b)})" for a, b in unexpected
    )
    assert not set(KNOWN_UPWARD) - upward, "fixed: remove from KNOWN_UPWARD"


def test_no_import_cycles_between_modules() -> None:
    known = modules()
    graph = {m: set(imports(p, set(known), top_level_only=True)) - {m} for m, p in known.items()}
    # Only imports that run at import time: a cycle among them is what breaks depending on
    # which module happens to be imported first.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)
