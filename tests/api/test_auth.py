"""Signing in, and every way a token is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.directory import ensure_account, ensure_organisation
from api.settings import Settings
from domain.actor import Role
from domain.application import Trustledger
from domain.organisation import OrganisationKind
from tests.api import tokens
from tests.api.client import PASSWORD, Client
from tests.api.conftest import ADMIN_EMAIL, World
from tests.api.server import live_server
from tests.api.tokens import me_with


def test_a_person_signs_in_with_email_and_password_and_sees_their_account(world: World) -> None:
    me = world.commissioner.get("/auth/me")

    assert me.status_code == 200
    assert me.json()["role"] == "commissioner"
    assert me.json()["organisation_id"] == world.sandwell["council_id"]


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("commissioner@sandwell.test", "not the password"),
        ("nobody@nowhere.test", PASSWORD),
        ("", ""),
    ],
)
def test_a_wrong_password_or_unknown_email_is_refused_alike(
    world: World, email: str, password: str
) -> None:
    response = httpx.post(f"{world.url}/auth/token", data={"username": email, "password": password})

    assert response.status_code in (401, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert "access_token" not in response.text


def test_an_expired_token_is_refused(world: World) -> None:
    refused = me_with(world, tokens.expired(world))

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"].lower()


def test_a_token_not_yet_valid_is_refused(world: World) -> None:
    assert me_with(world, tokens.not_yet_valid(world)).status_code == 401


def test_a_token_signed_with_another_key_is_refused(world: World) -> None:
    assert me_with(world, tokens.signed_with_another_key(world)).status_code == 401


def test_an_unsigned_token_alg_none_is_refused(world: World) -> None:
    assert me_with(world, tokens.unsigned(world)).status_code == 401


def test_an_hmac_token_keyed_with_the_public_key_is_refused(world: World) -> None:
    assert me_with(world, tokens.hmac_keyed_with_the_public_key(world)).status_code == 401


def test_a_token_for_another_audience_or_unknown_key_id_is_refused(world: World) -> None:
    assert me_with(world, tokens.for_another_audience(world)).status_code == 401
    assert me_with(world, tokens.with_an_unknown_key_id(world)).status_code == 401


def test_disabling_an_account_stops_its_tokens_at_once(world: World) -> None:
    created = world.admin.register_account(
        email="leaver@sandwell.test",
        display_name="Leaver",
        organisation_id=world.sandwell["council_id"],
        role="commissioner",
    )
    leaver = Client.signed_in(world.url, "leaver@sandwell.test")
    assert leaver.get("/auth/me").status_code == 200

    disabled = world.admin.post(f"/accounts/{created.json()['id']}/disable", {"reason": "left"})

    assert disabled.status_code == 200
    assert leaver.get("/auth/me").status_code == 401
    assert leaver.contracts().status_code == 401


def test_demo_accounts_are_refused_outside_demo_mode(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, demo_mode=False)
    ledger = Trustledger(settings.ledger_env())
    try:
        council = ensure_organisation(
            ledger,
            "Sandwell Metropolitan Borough Council",
            OrganisationKind.COUNCIL,
            "333",
            "E08000028",
        )
        ensure_account(
            ledger,
            "commissioner@sandwell.demo",
            "Demo",
            council,
            Role.COMMISSIONER,
            "demo-password",
        )
        ensure_account(ledger, ADMIN_EMAIL, "Real person", council, Role.COMMISSIONER, PASSWORD)
    finally:
        ledger.close()

    with live_server(settings) as url:
        demo = httpx.post(
            f"{url}/auth/token",
            data={"username": "commissioner@sandwell.demo", "password": "demo-password"},
        )
        real = httpx.post(f"{url}/auth/token", data={"username": ADMIN_EMAIL, "password": PASSWORD})

    assert demo.status_code == 401
    assert "demo" in demo.json()["detail"]
    assert real.status_code == 200
