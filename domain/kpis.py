"""The KPI commands that need both the contract and a KPI's series, and the summary of both.

A return is checked against the contract's schedule (is the KPI on it, is the period one of its
periods within the term, when did the return fall due) and recorded in the KPI's series. The
commands are functions over a `Session`, so the application runs each as one unit of work: a
series started for a first return that is then refused is undone with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.actor import Actor
from domain.errors import ContractNotLive, NotFound, PeriodOutsideTerm, WrongFrequency, WrongParty
from domain.indicator_series import IndicatorSeries, ReturnStatus
from domain.indicators import Indicator, Suppression
from domain.rag import Rag, rag
from domain.reporting import (
    Frequency,
    ReportingPeriod,
    WorkingDays,
    due_date,
    england,
    reporting_periods,
)
from domain.service_contract import Party, ScheduledKpi, ServiceContract
from domain.writer import Session


def submit_return(
    session: Session,
    *,
    contract_id: UUID,
    indicator_code: str,
    period_label: str,
    value: Decimal | Suppression,
    numerator: int | None,
    denominator: int | None,
    commentary: str,
    submitted_on: date,
    actor: Actor,
) -> IndicatorSeries:
    """The trust's return for one period of a scheduled KPI, due as the schedule says; the KPI's
    series is started by its first return."""
    contract = session.get(contract_id, ServiceContract)
    if contract.party_of(actor) is not Party.PROVIDER:
        raise WrongParty(f"only the {Party.PROVIDER} submits returns")
    if not contract.is_in_force:
        raise ContractNotLive(
            "returns are made under a contract both parties have signed and that has not ended"
        )
    kpi = contract.scheduled_kpi(indicator_code)
    period = ReportingPeriod.parse(period_label)
    if period.frequency != kpi.frequency:
        raise WrongFrequency(
            f"{kpi.reference} is returned {kpi.frequency}, so {period_label} is not one of its "
            "periods"
        )
    term = contract.term
    if not term.starts <= period.starts <= period.ends <= term.ends:
        raise PeriodOutsideTerm(
            f"{period_label} does not lie within the term, {term.starts} to {term.ends}"
        )
    series_id = IndicatorSeries.id_for(contract_id, indicator_code)
    series = session.find(series_id, IndicatorSeries) or session.add(
        IndicatorSeries.start(
            contract_id=contract_id,
            indicator=kpi.indicator,
            council_organisation_id=contract.council.organisation_id,
            trust_organisation_id=contract.trust.organisation_id,
            actor=actor,
        )
    )
    series.submit_return(
        period=period,
        value=value,
        numerator=numerator,
        denominator=denominator,
        commentary=commentary,
        due_on=due_date(period, kpi.due_working_days, england()),
        submitted_on=submitted_on,
        actor=actor,
    )
    return series


def series_for(session: Session, contract_id: UUID, indicator_code: str) -> IndicatorSeries:
    """The KPI's series, for querying, answering, accepting and restating its returns."""
    series = session.find(IndicatorSeries.id_for(contract_id, indicator_code), IndicatorSeries)
    if series is None:
        raise NotFound(f"no return has been submitted for {indicator_code} under this contract")
    return series


# -- the summary -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestReturn:
    """The return for a KPI's latest period: a value or the code saying why there is none."""

    period: str
    value: Decimal | Suppression
    late: bool
    restated: bool
    status: ReturnStatus


@dataclass(frozen=True)
class KpiSummary:
    """Where one KPI stands: its latest return against the target in force for that return's
    contract year, the periods now overdue, the returns made late, and the queries still open."""

    reference: str
    indicator: Indicator
    frequency: Frequency
    latest: LatestReturn | None
    target: Decimal | None
    tolerance: Decimal | None
    rag: Rag
    overdue: list[str]
    late: list[str]
    open_queries: int


def kpi_summary(
    contract: ServiceContract, series: Mapping[str, IndicatorSeries], today: date
) -> list[KpiSummary]:
    """Every scheduled KPI in the order of its reference; `series` by indicator code, holding
    those that have any return."""
    calendar = england()
    return [
        _summary(contract, kpi, series.get(kpi.code), today, calendar)
        for kpi in sorted(contract.kpi_schedule.values(), key=_reference_order)
    ]


def _summary(
    contract: ServiceContract,
    kpi: ScheduledKpi,
    series: IndicatorSeries | None,
    today: date,
    calendar: WorkingDays,
) -> KpiSummary:
    returns = {} if series is None else series.returns
    found = None if series is None else series.latest()
    latest, target, tolerance = None, None, None
    if found is not None:
        latest = LatestReturn(
            found.period.label, found.value, found.late, found.restated, found.status
        )
        target, tolerance = contract.target_for(kpi.code, found.period.financial_year.label)
    owed_from = contract.kpi_owed_from(kpi.code)
    overdue = [
        period.label
        for period in reporting_periods(kpi.frequency, contract.term.starts, contract.ends_on)
        if period.ends >= owed_from
        and period.label not in returns
        and due_date(period, kpi.due_working_days, calendar) < today
    ]
    return KpiSummary(
        reference=kpi.reference,
        indicator=kpi.indicator,
        frequency=kpi.frequency,
        latest=latest,
        target=target,
        tolerance=tolerance,
        rag=rag(None if found is None else found.value, target, tolerance, kpi.indicator.polarity),
        overdue=overdue,
        late=[label for label, made in returns.items() if made.late],
        open_queries=sum(len(made.open_queries) for made in returns.values()),
    )


def _reference_order(kpi: ScheduledKpi) -> tuple[tuple[int, int | str], ...]:
    # As a contract's schedule lists them: "B2" before "B13".
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"([0-9]+)", kpi.reference)
    )
