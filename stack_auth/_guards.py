"""What the framework guards share (``stack_auth.fastapi``, ``.flask``, ``.django``): finding a request's API key,
and the answers for a missing or refused key and a missing permission.

An API key comes in ``X-Stack-Api-Key``, or as ``Authorization: Bearer <key>`` when the bearer credential is a Stack
API key (``sk_...``/``pk_...`` with Stack's marker) rather than a user's access token. Answers say what the client
must fix, never why in detail: a refused key is "invalid, revoked or expired" whichever it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from stack_auth._api_key_format import MARKER, KeyType
from stack_auth._exceptions import APIConnectionError, InvalidArgumentError, StackAuthApiError, StackAuthError
from stack_auth._known_errors import ApiKeyNotValid
from stack_auth.tokens import AUTH_UNAVAILABLE, AccessTokenClaims, AuthFailure, HeadersLike, check_request
from stack_auth.tokens import _header as header_value

if TYPE_CHECKING:
    from stack_auth._sync._app import StackServerApp
    from stack_auth.models import TeamApiKey, UserApiKey

logger = logging.getLogger("stack_auth")

API_KEY_HEADER = "x-stack-api-key"
API_KEY_REQUIRED = "API key required"
INVALID_API_KEY = "Invalid, revoked or expired API key"
PERMISSION_DENIED = "Permission denied"

#: The answer when the signed-in user lacks the permission a route needs.
FORBIDDEN = AuthFailure(403, PERMISSION_DENIED)


def _header(headers: HeadersLike, name: str) -> str | None:
    value = header_value(headers, name)
    return value.strip() if value is not None and value.strip() else None


def api_key_from_headers(headers: HeadersLike) -> str | None:
    """The API key a request carries (``X-Stack-Api-Key``, else a bearer credential that is a Stack API key)."""
    key = _header(headers, API_KEY_HEADER)
    if key is not None:
        return key
    scheme, _, credentials = (_header(headers, "authorization") or "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and "_" in credentials and MARKER in credentials:
        return credentials
    return None


def api_key_refusal(invalid: bool) -> AuthFailure:
    """401 for a request without an API key (``invalid=False``) or with one Stack refuses."""
    challenge = 'Bearer realm="stack-auth-api-key"' + (', error="invalid_token"' if invalid else "")
    return AuthFailure(401, INVALID_API_KEY if invalid else API_KEY_REQUIRED, {"WWW-Authenticate": challenge})


def check_failure(exc: StackAuthError, what: str, refused: AuthFailure) -> AuthFailure | None:
    """The answer for an error raised while checking ``what`` (a key, a permission); None: not ours, let it raise.

    A string that is not an API key, a key of the other kind, or a malformed id in the path is ``refused``; Stack
    unreachable or failing is 503.
    """
    if isinstance(exc, (InvalidArgumentError, ApiKeyNotValid)):
        logger.debug("refused %s: %s", what, exc)
        return refused
    if isinstance(exc, (APIConnectionError, StackAuthApiError)):
        logger.warning("could not check %s: %s", what, exc)
        return AuthFailure(503, AUTH_UNAVAILABLE)
    return None


def check_api_key(app: StackServerApp, headers: HeadersLike, kind: KeyType) -> UserApiKey | TeamApiKey | AuthFailure:
    """The valid API key of a request's headers, or the answer refusing it (sync integrations: Flask, Django)."""
    secret = api_key_from_headers(headers)
    if secret is None:
        return api_key_refusal(False)
    keys = app.user_api_keys if kind == "user" else app.team_api_keys
    try:
        key = keys.check(secret)
    except StackAuthError as exc:
        failure = check_failure(exc, "an API key", api_key_refusal(True))
        if failure is None:
            raise
        return failure
    return api_key_refusal(True) if key is None else key


def check_permission(
    app: StackServerApp, headers: HeadersLike, permission_id: str, holds: Callable[[str], bool]
) -> AccessTokenClaims | AuthFailure:
    """The request's verified user if ``holds(user_id)`` (one request to Stack) says they hold ``permission_id``,
    else the answer refusing the request: 401 signed out, 403 without the permission (sync integrations)."""
    claims = check_request(app.verify_access_token, headers)
    if isinstance(claims, AuthFailure):
        return claims
    try:
        return claims if holds(claims.id) else FORBIDDEN
    except StackAuthError as exc:
        failure = check_failure(exc, f"permission {permission_id!r}", FORBIDDEN)
        if failure is None:
            raise
        return failure


def server_app(app: object, what: str, hint: str) -> StackServerApp:
    """``app`` if it is a (sync) server app: permission and key checks need the secret server key."""
    from stack_auth._sync._app import StackServerApp

    if not isinstance(app, StackServerApp):
        raise RuntimeError(f"{what} needs a StackServerApp ({hint})")
    return app


def permission_arg(permission_id: object) -> str:
    """A permission id given to a guard, checked when the route is declared (not on its first request)."""
    if not isinstance(permission_id, str) or not permission_id:
        raise ValueError(f"permission_id must be a non-empty string, got {permission_id!r}")
    return permission_id


def key_kind(kind: object) -> KeyType:
    """The kind of API key a guard accepts, checked when the route is declared."""
    if kind == "user" or kind == "team":
        return kind
    raise ValueError(f'kind must be "user" or "team", got {kind!r}')
