"""Specifications of the service contract between a council and its children's trust.

The facts are Sandwell's where the public record has them: a contract from 1 April 2018 for ten
years, about £58m in 2018-19, £5m more agreed by variation in 2019, the obligation to reach an
Ofsted "Good" within four years moved in 2022 to "the next standard inspection", and the 2022
review that left the break clause unused. Other dates and figures are illustrative.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from domain.actor import Actor
from domain.errors import (
    ActionAlreadyCompleted,
    AlreadySigned,
    ContractEnded,
    ContractNotDraft,
    ContractNotLive,
    DomainError,
    InvalidAmendment,
    InvalidAmount,
    InvalidContractSum,
    InvalidDate,
    InvalidOrganisation,
    InvalidPeriod,
    InvalidScope,
    InvalidTerm,
    InvalidVariation,
    MeetingNotScheduled,
    MissingDetail,
    MissingReason,
    NoSuchOption,
    NotAParty,
    NotFound,
    NotProposer,
    ObligationNotOpen,
    OwnVariation,
    ReservedMatterNotOpen,
    ReviewAlreadyHeld,
    TermNotEnded,
    VariationAlreadyOpen,
    VariationNotOpen,
    WrongParty,
)
from domain.service_contract import (
    Action,
    AgreedAction,
    BoardKind,
    ContractStatus,
    Council,
    EndingKind,
    MeetingStatus,
    ObligationChange,
    ObligationStatus,
    Party,
    ReservedMatterStatus,
    ServiceContract,
    Term,
    Trust,
    VariationChanges,
    VariationStatus,
)
from domain.services import ServiceLine
from domain.transcodings import register_domain_transcodings
from tests.domain.specs import (
    COMMISSIONER,
    COUNCIL_ORG,
    OUTSIDER,
    PROVIDER,
    TRUST_ORG,
    Fact,
    fact,
    given,
)

MILLION_POUNDS = 100 * 1_000_000

COUNCIL = Council(
    la_number="333",
    ons_code="E08000028",
    name="Sandwell Metropolitan Borough Council",
    organisation_id=COUNCIL_ORG,
)
TRUST = Trust(name="Sandwell Children's Trust", organisation_id=TRUST_ORG)
TITLE = "Service delivery contract for children's social care"
# Ten years from 1 April 2018; the two-year extension option is illustrative.
TERM = Term(starts=date(2018, 4, 1), ends=date(2028, 3, 31), extension_options=(24,))
SCOPE = (
    ServiceLine.FRONT_DOOR,
    ServiceLine.ASSESSMENT,
    ServiceLine.CHILD_IN_NEED,
    ServiceLine.CHILD_PROTECTION,
    ServiceLine.CHILDREN_IN_CARE,
    ServiceLine.CARE_LEAVERS,
    ServiceLine.FOSTERING,
    ServiceLine.ADOPTION,
    ServiceLine.RESIDENTIAL_CARE,
    ServiceLine.DISABLED_CHILDREN,
)
SUMS = {"2018-19": 58 * MILLION_POUNDS, "2019-20": 58 * MILLION_POUNDS}

OFSTED_GOOD = uuid4()
BOARD, MEETING, HELD_MEETING, ACTION, MATTER, VARIATION = (uuid4() for _ in range(6))

# Sandwell's note on the obligation's 2022 change names no date; this one is illustrative.
NEXT_STANDARD_INSPECTION = ObligationChange(
    obligation_id=OFSTED_GOOD,
    description="Ofsted judges the trust's services Good at the next standard inspection",
    due_on=date(2025, 3, 31),
)
FIVE_MILLION_MORE = VariationChanges(contract_sums={"2019-20": 63 * MILLION_POUNDS})


def drafted(**overrides: Any) -> Fact:
    attributes: dict[str, Any] = {
        "council": COUNCIL,
        "trust": TRUST,
        "title": TITLE,
        "term": TERM,
        "scope": list(SCOPE),
        "contract_sums": dict(SUMS),
    }
    return fact(ServiceContract.Drafted, **{**attributes, **overrides})


def ofsted_good_within_four_years() -> Fact:
    return fact(
        ServiceContract.ObligationSet,
        obligation_id=OFSTED_GOOD,
        description="Ofsted judges the trust's services Good within four years",
        due_on=date(2022, 3, 31),
    )


def signed(actor: Actor) -> Fact:
    return fact(ServiceContract.Signed, actor=actor)


def proposed(
    variation_id: UUID, changes: VariationChanges, by: Actor = PROVIDER, rationale: str = "why"
) -> Fact:
    return fact(
        ServiceContract.VariationProposed,
        variation_id=variation_id,
        changes=changes,
        rationale=rationale,
        actor=by,
    )


def a_draft(*facts: Fact) -> ServiceContract:
    contract: ServiceContract = given(drafted(), ofsted_good_within_four_years(), *facts)
    return contract


def a_live_contract(*facts: Fact) -> ServiceContract:
    return a_draft(signed(COMMISSIONER), signed(PROVIDER), *facts)


def a_governed_contract(*facts: Fact) -> ServiceContract:
    """A live contract with one of everything a command can name."""
    return a_live_contract(
        fact(
            ServiceContract.BoardEstablished,
            board_id=BOARD,
            kind=BoardKind.STRATEGIC_MONITORING_BOARD,
            name="Strategic monitoring board",
        ),
        fact(
            ServiceContract.MeetingScheduled,
            meeting_id=MEETING,
            board_id=BOARD,
            scheduled_for=date(2018, 9, 4),
        ),
        fact(
            ServiceContract.MeetingScheduled,
            meeting_id=HELD_MEETING,
            board_id=BOARD,
            scheduled_for=date(2018, 6, 5),
        ),
        fact(
            ServiceContract.MeetingHeld,
            meeting_id=HELD_MEETING,
            held_on=date(2018, 6, 5),
            decisions=["Quarterly KPI dashboard adopted"],
            actions=[
                Action(ACTION, "Draft the KPI schedule", "Head of performance", date(2018, 7, 31))
            ],
        ),
        fact(
            ServiceContract.ReservedMatterReferred,
            matter_id=MATTER,
            subject="Business plan 2019-20",
            actor=PROVIDER,
        ),
        proposed(VARIATION, FIVE_MILLION_MORE),
        *facts,
    )


@contextmanager
def refused(contract: ServiceContract, error: type[DomainError]) -> Iterator[None]:
    """The command raises `error`, records nothing and leaves the contract as it was."""
    before = copy.deepcopy(vars(contract))
    with pytest.raises(error):
        yield
    assert contract.collect_events() == []
    assert vars(contract) == before


def the_one_event(contract: ServiceContract, event_class: type[Any], actor: Actor) -> Any:
    [recorded] = contract.collect_events()
    assert isinstance(recorded, event_class)
    assert recorded.actor == actor
    return recorded


# -- every command, for the rules all of them share -----------------------------------------------

Command = Callable[[ServiceContract, Actor], object]

DRAFTING: dict[str, tuple[Actor, Command]] = {
    "amend_draft": (COMMISSIONER, lambda c, a: c.amend_draft(title="Amended", actor=a)),
    "set_obligation": (
        COMMISSIONER,
        lambda c, a: c.set_obligation(
            description="Care leavers in touch", due_on=date(2020, 3, 31), actor=a
        ),
    ),
}

AFTER_SIGNING: dict[str, tuple[Actor, Command]] = {
    "propose_variation": (
        PROVIDER,
        lambda c, a: c.propose_variation(
            changes=VariationChanges(scope=(*SCOPE, ServiceLine.YOUTH_JUSTICE)),
            rationale="The youth offending service joins the trust",
            actor=a,
        ),
    ),
    "agree_variation": (
        COMMISSIONER,
        lambda c, a: c.agree_variation(variation_id=VARIATION, actor=a),
    ),
    "reject_variation": (
        COMMISSIONER,
        lambda c, a: c.reject_variation(variation_id=VARIATION, reason="Not affordable", actor=a),
    ),
    "withdraw_variation": (
        PROVIDER,
        lambda c, a: c.withdraw_variation(variation_id=VARIATION, actor=a),
    ),
    "establish_board": (
        COMMISSIONER,
        lambda c, a: c.establish_board(
            kind=BoardKind.OPERATIONAL_GROUP, name="Operational group", actor=a
        ),
    ),
    "schedule_meeting": (
        COMMISSIONER,
        lambda c, a: c.schedule_meeting(board_id=BOARD, scheduled_for=date(2018, 12, 4), actor=a),
    ),
    "hold_meeting": (
        COMMISSIONER,
        lambda c, a: c.hold_meeting(
            meeting_id=MEETING, held_on=date(2018, 9, 4), decisions=[], actions=[], actor=a
        ),
    ),
    "cancel_meeting": (
        COMMISSIONER,
        lambda c, a: c.cancel_meeting(meeting_id=MEETING, reason="Not quorate", actor=a),
    ),
    "complete_action": (
        PROVIDER,
        lambda c, a: c.complete_action(action_id=ACTION, completed_on=date(2018, 7, 20), actor=a),
    ),
    "hold_annual_review": (
        COMMISSIONER,
        lambda c, a: c.hold_annual_review(
            contract_year="2018-19",
            held_on=date(2019, 3, 12),
            outcome="Contract continues",
            actions=[],
            actor=a,
        ),
    ),
    "record_obligation_met": (
        COMMISSIONER,
        lambda c, a: c.record_obligation_met(
            obligation_id=OFSTED_GOOD, met_on=date(2021, 12, 1), evidence="ILACS report", actor=a
        ),
    ),
    "record_obligation_missed": (
        COMMISSIONER,
        lambda c, a: c.record_obligation_missed(
            obligation_id=OFSTED_GOOD, reason="Judged Requires improvement", actor=a
        ),
    ),
    "refer_reserved_matter": (
        PROVIDER,
        lambda c, a: c.refer_reserved_matter(subject="Business plan 2020-21", actor=a),
    ),
    "approve_reserved_matter": (
        COMMISSIONER,
        lambda c, a: c.approve_reserved_matter(matter_id=MATTER, actor=a),
    ),
    "refuse_reserved_matter": (
        COMMISSIONER,
        lambda c, a: c.refuse_reserved_matter(matter_id=MATTER, reason="Unfunded", actor=a),
    ),
    "report_financial_position": (
        PROVIDER,
        lambda c, a: c.report_financial_position(
            financial_year="2018-19",
            period="Q2",
            forecast_outturn=59 * MILLION_POUNDS,
            commentary="Placement costs",
            actor=a,
        ),
    ),
    "record_payment": (
        COMMISSIONER,
        lambda c, a: c.record_payment(
            amount=4 * MILLION_POUNDS, paid_on=date(2018, 4, 3), reference="SCT-2018-04", actor=a
        ),
    ),
    "extend": (COMMISSIONER, lambda c, a: c.extend(months=24, actor=a)),
    "consider_break_clause": (
        COMMISSIONER,
        lambda c, a: c.consider_break_clause(
            used=False, rationale="Improving", ends_on=None, actor=a
        ),
    ),
    "expire": (PROVIDER, lambda c, a: c.expire(on=date(2028, 3, 31), actor=a)),
    "terminate": (
        COMMISSIONER,
        lambda c, a: c.terminate(reason="Default", ends_on=date(2020, 3, 31), actor=a),
    ),
    "return_in_house": (
        COMMISSIONER,
        lambda c, a: c.return_in_house(
            reason="Council decision", ends_on=date(2022, 3, 31), actor=a
        ),
    ),
}

EVERY_COMMAND = {
    **DRAFTING,
    "sign": (PROVIDER, lambda c, a: c.sign(actor=a)),
    **AFTER_SIGNING,
}

WRONG_PARTY_FOR: dict[str, Actor] = {
    "amend_draft": PROVIDER,
    "set_obligation": PROVIDER,
    "record_obligation_met": PROVIDER,
    "record_obligation_missed": PROVIDER,
    "refer_reserved_matter": COMMISSIONER,
    "approve_reserved_matter": PROVIDER,
    "refuse_reserved_matter": PROVIDER,
    "report_financial_position": COMMISSIONER,
    "record_payment": PROVIDER,
    "extend": PROVIDER,
    "consider_break_clause": PROVIDER,
    "return_in_house": PROVIDER,
}


@pytest.mark.parametrize("name", AFTER_SIGNING)
def test_each_command_after_signing_is_recorded_for_its_party_on_a_live_contract(name: str) -> None:
    contract = a_governed_contract()
    actor, command = AFTER_SIGNING[name]
    command(contract, actor)
    [recorded] = contract.collect_events()
    assert recorded.actor == actor


@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_an_organisation_that_is_not_a_party_can_do_nothing_with_the_contract(name: str) -> None:
    contract = a_governed_contract()
    _, command = EVERY_COMMAND[name]
    with refused(contract, NotAParty):
        command(contract, OUTSIDER)


@pytest.mark.parametrize("name", WRONG_PARTY_FOR)
def test_a_command_belonging_to_the_other_party_is_refused(name: str) -> None:
    contract = a_governed_contract()
    _, command = EVERY_COMMAND[name]
    with refused(contract, WrongParty):
        command(contract, WRONG_PARTY_FOR[name])


@pytest.mark.parametrize("name", AFTER_SIGNING)
def test_a_contract_signed_by_only_one_party_takes_no_post_signing_command(name: str) -> None:
    contract = a_draft(signed(COMMISSIONER))
    actor, command = AFTER_SIGNING[name]
    with refused(contract, ContractNotLive):
        command(contract, actor)


@pytest.mark.parametrize("name", AFTER_SIGNING)
def test_an_ended_contract_refuses_every_further_change(name: str) -> None:
    contract = a_governed_contract(
        fact(ServiceContract.Terminated, reason="Default", ends_on=date(2020, 3, 31))
    )
    actor, command = AFTER_SIGNING[name]
    with refused(contract, ContractEnded):
        command(contract, actor)


@pytest.mark.parametrize("name", DRAFTING)
def test_drafting_stops_once_either_party_has_signed(name: str) -> None:
    contract = a_draft(signed(PROVIDER))
    actor, command = DRAFTING[name]
    with refused(contract, ContractNotDraft):
        command(contract, actor)


# -- the vocabulary -------------------------------------------------------------------------------


def test_every_service_line_has_the_name_a_commissioner_reads_in_the_schedule() -> None:
    assert ServiceLine.FRONT_DOOR.description == (
        "Front door and multi-agency safeguarding hub (MASH)"
    )
    assert all(line.description.strip() for line in ServiceLine)


def test_the_contract_years_are_the_financial_years_its_term_touches() -> None:
    years = [year.label for year in TERM.financial_years]
    assert years == [f"{2018 + n}-{19 + n}" for n in range(10)]


# -- drafting -------------------------------------------------------------------------------------


def draft(**overrides: Any) -> ServiceContract:
    arguments: dict[str, Any] = {
        "council": COUNCIL,
        "trust": TRUST,
        "title": TITLE,
        "term": TERM,
        "scope": SCOPE,
        "contract_sums": SUMS,
        "actor": COMMISSIONER,
    }
    return ServiceContract.draft(**{**arguments, **overrides})


def test_the_council_drafts_the_contract_with_its_trust() -> None:
    contract = draft()

    drafted_event = the_one_event(contract, ServiceContract.Drafted, COMMISSIONER)
    assert drafted_event.originator_id == contract.id
    assert drafted_event.council == COUNCIL
    assert drafted_event.trust == TRUST
    assert drafted_event.title == TITLE
    assert drafted_event.term == TERM
    assert drafted_event.scope == list(SCOPE)
    assert drafted_event.contract_sums == {"2018-19": 5_800_000_000, "2019-20": 5_800_000_000}
    assert contract.scope == SCOPE
    assert contract.contract_sums == SUMS
    assert contract.status(on=date(2018, 4, 1)) is ContractStatus.DRAFT
    assert not contract.is_in_force


def test_the_trust_cannot_draft_its_own_contract() -> None:
    with pytest.raises(WrongParty):
        draft(actor=PROVIDER)


def test_an_organisation_that_is_neither_party_cannot_draft_the_contract() -> None:
    with pytest.raises(NotAParty):
        draft(actor=OUTSIDER)


@pytest.mark.parametrize(
    "council",
    [
        Council("33", "E08000028", "Sandwell", COUNCIL_ORG),
        Council("333", "08000028", "Sandwell", COUNCIL_ORG),
        Council("333", "E08000028", "Sandwell", TRUST_ORG),
    ],
    ids=["two-digit LA number", "ONS code without E", "council and trust are one organisation"],
)
def test_a_council_must_be_identified_by_its_codes_and_be_apart_from_its_trust(
    council: Council,
) -> None:
    with pytest.raises(InvalidOrganisation):
        draft(council=council)


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "  "},
        {"council": Council("333", "E08000028", "", COUNCIL_ORG)},
        {"trust": Trust("", TRUST_ORG)},
    ],
    ids=["title", "council name", "trust name"],
)
def test_a_draft_needs_a_title_and_both_parties_names(overrides: dict[str, Any]) -> None:
    with pytest.raises(MissingDetail):
        draft(**overrides)


@pytest.mark.parametrize(
    "term",
    [
        Term(starts=date(2018, 4, 1), ends=date(2018, 4, 1)),
        Term(starts=date(2018, 4, 1), ends=date(2018, 3, 31)),
        Term(starts=date(2018, 4, 1), ends=date(2028, 3, 31), extension_options=(0,)),
    ],
    ids=["ends on its start", "ends before its start", "empty extension option"],
)
def test_a_term_must_end_after_it_starts_and_extend_by_whole_months(term: Term) -> None:
    with pytest.raises(InvalidTerm):
        draft(term=term, contract_sums={})


@pytest.mark.parametrize(
    "sums",
    [{"2018-19": -1}, {"2018-19": 1.5}, {"2018-19": True}, {"2017-18": 1}, {"2028-29": 1}],
    ids=["negative", "fractional pence", "not a number", "before the term", "after the term"],
)
def test_a_contract_sum_is_whole_pence_not_negative_for_a_year_of_the_term(
    sums: dict[str, Any],
) -> None:
    with pytest.raises(InvalidContractSum):
        draft(contract_sums=sums)


def test_a_contract_sum_of_nothing_is_allowed_for_a_year_not_yet_funded() -> None:
    contract = draft(contract_sums={"2018-19": 0})
    assert contract.contract_sums == {"2018-19": 0}


def test_a_contract_sum_for_a_year_the_term_only_touches_is_allowed() -> None:
    contract = draft(
        term=Term(starts=date(2018, 10, 1), ends=date(2019, 4, 30)),
        contract_sums={"2018-19": 1, "2019-20": 1},
    )
    assert list(contract.contract_sums) == ["2018-19", "2019-20"]


@pytest.mark.parametrize("label", ["2018/19", "2018-20", "18-19", "2018-2019", ""])
def test_a_contract_sum_needs_a_financial_year_written_as_2018_19(label: str) -> None:
    with pytest.raises(InvalidPeriod):
        draft(contract_sums={label: 1})


@pytest.mark.parametrize(
    "scope",
    [(), (ServiceLine.FOSTERING, ServiceLine.ADOPTION, ServiceLine.FOSTERING)],
    ids=["empty", "a line twice"],
)
def test_a_scope_names_at_least_one_service_and_none_twice(scope: tuple[ServiceLine, ...]) -> None:
    with pytest.raises(InvalidScope):
        draft(scope=scope)


def test_the_council_amends_the_draft_before_anyone_signs() -> None:
    contract = a_draft()
    shorter = Term(starts=date(2018, 4, 1), ends=date(2023, 3, 31))

    contract.amend_draft(
        term=shorter, contract_sums={"2018-19": 57 * MILLION_POUNDS}, actor=COMMISSIONER
    )

    amended = the_one_event(contract, ServiceContract.DraftAmended, COMMISSIONER)
    assert amended.term == shorter
    assert amended.contract_sums == {"2018-19": 57 * MILLION_POUNDS}
    assert amended.title is None
    assert amended.scope is None
    assert contract.term == shorter
    assert contract.contract_sums == {"2018-19": 57 * MILLION_POUNDS}
    assert contract.title == TITLE
    assert contract.scope == SCOPE


def test_an_amendment_can_rewrite_the_title_and_scope() -> None:
    contract = a_draft()

    contract.amend_draft(title="Amended", scope=[ServiceLine.FOSTERING], actor=COMMISSIONER)

    amended = the_one_event(contract, ServiceContract.DraftAmended, COMMISSIONER)
    assert (amended.title, amended.scope) == ("Amended", [ServiceLine.FOSTERING])
    assert (contract.title, contract.scope) == ("Amended", (ServiceLine.FOSTERING,))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"title": TITLE, "term": TERM},
        {"scope": tuple(reversed(SCOPE))},
        {"contract_sums": SUMS},
    ],
    ids=["nothing", "the same title and term", "the scope reordered", "the same sums"],
)
def test_an_amendment_that_changes_nothing_is_refused(changes: dict[str, Any]) -> None:
    contract = a_draft()
    with refused(contract, InvalidAmendment):
        contract.amend_draft(**changes, actor=COMMISSIONER)


def test_an_amended_term_may_not_leave_a_contract_sum_outside_it() -> None:
    contract = a_draft()
    with refused(contract, InvalidContractSum):
        contract.amend_draft(
            term=Term(starts=date(2018, 4, 1), ends=date(2019, 3, 31)), actor=COMMISSIONER
        )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": ""}, MissingDetail),
        ({"term": Term(date(2018, 4, 1), date(2017, 4, 1))}, InvalidTerm),
        ({"scope": []}, InvalidScope),
        ({"contract_sums": {"2018-19": -1}}, InvalidContractSum),
    ],
    ids=["blank title", "backwards term", "empty scope", "negative sum"],
)
def test_an_amendment_is_held_to_the_drafting_rules(
    changes: dict[str, Any], error: type[DomainError]
) -> None:
    contract = a_draft()
    with refused(contract, error):
        contract.amend_draft(**changes, actor=COMMISSIONER)


def test_the_council_sets_an_obligation_while_drafting() -> None:
    contract = given(drafted())

    obligation_id = contract.set_obligation(
        description="Ofsted judges the trust's services Good within four years",
        due_on=date(2022, 3, 31),
        actor=COMMISSIONER,
    )

    obligation_set = the_one_event(contract, ServiceContract.ObligationSet, COMMISSIONER)
    assert obligation_set.obligation_id == obligation_id
    assert obligation_set.due_on == date(2022, 3, 31)
    obligation = contract.obligations[obligation_id]
    assert obligation.description == "Ofsted judges the trust's services Good within four years"
    assert obligation.status is ObligationStatus.OPEN


def test_an_obligation_needs_a_description() -> None:
    contract = a_draft()
    with refused(contract, MissingDetail):
        contract.set_obligation(description=" ", due_on=date(2022, 3, 31), actor=COMMISSIONER)


# -- signing and status ---------------------------------------------------------------------------


def test_each_party_signs_for_its_own_side() -> None:
    contract = a_draft()

    contract.sign(actor=PROVIDER)
    signed_event = the_one_event(contract, ServiceContract.Signed, PROVIDER)

    [signature] = contract.signatures
    assert signature.party is Party.PROVIDER
    assert signature.signed_by == PROVIDER
    assert signature.signed_at == signed_event.timestamp
    assert contract.status(on=date(2018, 4, 1)) is ContractStatus.DRAFT

    contract.sign(actor=COMMISSIONER)
    the_one_event(contract, ServiceContract.Signed, COMMISSIONER)
    assert [s.party for s in contract.signatures] == [Party.PROVIDER, Party.COMMISSIONER]
    assert contract.is_in_force


@pytest.mark.parametrize("actor", [COMMISSIONER, PROVIDER])
def test_a_party_signs_once(actor: Actor) -> None:
    contract = a_draft(signed(actor))
    with refused(contract, AlreadySigned):
        contract.sign(actor=actor)


def test_another_user_of_a_party_that_has_signed_cannot_sign_again() -> None:
    contract = a_draft(signed(COMMISSIONER))
    colleague = Actor(
        user_id="another-officer", organisation_id=COUNCIL_ORG, role=COMMISSIONER.role
    )
    with refused(contract, AlreadySigned):
        contract.sign(actor=colleague)


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (date(2018, 3, 31), ContractStatus.SIGNED),
        (date(2018, 4, 1), ContractStatus.LIVE),
        (date(2028, 3, 31), ContractStatus.LIVE),
        (date(2028, 4, 1), ContractStatus.ENDED),
    ],
)
def test_a_signed_contract_is_live_from_the_first_to_the_last_day_of_its_term(
    on: date, status: ContractStatus
) -> None:
    assert a_live_contract().status(on=on) is status


def test_a_contract_ended_early_is_ended_after_its_last_day_in_force() -> None:
    contract = a_live_contract(
        fact(ServiceContract.Terminated, reason="Default", ends_on=date(2020, 3, 31))
    )
    assert contract.status(on=date(2020, 3, 31)) is ContractStatus.LIVE
    assert contract.status(on=date(2020, 4, 1)) is ContractStatus.ENDED
    assert contract.ends_on == date(2020, 3, 31)
    assert not contract.is_in_force


# -- variations -----------------------------------------------------------------------------------


def test_the_trust_proposes_a_variation_that_changes_nothing_until_agreed() -> None:
    contract = a_live_contract()

    variation_id = contract.propose_variation(
        changes=FIVE_MILLION_MORE, rationale="Demand for care placements", actor=PROVIDER
    )

    proposal = the_one_event(contract, ServiceContract.VariationProposed, PROVIDER)
    assert proposal.variation_id == variation_id
    assert proposal.changes == FIVE_MILLION_MORE
    assert proposal.rationale == "Demand for care placements"
    variation = contract.variations[variation_id]
    assert variation.status is VariationStatus.PROPOSED
    assert variation.proposer is Party.PROVIDER
    assert variation.proposed_by == PROVIDER
    assert variation.proposed_at == proposal.timestamp
    assert contract.open_variations == (variation,)
    assert contract.contract_sums == SUMS


def test_the_council_agrees_the_trusts_variation_and_it_takes_effect_at_once() -> None:
    # Sandwell agreed £5m more for its trust in 2019.
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))

    contract.agree_variation(variation_id=VARIATION, actor=COMMISSIONER)

    agreed = the_one_event(contract, ServiceContract.VariationAgreed, COMMISSIONER)
    assert agreed.variation_id == VARIATION
    assert contract.contract_sums == {
        "2018-19": 58 * MILLION_POUNDS,
        "2019-20": 63 * MILLION_POUNDS,
    }
    variation = contract.variations[VARIATION]
    assert variation.status is VariationStatus.AGREED
    assert variation.decided_by == COMMISSIONER
    assert variation.decided_at == agreed.timestamp
    assert contract.open_variations == ()


def test_an_agreed_variation_moves_an_obligation() -> None:
    contract = a_live_contract(
        proposed(
            VARIATION,
            VariationChanges(obligations=(NEXT_STANDARD_INSPECTION,)),
            by=COMMISSIONER,
            rationale="The 2022 review: judge progress at the next standard inspection",
        )
    )

    contract.agree_variation(variation_id=VARIATION, actor=PROVIDER)

    obligation = contract.obligations[OFSTED_GOOD]
    assert obligation.description == NEXT_STANDARD_INSPECTION.description
    assert obligation.due_on == date(2025, 3, 31)
    assert obligation.status is ObligationStatus.OPEN


def test_an_agreed_variation_can_change_only_an_obligations_due_date() -> None:
    later = ObligationChange(obligation_id=OFSTED_GOOD, due_on=date(2023, 3, 31))
    contract = a_live_contract(proposed(VARIATION, VariationChanges(obligations=(later,))))

    contract.agree_variation(variation_id=VARIATION, actor=COMMISSIONER)

    obligation = contract.obligations[OFSTED_GOOD]
    assert obligation.due_on == date(2023, 3, 31)
    assert obligation.description == "Ofsted judges the trust's services Good within four years"


def test_an_agreed_variation_changes_the_scope_and_the_terms_end() -> None:
    changes = VariationChanges(
        scope=(*SCOPE, ServiceLine.YOUTH_JUSTICE), term_ends=date(2029, 3, 31)
    )
    contract = a_live_contract(proposed(VARIATION, changes, by=COMMISSIONER))

    contract.agree_variation(variation_id=VARIATION, actor=PROVIDER)

    assert contract.scope == (*SCOPE, ServiceLine.YOUTH_JUSTICE)
    assert contract.term == Term(date(2018, 4, 1), date(2029, 3, 31), extension_options=(24,))


def test_a_variation_needs_its_rationale() -> None:
    contract = a_live_contract()
    with refused(contract, MissingReason):
        contract.propose_variation(changes=FIVE_MILLION_MORE, rationale=" ", actor=PROVIDER)


@pytest.mark.parametrize(
    "changes",
    [
        VariationChanges(),
        VariationChanges(contract_sums={}),
        VariationChanges(scope=tuple(reversed(SCOPE))),
        VariationChanges(term_ends=date(2028, 3, 31)),
        VariationChanges(contract_sums={"2018-19": 58 * MILLION_POUNDS}),
        VariationChanges(obligations=(ObligationChange(OFSTED_GOOD),)),
        VariationChanges(obligations=(ObligationChange(OFSTED_GOOD, due_on=date(2022, 3, 31)),)),
        VariationChanges(obligations=(NEXT_STANDARD_INSPECTION, NEXT_STANDARD_INSPECTION)),
    ],
    ids=[
        "nothing",
        "an empty table of sums",
        "the same scope",
        "the same end",
        "the same sum",
        "an obligation left as it is",
        "an obligation's same due date",
        "one obligation twice",
    ],
)
def test_a_variation_that_changes_nothing_is_refused(changes: VariationChanges) -> None:
    contract = a_live_contract()
    with refused(contract, InvalidVariation):
        contract.propose_variation(changes=changes, rationale="why", actor=PROVIDER)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (VariationChanges(scope=()), InvalidScope),
        (VariationChanges(scope=(ServiceLine.ADOPTION, ServiceLine.ADOPTION)), InvalidScope),
        (VariationChanges(term_ends=date(2018, 3, 1)), InvalidTerm),
        (VariationChanges(term_ends=date(2019, 3, 31)), InvalidContractSum),
        (VariationChanges(contract_sums={"2020-21": -1}), InvalidContractSum),
        (VariationChanges(contract_sums={"2030-31": 1}), InvalidContractSum),
        (VariationChanges(contract_sums={"2030/31": 1}), InvalidPeriod),
        (
            VariationChanges(obligations=(ObligationChange(OFSTED_GOOD, description=""),)),
            MissingDetail,
        ),
        (VariationChanges(obligations=(ObligationChange(uuid4(), description="x"),)), NotFound),
    ],
    ids=[
        "an empty scope",
        "a line twice",
        "an end before the start",
        "a shorter term leaving 2019-20's sum outside it",
        "a negative sum",
        "a sum after the term",
        "a malformed year",
        "a blank obligation",
        "an unknown obligation",
    ],
)
def test_a_variation_is_held_to_the_rules_of_the_terms_it_changes(
    changes: VariationChanges, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.propose_variation(changes=changes, rationale="why", actor=PROVIDER)


def test_a_variation_may_add_a_sum_for_a_year_its_longer_term_reaches() -> None:
    contract = a_live_contract()
    contract.propose_variation(
        changes=VariationChanges(term_ends=date(2029, 3, 31), contract_sums={"2028-29": 1}),
        rationale="A year more",
        actor=COMMISSIONER,
    )
    the_one_event(contract, ServiceContract.VariationProposed, COMMISSIONER)


def test_a_variation_cannot_change_an_obligation_already_met() -> None:
    contract = a_live_contract(
        fact(
            ServiceContract.ObligationMet,
            obligation_id=OFSTED_GOOD,
            met_on=date(2021, 12, 1),
            evidence="ILACS",
        )
    )
    with refused(contract, ObligationNotOpen):
        contract.propose_variation(
            changes=VariationChanges(obligations=(NEXT_STANDARD_INSPECTION,)),
            rationale="why",
            actor=COMMISSIONER,
        )


@pytest.mark.parametrize(
    "second",
    [
        VariationChanges(contract_sums={"2019-20": 60 * MILLION_POUNDS}),
        VariationChanges(contract_sums={"2018-19": 1, "2019-20": 1}),
    ],
    ids=["the same year's sum", "a table including that year"],
)
def test_a_second_open_proposal_on_the_same_subject_is_refused(second: VariationChanges) -> None:
    # One open proposal per subject, so that the other party agrees against a known baseline.
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))
    with refused(contract, VariationAlreadyOpen):
        contract.propose_variation(changes=second, rationale="why", actor=COMMISSIONER)


def test_open_proposals_on_different_subjects_stand_side_by_side() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))

    contract.propose_variation(
        changes=VariationChanges(contract_sums={"2020-21": 60 * MILLION_POUNDS}),
        rationale="Next year's sum",
        actor=COMMISSIONER,
    )

    the_one_event(contract, ServiceContract.VariationProposed, COMMISSIONER)
    assert len(contract.open_variations) == 2


def test_a_subject_is_open_to_a_new_proposal_once_the_last_is_decided() -> None:
    contract = a_live_contract(
        proposed(VARIATION, FIVE_MILLION_MORE),
        fact(ServiceContract.VariationRejected, variation_id=VARIATION, reason="Unaffordable"),
    )
    contract.propose_variation(
        changes=VariationChanges(contract_sums={"2019-20": 60 * MILLION_POUNDS}),
        rationale="A smaller rise",
        actor=PROVIDER,
    )
    the_one_event(contract, ServiceContract.VariationProposed, PROVIDER)


def test_a_party_cannot_agree_its_own_variation() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE, by=PROVIDER))
    with refused(contract, OwnVariation):
        contract.agree_variation(variation_id=VARIATION, actor=PROVIDER)


def test_an_unknown_variation_cannot_be_agreed() -> None:
    contract = a_live_contract()
    with refused(contract, NotFound):
        contract.agree_variation(variation_id=uuid4(), actor=COMMISSIONER)


DECIDED = {
    "agreed": fact(ServiceContract.VariationAgreed, variation_id=VARIATION),
    "rejected": fact(ServiceContract.VariationRejected, variation_id=VARIATION, reason="No"),
    "withdrawn": fact(ServiceContract.VariationWithdrawn, variation_id=VARIATION, actor=PROVIDER),
}


@pytest.mark.parametrize("outcome", DECIDED)
@pytest.mark.parametrize(
    ("actor", "decide"),
    [
        (COMMISSIONER, lambda c, a: c.agree_variation(variation_id=VARIATION, actor=a)),
        (
            COMMISSIONER,
            lambda c, a: c.reject_variation(variation_id=VARIATION, reason="No", actor=a),
        ),
        (PROVIDER, lambda c, a: c.withdraw_variation(variation_id=VARIATION, actor=a)),
    ],
    ids=["agree", "reject", "withdraw"],
)
def test_a_decided_variation_cannot_be_decided_again(
    outcome: str, actor: Actor, decide: Command
) -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE), DECIDED[outcome])
    with refused(contract, VariationNotOpen):
        decide(contract, actor)


def test_a_variation_no_longer_applicable_cannot_be_agreed() -> None:
    contract = a_live_contract(
        proposed(VARIATION, VariationChanges(obligations=(NEXT_STANDARD_INSPECTION,))),
        fact(
            ServiceContract.ObligationMet,
            obligation_id=OFSTED_GOOD,
            met_on=date(2022, 1, 5),
            evidence="ILACS",
        ),
    )
    with refused(contract, ObligationNotOpen):
        contract.agree_variation(variation_id=VARIATION, actor=COMMISSIONER)


def test_the_other_party_rejects_a_variation_with_its_reason() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))

    contract.reject_variation(
        variation_id=VARIATION, reason="Not in the budget", actor=COMMISSIONER
    )

    rejected = the_one_event(contract, ServiceContract.VariationRejected, COMMISSIONER)
    assert (rejected.variation_id, rejected.reason) == (VARIATION, "Not in the budget")
    variation = contract.variations[VARIATION]
    assert variation.status is VariationStatus.REJECTED
    assert variation.rejection_reason == "Not in the budget"
    assert variation.decided_by == COMMISSIONER
    assert variation.decided_at == rejected.timestamp
    assert contract.contract_sums == SUMS


def test_a_rejection_needs_its_reason() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))
    with refused(contract, MissingReason):
        contract.reject_variation(variation_id=VARIATION, reason="", actor=COMMISSIONER)


def test_a_party_withdraws_rather_than_rejects_its_own_variation() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE, by=PROVIDER))
    with refused(contract, OwnVariation):
        contract.reject_variation(variation_id=VARIATION, reason="Changed our mind", actor=PROVIDER)


def test_the_proposer_withdraws_its_variation() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE, by=PROVIDER))

    contract.withdraw_variation(variation_id=VARIATION, actor=PROVIDER)

    withdrawn = the_one_event(contract, ServiceContract.VariationWithdrawn, PROVIDER)
    assert withdrawn.variation_id == VARIATION
    variation = contract.variations[VARIATION]
    assert variation.status is VariationStatus.WITHDRAWN
    assert variation.decided_by == PROVIDER


def test_only_the_proposer_may_withdraw_a_variation() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE, by=PROVIDER))
    with refused(contract, NotProposer):
        contract.withdraw_variation(variation_id=VARIATION, actor=COMMISSIONER)


def test_every_variation_stays_in_the_contracts_history_with_its_outcome() -> None:
    first, second, third = uuid4(), uuid4(), uuid4()
    contract = a_live_contract(
        proposed(first, FIVE_MILLION_MORE),
        fact(ServiceContract.VariationAgreed, variation_id=first),
        proposed(second, VariationChanges(term_ends=date(2030, 3, 31)), by=COMMISSIONER),
        fact(ServiceContract.VariationWithdrawn, variation_id=second),
        proposed(third, VariationChanges(scope=(ServiceLine.FOSTERING,))),
    )

    history = [(v.variation_id, v.proposer, v.status) for v in contract.variations.values()]
    assert history == [
        (first, Party.PROVIDER, VariationStatus.AGREED),
        (second, Party.COMMISSIONER, VariationStatus.WITHDRAWN),
        (third, Party.PROVIDER, VariationStatus.PROPOSED),
    ]


def test_proposals_still_open_when_the_contract_ends_lapse() -> None:
    contract = a_live_contract(proposed(VARIATION, FIVE_MILLION_MORE))

    contract.terminate(reason="Default", ends_on=date(2020, 3, 31), actor=COMMISSIONER)

    terminated = the_one_event(contract, ServiceContract.Terminated, COMMISSIONER)
    variation = contract.variations[VARIATION]
    assert variation.status is VariationStatus.LAPSED
    assert (variation.decided_by, variation.decided_at) == (COMMISSIONER, terminated.timestamp)


# -- governance -----------------------------------------------------------------------------------


def test_either_party_establishes_a_board() -> None:
    contract = a_live_contract()

    board_id = contract.establish_board(
        kind=BoardKind.PARTNERSHIP_BOARD, name="Children's partnership board", actor=PROVIDER
    )

    established = the_one_event(contract, ServiceContract.BoardEstablished, PROVIDER)
    assert (established.board_id, established.kind) == (board_id, BoardKind.PARTNERSHIP_BOARD)
    board = contract.boards[board_id]
    assert (board.kind, board.name) == (BoardKind.PARTNERSHIP_BOARD, "Children's partnership board")


def test_a_board_needs_a_name() -> None:
    contract = a_live_contract()
    with refused(contract, MissingDetail):
        contract.establish_board(kind=BoardKind.OTHER, name="", actor=COMMISSIONER)


def test_a_meeting_is_scheduled_for_a_board() -> None:
    contract = a_governed_contract()

    meeting_id = contract.schedule_meeting(
        board_id=BOARD, scheduled_for=date(2018, 12, 4), actor=PROVIDER
    )

    scheduled = the_one_event(contract, ServiceContract.MeetingScheduled, PROVIDER)
    assert (scheduled.meeting_id, scheduled.board_id) == (meeting_id, BOARD)
    meeting = contract.meetings[meeting_id]
    assert (meeting.status, meeting.scheduled_for) == (MeetingStatus.SCHEDULED, date(2018, 12, 4))


def test_a_meeting_needs_a_board_of_this_contract() -> None:
    contract = a_governed_contract()
    with refused(contract, NotFound):
        contract.schedule_meeting(board_id=uuid4(), scheduled_for=date(2018, 12, 4), actor=PROVIDER)


def test_a_meeting_is_held_with_its_decisions_and_actions() -> None:
    contract = a_governed_contract()
    review_placements = AgreedAction(
        description="Review high-cost placements",
        owner="Director of operations",
        due_on=date(2018, 10, 31),
    )

    [action_id] = contract.hold_meeting(
        meeting_id=MEETING,
        held_on=date(2018, 9, 4),
        decisions=["Q1 performance report accepted"],
        actions=[review_placements],
        actor=COMMISSIONER,
    )

    held = the_one_event(contract, ServiceContract.MeetingHeld, COMMISSIONER)
    assert held.decisions == ["Q1 performance report accepted"]
    assert held.actions == [
        Action(
            action_id, "Review high-cost placements", "Director of operations", date(2018, 10, 31)
        )
    ]
    meeting = contract.meetings[MEETING]
    assert meeting.status is MeetingStatus.HELD
    assert meeting.held_on == date(2018, 9, 4)
    assert meeting.decisions == ("Q1 performance report accepted",)
    assert meeting.action_ids == (action_id,)
    assert contract.actions[action_id].completed_on is None


@pytest.mark.parametrize(
    ("decisions", "actions"),
    [
        ([" "], []),
        ([], [AgreedAction(description="", owner="Director", due_on=date(2018, 10, 31))]),
        ([], [AgreedAction(description="Review", owner=" ", due_on=date(2018, 10, 31))]),
    ],
    ids=["a blank decision", "an action without a description", "an action without an owner"],
)
def test_a_meetings_record_says_something(
    decisions: list[str], actions: list[AgreedAction]
) -> None:
    contract = a_governed_contract()
    with refused(contract, MissingDetail):
        contract.hold_meeting(
            meeting_id=MEETING,
            held_on=date(2018, 9, 4),
            decisions=decisions,
            actions=actions,
            actor=COMMISSIONER,
        )


CLOSED_MEETING = {
    "held": fact(
        ServiceContract.MeetingHeld,
        meeting_id=MEETING,
        held_on=date(2018, 9, 4),
        decisions=[],
        actions=[],
    ),
    "cancelled": fact(ServiceContract.MeetingCancelled, meeting_id=MEETING, reason="Not quorate"),
}


@pytest.mark.parametrize("closed", CLOSED_MEETING)
@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.hold_meeting(
            meeting_id=MEETING, held_on=date(2018, 9, 5), decisions=[], actions=[], actor=PROVIDER
        ),
        lambda c: c.cancel_meeting(meeting_id=MEETING, reason="Moved", actor=PROVIDER),
    ],
    ids=["hold", "cancel"],
)
def test_only_a_scheduled_meeting_is_held_or_cancelled(
    closed: str, command: Callable[[ServiceContract], object]
) -> None:
    contract = a_governed_contract(CLOSED_MEETING[closed])
    with refused(contract, MeetingNotScheduled):
        command(contract)


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.hold_meeting(
            meeting_id=uuid4(), held_on=date(2018, 9, 5), decisions=[], actions=[], actor=PROVIDER
        ),
        lambda c: c.cancel_meeting(meeting_id=uuid4(), reason="Moved", actor=PROVIDER),
    ],
    ids=["hold", "cancel"],
)
def test_an_unknown_meeting_is_neither_held_nor_cancelled(
    command: Callable[[ServiceContract], object],
) -> None:
    contract = a_governed_contract()
    with refused(contract, NotFound):
        command(contract)


def test_a_meeting_is_cancelled_with_its_reason() -> None:
    contract = a_governed_contract()

    contract.cancel_meeting(meeting_id=MEETING, reason="Not quorate", actor=PROVIDER)

    cancelled = the_one_event(contract, ServiceContract.MeetingCancelled, PROVIDER)
    assert (cancelled.meeting_id, cancelled.reason) == (MEETING, "Not quorate")
    meeting = contract.meetings[MEETING]
    assert (meeting.status, meeting.cancellation_reason) == (MeetingStatus.CANCELLED, "Not quorate")


def test_a_cancellation_needs_its_reason() -> None:
    contract = a_governed_contract()
    with refused(contract, MissingReason):
        contract.cancel_meeting(meeting_id=MEETING, reason="", actor=PROVIDER)


def test_an_action_is_completed() -> None:
    contract = a_governed_contract()

    contract.complete_action(action_id=ACTION, completed_on=date(2018, 7, 20), actor=PROVIDER)

    completed = the_one_event(contract, ServiceContract.ActionCompleted, PROVIDER)
    assert (completed.action_id, completed.completed_on) == (ACTION, date(2018, 7, 20))
    assert contract.actions[ACTION].completed_on == date(2018, 7, 20)


def test_an_action_is_completed_once() -> None:
    contract = a_governed_contract(
        fact(ServiceContract.ActionCompleted, action_id=ACTION, completed_on=date(2018, 7, 20))
    )
    with refused(contract, ActionAlreadyCompleted):
        contract.complete_action(action_id=ACTION, completed_on=date(2018, 7, 21), actor=PROVIDER)


def test_an_unknown_action_cannot_be_completed() -> None:
    contract = a_governed_contract()
    with refused(contract, NotFound):
        contract.complete_action(action_id=uuid4(), completed_on=date(2018, 7, 20), actor=PROVIDER)


def test_the_annual_review_of_2022_records_its_outcome_and_actions() -> None:
    contract = a_live_contract()
    publish = AgreedAction(
        description="Publish the review", owner="Chief executive", due_on=date(2022, 12, 31)
    )

    [action_id] = contract.hold_annual_review(
        contract_year="2022-23",
        held_on=date(2022, 10, 3),
        outcome="The trust is improving; the contract continues",
        actions=[publish],
        actor=COMMISSIONER,
    )

    held = the_one_event(contract, ServiceContract.AnnualReviewHeld, COMMISSIONER)
    assert held.contract_year == "2022-23"
    assert held.actions == [Action(action_id, publish.description, publish.owner, publish.due_on)]
    review = contract.annual_reviews["2022-23"]
    assert review.outcome == "The trust is improving; the contract continues"
    assert review.action_ids == (action_id,)
    assert review.held_by == COMMISSIONER
    assert contract.actions[action_id].description == "Publish the review"


def test_a_contract_year_is_reviewed_once() -> None:
    contract = a_live_contract(
        fact(
            ServiceContract.AnnualReviewHeld,
            contract_year="2022-23",
            held_on=date(2022, 10, 3),
            outcome="Continues",
            actions=[],
        )
    )
    with refused(contract, ReviewAlreadyHeld):
        contract.hold_annual_review(
            contract_year="2022-23",
            held_on=date(2023, 1, 9),
            outcome="Again",
            actions=[],
            actor=PROVIDER,
        )


@pytest.mark.parametrize(
    ("contract_year", "outcome", "error"),
    [
        ("2017-18", "Continues", InvalidPeriod),
        ("2028-29", "Continues", InvalidPeriod),
        ("2022", "Continues", InvalidPeriod),
        ("2022-23", " ", MissingDetail),
    ],
    ids=["a year before the term", "a year after it", "a malformed year", "a blank outcome"],
)
def test_a_review_is_of_a_year_of_the_contract_and_has_an_outcome(
    contract_year: str, outcome: str, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.hold_annual_review(
            contract_year=contract_year,
            held_on=date(2022, 10, 3),
            outcome=outcome,
            actions=[],
            actor=COMMISSIONER,
        )


# -- obligations ----------------------------------------------------------------------------------


def test_the_council_records_an_obligation_met_on_evidence() -> None:
    contract = a_live_contract()

    contract.record_obligation_met(
        obligation_id=OFSTED_GOOD,
        met_on=date(2024, 2, 9),
        evidence="ILACS inspection judged overall effectiveness Good",
        actor=COMMISSIONER,
    )

    met = the_one_event(contract, ServiceContract.ObligationMet, COMMISSIONER)
    assert (met.obligation_id, met.met_on) == (OFSTED_GOOD, date(2024, 2, 9))
    obligation = contract.obligations[OFSTED_GOOD]
    assert obligation.status is ObligationStatus.MET
    assert obligation.evidence == "ILACS inspection judged overall effectiveness Good"
    assert obligation.met_on == date(2024, 2, 9)
    assert obligation.recorded_by == COMMISSIONER


def test_the_council_records_an_obligation_missed_with_its_reason() -> None:
    contract = a_live_contract()

    contract.record_obligation_missed(
        obligation_id=OFSTED_GOOD, reason="Judged Requires improvement", actor=COMMISSIONER
    )

    missed = the_one_event(contract, ServiceContract.ObligationMissed, COMMISSIONER)
    assert (missed.obligation_id, missed.reason) == (OFSTED_GOOD, "Judged Requires improvement")
    obligation = contract.obligations[OFSTED_GOOD]
    assert obligation.status is ObligationStatus.MISSED
    assert obligation.missed_reason == "Judged Requires improvement"


CLOSED_OBLIGATION = {
    "met": fact(
        ServiceContract.ObligationMet,
        obligation_id=OFSTED_GOOD,
        met_on=date(2024, 2, 9),
        evidence="ILACS",
    ),
    "missed": fact(ServiceContract.ObligationMissed, obligation_id=OFSTED_GOOD, reason="RI"),
}


@pytest.mark.parametrize("closed", CLOSED_OBLIGATION)
@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.record_obligation_met(
            obligation_id=OFSTED_GOOD, met_on=date(2024, 2, 9), evidence="x", actor=COMMISSIONER
        ),
        lambda c: c.record_obligation_missed(
            obligation_id=OFSTED_GOOD, reason="x", actor=COMMISSIONER
        ),
    ],
    ids=["met", "missed"],
)
def test_an_obligation_is_met_or_missed_once(
    closed: str, command: Callable[[ServiceContract], object]
) -> None:
    contract = a_live_contract(CLOSED_OBLIGATION[closed])
    with refused(contract, ObligationNotOpen):
        command(contract)


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (
            lambda c: c.record_obligation_met(
                obligation_id=uuid4(), met_on=date(2024, 2, 9), evidence="x", actor=COMMISSIONER
            ),
            NotFound,
        ),
        (
            lambda c: c.record_obligation_met(
                obligation_id=OFSTED_GOOD, met_on=date(2024, 2, 9), evidence=" ", actor=COMMISSIONER
            ),
            MissingDetail,
        ),
        (
            lambda c: c.record_obligation_missed(
                obligation_id=uuid4(), reason="x", actor=COMMISSIONER
            ),
            NotFound,
        ),
        (
            lambda c: c.record_obligation_missed(
                obligation_id=OFSTED_GOOD, reason="", actor=COMMISSIONER
            ),
            MissingReason,
        ),
    ],
    ids=["met: unknown", "met: no evidence", "missed: unknown", "missed: no reason"],
)
def test_an_obligation_is_closed_only_if_known_and_with_evidence_or_reason(
    command: Callable[[ServiceContract], object], error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        command(contract)


# -- reserved matters -----------------------------------------------------------------------------


def test_the_trust_refers_its_business_plan_to_the_council() -> None:
    contract = a_live_contract()

    matter_id = contract.refer_reserved_matter(subject="Business plan 2019-20", actor=PROVIDER)

    referred = the_one_event(contract, ServiceContract.ReservedMatterReferred, PROVIDER)
    assert (referred.matter_id, referred.subject) == (matter_id, "Business plan 2019-20")
    matter = contract.reserved_matters[matter_id]
    assert (matter.status, matter.referred_by) == (ReservedMatterStatus.REFERRED, PROVIDER)


def test_a_reserved_matter_needs_its_subject() -> None:
    contract = a_live_contract()
    with refused(contract, MissingDetail):
        contract.refer_reserved_matter(subject="", actor=PROVIDER)


def test_the_council_approves_a_reserved_matter() -> None:
    contract = a_governed_contract()

    contract.approve_reserved_matter(matter_id=MATTER, actor=COMMISSIONER)

    approved = the_one_event(contract, ServiceContract.ReservedMatterApproved, COMMISSIONER)
    assert approved.matter_id == MATTER
    matter = contract.reserved_matters[MATTER]
    assert (matter.status, matter.decided_by) == (ReservedMatterStatus.APPROVED, COMMISSIONER)


def test_the_council_refuses_a_reserved_matter_with_its_reason() -> None:
    contract = a_governed_contract()

    contract.refuse_reserved_matter(matter_id=MATTER, reason="No savings plan", actor=COMMISSIONER)

    refused_event = the_one_event(contract, ServiceContract.ReservedMatterRefused, COMMISSIONER)
    assert (refused_event.matter_id, refused_event.reason) == (MATTER, "No savings plan")
    matter = contract.reserved_matters[MATTER]
    assert (matter.status, matter.refusal_reason) == (
        ReservedMatterStatus.REFUSED,
        "No savings plan",
    )


def test_a_refusal_of_a_reserved_matter_needs_its_reason() -> None:
    contract = a_governed_contract()
    with refused(contract, MissingReason):
        contract.refuse_reserved_matter(matter_id=MATTER, reason=" ", actor=COMMISSIONER)


DECIDED_MATTER = {
    "approved": fact(ServiceContract.ReservedMatterApproved, matter_id=MATTER),
    "refused": fact(ServiceContract.ReservedMatterRefused, matter_id=MATTER, reason="No"),
}


@pytest.mark.parametrize("decided", DECIDED_MATTER)
@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.approve_reserved_matter(matter_id=MATTER, actor=COMMISSIONER),
        lambda c: c.refuse_reserved_matter(matter_id=MATTER, reason="No", actor=COMMISSIONER),
    ],
    ids=["approve", "refuse"],
)
def test_a_reserved_matter_is_decided_once(
    decided: str, command: Callable[[ServiceContract], object]
) -> None:
    contract = a_governed_contract(DECIDED_MATTER[decided])
    with refused(contract, ReservedMatterNotOpen):
        command(contract)


def test_an_unknown_reserved_matter_cannot_be_decided() -> None:
    contract = a_governed_contract()
    with refused(contract, NotFound):
        contract.approve_reserved_matter(matter_id=uuid4(), actor=COMMISSIONER)


# -- finances -------------------------------------------------------------------------------------


def report(period: str, forecast_outturn: int, financial_year: str = "2018-19") -> Fact:
    return fact(
        ServiceContract.FinancialPositionReported,
        financial_year=financial_year,
        period=period,
        forecast_outturn=forecast_outturn,
        commentary="Placements",
        actor=PROVIDER,
    )


def test_the_trust_reports_its_forecast_against_the_years_contract_sum() -> None:
    contract = a_live_contract()

    contract.report_financial_position(
        financial_year="2018-19",
        period="Q2",
        forecast_outturn=60 * MILLION_POUNDS,
        commentary="Residential placements above plan",
        actor=PROVIDER,
    )

    reported = the_one_event(contract, ServiceContract.FinancialPositionReported, PROVIDER)
    assert (reported.financial_year, reported.period) == ("2018-19", "Q2")
    assert reported.forecast_outturn == 60 * MILLION_POUNDS
    position = contract.latest_financial_positions["2018-19"]
    assert position.contract_sum == 58 * MILLION_POUNDS
    assert position.variance == 2 * MILLION_POUNDS
    assert position.commentary == "Residential placements above plan"
    assert position.reported_by == PROVIDER


def test_a_position_for_a_year_without_an_agreed_sum_has_no_variance() -> None:
    contract = a_live_contract(report("M3", 61 * MILLION_POUNDS, financial_year="2020-21"))
    position = contract.latest_financial_positions["2020-21"]
    assert (position.contract_sum, position.variance) == (None, None)


def test_the_latest_position_is_for_the_latest_period_and_a_restatement_replaces_it() -> None:
    contract = a_live_contract(
        report("Q2", 60 * MILLION_POUNDS),
        report("Q1", 59 * MILLION_POUNDS),
        report("Q2", 61 * MILLION_POUNDS),
        report("M2", 58 * MILLION_POUNDS, financial_year="2019-20"),
    )

    latest = contract.latest_financial_positions
    assert list(latest) == ["2018-19", "2019-20"]
    assert (latest["2018-19"].period, latest["2018-19"].forecast_outturn) == (
        "Q2",
        61 * MILLION_POUNDS,
    )
    assert latest["2019-20"].period == "M2"
    assert len(contract.financial_positions) == 4


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"period": "Q5"}, InvalidPeriod),
        ({"period": "September"}, InvalidPeriod),
        ({"financial_year": "2017-18"}, InvalidPeriod),
        ({"financial_year": "2018"}, InvalidPeriod),
        ({"forecast_outturn": -1}, InvalidAmount),
        ({"forecast_outturn": 1.5}, InvalidAmount),
        ({"commentary": ""}, MissingDetail),
    ],
    ids=[
        "no such quarter",
        "a month by name",
        "a year before the term",
        "a malformed year",
        "a negative forecast",
        "fractional pence",
        "no commentary",
    ],
)
def test_a_financial_position_is_for_a_period_of_a_contract_year_in_whole_pence(
    changes: dict[str, Any], error: type[DomainError]
) -> None:
    contract = a_live_contract()
    arguments: dict[str, Any] = {
        "financial_year": "2018-19",
        "period": "Q2",
        "forecast_outturn": 1,
        "commentary": "Placements",
    }
    with refused(contract, error):
        contract.report_financial_position(**{**arguments, **changes}, actor=PROVIDER)


def test_the_council_records_its_payments_to_the_trust() -> None:
    contract = a_live_contract(
        fact(
            ServiceContract.PaymentRecorded,
            payment_id=uuid4(),
            amount=4 * MILLION_POUNDS,
            paid_on=date(2018, 4, 3),
            reference="SCT-2018-04",
        )
    )

    payment_id = contract.record_payment(
        amount=5 * MILLION_POUNDS,
        paid_on=date(2019, 4, 2),
        reference="SCT-2019-04",
        actor=COMMISSIONER,
    )

    recorded = the_one_event(contract, ServiceContract.PaymentRecorded, COMMISSIONER)
    assert (recorded.payment_id, recorded.amount) == (payment_id, 5 * MILLION_POUNDS)
    assert (recorded.paid_on, recorded.reference) == (date(2019, 4, 2), "SCT-2019-04")
    assert contract.payments[-1].financial_year == "2019-20"
    assert contract.paid_by_year == {"2018-19": 4 * MILLION_POUNDS, "2019-20": 5 * MILLION_POUNDS}
    assert contract.total_paid == 9 * MILLION_POUNDS


@pytest.mark.parametrize(
    ("amount", "reference", "error"),
    [
        (0, "SCT-1", InvalidAmount),
        (-1, "SCT-1", InvalidAmount),
        (True, "SCT-1", InvalidAmount),
        (1, " ", MissingDetail),
    ],
    ids=["nothing", "negative", "not a number", "no reference"],
)
def test_a_payment_is_a_positive_number_of_pence_with_a_reference(
    amount: Any, reference: str, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.record_payment(
            amount=amount, paid_on=date(2018, 4, 3), reference=reference, actor=COMMISSIONER
        )


# -- ending ---------------------------------------------------------------------------------------


def test_the_council_takes_up_an_extension_option_and_the_term_moves_out() -> None:
    contract = a_live_contract()

    contract.extend(months=24, actor=COMMISSIONER)

    extended = the_one_event(contract, ServiceContract.Extended, COMMISSIONER)
    assert (extended.months, extended.ends) == (24, date(2030, 3, 31))
    assert contract.term == Term(starts=date(2018, 4, 1), ends=date(2030, 3, 31))
    [extension] = contract.extensions
    assert (extension.months, extension.ends, extension.extended_by) == (
        24,
        date(2030, 3, 31),
        COMMISSIONER,
    )
    assert contract.status(on=date(2029, 6, 1)) is ContractStatus.LIVE


def test_an_extension_ending_mid_month_keeps_the_day_before_the_anniversary() -> None:
    contract = given(
        drafted(
            term=Term(date(2019, 3, 1), date(2024, 2, 29), extension_options=(12,)),
            contract_sums={},
        ),
        signed(COMMISSIONER),
        signed(PROVIDER),
    )
    contract.extend(months=12, actor=COMMISSIONER)
    assert contract.term.ends == date(2025, 2, 28)


@pytest.mark.parametrize(
    "facts",
    [(), (fact(ServiceContract.Extended, months=24, ends=date(2030, 3, 31)),)],
    ids=["no option of that length", "the option already used"],
)
def test_only_an_unused_option_extends_the_term(facts: tuple[Fact, ...]) -> None:
    contract = a_live_contract(*facts)
    months = 12 if not facts else 24
    with refused(contract, NoSuchOption):
        contract.extend(months=months, actor=COMMISSIONER)


def test_an_option_waits_while_a_variation_would_move_the_terms_end() -> None:
    contract = a_live_contract(proposed(VARIATION, VariationChanges(term_ends=date(2029, 3, 31))))
    with refused(contract, VariationAlreadyOpen):
        contract.extend(months=24, actor=COMMISSIONER)


def test_the_2022_review_keeps_the_break_clause_unused() -> None:
    contract = a_live_contract()

    contract.consider_break_clause(
        used=False,
        rationale="The trust is improving; the council keeps the contract",
        ends_on=None,
        actor=COMMISSIONER,
    )

    considered = the_one_event(contract, ServiceContract.BreakClauseConsidered, COMMISSIONER)
    assert (considered.used, considered.ends_on) == (False, None)
    [decision] = contract.break_clause_decisions
    assert decision.rationale == "The trust is improving; the council keeps the contract"
    assert decision.decided_by == COMMISSIONER
    assert contract.is_in_force


def test_a_break_clause_used_ends_the_contract_on_its_date() -> None:
    contract = a_live_contract()

    contract.consider_break_clause(
        used=True, rationale="No improvement", ends_on=date(2023, 3, 31), actor=COMMISSIONER
    )

    considered = the_one_event(contract, ServiceContract.BreakClauseConsidered, COMMISSIONER)
    assert (considered.used, considered.ends_on) == (True, date(2023, 3, 31))
    assert contract.ending is not None
    assert contract.ending.kind is EndingKind.BREAK_CLAUSE
    assert contract.ending.reason == "No improvement"
    assert contract.ends_on == date(2023, 3, 31)
    assert not contract.is_in_force


@pytest.mark.parametrize(
    ("used", "rationale", "ends_on", "error"),
    [
        (True, "No improvement", None, InvalidDate),
        (False, "Improving", date(2023, 3, 31), InvalidDate),
        (True, "No improvement", date(2028, 4, 1), InvalidDate),
        (True, "No improvement", date(2018, 3, 31), InvalidDate),
        (False, " ", None, MissingReason),
    ],
    ids=[
        "used without a last day",
        "unused with a last day",
        "a last day after the term",
        "a last day before the term",
        "no rationale",
    ],
)
def test_a_break_clause_decision_has_a_rationale_and_a_last_day_only_if_used(
    used: bool, rationale: str, ends_on: date | None, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.consider_break_clause(
            used=used, rationale=rationale, ends_on=ends_on, actor=COMMISSIONER
        )


@pytest.mark.parametrize("on", [date(2028, 3, 31), date(2028, 6, 1)])
def test_a_contract_expires_once_its_term_has_run(on: date) -> None:
    contract = a_live_contract()

    contract.expire(on=on, actor=PROVIDER)

    expired = the_one_event(contract, ServiceContract.Expired, PROVIDER)
    assert expired.ends_on == date(2028, 3, 31)
    assert contract.ending is not None
    assert (contract.ending.kind, contract.ending.ends_on) == (
        EndingKind.EXPIRED,
        date(2028, 3, 31),
    )


def test_a_contract_does_not_expire_before_the_last_day_of_its_term() -> None:
    contract = a_live_contract()
    with refused(contract, TermNotEnded):
        contract.expire(on=date(2028, 3, 30), actor=PROVIDER)


@pytest.mark.parametrize("actor", [COMMISSIONER, PROVIDER])
def test_either_party_terminates_the_contract_with_its_reason(actor: Actor) -> None:
    contract = a_live_contract()

    contract.terminate(reason="Material breach", ends_on=date(2021, 9, 30), actor=actor)

    terminated = the_one_event(contract, ServiceContract.Terminated, actor)
    assert (terminated.reason, terminated.ends_on) == ("Material breach", date(2021, 9, 30))
    assert contract.ending is not None
    assert contract.ending.kind is EndingKind.TERMINATED
    assert contract.ending.ended_by == actor
    assert contract.ending.recorded_at == terminated.timestamp


@pytest.mark.parametrize(
    ("reason", "ends_on", "error"),
    [
        ("", date(2021, 9, 30), MissingReason),
        ("Material breach", date(2028, 4, 1), InvalidDate),
        ("Material breach", date(2018, 3, 31), InvalidDate),
    ],
    ids=["no reason", "after the term", "before the term"],
)
def test_a_termination_needs_a_reason_and_a_last_day_within_the_term(
    reason: str, ends_on: date, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.terminate(reason=reason, ends_on=ends_on, actor=COMMISSIONER)


DONCASTER = Council(
    la_number="371",
    ons_code="E08000017",
    name="City of Doncaster Council",
    organisation_id=COUNCIL_ORG,
)


def test_the_council_takes_its_services_back_in_house_as_doncaster_did() -> None:
    # Doncaster's trust ran its services from 2014 until they returned to the council on
    # 1 April 2022; the term here is illustrative.
    contract = given(
        drafted(
            council=DONCASTER,
            trust=Trust("Doncaster Children's Services Trust", TRUST_ORG),
            term=Term(date(2014, 10, 1), date(2024, 9, 30)),
            contract_sums={},
        ),
        signed(COMMISSIONER),
        signed(PROVIDER),
    )

    contract.return_in_house(
        reason="The council takes children's services back",
        ends_on=date(2022, 3, 31),
        actor=COMMISSIONER,
    )

    returned = the_one_event(contract, ServiceContract.ReturnedInHouse, COMMISSIONER)
    assert (returned.reason, returned.ends_on) == (
        "The council takes children's services back",
        date(2022, 3, 31),
    )
    assert contract.ending is not None
    assert contract.ending.kind is EndingKind.RETURNED_IN_HOUSE
    assert contract.status(on=date(2022, 4, 1)) is ContractStatus.ENDED


@pytest.mark.parametrize(
    ("reason", "ends_on", "error"),
    [("", date(2022, 3, 31), MissingReason), ("Back in house", date(2030, 3, 31), InvalidDate)],
    ids=["no reason", "after the term"],
)
def test_a_return_in_house_needs_a_reason_and_a_last_day_within_the_term(
    reason: str, ends_on: date, error: type[DomainError]
) -> None:
    contract = a_live_contract()
    with refused(contract, error):
        contract.return_in_house(reason=reason, ends_on=ends_on, actor=COMMISSIONER)


# -- replay ---------------------------------------------------------------------------------------


class Ledger(Application[UUID]):
    """Stores events exactly as the service does: JSON with the domain's value types."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def test_a_contract_replayed_from_its_stored_events_is_the_contract_that_was_saved() -> None:
    contract = draft()
    obligation_id = contract.set_obligation(
        description="Ofsted Good within four years", due_on=date(2022, 3, 31), actor=COMMISSIONER
    )
    contract.sign(actor=COMMISSIONER)
    contract.sign(actor=PROVIDER)
    sums = contract.propose_variation(changes=FIVE_MILLION_MORE, rationale="Demand", actor=PROVIDER)
    contract.agree_variation(variation_id=sums, actor=COMMISSIONER)
    moved = contract.propose_variation(
        changes=VariationChanges(
            scope=(*SCOPE, ServiceLine.EDGE_OF_CARE),
            obligations=(ObligationChange(obligation_id, due_on=date(2025, 3, 31)),),
        ),
        rationale="2022 review",
        actor=COMMISSIONER,
    )
    contract.agree_variation(variation_id=moved, actor=PROVIDER)
    board = contract.establish_board(
        kind=BoardKind.JOINT_COMMITTEE, name="Joint committee", actor=COMMISSIONER
    )
    meeting = contract.schedule_meeting(
        board_id=board, scheduled_for=date(2019, 1, 8), actor=COMMISSIONER
    )
    [action] = contract.hold_meeting(
        meeting_id=meeting,
        held_on=date(2019, 1, 8),
        decisions=["Plan approved"],
        actions=[AgreedAction("Publish plan", "Trust secretary", date(2019, 2, 1))],
        actor=COMMISSIONER,
    )
    contract.complete_action(action_id=action, completed_on=date(2019, 1, 30), actor=PROVIDER)
    contract.hold_annual_review(
        contract_year="2022-23",
        held_on=date(2022, 10, 3),
        outcome="Continues",
        actions=[],
        actor=PROVIDER,
    )
    matter = contract.refer_reserved_matter(subject="Business plan", actor=PROVIDER)
    contract.refuse_reserved_matter(matter_id=matter, reason="Unfunded", actor=COMMISSIONER)
    contract.report_financial_position(
        financial_year="2019-20",
        period="M6",
        forecast_outturn=64 * MILLION_POUNDS,
        commentary="Agency staff",
        actor=PROVIDER,
    )
    contract.record_payment(
        amount=5 * MILLION_POUNDS, paid_on=date(2019, 4, 2), reference="P1", actor=COMMISSIONER
    )
    contract.extend(months=24, actor=COMMISSIONER)
    contract.consider_break_clause(
        used=False, rationale="Improving", ends_on=None, actor=COMMISSIONER
    )
    contract.terminate(reason="Default", ends_on=date(2029, 3, 31), actor=COMMISSIONER)
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ledger.save(contract)

    replayed = ledger.repository.get(contract.id)

    assert vars(replayed) == vars(contract)
    # JSON keeps neither enums nor tuples; the values come back as the types they were.
    assert all(type(line) is ServiceLine for line in replayed.scope)
    assert type(replayed.boards[board].kind) is BoardKind
    assert type(replayed.variations[moved].changes.scope) is tuple
    assert type(replayed.term.extension_options) is tuple
    assert replayed.signatures[0].signed_by.role is COMMISSIONER.role
