"""The harness the page specs stand on, shown to be real: Debian's Chromium renders what the
service serves on both stores, axe-core fails a page that breaks WCAG and passes one that does
not, a page cannot reach beyond this machine, a keyboard alone gets through a form, and
screenshots land where the README says."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.conftest import World
from tests.browser import screenshots
from tests.browser.axe import assert_accessible, violations
from tests.browser.conftest import refuse_off_host
from tests.browser.keyboard import tab_to

# A one-pixel PNG, inline so that the page needs nothing served.
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def a_page(body: str) -> str:
    """A page that is sound apart from its body: language, title, a main landmark, a heading."""
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        "<title>Harness check</title></head>"
        f"<body><main><h1>Harness check</h1>{body}</main></body></html>"
    )


def test_axe_reports_an_image_without_alt_text_and_a_field_without_a_label(page: Page) -> None:
    page.set_content(
        a_page(f'<img src="{PIXEL}"><form><input type="text" id="surname" name="surname"></form>')
    )

    found = {violation.id: violation for violation in violations(page)}

    assert set(found) == {"image-alt", "label"}
    assert found["image-alt"].impact == "critical"
    assert found["image-alt"].targets == ["img"]
    assert found["label"].targets == ["#surname"]
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "2 WCAG 2.2 AA violation(s)" in report
    assert "- image-alt (critical): Images must have alternative text\n    img" in report
    assert "- label (critical): Form elements must have labels\n    #surname" in report


def test_axe_passes_the_same_page_once_the_image_has_alt_text_and_the_field_a_label(
    page: Page,
) -> None:
    page.set_content(
        a_page(
            f'<img src="{PIXEL}" alt="Trustledger"><form>'
            '<label for="surname">Surname</label><input type="text" id="surname" name="surname">'
            "</form>"
        )
    )

    assert_accessible(page)


def test_axe_holds_pages_to_wcag_2_2_such_as_its_target_size_for_controls(page: Page) -> None:
    # WCAG 2.2's 2.5.8: a control smaller than 24 by 24 CSS pixels needs space around it.
    page.set_content(
        a_page(
            '<button style="width:10px;height:10px;padding:0" aria-label="Close"></button>'
            '<button style="width:10px;height:10px;padding:0" aria-label="Open"></button>'
        )
    )

    assert "target-size" in {violation.id for violation in violations(page)}


def test_a_page_cannot_reach_beyond_this_machine(browser: Browser) -> None:
    context = browser.new_context()
    refused = refuse_off_host(context)
    page = context.new_page()

    page.set_content(a_page('<img src="https://cdn.example/logo.png" alt="Logo">'))

    assert refused == ["https://cdn.example/logo.png"]
    assert page.evaluate("document.images[0].naturalWidth") == 0
    context.close()


def test_the_service_answers_chromium_on_each_store(page: Page, world: World) -> None:
    response = page.goto(f"{world.url}/health")

    assert response is not None
    assert response.ok
    health = response.json()
    assert health["store"] == ("postgresql" if world.settings.is_postgres else "sqlite")
    assert health["stalled"] == []
    expect(page.locator("body")).to_contain_text('"status":"ok"')


def test_a_keyboard_alone_reaches_a_field_and_submits_its_form(page: Page) -> None:
    page.set_content(
        a_page(
            '<a href="#main">Skip to main content</a>'
            '<form><label for="email">Email address</label><input id="email" name="email">'
            "<button>Sign in</button></form>"
        )
    )
    # Only the check sees the submission: the page itself would go to the server.
    page.evaluate(
        """() => document.forms[0].addEventListener("submit", event => {
            event.preventDefault();
            document.body.dataset.submitted = new FormData(event.target).get("email");
        })"""
    )

    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type("commissioner@sandwell.test")
    tab_to(page, page.get_by_role("button", name="Sign in"))
    page.keyboard.press("Enter")

    expect(page.locator("body")).to_have_attribute("data-submitted", "commissioner@sandwell.test")


def test_tab_to_fails_for_what_the_keyboard_cannot_reach(page: Page) -> None:
    page.set_content(a_page('<div role="button" aria-label="Close">x</div>'))

    with pytest.raises(AssertionError, match="never reaches"):
        tab_to(page, page.get_by_role("button", name="Close"))


def test_a_screenshot_is_the_whole_page_as_a_png_named_for_it(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screenshots, "SCREENSHOTS", tmp_path / "screenshots")
    page.set_content(a_page("<p>Seen.</p>"))

    path = screenshots.screenshot(page, "harness-check")

    assert path == tmp_path / "screenshots" / "harness-check.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="lower-case words"):
        screenshots.screenshot(page, "../outside")
