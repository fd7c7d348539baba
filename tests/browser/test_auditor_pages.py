"""An auditor at a real browser: signs in, reads a contract's activity feed, types a past date
into the dashboard's date input with the keyboard alone and sees which instant the page shows,
lists the changes between two dates, and verifies the audit log. Every page passes axe.

The story's first events are recorded on 11 April 2025 (see tests/web/test_scrutiny_pages.py)
and the return restated today, so a past day shows a different figure from now.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.api.client import PASSWORD
from tests.api.conftest import World
from tests.browser.axe import assert_accessible
from tests.browser.keyboard import tab_to
from tests.browser.screenshots import screenshot
from tests.web.test_scrutiny_pages import AUDITOR, DUPLICATES, restated_since_april_2025


@pytest.fixture(scope="module")
def restated(world: World) -> dict[str, Any]:
    return restated_since_april_2025(world)


def signed_in_as_the_auditor(page: Page, world: World) -> None:
    page.goto(f"{world.url}/sign-in")
    page.get_by_label("Email address").fill(AUDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")


def test_the_auditor_reads_the_activity_feed(
    page: Page, world: World, restated: dict[str, Any]
) -> None:
    signed_in_as_the_auditor(page, world)
    page.goto(f"{world.url}/contracts/{restated['id']}")

    page.get_by_role("link", name="Activity: who did what, newest first").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    newest = page.get_by_role("row").nth(1)
    expect(newest).to_contain_text("Return restated")
    expect(newest).to_contain_text("Trust, Sandwell Children's Trust")
    assert_accessible(page)
    screenshot(page, "activity")


def test_the_auditor_types_a_past_date_with_the_keyboard_and_is_told_the_instant_shown(
    page: Page, world: World, restated: dict[str, Any]
) -> None:
    signed_in_as_the_auditor(page, world)
    page.goto(f"{world.url}/contracts/{restated['id']}")
    expect(page.get_by_text("20.9%").first).to_be_visible()
    date = page.get_by_role("group", name="See the contract as it stood on a date")

    tab_to(page, date.get_by_label("Day"))
    page.keyboard.type("11")
    page.keyboard.press("Tab")
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.type("2025")
    tab_to(page, page.get_by_role("button", name="Show the contract on this date"))
    page.keyboard.press("Enter")

    banner = page.get_by_role("region", name="Important").filter(has_text="ledger stood")
    expect(banner).to_contain_text(
        "You are looking at the contract as the ledger stood at 23:59:59 on 11 April 2025, UK time"
    )
    expect(page.get_by_text("22.7%").first).to_be_visible()
    expect(page.get_by_text("20.9%")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "contract-as-at")

    banner.get_by_role("link", name="See the contract as it stands now").click()
    expect(page.get_by_text("20.9%").first).to_be_visible()


def test_a_date_that_is_not_one_is_named_in_an_error_summary_that_passes_axe(
    page: Page, world: World, restated: dict[str, Any]
) -> None:
    signed_in_as_the_auditor(page, world)
    page.goto(f"{world.url}/contracts/{restated['id']}")
    date = page.get_by_role("group", name="See the contract as it stood on a date")

    date.get_by_label("Day").fill("31")
    date.get_by_label("Month").fill("2")
    date.get_by_label("Year").fill("2022")
    page.get_by_role("button", name="Show the contract on this date").click()

    expect(page.get_by_role("alert")).to_contain_text("The date must be a real date")
    page.get_by_role("link", name="The date must be a real date").click()
    expect(date.get_by_label("Day")).to_be_focused()
    assert_accessible(page)


def test_the_auditor_lists_the_changes_between_two_dates(
    page: Page, world: World, restated: dict[str, Any]
) -> None:
    signed_in_as_the_auditor(page, world)
    page.goto(f"{world.url}/contracts/{restated['id']}")
    page.get_by_role("link", name="Changes between two dates").click()
    start = page.get_by_role("group", name="From")

    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("4")
    start.get_by_label("Year").fill("2025")
    page.get_by_role("button", name="Show the changes").click()

    expect(page.get_by_role("heading", level=2, name="Recorded from")).to_contain_text(
        "00:00:00 on 1 April 2025, UK time"
    )
    restatement = page.get_by_role("row").filter(has_text="Return restated")
    expect(restatement).to_contain_text(DUPLICATES)
    expect(page.get_by_role("row").filter(has_text="Contract drafted")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "changes")


def test_the_auditor_verifies_the_audit_log(
    page: Page, world: World, restated: dict[str, Any]
) -> None:
    signed_in_as_the_auditor(page, world)

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    assert_accessible(page)
    page.get_by_label("Leaf number to check (optional)").fill("0")
    page.get_by_role("button", name="Verify").click()

    success = page.get_by_role("alert")
    expect(success).to_contain_text("The audit log verified")
    expect(success).to_contain_text("Signature: passed.")
    expect(success).to_contain_text("Leaf 0: passed.")
    assert_accessible(page)
    screenshot(page, "audit-log-verified")
