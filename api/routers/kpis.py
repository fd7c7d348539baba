"""The KPI schedule and the returns made against it: submitted, queried, answered, accepted
and restated. Each handler turns one request into one command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import Acting, Caller, Ledger, ReadAt, acting_as, allowed, etag, today
from api.routers.contracts import act, parties, readable
from api.schemas.contracts import ContractView
from api.schemas.kpis import (
    Answer,
    Code,
    KpiSummaryView,
    KpiToSchedule,
    LocalIndicatorToDefine,
    QueryRaised,
    Question,
    Restatement,
    ReturnHistoryView,
    ReturnToSubmit,
    SeriesView,
)
from domain import kpis
from domain.application import AsAt, Session
from domain.errors import NotFound
from domain.indicator_series import IndicatorSeries
from domain.indicators import CATALOGUE, Indicator
from domain.ledger import LedgerAggregate
from domain.reporting import ReportingPeriod
from domain.service_contract import ServiceContract

router = APIRouter(tags=["KPIs"])

R = TypeVar("R")


@router.get("/indicators", summary="The national indicator catalogue")
def list_indicators(
    _: Annotated[Caller, Depends(allowed("indicator.read"))],
) -> list[Indicator]:
    return list(CATALOGUE.values())


# -- the schedule, while drafting ----------------------------------------------------------------


@router.post(
    "/contracts/{contract_id}/local-indicators",
    summary="Define a measure of the contract's own, before scheduling it",
)
def define_local_indicator(
    contract_id: UUID,
    body: LocalIndicatorToDefine,
    acting: Annotated[Acting, Depends(acting_as("kpi.schedule"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.define_local_indicator(
            indicator=body.indicator(), actor=acting.actor
        ),
    )
    return view


@router.put(
    "/contracts/{contract_id}/kpi-schedule/{indicator_code}",
    summary="Schedule a KPI while drafting (after signing, propose a variation)",
)
def schedule_kpi(
    contract_id: UUID,
    indicator_code: Code,
    body: KpiToSchedule,
    acting: Annotated[Acting, Depends(acting_as("kpi.schedule"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.schedule_kpi(
            kpi=body.scheduled(contract.indicator(indicator_code)), actor=acting.actor
        ),
    )
    return view


@router.delete(
    "/contracts/{contract_id}/kpi-schedule/{indicator_code}",
    summary="Take a KPI off the draft's schedule",
)
def unschedule_kpi(
    contract_id: UUID,
    indicator_code: Code,
    acting: Annotated[Acting, Depends(acting_as("kpi.schedule"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.unschedule_kpi(indicator_code=indicator_code, actor=acting.actor),
    )
    return view


# -- reading -------------------------------------------------------------------------------------


@router.get(
    "/contracts/{contract_id}/kpis",
    summary="Per KPI: the latest return, its target, RAG, lateness and open queries",
)
def kpi_summary(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("kpi.read"))],
    reading: ReadAt,
    ledger: Ledger,
    response: Response,
) -> KpiSummaryView:
    contract = readable(ledger, caller, contract_id, reading.as_at)
    series = ledger.series_of(contract_id, contract.kpi_schedule, reading.as_at)
    reading.report(response)
    # Periods are overdue as the as-at day reckoned them, not as today does.
    return KpiSummaryView(kpis=kpis.kpi_summary(contract, series, reading.day))


@router.get(
    "/contracts/{contract_id}/kpis/{indicator_code}",
    summary="Every return made for a KPI, with each value it has had and its queries",
)
def read_series(
    contract_id: UUID,
    indicator_code: Code,
    caller: Annotated[Caller, Depends(allowed("kpi.read"))],
    reading: ReadAt,
    ledger: Ledger,
    response: Response,
) -> SeriesView:
    contract = readable(ledger, caller, contract_id, reading.as_at)
    contract.scheduled_kpi(indicator_code)
    series = _series_or_none(ledger, contract_id, indicator_code, reading.as_at)
    if series is None:
        raise NotFound(f"no return has been made for {indicator_code} yet")
    # The version a query, answer, acceptance or restatement names in If-Match.
    response.headers["ETag"] = etag(series.version)
    reading.report(response)
    return SeriesView.of(series)


@router.get(
    "/contracts/{contract_id}/kpis/{indicator_code}/history",
    summary="Every value a period's return has had, and its queries, answers and acceptances: "
    "who, when recorded, and why",
)
def return_history(
    contract_id: UUID,
    indicator_code: Code,
    caller: Annotated[Caller, Depends(allowed("kpi.read"))],
    reading: ReadAt,
    ledger: Ledger,
    response: Response,
    period: Annotated[
        str,
        Query(min_length=4, max_length=12, description='"2024-25", "2024-25 Q1" or "2024-04"'),
    ],
) -> ReturnHistoryView:
    contract = readable(ledger, caller, contract_id, reading.as_at)
    contract.scheduled_kpi(indicator_code)
    about = ReportingPeriod.parse(period)
    history = ledger.return_history(
        IndicatorSeries.id_for(contract_id, indicator_code), about, reading.as_at
    )
    if not history:
        then = "" if reading.as_at is None else f" by {reading.as_at.instant.isoformat()}"
        raise NotFound(f"no return for {about.label} had been submitted for {indicator_code}{then}")
    reading.report(response)
    return ReturnHistoryView.of(contract_id, indicator_code, about, history)


def _series_or_none(
    ledger: Ledger, contract_id: UUID, code: str, at: AsAt | None
) -> IndicatorSeries | None:
    try:
        return ledger.get_as_at(IndicatorSeries.id_for(contract_id, code), IndicatorSeries, at)
    except NotFound:
        return None


# -- returns -------------------------------------------------------------------------------------


def _on_series(
    acting: Acting,
    contract_id: UUID,
    indicator_code: str,
    command: Callable[[IndicatorSeries], R],
) -> tuple[R, SeriesView]:
    """Run one command on a KPI's series, once the caller's organisation is known to be a party
    to its contract; answer with the series as the command left it."""

    def run(session: Session) -> tuple[LedgerAggregate, R]:
        contract = session.get(contract_id, ServiceContract)
        acting.caller.check(contract.id, parties(contract))
        series = kpis.series_for(session, contract_id=contract_id, indicator_code=indicator_code)
        series.check_version(acting.write.expected_version)
        return series, command(series)

    return _answer(acting, run, contract_id, indicator_code)


def _answer(
    acting: Acting,
    run: Callable[[Session], tuple[LedgerAggregate, R]],
    contract_id: UUID,
    indicator_code: str,
) -> tuple[R, SeriesView]:
    outcome = acting.ledger.execute(
        run,
        actor=acting.actor,
        write=acting.write,
        reads=(contract_id, IndicatorSeries.id_for(contract_id, indicator_code)),
    )
    acting.report(outcome.version, outcome.position)
    series = acting.ledger.get(outcome.aggregate_id, IndicatorSeries, outcome.version)
    return outcome.value, SeriesView.of(series)


@router.post(
    "/contracts/{contract_id}/kpis/{indicator_code}/returns",
    status_code=status.HTTP_201_CREATED,
    summary="Submit a return for a period (one after its due date is recorded as late)",
)
def submit_return(
    contract_id: UUID,
    indicator_code: Code,
    body: ReturnToSubmit,
    acting: Annotated[Acting, Depends(acting_as("kpi.submit_return"))],
) -> SeriesView:
    submitted_on = today()

    def run(session: Session) -> tuple[LedgerAggregate, None]:
        contract = session.get(contract_id, ServiceContract)
        acting.caller.check(contract.id, parties(contract))
        series = kpis.submit_return(
            session,
            contract_id=contract_id,
            indicator_code=indicator_code,
            period_label=body.period,
            value=body.value,
            numerator=body.numerator,
            denominator=body.denominator,
            commentary=body.commentary,
            submitted_on=submitted_on,
            actor=acting.actor,
        )
        return series, None

    _, view = _answer(acting, run, contract_id, indicator_code)
    acting.response.headers["Location"] = f"/contracts/{contract_id}/kpis/{indicator_code}"
    return view


@router.post(
    "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/restatements",
    summary="Restate a return with a new value and the reason; both values stay in history",
)
def restate_return(
    contract_id: UUID,
    indicator_code: Code,
    period: str,
    body: Restatement,
    acting: Annotated[Acting, Depends(acting_as("kpi.restate"))],
) -> SeriesView:
    _, view = _on_series(
        acting,
        contract_id,
        indicator_code,
        lambda series: series.restate_return(
            period_label=period,
            value=body.value,
            numerator=body.numerator,
            denominator=body.denominator,
            reason=body.reason,
            actor=acting.actor,
        ),
    )
    return view


@router.post(
    "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/queries",
    status_code=status.HTTP_201_CREATED,
    summary="Query a return: the query stays open until the trust answers it",
)
def query_return(
    contract_id: UUID,
    indicator_code: Code,
    period: str,
    body: Question,
    acting: Annotated[Acting, Depends(acting_as("kpi.query"))],
) -> QueryRaised:
    query_id, view = _on_series(
        acting,
        contract_id,
        indicator_code,
        lambda series: series.query_return(
            period_label=period, question=body.question, actor=acting.actor
        ),
    )
    return QueryRaised(id=query_id, series=view)


@router.post(
    "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/queries/{query_id}/answer",
    summary="Answer a query on a return",
)
def answer_query(
    contract_id: UUID,
    indicator_code: Code,
    period: str,
    query_id: UUID,
    body: Answer,
    acting: Annotated[Acting, Depends(acting_as("kpi.answer"))],
) -> SeriesView:
    _, view = _on_series(
        acting,
        contract_id,
        indicator_code,
        lambda series: series.answer_query(
            query_id=_query_on(series, period, query_id), answer=body.answer, actor=acting.actor
        ),
    )
    return view


def _query_on(series: IndicatorSeries, period: str, query_id: UUID) -> UUID:
    """The query the path names: one raised on that period's return, so that a URL naming
    another period's query (or no period at all) names nothing."""
    queried = series.returns.get(period)
    if queried is None or all(query.query_id != query_id for query in queried.queries):
        raise NotFound(f"no query {query_id} on the return for {period}")
    return query_id


@router.post(
    "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/acceptance",
    summary="Accept a return (not while a query on it is open)",
)
def accept_return(
    contract_id: UUID,
    indicator_code: Code,
    period: str,
    acting: Annotated[Acting, Depends(acting_as("kpi.accept"))],
) -> SeriesView:
    _, view = _on_series(
        acting,
        contract_id,
        indicator_code,
        lambda series: series.accept_return(period_label=period, actor=acting.actor),
    )
    return view
