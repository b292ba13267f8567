"""FastAPI (and Starlette) integration: the signed-in user of a request, as a dependency; the Stack app's lifespan.

One Stack app per process, opened and closed with the web app::

    from fastapi import FastAPI
    from stack_auth import AsyncStackServerApp
    from stack_auth.fastapi import FreshUser, OptionalUser, VerifiedUser, stack_lifespan

    app = FastAPI(lifespan=stack_lifespan(AsyncStackServerApp.from_env))

    @app.get("/me")
    async def me(user: VerifiedUser) -> dict[str, str]:      # 401 unless a valid access token came
        return {"id": user.id}

    @app.get("/hello")
    async def hello(user: OptionalUser) -> str:              # None without a (valid) token
        return f"hello {user.display_name if user else 'stranger'}"

    @app.get("/profile")
    async def profile(user: FreshUser) -> dict[str, str]:    # the user fresh from Stack (one request)
        return {"plan": user.server_metadata["plan"]}

The token comes from the ``x-stack-auth`` header (JSON ``{"accessToken", "refreshToken"}``), else
``x-stack-access-token``, else ``Authorization: Bearer``. ``VerifiedUser`` and ``OptionalUser`` verify it locally
(:meth:`~stack_auth.AsyncStackServerApp.verify_access_token`, no request to Stack once the JWKS is cached). Refusals
are 401 with a ``WWW-Authenticate: Bearer`` header and a body that says nothing about why; Stack being unreachable is
503. Other user types: ``Annotated[AccessTokenClaims, Depends(require_user(allow_anonymous=True))]``.

Starlette: use ``stack_lifespan`` the same way and call ``await authenticate(request)`` (or the dependency
functions, which raise Starlette's ``HTTPException``) in endpoints.

Stack's webhooks, verified (extra ``webhooks``; the secret from ``STACK_WEBHOOK_SECRET`` unless given)::

    from stack_auth.fastapi import StackWebhook
    from stack_auth.webhooks import UserCreated

    @app.post("/webhooks/stack")
    async def stack_webhook(event: StackWebhook) -> None:     # 400 saying why unless verified
        if isinstance(event, UserCreated): ...

Your own secret or tolerance: ``Annotated[WebhookEvent, Depends(require_webhook(secret=..., tolerance=...))]``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends
from starlette.exceptions import HTTPException
from starlette.requests import Request

from stack_auth._api_key_format import KeyType
from stack_auth._async._app import AsyncStackServerApp
from stack_auth._async._client_app import AsyncStackClientApp
from stack_auth._concurrency import in_worker_thread
from stack_auth._exceptions import APIConnectionError, InvalidTokenError, StackAuthApiError, StackAuthError
from stack_auth._guards import FORBIDDEN, api_key_from_headers, api_key_refusal, check_failure, key_kind, permission_arg
from stack_auth.models import ServerUser, TeamApiKey, UserApiKey
from stack_auth.tokens import (
    AUTH_UNAVAILABLE,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    AccessTokenClaims,
    AuthFailure,
    access_token_from_headers,
    www_authenticate,
)
from stack_auth.webhooks import DEFAULT_TOLERANCE, WebhookEvent, WebhookVerificationError, verify_webhook

__all__ = [
    "FreshUser",
    "OptionalUser",
    "RequireApiKey",
    "RequireProjectPermission",
    "RequireTeamPermission",
    "StackWebhook",
    "TeamApiKeyAuth",
    "UserApiKeyAuth",
    "VerifiedUser",
    "authenticate",
    "fresh_user",
    "get_stack_app",
    "optional_user",
    "require_user",
    "require_webhook",
    "stack_lifespan",
    "verified_user",
]

logger = logging.getLogger("stack_auth")

StackApp = AsyncStackServerApp | AsyncStackClientApp
#: Where the lifespan puts the Stack app: lifespan state (``request.state``) and ``app.state``.
STATE_KEY = "stack_app"
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def stack_lifespan(stack_app: StackApp | Callable[[], StackApp], *, lifespan: Lifespan | None = None) -> Lifespan:
    """A lifespan that opens the Stack app at startup and closes it at shutdown: ``FastAPI(lifespan=...)``.

    ``stack_app`` is the app or a factory called at startup (``AsyncStackServerApp.from_env``: environment read when
    the server starts, not at import), in a worker thread: building an app imports the HTTP stack, which must not
    stall the event loop. ``lifespan``: your own lifespan, run inside; its state is kept.
    """

    @asynccontextmanager
    async def run(web_app: Any) -> AsyncIterator[dict[str, Any]]:
        if isinstance(stack_app, (AsyncStackServerApp, AsyncStackClientApp)):
            app = stack_app
        else:
            app = await in_worker_thread(stack_app)
        web_app.state.stack_app = app
        try:
            if lifespan is None:
                yield {STATE_KEY: app}
            else:
                async with lifespan(web_app) as inner:
                    yield {**(inner or {}), STATE_KEY: app}
        finally:
            await app.aclose()

    return run


def get_stack_app(request: Request) -> StackApp:
    """The Stack app of the running web app (set by :func:`stack_lifespan`); usable as a dependency."""
    app = getattr(request.state, STATE_KEY, None) or getattr(request.app.state, STATE_KEY, None)
    if not isinstance(app, (AsyncStackServerApp, AsyncStackClientApp)):
        raise RuntimeError("no Stack app: create the web app with lifespan=stack_lifespan(AsyncStackServerApp...)")
    return app


def _unauthorized(invalid: bool) -> HTTPException:
    detail = INVALID_TOKEN if invalid else NOT_AUTHENTICATED
    return HTTPException(401, detail, headers={"WWW-Authenticate": www_authenticate(invalid)})


def _unavailable(exc: Exception) -> HTTPException:
    logger.warning("could not check an access token: %s", exc)
    return HTTPException(503, AUTH_UNAVAILABLE)


async def authenticate(
    request: Request, *, allow_anonymous: bool = False, allow_restricted: bool = False
) -> AccessTokenClaims | None:
    """The verified claims of the request's access token; None without a token. A refused token raises
    :class:`~stack_auth.errors.InvalidTokenError`; Stack being unreachable raises its connection or API error."""
    token = access_token_from_headers(request.headers)
    if token is None:
        return None
    app = get_stack_app(request)
    return await app.verify_access_token(token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)


async def _checked(
    request: Request, *, optional: bool, allow_anonymous: bool = False, allow_restricted: bool = False
) -> AccessTokenClaims | None:
    try:
        claims = await authenticate(request, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)
    except InvalidTokenError as exc:
        logger.debug("refused an access token: %s", exc)
        if optional:
            return None
        raise _unauthorized(True) from None
    except (APIConnectionError, StackAuthApiError) as exc:
        raise _unavailable(exc) from None
    if claims is None and not optional:
        raise _unauthorized(False)
    return claims


def require_user(
    *, optional: bool = False, allow_anonymous: bool = False, allow_restricted: bool = False
) -> Callable[[Request], Awaitable[AccessTokenClaims | None]]:
    """A dependency giving the verified user (401 without one; None instead when ``optional``), accepting
    anonymous or restricted users when asked."""

    async def dependency(request: Request) -> AccessTokenClaims | None:
        return await _checked(
            request, optional=optional, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted
        )

    return dependency


async def verified_user(request: Request) -> AccessTokenClaims:
    """Dependency: the verified user of the request, else 401."""
    claims = await _checked(request, optional=False)
    if claims is None:
        raise _unauthorized(False)
    return claims


async def optional_user(request: Request) -> AccessTokenClaims | None:
    """Dependency: the verified user of the request, or None (no token, or a refused one)."""
    return await _checked(request, optional=True)


async def fresh_user(request: Request) -> ServerUser:
    """Dependency: the request's user fresh from Stack (``GET /users/me``: one request), else 401. Needs an
    :class:`~stack_auth.AsyncStackServerApp`."""
    app = get_stack_app(request)
    if not isinstance(app, AsyncStackServerApp):
        raise RuntimeError("FreshUser needs an AsyncStackServerApp in stack_lifespan(...)")
    try:
        token = access_token_from_headers(request.headers)
    except InvalidTokenError:
        raise _unauthorized(True) from None
    if token is None:
        raise _unauthorized(False)
    try:
        user = await app.get_user_from_token(token)
    except (APIConnectionError, StackAuthApiError) as exc:
        raise _unavailable(exc) from None
    if user is None:
        raise _unauthorized(True)
    return user


#: ``user: VerifiedUser``: the verified claims of the request's access token; 401 without a valid one.
VerifiedUser = Annotated[AccessTokenClaims, Depends(verified_user)]
#: ``user: OptionalUser``: the verified claims, or None.
OptionalUser = Annotated[AccessTokenClaims | None, Depends(optional_user)]
#: ``user: FreshUser``: the user as Stack has it now (``GET /users/me``); 401 without a valid token.
FreshUser = Annotated[ServerUser, Depends(fresh_user)]


# --- permissions and API keys ---------------------------------------------------------------------------------------


def _http(failure: AuthFailure) -> HTTPException:
    return HTTPException(failure.status, failure.detail, headers=dict(failure.headers) or None)


def _server_app(request: Request, what: str) -> AsyncStackServerApp:
    app = get_stack_app(request)
    if not isinstance(app, AsyncStackServerApp):
        raise RuntimeError(f"{what} needs an AsyncStackServerApp in stack_lifespan(...)")
    return app


class _RequirePermission:
    """The signed-in user (verified access token; 401 otherwise), if they hold a permission (403 otherwise)."""

    def __init__(self, permission_id: str) -> None:
        self.permission_id = permission_arg(permission_id)

    async def _holds(self, app: AsyncStackServerApp, request: Request, user_id: str) -> bool:
        raise NotImplementedError

    async def __call__(self, request: Request) -> AccessTokenClaims:
        claims = await verified_user(request)
        app = _server_app(request, type(self).__name__)
        try:
            holds = await self._holds(app, request, claims.id)
        except StackAuthError as exc:
            failure = check_failure(exc, f"permission {self.permission_id!r}", FORBIDDEN)
            if failure is None:
                raise
            raise _http(failure) from None
        if not holds:
            raise _http(FORBIDDEN)
        return claims


class RequireTeamPermission(_RequirePermission):
    """Dependency: the signed-in user, if they hold a team permission in the team of the path (401 signed out, 403
    without it), checked recursively as Stack does (``app.teams.has_permission``: one request)::

        @app.patch("/teams/{team_id}")
        async def rename(team_id: str, user: Annotated[AccessTokenClaims, Depends(RequireTeamPermission(
                "$update_team", team_id_param="team_id"))]) -> ...
    """

    def __init__(self, permission_id: str, *, team_id_param: str = "team_id") -> None:
        super().__init__(permission_id)
        self.team_id_param = team_id_param

    async def _holds(self, app: AsyncStackServerApp, request: Request, user_id: str) -> bool:
        team_id = request.path_params.get(self.team_id_param)
        if team_id is None:
            raise RuntimeError(f"RequireTeamPermission: the route has no path parameter {self.team_id_param!r}")
        return await app.teams.has_permission(team_id, user_id, self.permission_id)


class RequireProjectPermission(_RequirePermission):
    """Dependency: the signed-in user, if they hold a project permission (401 signed out, 403 without it)::

    @app.get("/admin/stats", dependencies=[Depends(RequireProjectPermission("admin"))])
    """

    async def _holds(self, app: AsyncStackServerApp, request: Request, user_id: str) -> bool:
        return await app.users.has_permission(user_id, self.permission_id)


class RequireApiKey:
    """Dependency for machine clients: the valid user (or team) API key of the request, else 401.

    The key comes in ``X-Stack-Api-Key`` or ``Authorization: Bearer sk_...`` and is checked with Stack
    (``app.user_api_keys.check``: one request); unknown, revoked and expired keys, and keys of the other kind, are
    refused alike. ``key: UserApiKeyAuth`` and ``key: TeamApiKeyAuth`` are the ready-made forms.
    """

    def __init__(self, kind: KeyType = "user") -> None:
        self.kind = key_kind(kind)

    async def __call__(self, request: Request) -> UserApiKey | TeamApiKey:
        app = _server_app(request, "RequireApiKey")
        secret = api_key_from_headers(request.headers)
        if secret is None:
            raise _http(api_key_refusal(False))
        keys = app.user_api_keys if self.kind == "user" else app.team_api_keys
        try:
            key = await keys.check(secret)
        except StackAuthError as exc:
            failure = check_failure(exc, "an API key", api_key_refusal(True))
            if failure is None:
                raise
            raise _http(failure) from None
        if key is None:
            raise _http(api_key_refusal(True))
        return key


#: ``key: UserApiKeyAuth``: the request's valid user API key (``key.user_id`` is its user); 401 otherwise.
UserApiKeyAuth = Annotated[UserApiKey, Depends(RequireApiKey("user"))]
#: ``key: TeamApiKeyAuth``: the request's valid team API key (``key.team_id`` is its team); 401 otherwise.
TeamApiKeyAuth = Annotated[TeamApiKey, Depends(RequireApiKey("team"))]


def require_webhook(
    secret: str | None = None, *, tolerance: timedelta = DEFAULT_TOLERANCE
) -> Callable[[Request], Awaitable[WebhookEvent]]:
    """A dependency giving the verified event of a Stack webhook delivery, with your own secret or tolerance:
    ``event: Annotated[WebhookEvent, Depends(require_webhook(secret=..., tolerance=...))]``. It reads the raw body
    and the headers (:func:`~stack_auth.webhooks.verify_webhook`); a refused delivery is a 400 saying why.
    ``secret`` defaults to ``STACK_WEBHOOK_SECRET``, read per request."""

    async def dependency(request: Request) -> WebhookEvent:
        body = await request.body()
        try:
            return verify_webhook(body, request.headers, secret=secret, tolerance=tolerance)
        except WebhookVerificationError as exc:
            logger.info("refused a webhook delivery: %s", exc)
            raise HTTPException(400, str(exc)) from None

    return dependency


#: ``event: StackWebhook``: the verified event of a Stack webhook delivery (secret ``STACK_WEBHOOK_SECRET``,
#: tolerance 5 minutes); 400 saying why when it is refused.
StackWebhook = Annotated[WebhookEvent, Depends(require_webhook())]
