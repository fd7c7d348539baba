"""Errors on the web pages: the same exceptions the API maps to problem details (api/problems.py)
are rendered here as GOV.UK error pages, never as a stack trace. Not signed in (401) is a
redirect to the sign-in page, which brings the reader back afterwards."""

from __future__ import annotations

from urllib.parse import urlencode

from eventsourcing.persistence import OperationalError
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.problems import Problem
from api.web.routing import PAGE, accept_of, wants_html
from api.web.session import Visit, visit_of
from api.web.templating import render

# GOV.UK's wording for its error pages.
_PAGES = {
    403: ("You do not have permission to see this page", "error_403.html"),
    404: ("Page not found", "error_404.html"),
    429: ("Too many attempts", "error.html"),
    500: ("Sorry, there is a problem with the service", "error_500.html"),
    503: ("Sorry, the service is unavailable", "error_500.html"),
}


def is_page(request: Request) -> bool:
    """A page route took the request, or no route did and a browser asked for HTML (a mistyped
    address). An API route's errors stay problem details whatever the Accept."""
    if request.scope.get(PAGE):
        return True
    return "endpoint" not in request.scope and wants_html(accept_of(request.scope))


def error_page(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None
) -> Response | None:
    if not is_page(request):
        return None
    if status == 401:
        return RedirectResponse(sign_in_address(request), status_code=303)
    # A malformed address (a contract id that is not one) is a page that does not exist.
    shown = 404 if status == 422 and request.method == "GET" else status
    heading, template = _PAGES.get(shown, ("There is a problem", "error.html"))
    kept = {k: v for k, v in (headers or {}).items() if k.lower() == "retry-after"}
    return render(
        request,
        _reader(request) if shown in (403, 404) else None,
        template,
        heading,
        status_code=shown,
        headers=kept,
        heading=heading,
        detail=detail,
    )


def _reader(request: Request) -> Visit | None:
    """Who is reading, so that a signed-in reader keeps the service's navigation on a 403 or
    404 page; nobody if that cannot be told (the page is still shown)."""
    app = request.app.state
    try:
        return visit_of(request, app.ledger, app.signer)
    except (Problem, OperationalError):
        return None


def sign_in_address(request: Request) -> str:
    """/sign-in, with the page to come back to (a path of this service only)."""
    path = request.url.path
    if request.url.query:
        path += f"?{request.url.query}"
    if request.method != "GET" or path == "/":
        return "/sign-in"
    return f"/sign-in?{urlencode({'next': path})}"


def safe_next(value: object) -> str:
    """Where to go after signing in: a path on this service, never another site."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= 2000
    ):
        return value
    return "/"
