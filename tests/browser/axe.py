"""axe-core, run in the page under test, for the WCAG 2.2 AA conformance the issue asks of
every page (WCAG 2.2 AA includes the A criteria, and those of 2.0 and 2.1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# axe tags its rules by the WCAG version and level that introduced the criterion; 2.2 AA is
# the union of these. Rules tagged only "best-practice" are left out: they are advice, and a
# page that conforms should not fail for them.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@dataclass(frozen=True)
class Violation:
    """One rule a page breaks, with every element that breaks it."""

    id: str
    impact: str | None
    help: str
    targets: list[str]

    def __str__(self) -> str:
        elements = "".join(f"\n    {target}" for target in self.targets)
        return f"- {self.id} ({self.impact or 'no impact given'}): {self.help}{elements}"


def violations(page: Page) -> list[Violation]:
    """What axe finds against WCAG 2.2 A and AA in the page as it is now."""
    source = AXE.read_text(encoding="utf-8")
    # Evaluated through the DevTools protocol rather than added as a <script>, so a page's
    # Content-Security-Policy cannot block it; every frame gets its own copy, because axe
    # checks inside frames by asking the copy there.
    for frame in page.frames:
        frame.evaluate(source)
    results: dict[str, Any] = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        WCAG_22_AA,
    )
    return [
        Violation(
            id=rule["id"],
            impact=rule["impact"],
            help=rule["help"],
            targets=[_selector(node["target"]) for node in rule["nodes"]],
        )
        for rule in results["violations"]
    ]


def assert_accessible(page: Page) -> None:
    """Fail, listing every violation and where it is, unless axe finds none."""
    found = violations(page)
    if found:
        listed = "\n".join(str(violation) for violation in found)
        raise AssertionError(
            f"axe-core finds {len(found)} WCAG 2.2 AA violation(s) on {page.url}:\n{listed}"
        )


def _selector(target: list[Any]) -> str:
    """axe names an element by a selector, or by a path of them when it sits inside frames or
    shadow roots (a list per step)."""
    return " >> ".join(
        step if isinstance(step, str) else " >>> ".join(str(part) for part in step)
        for step in target
    )
