"""Who may do what: one table of actions, the roles allowed each, and the organisation rule.

Roles are checked when a request arrives; the organisation rule is checked against the
aggregate itself, inside the same unit of work as the command, so a decision is never taken
on a stale read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from api.problems import Problem, forbidden
from domain.actor import Actor, Role

C, P, AU, AD = Role.COMMISSIONER, Role.PROVIDER, Role.AUDITOR, Role.ADMIN


class Scope(StrEnum):
    """Which contracts an allowed role may touch with the action."""

    PARTY = "party"  # the acting organisation is the contract's council or trust
    READER = "reader"  # a party, an auditor granted the contract, or an admin
    ANYONE = "anyone"  # not about one contract: any signed-in account with the role


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    scope: Scope


def _rule(scope: Scope, *roles: Role) -> Rule:
    return Rule(frozenset(roles), scope)


POLICY: dict[str, Rule] = {
    # contracts
    "contract.list": _rule(Scope.ANYONE, C, P, AU, AD),
    "contract.read": _rule(Scope.READER, C, P, AU, AD),
    "contract.draft": _rule(Scope.ANYONE, C),
    "contract.amend_draft": _rule(Scope.PARTY, C),
    "contract.sign": _rule(Scope.PARTY, C, P),
    "contract.propose_variation": _rule(Scope.PARTY, C, P),
    "contract.decide_variation": _rule(Scope.PARTY, C, P),
    "contract.govern": _rule(Scope.PARTY, C, P),
    "contract.set_obligation": _rule(Scope.PARTY, C),
    "contract.settle_obligation": _rule(Scope.PARTY, C),
    "contract.refer_reserved_matter": _rule(Scope.PARTY, P),
    "contract.decide_reserved_matter": _rule(Scope.PARTY, C),
    "contract.report_financial_position": _rule(Scope.PARTY, P),
    "contract.record_payment": _rule(Scope.PARTY, C),
    "contract.extend": _rule(Scope.PARTY, C),
    # The break clause and taking services back in house are the council's choices alone...
    "contract.end": _rule(Scope.PARTY, C),
    # ...but the termination clauses bind both sides, and either may record the term's end.
    "contract.expire": _rule(Scope.PARTY, C, P),
    "contract.terminate": _rule(Scope.PARTY, C, P),
    # performance notices
    "notice.read": _rule(Scope.READER, C, P, AU, AD),
    "notice.issue": _rule(Scope.PARTY, C),
    "notice.submit_remedial_plan": _rule(Scope.PARTY, P),
    "notice.decide": _rule(Scope.PARTY, C),
    # the KPI schedule and returns
    "indicator.read": _rule(Scope.ANYONE, C, P, AU, AD),
    "kpi.read": _rule(Scope.READER, C, P, AU, AD),
    "kpi.schedule": _rule(Scope.PARTY, C),
    "kpi.submit_return": _rule(Scope.PARTY, P),
    "kpi.restate": _rule(Scope.PARTY, P),
    "kpi.answer": _rule(Scope.PARTY, P),
    "kpi.query": _rule(Scope.PARTY, C),
    "kpi.accept": _rule(Scope.PARTY, C),
    # the public record: Ofsted's published inspections and the statutory interventions, the
    # same for everyone
    "public_record.read": _rule(Scope.ANYONE, C, P, AU, AD),
    "public_record.import": _rule(Scope.ANYONE, AD),
    # Interventions are the Secretary of State's and the DfE's acts, recorded from what they
    # published: the operator keeps them, as it imports Ofsted's tables.
    "public_record.record_intervention": _rule(Scope.ANYONE, AD),
    # dashboards, kept by the projection workers
    "dashboard.read": _rule(Scope.READER, C, P, AU, AD),
    "portfolio.read": _rule(Scope.ANYONE, C, P, AU, AD),  # each sees the contracts they may
    "activity.read": _rule(Scope.READER, C, P, AU, AD),
    "metrics.read": _rule(Scope.ANYONE, AD),
    # the audit log: hashes for anyone signed in; a leaf's event as its aggregate is read
    "audit.read": _rule(Scope.ANYONE, C, P, AU, AD),
    # the directory
    "organisation.read": _rule(Scope.ANYONE, C, P, AU, AD),
    "organisation.register": _rule(Scope.ANYONE, AD),
    "account.read": _rule(Scope.ANYONE, AD),
    "account.manage": _rule(Scope.ANYONE, AD),
}


@dataclass(frozen=True)
class Principal:
    """A signed-in account, as the policy sees it."""

    account_id: UUID
    organisation_id: str
    role: Role
    granted_contracts: frozenset[UUID]

    def actor(self, request_id: str | None) -> Actor:
        return Actor(
            user_id=str(self.account_id),
            organisation_id=self.organisation_id,
            role=self.role,
            request_id=request_id,
        )


def require_role(principal: Principal, action: str) -> Rule:
    rule = POLICY[action]
    if principal.role not in rule.roles:
        raise forbidden(f"a {principal.role} may not {action.split('.', 1)[1].replace('_', ' ')}")
    return rule


def require_access(
    principal: Principal, action: str, contract_id: UUID, parties: tuple[str, str]
) -> None:
    """The organisation rule, for an action on one contract whose parties are given."""
    rule = POLICY[action]
    is_party = principal.organisation_id in parties
    if rule.scope is Scope.PARTY and is_party:
        return
    if rule.scope is Scope.READER and (
        is_party
        or principal.role is Role.ADMIN
        or (principal.role is Role.AUDITOR and contract_id in principal.granted_contracts)
    ):
        return
    if rule.scope is Scope.ANYONE:
        return
    raise forbidden("your organisation is not a party to this contract")


def can_read(principal: Principal, contract_id: UUID, parties: tuple[str, str]) -> bool:
    try:
        require_access(principal, "contract.read", contract_id, parties)
    except Problem:
        return False
    return True
