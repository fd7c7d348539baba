"""Signing in at a real browser: the Sandwell commissioner finds the form by its labels, lands on
the portfolio, and both pages pass axe; the same journey with the keyboard alone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.api.client import PASSWORD
from tests.api.conftest import World
from tests.browser.axe import assert_accessible
from tests.browser.keyboard import tab_to
from tests.browser.screenshots import screenshot

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"


def a_live_contract_in_the_views(world: World) -> None:
    """Sandwell's contract, signed by both parties and taken in by the dashboards, so that the
    portfolio has a line to show (the API's read waits for the views to reach the log's head)."""
    world.signed()
    head = world.anonymous().get("/health").json()["position"]
    assert world.commissioner.portfolio(min_position=head).status_code == 200


def test_the_sandwell_commissioner_signs_in_and_lands_on_the_portfolio(
    page: Page, world: World
) -> None:
    a_live_contract_in_the_views(world)
    page.goto(f"{world.url}/sign-in")
    expect(page).to_have_title("Sign in \N{EN DASH} Trustledger")
    assert_accessible(page)
    screenshot(page, "sign-in")

    page.get_by_label("Email address").fill(SANDWELL_COMMISSIONER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{world.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")
    expect(page).to_have_title("Portfolio \N{EN DASH} Trustledger")
    expect(page.get_by_role("link", name="Sandwell Children's Trust")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "portfolio")


def test_a_wrong_password_is_named_in_an_error_summary_that_passes_axe(
    page: Page, world: World
) -> None:
    page.goto(f"{world.url}/sign-in")

    page.get_by_label("Email address").fill(SANDWELL_COMMISSIONER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)
    screenshot(page, "sign-in-error")


def test_the_commissioner_signs_in_with_the_keyboard_alone(page: Page, world: World) -> None:
    page.goto(f"{world.url}/sign-in")

    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type(SANDWELL_COMMISSIONER)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    tab_to(page, page.get_by_role("button", name="Sign in"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")
