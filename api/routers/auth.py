"""Sign-in: a local account's email and password for a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AppSettings, CurrentPrincipal, Ledger, Signer
from api.problems import unauthorised
from api.schemas.directory import AccountView, Token
from api.security import verify_password
from domain.account import Account
from domain.errors import InvalidCommand, NotFound

router = APIRouter(prefix="/auth", tags=["sign-in"])

DEMO_DOMAIN = ".demo"


@router.post("/token", summary="Sign in with email and password (OAuth2 password form)")
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    ledger: Ledger,
    signer: Signer,
    settings: AppSettings,
) -> Token:
    refused = unauthorised("the email or password is not right")
    try:
        account = ledger.get(Account.id_for(form.username), Account)
    except (NotFound, InvalidCommand):
        account = None
    # Always verify a hash, even for an unknown account, so timing reveals nothing.
    password_hash = ledger.password_hash(account.id) if account else None
    if not verify_password(password_hash, form.password) or account is None:
        raise refused
    if account.is_disabled:
        raise unauthorised("this account is disabled")
    if account.email.endswith(DEMO_DOMAIN) and not settings.demo_mode:
        raise unauthorised("demo accounts may sign in only when the service runs in demo mode")
    token, lifetime = signer.issue(account.id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", summary="The signed-in account")
def me(principal: CurrentPrincipal, ledger: Ledger) -> AccountView:
    return AccountView.of(ledger.get(principal.account_id, Account))
