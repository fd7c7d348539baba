"""Governing a signed contract over HTTP: boards and their meetings, the actions they agree,
annual reviews, the obligations the council set and judges, and the reserved matters the
trust refers to the council."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.api.conftest import (
    NOT_A_PARTY,
    NOT_THE_COUNCIL,
    NOT_THE_TRUST,
    World,
    denied,
    refused,
    succeeded,
)

AN_ACTION = {
    "description": "Publish the placement sufficiency strategy",
    "owner": "Director of Children's Services",
    "due_on": "2019-09-30",
}
A_MEETING_HELD = {
    "held_on": "2019-06-12",
    "decisions": ["Adopt the sufficiency strategy in draft"],
    "actions": [AN_ACTION],
}
AN_ANNUAL_REVIEW = {
    "contract_year": "2018-19",
    "held_on": "2019-05-20",
    "outcome": "The trust's first year: stable leadership, caseloads still high",
    "actions": [AN_ACTION],
}
GOOD_BY_2021 = {"description": "Ofsted judges the services Good or better", "due_on": "2021-03-31"}


def a_board(world: World) -> tuple[dict[str, Any], str]:
    contract = world.signed()
    created = succeeded(
        world.commissioner.establish_board(
            contract["id"], kind="strategic-monitoring-board", name="Strategic monitoring board"
        ),
        201,
    )
    return created["contract"], created["id"]


def a_meeting(world: World) -> tuple[dict[str, Any], str]:
    contract, board_id = a_board(world)
    created = succeeded(
        world.commissioner.schedule_meeting(contract["id"], board_id, scheduled_for="2019-06-12"),
        201,
    )
    return created["contract"], created["id"]


def an_action(world: World) -> tuple[dict[str, Any], str]:
    contract, meeting_id = a_meeting(world)
    held = succeeded(world.commissioner.hold_meeting(contract["id"], meeting_id, **A_MEETING_HELD))
    [action] = held["actions"]
    return held, action["action_id"]


def an_obligation(world: World) -> tuple[dict[str, Any], str]:
    """A signed contract with the obligation, set while drafting, that services be Good."""
    draft = world.draft()
    created = succeeded(world.commissioner.set_obligation(draft["id"], **GOOD_BY_2021), 201)
    return world.signed_by_both(created["contract"]), created["id"]


def a_reserved_matter(world: World) -> tuple[dict[str, Any], str]:
    contract = world.signed()
    created = succeeded(
        world.provider.refer_reserved_matter(contract["id"], "The trust's 2019-20 business plan"),
        201,
    )
    return created["contract"], created["id"]


# -- boards and meetings ------------------------------------------------------------------------


def test_a_party_establishes_a_board_to_govern_the_contract(world: World) -> None:
    contract = world.signed()

    response = world.provider.establish_board(
        contract["id"], kind="operational-group", name="Operational performance group"
    )

    created = succeeded(response, 201)
    assert created["contract"]["boards"] == [
        {
            "board_id": created["id"],
            "kind": "operational-group",
            "name": "Operational performance group",
        }
    ]


def test_a_board_needs_a_signed_contract(world: World) -> None:
    contract = world.draft()

    response = world.commissioner.establish_board(
        contract["id"], kind="partnership-board", name="Partnership board"
    )

    refused(response, 409, "contract-not-live")


def test_a_board_of_a_kind_the_contract_does_not_know_is_refused(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.establish_board(contract["id"], kind="cabinet", name="Cabinet")

    refused(response, 422, "invalid-request")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_establish_a_board(
    world: World, who: str, status: int
) -> None:
    contract = world.signed()

    response = world.person(who).establish_board(
        contract["id"], kind="joint-committee", name="Joint committee"
    )

    denied(response, status)
    assert world.version_of(contract) == contract["version"]


def test_a_party_schedules_a_meeting_of_a_board(world: World) -> None:
    contract, board_id = a_board(world)

    response = world.provider.schedule_meeting(contract["id"], board_id, scheduled_for="2019-06-12")

    created = succeeded(response, 201)
    [meeting] = created["contract"]["meetings"]
    assert meeting["meeting_id"] == created["id"]
    assert meeting["board_id"] == board_id
    assert meeting["scheduled_for"] == "2019-06-12"
    assert meeting["status"] == "scheduled"


def test_a_meeting_of_a_board_the_contract_does_not_have_is_not_found(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.schedule_meeting(
        contract["id"], uuid4(), scheduled_for="2019-06-12"
    )

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_schedule_a_meeting(
    world: World, who: str, status: int
) -> None:
    contract, board_id = a_board(world)

    response = world.person(who).schedule_meeting(
        contract["id"], board_id, scheduled_for="2019-06-12"
    )

    denied(response, status)
    assert world.version_of(contract) == contract["version"]


def test_holding_a_meeting_records_its_decisions_and_the_actions_agreed(world: World) -> None:
    contract, meeting_id = a_meeting(world)

    response = world.provider.hold_meeting(contract["id"], meeting_id, **A_MEETING_HELD)

    held = succeeded(response)
    [meeting] = held["meetings"]
    [action] = held["actions"]
    assert meeting["status"] == "held"
    assert meeting["held_on"] == "2019-06-12"
    assert meeting["decisions"] == ["Adopt the sufficiency strategy in draft"]
    assert meeting["action_ids"] == [action["action_id"]]
    assert action["owner"] == "Director of Children's Services"
    assert action["completed_on"] is None


def test_a_meeting_is_held_once(world: World) -> None:
    contract, meeting_id = a_meeting(world)
    succeeded(world.commissioner.hold_meeting(contract["id"], meeting_id, **A_MEETING_HELD))

    again = world.commissioner.hold_meeting(contract["id"], meeting_id, **A_MEETING_HELD)

    refused(again, 409, "meeting-not-scheduled")


def test_minutes_against_a_stale_etag_are_refused(world: World) -> None:
    contract, meeting_id = a_meeting(world)

    response = world.commissioner.hold_meeting(
        contract["id"], meeting_id, if_match=f'"{contract["version"] - 1}"', **A_MEETING_HELD
    )

    refused(response, 412, "stale-version")
    assert world.version_of(contract) == contract["version"]


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_record_a_meeting_held(
    world: World, who: str, status: int
) -> None:
    contract, meeting_id = a_meeting(world)

    denied(world.person(who).hold_meeting(contract["id"], meeting_id, **A_MEETING_HELD), status)
    assert world.version_of(contract) == contract["version"]


def test_a_party_cancels_a_scheduled_meeting_saying_why(world: World) -> None:
    contract, meeting_id = a_meeting(world)

    response = world.commissioner.cancel_meeting(
        contract["id"], meeting_id, "Purdah before the local elections"
    )

    [meeting] = succeeded(response)["meetings"]
    assert meeting["status"] == "cancelled"
    assert meeting["cancellation_reason"] == "Purdah before the local elections"


def test_cancelling_a_meeting_the_contract_does_not_have_is_not_found(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.cancel_meeting(contract["id"], uuid4(), "No quorum")

    refused(response, 404, "not-found")


def test_a_cancellation_without_a_reason_is_refused(world: World) -> None:
    contract, meeting_id = a_meeting(world)

    response = world.commissioner.cancel_meeting(contract["id"], meeting_id, "   ")

    refused(response, 422, "invalid-request")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_cancel_a_meeting(
    world: World, who: str, status: int
) -> None:
    contract, meeting_id = a_meeting(world)

    denied(world.person(who).cancel_meeting(contract["id"], meeting_id, "No quorum"), status)
    assert world.version_of(contract) == contract["version"]


def test_a_party_completes_an_action_agreed_at_a_meeting(world: World) -> None:
    contract, action_id = an_action(world)

    response = world.provider.complete_action(contract["id"], action_id, "2019-09-16")

    [action] = succeeded(response)["actions"]
    assert action["completed_on"] == "2019-09-16"


def test_an_action_is_completed_once(world: World) -> None:
    contract, action_id = an_action(world)
    succeeded(world.provider.complete_action(contract["id"], action_id, "2019-09-16"))

    again = world.provider.complete_action(contract["id"], action_id, "2019-09-20")

    refused(again, 409, "action-already-completed")


def test_completing_an_action_the_contract_does_not_have_is_not_found(world: World) -> None:
    contract = world.signed()

    response = world.provider.complete_action(contract["id"], uuid4(), "2019-09-16")

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_complete_an_action(
    world: World, who: str, status: int
) -> None:
    contract, action_id = an_action(world)

    denied(world.person(who).complete_action(contract["id"], action_id, "2019-09-16"), status)
    assert world.version_of(contract) == contract["version"]


# -- annual reviews -----------------------------------------------------------------------------


def test_the_annual_review_of_a_contract_year_is_recorded_with_who_held_it(
    world: World,
) -> None:
    contract = world.signed()

    response = world.provider.hold_annual_review(contract["id"], **AN_ANNUAL_REVIEW)

    reviewed = succeeded(response)
    [review] = reviewed["annual_reviews"]
    [action] = reviewed["actions"]
    assert review["contract_year"] == "2018-19"
    assert review["outcome"] == AN_ANNUAL_REVIEW["outcome"]
    assert review["action_ids"] == [action["action_id"]]
    assert world.who(review["held_by"]) == "provider"


def test_a_contract_year_is_reviewed_once(world: World) -> None:
    contract = world.signed()
    succeeded(world.commissioner.hold_annual_review(contract["id"], **AN_ANNUAL_REVIEW))

    again = world.provider.hold_annual_review(contract["id"], **AN_ANNUAL_REVIEW)

    refused(again, 409, "review-already-held")


def test_a_review_of_a_year_outside_the_term_is_invalid(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.hold_annual_review(
        contract["id"], **{**AN_ANNUAL_REVIEW, "contract_year": "2030-31"}
    )

    refused(response, 422, "invalid-period")


@pytest.mark.parametrize(("who", "status"), NOT_A_PARTY)
def test_only_the_contracts_parties_may_record_an_annual_review(
    world: World, who: str, status: int
) -> None:
    contract = world.signed()

    denied(world.person(who).hold_annual_review(contract["id"], **AN_ANNUAL_REVIEW), status)
    assert world.version_of(contract) == contract["version"]


# -- obligations --------------------------------------------------------------------------------


def test_the_council_sets_an_obligation_while_drafting(world: World) -> None:
    contract = world.draft()

    response = world.commissioner.set_obligation(contract["id"], **GOOD_BY_2021)

    created = succeeded(response, 201)
    assert created["contract"]["obligations"] == [
        {
            "obligation_id": created["id"],
            "description": "Ofsted judges the services Good or better",
            "due_on": "2021-03-31",
            "status": "open",
            "met_on": None,
            "evidence": None,
            "missed_reason": None,
            "recorded_by": None,
        }
    ]


def test_once_signed_obligations_change_only_by_variation(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.set_obligation(contract["id"], **GOOD_BY_2021)

    refused(response, 409, "contract-not-draft")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_set_an_obligation(world: World, who: str, status: int) -> None:
    contract = world.draft()

    denied(world.person(who).set_obligation(contract["id"], **GOOD_BY_2021), status)
    assert world.version_of(contract) == contract["version"]


def test_the_council_records_an_obligation_met_on_evidence(world: World) -> None:
    contract, obligation_id = an_obligation(world)

    response = world.commissioner.record_obligation_met(
        contract["id"],
        obligation_id,
        met_on="2022-03-25",
        evidence="Ofsted ILACS report: Good in every judgement",
    )

    [obligation] = succeeded(response)["obligations"]
    assert obligation["status"] == "met"
    assert obligation["met_on"] == "2022-03-25"
    assert obligation["evidence"] == "Ofsted ILACS report: Good in every judgement"
    assert world.who(obligation["recorded_by"]) == "commissioner"


def test_an_obligation_is_settled_once(world: World) -> None:
    contract, obligation_id = an_obligation(world)
    succeeded(
        world.commissioner.record_obligation_missed(
            contract["id"], obligation_id, "Requires improvement at the 2021 inspection"
        )
    )

    response = world.commissioner.record_obligation_met(
        contract["id"], obligation_id, met_on="2022-03-25", evidence="Good at re-inspection"
    )

    refused(response, 409, "obligation-not-open")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_record_an_obligation_met(world: World, who: str, status: int) -> None:
    contract, obligation_id = an_obligation(world)

    response = world.person(who).record_obligation_met(
        contract["id"], obligation_id, met_on="2022-03-25", evidence="Ofsted: Good"
    )

    denied(response, status)
    assert world.version_of(contract) == contract["version"]


def test_the_council_records_an_obligation_missed_saying_why(world: World) -> None:
    contract, obligation_id = an_obligation(world)

    response = world.commissioner.record_obligation_missed(
        contract["id"], obligation_id, "Requires improvement at the 2021 inspection"
    )

    [obligation] = succeeded(response)["obligations"]
    assert obligation["status"] == "missed"
    assert obligation["missed_reason"] == "Requires improvement at the 2021 inspection"
    assert world.who(obligation["recorded_by"]) == "commissioner"


def test_an_obligation_the_contract_does_not_have_is_not_found(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.record_obligation_missed(contract["id"], uuid4(), "Missed")

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_record_an_obligation_missed(
    world: World, who: str, status: int
) -> None:
    contract, obligation_id = an_obligation(world)

    denied(
        world.person(who).record_obligation_missed(contract["id"], obligation_id, "Missed"),
        status,
    )
    assert world.version_of(contract) == contract["version"]


# -- reserved matters ---------------------------------------------------------------------------


def test_the_trust_refers_a_reserved_matter_to_the_council(world: World) -> None:
    contract = world.signed()

    response = world.provider.refer_reserved_matter(
        contract["id"], "The trust's 2019-20 business plan"
    )

    created = succeeded(response, 201)
    [matter] = created["contract"]["reserved_matters"]
    assert matter["matter_id"] == created["id"]
    assert matter["subject"] == "The trust's 2019-20 business plan"
    assert matter["status"] == "referred"
    assert world.who(matter["referred_by"]) == "provider"


def test_a_reserved_matter_needs_a_signed_contract(world: World) -> None:
    contract = world.draft()

    response = world.provider.refer_reserved_matter(contract["id"], "The business plan")

    refused(response, 409, "contract-not-live")


@pytest.mark.parametrize(("who", "status"), NOT_THE_TRUST)
def test_only_the_trust_may_refer_a_reserved_matter(world: World, who: str, status: int) -> None:
    contract = world.signed()

    denied(world.person(who).refer_reserved_matter(contract["id"], "The business plan"), status)
    assert world.version_of(contract) == contract["version"]


def test_the_council_approves_a_reserved_matter(world: World) -> None:
    contract, matter_id = a_reserved_matter(world)

    response = world.commissioner.approve_reserved_matter(contract["id"], matter_id)

    [matter] = succeeded(response)["reserved_matters"]
    assert matter["status"] == "approved"
    assert world.who(matter["decided_by"]) == "commissioner"


def test_a_reserved_matter_is_decided_once(world: World) -> None:
    contract, matter_id = a_reserved_matter(world)
    succeeded(world.commissioner.approve_reserved_matter(contract["id"], matter_id))

    again = world.commissioner.refuse_reserved_matter(contract["id"], matter_id, "On reflection")

    refused(again, 409, "reserved-matter-not-open")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_approve_a_reserved_matter(
    world: World, who: str, status: int
) -> None:
    contract, matter_id = a_reserved_matter(world)

    denied(world.person(who).approve_reserved_matter(contract["id"], matter_id), status)
    assert world.version_of(contract) == contract["version"]


def test_the_council_refuses_a_reserved_matter_saying_why(world: World) -> None:
    contract, matter_id = a_reserved_matter(world)

    response = world.commissioner.refuse_reserved_matter(
        contract["id"], matter_id, "The plan does not show how caseloads will fall"
    )

    [matter] = succeeded(response)["reserved_matters"]
    assert matter["status"] == "refused"
    assert matter["refusal_reason"] == "The plan does not show how caseloads will fall"
    assert world.who(matter["decided_by"]) == "commissioner"


def test_refusing_a_reserved_matter_the_contract_does_not_have_is_not_found(
    world: World,
) -> None:
    contract = world.signed()

    response = world.commissioner.refuse_reserved_matter(contract["id"], uuid4(), "No")

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_refuse_a_reserved_matter(world: World, who: str, status: int) -> None:
    contract, matter_id = a_reserved_matter(world)

    denied(world.person(who).refuse_reserved_matter(contract["id"], matter_id, "No"), status)
    assert world.version_of(contract) == contract["version"]
