"""End users' tokens: token stores, the verified claims of an access token, and local verification against a JWKS.

A *token store* holds one user's access and refresh token; the SDK reads it before a user call and writes refreshed
tokens back into it. Ways to give tokens (Stack's ``tokenStore`` options)::

    AsyncStackClientApp(project_id=..., token_store="memory")          # one shared store per project (the default)
    AsyncStackClientApp(project_id=..., token_store=TokenStore(access_token=..., refresh_token=...))
    AsyncStackClientApp(project_id=..., token_store=request)           # x-stack-auth / x-stack-access-token /
                                                                       # Authorization: Bearer of a request
    AsyncStackClientApp(project_id=..., token_store=None)              # every user call must pass tokens=
    AsyncStackClientApp(project_id=..., token_store="file")            # kept across runs (stack_auth.token_stores);
                                                                       # "keyring": in the OS keychain

    await app.current_user.get(tokens=request)                         # per call: a request, a TokenStore,
    await app.current_user.get(tokens={"access_token": a, "refresh_token": r})   # a mapping, SessionTokens,
    await app.current_user.get(tokens=access_token)                    # or a bare access token

Local verification (:meth:`AsyncStackServerApp.verify_access_token`) checks an ES256 signature against the project's
JWKS, the audience and issuer of the project (anonymous and restricted users only when asked), expiry and issue time
with a small leeway, and returns :class:`AccessTokenClaims`. PyJWT (extra ``jwt``) is imported on first use.

No token ever appears in a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

import attrs

from stack_auth._concurrency import AsyncLock, Lock
from stack_auth._config import REFRESH_IF_EXPIRES_WITHIN_SECONDS, REFRESH_IF_ISSUED_MORE_THAN_SECONDS_AGO
from stack_auth._exceptions import (
    APIConnectionError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidTokenError,
    MalformedTokenError,
    StackAuthApiError,
    TokenAlgorithmError,
    TokenAudienceError,
    TokenClaimsError,
    TokenExpiredError,
    TokenIssuerError,
    TokenNotYetValidError,
    TokenSignatureError,
)
from stack_auth.models import NOT_GIVEN, NotGiven, SessionTokens

if TYPE_CHECKING:
    from jwt import PyJWK

__all__ = [
    "AccessTokenClaims",
    "RequestLike",
    "TokenStore",
    "TokenStoreInit",
    "TokensInput",
    "access_token_from_headers",
    "memory_token_store",
]

# Seconds. The JWKS is cached for its Cache-Control max-age, kept within these bounds (a no-store answer must not
# turn every verification into a fetch; a year-long max-age must not pin a rotated key set).
JWKS_DEFAULT_TTL: Final = 300.0
JWKS_MIN_TTL: Final = 30.0
JWKS_MAX_TTL: Final = 24 * 3600.0
# An unknown ``kid`` refetches the JWKS at most this often: random kids must not make us hammer the server.
JWKS_REFETCH_INTERVAL: Final = 30.0
# Clock skew tolerated on exp, iat and nbf.
VERIFY_LEEWAY_SECONDS: Final = 5.0
# Stack's access tokens are well under 2 KB; anything much larger is garbage we refuse before parsing.
MAX_TOKEN_LENGTH: Final = 8192
# Stores kept for tokens given per call (keyed by refresh token), so a refresh is reused by the next call.
PER_CALL_STORE_CACHE_SIZE: Final = 1024

logger = logging.getLogger("stack_auth")

ALGORITHM: Final = "ES256"
UserType = Literal["normal", "restricted", "anonymous"]
_ISSUER_PATHS: Final[dict[UserType, str]] = {
    "normal": "/api/v1/projects/",
    "restricted": "/api/v1/projects-restricted-users/",
    "anonymous": "/api/v1/projects-anonymous-users/",
}
_AUDIENCE_SUFFIXES: Final[dict[UserType, str]] = {"normal": "", "restricted": ":restricted", "anonymous": ":anon"}


# --- claims --------------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _utc(seconds: Any) -> datetime | None:
    value = _number(seconds)
    return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)


@attrs.frozen
class AccessTokenClaims:
    """The verified claims of an access token, named like the user models (``user.id``, ``user.primary_email``).

    ``session_id`` is the id of the session (refresh token) the token belongs to; ``claims`` has every claim as sent.
    The data is as fresh as the token (at most its lifetime, 10 minutes by default); for the current state of the
    user, use ``get_user_from_token``.
    """

    id: str
    project_id: str
    user_type: UserType
    issued_at: datetime
    expires_at: datetime
    primary_email: str | None = None
    primary_email_verified: bool = False
    display_name: str | None = None
    selected_team_id: str | None = None
    is_anonymous: bool = False
    is_restricted: bool = False
    restricted_reason: Any = None
    requires_totp_mfa: bool = False
    signed_up_at: datetime | None = None
    session_id: str | None = None
    branch_id: str | None = None
    role: str | None = None
    claims: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_verified(cls, claims: Mapping[str, Any], project_id: str, user_type: UserType) -> AccessTokenClaims:
        """Build from claims whose signature, audience, issuer and times were checked."""

        def text(name: str) -> str | None:
            value = claims.get(name)
            return value if isinstance(value, str) else None

        issued_at = _utc(claims.get("iat"))
        expires_at = _utc(claims.get("exp"))
        if issued_at is None or expires_at is None:
            raise TokenClaimsError("the access token's iat and exp must be numbers")
        return cls(
            id=str(claims["sub"]),
            project_id=project_id,
            user_type=user_type,
            issued_at=issued_at,
            expires_at=expires_at,
            primary_email=text("email"),
            primary_email_verified=claims.get("email_verified") is True,
            display_name=text("name"),
            selected_team_id=text("selected_team_id"),
            is_anonymous=claims.get("is_anonymous") is True,
            is_restricted=claims.get("is_restricted") is True,
            restricted_reason=claims.get("restricted_reason"),
            requires_totp_mfa=claims.get("requires_totp_mfa") is True,
            signed_up_at=_utc(claims.get("signed_up_at")),
            session_id=text("refresh_token_id"),
            branch_id=text("branch_id"),
            role=text("role"),
            claims=dict(claims),
        )


# --- reading tokens before (or without) verifying them ---------------------------------------------------------


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _segments(token: object) -> list[str]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedTokenError("the access token is empty, too long or not a string")
    parts = token.split(".")
    # An empty signature is left to the algorithm check: ``alg: none`` tokens end with a bare dot.
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise MalformedTokenError("the access token is not a JWT (three base64url segments)")
    return parts


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(_b64decode(segment))
    except (ValueError, binascii.Error, RecursionError):
        raise MalformedTokenError(f"the access token's {what} is not base64url-encoded JSON") from None
    if not isinstance(data, dict):
        raise MalformedTokenError(f"the access token's {what} is not a JSON object")
    return data


def precheck(token: object, project_id: str, types: tuple[UserType, ...]) -> str:
    """The ``kid`` to verify ``token`` with, after the checks that need no key: the header must ask for ES256 and
    name a key, and the (not yet verified) audience must be this project's for an accepted user type. This only ever
    refuses, never accepts: it spares a JWKS fetch for garbage and for other projects' or user types' tokens."""
    header_segment, payload_segment, _ = _segments(token)
    header = _json_segment(header_segment, "header")
    if header.get("alg") != ALGORITHM:
        raise TokenAlgorithmError("the access token is not signed with ES256 (only ES256 is accepted)")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedTokenError("the access token's header has no key id (kid)")
    check_audience(_json_segment(payload_segment, "payload").get("aud"), project_id, types)
    return kid


def check_audience(aud: object, project_id: str, types: tuple[UserType, ...]) -> UserType:
    """The user type an audience stands for, if it is this project's and the type is accepted; else refuse."""
    token_type = next((t for t, suffix in _AUDIENCE_SUFFIXES.items() if aud == project_id + suffix), None)
    if token_type is None:
        raise TokenAudienceError("the access token is for another project")
    if token_type not in types:
        flag = "allow_anonymous" if token_type == "anonymous" else "allow_restricted"
        raise TokenAudienceError(f"the access token is a {token_type} user's; pass {flag}=True to accept those")
    return token_type


def unverified_times(token: str) -> tuple[float, float] | None:
    """``(iat, exp)`` of a token, read without verification (for refresh timing only), or None if unreadable."""
    try:
        payload = _json_segment(_segments(token)[1], "payload")
    except MalformedTokenError:
        return None
    iat, exp = _number(payload.get("iat")), _number(payload.get("exp"))
    return None if iat is None or exp is None else (iat, exp)


# --- verification --------------------------------------------------------------------------------------------------


def issuer_origin(base_url: str) -> str:
    """``scheme://host[:port]`` of the API URL: Stack builds issuers as ``new URL("/api/v1/projects/<id>", base)``."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def accepted_user_types(allow_anonymous: bool, allow_restricted: bool) -> tuple[UserType, ...]:
    """Normal users always; restricted ones when asked; anonymous ones when asked (which, as on Stack, implies
    restricted ones: an anonymous user is less authenticated than a restricted one)."""
    if allow_anonymous:
        return ("normal", "restricted", "anonymous")
    if allow_restricted:
        return ("normal", "restricted")
    return ("normal",)


def parse_jwks(data: Any) -> dict[str, PyJWK]:
    """The usable keys of a JWKS answer by ``kid``: EC P-256 keys for ES256; anything else is left out."""
    import jwt

    keys: dict[str, PyJWK] = {}
    items = data.get("keys") if isinstance(data, dict) else None
    for jwk in items if isinstance(items, list) else ():
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk, ALGORITHM)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
    return keys


def cache_seconds(cache_control: str | None) -> float:
    """How long to keep a JWKS answer, from its ``Cache-Control`` (``max-age``; ``no-store``/``no-cache`` = the
    minimum), within [JWKS_MIN_TTL, JWKS_MAX_TTL]."""
    ttl = JWKS_DEFAULT_TTL
    for directive in (cache_control or "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return JWKS_MIN_TTL
        if name == "max-age":
            try:
                ttl = float(value.strip().strip('"'))
            except ValueError:
                continue
    return min(max(ttl, JWKS_MIN_TTL), JWKS_MAX_TTL)


def verify_token(
    token: str,
    key: PyJWK,
    *,
    project_id: str,
    base_url: str,
    allow_anonymous: bool,
    allow_restricted: bool,
) -> AccessTokenClaims:
    """Verify ``token`` with ``key`` (its ``kid``'s JWK): signature (ES256 only), then exp/iat/nbf with
    :data:`VERIFY_LEEWAY_SECONDS`, then the audience and issuer of one accepted user type, which must agree with
    each other and with the token's ``is_anonymous``/``is_restricted`` claims."""
    import jwt

    types = accepted_user_types(allow_anonymous, allow_restricted)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            leeway=VERIFY_LEEWAY_SECONDS,
            # aud, iss and sub are checked below, where the user type and our error types are known.
            options={
                "require": ["sub", "exp", "iat", "aud", "iss"],
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
            },
        )
    except jwt.InvalidAlgorithmError:
        raise TokenAlgorithmError("the access token is not signed with ES256 (only ES256 is accepted)") from None
    except jwt.InvalidSignatureError:
        raise TokenSignatureError("the access token's signature does not match the project's key") from None
    except jwt.ExpiredSignatureError:
        raise TokenExpiredError("the access token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenNotYetValidError("the access token is not valid yet (issued in the future)") from None
    except (jwt.MissingRequiredClaimError, jwt.InvalidIssuedAtError):
        raise TokenClaimsError("the access token lacks a required claim (sub, exp, iat, aud, iss)") from None
    except jwt.PyJWTError:
        raise MalformedTokenError("the access token could not be decoded") from None

    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenClaimsError("the access token's subject (sub) is not a user id")
    token_type = check_audience(claims["aud"], project_id, types)
    if claims["iss"] != issuer_origin(base_url) + _ISSUER_PATHS[token_type] + project_id:
        raise TokenIssuerError("the access token was not issued by this project's Stack API")
    if (claims.get("is_anonymous") is True) != (token_type == "anonymous") or (
        token_type == "restricted" and claims.get("is_restricted") is not True
    ):
        raise TokenClaimsError("the access token's user flags do not match its audience")
    return AccessTokenClaims.from_verified(claims, project_id, token_type)


# --- token stores --------------------------------------------------------------------------------------------------


class HeadersLike(Protocol):
    def get(self, key: str, /) -> Any: ...


class RequestLike(Protocol):
    """Any request object with a ``headers`` mapping: Starlette/FastAPI, Flask, Django, httpx, ..."""

    @property
    def headers(self) -> Any: ...


def _header(headers: HeadersLike, name: str) -> str | None:
    value = headers.get(name)
    if value is None and isinstance(headers, Mapping):  # a plain dict: header names in any case
        value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None)
    return value if isinstance(value, str) else None


def _stack_auth_header(value: str) -> tuple[str | None, str | None]:
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        raise MalformedTokenError("the x-stack-auth header is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedTokenError('the x-stack-auth header must be {"accessToken": ..., "refreshToken": ...}')
    access, refresh = data.get("accessToken"), data.get("refreshToken")
    if not isinstance(access, (str, type(None))) or not isinstance(refresh, (str, type(None))):
        raise MalformedTokenError("the tokens in the x-stack-auth header must be strings")
    return access or None, refresh or None


def tokens_from_headers(headers: HeadersLike) -> tuple[str | None, str | None]:
    """``(access_token, refresh_token)`` from request headers, first found of: ``x-stack-auth`` (JSON
    ``{"accessToken", "refreshToken"}``), ``x-stack-access-token`` (+ ``x-stack-refresh-token``),
    ``Authorization: Bearer``. A malformed ``x-stack-auth`` raises :class:`~stack_auth.errors.MalformedTokenError`
    (it is never skipped in favour of another header)."""
    combined = _header(headers, "x-stack-auth")
    if combined is not None:
        return _stack_auth_header(combined)
    access = _header(headers, "x-stack-access-token")
    if access:
        return access, _header(headers, "x-stack-refresh-token") or None
    scheme, _, credentials = (_header(headers, "authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), None
    return None, None


def access_token_from_headers(headers: HeadersLike) -> str | None:
    """The access token of a request's headers (``x-stack-auth``, ``x-stack-access-token`` or ``Authorization:
    Bearer``), or None when there is none."""
    return tokens_from_headers(headers)[0]


class TokenStore:
    """One user's access and refresh token; thread-safe. The SDK writes refreshed tokens back into it.

    ``store = TokenStore(access_token=..., refresh_token=...)``; ``TokenStore.from_request(request)``;
    ``store.set(...)``, ``store.clear()``, ``store.auth_headers()`` (to forward the session to your own backend).
    """

    def __init__(self, access_token: str | None = None, refresh_token: str | None = None) -> None:
        for name, value in (("access_token", access_token), ("refresh_token", refresh_token)):
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(f"{name} must be a string or None, got {type(value).__name__}")
        self._guard = threading.Lock()
        self._access_token = access_token or None
        self._refresh_token = refresh_token or None
        self._times = unverified_times(access_token) if access_token else None
        self._received_at: float | None = None
        self._invalidated = False
        self._async_lock: AsyncLock | None = None
        self._thread_lock: Lock | None = None

    @classmethod
    def from_headers(cls, headers: HeadersLike) -> TokenStore:
        """A store with the tokens of request headers (those :func:`access_token_from_headers` reads); empty when
        there are none."""
        access, refresh = tokens_from_headers(headers)
        return cls(access, refresh)

    @classmethod
    def from_request(cls, request: RequestLike) -> TokenStore:
        """A store with the tokens of a request (anything with ``.headers``)."""
        return cls.from_headers(request.headers)

    @property
    def access_token(self) -> str | None:
        return self._access_token

    @property
    def refresh_token(self) -> str | None:
        return self._refresh_token

    def snapshot(self) -> tuple[str | None, str | None]:
        """``(access_token, refresh_token)`` as one consistent pair."""
        with self._guard:
            return self._access_token, self._refresh_token

    @property
    def is_empty(self) -> bool:
        """True when there is no token at all (signed out)."""
        access, refresh = self.snapshot()
        return access is None and refresh is None

    def set(self, access_token: str | None, refresh_token: str | NotGiven | None = NOT_GIVEN) -> None:
        """Replace the access token (and the refresh token, when given): e.g. after a sign-in."""
        with self._guard:
            self._access_token = access_token or None
            self._times = unverified_times(access_token) if access_token else None
            self._received_at = None
            if not isinstance(refresh_token, NotGiven):
                self._refresh_token = refresh_token or None
            self._invalidated = False

    def clear(self) -> None:
        """Forget both tokens (sign-out, or a refresh token the server refused)."""
        with self._guard:
            self._access_token = self._refresh_token = None
            self._times = self._received_at = None
            self._invalidated = True

    def store_refreshed(self, access_token: str, refresh_token: str | None) -> None:
        """Save tokens just received from a refresh; their age is then measured on our own clock (immune to skew)."""
        with self._guard:
            self._access_token = access_token
            self._times = unverified_times(access_token)
            self._received_at = time.monotonic()
            if refresh_token:
                self._refresh_token = refresh_token

    def adopt(self, access_token: str | None) -> None:
        """Take a caller's access token if it is newer than the one held (tokens given per call, cached by refresh
        token). A store whose refresh token was refused stays signed out."""
        if not access_token:
            return
        times = unverified_times(access_token)
        with self._guard:
            if self._invalidated or access_token == self._access_token or times is None:
                return
            if self._times is None or times[1] > self._times[1]:
                self._access_token, self._times, self._received_at = access_token, times, None

    def needs_refresh(self, access_token: str | None) -> bool:
        """Whether ``access_token`` (the one held, as read by the caller) should be refreshed before use: it expires
        within REFRESH_IF_EXPIRES_WITHIN_SECONDS or was issued more than REFRESH_IF_ISSUED_MORE_THAN_SECONDS_AGO."""
        with self._guard:
            if access_token is None or access_token != self._access_token:
                return access_token is None
            times, received_at = self._times, self._received_at
        if times is None:
            return False  # unreadable: the server will say, and a 401 refreshes
        iat, exp = times
        if received_at is not None:
            age = time.monotonic() - received_at
            remaining = (exp - iat) - age
        else:
            now = time.time()
            age, remaining = now - iat, exp - now
        return remaining < REFRESH_IF_EXPIRES_WITHIN_SECONDS or age > REFRESH_IF_ISSUED_MORE_THAN_SECONDS_AGO

    def auth_headers(self) -> dict[str, str]:
        """``{"x-stack-auth": '{"accessToken": ..., "refreshToken": ...}'}`` to send the session to your backend."""
        access, refresh = self.snapshot()
        return {"x-stack-auth": json.dumps({"accessToken": access, "refreshToken": refresh})}

    @property
    def async_refresh_lock(self) -> AsyncLock:
        """Serializes refreshes of this store among tasks (single flight)."""
        with self._guard:
            if self._async_lock is None:
                self._async_lock = AsyncLock()
            return self._async_lock

    @property
    def refresh_lock(self) -> Lock:
        """Serializes refreshes of this store among threads (single flight)."""
        with self._guard:
            if self._thread_lock is None:
                self._thread_lock = Lock()
            return self._thread_lock

    def __repr__(self) -> str:
        access, refresh = self.snapshot()
        held = [name for name, value in (("access", access), ("refresh", refresh)) if value]
        return f"<TokenStore {' + '.join(held) + ' token' if held else 'empty'}>"


#: What ``tokens=`` accepts.
TokensInput: TypeAlias = "TokenStore | SessionTokens | Mapping[str, Any] | str | RequestLike"
#: What ``token_store=`` accepts.
TokenStoreInit: TypeAlias = "Literal['memory', 'file', 'keyring'] | TokensInput | None"

_memory_stores: dict[tuple[str, str], TokenStore] = {}
_memory_guard = threading.Lock()


def memory_token_store(project_id: str, base_url: str) -> TokenStore:
    """The process-wide in-memory store of a project (one per project and API URL, shared by its apps)."""
    with _memory_guard:
        return _memory_stores.setdefault((project_id, base_url.rstrip("/")), TokenStore())


def _pair_from_mapping(tokens: Mapping[str, Any]) -> tuple[str | None, str | None]:
    access = tokens.get("access_token", tokens.get("accessToken"))
    refresh = tokens.get("refresh_token", tokens.get("refreshToken"))
    if not isinstance(access, (str, type(None))) or not isinstance(refresh, (str, type(None))):
        raise InvalidArgumentError("tokens must map 'access_token' and 'refresh_token' to strings or None")
    if access is None and refresh is None and tokens:
        raise InvalidArgumentError("tokens must have 'access_token' and/or 'refresh_token' keys")
    return access or None, refresh or None


def token_pair(tokens: TokensInput) -> tuple[str | None, str | None]:
    """``(access_token, refresh_token)`` of tokens given as SessionTokens, a mapping, a bare access token or a
    request."""
    if isinstance(tokens, TokenStore):
        return tokens.snapshot()
    if isinstance(tokens, SessionTokens):
        return tokens.access_token, tokens.refresh_token
    if isinstance(tokens, str):
        return tokens or None, None
    if isinstance(tokens, Mapping):
        return _pair_from_mapping(tokens)
    if hasattr(tokens, "headers"):
        return tokens_from_headers(tokens.headers)
    raise InvalidArgumentError(
        "tokens must be a TokenStore, SessionTokens, a mapping with access_token/refresh_token, an access token "
        f"string, or a request with headers; got {type(tokens).__name__}"
    )


class StoreResolver:
    """Turns what a caller passed as tokens into a :class:`TokenStore`. Tokens given per call with a refresh token
    get a cached store (LRU, keyed by a hash of the refresh token), so a refresh made for one call serves the next
    ones instead of refreshing again; Stack's spec asks every store to keep refreshed tokens."""

    def __init__(self, capacity: int = PER_CALL_STORE_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._stores: collections.OrderedDict[bytes, TokenStore] = collections.OrderedDict()
        self._guard = threading.Lock()

    def store_for(self, tokens: TokensInput) -> TokenStore:
        if isinstance(tokens, TokenStore):
            return tokens
        access, refresh = token_pair(tokens)
        if refresh is None:
            return TokenStore(access, None)
        key = hashlib.sha256(refresh.encode()).digest()
        with self._guard:
            store = self._stores.get(key)
            if store is None:
                store = self._stores[key] = TokenStore(access, refresh)
                if len(self._stores) > self._capacity:
                    self._stores.popitem(last=False)
            else:
                self._stores.move_to_end(key)
        store.adopt(access)
        return store


def resolve_default_store(init: TokenStoreInit, project_id: str, base_url: str) -> TokenStore | None:
    """The app-wide store of a ``token_store=`` option (None: every user call must pass ``tokens=``)."""
    if init is None:
        return None
    if init == "memory":
        return memory_token_store(project_id, base_url)
    if init in ("file", "keyring"):
        from stack_auth.token_stores import FileTokenStore, KeyringTokenStore

        return (
            FileTokenStore.default(project_id, base_url) if init == "file" else KeyringTokenStore(project_id, base_url)
        )
    if isinstance(init, TokenStore):
        return init
    if isinstance(init, str) and init.count(".") != 2:
        raise ConfigurationError(
            'token_store must be "memory", "file", "keyring", a TokenStore, tokens, a request or None'
        )
    return TokenStore(*token_pair(init))


# --- framework integrations (stack_auth.fastapi, .flask, .django) ------------------------------------------------

#: The answers of the framework integrations: what the client sees, never why in detail (no internals).
NOT_AUTHENTICATED = "Not authenticated"
INVALID_TOKEN = "Invalid or expired access token"
AUTH_UNAVAILABLE = "Authentication is temporarily unavailable"


def www_authenticate(invalid: bool) -> str:
    """The ``WWW-Authenticate`` header of a 401 (RFC 6750): no token, or a token that was refused."""
    return 'Bearer realm="stack-auth", error="invalid_token"' if invalid else 'Bearer realm="stack-auth"'


@attrs.frozen
class AuthFailure:
    """Why a request has no user, as the sync integrations answer it: 401 (no or refused token) or 503."""

    status: int
    detail: str
    headers: Mapping[str, str] = attrs.field(factory=dict)


def check_request(verify: Callable[[str], AccessTokenClaims], headers: HeadersLike) -> AccessTokenClaims | AuthFailure:
    """The verified user of a request's headers, or why there is none (sync integrations: Flask, Django)."""
    try:
        token = access_token_from_headers(headers)
        if token is None:
            return AuthFailure(401, NOT_AUTHENTICATED, {"WWW-Authenticate": www_authenticate(False)})
        return verify(token)
    except InvalidTokenError as exc:
        logger.debug("refused an access token: %s", exc)
        return AuthFailure(401, INVALID_TOKEN, {"WWW-Authenticate": www_authenticate(True)})
    except (APIConnectionError, StackAuthApiError) as exc:
        logger.warning("could not check an access token: %s", exc)
        return AuthFailure(503, AUTH_UNAVAILABLE)
