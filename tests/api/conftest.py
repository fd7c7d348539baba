"""A world to act in, per store: a running server, an admin, two councils with their trusts,
their people, and an auditor. Each spec drafts its own contracts in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.directory import add_admin
from api.settings import Settings
from domain.application import Trustledger
from tests.api.client import PASSWORD, Client
from tests.api.server import live_server
from tests.conftest import STORES, settings_for

ADMIN_EMAIL = "admin@operator.test"

# Who is turned away from a write, and how, by the roles the policy gives the action. Every
# table names someone from the other council or trust, who has the role but not the contract.
NOT_A_PARTY = [
    ("anonymous", 401),
    ("auditor", 403),
    ("admin", 403),
    ("other_commissioner", 403),
    ("other_provider", 403),
]
NOT_THE_COUNCIL = [
    ("anonymous", 401),
    ("provider", 403),
    ("auditor", 403),
    ("other_commissioner", 403),
]
NOT_THE_TRUST = [
    ("anonymous", 401),
    ("commissioner", 403),
    ("auditor", 403),
    ("other_provider", 403),
]


@dataclass
class World:
    url: str
    settings: Settings
    admin: Client
    sandwell: dict[str, Any]
    birmingham: dict[str, Any]
    commissioner: Client  # Sandwell's
    provider: Client  # Sandwell Children's Trust's
    other_commissioner: Client  # Birmingham's
    other_provider: Client  # Birmingham Children's Trust's
    auditor: Client
    auditor_id: str

    def anonymous(self) -> Client:
        return Client(self.url)

    def draft(self, **overrides: Any) -> dict[str, Any]:
        """Sandwell's contract with its trust, as drafted (ten years from 1 April 2018)."""
        body = {
            "trust_organisation_id": self.sandwell["trust_id"],
            "title": "Service delivery contract for children's social care",
            "term": {"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": [24]},
            "scope": ["front-door", "assessment", "child-protection", "children-in-care"],
            "contract_sums": {"2018-19": 5_800_000_000},
            **overrides,
        }
        response = self.commissioner.draft_contract(**body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def signed(self, **overrides: Any) -> dict[str, Any]:
        """A contract both parties have signed: live, unless its term is over or to come."""
        return self.signed_by_both(self.draft(**overrides))

    def signed_by_both(self, contract: dict[str, Any]) -> dict[str, Any]:
        first = self.commissioner.sign(contract["id"], f'"{contract["version"]}"')
        assert first.status_code == 200, first.text
        second = self.provider.sign(contract["id"], first.headers["ETag"])
        assert second.status_code == 200, second.text
        return dict(second.json())

    def person(self, who: str) -> Client:
        """A client by the name a denial table gives it: "anonymous", or a World field."""
        if who == "anonymous":
            return self.anonymous()
        client = getattr(self, who)
        assert isinstance(client, Client)
        return client

    def who(self, actor: dict[str, Any]) -> str:
        """Who an actor recorded in the ledger is, as the specs name Sandwell's people."""
        people = {
            (self.sandwell["council_id"], "commissioner"): "commissioner",
            (self.sandwell["trust_id"], "provider"): "provider",
        }
        return people.get((actor["organisation_id"], actor["role"]), "someone else")

    def version_of(self, contract: dict[str, Any]) -> int:
        response = self.commissioner.contract(contract["id"])
        assert response.status_code == 200, response.text
        return int(response.json()["version"])


def succeeded(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The body of a successful write, once its status is checked and its ETag is seen to be
    the version it shows (the contract's or the KPI series', when the body also names what
    was created)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    shown = body.get("contract", body.get("series", body))
    assert response.headers["ETag"] == f'"{shown["version"]}"'
    return body


def refused(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The problem details of a refused request, once checked to be of this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"/problems/{kind}"
    assert problem["status"] == status
    return problem


def denied(response: httpx.Response, status: int) -> None:
    """Refused at the door: 401 for no token, 403 for the wrong role or organisation."""
    refused(response, status, {401: "not-signed-in", 403: "not-allowed"}[status])


def _people(admin: Client, url: str, council: str, la: str, ons: str, trust: str) -> dict[str, Any]:
    council_org = admin.register_organisation(
        name=council, kind="council", la_number=la, ons_code=ons
    ).json()
    trust_org = admin.register_organisation(name=trust, kind="trust").json()
    slug = council.split()[0].lower()
    for email, org, role in [
        (f"commissioner@{slug}.test", council_org["id"], "commissioner"),
        (f"provider@{slug}-trust.test", trust_org["id"], "provider"),
    ]:
        created = admin.register_account(
            email=email, display_name=email, organisation_id=org, role=role
        )
        assert created.status_code == 201, created.text
    return {
        "council_id": council_org["id"],
        "trust_id": trust_org["id"],
        "commissioner": Client.signed_in(url, f"commissioner@{slug}.test"),
        "provider": Client.signed_in(url, f"provider@{slug}-trust.test"),
    }


@contextmanager
def open_world(store: str, tmp: Path) -> Iterator[World]:
    """A fresh ledger on this store, served on a free port and seeded with the world's people;
    the browser specs act in the same world as the HTTP specs."""
    for settings in settings_for(store, tmp):
        ledger = Trustledger(settings.ledger_env())
        try:
            add_admin(ledger, ADMIN_EMAIL, "Operator", PASSWORD)
        finally:
            ledger.close()
        with live_server(settings) as url:
            admin = Client.signed_in(url, ADMIN_EMAIL)
            sandwell = _people(
                admin,
                url,
                "Sandwell Metropolitan Borough Council",
                "333",
                "E08000028",
                "Sandwell Children's Trust",
            )
            birmingham = _people(
                admin,
                url,
                "Birmingham City Council",
                "330",
                "E08000025",
                "Birmingham Children's Trust",
            )
            dfe = admin.register_organisation(name="Department for Education", kind="audit_body")
            auditor = admin.register_account(
                email="auditor@dfe.test",
                display_name="DfE auditor",
                organisation_id=dfe.json()["id"],
                role="auditor",
            ).json()
            yield World(
                url=url,
                settings=settings,
                admin=admin,
                sandwell=sandwell,
                birmingham=birmingham,
                commissioner=sandwell["commissioner"],
                provider=sandwell["provider"],
                other_commissioner=birmingham["commissioner"],
                other_provider=birmingham["provider"],
                auditor=Client.signed_in(url, "auditor@dfe.test"),
                auditor_id=auditor["id"],
            )


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with open_world(request.param, tmp_path_factory.mktemp(request.param)) as world:
        yield world
