"""The ledger as it stood at an instant of recorded time, on both stores: each aggregate folded
from its events up to the log position reached then, the events recorded between two instants,
and a period's return with everything recorded about it.

Instants are read from the clock between one command's commit and the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.settings import Settings
from domain import kpis
from domain.application import AsAt, Outcome, Trustledger, Write
from domain.errors import InvalidInstant, NotFound
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.reporting import ReportingPeriod
from domain.service_contract import ServiceContract, VariationChanges
from tests.domain.specs import COMMISSIONER, PROVIDER
from tests.domain.test_kpi_schedule import A1
from tests.domain.test_service_contract import COUNCIL, SCOPE, SUMS, TERM, TITLE, TRUST

QUARTER = ReportingPeriod.parse("2024-25 Q1")


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    yield ledger
    ledger.close()


def now() -> datetime:
    return datetime.now(UTC)


def draft(ledger: Trustledger) -> UUID:
    outcome = ledger.create(
        lambda _: ServiceContract.draft(
            council=COUNCIL,
            trust=TRUST,
            title=TITLE,
            term=TERM,
            scope=list(SCOPE),
            contract_sums=SUMS,
            actor=COMMISSIONER,
        ),
        actor=COMMISSIONER,
        write=Write(),
    )
    contract_id: UUID = outcome.value
    return contract_id


def on_contract(
    ledger: Trustledger, contract_id: UUID, command: Callable[[ServiceContract], Any], actor: Any
) -> Outcome[Any]:
    return ledger.change(ServiceContract, contract_id, command, actor=actor, write=Write())


def on_series(
    ledger: Trustledger, contract_id: UUID, command: Callable[[IndicatorSeries], Any], actor: Any
) -> Outcome[Any]:
    series_id = IndicatorSeries.id_for(contract_id, A1.code)
    return ledger.change(IndicatorSeries, series_id, command, actor=actor, write=Write())


def submit(ledger: Trustledger, contract_id: UUID, value: str, numerator: int) -> Outcome[Any]:
    def run(session: Any) -> tuple[IndicatorSeries, None]:
        series = kpis.submit_return(
            session,
            contract_id=contract_id,
            indicator_code=A1.code,
            period_label=QUARTER.label,
            value=Decimal(value),
            numerator=numerator,
            denominator=1000,
            commentary="",
            submitted_on=now().date(),
            actor=PROVIDER,
        )
        return series, None

    return ledger.execute(run, actor=PROVIDER, write=Write())


@dataclass(frozen=True)
class Step:
    """A step's outcome, the instant just after it, and the contract and A1's series as they
    then stood (None before the series began)."""

    outcome: Outcome[Any]
    instant: datetime
    contract: dict[str, Any] | None
    series: dict[str, Any] | None


def state(ledger: Trustledger, aggregate_id: UUID, at: AsAt | None) -> dict[str, Any] | None:
    """Everything an aggregate holds, as it stands or stood at an instant; None if it did not
    exist then."""
    try:
        return dict(vars(ledger.get_as_at(aggregate_id, LedgerAggregate, at)))
    except NotFound:
        return None


def a_life(ledger: Trustledger) -> tuple[UUID, list[Step]]:
    """A contract drafted with A1 on its schedule, signed, returned, queried, answered, accepted,
    restated and varied, recording after each step what the ledger then held."""
    contract_id = draft(ledger)
    series_id = IndicatorSeries.id_for(contract_id, A1.code)
    steps: list[Step] = []

    def step(outcome: Outcome[Any]) -> Outcome[Any]:
        contract, series = state(ledger, contract_id, None), state(ledger, series_id, None)
        steps.append(Step(outcome, now(), contract, series))
        return outcome

    step(
        on_contract(
            ledger, contract_id, lambda c: c.schedule_kpi(kpi=A1, actor=COMMISSIONER), COMMISSIONER
        )
    )
    step(on_contract(ledger, contract_id, lambda c: c.sign(actor=COMMISSIONER), COMMISSIONER))
    step(on_contract(ledger, contract_id, lambda c: c.sign(actor=PROVIDER), PROVIDER))
    step(submit(ledger, contract_id, "22.7", 227))
    query = step(
        on_series(
            ledger,
            contract_id,
            lambda s: s.query_return(
                period_label=QUARTER.label, question="Why?", actor=COMMISSIONER
            ),
            COMMISSIONER,
        )
    ).value
    step(
        on_series(
            ledger,
            contract_id,
            lambda s: s.answer_query(query_id=query, answer="Duplicates", actor=PROVIDER),
            PROVIDER,
        )
    )
    step(
        on_series(
            ledger,
            contract_id,
            lambda s: s.accept_return(period_label=QUARTER.label, actor=COMMISSIONER),
            COMMISSIONER,
        )
    )
    step(
        on_series(
            ledger,
            contract_id,
            lambda s: s.restate_return(
                period_label=QUARTER.label,
                value=Decimal("20.9"),
                numerator=209,
                denominator=1000,
                reason="duplicates removed",
                actor=PROVIDER,
            ),
            PROVIDER,
        )
    )
    variation = step(
        on_contract(
            ledger,
            contract_id,
            lambda c: c.propose_variation(
                changes=VariationChanges(contract_sums={"2019-20": 1}),
                rationale="a token sum",
                actor=PROVIDER,
            ),
            PROVIDER,
        )
    ).value
    step(
        on_contract(
            ledger,
            contract_id,
            lambda c: c.agree_variation(variation_id=variation, actor=COMMISSIONER),
            COMMISSIONER,
        )
    )
    return contract_id, steps


def test_every_aggregate_read_as_at_a_recorded_instant_is_as_it_then_stood(
    ledger: Trustledger,
) -> None:
    contract_id, steps = a_life(ledger)
    series_id = IndicatorSeries.id_for(contract_id, A1.code)

    for step in steps:
        at = ledger.as_at(step.instant)
        assert state(ledger, contract_id, at) == step.contract
        assert state(ledger, series_id, at) == step.series
    assert [step.series is None for step in steps[:4]] == [True, True, True, False]


def test_the_log_position_at_each_instant_is_the_last_one_written_before_it(
    ledger: Trustledger,
) -> None:
    _, steps = a_life(ledger)

    for step in steps:
        at = ledger.as_at(step.instant)
        assert (at.instant, at.position) == (step.instant, step.outcome.position)


def test_an_aggregate_as_at_before_its_first_event_is_not_found(ledger: Trustledger) -> None:
    before = now()
    contract_id = draft(ledger)

    with pytest.raises(NotFound):
        ledger.get_as_at(contract_id, ServiceContract, ledger.as_at(before))
    with pytest.raises(NotFound):
        ledger.get_as_at(uuid4(), ServiceContract, ledger.as_at(now()))
    assert ledger.as_at(datetime(2000, 1, 1, tzinfo=UTC)).position == 0


def test_an_instant_without_an_offset_or_still_to_come_is_refused(ledger: Trustledger) -> None:
    draft(ledger)

    with pytest.raises(InvalidInstant, match="offset"):
        ledger.as_at(datetime(2025, 3, 3, 17, 0))
    with pytest.raises(InvalidInstant, match="still to come"):
        ledger.as_at(now() + timedelta(minutes=5))


def test_the_changes_between_two_instants_are_the_events_recorded_after_one_up_to_the_other(
    ledger: Trustledger,
) -> None:
    contract_id, steps = a_life(ledger)
    # Another contract's events are none of this one's changes.
    draft(ledger)
    signed, answered = steps[1], steps[5]
    contract = ledger.get(contract_id, ServiceContract)
    start, end = ledger.as_at(signed.instant), ledger.as_at(answered.instant)

    page = ledger.changes(contract, start, end, after=None, limit=100)

    assert [type(r.event).__name__ for r in page.events] == [
        "Signed",
        "Started",
        "ReturnSubmitted",
        "ReturnQueried",
        "QueryAnswered",
    ]
    assert signed.outcome.position is not None
    assert page.events[0].position > signed.outcome.position
    assert page.events[-1].position == answered.outcome.position
    assert all(signed.instant < r.recorded_at <= answered.instant for r in page.events)
    assert page.next_after is None


def test_the_changes_come_in_pages_that_together_are_all_of_them(ledger: Trustledger) -> None:
    contract_id, steps = a_life(ledger)
    contract = ledger.get(contract_id, ServiceContract)
    start, end = ledger.as_at(steps[0].instant - timedelta(hours=1)), ledger.as_at(now())
    everything = ledger.changes(contract, start, end, after=None, limit=100).events

    pages, after = [], None
    while True:
        page = ledger.changes(contract, start, end, after=after, limit=3)
        pages.append(page.events)
        if page.next_after is None:
            break
        after = page.next_after

    assert [r for events in pages for r in events] == everything
    # Drafted, scheduled, two signatures, the series' six events and the variation's two.
    assert [len(events) for events in pages] == [3, 3, 3, 3]


def test_an_interval_that_ends_before_it_starts_is_refused(ledger: Trustledger) -> None:
    contract_id, steps = a_life(ledger)
    contract = ledger.get(contract_id, ServiceContract)

    start, end = ledger.as_at(steps[3].instant), ledger.as_at(steps[1].instant)

    with pytest.raises(InvalidInstant):
        ledger.changes(contract, start, end, after=None, limit=10)


def test_a_periods_history_is_everything_recorded_about_its_return_up_to_an_instant(
    ledger: Trustledger,
) -> None:
    contract_id, steps = a_life(ledger)
    series_id = IndicatorSeries.id_for(contract_id, A1.code)

    history = ledger.return_history(series_id, QUARTER, None)
    answered = ledger.return_history(series_id, QUARTER, ledger.as_at(steps[5].instant))

    assert [type(r.event).__name__ for r in history] == [
        "ReturnSubmitted",
        "ReturnQueried",
        "QueryAnswered",
        "ReturnAccepted",
        "ReturnRestated",
    ]
    assert answered == history[:3]
    assert ledger.return_history(series_id, ReportingPeriod.parse("2024-25 Q2"), None) == []
