"""What every page that takes a form shares: reading a submitted form, acting through the API's
own handlers, and telling the reader it worked after the redirect.

A page acts exactly as the API does: it builds the `Acting` the API's dependency would build
(`require_role` for the action, the actor, the write's preconditions) and calls the API's
handler, which judges the organisation rule inside the unit of work. Nothing is decided twice.

Each form carries an idempotency key made when the form is rendered, so that a form sent twice
(a double click, a resubmission after a lost reply) is stored once: the second is answered with
the first's outcome.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from api.deps import Acting, Caller
from api.policy import require_role
from api.problems import Problem, status_of
from api.web.dates import DateInput, read_date
from api.web.formats import sentence
from api.web.session import CSRF_FIELD, SignedIn, Visit, check_csrf, principal
from domain.application import Trustledger, Write
from domain.errors import DomainError, IdempotencyKeyReused, StaleVersion

R = TypeVar("R")

IDEMPOTENCY_FIELD = "idempotency_key"
VERSION_FIELD = "version"
# The longest text a form takes, as the API's bodies bound them.
TEXT_LIMIT = 5000
# The success message of the last form sent, for the page it redirected to: a key of DONE, never
# text from the request, so that no link can make a page claim something happened. A cookie
# read once rather than a `?done=` in the address: the address the reader lands on stays the
# page's own, so reloading it, bookmarking it or sharing it never says again that something
# was just done.
DONE_COOKIE = "trustledger_done"

DONE = {
    "variation-proposed": "Variation proposed",
    "variation-agreed": "Variation agreed: it is now part of the contract",
    "variation-rejected": "Variation rejected",
    "variation-withdrawn": "Variation withdrawn",
    "notice-issued": "Performance notice issued",
    "plan-submitted": "Remedial plan sent to the council",
    "plan-accepted": "Remedial plan accepted",
    "plan-rejected": "Remedial plan rejected",
    "notice-resolved": "Performance notice closed as resolved",
    "notice-escalated": "Performance notice escalated",
    "position-reported": "Financial position reported",
    "return-submitted": "Return submitted",
    "return-restated": "Return restated",
    "return-queried": "Query sent to the trust",
    "return-answered": "Answer sent to the council",
    "return-accepted": "Return accepted",
}

_AMOUNT = re.compile(r"£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")


def form_key() -> str:
    """A fresh idempotency key for a form about to be rendered."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Error:
    """A GOV.UK error: the field it is about (its id, for the summary's link) and the message."""

    field: str
    text: str


@dataclass(frozen=True)
class Submitted:
    """A form as sent, once its CSRF token has been checked."""

    form: FormData
    # The form's idempotency key, made when the form was rendered ("" if it came without).
    key: str
    # The date inputs read so far, with their errors, to show again if the form is refused.
    dates: dict[str, DateInput] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]

    def date(self, name: str, what: str, errors: list[Error]) -> date | None:
        """The GOV.UK date input NAME as a date, or None with an error in GOV.UK's words; `what`
        completes "Enter ..." (e.g. "the date the remedial plan is due"). A form's dates are
        when things are due or were done, so a day after today is not refused here."""
        entered = read_date(self.form, name, what, past_only=False)
        if entered.blank:
            entered = entered.refused(f"Enter {what}")
        self.refuse_date(entered, errors)
        return entered.value

    def refuse_date(self, entered: DateInput, errors: list[Error]) -> None:
        """Keep a date input as read, or as refused for a reason beyond its fields."""
        self.dates[entered.name] = entered
        errors.extend(Error(found["field"], found["text"]) for found in entered.summary())

    def kept(self) -> dict[str, Any]:
        """The values to show again in a form that is refused, as the reader typed them."""
        typed = {name: self.text(name) for name in self.form if name != CSRF_FIELD}
        return {**typed, **self.dates}


async def submitted(request: Request, visit: SignedIn) -> Submitted:
    """The form sent, read here so that its handler can be a plain function (run in a worker
    thread, as the API's are, rather than holding up every other request while it writes).

    A form without its key is refused when it would write (`acting`), once the reader is known
    to be one who may: sent twice, it would be stored twice."""
    form = await request.form()
    check_csrf(visit, form.get(CSRF_FIELD))
    given = form.get(IDEMPOTENCY_FIELD)
    key = given.strip() if isinstance(given, str) else ""
    return Submitted(form, key if len(key) <= 100 else "")


Sent = Annotated[Submitted, Depends(submitted)]


class _InFlight:
    """The forms being handled in this process, by their reader and key.

    The ledger answers a form sent again with the first one's outcome once the first is stored.
    A double click sends both at once, though, and the second could be run while the first is
    still being written and be refused (the variation already open, the plan already sent),
    which is the page the reader would then see. So a form waits for its twin to finish first.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[UUID, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def only_one(self, reader: UUID, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get((reader, key), (threading.Lock(), 0))
            self._locks[(reader, key)] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[(reader, key)]
                if users == 1:
                    del self._locks[(reader, key)]
                else:
                    self._locks[(reader, key)] = (lock, users - 1)


_IN_FLIGHT = _InFlight()


def once(visit: Visit, sent: Submitted, command: Callable[[], R]) -> R:
    """Run the API's handler for a form, after any twin of the same form has finished."""
    with _IN_FLIGHT.only_one(principal(visit).account_id, sent.key):
        return command()


def caller(request: Request, visit: Visit, action: str) -> Caller:
    """What the API's `allowed(action)` would give its handler, for the signed-in reader: the
    one bridge from a page's reader to the API's routes, reads and writes alike."""
    reader = principal(visit)
    require_role(reader, action)
    return Caller(reader, action, reader.actor(request.state.request_id))


def passes(check: Callable[[], object]) -> bool:
    """Whether the policy lets the reader past `check` (refused with 403: no; anything else is
    raised): which forms and links a page offers. Taking the action asks the policy again."""
    try:
        check()
    except Problem as refused:
        if refused.status == 403:
            return False
        raise
    return True


def acting(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    action: str,
    sent: Submitted,
    body: BaseModel | None = None,
    expected_version: int | None = None,
) -> Acting:
    """What the API's `acting_as(action)` would give its handler, for the signed-in reader.

    The fingerprint is the command's own content, so that the same form sent twice is known as
    one write and the same key with other answers is refused.
    """
    allowed = caller(request, visit, action)  # the wrong role hears so before the missing key
    if not sent.key:
        raise Problem(
            400,
            "Bad request",
            "this form is missing the key that keeps it from being saved twice: go back, reload "
            "the page and try again",
        )
    content = "" if body is None else body.model_dump_json()
    fingerprint = hashlib.sha256(
        f"{request.url.path}\n{expected_version}\n{content}".encode()
    ).hexdigest()
    return Acting(
        caller=allowed,
        ledger=ledger,
        write=Write(expected_version, f"web:{sent.key}", fingerprint),
        response=Response(),
    )


def refusal(error: DomainError, field: str) -> tuple[int, list[Error]]:
    """The status and the form error for a command the domain refused, for the page to show
    beside the reader's answers. A refusal that means "not yours" or "not there" is raised
    again, to be the 403 or 404 page, as the API would answer it."""
    status = status_of(error)
    if status in (403, 404):
        raise error
    if isinstance(error, StaleVersion):
        text = "The contract has changed since you read this page. Read it again below, then decide"
    elif isinstance(error, IdempotencyKeyReused):
        text = "This form was already sent with other answers. Reload the page to start again"
    else:
        text = sentence(error.detail)
    return status, [Error(field, text)]


def invalid(error: ValidationError, fields: dict[str, str]) -> list[Error]:
    """A body the API's schema refused (a text too long, say), as errors on the form's fields:
    `fields` names the form field of each body member."""
    found = []
    for detail in error.errors():
        member = str(detail["loc"][0]) if detail["loc"] else ""
        field = fields.get(member, next(iter(fields.values())))
        found.append(Error(field, sentence(f"{member.replace('_', ' ')}: {detail['msg']}")))
    return found


def required(
    sent: Submitted, name: str, message: str, errors: list[Error], limit: int = TEXT_LIMIT
) -> str:
    """A text the form must have: `message` ("Enter ...") says so if it is blank."""
    value = sent.text(name)
    if not value:
        errors.append(Error(name, message))
    return within(value, name, message, errors, limit)


def within(value: str, name: str, message: str, errors: list[Error], limit: int) -> str:
    """A text no longer than the API's body takes, named as `message` ("Enter ...") names it."""
    if len(value) > limit:
        what = sentence(message.removeprefix("Enter "))
        errors.append(Error(name, f"{what} must be {limit:,} characters or fewer"))
    return value


def pence_of(sent: Submitted, name: str, what: str, errors: list[Error]) -> int | None:
    """An amount in pounds, as people write it (£1,234.56, 58000000), in whole pence."""
    text = sent.text(name)
    if not text:
        errors.append(Error(name, f"Enter {what}"))
        return None
    if _AMOUNT.fullmatch(text) is None:
        errors.append(
            Error(name, f"{sentence(what)} must be an amount in pounds, like 1,250,000 or 99.50")
        )
        return None
    try:
        pounds = Decimal(text.lstrip("£").strip().replace(",", ""))
    except InvalidOperation:  # the pattern admits only numbers; kept for the type checker
        errors.append(Error(name, f"{sentence(what)} must be an amount in pounds"))
        return None
    return int(pounds * 100)


def done(request: Request, to: str, what: str) -> RedirectResponse:
    """Post/Redirect/Get: to the page `to` (a path), which will say `what` happened (a key of
    DONE). The message rides in a cookie for that path alone, read once."""
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        DONE_COOKIE,
        what,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=to.split("#", 1)[0].split("?", 1)[0],
    )
    return response


def done_message(request: Request) -> str | None:
    """The success message for this page, if the reader has just been sent here by a form."""
    return DONE.get(request.cookies.get(DONE_COOKIE, ""))


def shown(request: Request, response: Response) -> Response:
    """Forget the success message once its page has shown it."""
    if DONE_COOKIE in request.cookies:
        # The path as sent, still quoted ("2024-25%20Q1"), as the cookie was set for it.
        path = request.scope.get("raw_path", request.url.path.encode()).decode()
        response.delete_cookie(DONE_COOKIE, path=path, httponly=True, samesite="lax")
    return response
