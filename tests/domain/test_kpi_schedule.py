"""Specifications of the contract's KPI schedule: drafted by the council, fixed at signing, and
changed afterwards only by an agreed variation that every target in force can be traced to.

The contract is Sandwell's (see test_service_contract.py). Its schedule here is illustrative,
with references in the style of Doncaster's ("A1", "B13"); B13's target of 45% and tolerance of
40% for care leavers in education, employment or training are Doncaster's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.actor import Actor
from domain.errors import (
    ContractNotDraft,
    DomainError,
    InvalidAmendment,
    InvalidIndicator,
    InvalidKpi,
    InvalidPeriod,
    InvalidTolerance,
    InvalidVariation,
    NotAParty,
    NotOnSchedule,
    ReferenceInUse,
    UnknownIndicator,
    VariationAlreadyOpen,
    WrongParty,
)
from domain.indicators import CATALOGUE, Indicator, Polarity, Unit
from domain.reporting import Frequency
from domain.service_contract import (
    KpiScheduleChange,
    ScheduledKpi,
    ServiceContract,
    Term,
    VariationChanges,
)
from tests.domain.specs import COMMISSIONER, OUTSIDER, PROVIDER, Fact, fact
from tests.domain.test_service_contract import (
    COUNCIL,
    SCOPE,
    SUMS,
    TERM,
    TITLE,
    TRUST,
    VARIATION,
    a_draft,
    proposed,
    signed,
)
from tests.domain.then import refused, replayed

EET = CATALOGUE["care_leavers_19_21_eet"]
REREFERRALS = CATALOGUE["rereferrals_12m"]
STABILITY = CATALOGUE["cla_long_term_stability"]

B13 = ScheduledKpi(
    indicator=EET,
    reference="B13",
    frequency=Frequency.ANNUAL,
    due_working_days=20,
    targets={"2024-25": Decimal("45")},
    tolerances={"2024-25": Decimal("40")},
)
A1 = ScheduledKpi(
    indicator=REREFERRALS,
    reference="A1",
    frequency=Frequency.QUARTERLY,
    due_working_days=10,
    targets={"2024-25": Decimal("20.0"), "2025-26": Decimal("19.0")},
    tolerances={"2024-25": Decimal("23.0")},
)
VISITS = Indicator(
    code="cla_visits_in_timescale",
    title="Children looked after visited within timescale",
    unit=Unit.PERCENTAGE,
    polarity=Polarity.HIGHER_IS_BETTER,
    decimals=0,
    has_fraction=True,
    definition="Children looked after at the month's end whose last statutory visit was on time",
    source="local",
    national=False,
)
C4 = ScheduledKpi(
    indicator=VISITS,
    reference="C4",
    frequency=Frequency.MONTHLY,
    due_working_days=5,
    targets={"2024-25": Decimal("90")},
)


def scheduled(kpi: ScheduledKpi) -> Fact:
    return fact(ServiceContract.KpiScheduled, kpi=kpi)


def defined(indicator: Indicator) -> Fact:
    return fact(ServiceContract.LocalIndicatorDefined, indicator=indicator)


def agreed(**attributes: Any) -> Fact:
    return fact(ServiceContract.VariationAgreed, variation_id=VARIATION, **attributes)


def a_live_contract_scheduling(*kpis: ScheduledKpi) -> ServiceContract:
    return a_live_contract_after([scheduled(kpi) for kpi in kpis])


def a_live_contract_after(drafting: list[Fact], *facts: Fact) -> ServiceContract:
    contract: ServiceContract = a_draft(*drafting, signed(COMMISSIONER), signed(PROVIDER), *facts)
    return contract


def the_one_event(contract: ServiceContract, event_class: type[Any], actor: Actor) -> Any:
    [recorded] = contract.collect_events()
    assert isinstance(recorded, event_class)
    assert recorded.actor == actor
    return recorded


# -- drafting the schedule ---------------------------------------------------------------------


def test_the_council_schedules_a_kpi_while_drafting() -> None:
    contract = a_draft()

    contract.schedule_kpi(kpi=B13, actor=COMMISSIONER)

    recorded = the_one_event(contract, ServiceContract.KpiScheduled, COMMISSIONER)
    assert recorded.kpi == B13
    assert contract.kpi_schedule == {EET.code: B13}
    assert contract.scheduled_kpi(EET.code) == B13
    assert contract.target_for(EET.code, "2024-25") == (Decimal("45"), Decimal("40"))
    assert contract.kpi_schedule_history == (
        KpiScheduleChange(EET.code, B13, None, COMMISSIONER, recorded.timestamp),
    )


def test_a_kpi_as_signed_was_agreed_in_no_variation_whatever_the_draft_said() -> None:
    contract = a_draft()

    contract.schedule_kpi(
        kpi=dataclasses.replace(B13, reference=" B13 ", agreed_in=uuid4()), actor=COMMISSIONER
    )

    assert contract.scheduled_kpi(EET.code) == B13


def test_scheduling_an_indicator_again_replaces_its_kpi() -> None:
    contract = a_draft(scheduled(B13))
    stricter = dataclasses.replace(B13, targets={"2024-25": Decimal("50")}, tolerances={})

    contract.schedule_kpi(kpi=stricter, actor=COMMISSIONER)

    the_one_event(contract, ServiceContract.KpiScheduled, COMMISSIONER)
    assert contract.kpi_schedule == {EET.code: stricter}
    assert [change.kpi for change in contract.kpi_schedule_history] == [B13, stricter]


def test_the_council_takes_a_kpi_off_the_draft_schedule() -> None:
    contract = a_draft(scheduled(B13), scheduled(A1))

    contract.unschedule_kpi(indicator_code=EET.code, actor=COMMISSIONER)

    recorded = the_one_event(contract, ServiceContract.KpiUnscheduled, COMMISSIONER)
    assert recorded.indicator_code == EET.code
    assert contract.kpi_schedule == {REREFERRALS.code: A1}
    assert contract.kpi_schedule_history[-1] == KpiScheduleChange(
        EET.code, None, None, COMMISSIONER, recorded.timestamp
    )


def test_a_kpi_not_on_the_schedule_cannot_be_taken_off() -> None:
    contract = a_draft(scheduled(A1))
    with refused(contract, NotOnSchedule):
        contract.unschedule_kpi(indicator_code=EET.code, actor=COMMISSIONER)


def test_only_kpis_on_the_schedule_have_targets() -> None:
    contract = a_draft(scheduled(A1))

    assert contract.target_for(REREFERRALS.code, "2025-26") == (Decimal("19.0"), None)
    assert contract.target_for(REREFERRALS.code, "2026-27") == (None, None)
    with pytest.raises(NotOnSchedule):
        contract.scheduled_kpi(EET.code)
    with pytest.raises(NotOnSchedule):
        contract.target_for(EET.code, "2024-25")


@pytest.mark.parametrize("days", [0, 60])
def test_returns_fall_due_from_0_to_60_working_days_after_a_period(days: int) -> None:
    contract = a_draft()
    contract.schedule_kpi(kpi=dataclasses.replace(B13, due_working_days=days), actor=COMMISSIONER)
    assert contract.scheduled_kpi(EET.code).due_working_days == days


def test_a_kpi_may_have_no_target_and_a_tolerance_on_its_target() -> None:
    # Monitored without a target in one year, and no amber band in the other.
    kpi = dataclasses.replace(
        A1, targets={"2024-25": Decimal("20.0")}, tolerances={"2024-25": Decimal("20.0")}
    )
    contract = a_draft()
    contract.schedule_kpi(kpi=kpi, actor=COMMISSIONER)
    assert contract.target_for(REREFERRALS.code, "2025-26") == (None, None)


def test_a_target_for_a_year_the_term_only_touches_is_allowed() -> None:
    contract = a_draft(
        fact(
            ServiceContract.DraftAmended,
            title=None,
            term=Term(date(2018, 10, 1), date(2028, 9, 30)),
            scope=None,
            contract_sums=None,
        )
    )
    contract.schedule_kpi(
        kpi=dataclasses.replace(B13, targets={"2028-29": Decimal("45")}, tolerances={}),
        actor=COMMISSIONER,
    )
    assert contract.target_for(EET.code, "2028-29") == (Decimal("45"), None)


SCHEDULING_REFUSED: dict[str, tuple[dict[str, Any], type[DomainError]]] = {
    "a blank reference": ({"reference": "  "}, InvalidKpi),
    "returns due before the period ends": ({"due_working_days": -1}, InvalidKpi),
    "returns due after 60 working days": ({"due_working_days": 61}, InvalidKpi),
    "days that are not a number": ({"due_working_days": True}, InvalidKpi),
    "a target that is not a number": ({"targets": {"2024-25": Decimal("NaN")}}, InvalidKpi),
    "a target after the term": ({"targets": {"2030-31": Decimal("45")}}, InvalidPeriod),
    "a malformed contract year": ({"targets": {"2024/25": Decimal("45")}}, InvalidPeriod),
    "a tolerance after the term": (
        {"targets": {}, "tolerances": {"2030-31": Decimal("40")}},
        InvalidPeriod,
    ),
    "a tolerance above a higher-is-better target": (
        {"tolerances": {"2024-25": Decimal("50")}},
        InvalidTolerance,
    ),
    "a tolerance without a target": (
        {"tolerances": {"2025-26": Decimal("40")}},
        InvalidTolerance,
    ),
    "a national indicator defined otherwise": (
        {"indicator": dataclasses.replace(EET, decimals=1)},
        InvalidKpi,
    ),
    "an indicator in no catalogue": (
        {"indicator": dataclasses.replace(EET, code="eet_19_to_24")},
        UnknownIndicator,
    ),
    "a local indicator not yet defined": ({"indicator": VISITS}, UnknownIndicator),
    "another KPI's reference": ({"reference": "A1"}, ReferenceInUse),
}


@pytest.mark.parametrize("name", SCHEDULING_REFUSED)
def test_a_kpi_is_scheduled_only_if_well_formed_within_the_term(name: str) -> None:
    changes, error = SCHEDULING_REFUSED[name]
    contract = a_draft(scheduled(A1))
    with refused(contract, error):
        contract.schedule_kpi(kpi=dataclasses.replace(B13, **changes), actor=COMMISSIONER)


def test_a_tolerance_below_a_lower_is_better_target_is_refused() -> None:
    contract = a_draft()
    with refused(contract, InvalidTolerance):
        contract.schedule_kpi(
            kpi=dataclasses.replace(A1, tolerances={"2024-25": Decimal("19.0")}),
            actor=COMMISSIONER,
        )


def test_scheduling_a_kpi_as_it_is_already_scheduled_is_refused() -> None:
    contract = a_draft(scheduled(B13))
    with refused(contract, InvalidAmendment):
        contract.schedule_kpi(kpi=B13, actor=COMMISSIONER)


def test_a_shorter_draft_term_may_not_leave_a_target_outside_it() -> None:
    contract = a_draft(scheduled(A1))
    with refused(contract, InvalidPeriod):
        contract.amend_draft(term=Term(date(2018, 4, 1), date(2025, 3, 31)), actor=COMMISSIONER)


# -- the contract's own indicators -------------------------------------------------------------


def test_the_council_defines_an_indicator_of_the_contracts_own_and_schedules_it() -> None:
    contract = a_draft()

    contract.define_local_indicator(indicator=VISITS, actor=COMMISSIONER)
    recorded = the_one_event(contract, ServiceContract.LocalIndicatorDefined, COMMISSIONER)
    contract.schedule_kpi(kpi=C4, actor=COMMISSIONER)

    assert recorded.indicator == VISITS
    assert contract.local_indicators == {VISITS.code: VISITS}
    assert contract.scheduled_kpi(VISITS.code).indicator == VISITS


def test_redefining_a_scheduled_indicator_of_its_own_rewrites_the_draft_kpi() -> None:
    contract = a_draft(defined(VISITS), scheduled(C4))
    clearer = dataclasses.replace(VISITS, definition="Visited within the statutory timescale")

    contract.define_local_indicator(indicator=clearer, actor=COMMISSIONER)

    the_one_event(contract, ServiceContract.LocalIndicatorDefined, COMMISSIONER)
    assert contract.local_indicators == {VISITS.code: clearer}
    assert contract.scheduled_kpi(VISITS.code) == dataclasses.replace(C4, indicator=clearer)
    assert contract.kpi_schedule_history[-1].kpi == dataclasses.replace(C4, indicator=clearer)


def test_a_kpi_names_its_contracts_own_indicator_as_defined() -> None:
    contract = a_draft(defined(VISITS))
    with refused(contract, InvalidKpi):
        contract.schedule_kpi(
            kpi=dataclasses.replace(C4, indicator=dataclasses.replace(VISITS, decimals=1)),
            actor=COMMISSIONER,
        )


LOCAL_INDICATOR_REFUSED: dict[str, dict[str, Any]] = {
    "a national indicator's code": {"code": REREFERRALS.code},
    "a blank code": {"code": " "},
    "a code with spaces around it": {"code": " visits "},
    "a claim to be national": {"national": True},
    "a source other than local": {"source": "DfE"},
    "a blank title": {"title": " "},
    "a blank definition": {"definition": ""},
    "negative decimals": {"decimals": -1},
    "more decimals than any table prints": {"decimals": 5},
    "a count made of a numerator and denominator": {"unit": Unit.COUNT},
}


@pytest.mark.parametrize("name", LOCAL_INDICATOR_REFUSED)
def test_an_indicator_of_the_contracts_own_is_distinct_from_the_national_ones(name: str) -> None:
    contract = a_draft()
    with refused(contract, InvalidIndicator):
        contract.define_local_indicator(
            indicator=dataclasses.replace(VISITS, **LOCAL_INDICATOR_REFUSED[name]),
            actor=COMMISSIONER,
        )


def test_defining_an_indicator_as_it_is_already_defined_is_refused() -> None:
    contract = a_draft(defined(VISITS))
    with refused(contract, InvalidAmendment):
        contract.define_local_indicator(indicator=VISITS, actor=COMMISSIONER)


# -- who drafts the schedule, and until when ---------------------------------------------------

Drafting = Callable[[ServiceContract, Actor], object]

DRAFTING_THE_SCHEDULE: dict[str, Drafting] = {
    "schedule_kpi": lambda c, a: c.schedule_kpi(kpi=B13, actor=a),
    "unschedule_kpi": lambda c, a: c.unschedule_kpi(indicator_code=REREFERRALS.code, actor=a),
    "define_local_indicator": lambda c, a: c.define_local_indicator(indicator=VISITS, actor=a),
}


@pytest.mark.parametrize("name", DRAFTING_THE_SCHEDULE)
@pytest.mark.parametrize(
    ("actor", "error"), [(PROVIDER, WrongParty), (OUTSIDER, NotAParty)], ids=["trust", "outsider"]
)
def test_only_the_council_drafts_the_schedule(
    name: str, actor: Actor, error: type[DomainError]
) -> None:
    contract = a_draft(scheduled(A1))
    with refused(contract, error):
        DRAFTING_THE_SCHEDULE[name](contract, actor)


@pytest.mark.parametrize("name", DRAFTING_THE_SCHEDULE)
@pytest.mark.parametrize("first", [COMMISSIONER, PROVIDER], ids=["council", "trust"])
def test_the_schedule_is_fixed_once_either_party_has_signed(name: str, first: Actor) -> None:
    contract = a_draft(scheduled(A1), signed(first))
    with refused(contract, ContractNotDraft):
        DRAFTING_THE_SCHEDULE[name](contract, COMMISSIONER)


# -- changing it by variation ------------------------------------------------------------------

B13_2025 = dataclasses.replace(
    B13,
    targets={"2024-25": Decimal("45"), "2025-26": Decimal("50")},
    tolerances={"2024-25": Decimal("40"), "2025-26": Decimal("45")},
)


def test_a_signed_schedule_changes_when_the_other_party_agrees_a_variation() -> None:
    contract = a_live_contract_scheduling(B13, A1)
    variation_id = contract.propose_variation(
        changes=VariationChanges(kpis=(B13_2025,), kpis_removed=(REREFERRALS.code,)),
        rationale="The 2025 review: a higher bar for care leavers, re-referrals by ILACS",
        actor=COMMISSIONER,
    )
    contract.collect_events()
    assert contract.kpi_schedule == {EET.code: B13, REREFERRALS.code: A1}

    contract.agree_variation(variation_id=variation_id, actor=PROVIDER)

    recorded = the_one_event(contract, ServiceContract.VariationAgreed, PROVIDER)
    in_force = dataclasses.replace(B13_2025, agreed_in=variation_id)
    assert contract.kpi_schedule == {EET.code: in_force}
    assert contract.target_for(EET.code, "2025-26") == (Decimal("50"), Decimal("45"))
    assert contract.scheduled_kpi(EET.code).agreed_in == variation_id
    assert contract.kpi_schedule_history[-2:] == (
        KpiScheduleChange(REREFERRALS.code, None, variation_id, PROVIDER, recorded.timestamp),
        KpiScheduleChange(EET.code, in_force, variation_id, PROVIDER, recorded.timestamp),
    )
    # As signed, then as varied: each version names the agreement it came in by.
    assert [(c.kpi, c.agreed_in) for c in contract.kpi_schedule_history if c.kpi is not None] == [
        (B13, None),
        (A1, None),
        (in_force, variation_id),
    ]


def test_a_variation_brings_its_own_indicator_with_the_kpi_it_schedules() -> None:
    contract = a_live_contract_after(
        [], proposed(VARIATION, VariationChanges(kpis=(C4,)), by=COMMISSIONER)
    )

    contract.agree_variation(variation_id=VARIATION, actor=PROVIDER)

    assert contract.local_indicators == {VISITS.code: VISITS}
    assert contract.scheduled_kpi(VISITS.code) == dataclasses.replace(C4, agreed_in=VARIATION)


def test_a_proposed_kpi_records_no_agreement_until_it_is_agreed() -> None:
    contract = a_live_contract_scheduling()

    variation_id = contract.propose_variation(
        changes=VariationChanges(kpis=(dataclasses.replace(B13, agreed_in=uuid4()),)),
        rationale="Care leavers",
        actor=PROVIDER,
    )

    assert contract.variations[variation_id].changes == VariationChanges(kpis=(B13,))


VARIATION_REFUSED: dict[str, tuple[VariationChanges, type[DomainError]]] = {
    "a KPI as it stands": (VariationChanges(kpis=(B13,)), InvalidVariation),
    "one KPI twice": (VariationChanges(kpis=(B13_2025, B13_2025)), InvalidVariation),
    "a KPI both changed and removed": (
        VariationChanges(kpis=(B13_2025,), kpis_removed=(EET.code,)),
        InvalidVariation,
    ),
    "removing a KPI not on the schedule": (
        VariationChanges(kpis_removed=(STABILITY.code,)),
        NotOnSchedule,
    ),
    "a KPI with another KPI's reference": (
        VariationChanges(kpis=(dataclasses.replace(B13_2025, reference="A1"),)),
        ReferenceInUse,
    ),
    "a KPI with a target after the term": (
        VariationChanges(kpis=(dataclasses.replace(B13, targets={"2030-31": Decimal("1")}),)),
        InvalidPeriod,
    ),
    "a KPI due after 60 working days": (
        VariationChanges(kpis=(dataclasses.replace(B13, due_working_days=90),)),
        InvalidKpi,
    ),
    "an indicator of its own with a national code": (
        VariationChanges(
            kpis=(dataclasses.replace(C4, indicator=dataclasses.replace(VISITS, code=EET.code)),)
        ),
        InvalidIndicator,
    ),
    "a shorter term leaving a target outside it": (
        VariationChanges(term_ends=date(2025, 3, 31)),
        InvalidPeriod,
    ),
}


@pytest.mark.parametrize("name", VARIATION_REFUSED)
def test_a_variation_of_the_schedule_is_held_to_the_drafting_rules(name: str) -> None:
    changes, error = VARIATION_REFUSED[name]
    contract = a_live_contract_scheduling(B13, A1)
    with refused(contract, error):
        contract.propose_variation(changes=changes, rationale="why", actor=PROVIDER)


def test_one_open_proposal_per_kpi() -> None:
    contract = a_live_contract_after(
        [scheduled(B13), scheduled(A1)],
        proposed(VARIATION, VariationChanges(kpis=(B13_2025,))),
    )
    with refused(contract, VariationAlreadyOpen):
        contract.propose_variation(
            changes=VariationChanges(kpis_removed=(EET.code,)), rationale="why", actor=COMMISSIONER
        )

    contract.propose_variation(
        changes=VariationChanges(kpis_removed=(REREFERRALS.code,)),
        rationale="Another KPI",
        actor=COMMISSIONER,
    )
    assert len(contract.open_variations) == 2


def test_agreeing_checks_the_schedule_as_it_stands_by_then() -> None:
    # Two proposals, each sound alone, would give two KPIs the reference B14.
    stability = ScheduledKpi(STABILITY, "B14", Frequency.ANNUAL, 20, {"2024-25": Decimal("70")})
    second = uuid4()
    contract = a_live_contract_after(
        [scheduled(B13)],
        proposed(VARIATION, VariationChanges(kpis=(dataclasses.replace(B13, reference="B14"),))),
        proposed(second, VariationChanges(kpis=(stability,))),
        agreed(),
    )
    with refused(contract, ReferenceInUse):
        contract.agree_variation(variation_id=second, actor=COMMISSIONER)


# -- since when a KPI is owed --------------------------------------------------------------------


def test_a_kpi_as_signed_is_owed_from_the_start_of_the_term() -> None:
    contract = a_live_contract_scheduling(B13)
    assert contract.kpi_owed_from(EET.code) == TERM.starts


def test_a_kpi_added_by_variation_is_owed_from_the_day_it_was_agreed() -> None:
    agreed_at = datetime(2022, 9, 15, 10, 30, tzinfo=UTC)
    contract = a_live_contract_after(
        [],
        proposed(VARIATION, VariationChanges(kpis=(B13,)), by=COMMISSIONER),
        agreed(actor=PROVIDER, timestamp=agreed_at),
        proposed(later := uuid4(), VariationChanges(kpis=(B13_2025,)), by=COMMISSIONER),
        fact(ServiceContract.VariationAgreed, variation_id=later, actor=PROVIDER),
    )
    # New targets later do not move the day the KPI came onto the schedule.
    assert contract.scheduled_kpi(EET.code).agreed_in == later
    assert contract.kpi_owed_from(EET.code) == date(2022, 9, 15)


def test_a_kpi_added_from_an_agreed_date_is_owed_from_that_date_not_from_agreement() -> None:
    # Sandwell's 2022 review agreed in September 2022 "a revised set of contractual KPIs from
    # 1 April 2023": nothing for 2022-23 is owed under them.
    contract = a_live_contract_after(
        [],
        proposed(
            VARIATION,
            VariationChanges(kpis=(B13,), kpis_from=date(2023, 4, 1)),
            by=COMMISSIONER,
        ),
        agreed(actor=PROVIDER, timestamp=datetime(2022, 9, 28, 15, 0, tzinfo=UTC)),
    )

    assert contract.kpi_owed_from(EET.code) == date(2023, 4, 1)
    [change] = contract.kpi_schedule_history
    assert (change.agreed_in, change.effective_from) == (VARIATION, date(2023, 4, 1))


@pytest.mark.parametrize(
    "changes",
    [
        VariationChanges(contract_sums={"2019-20": 1}, kpis_from=date(2023, 4, 1)),
        VariationChanges(kpis=(B13,), kpis_from=date(2017, 4, 1)),
    ],
    ids=["a date with no KPI changes", "a date outside the term"],
)
def test_a_date_for_kpi_changes_needs_kpi_changes_within_the_term(
    changes: VariationChanges,
) -> None:
    contract = a_live_contract_after([])

    with refused(contract, InvalidVariation):
        contract.propose_variation(changes=changes, rationale="contract review", actor=COMMISSIONER)


def test_a_kpi_taken_off_and_put_back_is_owed_from_its_return() -> None:
    back = uuid4()
    contract = a_live_contract_after(
        [scheduled(B13)],
        proposed(VARIATION, VariationChanges(kpis_removed=(EET.code,)), by=COMMISSIONER),
        agreed(actor=PROVIDER),
        proposed(back, VariationChanges(kpis=(B13,)), by=COMMISSIONER),
        fact(
            ServiceContract.VariationAgreed,
            variation_id=back,
            actor=PROVIDER,
            timestamp=datetime(2024, 1, 8, tzinfo=UTC),
        ),
    )
    assert contract.kpi_owed_from(EET.code) == date(2024, 1, 8)


# -- stored and read back ----------------------------------------------------------------------


def test_a_contract_and_its_schedule_replayed_from_stored_events_are_the_same() -> None:
    contract = ServiceContract.draft(
        council=COUNCIL,
        trust=TRUST,
        title=TITLE,
        term=TERM,
        scope=SCOPE,
        contract_sums=SUMS,
        actor=COMMISSIONER,
    )
    contract.define_local_indicator(indicator=VISITS, actor=COMMISSIONER)
    contract.schedule_kpi(kpi=C4, actor=COMMISSIONER)
    contract.schedule_kpi(kpi=A1, actor=COMMISSIONER)
    contract.sign(actor=COMMISSIONER)
    contract.sign(actor=PROVIDER)
    variation_id = contract.propose_variation(
        changes=VariationChanges(kpis=(B13_2025,), kpis_removed=(REREFERRALS.code,)),
        rationale="The 2025 review",
        actor=PROVIDER,
    )
    contract.agree_variation(variation_id=variation_id, actor=COMMISSIONER)

    restored = replayed(contract.collect_events())

    assert restored == contract
    kpi = restored.scheduled_kpi(EET.code)
    assert kpi.frequency is Frequency.ANNUAL
    assert kpi.indicator.polarity is Polarity.HIGHER_IS_BETTER
    assert restored.local_indicators[VISITS.code].unit is Unit.PERCENTAGE
    assert restored.variations[variation_id].changes.kpis_removed == (REREFERRALS.code,)
