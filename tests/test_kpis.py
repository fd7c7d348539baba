"""Specifications of the KPI commands that read the contract and write a series, run through the
ledger on SQLite and PostgreSQL, and of the summary a commissioner reads.

The figures are Sandwell's for the year to 31 March 2025 (see test_indicator_series.py); the
contract's term, schedule, targets and the assessment figures are illustrative.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from api.settings import Settings
from domain import kpis
from domain.actor import Actor
from domain.application import Outcome, Session, Trustledger, Write
from domain.errors import (
    ContractNotLive,
    DomainError,
    InvalidPeriod,
    NotAParty,
    NotFound,
    NotOnSchedule,
    PeriodOutsideTerm,
    ReturnAlreadySubmitted,
    ValueDisagreesWithCounts,
    WrongFrequency,
    WrongParty,
)
from domain.indicator_series import IndicatorSeries, ReturnStatus
from domain.indicators import CATALOGUE, Suppression
from domain.kpis import KpiSummary, LatestReturn, kpi_summary
from domain.ledger import LedgerAggregate
from domain.rag import Rag
from domain.reporting import Frequency
from domain.service_contract import ScheduledKpi, ServiceContract, Term, VariationChanges
from domain.writer import Batch
from tests.domain.specs import COMMISSIONER, OUTSIDER, PROVIDER, fact, given
from tests.domain.test_service_contract import (
    COUNCIL,
    SCOPE,
    TITLE,
    TRUST,
    VARIATION,
    drafted,
    proposed,
    signed,
)
from tests.domain.then import replayed

TERM = Term(starts=date(2024, 4, 1), ends=date(2029, 3, 31))
YEAR = "2024-25"

REREFERRALS = CATALOGUE["rereferrals_12m"]
STABILITY = CATALOGUE["cla_long_term_stability"]
SECOND_PLANS = CATALOGUE["cpp_second_or_subsequent"]
PLANS_2_YEARS = CATALOGUE["cpp_2_years_plus"]
ASSESSMENTS = CATALOGUE["assessments_45_working_days"]
EET = CATALOGUE["care_leavers_19_21_eet"]


def annual(indicator: Any, reference: str, target: str, tolerance: str | None) -> ScheduledKpi:
    return ScheduledKpi(
        indicator=indicator,
        reference=reference,
        frequency=Frequency.ANNUAL,
        due_working_days=20,
        targets={YEAR: Decimal(target)},
        tolerances={} if tolerance is None else {YEAR: Decimal(tolerance)},
    )


A1 = annual(REREFERRALS, "A1", "20.0", "23.0")
A2 = annual(STABILITY, "A2", "60", None)
A10 = annual(SECOND_PLANS, "A10", "25.0", "28.0")
B13 = annual(PLANS_2_YEARS, "B13", "5.0", None)
C1 = annual(EET, "C1", "45", "40")
B2 = ScheduledKpi(
    indicator=ASSESSMENTS,
    reference="B2",
    frequency=Frequency.QUARTERLY,
    due_working_days=10,
    targets={YEAR: Decimal("85.0")},
    tolerances={YEAR: Decimal("80.0")},
)
SCHEDULE = (C1, B13, B2, A10, A2, A1)

# The annual return for 2024-25 falls due 20 working days after 31 March 2025, Easter aside.
DUE = date(2025, 4, 30)
ON_TIME = date(2025, 4, 25)


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


def draft(ledger: Trustledger, *schedule: ScheduledKpi) -> UUID:
    contract_id: UUID = ledger.create(
        lambda _: ServiceContract.draft(
            council=COUNCIL,
            trust=TRUST,
            title=TITLE,
            term=TERM,
            scope=SCOPE,
            contract_sums={},
            actor=COMMISSIONER,
        ),
        actor=COMMISSIONER,
        write=Write(),
    ).value
    for kpi in schedule:
        on_contract(ledger, contract_id, lambda c, k=kpi: c.schedule_kpi(kpi=k, actor=COMMISSIONER))
    return contract_id


def live_contract(ledger: Trustledger, *schedule: ScheduledKpi) -> UUID:
    contract_id = draft(ledger, *schedule)
    for party in (COMMISSIONER, PROVIDER):
        on_contract(ledger, contract_id, lambda c, a=party: c.sign(actor=a), party)
    return contract_id


def on_contract(
    ledger: Trustledger, contract_id: UUID, command: Any, actor: Actor = COMMISSIONER
) -> None:
    ledger.change(ServiceContract, contract_id, command, actor=actor, write=Write())


def submit(
    ledger: Trustledger,
    contract_id: UUID,
    kpi: ScheduledKpi,
    value: Decimal | Suppression,
    numerator: int | None = None,
    denominator: int | None = None,
    *,
    period: str = YEAR,
    submitted_on: date = ON_TIME,
    actor: Actor = PROVIDER,
) -> Outcome[None]:
    def run(session: Session) -> tuple[IndicatorSeries, None]:
        series = kpis.submit_return(
            session,
            contract_id=contract_id,
            indicator_code=kpi.code,
            period_label=period,
            value=value,
            numerator=numerator,
            denominator=denominator,
            commentary="",
            submitted_on=submitted_on,
            actor=actor,
        )
        return series, None

    return ledger.execute(run, actor=actor, write=Write())


def on_series(
    ledger: Trustledger, contract_id: UUID, kpi: ScheduledKpi, command: Any, actor: Actor
) -> Any:
    def run(session: Session) -> tuple[IndicatorSeries, Any]:
        series = kpis.series_for(session, contract_id, kpi.code)
        return series, command(series)

    return ledger.execute(run, actor=actor, write=Write()).value


def series_of(ledger: Trustledger, contract_id: UUID, kpi: ScheduledKpi) -> IndicatorSeries:
    return ledger.get(IndicatorSeries.id_for(contract_id, kpi.code), IndicatorSeries)


# -- submitting ----------------------------------------------------------------------------------


def test_the_first_return_starts_the_kpis_series_and_is_due_as_the_schedule_says(
    ledger: Trustledger,
) -> None:
    contract_id = live_contract(ledger, A1, B2)

    outcome = submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)

    series = series_of(ledger, contract_id, A1)
    assert outcome.aggregate_id == series.id == IndicatorSeries.id_for(contract_id, A1.code)
    assert outcome.version == series.version == 2
    assert (series.contract_id, series.indicator) == (contract_id, REREFERRALS)
    made = series.returns[YEAR]
    assert (made.value, made.due_on, made.late) == (Decimal("22.7"), DUE, False)

    # 10 working days after 30 June 2024, a Sunday.
    submit(
        ledger,
        contract_id,
        B2,
        Decimal("82.4"),
        412,
        500,
        period="2024-25 Q1",
        submitted_on=date(2024, 7, 15),
    )
    submit(
        ledger,
        contract_id,
        B2,
        Decimal("86.0"),
        430,
        500,
        period="2024-25 Q2",
        submitted_on=date(2024, 10, 14),
    )

    quarterly = series_of(ledger, contract_id, B2)
    assert quarterly.version == 3
    assert [(r.due_on, r.late) for r in quarterly.returns.values()] == [
        (date(2024, 7, 12), True),
        (date(2024, 10, 14), False),
    ]


REFUSED: dict[str, tuple[dict[str, Any], type[DomainError]]] = {
    "a KPI not on the schedule": ({"kpi": B13}, NotOnSchedule),
    "a malformed period": ({"period": "2024-25 Q5"}, InvalidPeriod),
    "a quarter of an annual KPI": ({"period": "2024-25 Q1"}, WrongFrequency),
    "a year before the term": ({"period": "2023-24"}, PeriodOutsideTerm),
    "a year after the term": ({"period": "2029-30"}, PeriodOutsideTerm),
    "the council's return": ({"actor": COMMISSIONER}, WrongParty),
    "an outsider's return": ({"actor": OUTSIDER}, NotAParty),
    "a value its counts do not make": ({"value": Decimal("22.8")}, ValueDisagreesWithCounts),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_first_return_records_nothing_not_even_a_series(
    ledger: Trustledger, name: str
) -> None:
    contract_id = live_contract(ledger, A1)
    head = ledger.recorder.max_notification_id()
    changes, error = REFUSED[name]
    arguments: dict[str, Any] = {
        "kpi": A1,
        "value": Decimal("22.7"),
        "numerator": 844,
        "denominator": 3723,
        **changes,
    }

    with pytest.raises(error):
        submit(ledger, contract_id, **arguments)

    assert ledger.recorder.max_notification_id() == head
    with pytest.raises(NotFound):
        series_of(ledger, contract_id, arguments["kpi"])


def test_returns_are_made_only_under_a_contract_in_force(ledger: Trustledger) -> None:
    unsigned = draft(ledger, A1)
    ended = live_contract(ledger, A1)
    on_contract(
        ledger,
        ended,
        lambda c: c.terminate(reason="Default", ends_on=date(2025, 3, 31), actor=COMMISSIONER),
    )

    for contract_id in (unsigned, ended):
        with pytest.raises(ContractNotLive):
            submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)


def test_a_second_return_for_the_period_is_refused_by_the_ledger(ledger: Trustledger) -> None:
    contract_id = live_contract(ledger, A1)
    submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)

    with pytest.raises(ReturnAlreadySubmitted):
        submit(ledger, contract_id, A1, Decimal("22.6"), 841, 3723)

    assert series_of(ledger, contract_id, A1).version == 2


def test_first_returns_for_two_periods_arriving_together_share_one_series(
    ledger: Trustledger,
) -> None:
    # Committed together, or one after the other's conflict and retry: either way, one series.
    contract_id = live_contract(ledger, B2)
    quarters = {
        "2024-25 Q1": (Decimal("82.4"), 412, 500),
        "2024-25 Q2": (Decimal("86.0"), 430, 500),
    }

    def send(period: str) -> None:
        submit(
            ledger, contract_id, B2, *quarters[period], period=period, submitted_on=date(2025, 1, 6)
        )

    threads = [threading.Thread(target=send, args=(period,)) for period in quarters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    series = series_of(ledger, contract_id, B2)
    assert list(series.returns) == list(quarters)
    assert series.version == 3


def test_a_refused_command_in_a_batch_undoes_only_itself(ledger: Trustledger) -> None:
    # The writer runs a batch's commands in one session each; undoing a refused one must keep
    # an earlier command's new series and drop a series the refused command started.
    contract_id = live_contract(ledger, A1, A2)
    batch = Batch(ledger.repository)

    def attempt(kpi: ScheduledKpi, value: Decimal, numerator: int, denominator: int) -> bool:
        session = Session(batch)
        try:
            kpis.submit_return(
                session,
                contract_id=contract_id,
                indicator_code=kpi.code,
                period_label=YEAR,
                value=value,
                numerator=numerator,
                denominator=denominator,
                commentary="",
                submitted_on=ON_TIME,
                actor=PROVIDER,
            )
        except DomainError:
            session.undo()
            return False
        return True

    assert attempt(A1, Decimal("22.7"), 844, 3723)
    assert not attempt(A1, Decimal("22.6"), 841, 3723)
    assert not attempt(A2, Decimal("64"), 240, 380)

    series = batch.aggregates[IndicatorSeries.id_for(contract_id, A1.code)]
    assert isinstance(series, IndicatorSeries)
    assert len(series.collect_events()) == 2
    assert IndicatorSeries.id_for(contract_id, A2.code) not in batch.aggregates


# -- the council's challenge, through the series ------------------------------------------------


def test_the_council_queries_the_trust_answers_and_the_council_accepts(
    ledger: Trustledger,
) -> None:
    contract_id = live_contract(ledger, A1)
    submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)

    query_id = on_series(
        ledger,
        contract_id,
        A1,
        lambda s: s.query_return(period_label=YEAR, question="Why?", actor=COMMISSIONER),
        COMMISSIONER,
    )
    on_series(
        ledger,
        contract_id,
        A1,
        lambda s: s.answer_query(query_id=query_id, answer="Domestic abuse", actor=PROVIDER),
        PROVIDER,
    )
    on_series(
        ledger,
        contract_id,
        A1,
        lambda s: s.accept_return(period_label=YEAR, actor=COMMISSIONER),
        COMMISSIONER,
    )

    made = series_of(ledger, contract_id, A1).returns[YEAR]
    assert made.status is ReturnStatus.ACCEPTED
    assert [q.answer for q in made.queries] == ["Domestic abuse"]


def test_a_kpi_with_no_return_has_no_series(ledger: Trustledger) -> None:
    contract_id = live_contract(ledger, A1)
    with pytest.raises(NotFound):
        on_series(ledger, contract_id, A1, lambda s: None, COMMISSIONER)


# -- the summary ---------------------------------------------------------------------------------


def test_the_summary_rates_each_kpi_and_counts_what_is_overdue_late_and_queried(
    ledger: Trustledger,
) -> None:
    contract_id = live_contract(ledger, *SCHEDULE)
    submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)
    submit(ledger, contract_id, A2, Decimal("63"), 240, 380)
    submit(ledger, contract_id, A10, Decimal("30.9"), 129, 418)
    submit(ledger, contract_id, B13, Decimal("3.4"), 12, 357, submitted_on=date(2025, 5, 2))
    submit(
        ledger,
        contract_id,
        B2,
        Decimal("82.4"),
        412,
        500,
        period="2024-25 Q1",
        submitted_on=date(2024, 7, 19),
    )
    submit(
        ledger,
        contract_id,
        B2,
        Suppression.SUPPRESSED,
        period="2024-25 Q3",
        submitted_on=date(2025, 1, 10),
    )
    on_series(
        ledger,
        contract_id,
        B2,
        lambda s: s.query_return(
            period_label="2024-25 Q3", question="Why suppressed?", actor=COMMISSIONER
        ),
        COMMISSIONER,
    )
    contract = ledger.get(contract_id, ServiceContract)
    series = {kpi.code: series_of(ledger, contract_id, kpi) for kpi in SCHEDULE if kpi is not C1}

    summary = kpi_summary(contract, series, today=date(2025, 5, 15))

    assert [s.reference for s in summary] == ["A1", "A2", "A10", "B2", "B13", "C1"]
    by_reference = {s.reference: s for s in summary}
    assert by_reference["A1"] == KpiSummary(
        reference="A1",
        indicator=REREFERRALS,
        frequency=Frequency.ANNUAL,
        latest=LatestReturn(YEAR, Decimal("22.7"), False, False, ReturnStatus.SUBMITTED),
        target=Decimal("20.0"),
        tolerance=Decimal("23.0"),
        rag=Rag.AMBER,
        overdue=[],
        late=[],
        open_queries=0,
    )
    assert [(s.reference, s.rag) for s in summary] == [
        ("A1", Rag.AMBER),
        ("A2", Rag.GREEN),
        ("A10", Rag.RED),
        ("B2", Rag.NONE),
        ("B13", Rag.GREEN),
        ("C1", Rag.NONE),
    ]
    quarterly = by_reference["B2"]
    assert quarterly.latest == LatestReturn(
        "2024-25 Q3", Suppression.SUPPRESSED, False, False, ReturnStatus.SUBMITTED
    )
    assert (quarterly.target, quarterly.tolerance) == (Decimal("85.0"), Decimal("80.0"))
    assert quarterly.overdue == ["2024-25 Q2", "2024-25 Q4"]
    assert quarterly.late == ["2024-25 Q1"]
    assert quarterly.open_queries == 1
    assert by_reference["B13"].late == [YEAR]
    nothing_yet = by_reference["C1"]
    assert (nothing_yet.latest, nothing_yet.target, nothing_yet.overdue) == (None, None, [YEAR])


def test_a_return_is_overdue_only_once_its_due_date_has_passed(ledger: Trustledger) -> None:
    contract = ledger.get(live_contract(ledger, A1), ServiceContract)

    [on_the_day] = kpi_summary(contract, {}, today=DUE)
    [the_day_after] = kpi_summary(contract, {}, today=date(2025, 5, 1))

    assert on_the_day.overdue == []
    assert the_day_after.overdue == [YEAR]


def test_a_kpi_added_by_variation_is_owed_only_for_periods_ending_after_its_agreement() -> None:
    quarterly = replace(B2, targets={"2025-26": Decimal("85.0")}, tolerances={})
    contract: ServiceContract = given(
        drafted(term=TERM, contract_sums={}),
        signed(COMMISSIONER),
        signed(PROVIDER),
        proposed(VARIATION, VariationChanges(kpis=(quarterly,)), by=COMMISSIONER),
        fact(
            ServiceContract.VariationAgreed,
            variation_id=VARIATION,
            actor=PROVIDER,
            timestamp=datetime(2025, 9, 15, 14, 0, tzinfo=UTC),
        ),
    )

    [summary] = kpi_summary(contract, {}, today=date(2026, 1, 20))

    # Not the quarters of 2024-25 or 2025-26 Q1, which ended before the KPI was agreed.
    assert summary.overdue == ["2025-26 Q2", "2025-26 Q3"]


# -- stored and read back ------------------------------------------------------------------------


def test_a_series_and_its_contract_read_back_from_the_store_replay_exactly(
    ledger: Trustledger,
) -> None:
    contract_id = live_contract(ledger, A1, B2)
    submit(ledger, contract_id, A1, Decimal("22.7"), 844, 3723)
    submit(ledger, contract_id, B2, Suppression.NOT_AVAILABLE, period="2024-25 Q1")
    on_series(
        ledger,
        contract_id,
        A1,
        lambda s: s.restate_return(
            period_label=YEAR,
            value=Decimal("22.6"),
            numerator=841,
            denominator=3723,
            reason="Duplicates merged",
            actor=PROVIDER,
        ),
        PROVIDER,
    )

    stored: list[LedgerAggregate] = [
        ledger.get(contract_id, ServiceContract),
        series_of(ledger, contract_id, A1),
        series_of(ledger, contract_id, B2),
    ]
    for aggregate in stored:
        assert replayed(list(ledger.events.get(aggregate.id))) == aggregate

    restated = series_of(ledger, contract_id, A1).returns[YEAR]
    assert [v.value for v in restated.history] == [Decimal("22.7"), Decimal("22.6")]
    assert series_of(ledger, contract_id, B2).returns["2024-25 Q1"].value is (
        Suppression.NOT_AVAILABLE
    )
    assert ledger.get(contract_id, ServiceContract).scheduled_kpi(B2.code).frequency is (
        Frequency.QUARTERLY
    )
