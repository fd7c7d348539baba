"""A person at a browser, over real HTTP: every page address the web specs visit, built here,
and the forms filled in as a browser would (with the CSRF token the page gave)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode
from uuid import UUID

import httpx

from tests.api.client import PASSWORD

# What a browser's Accept says when it navigates to an address.
NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Browser:
    """One browser: its own cookies, following no redirect unless asked."""

    def __init__(self, base_url: str, **headers: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Accept": NAVIGATION, **headers}, timeout=30
        )

    @classmethod
    def signed_in(cls, base_url: str, email: str, password: str = PASSWORD) -> Browser:
        browser = cls(base_url)
        response = browser.sign_in(email, password)
        assert response.status_code == 303, response.text
        return browser

    # -- pages ----------------------------------------------------------------------------

    def visit(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def home(self) -> httpx.Response:
        return self.visit("/")

    def portfolio_page(self, page: int) -> httpx.Response:
        return self.visit(f"/?page={page}")

    def contract(self, contract_id: UUID | str) -> httpx.Response:
        return self.visit(f"/contracts/{contract_id}")

    def sign_in_page(self, next: str | None = None) -> httpx.Response:
        return self.visit("/sign-in" + (f"?{urlencode({'next': next})}" if next else ""))

    # -- forms ----------------------------------------------------------------------------

    def sign_in(self, email: str, password: str, next: str | None = None) -> httpx.Response:
        page = self.sign_in_page(next)
        fields = form_fields(page.text)
        return self.http.post("/sign-in", data={**fields, "email": email, "password": password})

    def sign_out(self) -> httpx.Response:
        page = self.visit("/sign-out")
        assert page.status_code == 200, page.text
        return self.http.post("/sign-out", data=form_fields(page.text))

    def post(self, path: str, fields: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data=fields)


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's forms, as a browser would send them."""
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None, "the page has no <title>"
    return found.group(1).strip()


def headings_1(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", h).strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)]


def is_page(response: httpx.Response, title: str) -> None:
    """A GOV.UK page of the service, titled by GOV.UK's pattern, with one h1: never a trace."""
    assert response.headers["content-type"].startswith("text/html"), response.text
    assert title_of(response.text) == f"{title} \N{EN DASH} Trustledger"
    assert len(headings_1(response.text)) == 1
    assert 'href="/assets/govuk-frontend.min.css"' in response.text
    assert "Traceback" not in response.text
