"""Debian's Chromium, driven by Playwright's Python client.

Playwright is used only as a driver: its own browser builds are downloaded by `playwright
install`, which our closed network refuses, so it launches the `chromium` package that
`.ci/run` installs. Playwright gives each launch a fresh, empty profile of its own (it refuses
`--user-data-dir` among the arguments) and removes it when the browser closes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")

FLAGS = [
    # CI runs as root, and Chromium will not start its sandbox as root.
    "--no-sandbox",
    # No screen and no GPU: render in software.
    "--disable-gpu",
    # Without these Chromium calls Google's hosts at every start (updates, sync, field
    # trials), and the closed network refuses each call.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium from /usr/bin/chromium, or a failure that says how to get it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it (as root, through .ci/run), or "
            "`apt-get install chromium fonts-liberation`",
            pytrace=False,
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
