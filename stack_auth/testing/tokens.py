"""Access tokens: real ES256 JWTs with Stack's claims, a JWKS per project, and their verification.

Each project has key pairs per user type (normal, restricted, anonymous), two of each like a real server (the first
signs, both are published). Keys derive from the emulator's seed, so two emulators built with the same seed sign
and accept the same tokens. Verified tokens are cached (expiry is still checked on every use).

Token shape (``iss``/``aud`` per user type)::

    header  {"alg": "ES256", "kid": "<12 chars>"}
    payload {"sub", "project_id", "branch_id": "main", "refresh_token_id", "role": "authenticated", "name", "email",
             "email_verified", "selected_team_id", "signed_up_at", "is_anonymous", "is_restricted",
             "restricted_reason", "requires_totp_mfa", "iss": "{base_url}/api/v1/projects/{id}", "iat",
             "aud": "{id}", "exp"}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.types import Options

from stack_auth.testing import known
from stack_auth.testing.state import Clock, User

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_ISSUER_SUFFIX = {"normal": "", "restricted": "-restricted-users", "anonymous": "-anonymous-users"}
_AUDIENCE_SUFFIX = {"normal": "", "restricted": ":restricted", "anonymous": ":anon"}
_VERIFY_OPTIONS: Options = {
    "verify_exp": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_iat": False,
    "verify_nbf": False,
}
_CACHE_LIMIT = 50_000


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def user_type(user: User) -> str:
    """``normal``, ``restricted`` or ``anonymous``: picks the token's issuer, audience and key."""
    if user.is_anonymous:
        return "anonymous"
    if user.is_restricted:
        return "restricted"
    return "normal"


def issuer(base_url: str, project_id: str, kind: str = "normal") -> str:
    return f"{base_url.rstrip('/')}/api/v1/projects{_ISSUER_SUFFIX[kind]}/{project_id}"


def audience(project_id: str, kind: str = "normal") -> str:
    return f"{project_id}{_AUDIENCE_SUFFIX[kind]}"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_key: ec.EllipticCurvePublicKey
    project_id: str
    kind: str

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "kid": self.kid,
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }


class TokenService:
    """Signs and verifies the access tokens of every project of one emulator."""

    def __init__(self, seed: int | None, clock: Clock, lifetime: float) -> None:
        self._secret = (
            hashlib.sha256(f"stack-emulator:{seed}".encode()).digest() if seed is not None else os.urandom(32)
        )
        self._clock = clock
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], list[SigningKey]] = {}
        self._by_kid: dict[str, SigningKey] = {}
        self._verified: dict[str, dict[str, Any]] = {}

    def keys(self, project_id: str, kind: str) -> list[SigningKey]:
        """The two key pairs of ``project_id`` for user type ``kind`` (the first one signs)."""
        found = self._keys.get((project_id, kind))
        if found is not None:
            return found
        with self._lock:
            found = self._keys.get((project_id, kind))
            if found is None:
                found = [self._derive(project_id, kind, i) for i in range(2)]
                for key in found:
                    self._by_kid[key.kid] = key
                self._keys[(project_id, kind)] = found
            return found

    def _derive(self, project_id: str, kind: str, index: int) -> SigningKey:
        digest = hmac.new(self._secret, f"{project_id}|{kind}|{index}".encode(), hashlib.sha512).digest()
        private_value = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
        private_key = ec.derive_private_key(private_value, ec.SECP256R1())
        public_key = private_key.public_key()
        numbers = public_key.public_numbers()
        kid = _b64url(hashlib.sha256(numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")).digest())[:12]
        return SigningKey(kid, private_key, public_key, project_id, kind)

    def jwks(self, project_id: str, *, include_restricted: bool, include_anonymous: bool) -> dict[str, Any]:
        """``GET /projects/{id}/.well-known/jwks.json``: anonymous keys imply restricted ones, like Stack."""
        kinds = ["normal"]
        if include_restricted or include_anonymous:
            kinds.append("restricted")
        if include_anonymous:
            kinds.append("anonymous")
        return {"keys": [key.jwk() for kind in kinds for key in self.keys(project_id, kind)]}

    def issue(self, project_id: str, user: User, session_id: str, base_url: str) -> str:
        """A fresh access token for ``user`` in session ``session_id``."""
        kind = user_type(user)
        now = int(self._clock.now())
        payload = {
            "sub": user.id,
            "project_id": project_id,
            "branch_id": "main",
            "refresh_token_id": session_id,
            "role": "authenticated",
            "name": user.display_name,
            "email": user.primary_email,
            "email_verified": user.primary_email_verified,
            "selected_team_id": user.selected_team_id,
            "signed_up_at": user.signed_up_at // 1000,
            "is_anonymous": user.is_anonymous,
            "is_restricted": user.is_restricted,
            "restricted_reason": user.restricted_reason,
            "requires_totp_mfa": user.requires_totp_mfa,
            "iss": issuer(base_url, project_id, kind),
            "iat": now,
            "aud": audience(project_id, kind),
            "exp": now + int(self.lifetime),
        }
        key = self.keys(project_id, kind)[0]
        return jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": None})

    def decode(self, token: str) -> dict[str, Any]:
        """Verified claims of ``token``; raises UNPARSABLE_ACCESS_TOKEN or ACCESS_TOKEN_EXPIRED like Stack."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = claims
        exp = claims["exp"]
        if exp <= self._clock.now():
            aud = str(claims.get("aud", ""))
            raise known.access_token_expired(
                int(exp * 1000),
                aud.split(":")[0] or None,
                claims.get("sub"),
                claims.get("refresh_token_id"),
            )
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise known.unparsable_access_token() from None
        key = self._by_kid.get(str(header.get("kid")))
        if key is None or header.get("alg") != "ES256":
            raise known.unparsable_access_token()
        try:
            claims: dict[str, Any] = jwt.decode(token, key.public_key, algorithms=["ES256"], options=_VERIFY_OPTIONS)
        except jwt.PyJWTError:
            raise known.unparsable_access_token() from None
        aud = claims.get("aud")
        exp = claims.get("exp")
        if (
            not isinstance(aud, str)
            or not isinstance(claims.get("sub"), str)
            or isinstance(exp, bool)
            or not isinstance(exp, (int, float))
            or aud != audience(key.project_id, key.kind)
            or not str(claims.get("iss", "")).endswith(f"/api/v1/projects{_ISSUER_SUFFIX[key.kind]}/{key.project_id}")
            or bool(claims.get("is_anonymous")) != (key.kind == "anonymous")
        ):
            raise known.unparsable_access_token()
        return claims
