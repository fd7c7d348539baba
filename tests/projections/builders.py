"""A small contract's history, made by the domain's own commands, for the views' specs: events
exactly as the ledger would record them, with versions and times filled in by the aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.reporting import ReportingPeriod
from domain.service_contract import ServiceContract
from tests.domain.specs import COMMISSIONER, PROVIDER
from tests.domain.test_kpi_schedule import A1, REREFERRALS
from tests.domain.test_service_contract import COUNCIL, SCOPE, SUMS, TERM, TITLE, TRUST

# A1 (re-referrals, quarterly, due 10 working days after the quarter) aims at 20.0 in 2024-25,
# with a tolerance of 23.0. Q3 2024-25 ends on 31 December; with New Year's Day a holiday, its
# return falls due on 15 January 2025.
Q3_DUE = date(2025, 1, 15)


@dataclass
class History:
    contract: ServiceContract
    series: IndicatorSeries | None = None
    notices: list[PerformanceNotice] = field(default_factory=list)
    events: list[LedgerAggregate.Event] = field(default_factory=list)

    def record(self, aggregate: LedgerAggregate) -> None:
        self.events.extend(aggregate.collect_events())  # type: ignore[arg-type]

    def submit(self, label: str, numerator: int, denominator: int, submitted_on: date) -> None:
        if self.series is None:
            self.series = IndicatorSeries.start(
                contract_id=self.contract.id,
                indicator=REREFERRALS,
                council_organisation_id=COUNCIL.organisation_id,
                trust_organisation_id=TRUST.organisation_id,
                actor=PROVIDER,
            )
        period = ReportingPeriod.parse(label)
        self.series.submit_return(
            period=period,
            value=REREFERRALS.value_of(numerator, denominator),
            numerator=numerator,
            denominator=denominator,
            commentary="",
            due_on=submitted_on,
            submitted_on=submitted_on,
            actor=PROVIDER,
        )
        self.record(self.series)

    def issue_notice(self, issued_on: date, response_due: date) -> PerformanceNotice:
        notice = PerformanceNotice.issue(
            contract_id=self.contract.id,
            council_organisation_id=COUNCIL.organisation_id,
            trust_organisation_id=TRUST.organisation_id,
            grounds="re-referrals above tolerance",
            kpi_codes=["A1"],
            remedy="a plan to bring re-referrals within tolerance",
            response_due=response_due,
            issued_on=issued_on,
            actor=COMMISSIONER,
        )
        self.notices.append(notice)
        self.record(notice)
        return notice


def signed_contract_with_a1() -> History:
    contract = ServiceContract.draft(
        council=COUNCIL,
        trust=TRUST,
        title=TITLE,
        term=TERM,
        scope=SCOPE,
        contract_sums=SUMS,
        actor=COMMISSIONER,
    )
    contract.schedule_kpi(kpi=A1, actor=COMMISSIONER)
    contract.sign(actor=COMMISSIONER)
    contract.sign(actor=PROVIDER)
    history = History(contract)
    history.record(contract)
    return history


def with_two_quarters() -> History:
    """Q1 2024-25 amber at 21.4, then Q2 green at 19.0."""
    history = signed_contract_with_a1()
    history.submit("2024-25 Q1", 214, 1000, date(2024, 7, 10))
    history.submit("2024-25 Q2", 190, 1000, date(2024, 10, 10))
    return history
