"""Passwords (argon2id) and short-lived bearer tokens (EdDSA-signed JWTs).

Tokens are signed with an Ed25519 key and verified against EdDSA only, so `alg=none` and an
HMAC "signed" with the public key are refused; the key id, issuer and audience must match.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.settings import Settings
from projections.audit_log import Signer

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this when an account is unknown costs the same as a real check, so the
# response time does not reveal which emails have accounts.
_DECOY_HASH = _hasher.hash("no account has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, not yet valid or not ours."""


@dataclass(frozen=True)
class TokenClaims:
    account_id: UUID
    expires: datetime
    # A browser session's id (the web pages' session cookie): what its forms' CSRF tokens are
    # bound to. None in a bearer token from POST /auth/token.
    session_id: str | None = None


# Tokens verified and kept, most recently used last. A caller sends the same token with every
# request for its lifetime, so a few thousand cover every account signed in at once.
VERIFIED_TOKENS_KEPT = 4096


class TokenSigner:
    def __init__(self, key: Ed25519PrivateKey, issuer: str, audience: str, minutes: int) -> None:
        self._verified: OrderedDict[str, TokenClaims] = OrderedDict()
        self._verified_lock = threading.Lock()
        self._key = key
        self._public = key.public_key()
        self.key_id = key_id(self._public)
        self._issuer = issuer
        self._audience = audience
        self._lifetime = timedelta(minutes=minutes)

    def issue(
        self, account_id: UUID, now: datetime | None = None, session_id: str | None = None
    ) -> tuple[str, int]:
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "sub": str(account_id),
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": now + self._lifetime,
        }
        if session_id is not None:
            claims["sid"] = session_id
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.key_id})
        return token, int(self._lifetime.total_seconds())

    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this signer issued and that has not expired.

        A token that verified once is kept, by its exact text, until it expires: its signature,
        issuer and audience cannot change, and checking its Ed25519 signature again took 1.5%
        of a KPI return's CPU at concurrency 64 (py-spy, bench/http.py). A kept token is still
        refused from its expiry on, as PyJWT would refuse it."""
        with self._verified_lock:
            claims = self._verified.get(token)
            if claims is not None:
                self._verified.move_to_end(token)
        if claims is None:
            claims = self._verify_signed(token)
            with self._verified_lock:
                self._verified[token] = claims
                while len(self._verified) > VERIFIED_TOKENS_KEPT:
                    self._verified.popitem(last=False)
        # PyJWT's own rule: expired once `exp` is not after now.
        if claims.expires.timestamp() <= time.time():
            with self._verified_lock:
                self._verified.pop(token, None)
            raise InvalidToken("Signature has expired")
        return claims

    def _verify_signed(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.key_id:
                raise InvalidToken("the token was signed with a key this service does not know")
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp", "nbf", "iat", "iss", "aud"]},
            )
            return TokenClaims(
                account_id=UUID(claims["sub"]),
                expires=datetime.fromtimestamp(claims["exp"], UTC),
                session_id=str(claims["sid"]) if "sid" in claims else None,
            )
        except (jwt.PyJWTError, ValueError) as error:
            raise InvalidToken(str(error)) from error

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def derive_secret(self, purpose: bytes) -> bytes:
        """A secret for `purpose` derived from the signing key (HKDF), so that every process
        sharing the key shares it and no second secret has to be configured and kept."""
        raw = self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(raw)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_signing_key(pem: bytes | None, path: Path | None, generate_at: Path) -> Ed25519PrivateKey:
    """The configured key; failing that, one kept under var/ (generated on first use)."""
    if pem is None and path is not None:
        pem = path.read_bytes()
    if pem is None:
        if not generate_at.exists():
            generate_at.parent.mkdir(parents=True, exist_ok=True)
            fresh = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            generate_at.write_bytes(fresh)
            generate_at.chmod(0o600)
        pem = generate_at.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the token signing key must be an Ed25519 private key")
    return key


def audit_signer(settings: Settings) -> Signer:
    """The audit log's checkpoint signer, with the key from the settings (or var/)."""
    key = load_signing_key(
        settings.audit_key.get_secret_value().encode() if settings.audit_key else None,
        settings.audit_key_file,
        settings.var_dir / "audit-signing-key.pem",
    )
    return Signer(settings.audit_origin, key)
