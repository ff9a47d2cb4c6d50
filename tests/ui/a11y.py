"""axe-core (vendored, tests/ui/vendor/axe-core) run inside a page under test."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

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
    for attempt in range(3):
        try:
            found = page.evaluate(RUN)
            break
        except PlaywrightError as error:
            # A live page replaces elements while axe walks it; axe then fails to name a node
            # that has left the document. That is axe's failure, not a finding: walk again.
            if attempt == 2 or "nthChild" not in str(error):
                raise
    return [item for item in found if item["impact"] in BLOCKING]
