"""Flask integration (sync API): the verified user of a request in ``g.stack_user``.

One Stack app per process, registered on the Flask app::

    from flask import Flask, g
    from stack_auth import StackServerApp
    from stack_auth.flask import StackAuth, login_required

    app = Flask(__name__)
    StackAuth(app, StackServerApp.from_env())

    @app.get("/me")
    @login_required                        # 401 unless a valid access token came
    def me():
        return {"id": g.stack_user.id}

    @app.get("/hello")
    @login_required(optional=True)         # g.stack_user is None without a (valid) token
    def hello(): ...

The token comes from the ``x-stack-auth`` header (JSON ``{"accessToken", "refreshToken"}``), else
``x-stack-access-token``, else ``Authorization: Bearer``, and is verified locally
(:meth:`~stack_auth.StackServerApp.verify_access_token`). Refusals are JSON 401 answers with a
``WWW-Authenticate: Bearer`` header and no detail of why; Stack being unreachable is 503.

Stack's webhooks, verified (extra ``webhooks``; the secret from ``STACK_WEBHOOK_SECRET`` unless given)::

    from stack_auth.flask import verify_webhook_request
    from stack_auth.webhooks import UserCreated

    @app.post("/webhooks/stack")
    def stack_webhook():
        event = verify_webhook_request()       # JSON 400 saying why when the delivery is refused
        if isinstance(event, UserCreated): ...
        return "", 204
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast, overload

from flask import Flask, abort, current_app, g, jsonify, make_response, request
from flask.typing import ResponseReturnValue

from stack_auth._sync._app import StackServerApp
from stack_auth._sync._client_app import StackClientApp
from stack_auth.tokens import AccessTokenClaims, AuthFailure, check_request
from stack_auth.webhooks import DEFAULT_TOLERANCE, WebhookEvent, WebhookVerificationError, verify_webhook

__all__ = ["StackAuth", "current_user", "get_stack_app", "login_required", "verify_webhook_request"]

EXTENSION_KEY = "stack_auth"
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


class StackAuth:
    """Registers a Stack app on a Flask app: ``StackAuth(app, StackServerApp.from_env())`` or ``init_app(app)``.

    Without ``stack_app``, one is made from ``app.config["STACK_AUTH"]`` (keyword arguments of
    :class:`~stack_auth.StackServerApp`), else from the ``STACK_*`` environment variables.
    """

    def __init__(self, app: Flask | None = None, stack_app: StackServerApp | StackClientApp | None = None) -> None:
        self.stack_app = stack_app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register on ``app`` (the Flask application-factory pattern), creating the Stack app if none was given."""
        if self.stack_app is None:
            options = app.config.get("STACK_AUTH")
            self.stack_app = StackServerApp(**options) if options else StackServerApp.from_env()
        app.extensions[EXTENSION_KEY] = self


def get_stack_app() -> StackServerApp | StackClientApp:
    """The Stack app of the current Flask app."""
    extension = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(extension, StackAuth) or extension.stack_app is None:
        raise RuntimeError("no Stack app on this Flask app: call StackAuth(app, stack_app) at startup")
    return extension.stack_app


def current_user() -> AccessTokenClaims | None:
    """The verified user of the current request (set by :func:`login_required`), or None."""
    user = g.get("stack_user")
    return user if isinstance(user, AccessTokenClaims) else None


def _refusal(failure: AuthFailure) -> ResponseReturnValue:
    return jsonify(detail=failure.detail), failure.status, dict(failure.headers)


@overload
def login_required(view: F) -> F: ...
@overload
def login_required(
    *, optional: bool = False, allow_anonymous: bool = False, allow_restricted: bool = False
) -> Callable[[F], F]: ...
def login_required(
    view: F | None = None, *, optional: bool = False, allow_anonymous: bool = False, allow_restricted: bool = False
) -> F | Callable[[F], F]:
    """Verify the request's access token and put the user in ``g.stack_user`` (JSON 401 without a valid one; with
    ``optional=True`` the view runs with ``g.stack_user = None``). Anonymous/restricted users only when allowed."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            verify = functools.partial(
                get_stack_app().verify_access_token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted
            )
            result = check_request(verify, request.headers)
            if isinstance(result, AuthFailure) and (not optional or result.status != 401):
                return _refusal(result)
            g.stack_user = result if isinstance(result, AccessTokenClaims) else None
            return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorate(view) if view is not None else decorate


def verify_webhook_request(secret: str | None = None, *, tolerance: timedelta = DEFAULT_TOLERANCE) -> WebhookEvent:
    """The verified event of the current request, a Stack webhook delivery (its raw body and headers, through
    :func:`~stack_auth.webhooks.verify_webhook`); a refused one ends the request with a JSON 400 saying why.
    ``secret`` defaults to ``STACK_WEBHOOK_SECRET``."""
    try:
        return verify_webhook(request.get_data(), request.headers, secret=secret, tolerance=tolerance)
    except WebhookVerificationError as exc:
        abort(make_response(jsonify(detail=str(exc)), 400))
