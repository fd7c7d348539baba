"""Signing in, and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.directory import ensure_account, ensure_organisation
from api.security import TokenSigner, load_signing_key
from api.settings import Settings
from domain.actor import Role
from domain.application import Trustledger
from domain.organisation import OrganisationKind
from tests.api.client import PASSWORD, Client
from tests.api.conftest import ADMIN_EMAIL, World
from tests.api.server import live_server


def server_key(world: World) -> Ed25519PrivateKey:
    return load_signing_key(None, None, world.settings.var_dir / "token-signing-key.pem")


def me_with(world: World, token: str) -> httpx.Response:
    return httpx.get(f"{world.url}/auth/me", headers={"Authorization": f"Bearer {token}"})


def account_id(world: World) -> str:
    return str(world.commissioner.get("/auth/me").json()["id"])


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
    signer = TokenSigner(server_key(world), "trustledger", "trustledger-api", 15)
    token, _ = signer.issue(UUID(account_id(world)), now=datetime.now(UTC) - timedelta(hours=1))

    refused = me_with(world, token)

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"].lower()


def test_a_token_not_yet_valid_is_refused(world: World) -> None:
    signer = TokenSigner(server_key(world), "trustledger", "trustledger-api", 15)
    token, _ = signer.issue(UUID(account_id(world)), now=datetime.now(UTC) + timedelta(hours=1))

    assert me_with(world, token).status_code == 401


def claims(world: World, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "sub": account_id(world),
        "iss": "trustledger",
        "aud": "trustledger-api",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }


def test_a_token_signed_with_another_key_is_refused(world: World) -> None:
    kid = TokenSigner(server_key(world), "trustledger", "trustledger-api", 15).key_id
    forged = jwt.encode(
        claims(world), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )

    assert me_with(world, forged).status_code == 401


def test_an_unsigned_token_alg_none_is_refused(world: World) -> None:
    kid = TokenSigner(server_key(world), "trustledger", "trustledger-api", 15).key_id
    unsigned = jwt.encode(claims(world), None, algorithm="none", headers={"kid": kid})

    assert me_with(world, unsigned).status_code == 401


def test_an_hmac_token_keyed_with_the_public_key_is_refused(world: World) -> None:
    key = server_key(world)
    kid = TokenSigner(key, "trustledger", "trustledger-api", 15).key_id
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT itself refuses to make this token, so build it by hand.
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    body = _b64(
        {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims(world).items()}
    )
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    assert me_with(world, confused).status_code == 401


def test_a_token_for_another_audience_or_unknown_key_id_is_refused(world: World) -> None:
    key = server_key(world)
    kid = TokenSigner(key, "trustledger", "trustledger-api", 15).key_id
    other_audience = jwt.encode(
        claims(world, aud="another-service"), key, algorithm="EdDSA", headers={"kid": kid}
    )
    unknown_kid = jwt.encode(claims(world), key, algorithm="EdDSA", headers={"kid": "0" * 16})

    assert me_with(world, other_audience).status_code == 401
    assert me_with(world, unknown_kid).status_code == 401


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


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
