"""What a handler needs, declared once: the ledger, the signed-in caller, write preconditions."""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio.to_thread
from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.policy import POLICY, Principal, require_access, require_role
from api.problems import Problem, may_answer, unauthorised
from api.security import InvalidToken, TokenSigner
from api.settings import Settings
from domain.account import Account
from domain.actor import Actor
from domain.application import AsAt, Session, Trustledger, Write
from domain.errors import InvalidInstant, NotFound
from domain.ledger import LedgerAggregate

A = TypeVar("A", bound=LedgerAggregate)


# Dependencies that never wait are coroutines: FastAPI runs a plain function in a worker
# thread, and each hop there and back was a few per cent of a KPI return's CPU (py-spy).


async def get_ledger(request: Request) -> Trustledger:
    ledger: Trustledger = request.app.state.ledger
    return ledger


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_signer(request: Request) -> TokenSigner:
    signer: TokenSigner = request.app.state.signer
    return signer


Ledger = Annotated[Trustledger, Depends(get_ledger)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Signer = Annotated[TokenSigner, Depends(get_signer)]

_ENGLAND = ZoneInfo("Europe/London")

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


@may_answer(401)
async def current_principal(
    ledger: Ledger,
    signer: Signer,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise unauthorised("sign in first: send 'Authorization: Bearer <token>'")
    try:
        claims = signer.verify(credentials.credentials)
    except InvalidToken as error:
        raise unauthorised(f"the token was refused: {error}") from error
    account = ledger.account_if_kept(claims.account_id)
    if account is None:
        # Reading the ledger waits on the database: not on the event loop.
        return await anyio.to_thread.run_sync(principal_of, ledger, claims.account_id)
    return _principal(account)


def principal_of(ledger: Trustledger, account_id: UUID) -> Principal:
    """The account a verified token names, as the policy sees it; a 401 Problem if it has gone
    or been disabled. The web pages' session cookie is checked the same way."""
    # The account is checked on every request, so disabling it takes effect within
    # ACCOUNT_RECHECK_SECONDS (at once in the process that disabled it) rather than when its
    # last token expires.
    try:
        account = ledger.account(account_id)
    except NotFound:
        raise unauthorised("the token's account no longer exists") from None
    return _principal(account)


def _principal(account: Account) -> Principal:
    if account.is_disabled:
        raise unauthorised("this account is disabled")
    return Principal(
        account_id=account.id,
        organisation_id=account.organisation_id,
        role=account.role,
        granted_contracts=frozenset(account.granted_contracts),
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Caller:
    """A signed-in account allowed by role to take one action; the organisation rule is
    checked against the aggregate the action is about."""

    principal: Principal
    action: str
    actor: Actor

    def check(self, contract_id: UUID, parties: tuple[str, str]) -> None:
        require_access(self.principal, self.action, contract_id, parties)


def allowed(action: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting only the roles the policy gives `action`."""
    if action not in POLICY:
        raise KeyError(f"{action!r} is not in the policy table")

    @may_answer(403)
    async def dependency(request: Request, principal: CurrentPrincipal) -> Caller:
        require_role(principal, action)
        return Caller(principal, action, principal.actor(request.state.request_id))

    dependency.__name__ = f"allowed_{action.replace('.', '_')}"
    dependency.policy_action = action  # type: ignore[attr-defined]
    return dependency


_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def etag(version: int) -> str:
    return f'"{version}"'


# 409 when another process wrote the same aggregate meanwhile; 422 for a reused key.
@may_answer(400, 409, 412, 422)
async def _write(
    request: Request,
    if_match: Annotated[str | None, Header(description='The ETag you read, e.g. "3"')] = None,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Retry under the same key to get the first outcome"),
    ] = None,
) -> Write:
    expected: int | None = None
    if if_match is not None and if_match.strip() != "*":
        match = _ETAG.match(if_match.strip())
        if match is None:
            raise Problem(400, "Bad header", 'If-Match must be an ETag such as "3"')
        expected = int(match.group(1))
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    return Write(
        expected_version=expected, idempotency_key=idempotency_key, fingerprint=fingerprint
    )


@may_answer(428)
async def _consenting_write(write: Annotated[Write, Depends(_write)]) -> Write:
    # Signing and agreeing are consent to terms: they must name the version that was read.
    if write.expected_version is None:
        raise Problem(
            428,
            "Precondition required",
            "send If-Match with the ETag of the contract you read, "
            "so that you agree to exactly those terms",
        )
    return write


WriteOptions = Annotated[Write, Depends(_write)]
ConsentingWrite = Annotated[Write, Depends(_consenting_write)]


def outcome_headers(version: int, position: int | None) -> dict[str, Any]:
    headers = {"ETag": etag(version)}
    if position is not None:
        headers["Trustledger-Position"] = str(position)
    return headers


def today() -> date:
    """The date in England, where every contract date is reckoned."""
    return datetime.now(_ENGLAND).date()


def instant(text: str, name: str) -> datetime:
    """An ISO 8601 instant with its offset from UTC: "2025-03-03T17:00:00Z", "…T18:00+01:00".

    A date alone, or a time without an offset, is refused rather than read as London time. An
    as-at read is evidence for an auditor: "2025-03-03" could mean the first moment of the day or
    its last, and 01:30 on the last Sunday of October happens twice in London, so any reading of
    it is a guess the reader would not see, and a wrong answer that looks right is worse than a
    422 that says how to ask.
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        hint = (
            # A "+" left unencoded in a query string arrives as a space.
            ": send a '+' in a query string as %2B" if re.search(r"\d \d{2}:?\d{2}$", text) else ""
        )
        raise InvalidInstant(
            f"{name}={text!r} is not an ISO 8601 instant such as 2025-03-03T17:00:00Z{hint}"
        ) from None
    if parsed.utcoffset() is None:
        alone = "a date alone" if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", text) else "a local time"
        raise InvalidInstant(
            f"{name}={text!r} is {alone}, not an instant: give the time and its offset from UTC, "
            "e.g. 2025-03-03T23:59:59Z or 2025-03-03T23:59:59+00:00"
        )
    return parsed


def as_at_headers(at: AsAt) -> dict[str, str]:
    """Which instant a read shows, and the log position it was read at."""
    return {
        "Trustledger-As-At": at.instant.astimezone(UTC).isoformat(),
        "Trustledger-Position": str(at.position),
    }


@dataclass(frozen=True)
class Reading:
    """When a read is about: now, or (`as_at`) an instant of recorded time."""

    as_at: AsAt | None

    @property
    def day(self) -> date:
        """The day in England a contract's status and overdue returns are reckoned on."""
        if self.as_at is None:
            return today()
        return self.as_at.instant.astimezone(_ENGLAND).date()

    def report(self, response: Response) -> None:
        """Say on the response which instant and log position it shows, if not now."""
        if self.as_at is not None:
            response.headers.update(as_at_headers(self.as_at))


def _reading(
    ledger: Ledger,
    as_at: Annotated[
        str | None,
        Query(
            description="Read as the ledger knew it at this instant (recorded time), with its "
            "offset from UTC, e.g. 2025-03-03T17:00:00Z; a date alone, a time without an offset "
            "or an instant still to come is refused (422). The answer names the instant and the "
            "log position it shows in Trustledger-As-At and Trustledger-Position."
        ),
    ] = None,
) -> Reading:
    return Reading(None if as_at is None else ledger.as_at(instant(as_at, "as_at")))


# Declare it after the caller's dependency, so that a stranger is refused before a bad instant.
ReadAt = Annotated[Reading, Depends(_reading)]


@dataclass(frozen=True)
class Acting:
    """What every command handler needs: the caller (allowed by role), the ledger, the write's
    preconditions, and the response to put the ETag and log position on."""

    caller: Caller
    ledger: Trustledger
    write: Write
    response: Response

    @property
    def actor(self) -> Actor:
        return self.caller.actor

    def report(self, version: int, position: int | None) -> None:
        self.response.headers.update(outcome_headers(version, position))

    def create(self, cls: type[A], create: Callable[[Session], A], collection: str) -> A:
        """Add what `create` makes; answer with its ETag, log position and Location."""
        outcome = self.ledger.create(create, actor=self.actor, write=self.write)
        self.report(outcome.version, outcome.position)
        self.response.headers["Location"] = f"{collection}/{outcome.aggregate_id}"
        return self.ledger.get(outcome.aggregate_id, cls, outcome.version)


def acting_as(action: str, *, consent: bool = False) -> Callable[..., Awaitable[Acting]]:
    """A dependency for a command handler taking `action`; `consent` demands If-Match."""
    guard = allowed(action)
    preconditions = _consenting_write if consent else _write

    async def dependency(
        caller: Caller, ledger: Trustledger, write: Write, response: Response
    ) -> Acting:
        return Acting(caller, ledger, write, response)

    # Built by hand because the dependencies are this call's own: annotations written in the
    # source would be resolved against the module, where `guard` does not exist.
    keyword = inspect.Parameter.KEYWORD_ONLY
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("caller", keyword, annotation=Annotated[Caller, Depends(guard)]),
            inspect.Parameter("ledger", keyword, annotation=Ledger),
            inspect.Parameter(
                "write", keyword, annotation=Annotated[Write, Depends(preconditions)]
            ),
            inspect.Parameter("response", keyword, annotation=Response),
        ],
        return_annotation=Acting,
    )
    dependency.__name__ = f"acting_as_{action.replace('.', '_')}"
    return dependency
