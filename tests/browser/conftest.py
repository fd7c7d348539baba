"""A real browser for the page specs: Debian's Chromium, headless, one for all of them; a fresh page
per spec that may only talk to this machine; and, per store, the world the HTTP specs act in
(an admin, Sandwell and Birmingham with their trusts and people, an auditor), served with the
projection workers beside it so that the pages read views that are kept."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, Route, sync_playwright

from tests.api.conftest import World, open_world
from tests.api.server import projection_workers
from tests.browser.chromium import launch
from tests.conftest import STORES

# The only hosts a page may reach. Anything else would be a page leaning on the internet (a
# CDN's script or font, where the issue asks for files shipped with the service), and on our
# closed network a request that hangs or fails.
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# One browser for all the specs of this package, closed when they are done: while it is open
# Playwright's sync client keeps its event loop marked as running in the main thread, and a
# spec elsewhere that calls asyncio.run() (tests/test_exports.py does) would be refused.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with (
        open_world(request.param, tmp_path_factory.mktemp(request.param)) as world,
        projection_workers(world.settings),
    ):
        yield world


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own (no cookies from another spec), in British English and
    London time. After the spec it fails if the page tried to reach beyond this machine or
    threw an error from its scripts."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    off_host = refuse_off_host(context)
    page = context.new_page()
    script_errors: list[Error] = []

    def threw(error: Error) -> None:
        script_errors.append(error)

    page.on("pageerror", threw)
    yield page
    context.close()
    assert not off_host, "the page asked for resources beyond this machine:\n" + "\n".join(off_host)
    assert not script_errors, "the page's scripts threw:\n" + "\n".join(
        str(error) for error in script_errors
    )


def refuse_off_host(context: BrowserContext) -> list[str]:
    """Abort every request from this context to a host other than this machine's loopback;
    the list returned fills with their URLs."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)
    return refused
