"""The Jinja2 environment for the pages, and the one way a page is rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.templating import Jinja2Templates

from api.policy import Principal
from api.settings import Settings
from api.web import formats
from api.web.dates import DateInput
from api.web.session import CSRF_FIELD, Visit
from domain.actor import Role

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SERVICE_NAME = "Trustledger"

# GOV.UK Frontend's tag colours for RAG; the tag's text says the rating too, so colour is never
# the only way it is told.
RAG_TAGS = {
    "green": ("Green", "govuk-tag--green"),
    "amber": ("Amber", "govuk-tag--orange"),
    "red": ("Red", "govuk-tag--red"),
    "none": ("No rating", "govuk-tag--grey"),
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    # A misspelt variable is an error in the tests, not a blank on a page.
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(
    pounds=formats.pounds,
    variance=formats.variance,
    figure=formats.figure,
    day=formats.day,
    words=formats.words,
    inspection=formats.inspection,
)
_environment.globals.update(
    service_name=SERVICE_NAME,
    rag_tags=RAG_TAGS,
    csrf_field=CSRF_FIELD,
    date_field=DateInput.shown,
)
templates = Jinja2Templates(env=_environment)

# The service navigation: (key, address, label) for each role's own work. Pages name their key as
# `nav`, which marks the item as the current one.
_PORTFOLIO = ("portfolio", "/", "Portfolio")
_AUDIT_LOG = ("audit-log", "/audit-log", "Audit log")
_SIGN_OUT = ("sign-out", "/sign-out", "Sign out")
NAVIGATION: dict[Role, tuple[tuple[str, str, str], ...]] = {
    Role.COMMISSIONER: (_PORTFOLIO, _AUDIT_LOG, _SIGN_OUT),
    Role.PROVIDER: (_PORTFOLIO, ("returns", "/returns", "Returns due"), _AUDIT_LOG, _SIGN_OUT),
    Role.AUDITOR: (_PORTFOLIO, _AUDIT_LOG, _SIGN_OUT),
    Role.ADMIN: (_PORTFOLIO, _AUDIT_LOG, _SIGN_OUT),
}


def navigation(principal: Principal | None) -> tuple[tuple[str, str, str], ...]:
    return () if principal is None else NAVIGATION.get(principal.role, (_PORTFOLIO, _SIGN_OUT))


# Signed-in pages hold contract business: not to be kept by a shared computer's browser cache
# or framed by another site (clickjacking of the forms).
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request,
    visit: Visit | None,
    template: str,
    title: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A page: `title` is its <title> before an en dash and the service's name (GOV.UK's
    pattern); with errors in the context it is prefixed "Error: ", as GOV.UK's error summary
    pattern asks."""
    settings: Settings = request.app.state.settings
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "visit": visit,
            "principal": None if visit is None else visit.principal,
            "navigation": navigation(None if visit is None else visit.principal),
            "csrf_token": "" if visit is None else visit.csrf_token,
            "demo_mode": settings.demo_mode,
            "errors": context.pop("errors", []),
            "attribution": context.pop("attribution", None),
            "nav": context.pop("nav", None),
            **context,
        },
        status_code=status_code,
        headers={**_PAGE_HEADERS, **(headers or {})},
    )
    return response if visit is None else visit.keep(request, response)
