"""Every page of the service, visited in Chromium by the person it is for: axe finds nothing
against WCAG 2.2 AA, the title follows GOV.UK's pattern and the page has one main heading. A
stranger to the contract gets the 403 page, an address naming nothing gets the 404 page (both
pass axe too, and show no stack trace), and nobody signed out sees any of them.

The table of pages is checked against the application's routes, so a page added without a row
here fails the suite.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, BrowserContext, Error, Page, expect

from api.app import create_app
from api.settings import Settings
from api.web.routing import PageRoute
from tests.api.client import PASSWORD
from tests.api.conftest import World, succeeded
from tests.api.test_as_at import FIVE_MILLION_MORE, LATE_ASSESSMENTS
from tests.api.test_finances_and_ending import Q3_FORECAST
from tests.api.test_kpis import REREFERRALS, YEAR, queried
from tests.browser.axe import assert_accessible
from tests.browser.conftest import refuse_off_host
from tests.browser.test_return_journey import views_caught_up

EMAILS = {
    "commissioner": "commissioner@sandwell.test",
    "provider": "provider@sandwell-trust.test",
    "auditor": "auditor@dfe.test",
    "stranger": "commissioner@birmingham.test",
}
TITLE = re.compile(r".+ \N{EN DASH} Trustledger$")
# A year the contract's schedule owes and nobody has returned: the submit form's period.
OWED = "2023-24"
RETURN = "/contracts/{contract_id}/returns/{indicator_code}/{period}"


@dataclass(frozen=True)
class Visit:
    """Who a page is for, and whether it is about one contract (a stranger is refused it)."""

    who: str
    a_contracts_page: bool = True


# Every page a browser can ask for, by its route, with the person it is for.
PAGES: dict[str, Visit] = {
    "/sign-in": Visit("anonymous", a_contracts_page=False),
    "/sign-out": Visit("commissioner", a_contracts_page=False),
    "/": Visit("commissioner", a_contracts_page=False),
    "/returns": Visit("provider", a_contracts_page=False),
    "/audit-log": Visit("auditor", a_contracts_page=False),
    "/contracts/{contract_id}": Visit("commissioner"),
    "/contracts/{contract_id}/dashboard": Visit("commissioner"),
    "/contracts/{contract_id}/activity": Visit("auditor"),
    "/contracts/{contract_id}/changes": Visit("auditor"),
    RETURN: Visit("commissioner"),
    RETURN + "/submit": Visit("provider"),
    RETURN + "/restate": Visit("provider"),
    RETURN + "/query": Visit("commissioner"),
    RETURN + "/queries/{query_id}/answer": Visit("provider"),
    "/contracts/{contract_id}/variations": Visit("commissioner"),
    "/contracts/{contract_id}/variations/new": Visit("provider"),
    "/contracts/{contract_id}/variations/{variation_id}": Visit("commissioner"),
    "/contracts/{contract_id}/notices": Visit("commissioner"),
    "/contracts/{contract_id}/notices/new": Visit("commissioner"),
    "/notices/{notice_id}": Visit("commissioner"),
    "/notices/{notice_id}/remedial-plan": Visit("provider"),
    "/contracts/{contract_id}/financial-positions": Visit("commissioner"),
    "/contracts/{contract_id}/financial-positions/new": Visit("provider"),
}


def page_routes(tmp_path: Path) -> set[str]:
    app = create_app(Settings(var_dir=tmp_path))
    return {
        context.path
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, PageRoute) and "GET" in context.original_route.methods
    }


def test_the_table_names_every_page_the_service_serves(tmp_path: Path) -> None:
    assert sorted(page_routes(tmp_path)) == sorted(PAGES)


@pytest.fixture(scope="module")
def ids(world: World) -> dict[str, str]:
    """A contract with something on every page: a return submitted and queried, a year still
    owed, a notice, a variation and a financial position, all taken in by the views, and the
    auditor granted it."""
    contract, query_id, _ = queried(world)
    cid = contract["id"]
    notice = succeeded(world.commissioner.issue_notice(cid, **LATE_ASSESSMENTS), 201)
    variation = succeeded(world.provider.propose_variation(cid, **FIVE_MILLION_MORE), 201)
    succeeded(world.provider.report_financial_position(cid, **Q3_FORECAST))
    succeeded(world.admin.grant(world.auditor_id, cid))
    views_caught_up(world, contract)
    return {
        "contract_id": cid,
        "indicator_code": REREFERRALS,
        "period": YEAR,
        "query_id": query_id,
        "notice_id": notice["id"],
        "variation_id": variation["id"],
    }


def address(route: str, ids: dict[str, str]) -> str:
    if route.endswith("/submit"):
        ids = {**ids, "period": OWED}
    return route.format(**ids)


@pytest.fixture(scope="module")
def people(browser: Browser, world: World) -> Iterator[dict[str, BrowserContext]]:
    """A browser session for each person, signed in once for the module."""
    contexts: dict[str, BrowserContext] = {}
    for who, email in [("anonymous", None), *EMAILS.items()]:
        context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
        refuse_off_host(context)
        if email is not None:
            page = context.new_page()
            page.goto(f"{world.url}/sign-in")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")
            page.close()
        contexts[who] = context
    yield contexts
    for context in contexts.values():
        context.close()


class Opener:
    """Opens pages in the people's sessions, and keeps what their scripts threw."""

    def __init__(self, people: dict[str, BrowserContext]) -> None:
        self.people = people
        self.pages: list[Page] = []
        self.thrown: list[Error] = []

    def __call__(self, who: str) -> Page:
        page = self.people[who].new_page()
        page.on("pageerror", self._threw)
        self.pages.append(page)
        return page

    def _threw(self, error: Error) -> None:
        self.thrown.append(error)


@pytest.fixture
def open_as(people: dict[str, BrowserContext]) -> Iterator[Opener]:
    """A page in a person's session; the spec fails if its scripts threw."""
    opener = Opener(people)
    yield opener
    for page in opener.pages:
        page.close()
    assert not opener.thrown, "the page's scripts threw:\n" + "\n".join(map(str, opener.thrown))


def status_of(page: Page, url: str) -> int:
    """The status of the page the browser lands on at `url`."""
    response = page.goto(url)
    assert response is not None, url
    return response.status


def a_page_in_the_service(page: Page) -> None:
    """GOV.UK's page furniture: a title naming the page, then the service after an en dash; one
    h1; and nothing axe objects to."""
    assert TITLE.fullmatch(page.title()), page.title()
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_accessible(page)


@pytest.mark.parametrize("route", sorted(PAGES))
def test_each_page_passes_axe_for_the_person_it_is_for(
    route: str, world: World, ids: dict[str, str], open_as: Opener
) -> None:
    page = open_as(PAGES[route].who)

    status = status_of(page, world.url + address(route, ids))

    assert status == 200, route
    a_page_in_the_service(page)


CONTRACTS_PAGES = sorted(route for route, visit in PAGES.items() if visit.a_contracts_page)


@pytest.mark.parametrize("route", CONTRACTS_PAGES)
def test_a_stranger_to_the_contract_gets_the_403_page(
    route: str, world: World, ids: dict[str, str], open_as: Opener
) -> None:
    page = open_as("stranger")

    status = status_of(page, world.url + address(route, ids))

    assert status == 403, route
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not have permission to see this page"
    )
    expect(page.locator("body")).not_to_contain_text("Traceback")
    a_page_in_the_service(page)


@pytest.mark.parametrize("route", CONTRACTS_PAGES)
def test_an_address_naming_nothing_gets_the_404_page(
    route: str, world: World, ids: dict[str, str], open_as: Opener
) -> None:
    """The first id in the address is one the ledger has never heard of."""
    first = re.search(r"\{(\w+_id)\}", route)
    assert first is not None
    nothing = {**ids, first.group(1): str(uuid.uuid4())}
    page = open_as(PAGES[route].who)

    status = status_of(page, world.url + address(route, nothing))

    assert status == 404, route
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text("Traceback")
    a_page_in_the_service(page)


@pytest.mark.parametrize("route", sorted(set(PAGES) - {"/sign-in"}))
def test_nobody_signed_out_sees_a_page_but_is_sent_to_sign_in(
    route: str, world: World, ids: dict[str, str]
) -> None:
    response = httpx.get(world.url + address(route, ids), headers={"Accept": "text/html"})

    assert response.status_code == 303, route
    assert response.headers["Location"].startswith("/sign-in")
