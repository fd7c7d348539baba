"""The token signer's keeping of verified tokens: a kept token is refused as a fresh one is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api import security
from api.security import InvalidToken, TokenSigner

ISSUER, AUDIENCE = "trustledger", "trustledger-api"


def test_a_token_verified_once_is_refused_from_its_expiry_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE, 15)
    account_id = uuid4()
    token, _ = signer.issue(account_id)
    claims = signer.verify(token)
    assert claims.account_id == account_id
    assert signer.verify(token) == claims

    expiry = claims.expires.timestamp()
    monkeypatch.setattr(security.time, "time", lambda: expiry)

    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token)


def test_a_token_another_key_signed_is_refused_even_after_ours_were_kept() -> None:
    ours = TokenSigner(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE, 15)
    theirs = TokenSigner(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE, 15)
    account_id = uuid4()
    ours.verify(ours.issue(account_id)[0])

    with pytest.raises(InvalidToken):
        ours.verify(theirs.issue(account_id)[0])


def test_an_expired_token_is_refused_every_time_it_is_sent() -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate(), ISSUER, AUDIENCE, 15)
    token, _ = signer.issue(uuid4(), now=datetime.now(UTC) - timedelta(hours=1))

    for _ in range(2):
        with pytest.raises(InvalidToken, match="expired"):
            signer.verify(token)
