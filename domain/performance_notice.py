"""A performance notice: the council's formal demand that the trust remedy a failure.

The council issues it against a contract, the trust answers with a remedial plan, the council
accepts or rejects each plan, and finally closes the notice as resolved or escalates it.
The past-tense methods take the actor only so that the event they record names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import (
    InvalidDate,
    InvalidNotice,
    InvalidRemedialPlan,
    NoPlanToDecide,
    NoticeClosed,
    PlanAlreadyAccepted,
    PlanAwaitingDecision,
)
from domain.ledger import LedgerAggregate, check_party, required_reason


class NoticeStatus(StrEnum):
    AWAITING_PLAN = "awaiting_plan"  # just issued, or the last plan was rejected
    PLAN_SUBMITTED = "plan_submitted"  # the council owes a decision
    PLAN_ACCEPTED = "plan_accepted"  # the trust is carrying the plan out
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class EscalationRoute(StrEnum):
    """Where an unremedied failure goes next: the contract's remedies, or the DfE's powers."""

    DISPUTE_RESOLUTION = "dispute_resolution"
    STEP_IN = "step_in"
    TERMINATION = "termination"
    DFE_REFERRAL = "dfe_referral"


class PlanStatus(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RemedialAction:
    """One thing the trust undertakes to do, and by when."""

    description: str
    due: date


@dataclass(frozen=True)
class RemedialPlan:
    plan_id: UUID
    summary: str
    actions: tuple[RemedialAction, ...]
    status: PlanStatus = PlanStatus.AWAITING_DECISION
    rejection_reason: str | None = None


_CLOSED = (NoticeStatus.RESOLVED, NoticeStatus.ESCALATED)


class PerformanceNotice(LedgerAggregate):
    class Issued(LedgerAggregate.Created):
        contract_id: UUID
        council_organisation_id: str
        trust_organisation_id: str
        grounds: str
        kpi_codes: list[str]
        clauses: list[str]
        remedy: str
        response_due: date
        issued_on: date

    class RemedialPlanSubmitted(LedgerAggregate.Event):
        plan_id: UUID
        summary: str
        actions: list[RemedialAction]

    class RemedialPlanAccepted(LedgerAggregate.Event):
        plan_id: UUID

    class RemedialPlanRejected(LedgerAggregate.Event):
        plan_id: UUID
        reason: str

    class Resolved(LedgerAggregate.Event):
        pass

    class Escalated(LedgerAggregate.Event):
        route: EscalationRoute
        reason: str

    def __init__(
        self,
        contract_id: UUID,
        council_organisation_id: str,
        trust_organisation_id: str,
        grounds: str,
        kpi_codes: list[str],
        clauses: list[str],
        remedy: str,
        response_due: date,
        issued_on: date,
    ) -> None:
        self.contract_id = contract_id
        # Copied from the contract at issue, so that the notice can check parties on its own.
        self.council_organisation_id = council_organisation_id
        self.trust_organisation_id = trust_organisation_id
        self.grounds = grounds
        self.kpi_codes = tuple(kpi_codes)
        self.clauses = tuple(clauses)
        self.remedy = remedy
        self.response_due = response_due
        self.issued_on = issued_on
        self.status = NoticeStatus.AWAITING_PLAN
        self.plans: tuple[RemedialPlan, ...] = ()
        self.escalation_route: EscalationRoute | None = None
        self.escalation_reason: str | None = None

    @classmethod
    def issue(
        cls,
        *,
        contract_id: UUID,
        council_organisation_id: str,
        trust_organisation_id: str,
        grounds: str,
        kpi_codes: Sequence[str] = (),
        clauses: Sequence[str] = (),
        remedy: str,
        response_due: date,
        issued_on: date,
        actor: Actor,
    ) -> PerformanceNotice:
        check_party(actor, council_organisation_id, trust_organisation_id, "issue a notice")
        grounds, remedy = grounds.strip(), remedy.strip()
        kpi_codes = [code.strip() for code in kpi_codes]
        clauses = [clause.strip() for clause in clauses]
        if not grounds:
            raise InvalidNotice("a performance notice must state its grounds")
        if not remedy:
            raise InvalidNotice("a performance notice must state the remedy required")
        if not kpi_codes and not clauses:
            raise InvalidNotice("a performance notice must name a KPI or a contract clause")
        if not all(kpi_codes) or not all(clauses):
            raise InvalidNotice("a KPI code or contract clause is blank")
        if response_due <= issued_on:
            raise InvalidDate(
                f"the response due date {response_due} must be after the issue date {issued_on}"
            )
        return cls._create(
            cls.Issued,
            id=uuid4(),
            contract_id=contract_id,
            council_organisation_id=council_organisation_id,
            trust_organisation_id=trust_organisation_id,
            grounds=grounds,
            kpi_codes=kpi_codes,
            clauses=clauses,
            remedy=remedy,
            response_due=response_due,
            issued_on=issued_on,
            actor=actor,
        )

    @property
    def is_open(self) -> bool:
        return self.status not in _CLOSED

    @property
    def plan_awaiting_decision(self) -> RemedialPlan | None:
        if self.status is NoticeStatus.PLAN_SUBMITTED:
            return self.plans[-1]
        return None

    def is_overdue(self, on: date) -> bool:
        """Open, past its response due date, and the trust has sent no plan.

        A plan sent late ends the overdue state: the council then owes a decision, and the
        lateness stays on the record in the plan's recorded time.
        """
        return self.is_open and on > self.response_due and not self.plans

    def submit_remedial_plan(
        self, *, summary: str, actions: Sequence[RemedialAction], actor: Actor
    ) -> None:
        self._check_provider(actor, "submit a remedial plan")
        self._check_open()
        summary = summary.strip()
        actions = [dataclasses.replace(a, description=a.description.strip()) for a in actions]
        if not summary:
            raise InvalidRemedialPlan("a remedial plan needs a summary")
        if not actions:
            raise InvalidRemedialPlan("a remedial plan needs at least one action")
        if not all(a.description for a in actions):
            raise InvalidRemedialPlan("every action of a remedial plan must say what will be done")
        for action in actions:
            if action.due < self.issued_on:
                raise InvalidDate(
                    f"the action {action.description!r} is due on {action.due}, "
                    f"before the notice was issued on {self.issued_on}"
                )
        if self.status is NoticeStatus.PLAN_SUBMITTED:
            raise PlanAwaitingDecision("the council has not yet decided on the last remedial plan")
        if self.status is NoticeStatus.PLAN_ACCEPTED:
            raise PlanAlreadyAccepted("a remedial plan for this notice was already accepted")
        self._remedial_plan_submitted(
            plan_id=uuid4(), summary=summary, actions=actions, actor=actor
        )

    @event(RemedialPlanSubmitted)
    def _remedial_plan_submitted(
        self, plan_id: UUID, summary: str, actions: list[RemedialAction], actor: Actor
    ) -> None:
        self.plans = (*self.plans, RemedialPlan(plan_id, summary, tuple(actions)))
        self.status = NoticeStatus.PLAN_SUBMITTED

    def accept_remedial_plan(self, *, actor: Actor) -> None:
        plan = self._plan_to_decide(actor, "accept a remedial plan")
        self._remedial_plan_accepted(plan_id=plan.plan_id, actor=actor)

    @event(RemedialPlanAccepted)
    def _remedial_plan_accepted(self, plan_id: UUID, actor: Actor) -> None:
        self._decide(plan_id, PlanStatus.ACCEPTED, rejection_reason=None)
        self.status = NoticeStatus.PLAN_ACCEPTED

    def reject_remedial_plan(self, *, reason: str, actor: Actor) -> None:
        plan = self._plan_to_decide(actor, "reject a remedial plan")
        reason = required_reason(reason, "rejecting a remedial plan")
        self._remedial_plan_rejected(plan_id=plan.plan_id, reason=reason, actor=actor)

    @event(RemedialPlanRejected)
    def _remedial_plan_rejected(self, plan_id: UUID, reason: str, actor: Actor) -> None:
        self._decide(plan_id, PlanStatus.REJECTED, rejection_reason=reason)
        self.status = NoticeStatus.AWAITING_PLAN

    def resolve(self, *, actor: Actor) -> None:
        self._check_commissioner(actor, "resolve a notice")
        self._check_open()
        self._resolved(actor=actor)

    @event(Resolved)
    def _resolved(self, actor: Actor) -> None:
        self.status = NoticeStatus.RESOLVED

    def escalate(self, *, route: EscalationRoute, reason: str, actor: Actor) -> None:
        self._check_commissioner(actor, "escalate a notice")
        self._check_open()
        reason = required_reason(reason, "escalating a notice")
        self._escalated(route=route, reason=reason, actor=actor)

    @event(Escalated)
    def _escalated(self, route: EscalationRoute, reason: str, actor: Actor) -> None:
        self.status = NoticeStatus.ESCALATED
        # JSON stores a StrEnum as its bare value, so a replayed event carries a plain str.
        self.escalation_route = EscalationRoute(route)
        self.escalation_reason = reason

    def _decide(self, plan_id: UUID, status: PlanStatus, rejection_reason: str | None) -> None:
        self.plans = tuple(
            dataclasses.replace(plan, status=status, rejection_reason=rejection_reason)
            if plan.plan_id == plan_id
            else plan
            for plan in self.plans
        )

    def _plan_to_decide(self, actor: Actor, doing: str) -> RemedialPlan:
        self._check_commissioner(actor, doing)
        self._check_open()
        plan = self.plan_awaiting_decision
        if plan is None:
            raise NoPlanToDecide("the notice has no remedial plan awaiting a decision")
        return plan

    def _check_open(self) -> None:
        if not self.is_open:
            raise NoticeClosed(f"the notice was closed as {self.status}")

    def _check_commissioner(self, actor: Actor, doing: str) -> None:
        check_party(actor, self.council_organisation_id, self.trust_organisation_id, doing)

    def _check_provider(self, actor: Actor, doing: str) -> None:
        check_party(actor, self.trust_organisation_id, self.council_organisation_id, doing)
