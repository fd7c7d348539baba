"""Specifications of a KPI's series of returns: submitted by the trust, queried and accepted by
the council, restated with a reason and never overwritten.

The counts are Sandwell's for the year to 31 March 2025, as DfE published them: 844 of 3,723
referrals were re-referrals (22.7%), 129 of 418 child protection plans were second or subsequent
plans (30.9%), 12 of 357 plans had lasted 2 years or more (3.4%), and 240 of 380 children were in
long-term stable placements (63%). Dates of submission and the queries are illustrative.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.actor import Actor
from domain.errors import (
    DomainError,
    InvalidDate,
    InvalidFraction,
    InvalidOrganisation,
    InvalidValue,
    MissingDetail,
    MissingReason,
    NotAParty,
    NotFound,
    QueryAlreadyAnswered,
    QueryOpen,
    RestatementChangesNothing,
    ReturnAlreadyAccepted,
    ReturnAlreadySubmitted,
    ValueDisagreesWithCounts,
    WrongParty,
)
from domain.indicator_series import (
    IndicatorSeries,
    KpiReturn,
    Query,
    ReturnStatus,
    ReturnValue,
)
from domain.indicators import CATALOGUE, Indicator, Suppression
from domain.reporting import ReportingPeriod
from tests.domain.specs import (
    COMMISSIONER,
    COUNCIL_ORG,
    OUTSIDER,
    PROVIDER,
    TRUST_ORG,
    Fact,
    fact,
)
from tests.domain.specs import given as given_facts
from tests.domain.then import refused, replayed

CONTRACT = UUID("5f0c3a8e-2d14-4b7a-9c61-8e2f4a7b1d93")
QUERY = UUID("9a4e1b7c-3f28-4d05-b6e9-1c7d2a8f5e40")

REREFERRALS = CATALOGUE["rereferrals_12m"]
SECOND_PLANS = CATALOGUE["cpp_second_or_subsequent"]
PLANS_2_YEARS = CATALOGUE["cpp_2_years_plus"]
STABILITY = CATALOGUE["cla_long_term_stability"]
CASELOAD = CATALOGUE["sw_caseload"]

YEAR_2024_25 = ReportingPeriod.parse("2024-25")
YEAR_2023_24 = ReportingPeriod.parse("2023-24")
# 20 working days after 31 March 2025, Good Friday and Easter Monday not counted.
DUE = date(2025, 4, 30)
ON_TIME = date(2025, 4, 25)

SANDWELL_2025: dict[str, tuple[Indicator, Decimal, int, int]] = {
    "re-referrals": (REREFERRALS, Decimal("22.7"), 844, 3723),
    "second or subsequent plans": (SECOND_PLANS, Decimal("30.9"), 129, 418),
    "plans lasting 2 years or more": (PLANS_2_YEARS, Decimal("3.4"), 12, 357),
    "long-term stability": (STABILITY, Decimal("63"), 240, 380),
}


def started(indicator: Indicator = REREFERRALS) -> Fact:
    return fact(
        IndicatorSeries.Started,
        contract_id=CONTRACT,
        indicator=indicator,
        council_organisation_id=COUNCIL_ORG,
        trust_organisation_id=TRUST_ORG,
    )


def submitted(
    period: ReportingPeriod = YEAR_2024_25,
    value: Decimal | Suppression = Decimal("22.7"),
    numerator: int | None = 844,
    denominator: int | None = 3723,
) -> Fact:
    return fact(
        IndicatorSeries.ReturnSubmitted,
        period=period,
        value=value,
        numerator=numerator,
        denominator=denominator,
        commentary="",
        due_on=DUE,
        submitted_on=ON_TIME,
        late=False,
        actor=PROVIDER,
    )


def queried(query_id: UUID = QUERY) -> Fact:
    return fact(
        IndicatorSeries.ReturnQueried,
        period_label="2024-25",
        query_id=query_id,
        question="Why did re-referrals rise?",
    )


def answered(query_id: UUID = QUERY) -> Fact:
    return fact(
        IndicatorSeries.QueryAnswered,
        period_label="2024-25",
        query_id=query_id,
        answer="Domestic abuse referrals",
        actor=PROVIDER,
    )


ACCEPTED = fact(IndicatorSeries.ReturnAccepted, period_label="2024-25")


def given(*facts: Fact, indicator: Indicator = REREFERRALS) -> IndicatorSeries:
    series: IndicatorSeries = given_facts(started(indicator), *facts)
    return series


def submit(series: IndicatorSeries, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "period": YEAR_2024_25,
        "value": Decimal("22.7"),
        "numerator": 844,
        "denominator": 3723,
        "commentary": "Sandwell's year to 31 March 2025",
        "due_on": DUE,
        "submitted_on": ON_TIME,
        "actor": PROVIDER,
    }
    series.submit_return(**{**arguments, **overrides})


def restate(series: IndicatorSeries, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "period_label": "2024-25",
        "value": Decimal("22.6"),
        "numerator": 841,
        "denominator": 3723,
        "reason": "Three duplicate referrals merged",
        "actor": PROVIDER,
    }
    series.restate_return(**{**arguments, **overrides})


def the_one_event(series: IndicatorSeries, event_class: type[Any], actor: Actor) -> Any:
    [recorded] = series.collect_events()
    assert isinstance(recorded, event_class)
    assert recorded.actor == actor
    return recorded


# -- starting a series ---------------------------------------------------------------------------


def test_a_series_is_started_for_one_indicator_of_one_contract() -> None:
    series = IndicatorSeries.start(
        contract_id=CONTRACT,
        indicator=REREFERRALS,
        council_organisation_id=COUNCIL_ORG,
        trust_organisation_id=TRUST_ORG,
        actor=PROVIDER,
    )

    the_one_event(series, IndicatorSeries.Started, PROVIDER)
    assert series.id == IndicatorSeries.id_for(CONTRACT, REREFERRALS.code)
    assert series.id != IndicatorSeries.id_for(CONTRACT, SECOND_PLANS.code)
    assert series.id != IndicatorSeries.id_for(uuid4(), REREFERRALS.code)
    assert (series.contract_id, series.indicator) == (CONTRACT, REREFERRALS)
    assert (series.council_organisation_id, series.trust_organisation_id) == (
        COUNCIL_ORG,
        TRUST_ORG,
    )
    assert series.returns == {}
    assert series.latest() is None


@pytest.mark.parametrize(
    ("council", "actor", "error"),
    [(COUNCIL_ORG, OUTSIDER, NotAParty), (TRUST_ORG, PROVIDER, InvalidOrganisation)],
    ids=["an outsider", "one organisation as both parties"],
)
def test_a_series_is_started_by_a_party_to_a_contract_between_two(
    council: str, actor: Actor, error: type[DomainError]
) -> None:
    with pytest.raises(error):
        IndicatorSeries.start(
            contract_id=CONTRACT,
            indicator=REREFERRALS,
            council_organisation_id=council,
            trust_organisation_id=TRUST_ORG,
            actor=actor,
        )


# -- submitting returns --------------------------------------------------------------------------


@pytest.mark.parametrize("measure", SANDWELL_2025)
def test_sandwells_2025_figures_are_submitted_with_their_counts_and_accepted(measure: str) -> None:
    indicator, value, numerator, denominator = SANDWELL_2025[measure]
    series = given(indicator=indicator)

    submit(series, value=value, numerator=numerator, denominator=denominator)

    recorded = the_one_event(series, IndicatorSeries.ReturnSubmitted, PROVIDER)
    assert (recorded.value, recorded.numerator, recorded.denominator) == (
        value,
        numerator,
        denominator,
    )
    assert series.returns == {
        "2024-25": KpiReturn(
            period=YEAR_2024_25,
            value=value,
            numerator=numerator,
            denominator=denominator,
            commentary="Sandwell's year to 31 March 2025",
            submitted_by=PROVIDER,
            submitted_on=ON_TIME,
            due_on=DUE,
            late=False,
            status=ReturnStatus.SUBMITTED,
            history=(ReturnValue(value, numerator, denominator, PROVIDER, recorded.timestamp),),
        )
    }

    series.accept_return(period_label="2024-25", actor=COMMISSIONER)

    accepted = the_one_event(series, IndicatorSeries.ReturnAccepted, COMMISSIONER)
    assert accepted.period_label == "2024-25"
    assert series.returns["2024-25"].status is ReturnStatus.ACCEPTED


def test_a_value_its_own_counts_do_not_make_is_refused_naming_both() -> None:
    series = given()
    with refused(series, ValueDisagreesWithCounts) as caught:
        submit(series, value=Decimal("22.8"))
    assert caught.value.detail == "22.8 does not agree with 844 / 3,723 = 22.7"


def test_the_publishers_rounding_decides_agreement() -> None:
    # 129 of 418 is 30.861%: 30.9 as DfE prints it, never 30.8.
    series = given(indicator=SECOND_PLANS)
    with refused(series, ValueDisagreesWithCounts):
        submit(series, value=Decimal("30.8"), numerator=129, denominator=418)


def test_a_value_is_stored_exactly_as_submitted() -> None:
    series = given()
    submit(series, value=Decimal("22.70"))
    assert str(series.returns["2024-25"].value) == "22.70"


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(None, None), (3, None), (None, 12)],
    ids=["none", "one", "other"],
)
def test_a_suppressed_value_is_kept_as_its_code_never_as_0(
    numerator: int | None, denominator: int | None
) -> None:
    series = given(indicator=PLANS_2_YEARS)

    submit(series, value=Suppression.SUPPRESSED, numerator=numerator, denominator=denominator)

    recorded = the_one_event(series, IndicatorSeries.ReturnSubmitted, PROVIDER)
    assert recorded.value is Suppression.SUPPRESSED
    assert series.returns["2024-25"].value is Suppression.SUPPRESSED


def test_an_indicator_without_counts_takes_its_value_alone() -> None:
    series = given(indicator=CASELOAD)
    submit(series, value=Decimal("17.3"), numerator=None, denominator=None)
    assert series.returns["2024-25"].value == Decimal("17.3")


VALUE_REFUSED: dict[str, tuple[dict[str, Any], type[DomainError]]] = {
    "no counts": ({"numerator": None, "denominator": None}, InvalidFraction),
    "no denominator": ({"denominator": None}, InvalidFraction),
    "no numerator": ({"numerator": None}, InvalidFraction),
    "a negative count": ({"numerator": -1}, InvalidFraction),
    "a count that is not whole": ({"numerator": Decimal("844.5")}, InvalidFraction),
    "a count that is a yes": ({"numerator": True}, InvalidFraction),
    "more re-referrals than referrals": ({"numerator": 3724}, InvalidFraction),
    "no referrals at all": ({"numerator": 0, "denominator": 0}, InvalidFraction),
    "more decimals than published": ({"value": Decimal("22.67")}, InvalidValue),
    "a negative value": ({"value": Decimal("-22.7")}, InvalidValue),
    "not a number": ({"value": Decimal("NaN")}, InvalidValue),
    "a code DfE does not use": ({"value": "q"}, InvalidValue),
    "a suppressed value with impossible counts": (
        {"value": Suppression.SUPPRESSED, "numerator": 5, "denominator": 4},
        InvalidFraction,
    ),
    "the wrong value": ({"value": Decimal("2.3")}, ValueDisagreesWithCounts),
}


@pytest.mark.parametrize("name", VALUE_REFUSED)
def test_a_return_is_refused_unless_its_value_and_counts_are_the_indicators(name: str) -> None:
    changes, error = VALUE_REFUSED[name]
    series = given()
    with refused(series, error):
        submit(series, **changes)


def test_counts_are_refused_for_an_indicator_without_them() -> None:
    series = given(indicator=CASELOAD)
    with refused(series, InvalidFraction):
        submit(series, value=Decimal("17.3"), numerator=346, denominator=20)


@pytest.mark.parametrize(
    ("submitted_on", "late"),
    [(DUE, False), (date(2025, 5, 1), True)],
    ids=["on the due date", "a day after"],
)
def test_a_return_made_after_its_due_date_is_recorded_late(submitted_on: date, late: bool) -> None:
    series = given()

    submit(series, submitted_on=submitted_on)

    recorded = the_one_event(series, IndicatorSeries.ReturnSubmitted, PROVIDER)
    assert recorded.late is late
    assert series.returns["2024-25"].late is late


@pytest.mark.parametrize(
    "dates",
    [
        {"submitted_on": date(2025, 3, 31)},
        {"submitted_on": date(2025, 2, 1)},
        {"due_on": date(2025, 3, 30)},
    ],
    ids=["on the period's last day", "during the period", "due before the period ends"],
)
def test_a_return_is_made_after_its_period_has_ended(dates: dict[str, date]) -> None:
    series = given()
    with refused(series, InvalidDate):
        submit(series, **dates)


def test_a_second_return_for_a_period_is_refused_and_the_first_can_be_restated() -> None:
    series = given(submitted())
    with refused(series, ReturnAlreadySubmitted):
        submit(series, value=Decimal("22.6"), numerator=841)

    restate(series)

    the_one_event(series, IndicatorSeries.ReturnRestated, PROVIDER)


def test_returns_are_kept_in_period_order_and_the_latest_is_the_latest_period() -> None:
    series = given(submitted())

    submit(series, period=YEAR_2023_24, value=Decimal("21.0"), numerator=800, denominator=3810)

    assert list(series.returns) == ["2023-24", "2024-25"]
    latest = series.latest()
    assert latest is not None
    assert latest.period == YEAR_2024_25


# -- who does what -------------------------------------------------------------------------------

Command = Callable[[IndicatorSeries, Actor], object]

TRUSTS: dict[str, Command] = {
    "submit_return": lambda s, a: submit(
        s, period=YEAR_2023_24, numerator=800, denominator=3524, actor=a
    ),
    "restate_return": lambda s, a: restate(s, actor=a),
    "answer_query": lambda s, a: s.answer_query(query_id=QUERY, answer="Because", actor=a),
}
COUNCILS: dict[str, Command] = {
    "query_return": lambda s, a: s.query_return(period_label="2024-25", question="Why?", actor=a),
    "accept_return": lambda s, a: s.accept_return(period_label="2024-25", actor=a),
}


@pytest.mark.parametrize(
    ("name", "actor"),
    [*((n, COMMISSIONER) for n in TRUSTS), *((n, PROVIDER) for n in COUNCILS)],
)
def test_each_command_belongs_to_one_party(name: str, actor: Actor) -> None:
    series = given(submitted(), queried())
    command = {**TRUSTS, **COUNCILS}[name]
    with refused(series, WrongParty):
        command(series, actor)


@pytest.mark.parametrize("name", [*TRUSTS, *COUNCILS])
def test_an_organisation_that_is_not_a_party_can_do_nothing_with_a_series(name: str) -> None:
    series = given(submitted(), queried())
    command = {**TRUSTS, **COUNCILS}[name]
    with refused(series, NotAParty):
        command(series, OUTSIDER)


def test_the_trust_submits_in_its_own_name() -> None:
    series = given()
    with refused(series, WrongParty):
        submit(series, actor=COMMISSIONER)


# -- the council's challenge ---------------------------------------------------------------------


def test_the_council_queries_a_return_and_cannot_accept_it_until_the_trust_answers() -> None:
    series = given(submitted())

    query_id = series.query_return(
        period_label="2024-25", question=" Why did re-referrals rise? ", actor=COMMISSIONER
    )

    recorded = the_one_event(series, IndicatorSeries.ReturnQueried, COMMISSIONER)
    assert (recorded.query_id, recorded.question) == (query_id, "Why did re-referrals rise?")
    query = Query(query_id, "Why did re-referrals rise?", COMMISSIONER, recorded.timestamp)
    assert series.returns["2024-25"].queries == (query,)
    assert series.returns["2024-25"].open_queries == (query,)
    with refused(series, QueryOpen):
        series.accept_return(period_label="2024-25", actor=COMMISSIONER)

    series.answer_query(query_id=query_id, answer="Domestic abuse referrals", actor=PROVIDER)

    answer = the_one_event(series, IndicatorSeries.QueryAnswered, PROVIDER)
    assert (answer.period_label, answer.query_id) == ("2024-25", query_id)
    [answered_query] = series.returns["2024-25"].queries
    assert answered_query.answer == "Domestic abuse referrals"
    assert (answered_query.answered_by, answered_query.answered_at) == (PROVIDER, answer.timestamp)
    assert not series.returns["2024-25"].open_queries

    series.accept_return(period_label="2024-25", actor=COMMISSIONER)

    the_one_event(series, IndicatorSeries.ReturnAccepted, COMMISSIONER)


def test_every_query_must_be_answered_before_the_return_is_accepted() -> None:
    second = uuid4()
    series = given(submitted(), queried(), queried(second), answered())
    assert [q.query_id for q in series.returns["2024-25"].open_queries] == [second]
    with refused(series, QueryOpen):
        series.accept_return(period_label="2024-25", actor=COMMISSIONER)


def test_a_return_is_accepted_once_until_it_is_restated() -> None:
    series = given(submitted(), ACCEPTED)
    with refused(series, ReturnAlreadyAccepted):
        series.accept_return(period_label="2024-25", actor=COMMISSIONER)


def test_a_query_is_answered_once() -> None:
    series = given(submitted(), queried(), answered())
    with refused(series, QueryAlreadyAnswered):
        series.answer_query(query_id=QUERY, answer="Again", actor=PROVIDER)


CHALLENGE_REFUSED: dict[str, tuple[Actor, Command, type[DomainError]]] = {
    "a query on no return": (
        COMMISSIONER,
        lambda s, a: s.query_return(period_label="2023-24", question="Why?", actor=a),
        NotFound,
    ),
    "a blank question": (
        COMMISSIONER,
        lambda s, a: s.query_return(period_label="2024-25", question=" ", actor=a),
        MissingDetail,
    ),
    "an answer to no query": (
        PROVIDER,
        lambda s, a: s.answer_query(query_id=uuid4(), answer="Because", actor=a),
        NotFound,
    ),
    "a blank answer": (
        PROVIDER,
        lambda s, a: s.answer_query(query_id=QUERY, answer="", actor=a),
        MissingDetail,
    ),
    "accepting no return": (
        COMMISSIONER,
        lambda s, a: s.accept_return(period_label="2024-25 Q1", actor=a),
        NotFound,
    ),
}


@pytest.mark.parametrize("name", CHALLENGE_REFUSED)
def test_a_query_answer_or_acceptance_needs_its_return_and_its_words(name: str) -> None:
    actor, command, error = CHALLENGE_REFUSED[name]
    series = given(submitted(), queried())
    with refused(series, error):
        command(series, actor)


# -- restatements --------------------------------------------------------------------------------


def test_a_restatement_keeps_both_values_and_needs_accepting_again() -> None:
    series = given(submitted(), ACCEPTED)
    [first] = series.returns["2024-25"].history

    restate(series)

    recorded = the_one_event(series, IndicatorSeries.ReturnRestated, PROVIDER)
    assert recorded.reason == "Three duplicate referrals merged"
    restated = series.returns["2024-25"]
    assert (restated.value, restated.numerator, restated.denominator) == (
        Decimal("22.6"),
        841,
        3723,
    )
    assert restated.history == (
        first,
        ReturnValue(
            Decimal("22.6"),
            841,
            3723,
            PROVIDER,
            recorded.timestamp,
            "Three duplicate referrals merged",
        ),
    )
    assert first.value == Decimal("22.7")
    assert first.reason is None
    assert restated.restated
    assert restated.status is ReturnStatus.SUBMITTED
    assert restated.submitted_on == ON_TIME

    series.accept_return(period_label="2024-25", actor=COMMISSIONER)

    the_one_event(series, IndicatorSeries.ReturnAccepted, COMMISSIONER)


def test_a_queried_return_is_restated_while_its_query_stays_open_until_answered() -> None:
    series = given(submitted(), queried())
    restate(series)
    series.collect_events()
    assert len(series.returns["2024-25"].open_queries) == 1


def test_a_suppressed_value_can_be_restated_as_a_figure_and_back() -> None:
    series = given(submitted(value=Suppression.NOT_AVAILABLE, numerator=None, denominator=None))

    restate(series, value=Decimal("22.7"), numerator=844, reason="The census closed")
    restate(series, value=Suppression.SUPPRESSED, numerator=None, denominator=None)

    values = [given_value.value for given_value in series.returns["2024-25"].history]
    assert values == [Suppression.NOT_AVAILABLE, Decimal("22.7"), Suppression.SUPPRESSED]


RESTATEMENT_REFUSED: dict[str, tuple[dict[str, Any], type[DomainError]]] = {
    "no reason": ({"reason": "  "}, MissingReason),
    "the same value and counts": (
        {"value": Decimal("22.70"), "numerator": 844, "denominator": 3723},
        RestatementChangesNothing,
    ),
    "a value its counts do not make": ({"value": Decimal("22.7")}, ValueDisagreesWithCounts),
    "more decimals than published": ({"value": Decimal("22.59")}, InvalidValue),
    "a period with no return": ({"period_label": "2023-24"}, NotFound),
}


@pytest.mark.parametrize("name", RESTATEMENT_REFUSED)
def test_a_restatement_is_held_to_the_submission_rules_and_says_why(name: str) -> None:
    changes, error = RESTATEMENT_REFUSED[name]
    series = given(submitted())
    with refused(series, error):
        restate(series, **changes)


# -- stored and read back ------------------------------------------------------------------------


def test_a_series_replayed_from_its_stored_events_is_the_same_series() -> None:
    series = IndicatorSeries.start(
        contract_id=CONTRACT,
        indicator=REREFERRALS,
        council_organisation_id=COUNCIL_ORG,
        trust_organisation_id=TRUST_ORG,
        actor=PROVIDER,
    )
    submit(series, value=Suppression.NOT_AVAILABLE, numerator=None, denominator=None)
    submit(
        series,
        period=YEAR_2023_24,
        value=Decimal("21.0"),
        numerator=800,
        denominator=3810,
        due_on=date(2024, 4, 30),
        submitted_on=date(2024, 6, 3),
    )
    query_id = series.query_return(period_label="2023-24", question="Why?", actor=COMMISSIONER)
    series.answer_query(query_id=query_id, answer="Because", actor=PROVIDER)
    series.accept_return(period_label="2023-24", actor=COMMISSIONER)
    restate(series, value=Decimal("22.7"), numerator=844, reason="The census closed")

    restored = replayed(series.collect_events())

    assert restored == series
    assert restored.indicator == REREFERRALS
    assert restored.returns["2024-25"].history[0].value is Suppression.NOT_AVAILABLE
    assert restored.returns["2023-24"].status is ReturnStatus.ACCEPTED
    assert restored.returns["2023-24"].late
