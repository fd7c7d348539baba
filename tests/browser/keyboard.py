"""Moving through a page as someone without a mouse does."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

# More stops than any of our pages has before its main form: the skip link, the header's and
# the service navigation's links, then the form.
MOST_TABS = 40


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until the target has the focus; fail if it never does, because it is out of
    the tab order or behind a trap."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab pressed {MOST_TABS} times never reaches {target}")
