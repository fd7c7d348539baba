"""The views' folds, events in and rows out, without a database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.actor import Role
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.rag import Rag
from domain.service_contract import ContractStatus, ServiceContract
from projections.activity import entry, in_words
from projections.dashboard import Direction, TrendPoint, fold, rows_of
from projections.dashboard_view import Dashboard
from tests.domain.specs import COMMISSIONER, PROVIDER
from tests.projections.builders import Q3_DUE, signed_contract_with_a1, with_two_quarters

ONE_DAY = timedelta(days=1)


def the_dashboard(events: list[LedgerAggregate.Event], today: date) -> Dashboard:
    contracts, _ = rows_of(fold(events))
    [(dashboard, _)] = contracts.values()
    return Dashboard.on(today, dashboard, None)


def test_a_kpi_shows_its_latest_return_against_the_target_with_rag_direction_and_trend() -> None:
    history = with_two_quarters()

    [a1] = the_dashboard(history.events, date(2024, 11, 1)).contract.kpis

    assert a1.reference == "A1"
    assert a1.latest is not None
    assert (a1.latest.period, a1.latest.value) == ("2024-25 Q2", Decimal("19.0"))
    assert (a1.target, a1.tolerance, a1.rag) == (Decimal("20.0"), Decimal("23.0"), Rag.GREEN)
    # Fewer re-referrals is better: 21.4 then 19.0 is improving.
    assert a1.direction is Direction.IMPROVING
    assert a1.trend == [
        TrendPoint(period="2024-25 Q1", value=Decimal("21.4")),
        TrendPoint(period="2024-25 Q2", value=Decimal("19.0")),
    ]


def test_a_restated_figure_counts_as_a_restatement_and_can_turn_the_direction() -> None:
    history = with_two_quarters()
    assert history.series is not None
    history.series.restate_return(
        period_label="2024-25 Q2",
        value=Decimal("24.0"),
        numerator=240,
        denominator=1000,
        reason="late closures",
        actor=PROVIDER,
    )
    history.record(history.series)

    [a1] = the_dashboard(history.events, date(2024, 11, 1)).contract.kpis

    assert a1.restatements == 1
    assert a1.latest is not None
    assert a1.latest.restated
    assert (a1.rag, a1.direction) == (Rag.RED, Direction.WORSENING)


def test_a_return_is_overdue_from_the_day_after_it_falls_due() -> None:
    history = with_two_quarters()

    on_the_day = the_dashboard(history.events, Q3_DUE)
    the_day_after = the_dashboard(history.events, Q3_DUE + ONE_DAY)

    assert "2024-25 Q3" not in on_the_day.overdue_returns["rereferrals_12m"]
    assert "2024-25 Q3" in the_day_after.overdue_returns["rereferrals_12m"]
    # Periods returned are never overdue, however long ago they fell due.
    assert "2024-25 Q1" not in the_day_after.overdue_returns["rereferrals_12m"]


def test_the_status_follows_the_reading_day_through_the_term() -> None:
    history = signed_contract_with_a1()

    assert the_dashboard(history.events, date(2018, 3, 31)).status is ContractStatus.SIGNED
    assert the_dashboard(history.events, date(2018, 4, 1)).status is ContractStatus.LIVE
    assert the_dashboard(history.events, date(2028, 4, 1)).status is ContractStatus.ENDED


def test_an_open_notice_without_a_plan_is_overdue_after_its_response_date() -> None:
    history = signed_contract_with_a1()
    notice = history.issue_notice(issued_on=date(2025, 2, 1), response_due=date(2025, 2, 28))

    assert the_dashboard(history.events, date(2025, 2, 28)).overdue_notices == []
    assert the_dashboard(history.events, date(2025, 3, 1)).overdue_notices == [notice.id]

    notice.resolve(actor=COMMISSIONER)
    history.record(notice)
    closed = the_dashboard(history.events, date(2025, 3, 1))
    assert (closed.contract.open_notices, closed.contract.closed_notices) == ([], 1)


def test_an_event_folded_twice_changes_nothing() -> None:
    history = with_two_quarters()
    folded = fold(history.events)
    before = rows_of(folded)

    assert [folded.apply(event) for event in history.events] == [None] * len(history.events)
    assert rows_of(folded) == before


def test_the_portfolio_row_counts_rag_and_keeps_the_due_dates_overdue_is_read_from() -> None:
    history = with_two_quarters()

    [(dashboard, portfolio)] = rows_of(fold(history.events))[0].values()

    assert portfolio.rag == {Rag.GREEN: 1, Rag.AMBER: 0, Rag.RED: 0, Rag.NONE: 0}
    assert portfolio.owed_due_on == sorted(o.due_on for o in dashboard.kpis[0].owed)
    assert Q3_DUE in portfolio.owed_due_on


def test_activity_says_who_did_what_in_plain_words() -> None:
    history = with_two_quarters()
    submitted = next(e for e in history.events if isinstance(e, IndicatorSeries.ReturnSubmitted))

    made = entry(submitted, 7, history.contract.id, "rereferrals_12m")

    assert (made.what, made.subject, made.position) == (
        "return submitted",
        "rereferrals_12m 2024-25 Q1",
        7,
    )
    assert (made.role, made.organisation_id) == (Role.PROVIDER, PROVIDER.organisation_id)
    assert made.recorded_at == submitted.timestamp
    assert in_words(ServiceContract.VariationAgreed) == "variation agreed"
    assert in_words(ServiceContract.Signed) == "contract signed"
    assert in_words(PerformanceNotice.Issued) == "performance notice issued"
