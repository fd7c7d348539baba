"""Who may call what: every endpoint of the route table, by every role, on a contract of their
own organisation and on another's, against what the policy table (api/policy.py) says.

The endpoints and their actions are read from the app, so a new endpoint is in the matrix as
soon as it exists; test_policy.py fails one that declares no action. A request the policy allows
must not be refused with 403, whatever else it meets (a 404 for an id that does not exist, a 409
or a 412 for a contract in another state); one it does not allow must be refused with 403 before
it changes anything. Requests the policy allows carry a stale If-Match, so that they prove the
door opened without changing the contracts the rest of the matrix asks about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.policy import POLICY, Rule, Scope
from api.settings import Settings
from domain.actor import Role
from tests.api.client import Client
from tests.api.conftest import World, succeeded
from tests.api.server import projection_workers
from tests.api.test_policy import OPEN, endpoints

OWN, OTHER = "own", "other"

# The people of the world by role, all of Sandwell (or, for the auditor, granted Sandwell's
# contract): "own" is Sandwell's contract, "other" is Birmingham's.
PEOPLE = {
    Role.COMMISSIONER: "commissioner",
    Role.PROVIDER: "provider",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "admin",
}

# A valid body for every write on one contract. The organisation rule is judged on the
# contract, after the body is validated, so a stranger sending a malformed body learns only
# that it is malformed (422); to see the rule itself, the body must be one the API accepts.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/contracts/{contract_id}"): {"title": "Renamed"},
    ("POST", "/contracts/{contract_id}/obligations"): {
        "description": "Ofsted judges the services Good or better",
        "due_on": "2027-03-31",
    },
    ("POST", "/contracts/{contract_id}/variations"): {
        "changes": {"contract_sums": {"2019-20": 6_300_000_000}},
        "rationale": "More children in care than planned",
    },
    ("POST", "/contracts/{contract_id}/variations/{variation_id}/rejection"): {"reason": "No"},
    ("POST", "/contracts/{contract_id}/boards"): {
        "kind": "operational-group",
        "name": "Operational performance group",
    },
    ("POST", "/contracts/{contract_id}/boards/{board_id}/meetings"): {
        "scheduled_for": "2026-06-12"
    },
    ("POST", "/contracts/{contract_id}/meetings/{meeting_id}/minutes"): {"held_on": "2019-06-12"},
    ("POST", "/contracts/{contract_id}/meetings/{meeting_id}/cancellation"): {"reason": "Ill"},
    ("POST", "/contracts/{contract_id}/actions/{action_id}/completion"): {
        "completed_on": "2019-07-01"
    },
    ("POST", "/contracts/{contract_id}/annual-reviews"): {
        "contract_year": "2018-19",
        "held_on": "2019-05-20",
        "outcome": "A steady first year",
    },
    ("POST", "/contracts/{contract_id}/obligations/{obligation_id}/met"): {
        "met_on": "2021-03-01",
        "evidence": "Ofsted's report",
    },
    ("POST", "/contracts/{contract_id}/obligations/{obligation_id}/missed"): {"reason": "Late"},
    ("POST", "/contracts/{contract_id}/reserved-matters"): {"subject": "Close a children's home"},
    ("POST", "/contracts/{contract_id}/reserved-matters/{matter_id}/refusal"): {"reason": "No"},
    ("POST", "/contracts/{contract_id}/financial-positions"): {
        "financial_year": "2018-19",
        "period": "Q3",
        "forecast_outturn": 6_020_000_000,
        "commentary": "External placements over budget",
    },
    ("POST", "/contracts/{contract_id}/payments"): {
        "amount": 483_333_333,
        "paid_on": "2018-04-30",
        "reference": "SCT-2018-04",
    },
    ("POST", "/contracts/{contract_id}/extension"): {"months": 24},
    ("POST", "/contracts/{contract_id}/break-clause-decisions"): {
        "used": False,
        "rationale": "Improving",
    },
    ("POST", "/contracts/{contract_id}/termination"): {
        "reason": "Persistent failure",
        "ends_on": "2027-03-31",
    },
    ("POST", "/contracts/{contract_id}/return-in-house"): {
        "reason": "Services are Good again",
        "ends_on": "2027-03-31",
    },
    ("POST", "/contracts/{contract_id}/local-indicators"): {
        "code": "visits_within_timescale",
        "title": "Visits within timescale",
        "unit": "percentage",
        "polarity": "higher-is-better",
        "decimals": 1,
        "has_fraction": True,
        "definition": "Children in care visited within the statutory timescale",
    },
    ("PUT", "/contracts/{contract_id}/kpi-schedule/{indicator_code}"): {
        "reference": "A1",
        "frequency": "annual",
        "due_working_days": 10,
        "targets": {"2024-25": "21.0"},
    },
    ("POST", "/contracts/{contract_id}/kpis/{indicator_code}/returns"): {
        "period": "2024-25",
        "value": "22.7",
        "numerator": 844,
        "denominator": 3723,
    },
    ("POST", "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/restatements"): {
        "value": "22.6",
        "numerator": 841,
        "denominator": 3723,
        "reason": "Duplicates merged",
    },
    ("POST", "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/queries"): {
        "question": "Why did re-referrals rise?"
    },
    (
        "POST",
        "/contracts/{contract_id}/kpis/{indicator_code}/returns/{period}/queries/{query_id}/answer",
    ): {"answer": "Domestic abuse referrals"},
    ("POST", "/contracts/{contract_id}/notices"): {
        "grounds": "Assessments within 45 working days fell to 61%",
        "clauses": ["7.2"],
        "remedy": "Restore timeliness to the 85% target",
        "issued_on": "2019-05-02",
        "response_due": "2019-05-30",
    },
    ("POST", "/notices/{notice_id}/remedial-plans"): {
        "summary": "Agency social workers for the assessment teams",
        "actions": [{"description": "Recruit eight agency social workers", "due": "2019-07-31"}],
    },
    ("POST", "/notices/{notice_id}/remedial-plans/rejection"): {"reason": "Not enough"},
    ("POST", "/notices/{notice_id}/escalation"): {
        "route": "dispute_resolution",
        "reason": "No plan",
    },
}

# Query parameters a read on one contract cannot do without.
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/contracts/{contract_id}/changes"): {"from": "2018-01-01T00:00:00Z"},
    ("GET", "/contracts/{contract_id}/kpis/{indicator_code}/history"): {"period": "2024-25"},
}

_PARAMETER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    action: str
    has_body: bool

    @property
    def rule(self) -> Rule:
        return POLICY[self.action]

    @property
    def about_one_contract(self) -> bool:
        return self.rule.scope is not Scope.ANYONE

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def guarded_endpoints(var_dir: Path) -> list[Endpoint]:
    """Every endpoint with a policy action, read from the app's route table."""
    bodies = {
        (method, context.path): context.original_route.body_field is not None
        for context in iter_route_contexts(create_app(Settings(var_dir=var_dir)).router.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.original_route.methods
    }
    return [
        Endpoint(method, path, next(iter(actions)), bodies[(method, path)])
        for method, path, actions in endpoints(var_dir)
        if (method, path) not in OPEN
    ]


def expected_refusal(rule: Rule, role: Role, whose: str) -> bool:
    """What the policy says: refused unless the role is allowed and, for an action on one
    contract, the caller's organisation is a party to it (or, for reading, the caller is an
    admin or an auditor granted it; ours is granted Sandwell's contract, not Birmingham's)."""
    if role not in rule.roles:
        return True
    if rule.scope is Scope.PARTY:
        return whose == OTHER
    if rule.scope is Scope.READER:
        return whose == OTHER and role is not Role.ADMIN
    return False


@dataclass(frozen=True)
class Contracts:
    """Ids to fill the paths with, for Sandwell's contract ("own") and Birmingham's ("other")."""

    ids: dict[str, dict[str, str]]
    bystander: str  # an account the admin's requests may touch without harming the world

    def path(self, template: str, whose: str) -> str:
        known = {
            **self.ids[whose],
            "account_id": self.bystander,
            "indicator_code": "rereferrals_12m",
            "indicator": "rereferrals_12m",
            "period": "2024-25",
            "la": "333",
            "index": "0",
        }
        return _PARAMETER.sub(lambda m: known.get(m[1]) or str(uuid4()), template)


def _signed(commissioner: Client, provider: Client, trust_id: str) -> dict[str, Any]:
    drafted = succeeded(
        commissioner.draft_contract(
            trust_organisation_id=trust_id,
            title="Service delivery contract for children's social care",
            term={"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": [24]},
            scope=["front-door", "assessment"],
            contract_sums={"2018-19": 5_800_000_000},
        ),
        201,
    )
    first = commissioner.sign(drafted["id"], f'"{drafted["version"]}"')
    assert first.status_code == 200, first.text
    second = provider.sign(drafted["id"], first.headers["ETag"])
    assert second.status_code == 200, second.text
    return dict(second.json())


@pytest.fixture(scope="module")
def workers(world: World) -> Iterator[None]:
    # The dashboards are read from the views the workers keep: a contract not yet on them is
    # not found, for its parties and strangers alike.
    with projection_workers(world.settings):
        yield


@pytest.fixture(scope="module")
def contracts(world: World, workers: None) -> Contracts:
    ids = {}
    for whose, commissioner, provider, trust_id in [
        (OWN, world.commissioner, world.provider, world.sandwell["trust_id"]),
        (OTHER, world.other_commissioner, world.other_provider, world.birmingham["trust_id"]),
    ]:
        contract = _signed(commissioner, provider, trust_id)
        issued = commissioner.issue_notice(
            contract["id"], **BODIES[("POST", "/contracts/{contract_id}/notices")]
        )
        notice = succeeded(issued, 201)
        ids[whose] = {"contract_id": contract["id"], "notice_id": notice["id"]}
        on_the_dashboards = commissioner.dashboard(
            contract["id"], min_position=issued.headers["Trustledger-Position"]
        )
        assert on_the_dashboards.status_code == 200, on_the_dashboards.text
    granted = world.admin.grant(world.auditor_id, ids[OWN]["contract_id"])
    assert granted.status_code in (200, 201), granted.text
    bystander = world.admin.register_account(
        email="bystander@sandwell.test",
        display_name="Bystander",
        organisation_id=world.sandwell["council_id"],
        role="commissioner",
    )
    assert bystander.status_code == 201, bystander.text
    return Contracts(ids, bystander.json()["id"])


def test_every_write_on_one_contract_has_a_valid_body_to_try(tmp_path: Path) -> None:
    needing = {
        (e.method, e.path)
        for e in guarded_endpoints(tmp_path)
        if e.about_one_contract and e.has_body
    }

    assert sorted(needing - BODIES.keys()) == []
    assert sorted(BODIES.keys() - needing) == []


def test_every_endpoint_admits_and_refuses_each_role_on_each_contract_as_the_policy_says(
    world: World, contracts: Contracts, tmp_path: Path
) -> None:
    wrong: list[str] = []
    tried = 0
    for endpoint in guarded_endpoints(tmp_path):
        for role, name in PEOPLE.items():
            person = world.person(name)
            for whose in (OWN, OTHER) if endpoint.about_one_contract else (OWN,):
                response = _request(person, endpoint, contracts.path(endpoint.path, whose))
                tried += 1
                refused = expected_refusal(endpoint.rule, role, whose)
                if refused and not _is_forbidden(response):
                    wrong.append(
                        f"{endpoint} by {name} on {whose}: {response.status_code}, not 403"
                    )
                if not refused and response.status_code in (401, 403):
                    wrong.append(f"{endpoint} by {name} on {whose}: refused {response.status_code}")

    assert "\n".join(wrong) == ""
    assert tried > 300


def _request(person: Client, endpoint: Endpoint, path: str) -> httpx.Response:
    template = (endpoint.method, endpoint.path)
    headers = {"If-Match": '"1"'} if endpoint.method != "GET" else {}
    return person.http.request(
        endpoint.method,
        path,
        json=BODIES.get(template),
        params=QUERIES.get(template),
        headers=headers,
    )


def _is_forbidden(response: httpx.Response) -> bool:
    return (
        response.status_code == 403
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["type"] == "/problems/not-allowed"
    )
