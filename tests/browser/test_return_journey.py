"""A return's journey at a real browser, on both stores: the trust finds what it owes and submits
Sandwell's 2024-25 re-referrals (first mistyped: the error summary takes the focus), the council
queries the figure, the trust answers, the council accepts it, the contract's dashboard shows the
accepted value and the auditor's activity feed shows the four steps. Every page passes axe; the
submit form is also filled in with the keyboard alone, and a return restated.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.api.client import PASSWORD
from tests.api.conftest import World
from tests.api.test_kpis import scheduled
from tests.browser.axe import assert_accessible
from tests.browser.keyboard import tab_to
from tests.browser.screenshots import screenshot

SANDWELL_TRUST = "provider@sandwell-trust.test"
SANDWELL_COUNCIL = "commissioner@sandwell.test"
AUDITOR = "auditor@dfe.test"
QUESTION = "Why did re-referrals rise by two points?"
ANSWER = "Two teams merged their front doors in the autumn."
TITLE = "A1 Re-referrals within 12 months"


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


def views_caught_up(world: World, contract: dict[str, Any]) -> None:
    """Wait until the dashboards and the activity feed have taken in everything written so far:
    their reads wait for a log position, and the log's head is the one to wait for."""
    head = world.anonymous().get("/health").json()["position"]
    assert world.admin.portfolio(min_position=head).status_code == 200
    assert world.admin.activity(contract["id"], min_position=head).status_code == 200


def the_kpi_row(page: Page) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=TITLE, exact=True))


def test_a_return_is_submitted_queried_answered_and_accepted_and_the_dashboard_shows_it(
    page: Page, world: World
) -> None:
    contract = scheduled(world, title="The journey's contract")
    views_caught_up(world, contract)

    # The trust finds the return it owes.
    sign_in(page, world, SANDWELL_TRUST)
    page.get_by_role("link", name="Returns due").click()
    expect(page).to_have_title("Returns due \N{EN DASH} Trustledger")
    owed = page.get_by_role("row").filter(has_text="The journey's contract")
    expect(owed.filter(has_text="2024-25")).to_contain_text("Overdue")
    assert_accessible(page)
    screenshot(page, "returns-due")
    owed.filter(has_text="2024-25").get_by_role("link", name="Submit").click()

    # It mistypes the value: the error summary says so and takes the focus.
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit the A1 return for 2024-25")
    assert_accessible(page)
    page.get_by_label("Value", exact=True).fill("twenty-two point seven")
    page.get_by_label("Numerator").fill("844")
    page.get_by_label("Denominator").fill("3723")
    page.get_by_role("button", name="Submit return").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the value as a number")
    expect(page).to_have_title("Error: Submit the A1 return for 2024-25 \N{EN DASH} Trustledger")
    expect(page.get_by_label("Numerator")).to_have_value("844")
    assert_accessible(page)
    screenshot(page, "return-submit-error")
    summary.get_by_role("link", name="Enter the value as a number").click()
    expect(page.get_by_label("Value", exact=True)).to_be_focused()
    page.get_by_label("Value", exact=True).fill("22.7")
    page.get_by_role("button", name="Submit return").click()

    expect(page.get_by_role("alert")).to_contain_text("Return submitted")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE}, 2024-25")
    expect(page.get_by_text("22.7% (844 of 3,723)")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "return")
    sign_out(page)

    # The council reaches it from the contract's dashboard and queries it.
    views_caught_up(world, contract)
    sign_in(page, world, SANDWELL_COUNCIL)
    page.goto(f"{world.url}/contracts/{contract['id']}")
    the_kpi_row(page).get_by_role("link", name="A1 return for 2024-25").click()
    page.get_by_role("link", name="Query this return").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Query the A1 return for 2024-25")
    page.get_by_label("Your question").fill(QUESTION)
    assert_accessible(page)
    screenshot(page, "return-query")
    page.get_by_role("button", name="Send query").click()
    expect(page.get_by_role("alert")).to_contain_text("Query sent to the trust")
    expect(page.get_by_role("button", name="Accept this return")).to_have_count(0)
    sign_out(page)

    # The trust answers.
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(f"{world.url}/contracts/{contract['id']}")
    the_kpi_row(page).get_by_role("link", name="A1 return for 2024-25").click()
    expect(page.get_by_text("Queried", exact=True)).to_be_visible()
    page.get_by_role("link", name=f"Answer the query that asks: {QUESTION}").click()
    expect(page.get_by_text(QUESTION)).to_be_visible()
    page.get_by_label("Your answer").fill(ANSWER)
    assert_accessible(page)
    screenshot(page, "return-answer")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer sent to the council")
    sign_out(page)

    # The council accepts it.
    sign_in(page, world, SANDWELL_COUNCIL)
    page.goto(f"{world.url}/contracts/{contract['id']}")
    the_kpi_row(page).get_by_role("link", name="A1 return for 2024-25").click()
    page.get_by_role("button", name="Accept this return").click()
    expect(page.get_by_role("alert")).to_contain_text("Return accepted")
    history = page.get_by_role("table").filter(has_text="Everything recorded about this return")
    expect(history.get_by_role("row")).to_have_count(5)  # its header, and four steps
    expect(history.get_by_role("row").nth(1)).to_contain_text("Submitted 22.7%")
    expect(history.get_by_role("row").nth(2)).to_contain_text(f"Queried: {QUESTION}")
    expect(history.get_by_role("row").nth(3)).to_contain_text(f"Answered: {ANSWER}")
    expect(history.get_by_role("row").nth(4)).to_contain_text("Accepted")
    assert_accessible(page)
    screenshot(page, "return-accepted")

    # The dashboard shows the accepted value.
    views_caught_up(world, contract)
    page.goto(f"{world.url}/contracts/{contract['id']}")
    expect(the_kpi_row(page)).to_contain_text("22.7%")
    expect(the_kpi_row(page)).to_contain_text("2024-25, late, accepted")
    sign_out(page)

    # The auditor, once granted the contract, finds the four steps in its activity feed.
    granted = world.admin.grant(world.auditor_id, contract["id"])
    assert granted.status_code in (200, 201), granted.text
    sign_in(page, world, AUDITOR)
    page.goto(f"{world.url}/contracts/{contract['id']}/activity")
    newest_first = page.get_by_role("row")
    for place, (what, who) in enumerate(
        [
            ("Return accepted", "Sandwell Metropolitan Borough Council"),
            ("Query answered", "Sandwell Children's Trust"),
            ("Return queried", "Sandwell Metropolitan Borough Council"),
            ("Return submitted", "Sandwell Children's Trust"),
        ],
        start=1,
    ):
        expect(newest_first.nth(place)).to_contain_text(what)
        expect(newest_first.nth(place)).to_contain_text(f"{TITLE} 2024-25")
        expect(newest_first.nth(place)).to_contain_text(who)
    assert_accessible(page)


def test_the_trust_submits_a_return_with_the_keyboard_alone(page: Page, world: World) -> None:
    contract = scheduled(world, title="A return made with the keyboard")
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(f"{world.url}/contracts/{contract['id']}/returns/rereferrals_12m/2023-24/submit")

    tab_to(page, page.get_by_label("Value", exact=True))
    page.keyboard.type("22.7")
    tab_to(page, page.get_by_label("Numerator"))
    page.keyboard.type("844")
    tab_to(page, page.get_by_label("Denominator"))
    page.keyboard.type("3723")
    tab_to(page, page.get_by_label("Commentary (optional)"))
    page.keyboard.type("Made without a mouse.")
    tab_to(page, page.get_by_role("button", name="Submit return"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_contain_text("Return submitted")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE}, 2023-24")
    expect(page.get_by_text("Made without a mouse.", exact=True)).to_be_visible()


def test_the_trust_restates_a_return_with_its_reason(page: Page, world: World) -> None:
    contract = scheduled(world, title="A return restated")
    made = world.provider.submit_return(
        contract["id"],
        "rereferrals_12m",
        period="2024-25",
        value="22.7",
        numerator=844,
        denominator=3723,
    )
    assert made.status_code == 201, made.text
    sign_in(page, world, SANDWELL_TRUST)
    page.goto(f"{world.url}/contracts/{contract['id']}/returns/rereferrals_12m/2024-25")

    page.get_by_role("link", name="Restate this return").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restate the A1 return for 2024-25")
    page.get_by_label("Value", exact=True).fill("22.5")
    page.get_by_label("Numerator").fill("838")
    page.get_by_label("Denominator").fill("3723")
    page.get_by_label("Reason for restating").fill("Six contacts were counted twice")
    assert_accessible(page)
    screenshot(page, "return-restate")
    page.get_by_role("button", name="Restate return").click()

    expect(page.get_by_role("alert")).to_contain_text("Return restated")
    expect(page.get_by_text("22.5% (838 of 3,723), restated")).to_be_visible()
    expect(
        page.get_by_text("Restated as 22.5%, because: Six contacts were counted twice")
    ).to_be_visible()
