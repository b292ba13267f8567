"""CLI login: ``POST /auth/cli``, ``/auth/cli/poll`` and ``/auth/cli/complete`` (with the undocumented ``mode`` and
``anon_refresh_token``; statuses and texts as in ``samples-wave2.json``)."""

from __future__ import annotations

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.flows import CliAttempt
from stack_auth.testing.operations import access_token_for
from stack_auth.testing.signin_api import body_of
from stack_auth.testing.validation import Field
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

_MINUTE_MS = 60 * 1000
_CLI_DEFAULT_MS = 2 * 60 * _MINUTE_MS
_CLI_MAX_MS = 24 * 60 * _MINUTE_MS


async def cli_create(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = body_of(ctx, {"expires_in_millis": Field("number", max=_CLI_MAX_MS), "anon_refresh_token": Field("string")})
    store = ctx.services.store
    with store.lock:
        anon = data.get("anon_refresh_token")
        if anon is not None:
            session = project.session_by_refresh_token(str(anon), store.clock.now_ms())
            if session is None:
                raise StatusError(400, "Invalid anon refresh token")
            if not project.users[session.user_id].is_anonymous:
                raise StatusError(400, "The provided refresh token does not belong to an anonymous user")
        # Stack sets no lower bound: a negative lifetime makes a login that has already expired (never a date
        # before the epoch, which no timestamp can show).
        expires_at = max(0, store.clock.now_ms() + int(data.get("expires_in_millis", _CLI_DEFAULT_MS)))
        attempt = CliAttempt(store.ids.secret(), store.ids.secret(), expires_at, anon)
        project.flows.cli[attempt.polling_code] = attempt
    return json_response(
        {"polling_code": attempt.polling_code, "login_code": attempt.login_code, "expires_at": known._iso(expires_at)}
    )


async def cli_poll(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = body_of(ctx, {"polling_code": Field("string", required=True)})
    store = ctx.services.store
    with store.lock:
        attempt = project.flows.cli.get(str(data["polling_code"]))
        if attempt is None:
            raise known.invalid_polling_code()
        if attempt.collected:
            return json_response({"status": "used"})
        if attempt.refresh_token is not None:
            attempt.collected = True
            return json_response({"status": "success", "refresh_token": attempt.refresh_token}, 201)
        if attempt.expires_at < store.clock.now_ms():
            return json_response({"status": "expired"})
    return json_response({"status": "waiting"})


async def cli_complete(ctx: Ctx) -> Response:
    project = require_access(ctx.auth, CLIENT_OR_HIGHER).project
    data = body_of(
        ctx,
        {
            "login_code": Field("string", required=True),
            "mode": Field("string", one_of=("check", "claim-anon-session", "complete")),
            "refresh_token": Field("string"),
        },
    )
    mode = data.get("mode", "complete")
    store = ctx.services.store
    with store.lock:
        attempt = project.flows.cli_by_login_code(str(data["login_code"]))
        if attempt is None or attempt.refresh_token is not None or attempt.expires_at < store.clock.now_ms():
            raise StatusError(400, "Invalid login code or the code has expired")
        anon = attempt.anon_refresh_token
        anon_session = project.session_by_refresh_token(anon, store.clock.now_ms()) if anon else None
        if mode == "check":
            return json_response({"cli_session_state": "anonymous" if anon_session is not None else "none"})
        if mode == "claim-anon-session":
            if anon_session is None:
                raise StatusError(400, "No anonymous session associated with this code")
            token = access_token_for(store, ctx.services.tokens, project, anon_session, base_url=ctx.base_url)
            return json_response({"access_token": token, "refresh_token": anon_session.refresh_token})
        refresh_token = data.get("refresh_token")
        if refresh_token is None:
            raise StatusError(400, "refresh_token is required when mode is 'complete'")
        if project.session_by_refresh_token(str(refresh_token), store.clock.now_ms()) is None:
            raise StatusError(400, "Invalid refresh token")
        attempt.refresh_token = str(refresh_token)
    return success_response()


ROUTES = [
    ("POST", "/auth/cli", cli_create),
    ("POST", "/auth/cli/poll", cli_poll),
    ("POST", "/auth/cli/complete", cli_complete),
]
