"""The contract's business at a real browser: the Sandwell commissioner issues a performance
notice and the trust answers it with a remedial plan; a variation is proposed by one party and
agreed by the other; the trust reports its financial position with the keyboard alone. Every
page passes axe, including a form showing its errors, and the main ones are photographed."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.api.client import PASSWORD
from tests.api.conftest import World
from tests.browser.axe import assert_accessible
from tests.browser.keyboard import tab_to
from tests.browser.screenshots import screenshot

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"
SANDWELL_TRUST = "provider@sandwell-trust.test"


def a_live_contract_in_the_views(world: World) -> str:
    """Sandwell's contract, signed by both parties and taken in by the dashboards; its id."""
    contract = world.signed()
    head = world.anonymous().get("/health").json()["position"]
    assert world.commissioner.dashboard(contract["id"], min_position=head).status_code == 200
    return str(contract["id"])


def sign_in(page: Page, world: World, email: str) -> None:
    page.goto(f"{world.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")


def sign_out(page: Page) -> None:
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def fill_date(within: Page | Locator, legend: str, day: str, month: str, year: str) -> None:
    """Fill in the GOV.UK date input whose legend is `legend`."""
    group = within.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def success(page: Page, text: str) -> None:
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Success")
    expect(banner).to_contain_text(text)


def test_the_commissioner_issues_a_notice_and_the_trust_answers_with_a_plan(
    page: Page, world: World
) -> None:
    contract_id = a_live_contract_in_the_views(world)
    sign_in(page, world, SANDWELL_COMMISSIONER)
    page.goto(f"{world.url}/contracts/{contract_id}")
    page.get_by_role("link", name="All performance notices under this contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance notices")
    assert_accessible(page)
    page.get_by_role("button", name="Issue a performance notice").click()
    expect(page).to_have_title("Issue a performance notice \N{EN DASH} Trustledger")
    assert_accessible(page)

    # Sent without the remedy: the error summary names it, and the grounds are kept.
    page.get_by_label("What the trust has failed to do").fill("Late assessments since April")
    page.get_by_label("Contract clauses not met").fill("7.2")
    fill_date(page, "Date issued", "27", "3", "2025")
    fill_date(page, "Date the remedial plan is due", "24", "4", "2025")
    page.get_by_role("button", name="Issue the notice").click()
    expect(page).to_have_title("Error: Issue a performance notice \N{EN DASH} Trustledger")
    expect(page.get_by_role("alert")).to_contain_text("Enter the remedy the council requires")
    expect(page.get_by_label("What the trust has failed to do")).to_have_value(
        "Late assessments since April"
    )
    assert_accessible(page)
    screenshot(page, "notice-issue-error")

    page.get_by_label("The remedy the council requires").fill("Clear the backlog by June")
    page.get_by_role("button", name="Issue the notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Performance notice issued 27 March 2025"
    )
    success(page, "Performance notice issued")
    notice = page.url
    assert re.fullmatch(rf"{world.url}/notices/[0-9a-f-]{{36}}", notice)
    assert_accessible(page)
    screenshot(page, "notice-issued")

    sign_out(page)
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(notice)
    expect(page.get_by_text("Clear the backlog by June")).to_be_visible()
    page.get_by_role("button", name="Send a remedial plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send a remedial plan")
    assert_accessible(page)
    screenshot(page, "remedial-plan")
    page.get_by_label("Summary of the plan").fill("Agency assessors until the backlog is cleared")
    action = page.get_by_role("group", name="Action 1", exact=True)
    action.get_by_label("What will be done").fill("Hire six agency assessors")
    fill_date(action, "Done by", "30", "5", "2025")
    page.get_by_role("button", name="Send the plan to the council").click()

    success(page, "Remedial plan sent to the council")
    expect(page.get_by_role("heading", name="Plan 1: Awaiting decision")).to_be_visible()
    expect(page.get_by_role("cell", name="Hire six agency assessors")).to_be_visible()
    assert_accessible(page)

    sign_out(page)
    sign_in(page, world, SANDWELL_COMMISSIONER)
    page.goto(notice)
    expect(page.get_by_role("heading", name="Decide on the plan")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Accept the plan").click()
    success(page, "Remedial plan accepted")
    assert_accessible(page)
    screenshot(page, "notice")


def test_the_trust_proposes_a_variation_and_the_commissioner_agrees_to_it(
    page: Page, world: World
) -> None:
    contract_id = a_live_contract_in_the_views(world)
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(f"{world.url}/contracts/{contract_id}")
    page.get_by_role("link", name="Variations of the contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Variations")
    assert_accessible(page)
    page.get_by_role("button", name="Propose a variation").click()
    assert_accessible(page)

    page.get_by_label("Why the contract should change").fill("More children in care than planned")
    page.get_by_label("Financial year").select_option("2019-20")
    page.get_by_label("New contract sum for that year").fill("61,500,000")
    screenshot(page, "variation-proposal")
    page.get_by_role("button", name="Propose the variation").click()

    success(page, "Variation proposed")
    expect(page.get_by_role("heading", level=1)).to_have_text("More children in care than planned")
    expect(page.get_by_text("£61,500,000")).to_be_visible()
    variation = page.url
    assert_accessible(page)

    sign_out(page)
    sign_in(page, world, SANDWELL_COMMISSIONER)
    page.goto(variation)
    expect(page.get_by_role("heading", name="Your decision")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Agree to these terms").click()

    success(page, "Variation agreed: it is now part of the contract")
    expect(page.get_by_role("cell", name="Agreed")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "variation")
    agreed = world.commissioner.contract(contract_id).json()
    assert agreed["contract_sums"]["2019-20"] == 6_150_000_000


def test_the_trust_reports_its_financial_position_with_the_keyboard_alone(
    page: Page, world: World
) -> None:
    contract_id = a_live_contract_in_the_views(world)
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(f"{world.url}/contracts/{contract_id}/financial-positions/new")
    assert_accessible(page)

    tab_to(page, page.get_by_label("Financial year"))
    # A select takes its option from the keys typed, as a person choosing by keyboard does.
    page.keyboard.type("2018-19")
    tab_to(page, page.get_by_label("As at the end of"))
    page.keyboard.type("Q3")
    tab_to(page, page.get_by_label("Forecast outturn for the year"))
    page.keyboard.type("57,250,000")
    tab_to(page, page.get_by_label("Commentary"))
    page.keyboard.type("Fewer residential placements than budgeted")
    tab_to(page, page.get_by_role("button", name="Report the position"))
    page.keyboard.press("Enter")

    success(page, "Financial position reported")
    expect(page.get_by_role("heading", level=1)).to_have_text("Financial positions")
    expect(page.get_by_role("cell", name="£750,000 underspend")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "financial-positions")


def test_each_form_sent_empty_names_its_errors_in_a_summary_that_passes_axe(
    page: Page, world: World
) -> None:
    contract_id = a_live_contract_in_the_views(world)
    sign_in(page, world, SANDWELL_TRUST)

    page.goto(f"{world.url}/contracts/{contract_id}/variations/new")
    page.get_by_role("button", name="Propose the variation").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter why the contract should change")
    assert_accessible(page)
    screenshot(page, "variation-proposal-error")

    page.goto(f"{world.url}/contracts/{contract_id}/financial-positions/new")
    page.get_by_role("button", name="Report the position").click()
    expect(page.get_by_role("alert")).to_contain_text("Select the financial year")
    assert_accessible(page)
    # The summary's link takes the reader to the field it names.
    page.get_by_role("link", name="Enter the commentary on the position").click()
    expect(page.get_by_label("Commentary")).to_be_focused()
