"""The trust's returns as pages: what is due and overdue, the form that submits a return, and a
return's own page, where the council queries or accepts it and the trust answers or restates it.

Every page asks what the API asks before anything is rendered: `require_role` for the action,
then the organisation rule through the routers' own `readable`; every write is the API's own
handler (`api.routers.kpis`), so the organisation rule is judged again in the unit of work that
runs the command. Each form carries the session's CSRF token and an idempotency key made when it
was rendered, so that a form sent twice (a double click, a resend after a lost reply) is stored
once. After a write the browser is sent to the return's page (Post/Redirect/Get), which says
what was done in a success banner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from uuid import UUID, uuid4

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from api.deps import Acting, Caller, Ledger, today
from api.policy import Principal, require_access, require_role
from api.problems import Problem
from api.routers import kpis as kpi_api
from api.routers.contracts import parties, readable
from api.routers.dashboards import Dashboards, visible_contracts
from api.schemas.kpis import Answer, Question, Restatement, ReturnEvent, ReturnToSubmit
from api.web import formats
from api.web.routing import PageRoute
from api.web.scrutiny import People, Who, caller_of
from api.web.session import CSRF_FIELD, SignedIn, Visit, check_csrf, principal
from api.web.templating import render
from domain import errors
from domain.actor import Role
from domain.application import Trustledger, Write
from domain.indicator_series import IndicatorSeries, KpiReturn
from domain.indicator_series import Query as KpiQuery
from domain.indicators import Indicator, Suppression
from domain.reporting import ReportingPeriod, due_date, england, reporting_periods
from domain.service_contract import ContractStatus, ScheduledKpi, ServiceContract
from projections.dashboard import KpiLine

router = APIRouter(route_class=PageRoute, include_in_schema=False)

IDEMPOTENCY_FIELD = "idempotency_key"
# The API's Idempotency-Key and the pages' keys share one table per account: a prefix keeps
# them apart.
_KEY_PREFIX = "web:"
# The longest text a form takes, as the API's bodies bound them.
COMMENTARY_LIMIT = 4000
TEXT_LIMIT = 5000

# What the success banner says after each write; the redirect names the outcome, never the text.
OUTCOMES = {
    "submitted": "Return submitted",
    "restated": "Return restated",
    "queried": "Query sent to the trust",
    "answered": "Answer sent to the council",
    "accepted": "Return accepted",
}

ContractId = Annotated[UUID, Path()]
IndicatorCode = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
PeriodLabel = Annotated[str, Path(min_length=4, max_length=12)]

# -- who may do what ------------------------------------------------------------------------------


def may(reader: Principal, action: str, contract_id: UUID, sides: tuple[str, str]) -> bool:
    """Whether the policy lets the reader take `action` on the contract whose parties are
    `sides`: which forms and links a page offers. Taking the action asks the policy again."""
    try:
        require_role(reader, action)
        require_access(reader, action, contract_id, sides)
    except Problem:
        return False
    return True


def may_on(reader: Principal, action: str, contract: ServiceContract) -> bool:
    return may(reader, action, contract.id, parties(contract))


# -- a return's address ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnAddress:
    """One period's return of one scheduled KPI of a contract the caller may act on."""

    contract: ServiceContract
    kpi: ScheduledKpi
    period: ReportingPeriod

    @property
    def path(self) -> str:
        return return_path(self.contract.id, self.kpi.code, self.period.label)

    @property
    def series_id(self) -> UUID:
        return IndicatorSeries.id_for(self.contract.id, self.kpi.code)

    @property
    def due_on(self) -> date:
        return due_date(self.period, self.kpi.due_working_days, england())

    def made(self, ledger: Trustledger) -> tuple[IndicatorSeries | None, KpiReturn | None]:
        """The KPI's series and this period's return in it, as the ledger has them now."""
        try:
            series = ledger.get(self.series_id, IndicatorSeries)
        except errors.NotFound:
            return None, None
        return series, series.returns.get(self.period.label)


def return_path(contract_id: UUID, code: str, period: str) -> str:
    return f"/contracts/{contract_id}/returns/{code}/{quote(period, safe='')}"


def _address(
    ledger: Trustledger, caller: Caller, contract_id: UUID, code: str, label: str
) -> ReturnAddress:
    """The return a page's address names, once the caller is known to be one of the contract's
    readers (or parties, by the action's scope); a KPI off the schedule, or a period that is not
    one of its periods within the term, is a page that does not exist."""
    contract = readable(ledger, caller, contract_id)
    kpi = contract.kpi_schedule.get(code)
    if kpi is None:
        raise errors.NotFound(f"{code} is not on this contract's KPI schedule")
    try:
        period = ReportingPeriod.parse(label)
    except errors.InvalidPeriod as error:
        raise errors.NotFound(error.detail) from None
    if period not in reporting_periods(kpi.frequency, contract.term.starts, contract.ends_on):
        raise errors.NotFound(
            f"{label} is not one of {kpi.reference}'s {kpi.frequency} periods within the term"
        )
    return ReturnAddress(contract, kpi, period)


# -- forms ----------------------------------------------------------------------------------------


@dataclass
class Form:
    """What a form page shows: what was typed (kept when it is refused), its errors, and the
    idempotency key it carries."""

    typed: dict[str, str]
    errors: list[dict[str, str]]
    key: str

    @classmethod
    def fresh(cls) -> Form:
        return cls({}, [], uuid4().hex)

    def refuse(self, field: str, text: str) -> None:
        self.errors.append({"field": field, "text": text})


async def _posted(request: Request, visit: Visit) -> Form:
    """The form as sent, once its CSRF token is seen to be this session's."""
    sent = await request.form()
    check_csrf(visit, sent.get(CSRF_FIELD))
    typed = {name: value for name, value in sent.items() if isinstance(value, str)}
    key = typed.pop(IDEMPOTENCY_FIELD, "")
    typed.pop(CSRF_FIELD, None)
    try:
        UUID(hex=key)
    except ValueError:
        raise Problem(
            400,
            "Bad request",
            "this form is missing the key that keeps it from being saved twice: go back, reload "
            "the page and try again",
        ) from None
    return Form(typed, [], key)


def _acting(request: Request, reader: Principal, action: str, form: Form) -> Acting:
    """What the API's command handler for `action` takes, for this form: the caller (refused by
    role here), the ledger, and a write under the form's key, fingerprinted by what it says."""
    said = "\n".join(f"{name}={form.typed[name]}" for name in sorted(form.typed))
    fingerprint = hashlib.sha256(
        f"{request.method} {request.url.path}\n{said}".encode()
    ).hexdigest()
    write = Write(idempotency_key=_KEY_PREFIX + form.key, fingerprint=fingerprint)
    ledger: Trustledger = request.app.state.ledger
    return Acting(caller_of(request, reader, action), ledger, write, Response())


def _value(form: Form, indicator: Indicator) -> dict[str, Any]:
    """The value and counts typed, as the API's bodies take them; what cannot be read is named
    on the form."""
    said: dict[str, Any] = {}
    text = form.typed.get("value", "").strip()
    *most, last = (code.value for code in Suppression)
    codes = f"{', '.join(most)} or {last}"
    if not text:
        form.refuse("value", "Enter the value")
    elif text.lower() in {code.value for code in Suppression}:
        said["value"] = Suppression(text.lower())
    else:
        try:
            number = Decimal(text.replace(",", "").removesuffix("%").strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            form.refuse(
                "value",
                f"Enter the value as a number, like 22.7, or a suppression code ({codes})",
            )
        else:
            said["value"] = number
    if indicator.has_fraction:
        for field in ("numerator", "denominator"):
            count = form.typed.get(field, "").strip().replace(",", "")
            if not count:
                said[field] = None
            elif count.isdigit():
                said[field] = int(count)
            else:
                form.refuse(field, f"Enter the {field} as a whole number, like 844")
    return said


_UNITS = {
    "percentage": "A percentage",
    "rate-per-10k": "A rate per 10,000 children",
    "count": "A count",
    "days": "A number of days",
    "ratio": "A ratio",
}


def value_hint(indicator: Indicator) -> str:
    """How to write a KPI's value: its unit, the places its publisher rounds to, and the codes
    that say why a figure is withheld."""
    places = (
        f"to {indicator.decimals} decimal place{'s' * (indicator.decimals != 1)}"
        if indicator.decimals
        else "as a whole number"
    )
    return (
        f"{_UNITS.get(indicator.unit.value, 'A number')}, {places}. If the figure is withheld, "
        "enter its code instead: c (suppressed), x (not available), z (not applicable), "
        "k (rounds to 0) or u (low reliability)."
    )


def _text(form: Form, field: str, missing: str, limit: int, *, required: bool = True) -> str:
    text = form.typed.get(field, "").strip()
    if required and not text:
        form.refuse(field, missing)
    elif len(text) > limit:
        named = _sentence(missing.removeprefix("Enter "))
        form.refuse(field, f"{named} must be {limit:,} characters or fewer")
    return text


B = TypeVar("B", bound=BaseModel)


def _body(form: Form, schema: type[B], said: Mapping[str, Any]) -> B | None:
    """The API's body for what the form said, or None with the form's errors filled in."""
    if form.errors:
        return None
    try:
        return schema.model_validate(dict(said))
    except ValidationError as invalid:
        for problem in invalid.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "value"
            form.refuse(field, _sentence(problem["msg"]))
        return None


# Which field a refusal by the domain is about, on the forms that can meet it; any other refusal
# is not the typist's to fix there, and is shown as an error page.
_FIELD_OF: dict[type[errors.DomainError], str] = {
    errors.InvalidValue: "value",
    errors.ValueDisagreesWithCounts: "value",
    errors.RestatementChangesNothing: "value",
    errors.InvalidFraction: "numerator",
    errors.MissingReason: "reason",
}


def _attempt(form: Form, run: Callable[[], object], field: str | None = None) -> bool:
    """Run a write, saying whether it was made; a refusal of what was typed becomes the form's
    error, anything else an error page."""
    try:
        run()
        return True
    except errors.DomainError as refused:
        named = next((f for cls, f in _FIELD_OF.items() if isinstance(refused, cls)), None)
        if isinstance(refused, errors.MissingDetail) and field is not None:
            named = field
        if named is None:
            raise
        form.refuse(named, _sentence(refused.detail))
        return False


def _done(address: ReturnAddress, outcome: str) -> Response:
    return RedirectResponse(f"{address.path}?done={outcome}", status_code=303)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- what is due ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwedLine:
    contract_id: UUID
    contract: str
    parties: str
    reference: str
    title: str
    period: str
    due_on: date
    overdue: bool
    code: str
    may_submit: bool

    @property
    def path(self) -> str:
        return return_path(self.contract_id, self.code, self.period)


@router.get("/returns")
def returns_due_page(
    request: Request, visit: SignedIn, ledger: Ledger, reader: Dashboards
) -> Response:
    """Every return owed across the contracts the reader may read: periods that have ended
    without a return, overdue ones first."""
    reading = principal(visit)
    require_role(reading, "kpi.read")
    day = today()
    lines = reader.portfolio(visible_contracts(reading, reader), day)
    owed: list[OwedLine] = []
    asked: list[AskedLine] = []
    for contract_id in (line.row.contract_id for line in lines):
        board = reader.dashboard(contract_id, day)
        # Returns are made under a signed contract that has not been ended early: a draft's
        # periods, or an ended contract's, are owed nothing through this service.
        if board is None or board.status is ContractStatus.DRAFT or board.contract.ending:
            continue
        found = board.contract
        sides = (found.council.organisation_id, found.trust.organisation_id)
        if not may(reading, "kpi.read", contract_id, sides):
            continue
        submits = may(reading, "kpi.submit_return", contract_id, sides)
        answers = may(reading, "kpi.answer", contract_id, sides)
        for kpi in found.kpis:
            if kpi.open_queries:
                asked.extend(_asked(ledger, contract_id, found.title, kpi, answers))
            for period in kpi.owed:
                # A period's return is made once the period is over (the domain refuses it
                # before), so a period still running is not yet owed.
                if ReportingPeriod.parse(period.period).ends >= day:
                    continue
                owed.append(
                    OwedLine(
                        contract_id=contract_id,
                        contract=found.title,
                        parties=f"{found.council.name} and {found.trust.name}",
                        reference=kpi.reference,
                        title=kpi.title,
                        period=period.period,
                        due_on=period.due_on,
                        overdue=period.due_on < day,
                        code=kpi.code,
                        may_submit=submits,
                    )
                )
    owed.sort(key=lambda line: (not line.overdue, line.due_on, line.contract, line.reference))
    asked.sort(key=lambda line: line.asked_at)
    return render(
        request,
        visit,
        "returns_due.html",
        "Returns due",
        nav="returns",
        owed=owed,
        overdue=sum(line.overdue for line in owed),
        asked=asked,
        today=day,
        position=reader.position(),
    )


@dataclass(frozen=True)
class AskedLine:
    """A council's query on a return, still waiting for the trust's answer."""

    path: str
    contract: str
    kpi: str
    period: str
    question: str
    asked_at: datetime
    answer_path: str | None  # for those who may answer it

    @property
    def asked(self) -> str:
        return formats.moment(self.asked_at)


def _asked(
    ledger: Trustledger, contract_id: UUID, contract: str, kpi: KpiLine, answers: bool
) -> list[AskedLine]:
    """The open queries on a KPI's returns, read from the ledger: the dashboard counts them, the
    series holds what they ask."""
    try:
        series = ledger.get(IndicatorSeries.id_for(contract_id, kpi.code), IndicatorSeries)
    except errors.NotFound:
        return []
    found: list[AskedLine] = []
    for label, made in series.returns.items():
        path = return_path(contract_id, kpi.code, label)
        found.extend(
            AskedLine(
                path=path,
                contract=contract,
                kpi=f"{kpi.reference} {kpi.title}",
                period=label,
                question=query.question,
                asked_at=query.asked_at,
                answer_path=f"{path}/queries/{query.query_id}/answer" if answers else None,
            )
            for query in made.open_queries
        )
    return found


# -- a return's page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing recorded about a return, for its history: what, who, when."""

    event: ReturnEvent
    who: str
    when: str


@router.get("/contracts/{contract_id}/returns/{indicator_code}/{period}")
def return_page(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    reading = principal(visit)
    address = _address(
        ledger, caller_of(request, reading, "kpi.read"), contract_id, indicator_code, period
    )
    return _return_page(request, visit, ledger, address, done)


def _return_page(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    address: ReturnAddress,
    done: str | None = None,
) -> Response:
    reading = principal(visit)
    contract = address.contract
    series, made = address.made(ledger)
    steps: list[Step] = []
    if series is not None and made is not None:
        people = People(ledger)
        steps = [
            Step(
                ReturnEvent.of(recorded),
                _named(people.of(recorded.event.actor)),
                formats.moment(recorded.recorded_at),
            )
            for recorded in ledger.return_history(series.id, address.period, None)
        ]
    day = today()
    ended = address.period.ends < day
    return render(
        request,
        visit,
        "return_page.html",
        f"{address.kpi.reference} {address.kpi.indicator.title}, {address.period.label}",
        nav=_nav(reading),
        address=address,
        contract=contract,
        kpi=address.kpi,
        unit=address.kpi.indicator.unit,
        made=made,
        steps=steps,
        due_on=made.due_on if made else address.due_on,
        overdue=made is None and address.due_on < day,
        period_ended=ended,
        banner=OUTCOMES.get(done or ""),
        may_submit=made is None and ended and may_on(reading, "kpi.submit_return", contract),
        may_query=made is not None and may_on(reading, "kpi.query", contract),
        may_accept=made is not None
        and made.status == "submitted"
        and not made.open_queries
        and may_on(reading, "kpi.accept", contract),
        may_answer=made is not None and may_on(reading, "kpi.answer", contract),
        may_restate=made is not None and may_on(reading, "kpi.restate", contract),
        accept_key=Form.fresh().key,
    )


def _named(who: Who) -> str:
    return f"{who.person}, {who.organisation}"


def _nav(reader: Principal) -> str:
    # The trust's returns are its own work, under "Returns due"; for others a return is part of
    # a contract in the portfolio.
    return "returns" if reader.role is Role.PROVIDER else "portfolio"


# -- submitting -----------------------------------------------------------------------------------

_SUBMIT = "/contracts/{contract_id}/returns/{indicator_code}/{period}/submit"


@router.get(_SUBMIT)
def submit_page(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    address = _address(
        ledger,
        caller_of(request, principal(visit), "kpi.submit_return"),
        contract_id,
        indicator_code,
        period,
    )
    _, made = address.made(ledger)
    if made is not None:
        # Made already (perhaps by a colleague): its page says so and offers restating it.
        return RedirectResponse(address.path, status_code=303)
    return _submit_form(request, visit, address, Form.fresh())


def _submit_form(
    request: Request, visit: Visit, address: ReturnAddress, form: Form, status: int = 200
) -> Response:
    return render(
        request,
        visit,
        "return_submit.html",
        f"Submit the {address.kpi.reference} return for {address.period.label}",
        status_code=status,
        nav=_nav(principal(visit)),
        errors=form.errors,
        address=address,
        kpi=address.kpi,
        form=form,
        value_hint=value_hint(address.kpi.indicator),
        due_on=address.due_on,
        overdue=address.due_on < today(),
    )


@router.post(_SUBMIT)
async def submit(
    request: Request,
    visit: SignedIn,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    form = await _posted(request, visit)
    acting = _acting(request, principal(visit), "kpi.submit_return", form)

    def run() -> Response:
        address = _address(acting.ledger, acting.caller, contract_id, indicator_code, period)
        said = _value(form, address.kpi.indicator)
        commentary = _text(
            form, "commentary", "Enter the commentary", COMMENTARY_LIMIT, required=False
        )
        body = _body(
            form,
            ReturnToSubmit,
            {"period": address.period.label, **said, "commentary": commentary},
        )
        if body is not None and _attempt(
            form,
            lambda: kpi_api.submit_return(address.contract.id, address.kpi.code, body, acting),
        ):
            return _done(address, "submitted")
        return _submit_form(request, visit, address, form, 400)

    return await anyio.to_thread.run_sync(run)


# -- restating ------------------------------------------------------------------------------------

_RESTATE = "/contracts/{contract_id}/returns/{indicator_code}/{period}/restate"


def _made(ledger: Trustledger, address: ReturnAddress) -> KpiReturn:
    _, made = address.made(ledger)
    if made is None:
        raise errors.NotFound(
            f"no return for {address.period.label} has been submitted for {address.kpi.reference}"
        )
    return made


@router.get(_RESTATE)
def restate_page(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    caller = caller_of(request, principal(visit), "kpi.restate")
    address = _address(ledger, caller, contract_id, indicator_code, period)
    return _restate_form(request, visit, address, _made(ledger, address), Form.fresh())


def _restate_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    form: Form,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "return_restate.html",
        f"Restate the {address.kpi.reference} return for {address.period.label}",
        status_code=status,
        nav=_nav(principal(visit)),
        errors=form.errors,
        address=address,
        kpi=address.kpi,
        made=made,
        form=form,
        value_hint=value_hint(address.kpi.indicator),
    )


@router.post(_RESTATE)
async def restate(
    request: Request,
    visit: SignedIn,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    form = await _posted(request, visit)
    acting = _acting(request, principal(visit), "kpi.restate", form)

    def run() -> Response:
        address = _address(acting.ledger, acting.caller, contract_id, indicator_code, period)
        made = _made(acting.ledger, address)
        said = _value(form, address.kpi.indicator)
        reason = _text(form, "reason", "Enter the reason for restating the return", TEXT_LIMIT)
        body = _body(form, Restatement, {**said, "reason": reason})
        if body is not None and _attempt(
            form,
            lambda: kpi_api.restate_return(
                address.contract.id, address.kpi.code, address.period.label, body, acting
            ),
        ):
            return _done(address, "restated")
        return _restate_form(request, visit, address, made, form, 400)

    return await anyio.to_thread.run_sync(run)


# -- querying and answering -----------------------------------------------------------------------

_QUERY = "/contracts/{contract_id}/returns/{indicator_code}/{period}/query"
_ANSWER = "/contracts/{contract_id}/returns/{indicator_code}/{period}/queries/{query_id}/answer"


@router.get(_QUERY)
def query_page(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    caller = caller_of(request, principal(visit), "kpi.query")
    address = _address(ledger, caller, contract_id, indicator_code, period)
    return _query_form(request, visit, address, _made(ledger, address), Form.fresh())


def _query_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    form: Form,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "return_query.html",
        f"Query the {address.kpi.reference} return for {address.period.label}",
        status_code=status,
        nav=_nav(principal(visit)),
        errors=form.errors,
        address=address,
        kpi=address.kpi,
        made=made,
        form=form,
    )


@router.post(_QUERY)
async def query(
    request: Request,
    visit: SignedIn,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    form = await _posted(request, visit)
    acting = _acting(request, principal(visit), "kpi.query", form)

    def run() -> Response:
        address = _address(acting.ledger, acting.caller, contract_id, indicator_code, period)
        made = _made(acting.ledger, address)
        question = _text(form, "question", "Enter your question", TEXT_LIMIT)
        body = _body(form, Question, {"question": question})
        if body is not None and _attempt(
            form,
            lambda: kpi_api.query_return(
                address.contract.id, address.kpi.code, address.period.label, body, acting
            ),
            "question",
        ):
            return _done(address, "queried")
        return _query_form(request, visit, address, made, form, 400)

    return await anyio.to_thread.run_sync(run)


def _query(made: KpiReturn, query_id: UUID) -> KpiQuery:
    found = next((q for q in made.queries if q.query_id == query_id), None)
    if found is None:
        raise errors.NotFound(f"no query {query_id} on the return for {made.period.label}")
    return found


def _open_query(made: KpiReturn, query_id: UUID) -> KpiQuery:
    found = _query(made, query_id)
    if not found.is_open:
        raise errors.QueryAlreadyAnswered(
            f"the query was answered on {formats.day(found.answered_at)}: there is nothing "
            "more to answer"
        )
    return found


@router.get(_ANSWER)
def answer_page(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
    query_id: UUID,
) -> Response:
    caller = caller_of(request, principal(visit), "kpi.answer")
    address = _address(ledger, caller, contract_id, indicator_code, period)
    made = _made(ledger, address)
    asked = _open_query(made, query_id)
    return _answer_form(request, visit, address, made, asked, Form.fresh())


def _answer_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    asked: KpiQuery,
    form: Form,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "return_answer.html",
        f"Answer the query on the {address.kpi.reference} return for {address.period.label}",
        status_code=status,
        nav=_nav(principal(visit)),
        errors=form.errors,
        address=address,
        kpi=address.kpi,
        made=made,
        asked=asked,
        asked_at=formats.moment(asked.asked_at),
        form=form,
    )


@router.post(_ANSWER)
async def answer(
    request: Request,
    visit: SignedIn,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
    query_id: UUID,
) -> Response:
    form = await _posted(request, visit)
    acting = _acting(request, principal(visit), "kpi.answer", form)

    def run() -> Response:
        address = _address(acting.ledger, acting.caller, contract_id, indicator_code, period)
        made = _made(acting.ledger, address)
        # Found, not required open: a form sent twice finds its query answered by the first,
        # and the ledger answers the second with the first's outcome.
        asked = _query(made, query_id)
        text = _text(form, "answer", "Enter your answer", TEXT_LIMIT)
        body = _body(form, Answer, {"answer": text})
        if body is not None and _attempt(
            form,
            lambda: kpi_api.answer_query(
                address.contract.id,
                address.kpi.code,
                address.period.label,
                query_id,
                body,
                acting,
            ),
            "answer",
        ):
            return _done(address, "answered")
        return _answer_form(request, visit, address, made, asked, form, 400)

    return await anyio.to_thread.run_sync(run)


# -- accepting ------------------------------------------------------------------------------------


@router.post("/contracts/{contract_id}/returns/{indicator_code}/{period}/accept")
async def accept(
    request: Request,
    visit: SignedIn,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    form = await _posted(request, visit)
    acting = _acting(request, principal(visit), "kpi.accept", form)

    def run() -> Response:
        address = _address(acting.ledger, acting.caller, contract_id, indicator_code, period)
        _made(acting.ledger, address)
        # Accepting takes nothing typed: a refusal (an open query, accepted already) is a
        # page of its own.
        kpi_api.accept_return(address.contract.id, address.kpi.code, address.period.label, acting)
        return _done(address, "accepted")

    return await anyio.to_thread.run_sync(run)
