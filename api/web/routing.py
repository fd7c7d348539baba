"""Which requests are for pages: the routes the page routers declare, and, on a path the API
also serves (`/contracts/{id}`), only a request whose Accept prefers HTML: a browser's.

A contract's page is the HTML representation of the contract, as its CSV and XLSX are of its
dashboard: one address per thing, chosen by Accept. An API client (Accept: */* or JSON) is
answered by the API's route exactly as before.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

# Set in the scope of a request a page route has taken, so that its errors are pages too.
PAGE = "trustledger.page"


# Clients send the same few Accept headers again and again, and every negotiated route asked.
@lru_cache(maxsize=256)
def wants_html(accept: str) -> bool:
    """Whether an Accept header names HTML and ranks it at least as high as JSON."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    html = quality.get("text/html", 0.0)
    json = max(quality.get("application/json", 0.0), quality.get("application/problem+json", 0.0))
    return html > 0 and html >= json


def accept_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return str(value.decode("latin-1"))
    return ""


class PageRoute(APIRoute):
    """A route of the web pages: its errors are rendered as pages."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        return match, {**child, PAGE: True}


class NegotiatedPageRoute(PageRoute):
    """A page on a path the API serves too: taken only by a request preferring HTML."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The path first: most requests are for another path, and reading Accept for each of
        # these routes was 7% of a KPI return's CPU at c64 (py-spy, bench/http.py).
        match, child = super().matches(scope)
        if match is Match.NONE or not wants_html(accept_of(scope)):
            return Match.NONE, {}
        return match, child
