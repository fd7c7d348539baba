"""The web pages' session: a signed token in a cookie, and the CSRF token every form carries.

The session cookie holds a token from the API's own `TokenSigner`, with a session id in it, so
that a page's reader is checked exactly as a bearer token's (`principal_of`): a disabled account
is turned away at its next click. The cookie is HttpOnly (no script reads it), SameSite=Lax (no
other site's form or frame sends it) and Secure whenever the request came over HTTPS. A token
lives `TRUSTLEDGER_TOKEN_MINUTES`; each page read in the second half of its life renews it, so
the session ends after that long without a click. Signing out deletes the cookie; the token
itself cannot be recalled before it expires, which is why its life is short.

CSRF: every form has a hidden `csrf_token`, an HMAC of the session id under a secret derived from
the signing key, checked on every POST (403 otherwise). Before sign-in the session id is a random
value in a cookie of its own, so that the sign-in form is protected too (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response

from api.deps import Ledger, Signer, principal_of
from api.policy import Principal
from api.problems import Problem, forbidden, unauthorised
from api.security import InvalidToken, TokenSigner

SESSION_COOKIE = "trustledger_session"
ANONYMOUS_COOKIE = "trustledger_visit"
CSRF_FIELD = "csrf_token"
_CSRF_PURPOSE = b"trustledger web csrf v1"


@dataclass(frozen=True)
class Visit:
    """Who is reading a page (None: nobody signed in), the CSRF token for its forms, and the
    cookies the response must set to keep the session going."""

    principal: Principal | None
    csrf_token: str
    renewed_token: str | None = None
    new_visit_id: str | None = None

    def keep(self, request: Request, response: Response) -> Response:
        """Set on `response` whatever cookie this visit renewed or began."""
        if self.renewed_token is not None:
            set_cookie(request, response, SESSION_COOKIE, self.renewed_token)
        if self.new_visit_id is not None:
            set_cookie(request, response, ANONYMOUS_COOKIE, self.new_visit_id)
        return response


def csrf_token(signer: TokenSigner, session_id: str) -> str:
    key = signer.derive_secret(_CSRF_PURPOSE)
    return hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    # No Max-Age: a browser session's cookie; the token inside expires on its own.
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def forget(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def new_session(signer: TokenSigner, account_id: UUID) -> str:
    """A signed session token for a fresh session id: a new id at every sign-in, so that a
    session id planted before sign-in is worth nothing after it."""
    token, _ = signer.issue(account_id, session_id=secrets.token_urlsafe(24))
    return token


def visit_of(request: Request, ledger: Ledger, signer: Signer) -> Visit:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claims = signer.verify(token)
        except InvalidToken:
            claims = None
        if claims is not None and claims.session_id is not None:
            try:
                principal = principal_of(ledger, claims.account_id)
            except Problem:
                principal = None
            if principal is not None:
                renewed = None
                if claims.expires - datetime.now(UTC) < signer.lifetime / 2:
                    renewed, _ = signer.issue(claims.account_id, session_id=claims.session_id)
                return Visit(principal, csrf_token(signer, claims.session_id), renewed)
    visit_id = request.cookies.get(ANONYMOUS_COOKIE)
    if visit_id and len(visit_id) <= 64:
        return Visit(None, csrf_token(signer, visit_id))
    fresh = secrets.token_urlsafe(24)
    return Visit(None, csrf_token(signer, fresh), new_visit_id=fresh)


def _signed_in(visit: Annotated[Visit, Depends(visit_of)]) -> Visit:
    if visit.principal is None:
        # Answered on a page with a redirect to the sign-in page (api/web/errors.py).
        raise unauthorised("sign in to see this page")
    return visit


CurrentVisit = Annotated[Visit, Depends(visit_of)]
SignedIn = Annotated[Visit, Depends(_signed_in)]


def check_csrf(visit: Visit, submitted: object) -> None:
    """Refuse a form that did not come from a page this session was given."""
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, visit.csrf_token):
        raise forbidden(
            "this form has expired or did not come from this service: go back, reload the "
            "page and try again"
        )


def principal(visit: Visit) -> Principal:
    assert visit.principal is not None, "only for pages that require a signed-in reader"
    return visit.principal
