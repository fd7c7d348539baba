from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.actor import Actor
from domain.errors import (
    DomainError,
    InvalidDate,
    InvalidNotice,
    InvalidRemedialPlan,
    MissingReason,
    NoPlanToDecide,
    NotAParty,
    NoticeClosed,
    PlanAlreadyAccepted,
    PlanAwaitingDecision,
    WrongParty,
)
from domain.performance_notice import (
    EscalationRoute,
    NoticeStatus,
    PerformanceNotice,
    PlanStatus,
    RemedialAction,
    RemedialPlan,
)
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

CONTRACT = UUID("7d1c0b1e-3f0a-4c52-9a51-2f4b8c1e9d10")
PLAN = UUID("0b6f7c8e-9d3a-4e21-8f5b-6a7c8d9e0f11")
ISSUED_ON = date(2025, 5, 2)
RESPONSE_DUE = date(2025, 5, 30)
ACTIONS = [RemedialAction("Allocate every unallocated referral", date(2025, 6, 30))]

ISSUED = fact(
    PerformanceNotice.Issued,
    contract_id=CONTRACT,
    council_organisation_id=COUNCIL_ORG,
    trust_organisation_id=TRUST_ORG,
    grounds="Assessments within 45 working days fell to 61% for two quarters running",
    kpi_codes=["CSC-03"],
    clauses=["7.2"],
    remedy="Restore timeliness to the 85% target",
    response_due=RESPONSE_DUE,
    issued_on=ISSUED_ON,
)
PLAN_SUBMITTED = fact(
    PerformanceNotice.RemedialPlanSubmitted,
    plan_id=PLAN,
    summary="Agency social workers for the front door",
    actions=ACTIONS,
    actor=PROVIDER,
)
PLAN_ACCEPTED = fact(PerformanceNotice.RemedialPlanAccepted, plan_id=PLAN)
PLAN_REJECTED = fact(PerformanceNotice.RemedialPlanRejected, plan_id=PLAN, reason="No dates")
RESOLVED = fact(PerformanceNotice.Resolved)
ESCALATED = fact(
    PerformanceNotice.Escalated, route=EscalationRoute.STEP_IN, reason="Plan not carried out"
)


def given(*facts: Fact) -> PerformanceNotice:
    notice = given_facts(ISSUED, *facts)
    assert isinstance(notice, PerformanceNotice)
    return notice


def issue(**changes: Any) -> PerformanceNotice:
    arguments: dict[str, Any] = {
        "contract_id": CONTRACT,
        "council_organisation_id": COUNCIL_ORG,
        "trust_organisation_id": TRUST_ORG,
        "grounds": "Assessment timeliness below target",
        "kpi_codes": ["CSC-03"],
        "clauses": [],
        "remedy": "Restore timeliness to the 85% target",
        "response_due": RESPONSE_DUE,
        "issued_on": ISSUED_ON,
        "actor": COMMISSIONER,
        **changes,
    }
    return PerformanceNotice.issue(**arguments)


def submit_plan(notice: PerformanceNotice, **changes: Any) -> None:
    arguments: dict[str, Any] = {
        "summary": "Agency social workers for the front door",
        "actions": ACTIONS,
        "actor": PROVIDER,
        **changes,
    }
    notice.submit_remedial_plan(**arguments)


Command = Callable[[PerformanceNotice, Actor], None]

COUNCIL_COMMANDS: dict[str, Command] = {
    "accept a plan": lambda notice, actor: notice.accept_remedial_plan(actor=actor),
    "reject a plan": lambda notice, actor: notice.reject_remedial_plan(
        reason="Too slow", actor=actor
    ),
    "resolve": lambda notice, actor: notice.resolve(actor=actor),
    "escalate": lambda notice, actor: notice.escalate(
        route=EscalationRoute.DISPUTE_RESOLUTION, reason="No progress", actor=actor
    ),
}
EVERY_COMMAND: dict[str, tuple[Command, Actor]] = {
    "submit a plan": (lambda notice, actor: submit_plan(notice, actor=actor), PROVIDER),
    **{name: (command, COMMISSIONER) for name, command in COUNCIL_COMMANDS.items()},
}


# -- issue ---------------------------------------------------------------------------------------


def test_the_council_issues_a_notice_against_its_contract_and_awaits_a_plan() -> None:
    notice = issue(
        grounds="  Assessment timeliness below target ",
        kpi_codes=["CSC-03", "CSC-04"],
        clauses=[" 7.2"],
    )

    [issued] = notice.collect_events()
    assert isinstance(issued, PerformanceNotice.Issued)
    assert issued.actor == COMMISSIONER
    assert issued.originator_id == notice.id
    assert issued.contract_id == CONTRACT
    assert issued.council_organisation_id == COUNCIL_ORG
    assert issued.trust_organisation_id == TRUST_ORG
    assert issued.grounds == "Assessment timeliness below target"
    assert issued.kpi_codes == ["CSC-03", "CSC-04"]
    assert issued.clauses == ["7.2"]
    assert issued.remedy == "Restore timeliness to the 85% target"
    assert issued.response_due == RESPONSE_DUE
    assert issued.issued_on == ISSUED_ON
    assert notice.status is NoticeStatus.AWAITING_PLAN
    assert notice.is_open
    assert notice.kpi_codes == ("CSC-03", "CSC-04")
    assert notice.clauses == ("7.2",)
    assert notice.plans == ()
    assert notice.plan_awaiting_decision is None
    assert notice.escalation_route is None


def test_each_notice_gets_its_own_id() -> None:
    assert issue().id != issue().id


@pytest.mark.parametrize(
    ("kpi_codes", "clauses"), [(["CSC-03"], []), ([], ["7.2"])], ids=["KPI only", "clause only"]
)
def test_a_notice_may_concern_only_kpis_or_only_clauses(
    kpi_codes: list[str], clauses: list[str]
) -> None:
    notice = issue(kpi_codes=kpi_codes, clauses=clauses)

    assert notice.kpi_codes == tuple(kpi_codes)
    assert notice.clauses == tuple(clauses)


@pytest.mark.parametrize(
    ("actor", "error"), [(PROVIDER, WrongParty), (OUTSIDER, NotAParty)], ids=["trust", "outsider"]
)
def test_only_the_council_issues_a_notice(actor: Actor, error: type[DomainError]) -> None:
    with pytest.raises(error):
        issue(actor=actor)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"grounds": "  "}, "grounds"),
        ({"remedy": ""}, "remedy"),
        ({"kpi_codes": [], "clauses": []}, "KPI or a contract clause"),
        ({"kpi_codes": ["CSC-03", " "]}, "blank"),
        ({"clauses": [""]}, "blank"),
    ],
    ids=["no grounds", "no remedy", "nothing concerned", "blank KPI", "blank clause"],
)
def test_a_notice_must_say_why_what_it_concerns_and_what_would_remedy_it(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidNotice, match=message):
        issue(**changes)


@pytest.mark.parametrize("response_due", [ISSUED_ON, date(2025, 4, 30)], ids=["same", "before"])
def test_the_response_must_be_due_after_the_notice_is_issued(response_due: date) -> None:
    with pytest.raises(InvalidDate):
        issue(response_due=response_due)


# -- remedial plans ------------------------------------------------------------------------------


def test_the_trust_submits_a_remedial_plan_for_the_council_to_decide() -> None:
    notice = given()

    notice.submit_remedial_plan(summary=" Agency staff ", actions=ACTIONS, actor=PROVIDER)

    [submitted] = notice.collect_events()
    assert isinstance(submitted, PerformanceNotice.RemedialPlanSubmitted)
    assert submitted.actor == PROVIDER
    assert isinstance(submitted.plan_id, UUID)
    assert submitted.summary == "Agency staff"
    assert submitted.actions == ACTIONS
    assert notice.status is NoticeStatus.PLAN_SUBMITTED
    assert notice.plans == (RemedialPlan(submitted.plan_id, "Agency staff", tuple(ACTIONS)),)
    assert notice.plan_awaiting_decision == notice.plans[0]
    assert notice.plans[0].status is PlanStatus.AWAITING_DECISION


def test_a_new_plan_may_follow_a_rejected_one() -> None:
    notice = given(PLAN_SUBMITTED, PLAN_REJECTED)

    submit_plan(notice, summary="Agency staff, and a named lead for each referral")

    [submitted] = notice.collect_events()
    assert isinstance(submitted, PerformanceNotice.RemedialPlanSubmitted)
    assert submitted.plan_id != PLAN
    assert notice.status is NoticeStatus.PLAN_SUBMITTED
    assert [plan.status for plan in notice.plans] == [
        PlanStatus.REJECTED,
        PlanStatus.AWAITING_DECISION,
    ]


@pytest.mark.parametrize(
    ("actor", "error"),
    [(COMMISSIONER, WrongParty), (OUTSIDER, NotAParty)],
    ids=["council", "outsider"],
)
def test_only_the_trust_submits_a_remedial_plan(actor: Actor, error: type[DomainError]) -> None:
    notice = given()

    with refused(notice, error):
        submit_plan(notice, actor=actor)


def test_a_new_plan_waits_until_the_council_has_decided_on_the_last() -> None:
    notice = given(PLAN_SUBMITTED)

    with refused(notice, PlanAwaitingDecision):
        submit_plan(notice)


def test_no_new_plan_is_taken_once_one_is_accepted() -> None:
    notice = given(PLAN_SUBMITTED, PLAN_ACCEPTED)

    with refused(notice, PlanAlreadyAccepted):
        submit_plan(notice)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"summary": " "}, "summary"),
        ({"actions": []}, "at least one action"),
        ({"actions": [*ACTIONS, RemedialAction("  ", date(2025, 7, 1))]}, "what will be done"),
    ],
    ids=["no summary", "no actions", "blank action"],
)
def test_a_remedial_plan_must_say_what_will_be_done(changes: dict[str, Any], message: str) -> None:
    notice = given()

    with refused(notice, InvalidRemedialPlan) as caught:
        submit_plan(notice, **changes)
    assert message in caught.value.detail


def test_no_remedial_action_falls_due_before_the_notice_was_issued() -> None:
    notice = given()

    with refused(notice, InvalidDate):
        submit_plan(notice, actions=[RemedialAction("Recruit", date(2025, 5, 1))])


def test_the_council_accepts_the_plan_awaiting_its_decision() -> None:
    notice = given(PLAN_SUBMITTED)

    notice.accept_remedial_plan(actor=COMMISSIONER)

    [accepted] = notice.collect_events()
    assert isinstance(accepted, PerformanceNotice.RemedialPlanAccepted)
    assert accepted.actor == COMMISSIONER
    assert accepted.plan_id == PLAN
    assert notice.status is NoticeStatus.PLAN_ACCEPTED
    assert notice.plans[0].status is PlanStatus.ACCEPTED
    assert notice.plan_awaiting_decision is None
    assert notice.is_open


def test_the_council_rejects_a_plan_with_a_reason_and_awaits_another() -> None:
    notice = given(PLAN_SUBMITTED)

    notice.reject_remedial_plan(reason=" No dates for recruitment ", actor=COMMISSIONER)

    [rejected] = notice.collect_events()
    assert isinstance(rejected, PerformanceNotice.RemedialPlanRejected)
    assert rejected.actor == COMMISSIONER
    assert rejected.plan_id == PLAN
    assert rejected.reason == "No dates for recruitment"
    assert notice.status is NoticeStatus.AWAITING_PLAN
    assert notice.plans[0].status is PlanStatus.REJECTED
    assert notice.plans[0].rejection_reason == "No dates for recruitment"


def test_a_plan_is_not_rejected_without_a_reason() -> None:
    notice = given(PLAN_SUBMITTED)

    with refused(notice, MissingReason):
        notice.reject_remedial_plan(reason="  ", actor=COMMISSIONER)


@pytest.mark.parametrize("decide", ["accept a plan", "reject a plan"])
@pytest.mark.parametrize(
    "history",
    [[], [PLAN_SUBMITTED, PLAN_REJECTED], [PLAN_SUBMITTED, PLAN_ACCEPTED]],
    ids=["no plan yet", "plan rejected", "plan accepted"],
)
def test_the_council_decides_only_on_a_plan_awaiting_a_decision(
    decide: str, history: list[Fact]
) -> None:
    notice = given(*history)

    with refused(notice, NoPlanToDecide):
        COUNCIL_COMMANDS[decide](notice, COMMISSIONER)


# -- closing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [[], [PLAN_SUBMITTED], [PLAN_SUBMITTED, PLAN_ACCEPTED]],
    ids=["awaiting plan", "plan submitted", "plan accepted"],
)
def test_the_council_closes_an_open_notice_as_resolved(history: list[Fact]) -> None:
    notice = given(*history)

    notice.resolve(actor=COMMISSIONER)

    [resolved] = notice.collect_events()
    assert isinstance(resolved, PerformanceNotice.Resolved)
    assert resolved.actor == COMMISSIONER
    assert notice.status is NoticeStatus.RESOLVED
    assert not notice.is_open


def test_the_council_escalates_a_notice_by_a_route_with_a_reason() -> None:
    notice = given(PLAN_SUBMITTED, PLAN_ACCEPTED)

    notice.escalate(
        route=EscalationRoute.DFE_REFERRAL, reason=" Plan abandoned ", actor=COMMISSIONER
    )

    [escalated] = notice.collect_events()
    assert isinstance(escalated, PerformanceNotice.Escalated)
    assert escalated.actor == COMMISSIONER
    assert escalated.route is EscalationRoute.DFE_REFERRAL
    assert escalated.reason == "Plan abandoned"
    assert notice.status is NoticeStatus.ESCALATED
    assert notice.escalation_route is EscalationRoute.DFE_REFERRAL
    assert notice.escalation_reason == "Plan abandoned"
    assert not notice.is_open


def test_a_notice_is_not_escalated_without_a_reason() -> None:
    notice = given()

    with refused(notice, MissingReason):
        notice.escalate(route=EscalationRoute.TERMINATION, reason="", actor=COMMISSIONER)


# -- rules every command shares ------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COUNCIL_COMMANDS))
@pytest.mark.parametrize(
    ("actor", "error"), [(PROVIDER, WrongParty), (OUTSIDER, NotAParty)], ids=["trust", "outsider"]
)
def test_only_the_council_decides_on_plans_and_closes_notices(
    command: str, actor: Actor, error: type[DomainError]
) -> None:
    notice = given(PLAN_SUBMITTED)

    with refused(notice, error):
        COUNCIL_COMMANDS[command](notice, actor)


@pytest.mark.parametrize("command", list(EVERY_COMMAND))
@pytest.mark.parametrize("closing", [RESOLVED, ESCALATED], ids=["resolved", "escalated"])
def test_a_closed_notice_takes_no_more_plans_decisions_or_closures(
    command: str, closing: Fact
) -> None:
    notice = given(PLAN_SUBMITTED, closing)
    run, actor = EVERY_COMMAND[command]

    with refused(notice, NoticeClosed):
        run(notice, actor)


# -- overdue -------------------------------------------------------------------------------------


def test_a_notice_is_overdue_after_its_due_date_until_the_trust_sends_a_plan() -> None:
    assert not given().is_overdue(RESPONSE_DUE)
    assert given().is_overdue(date(2025, 5, 31))
    assert not given(PLAN_SUBMITTED).is_overdue(date(2025, 5, 31))
    assert not given(PLAN_SUBMITTED, PLAN_REJECTED).is_overdue(date(2025, 6, 30))


def test_a_closed_notice_is_never_overdue() -> None:
    assert not given(RESOLVED).is_overdue(date(2025, 6, 30))
    assert not given(ESCALATED).is_overdue(date(2025, 6, 30))


# -- replay --------------------------------------------------------------------------------------


def test_a_notice_replayed_from_its_stored_events_is_the_same_notice() -> None:
    notice = issue(clauses=["7.2"])
    submit_plan(notice)
    notice.reject_remedial_plan(reason="No dates", actor=COMMISSIONER)
    submit_plan(notice, actions=[*ACTIONS, RemedialAction("Weekly audit", date(2025, 7, 4))])
    notice.accept_remedial_plan(actor=COMMISSIONER)
    notice.escalate(route=EscalationRoute.STEP_IN, reason="Not carried out", actor=COMMISSIONER)
    events = notice.collect_events()

    restored = replayed(events)

    assert restored == notice
    assert restored.version == len(events) == 6
    assert restored.escalation_route is EscalationRoute.STEP_IN
    assert type(restored.plans[1].actions[1]) is RemedialAction
    assert type(restored.plans[1].actions[1].due) is date
