"""Screenshots of the pages, written by the specs where the README points a reader: var/ is
git-ignored, so each run leaves the latest pictures and commits none."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    """The whole page as var/screenshots/NAME.png, replacing the last run's."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
        raise ValueError(f"name a screenshot in lower-case words joined by hyphens, not {name!r}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
