"""Django integration (sync API): ``request.stack_user``, the verified user of the request's access token.

settings.py::

    MIDDLEWARE = [..., "stack_auth.django.StackAuthMiddleware"]
    STACK_AUTH = {"project_id": "...", "secret_server_key": "...", "base_url": "..."}   # else the STACK_* env vars

views.py::

    from django.http import JsonResponse
    from stack_auth.django import stack_login_required

    @stack_login_required                  # JSON 401 unless a valid access token came
    def me(request):
        return JsonResponse({"id": request.stack_user.id})

The middleware sets ``request.stack_user`` (None without a valid token) on every request; the decorator works with
or without it. The token comes from the ``x-stack-auth`` header (JSON ``{"accessToken", "refreshToken"}``), else
``x-stack-access-token``, else ``Authorization: Bearer``, and is verified locally
(:meth:`~stack_auth.StackServerApp.verify_access_token`). One Stack app per process, made on first use from
``settings.STACK_AUTH`` (or set it with :func:`set_stack_app`). Async views are not supported here.

Stack's webhooks, verified (extra ``webhooks``; the secret from ``STACK_WEBHOOK_SECRET`` unless given)::

    from stack_auth.django import stack_webhook

    @stack_webhook                         # POST only, CSRF exempt; JSON 400 saying why when refused
    def receive(request, event):           # event: a stack_auth.webhooks event (UserCreated, ...)
        return HttpResponse(status=204)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast, overload

from django.conf import settings  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from stack_auth._api_key_format import KeyType
from stack_auth._guards import check_api_key, check_permission, key_kind, permission_arg, server_app
from stack_auth._sync._app import StackServerApp
from stack_auth._sync._client_app import StackClientApp
from stack_auth.tokens import AccessTokenClaims, AuthFailure, check_request
from stack_auth.webhooks import DEFAULT_TOLERANCE, WebhookVerificationError, verify_webhook

__all__ = [
    "StackAuthMiddleware",
    "get_stack_app",
    "set_stack_app",
    "stack_api_key_required",
    "stack_login_required",
    "stack_project_permission_required",
    "stack_team_permission_required",
    "stack_webhook",
]

F = TypeVar("F", bound=Callable[..., HttpResponse])

_app: StackServerApp | StackClientApp | None = None
_app_lock = threading.Lock()


def get_stack_app() -> StackServerApp | StackClientApp:
    """The process's Stack app: the one given to :func:`set_stack_app`, else one made from ``settings.STACK_AUTH``
    (keyword arguments of :class:`~stack_auth.StackServerApp`) or the ``STACK_*`` environment variables."""
    global _app
    with _app_lock:
        if _app is None:
            options = getattr(settings, "STACK_AUTH", None)
            _app = StackServerApp(**options) if options else StackServerApp.from_env()
        return _app


def set_stack_app(app: StackServerApp | StackClientApp | None) -> None:
    """Use this Stack app (None: make one from the settings again on next use). The previous one is not closed."""
    global _app
    with _app_lock:
        _app = app


def _check(request: HttpRequest, allow_anonymous: bool, allow_restricted: bool) -> AccessTokenClaims | AuthFailure:
    def verify(token: str) -> AccessTokenClaims:
        # The app is only needed once a token came: pages without one work even before Stack is configured.
        app = get_stack_app()
        return app.verify_access_token(token, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted)

    return check_request(verify, request.headers)


class StackAuthMiddleware:
    """Sets ``request.stack_user`` (verified claims, or None) and ``request.stack_auth_failure`` (why not)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        result = _check(request, False, False)
        request.stack_user = result if isinstance(result, AccessTokenClaims) else None
        request.stack_auth_failure = result if isinstance(result, AuthFailure) else None
        return self.get_response(request)


def _refusal(failure: AuthFailure) -> HttpResponse:
    return JsonResponse({"detail": failure.detail}, status=failure.status, headers=dict(failure.headers))


@overload
def stack_login_required(view: F) -> F: ...
@overload
def stack_login_required(*, allow_anonymous: bool = False, allow_restricted: bool = False) -> Callable[[F], F]: ...
def stack_login_required(
    view: F | None = None, *, allow_anonymous: bool = False, allow_restricted: bool = False
) -> F | Callable[[F], F]:
    """Answer JSON 401 (or 503 when Stack is unreachable) unless the request has a verified user, then run the view
    with ``request.stack_user`` set. Anonymous/restricted users only when allowed."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            known = hasattr(request, "stack_auth_failure") and not (allow_anonymous or allow_restricted)
            if known:  # the middleware already checked with the default flags
                result = getattr(request, "stack_user", None) or request.stack_auth_failure
            else:
                result = _check(request, allow_anonymous, allow_restricted)
            if not isinstance(result, AccessTokenClaims):
                return _refusal(result)
            request.stack_user = result
            return func(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorate(view) if view is not None else decorate


# --- permissions and API keys ---------------------------------------------------------------------------------------


def _server_app(what: str) -> StackServerApp:
    return server_app(get_stack_app(), what, "settings.STACK_AUTH or set_stack_app")


def _permission_required(
    what: str, permission_id: str, holds: Callable[[StackServerApp, str, dict[str, Any]], bool]
) -> Callable[[F], F]:
    permission_arg(permission_id)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            app = _server_app(what)
            user = check_permission(app, request.headers, permission_id, lambda uid: holds(app, uid, kwargs))
            if isinstance(user, AuthFailure):
                return _refusal(user)
            request.stack_user = user
            return func(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorate


def stack_team_permission_required(permission_id: str, *, team_id_param: str = "team_id") -> Callable[[F], F]:
    """Run the view only for a signed-in user (JSON 401 otherwise) who holds ``permission_id`` in the team named by
    the URL keyword ``team_id_param`` (JSON 403 otherwise); sets ``request.stack_user``::

        path("teams/<team_id>/", rename)      # urls.py

        @stack_team_permission_required("$update_team", team_id_param="team_id")
        def rename(request, team_id): ...
    """

    def holds(app: StackServerApp, user_id: str, url_kwargs: dict[str, Any]) -> bool:
        if team_id_param not in url_kwargs:
            raise RuntimeError(f"stack_team_permission_required: the URL has no keyword {team_id_param!r}")
        return app.teams.has_permission(str(url_kwargs[team_id_param]), user_id, permission_id)

    return _permission_required("stack_team_permission_required", permission_id, holds)


def stack_project_permission_required(permission_id: str) -> Callable[[F], F]:
    """Run the view only for a signed-in user (JSON 401 otherwise) who holds the project permission
    ``permission_id`` (JSON 403 otherwise): ``@stack_project_permission_required("admin")``."""
    return _permission_required(
        "stack_project_permission_required",
        permission_id,
        lambda app, user_id, _: app.users.has_permission(user_id, permission_id),
    )


def stack_api_key_required(kind: KeyType = "user") -> Callable[[F], F]:
    """Run the view only for a request with a valid user (or ``kind="team"``) API key in ``X-Stack-Api-Key`` or
    ``Authorization: Bearer sk_...`` (JSON 401 otherwise); the checked key is ``request.stack_api_key``."""

    kind = key_kind(kind)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = check_api_key(_server_app("stack_api_key_required"), request.headers, kind)
            if isinstance(key, AuthFailure):
                return _refusal(key)
            request.stack_api_key = key
            return func(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorate


@overload
def stack_webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]: ...
@overload
def stack_webhook(
    *, secret: str | None = None, tolerance: timedelta = DEFAULT_TOLERANCE
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]: ...
def stack_webhook(
    view: Callable[..., HttpResponse] | None = None,
    *,
    secret: str | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> Callable[..., HttpResponse] | Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Make a view a Stack webhook receiver: it runs as ``view(request, event, ...)`` with the verified event
    (:func:`~stack_auth.webhooks.verify_webhook` of the raw body and headers). POST only (405 otherwise), exempt
    from CSRF (the signature is the proof), JSON 400 saying why when refused. ``secret`` defaults to
    ``STACK_WEBHOOK_SECRET``."""

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            try:
                event = verify_webhook(request.body, request.headers, secret=secret, tolerance=tolerance)
            except WebhookVerificationError as exc:
                return JsonResponse({"detail": str(exc)}, status=400)
            return func(request, event, *args, **kwargs)

        return cast(Callable[..., HttpResponse], csrf_exempt(wrapper))

    return decorate(view) if view is not None else decorate
