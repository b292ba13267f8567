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

from stack_auth._async._app import AsyncStackServerApp
from stack_auth._async._client_app import AsyncStackClientApp
from stack_auth._exceptions import APIConnectionError, InvalidTokenError, StackAuthApiError
from stack_auth.models import ServerUser
from stack_auth.tokens import (
    AUTH_UNAVAILABLE,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    AccessTokenClaims,
    access_token_from_headers,
    www_authenticate,
)
from stack_auth.webhooks import DEFAULT_TOLERANCE, WebhookEvent, WebhookVerificationError, verify_webhook

__all__ = [
    "FreshUser",
    "OptionalUser",
    "StackWebhook",
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
            import anyio.to_thread

            app = await anyio.to_thread.run_sync(stack_app)
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
