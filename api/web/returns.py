"""The trust's returns as pages: what is due and overdue, the form that submits a return, and a
return's own page, where the council queries or accepts it and the trust answers or restates it.

Every page asks what the API asks before anything is rendered: `require_role` for the action,
then the organisation rule through the routers' own `readable`; every write is the API's own
handler (`api.routers.kpis`), so the organisation rule is judged again in the unit of work that
runs the command. The forms are read, kept from being stored twice and answered with a success
banner as every page's are (`api.web.forms`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from api.deps import Caller, Ledger, today
from api.policy import Principal, require_access, require_role
from api.routers import kpis as kpi_api
from api.routers.contracts import parties, readable
from api.routers.dashboards import Dashboards, visible_contracts
from api.schemas.kpis import Answer, Question, Restatement, ReturnEvent, ReturnToSubmit
from api.web import formats
from api.web.formats import sentence
from api.web.forms import (
    IDEMPOTENCY_FIELD,
    Error,
    Sent,
    Submitted,
    acting,
    caller,
    done,
    done_message,
    form_key,
    invalid,
    once,
    passes,
    required,
    shown,
    within,
)
from api.web.people import People
from api.web.routing import PageRoute
from api.web.session import SignedIn, Visit, principal
from api.web.templating import render
from domain import errors as domain_errors
from domain.actor import Role
from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries, KpiReturn
from domain.indicator_series import Query as KpiQuery
from domain.indicators import Indicator, Suppression
from domain.reporting import ReportingPeriod, due_date, england, reporting_periods
from domain.service_contract import ContractStatus, ScheduledKpi, ServiceContract
from projections.dashboard import KpiLine

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The longest commentary a return takes, as the API's body bounds it.
COMMENTARY_LIMIT = 4000

ContractId = Annotated[UUID, Path()]
IndicatorCode = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
PeriodLabel = Annotated[str, Path(min_length=4, max_length=12)]

# -- who may do what ------------------------------------------------------------------------------


def may(reader: Principal, action: str, contract_id: UUID, sides: tuple[str, str]) -> bool:
    """Whether the policy lets the reader take `action` on the contract whose parties are
    `sides`, without reading the ledger again: which forms and links a page offers."""

    def check() -> None:
        require_role(reader, action)
        require_access(reader, action, contract_id, sides)

    return passes(check)


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
        except domain_errors.NotFound:
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
        raise domain_errors.NotFound(f"{code} is not on this contract's KPI schedule")
    try:
        period = ReportingPeriod.parse(label)
    except domain_errors.InvalidPeriod as error:
        raise domain_errors.NotFound(error.detail) from None
    if period not in reporting_periods(kpi.frequency, contract.term.starts, contract.ends_on):
        raise domain_errors.NotFound(
            f"{label} is not one of {kpi.reference}'s {kpi.frequency} periods within the term"
        )
    return ReturnAddress(contract, kpi, period)


# -- forms ----------------------------------------------------------------------------------------


def _value(sent: Submitted, indicator: Indicator, errors: list[Error]) -> dict[str, Any]:
    """The value and counts typed, as the API's bodies take them; what cannot be read is named
    on the form."""
    said: dict[str, Any] = {}
    text = sent.text("value")
    *most, last = (code.value for code in Suppression)
    codes = f"{', '.join(most)} or {last}"
    if not text:
        errors.append(Error("value", "Enter the value"))
    elif text.lower() in {code.value for code in Suppression}:
        said["value"] = Suppression(text.lower())
    else:
        try:
            number = Decimal(text.replace(",", "").removesuffix("%").strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            errors.append(
                Error(
                    "value",
                    f"Enter the value as a number, like 22.7, or a suppression code ({codes})",
                )
            )
        else:
            said["value"] = number
    if indicator.has_fraction:
        for field in ("numerator", "denominator"):
            count = sent.text(field).replace(",", "")
            if not count:
                said[field] = None
            elif count.isdigit():
                said[field] = int(count)
            else:
                errors.append(Error(field, f"Enter the {field} as a whole number, like 844"))
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


B = TypeVar("B", bound=BaseModel)


def _body(schema: type[B], said: Mapping[str, Any], errors: list[Error]) -> B | None:
    """The API's body for what the form said, or None with the form's errors filled in."""
    if errors:
        return None
    try:
        return schema.model_validate(dict(said))
    except ValidationError as error:
        errors.extend(invalid(error, {name: name for name in said}))
        return None


# Which field a refusal by the domain is about, on the forms that can meet it; any other refusal
# is not the typist's to fix there, and is shown as an error page.
_FIELD_OF: dict[type[domain_errors.DomainError], str] = {
    domain_errors.InvalidValue: "value",
    domain_errors.ValueDisagreesWithCounts: "value",
    domain_errors.RestatementChangesNothing: "value",
    domain_errors.InvalidFraction: "numerator",
    domain_errors.MissingReason: "reason",
}


def _attempt(
    visit: Visit, sent: Submitted, run: Callable[[], object], errors: list[Error], field: str = ""
) -> bool:
    """Run a write, saying whether it was made; a refusal of what was typed becomes the form's
    error (on `field` if it is a missing detail), anything else an error page."""
    try:
        once(visit, sent, run)
        return True
    except domain_errors.DomainError as refused:
        named = next((f for cls, f in _FIELD_OF.items() if isinstance(refused, cls)), None)
        if isinstance(refused, domain_errors.MissingDetail) and field:
            named = field
        if named is None:
            raise
        errors.append(Error(named, sentence(refused.detail)))
        return False


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
    except domain_errors.NotFound:
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
) -> Response:
    reading = principal(visit)
    address = _address(
        ledger, caller(request, visit, "kpi.read"), contract_id, indicator_code, period
    )
    contract = address.contract
    series, made = address.made(ledger)
    steps: list[Step] = []
    if series is not None and made is not None:
        people = People(ledger)
        steps = [
            Step(
                ReturnEvent.of(recorded),
                people.of(recorded.event.actor).signature,
                formats.moment(recorded.recorded_at),
            )
            for recorded in ledger.return_history(series.id, address.period, None)
        ]
    day = today()
    ended = address.period.ends < day
    page = render(
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
        banner=done_message(request),
        may_submit=made is None and ended and may_on(reading, "kpi.submit_return", contract),
        may_query=made is not None and may_on(reading, "kpi.query", contract),
        may_accept=made is not None
        and made.status == "submitted"
        and not made.open_queries
        and may_on(reading, "kpi.accept", contract),
        may_answer=made is not None and may_on(reading, "kpi.answer", contract),
        may_restate=made is not None and may_on(reading, "kpi.restate", contract),
        accept_key=form_key(),
    )
    return shown(request, page)


def _nav(reader: Principal) -> str:
    # The trust's returns are its own work, under "Returns due"; for others a return is part of
    # a contract in the portfolio.
    return "returns" if reader.role is Role.PROVIDER else "portfolio"


def _form(
    request: Request,
    visit: Visit,
    template: str,
    title: str,
    address: ReturnAddress,
    values: dict[str, Any],
    errors: list[Error],
    **context: Any,
) -> Response:
    """A form about one return: as first shown, or again with what was refused (400)."""
    return render(
        request,
        visit,
        template,
        title,
        status_code=400 if errors else 200,
        nav=_nav(principal(visit)),
        errors=errors,
        address=address,
        kpi=address.kpi,
        values=values,
        **context,
    )


def _fresh() -> dict[str, Any]:
    return {IDEMPOTENCY_FIELD: form_key()}


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
        caller(request, visit, "kpi.submit_return"),
        contract_id,
        indicator_code,
        period,
    )
    _, made = address.made(ledger)
    if made is not None:
        # Made already (perhaps by a colleague): its page says so and offers restating it.
        return RedirectResponse(address.path, status_code=303)
    return _submit_form(request, visit, address, _fresh(), [])


def _submit_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    values: dict[str, Any],
    errors: list[Error],
) -> Response:
    return _form(
        request,
        visit,
        "return_submit.html",
        f"Submit the {address.kpi.reference} return for {address.period.label}",
        address,
        values,
        errors,
        value_hint=value_hint(address.kpi.indicator),
        due_on=address.due_on,
        overdue=address.due_on < today(),
    )


@router.post(_SUBMIT)
def submit(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    action = "kpi.submit_return"
    address = _address(ledger, caller(request, visit, action), contract_id, indicator_code, period)
    errors: list[Error] = []
    said = _value(sent, address.kpi.indicator, errors)
    commentary = within(
        sent.text("commentary"), "commentary", "Enter the commentary", errors, COMMENTARY_LIMIT
    )
    body = _body(
        ReturnToSubmit, {"period": address.period.label, **said, "commentary": commentary}, errors
    )
    if body is not None and _attempt(
        visit,
        sent,
        lambda: kpi_api.submit_return(
            address.contract.id,
            address.kpi.code,
            body,
            acting(request, visit, ledger, action, sent, body),
        ),
        errors,
    ):
        return done(request, address.path, "return-submitted")
    return _submit_form(request, visit, address, sent.kept(), errors)


# -- restating ------------------------------------------------------------------------------------

_RESTATE = "/contracts/{contract_id}/returns/{indicator_code}/{period}/restate"


def _made(ledger: Trustledger, address: ReturnAddress) -> KpiReturn:
    _, made = address.made(ledger)
    if made is None:
        raise domain_errors.NotFound(
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
    reading = caller(request, visit, "kpi.restate")
    address = _address(ledger, reading, contract_id, indicator_code, period)
    return _restate_form(request, visit, address, _made(ledger, address), _fresh(), [])


def _restate_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    values: dict[str, Any],
    errors: list[Error],
) -> Response:
    return _form(
        request,
        visit,
        "return_restate.html",
        f"Restate the {address.kpi.reference} return for {address.period.label}",
        address,
        values,
        errors,
        made=made,
        value_hint=value_hint(address.kpi.indicator),
    )


@router.post(_RESTATE)
def restate(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    action = "kpi.restate"
    address = _address(ledger, caller(request, visit, action), contract_id, indicator_code, period)
    made = _made(ledger, address)
    errors: list[Error] = []
    said = _value(sent, address.kpi.indicator, errors)
    reason = required(sent, "reason", "Enter the reason for restating the return", errors)
    body = _body(Restatement, {**said, "reason": reason}, errors)
    if body is not None and _attempt(
        visit,
        sent,
        lambda: kpi_api.restate_return(
            address.contract.id,
            address.kpi.code,
            address.period.label,
            body,
            acting(request, visit, ledger, action, sent, body),
        ),
        errors,
    ):
        return done(request, address.path, "return-restated")
    return _restate_form(request, visit, address, made, sent.kept(), errors)


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
    reading = caller(request, visit, "kpi.query")
    address = _address(ledger, reading, contract_id, indicator_code, period)
    return _query_form(request, visit, address, _made(ledger, address), _fresh(), [])


def _query_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    values: dict[str, Any],
    errors: list[Error],
) -> Response:
    return _form(
        request,
        visit,
        "return_query.html",
        f"Query the {address.kpi.reference} return for {address.period.label}",
        address,
        values,
        errors,
        made=made,
    )


@router.post(_QUERY)
def query(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    action = "kpi.query"
    address = _address(ledger, caller(request, visit, action), contract_id, indicator_code, period)
    made = _made(ledger, address)
    errors: list[Error] = []
    question = required(sent, "question", "Enter your question", errors)
    body = _body(Question, {"question": question}, errors)
    if body is not None and _attempt(
        visit,
        sent,
        lambda: kpi_api.query_return(
            address.contract.id,
            address.kpi.code,
            address.period.label,
            body,
            acting(request, visit, ledger, action, sent, body),
        ),
        errors,
        "question",
    ):
        return done(request, address.path, "return-queried")
    return _query_form(request, visit, address, made, sent.kept(), errors)


def _query(made: KpiReturn, query_id: UUID) -> KpiQuery:
    found = next((q for q in made.queries if q.query_id == query_id), None)
    if found is None:
        raise domain_errors.NotFound(f"no query {query_id} on the return for {made.period.label}")
    return found


def _open_query(made: KpiReturn, query_id: UUID) -> KpiQuery:
    found = _query(made, query_id)
    if not found.is_open:
        raise domain_errors.QueryAlreadyAnswered(
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
    reading = caller(request, visit, "kpi.answer")
    address = _address(ledger, reading, contract_id, indicator_code, period)
    made = _made(ledger, address)
    asked = _open_query(made, query_id)
    return _answer_form(request, visit, address, made, asked, _fresh(), [])


def _answer_form(
    request: Request,
    visit: Visit,
    address: ReturnAddress,
    made: KpiReturn,
    asked: KpiQuery,
    values: dict[str, Any],
    errors: list[Error],
) -> Response:
    return _form(
        request,
        visit,
        "return_answer.html",
        f"Answer the query on the {address.kpi.reference} return for {address.period.label}",
        address,
        values,
        errors,
        made=made,
        asked=asked,
        asked_at=formats.moment(asked.asked_at),
    )


@router.post(_ANSWER)
def answer(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
    query_id: UUID,
) -> Response:
    action = "kpi.answer"
    address = _address(ledger, caller(request, visit, action), contract_id, indicator_code, period)
    made = _made(ledger, address)
    # Found, not required open: a form sent twice finds its query answered by the first, and
    # the ledger answers the second with the first's outcome.
    asked = _query(made, query_id)
    errors: list[Error] = []
    text = required(sent, "answer", "Enter your answer", errors)
    body = _body(Answer, {"answer": text}, errors)
    if body is not None and _attempt(
        visit,
        sent,
        lambda: kpi_api.answer_query(
            address.contract.id,
            address.kpi.code,
            address.period.label,
            query_id,
            body,
            acting(request, visit, ledger, action, sent, body),
        ),
        errors,
        "answer",
    ):
        return done(request, address.path, "return-answered")
    return _answer_form(request, visit, address, made, asked, sent.kept(), errors)


# -- accepting ------------------------------------------------------------------------------------


@router.post("/contracts/{contract_id}/returns/{indicator_code}/{period}/accept")
def accept(
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    sent: Sent,
    contract_id: ContractId,
    indicator_code: IndicatorCode,
    period: PeriodLabel,
) -> Response:
    action = "kpi.accept"
    address = _address(ledger, caller(request, visit, action), contract_id, indicator_code, period)
    _made(ledger, address)
    # Accepting takes nothing typed: a refusal (an open query, accepted already) is a page of
    # its own.
    once(
        visit,
        sent,
        lambda: kpi_api.accept_return(
            address.contract.id,
            address.kpi.code,
            address.period.label,
            acting(request, visit, ledger, action, sent),
        ),
    )
    return done(request, address.path, "return-accepted")
