"""Sign-in: a local account's email and password for a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AppSettings, CurrentPrincipal, Ledger, Signer
from api.problems import Problem, problem_responses, unauthorised
from api.schemas.directory import AccountView, Token
from api.security import verify_password
from api.settings import Settings
from api.throttle import SignInThrottle
from domain.account import Account
from domain.application import Trustledger
from domain.errors import InvalidCommand, NotFound

router = APIRouter(prefix="/auth", tags=["sign-in"])

DEMO_DOMAIN = ".demo"
WRONG_CREDENTIALS = "the email or password is not right"


def get_throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


Throttle = Annotated[SignInThrottle, Depends(get_throttle)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def minutes(seconds: int) -> str:
    whole = -(-seconds // 60)
    return f"{whole} minute{'s' * (whole != 1)}"


def too_many_tries(retry_after: int) -> Problem:
    return Problem(
        429,
        "Too many sign-in attempts",
        f"too many failed sign-ins for this account from this address: try again in "
        f"{minutes(retry_after)}",
        {"Retry-After": str(retry_after)},
    )


def authenticate(
    ledger: Trustledger,
    settings: Settings,
    throttle: SignInThrottle,
    email: str,
    password: str,
    address: str,
) -> Account:
    """The account these credentials sign in to; a 401 or 429 Problem otherwise. Shared by the
    token endpoint and the web pages' sign-in form, so both refuse alike."""
    if (retry_after := throttle.retry_after(email, address)) is not None:
        # Refused before the password is checked, so a throttled guess learns nothing.
        raise too_many_tries(retry_after)
    try:
        account = ledger.get(Account.id_for(email), Account)
    except (NotFound, InvalidCommand):
        account = None
    # Always verify a hash, even for an unknown account, so timing reveals nothing.
    password_hash = ledger.password_hash(account.id) if account else None
    if not verify_password(password_hash, password) or account is None:
        throttle.failed(email, address)
        raise unauthorised(WRONG_CREDENTIALS)
    throttle.succeeded(email, address)
    if account.is_disabled:
        raise unauthorised("this account is disabled")
    if account.email.endswith(DEMO_DOMAIN) and not settings.demo_mode:
        raise unauthorised("demo accounts may sign in only when the service runs in demo mode")
    return account


@router.post(
    "/token",
    summary="Sign in with email and password (OAuth2 password form)",
    responses=problem_responses(401, 429),
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    ledger: Ledger,
    signer: Signer,
    settings: AppSettings,
    throttle: Throttle,
) -> Token:
    account = authenticate(
        ledger, settings, throttle, form.username, form.password, client_address(request)
    )
    token, lifetime = signer.issue(account.id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", summary="The signed-in account")
def me(principal: CurrentPrincipal, ledger: Ledger) -> AccountView:
    return AccountView.of(ledger.get(principal.account_id, Account))
