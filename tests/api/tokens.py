"""Bearer tokens the service must refuse, made once for every spec that needs them.

Each maker forges a token for a real account of the world, so that the only thing wrong with
it is the one thing its name says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.security import TokenSigner, load_signing_key
from tests.api.conftest import World

ISSUER = "trustledger"
AUDIENCE = "trustledger-api"


def server_key(world: World) -> Ed25519PrivateKey:
    """The key the world's server signs its tokens with (kept under its var/)."""
    return load_signing_key(None, None, world.settings.var_dir / "token-signing-key.pem")


def signer(world: World) -> TokenSigner:
    return TokenSigner(server_key(world), ISSUER, AUDIENCE, 15)


def account_id(world: World) -> str:
    """The Sandwell commissioner's account: every forged token names a real one."""
    return str(world.commissioner.get("/auth/me").json()["id"])


def claims(world: World, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "sub": account_id(world),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }


def expired(world: World) -> str:
    token, _ = signer(world).issue(
        UUID(account_id(world)), now=datetime.now(UTC) - timedelta(hours=1)
    )
    return token


def not_yet_valid(world: World) -> str:
    token, _ = signer(world).issue(
        UUID(account_id(world)), now=datetime.now(UTC) + timedelta(hours=1)
    )
    return token


def signed_with_another_key(world: World) -> str:
    kid = signer(world).key_id
    return jwt.encode(
        claims(world), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )


def unsigned(world: World) -> str:
    """`alg=none`: a token that claims to need no signature."""
    return jwt.encode(claims(world), None, algorithm="none", headers={"kid": signer(world).key_id})


def hmac_keyed_with_the_public_key(world: World) -> str:
    """The key confusion: HS256 "signed" with the server's public key, which anyone may hold.
    PyJWT itself refuses to make this token, so it is built by hand."""
    key = server_key(world)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": signer(world).key_id})
    body = _b64(
        {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims(world).items()}
    )
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def for_another_audience(world: World) -> str:
    return jwt.encode(
        claims(world, aud="another-service"),
        server_key(world),
        algorithm="EdDSA",
        headers={"kid": signer(world).key_id},
    )


def with_an_unknown_key_id(world: World) -> str:
    return jwt.encode(
        claims(world), server_key(world), algorithm="EdDSA", headers={"kid": "0" * 16}
    )


# Every way a token is refused, by name, for specs parametrised over them.
REFUSED_TOKENS: dict[str, Callable[[World], str]] = {
    "expired": expired,
    "not yet valid": not_yet_valid,
    "signed with another key": signed_with_another_key,
    "alg=none": unsigned,
    "HMAC keyed with the public key": hmac_keyed_with_the_public_key,
    "for another audience": for_another_audience,
    "with an unknown key id": with_an_unknown_key_id,
}


def me_with(world: World, token: str) -> httpx.Response:
    return httpx.get(f"{world.url}/auth/me", headers={"Authorization": f"Bearer {token}"})


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
