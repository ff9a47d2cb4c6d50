"""axe-core (vendored, tests/ui/vendor/axe-core) run inside a page under test."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }));
}"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """The page's axe violations of impact serious or critical. axe is evaluated through the
    browser's debugging protocol, which the page's Content-Security-Policy does not cover:
    the page itself is tested as served."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {_source()}\n }}")
    found = page.evaluate(RUN)
    return [item for item in found if item["impact"] in BLOCKING]
