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

from stack_auth._api_key_format import KeyType
from stack_auth._guards import check_api_key, check_permission, key_kind, permission_arg, server_app
from stack_auth._sync._app import StackServerApp
from stack_auth._sync._client_app import StackClientApp
from stack_auth.tokens import AccessTokenClaims, AuthFailure, check_request
from stack_auth.webhooks import DEFAULT_TOLERANCE, WebhookEvent, WebhookVerificationError, verify_webhook

__all__ = [
    "StackAuth",
    "api_key_required",
    "current_user",
    "get_stack_app",
    "login_required",
    "project_permission_required",
    "team_permission_required",
    "verify_webhook_request",
]

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


# --- permissions and API keys ---------------------------------------------------------------------------------------


def _server_app(what: str) -> StackServerApp:
    return server_app(get_stack_app(), what, "StackAuth(app, StackServerApp.from_env())")


def _permission_required(
    what: str, permission_id: str, holds: Callable[[StackServerApp, str, dict[str, Any]], bool]
) -> Callable[[F], F]:
    permission_arg(permission_id)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            app = _server_app(what)
            user = check_permission(app, request.headers, permission_id, lambda uid: holds(app, uid, kwargs))
            if isinstance(user, AuthFailure):
                return _refusal(user)
            g.stack_user = user
            return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def team_permission_required(permission_id: str, *, team_id_param: str = "team_id") -> Callable[[F], F]:
    """Run the view only for a signed-in user (JSON 401 otherwise) who holds ``permission_id`` in the team named by
    the URL variable ``team_id_param`` (JSON 403 otherwise), recursively as Stack checks it; sets ``g.stack_user``::

        @app.patch("/teams/<team_id>")
        @team_permission_required("$update_team", team_id_param="team_id")
        def rename(team_id): ...
    """

    def holds(app: StackServerApp, user_id: str, view_args: dict[str, Any]) -> bool:
        if team_id_param not in view_args:
            raise RuntimeError(f"team_permission_required: the route has no URL variable {team_id_param!r}")
        return app.teams.has_permission(view_args[team_id_param], user_id, permission_id)

    return _permission_required("team_permission_required", permission_id, holds)


def project_permission_required(permission_id: str) -> Callable[[F], F]:
    """Run the view only for a signed-in user (JSON 401 otherwise) who holds the project permission
    ``permission_id`` (JSON 403 otherwise); sets ``g.stack_user``: ``@project_permission_required("admin")``."""
    return _permission_required(
        "project_permission_required",
        permission_id,
        lambda app, user_id, _: app.users.has_permission(user_id, permission_id),
    )


def api_key_required(kind: KeyType = "user") -> Callable[[F], F]:
    """Run the view only for a request with a valid user (or ``kind="team"``) API key in ``X-Stack-Api-Key`` or
    ``Authorization: Bearer sk_...`` (JSON 401 otherwise); the checked key is ``g.stack_api_key``::

        @app.post("/ingest")
        @api_key_required()
        def ingest():
            owner = g.stack_api_key.user_id
    """

    kind = key_kind(kind)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            key = check_api_key(_server_app("api_key_required"), request.headers, kind)
            if isinstance(key, AuthFailure):
                return _refusal(key)
            g.stack_api_key = key
            return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def verify_webhook_request(secret: str | None = None, *, tolerance: timedelta = DEFAULT_TOLERANCE) -> WebhookEvent:
    """The verified event of the current request, a Stack webhook delivery (its raw body and headers, through
    :func:`~stack_auth.webhooks.verify_webhook`); a refused one ends the request with a JSON 400 saying why.
    ``secret`` defaults to ``STACK_WEBHOOK_SECRET``."""
    try:
        return verify_webhook(request.get_data(), request.headers, secret=secret, tolerance=tolerance)
    except WebhookVerificationError as exc:
        abort(make_response(jsonify(detail=str(exc)), 400))
