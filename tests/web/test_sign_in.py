"""Signing in and out of the web pages: the session cookie, CSRF on every form, throttling, and
being sent to sign in from a page that needs it."""

from __future__ import annotations

import httpx
import pytest

from tests.api.client import PASSWORD, Client
from tests.api.conftest import World
from tests.web.browser import Browser, form_fields, is_page

SANDWELL_COMMISSIONER = "commissioner@sandwell.test"


def cookie_named(response: httpx.Response, name: str) -> str:
    [found] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    return found


def test_the_sign_in_page_asks_for_an_email_address_and_a_password(world: World) -> None:
    page = Browser(world.url).sign_in_page()

    assert page.status_code == 200
    is_page(page, "Sign in")
    assert (
        '<label class="govuk-label govuk-label--s" for="email">Email address</label>' in page.text
    )
    assert '<label class="govuk-label govuk-label--s" for="password">Password</label>' in page.text
    assert '<button type="submit" class="govuk-button" data-module="govuk-button">Sign in' in (
        page.text
    )
    assert form_fields(page.text)["csrf_token"]


def test_a_person_signs_in_and_lands_on_the_portfolio(world: World) -> None:
    browser = Browser(world.url)

    signed_in = browser.sign_in(SANDWELL_COMMISSIONER, PASSWORD)

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    home = browser.home()
    assert home.status_code == 200
    is_page(home, "Portfolio")


def test_the_session_cookie_is_http_only_and_same_site_lax(world: World) -> None:
    signed_in = Browser(world.url).sign_in(SANDWELL_COMMISSIONER, PASSWORD)

    cookie = cookie_named(signed_in, "trustledger_session").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # this request came over plain HTTP


def test_the_cookies_are_secure_when_the_request_came_over_https(world: World) -> None:
    # uvicorn believes the proxy in front of it (on loopback) that the request came over HTTPS.
    https = {"X-Forwarded-Proto": "https", "Accept": "text/html"}
    page = httpx.get(f"{world.url}/sign-in", headers=https)
    visit = cookie_named(page, "trustledger_visit")
    # A browser sends a Secure cookie back only over HTTPS, which httpx cannot tell here.
    signed_in = httpx.post(
        f"{world.url}/sign-in",
        headers={**https, "Cookie": visit.split(";")[0]},
        data={**form_fields(page.text), "email": SANDWELL_COMMISSIONER, "password": PASSWORD},
    )

    assert "secure" in visit.lower().split("; ")
    assert signed_in.status_code == 303
    assert "secure" in cookie_named(signed_in, "trustledger_session").lower().split("; ")


def test_the_session_cookie_is_a_token_the_api_accepts_too(world: World) -> None:
    browser = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)
    token = browser.http.cookies["trustledger_session"]

    me = Client(world.url, token).get("/auth/me")

    assert me.status_code == 200
    assert me.json()["role"] == "commissioner"


def test_a_wrong_password_is_refused_with_a_message_in_the_error_summary(world: World) -> None:
    refused = Browser(world.url).sign_in(SANDWELL_COMMISSIONER, "not the password")

    assert refused.status_code == 400
    is_page(refused, "Error: Sign in")
    assert 'class="govuk-error-summary"' in refused.text
    assert '<a href="#email">Enter a correct email address and password</a>' in refused.text
    assert "trustledger_session" not in refused.headers.get("set-cookie", "")


def test_an_unknown_email_is_refused_alike(world: World) -> None:
    refused = Browser(world.url).sign_in("nobody@nowhere.test", PASSWORD)

    assert refused.status_code == 400
    assert "Enter a correct email address and password" in refused.text


def test_empty_fields_are_named_in_the_error_summary_and_beside_the_fields(world: World) -> None:
    refused = Browser(world.url).sign_in("", "")

    assert refused.status_code == 400
    assert '<a href="#email">Enter your email address</a>' in refused.text
    assert '<a href="#password">Enter your password</a>' in refused.text
    assert 'id="password-error" class="govuk-error-message"' in refused.text


def test_sign_in_is_throttled_after_five_failures_for_an_account_from_an_address(
    world: World,
) -> None:
    email = "throttled@sandwell.test"
    created = world.admin.register_account(
        email=email,
        display_name="Throttled",
        organisation_id=world.sandwell["council_id"],
        role="commissioner",
    )
    assert created.status_code == 201, created.text
    browser = Browser(world.url)
    for _ in range(5):
        assert browser.sign_in(email, "a guess").status_code == 400

    # The right password no longer helps, on the page or at the API's token endpoint.
    throttled = browser.sign_in(email, PASSWORD)
    token = httpx.post(f"{world.url}/auth/token", data={"username": email, "password": PASSWORD})

    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "You have tried to sign in too many times. Try again in 15 minutes." in throttled.text
    assert token.status_code == 429
    assert token.headers["content-type"] == "application/problem+json"
    # Another account from the same address is not held up.
    assert Browser(world.url).sign_in(SANDWELL_COMMISSIONER, PASSWORD).status_code == 303


def test_a_sign_in_form_without_its_csrf_token_is_refused(world: World) -> None:
    browser = Browser(world.url)
    fields = form_fields(browser.sign_in_page().text)

    forged = browser.post(
        "/sign-in",
        {**fields, "csrf_token": "0" * 64, "email": SANDWELL_COMMISSIONER, "password": PASSWORD},
    )
    missing = browser.post("/sign-in", {"email": SANDWELL_COMMISSIONER, "password": PASSWORD})

    for refused in (forged, missing):
        assert refused.status_code == 403
        is_page(refused, "You do not have permission to see this page")
        assert "trustledger_session" not in refused.headers.get("set-cookie", "")


def test_another_sites_form_cannot_sign_a_person_out(world: World) -> None:
    browser = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)

    forged = browser.post("/sign-out", {"csrf_token": "0" * 64})

    assert forged.status_code == 403
    assert browser.home().status_code == 200  # still signed in


def test_signing_out_ends_the_session(world: World) -> None:
    browser = Browser.signed_in(world.url, SANDWELL_COMMISSIONER)

    signed_out = browser.sign_out()

    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/sign-in?signed_out=true"
    assert "trustledger_session" not in browser.http.cookies
    banner = browser.visit(signed_out.headers["location"])
    assert "You have signed out" in banner.text
    assert browser.home().status_code == 303


@pytest.mark.parametrize(
    "path", ["/", "/sign-out", "/contracts/6c3f43c4-8f4e-4b8a-9f55-c4d1d3d3a001"]
)
def test_a_page_for_signed_in_people_sends_others_to_sign_in(world: World, path: str) -> None:
    response = Browser(world.url).visit(path)

    assert response.status_code == 303
    expected = "/sign-in" if path == "/" else f"/sign-in?next={path.replace('/', '%2F')}"
    assert response.headers["location"] == expected


def test_after_signing_in_a_person_returns_to_the_page_they_asked_for_on_this_site_only(
    world: World,
) -> None:
    back = Browser(world.url).sign_in(SANDWELL_COMMISSIONER, PASSWORD, next="/?page=1")
    elsewhere = Browser(world.url).sign_in(SANDWELL_COMMISSIONER, PASSWORD, next="//evil.test/")

    assert back.headers["location"] == "/?page=1"
    assert elsewhere.headers["location"] == "/"
