"""axe-core, the accessibility engine, run on the pages the browser tests visit.

axe-core comes from the npm registry (package.json pins it; `make setup` installs it into
node_modules). AXE_CORE_JS may point at another copy of axe.min.js.

The app's Content-Security-Policy allows no inline script, and Playwright's
`page.add_script_tag(path=...)` inserts the file's text as an inline <script>, which the policy
blocks (tests/browser/test_accessibility.py shows it). So the engine goes in as an init script
(`context.add_init_script`), which the browser runs through its DevTools protocol in every new
document, outside the page's policy: the policy stays enforced for everything the app sends.
"""

from __future__ import annotations

import os
from pathlib import Path

AXE_JS = Path(
    os.environ.get("AXE_CORE_JS")
    or Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
)
FAILING_IMPACTS = ("serious", "critical")

_RUN = """async (impacts) => {
  if (document.contentType !== "text/html" || typeof window.axe === "undefined") {
    return null;
  }
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
}"""


class AccessibilityViolation(AssertionError):
    pass


def axe_script() -> Path:
    if not AXE_JS.is_file():
        raise FileNotFoundError(
            f"axe-core is missing at {AXE_JS}: run `make setup` (npm install), "
            "or set AXE_CORE_JS to a copy of axe.min.js"
        )
    return AXE_JS


def install_axe(context) -> None:
    """Make axe-core available in every document of this browser context."""
    context.add_init_script(path=str(axe_script()))


def axe_violations(page) -> list[dict] | None:
    """Serious and critical violations on the page as it is now; None for a non-HTML page."""
    return page.evaluate(_RUN, list(FAILING_IMPACTS))


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    found = axe_violations(page)
    if found:
        lines = [f"{len(found)} serious/critical accessibility violation(s) on {page.url}:"]
        lines += [f"  {v['impact']}: {v['id']}: {v['help']} at {v['nodes']}" for v in found]
        raise AccessibilityViolation("\n".join(lines))
