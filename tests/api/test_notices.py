"""Performance notices over HTTP: the council issues one under a live contract, the trust
answers with remedial plans, the council accepts or rejects each, then closes the notice as
resolved or escalates it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.api.conftest import (
    NOT_THE_COUNCIL,
    NOT_THE_TRUST,
    World,
    denied,
    refused,
    succeeded,
)

LATE_ASSESSMENTS = {
    "grounds": "Assessments within 45 working days fell to 61% for two quarters running",
    "kpi_codes": ["CSC-03"],
    "clauses": ["7.2"],
    "remedy": "Restore timeliness to the 85% target",
    "issued_on": "2019-05-02",
    "response_due": "2019-05-30",
}
AGENCY_STAFF = {
    "summary": "Agency social workers for the assessment teams",
    "actions": [{"description": "Recruit eight agency social workers", "due": "2019-07-31"}],
}
# Who may read a contract's notices: its parties, an admin, and auditors it is granted to.
NOT_A_READER = [
    ("anonymous", 401),
    ("auditor", 403),
    ("other_commissioner", 403),
    ("other_provider", 403),
]


def issued(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """A live contract, and the notice the council issued under it about late assessments."""
    contract = world.signed()
    notice = succeeded(world.commissioner.issue_notice(contract["id"], **LATE_ASSESSMENTS), 201)
    return contract, notice


def answered(world: World) -> dict[str, Any]:
    """A notice whose remedial plan awaits the council's decision."""
    _, notice = issued(world)
    return succeeded(world.provider.submit_remedial_plan(notice["id"], **AGENCY_STAFF))


def version_of(world: World, notice: dict[str, Any]) -> int:
    response = world.commissioner.notice(notice["id"])
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


def test_the_full_story_from_notice_to_resolution(world: World) -> None:
    contract = world.signed()

    notice = succeeded(world.commissioner.issue_notice(contract["id"], **LATE_ASSESSMENTS), 201)
    assert notice["status"] == "awaiting_plan"

    first = succeeded(world.provider.submit_remedial_plan(notice["id"], **AGENCY_STAFF))
    assert first["status"] == "plan_submitted"

    rejected = succeeded(
        world.commissioner.reject_remedial_plan(
            notice["id"], "Agency staff alone will not hold: say how you will recruit permanent"
        )
    )
    assert rejected["status"] == "awaiting_plan"
    assert rejected["plans"][0]["status"] == "rejected"

    second = succeeded(
        world.provider.submit_remedial_plan(
            notice["id"],
            summary="Agency cover while a permanent recruitment campaign runs",
            actions=[
                {"description": "Recruit eight agency social workers", "due": "2019-07-31"},
                {"description": "Fill twelve permanent posts", "due": "2019-12-31"},
            ],
        )
    )
    assert [plan["status"] for plan in second["plans"]] == ["rejected", "awaiting_decision"]

    accepted = succeeded(world.commissioner.accept_remedial_plan(notice["id"]))
    assert accepted["status"] == "plan_accepted"
    assert [plan["status"] for plan in accepted["plans"]] == ["rejected", "accepted"]

    resolved = succeeded(world.commissioner.resolve_notice(notice["id"]))
    assert resolved["status"] == "resolved"

    late_plan = world.provider.submit_remedial_plan(notice["id"], **AGENCY_STAFF)
    refused(late_plan, 409, "notice-closed")
    assert world.commissioner.notice(notice["id"]).json() == resolved


# -- issuing ------------------------------------------------------------------------------------


def test_the_council_issues_a_notice_against_a_live_contract(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.issue_notice(contract["id"], **LATE_ASSESSMENTS)

    notice = succeeded(response, 201)
    assert response.headers["Location"] == f"/notices/{notice['id']}"
    assert notice["contract_id"] == contract["id"]
    assert notice["council_organisation_id"] == world.sandwell["council_id"]
    assert notice["trust_organisation_id"] == world.sandwell["trust_id"]
    assert notice["kpi_codes"] == ["CSC-03"]
    assert notice["status"] == "awaiting_plan"
    assert notice["plans"] == []
    # Its response date has long passed without a plan.
    assert notice["is_overdue"] is True


def test_a_notice_needs_a_contract_in_force(world: World) -> None:
    draft = world.draft()
    ended = world.signed()
    succeeded(
        world.commissioner.terminate(ended["id"], reason="Ended by agreement", ends_on="2024-03-31")
    )

    for contract in (draft, ended):
        response = world.commissioner.issue_notice(contract["id"], **LATE_ASSESSMENTS)
        refused(response, 409, "contract-not-live")
        assert world.commissioner.notices(contract["id"]).json() == []


def test_a_response_due_before_the_notice_is_issued_is_invalid(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.issue_notice(
        contract["id"], **{**LATE_ASSESSMENTS, "response_due": "2019-05-01"}
    )

    refused(response, 422, "invalid-date")


def test_a_notice_must_name_a_kpi_or_a_clause(world: World) -> None:
    contract = world.signed()

    response = world.commissioner.issue_notice(
        contract["id"], **{**LATE_ASSESSMENTS, "kpi_codes": [], "clauses": []}
    )

    refused(response, 422, "invalid-notice")


def test_a_notice_under_a_contract_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    response = world.commissioner.issue_notice(uuid4(), **LATE_ASSESSMENTS)

    refused(response, 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_issue_a_notice(world: World, who: str, status: int) -> None:
    contract = world.signed()

    denied(world.person(who).issue_notice(contract["id"], **LATE_ASSESSMENTS), status)
    assert world.commissioner.notices(contract["id"]).json() == []


# -- reading ------------------------------------------------------------------------------------


def test_the_parties_an_admin_and_a_granted_auditor_list_a_contracts_notices(
    world: World,
) -> None:
    contract, first = issued(world)
    second = succeeded(
        world.commissioner.issue_notice(
            contract["id"], **{**LATE_ASSESSMENTS, "kpi_codes": ["CSC-07"], "clauses": []}
        ),
        201,
    )
    issued(world)  # a notice under another contract, which is not listed
    assert world.admin.grant(world.auditor_id, contract["id"]).status_code == 200

    for reader in (world.commissioner, world.provider, world.admin, world.auditor):
        response = reader.notices(contract["id"])
        assert response.status_code == 200, response.text
        assert [notice["id"] for notice in response.json()] == [first["id"], second["id"]]


def test_listing_the_notices_of_a_contract_the_ledger_does_not_hold_is_not_found(
    world: World,
) -> None:
    refused(world.commissioner.notices(uuid4()), 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_the_contract_may_list_its_notices(
    world: World, who: str, status: int
) -> None:
    contract, _ = issued(world)

    denied(world.person(who).notices(contract["id"]), status)


def test_a_reader_gets_a_notice_with_its_etag(world: World) -> None:
    _, notice = issued(world)

    response = world.provider.notice(notice["id"])

    assert succeeded(response) == notice


def test_a_notice_the_ledger_does_not_hold_is_not_found(world: World) -> None:
    refused(world.commissioner.notice(uuid4()), 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_A_READER)
def test_only_readers_of_the_contract_may_read_a_notice(
    world: World, who: str, status: int
) -> None:
    _, notice = issued(world)

    denied(world.person(who).notice(notice["id"]), status)


# -- remedial plans -----------------------------------------------------------------------------


def test_the_trust_answers_a_notice_with_a_remedial_plan(world: World) -> None:
    _, notice = issued(world)

    response = world.provider.submit_remedial_plan(notice["id"], **AGENCY_STAFF)

    answer = succeeded(response)
    [plan] = answer["plans"]
    assert answer["status"] == "plan_submitted"
    assert plan["summary"] == AGENCY_STAFF["summary"]
    assert plan["actions"] == AGENCY_STAFF["actions"]
    assert plan["status"] == "awaiting_decision"
    # A plan sent, however late, ends the overdue state: the council now owes a decision.
    assert answer["is_overdue"] is False


def test_a_second_plan_waits_for_the_councils_decision_on_the_first(world: World) -> None:
    notice = answered(world)

    response = world.provider.submit_remedial_plan(notice["id"], **AGENCY_STAFF)

    refused(response, 409, "plan-awaiting-decision")
    assert version_of(world, notice) == notice["version"]


def test_a_remedial_plan_without_actions_is_invalid(world: World) -> None:
    _, notice = issued(world)

    response = world.provider.submit_remedial_plan(
        notice["id"], summary="We will do better", actions=[]
    )

    refused(response, 422, "invalid-remedial-plan")


def test_a_remedial_plan_for_a_notice_the_ledger_does_not_hold_is_not_found(
    world: World,
) -> None:
    refused(world.provider.submit_remedial_plan(uuid4(), **AGENCY_STAFF), 404, "not-found")


@pytest.mark.parametrize(("who", "status"), NOT_THE_TRUST)
def test_only_the_trust_may_submit_a_remedial_plan(world: World, who: str, status: int) -> None:
    _, notice = issued(world)

    denied(world.person(who).submit_remedial_plan(notice["id"], **AGENCY_STAFF), status)
    assert version_of(world, notice) == notice["version"]


def test_the_council_accepts_the_plan(world: World) -> None:
    notice = answered(world)

    accepted = succeeded(world.commissioner.accept_remedial_plan(notice["id"]))

    assert accepted["status"] == "plan_accepted"
    assert [plan["status"] for plan in accepted["plans"]] == ["accepted"]


def test_accepting_when_no_plan_awaits_a_decision_is_a_conflict(world: World) -> None:
    _, notice = issued(world)

    refused(world.commissioner.accept_remedial_plan(notice["id"]), 409, "no-plan-to-decide")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_accept_a_plan(world: World, who: str, status: int) -> None:
    notice = answered(world)

    denied(world.person(who).accept_remedial_plan(notice["id"]), status)
    assert version_of(world, notice) == notice["version"]


def test_the_council_rejects_the_plan_saying_why(world: World) -> None:
    notice = answered(world)

    rejected = succeeded(
        world.commissioner.reject_remedial_plan(notice["id"], "No permanent recruitment")
    )

    [plan] = rejected["plans"]
    assert rejected["status"] == "awaiting_plan"
    assert plan["status"] == "rejected"
    assert plan["rejection_reason"] == "No permanent recruitment"


def test_a_rejection_against_a_stale_etag_is_refused(world: World) -> None:
    notice = answered(world)

    response = world.commissioner.reject_remedial_plan(
        notice["id"], "No permanent recruitment", if_match=f'"{notice["version"] - 1}"'
    )

    refused(response, 412, "stale-version")
    assert version_of(world, notice) == notice["version"]


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_reject_a_plan(world: World, who: str, status: int) -> None:
    notice = answered(world)

    denied(world.person(who).reject_remedial_plan(notice["id"], "Not enough"), status)
    assert version_of(world, notice) == notice["version"]


# -- closing ------------------------------------------------------------------------------------


def test_the_council_closes_a_notice_as_resolved(world: World) -> None:
    _, notice = issued(world)

    resolved = succeeded(world.commissioner.resolve_notice(notice["id"]))

    assert resolved["status"] == "resolved"
    assert resolved["is_overdue"] is False


def test_a_closed_notice_cannot_be_resolved_again(world: World) -> None:
    _, notice = issued(world)
    succeeded(world.commissioner.resolve_notice(notice["id"]))

    refused(world.commissioner.resolve_notice(notice["id"]), 409, "notice-closed")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_resolve_a_notice(world: World, who: str, status: int) -> None:
    _, notice = issued(world)

    denied(world.person(who).resolve_notice(notice["id"]), status)
    assert version_of(world, notice) == notice["version"]


def test_the_council_escalates_a_notice_to_step_in(world: World) -> None:
    notice = answered(world)

    escalated = succeeded(
        world.commissioner.escalate_notice(
            notice["id"], "step_in", "No improvement after two quarters"
        )
    )

    assert escalated["status"] == "escalated"
    assert escalated["escalation_route"] == "step_in"
    assert escalated["escalation_reason"] == "No improvement after two quarters"


def test_an_escalation_by_a_route_the_contract_does_not_know_is_refused(world: World) -> None:
    _, notice = issued(world)

    response = world.commissioner.escalate_notice(notice["id"], "ombudsman", "No improvement")

    refused(response, 422, "invalid-request")
    assert version_of(world, notice) == notice["version"]


def test_a_resolved_notice_cannot_be_escalated(world: World) -> None:
    _, notice = issued(world)
    succeeded(world.commissioner.resolve_notice(notice["id"]))

    response = world.commissioner.escalate_notice(notice["id"], "dfe_referral", "Too late")

    refused(response, 409, "notice-closed")


@pytest.mark.parametrize(("who", "status"), NOT_THE_COUNCIL)
def test_only_the_council_may_escalate_a_notice(world: World, who: str, status: int) -> None:
    _, notice = issued(world)

    denied(world.person(who).escalate_notice(notice["id"], "step_in", "No improvement"), status)
    assert version_of(world, notice) == notice["version"]
