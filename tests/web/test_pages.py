"""The portfolio and a contract's dashboard as pages: each reader sees what the API would show
them and nothing more; denials are GOV.UK error pages; the API keeps its JSON at the same
addresses; GOV.UK Frontend's files are served."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.client import Client
from tests.api.conftest import World, succeeded
from tests.api.test_kpis import A1, REREFERRALS, SANDWELL_2024_25
from tests.web.browser import Browser, is_page

pytestmark = pytest.mark.usefixtures("workers")

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
BIRMINGHAM_COMMISSIONER = "commissioner@birmingham.test"


def caught_up(world: World, response: httpx.Response) -> None:
    """Wait until the dashboards have taken in the write this response answered."""
    position = response.headers["Trustledger-Position"]
    read = world.admin.portfolio(min_position=position)
    assert read.status_code == 200, read.text


def sandwell_with_a_return(world: World) -> dict[str, Any]:
    """Sandwell's contract, signed, with re-referrals scheduled and 2024-25's figure returned
    (22.7% against a 21.0% target with a 23.0% tolerance: amber)."""
    drafted = world.draft(title="Sandwell's contract with a return")
    drafted = succeeded(world.commissioner.schedule_kpi(drafted["id"], REREFERRALS, **A1))
    contract = world.signed_by_both(drafted)
    response = world.provider.submit_return(contract["id"], REREFERRALS, **SANDWELL_2024_25)
    succeeded(response, 201)
    caught_up(world, response)
    return contract


def birminghams(world: World) -> dict[str, Any]:
    response = world.other_commissioner.draft_contract(
        trust_organisation_id=world.birmingham["trust_id"],
        title="Birmingham's contract",
        term={"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
        scope=["front-door"],
        contract_sums={"2018-19": 100_000_000},
    )
    assert response.status_code == 201, response.text
    caught_up(world, response)
    return dict(response.json())


def contract_links(html: str) -> set[str]:
    return set(re.findall(r'href="/contracts/([0-9a-f-]{36})"', html))


def test_each_commissioner_sees_only_their_own_councils_contracts(world: World) -> None:
    sandwell = sandwell_with_a_return(world)
    birmingham = birminghams(world)

    sandwells_page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).home()
    birminghams_page = Browser.signed_in(world.url, BIRMINGHAM_COMMISSIONER).home()

    is_page(sandwells_page, "Portfolio")
    assert sandwell["id"] in contract_links(sandwells_page.text)
    assert birmingham["id"] not in contract_links(sandwells_page.text)
    assert "Birmingham&#39;s contract" not in sandwells_page.text
    assert birmingham["id"] in contract_links(birminghams_page.text)
    assert sandwell["id"] not in contract_links(birminghams_page.text)


def test_the_portfolio_shows_each_contracts_kpis_by_rag_as_tags(world: World) -> None:
    sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).home()

    assert '<strong class="govuk-tag govuk-tag--orange">Amber</strong>' in page.text
    assert '<table class="govuk-table">' in page.text


def test_an_auditor_sees_the_contracts_granted_and_no_others(world: World) -> None:
    granted = sandwell_with_a_return(world)
    other = sandwell_with_a_return(world)
    response = world.admin.grant(world.auditor_id, granted["id"])
    assert response.status_code in (200, 201), response.text

    page = Browser.signed_in(world.url, "auditor@dfe.test").home()

    assert granted["id"] in contract_links(page.text)
    assert other["id"] not in contract_links(page.text)


def test_the_dashboard_page_shows_each_kpi_with_its_rag_tag_target_and_trend(
    world: World,
) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).contract(contract["id"])

    assert page.status_code == 200
    is_page(page, "Sandwell&#39;s contract with a return: Sandwell Children&#39;s Trust")
    assert '<strong class="govuk-tag govuk-tag--orange">Amber</strong>' in page.text
    assert "22.7%" in page.text
    assert "21.0% (23.0%)" in page.text  # the target, and the tolerance
    # The trend as an image with its words, and its figures in a table beside it.
    assert 'role="img" focusable="false" aria-labelledby="chart-rereferrals_12m-title' in page.text
    assert '<desc id="chart-rereferrals_12m-desc">Values by period: 2024-25 22.7%.' in page.text
    assert '<caption class="govuk-table__caption govuk-table__caption--s">Values by period' in (
        page.text
    )
    for section in ("KPIs", "Performance notices", "Ofsted", "Finances", "Governance"):
        assert f">{section}</h2>" in page.text
    assert "£58,000,000" in page.text  # the 2018-19 sum, from integer pence


@pytest.mark.parametrize("who", ["other_commissioner", "other_provider"])
def test_a_stranger_to_a_contract_gets_the_permission_page(world: World, who: str) -> None:
    contract = sandwell_with_a_return(world)
    email = {
        "other_commissioner": BIRMINGHAM_COMMISSIONER,
        "other_provider": "provider@birmingham-trust.test",
    }[who]

    page = Browser.signed_in(world.url, email).contract(contract["id"])

    assert page.status_code == 403
    is_page(page, "You do not have permission to see this page")
    assert "Your organisation is not a party to this contract." in page.text
    assert "22.7" not in page.text


def test_an_auditor_not_granted_a_contract_gets_the_permission_page(world: World) -> None:
    contract = sandwell_with_a_return(world)

    page = Browser.signed_in(world.url, "auditor@dfe.test").contract(contract["id"])

    assert page.status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/contracts/6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001", "/contracts/not-a-contract", "/no-page"],
)
def test_a_page_that_does_not_exist_is_the_not_found_page(world: World, path: str) -> None:
    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).visit(path)

    assert page.status_code == 404
    is_page(page, "Page not found")


def test_the_api_keeps_its_json_and_problem_details_at_the_same_addresses(world: World) -> None:
    contract = sandwell_with_a_return(world)

    as_json = world.commissioner.contract(contract["id"])
    refused = world.other_commissioner.contract(contract["id"])
    anonymous = Client(world.url).contract(contract["id"])
    unknown = world.commissioner.get("/no-such-thing")

    assert as_json.status_code == 200
    assert as_json.json()["id"] == contract["id"]
    for response, status in ((refused, 403), (anonymous, 401), (unknown, 404)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/assets/govuk-frontend.min.css", "text/css"),
        ("/assets/govuk-frontend.min.js", "text/javascript"),
    ],
)
def test_gov_uk_frontends_files_are_served(world: World, path: str, kind: str) -> None:
    response = httpx.get(f"{world.url}{path}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert "govuk" in response.text


def test_pages_are_not_cached_or_framed(world: World) -> None:
    page = Browser.signed_in(world.url, SANDWELL_COMMISSIONER).home()

    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
