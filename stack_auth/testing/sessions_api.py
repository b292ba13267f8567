"""Sessions and tokens: ``/auth/sessions``, ``/auth/oauth/token`` and the JWKS.

Sign-in flows are in ``signin_api``, ``cli_api`` and ``oauth_api``.

Follows ``apps/backend/src/app/api/latest/auth/{sessions,oauth/token,password}/`` and
``projects/[project_id]/.well-known/jwks.json``. Access tokens are stateless like Stack's: revoking a session stops
its refresh token at once, its access tokens only at their expiry.
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.defaults import (
    DEFAULT_SESSION_EXPIRES_IN_MILLIS,
    MAX_SESSION_EXPIRES_IN_MILLIS,
    PUBLIC_CLIENT_SECRET,
)
from stack_auth.testing.oauth_api import authorization_code_grant
from stack_auth.testing.operations import access_token_for, create_session
from stack_auth.testing.state import Project
from stack_auth.testing.validation import Field
from stack_auth.testing.views import session_view
from stack_auth.testing.wire import Response, StatusError, dumps, json_response, success_response

_CREATE_SESSION_FIELDS = {
    "user_id": Field("user_id_or_me", required=True),
    "expires_in_millis": Field("number", max=MAX_SESSION_EXPIRES_IN_MILLIS),
    "is_impersonation": Field("boolean"),
    "reason": Field("string", nullable=True),
}
_GRANT_TYPES = ("authorization_code", "refresh_token")


# --- sessions ------------------------------------------------------------------------------------------------------


async def create_session_route(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    current = auth.user.id if auth.user is not None else None
    body = ctx.request.body
    if isinstance(body, dict) and body.get("user_id") == "me":
        if current is None:
            raise known.cannot_get_own_user_without_user()
        body = {**body, "user_id": current}
    data = v.body(body, _CREATE_SESSION_FIELDS)
    v.done()
    user_id = str(data["user_id"])
    expires = int(data.get("expires_in_millis", DEFAULT_SESSION_EXPIRES_IN_MILLIS))
    project = auth.project
    with ctx.services.store.lock:
        user = project.users.get(user_id)
        if user is None:
            raise known.user_id_does_not_exist(user_id)
        session, access_token = create_session(
            ctx.services.store,
            ctx.services.tokens,
            project,
            user,
            base_url=ctx.base_url,
            expires_in_millis=expires,
            is_impersonation=bool(data.get("is_impersonation", False)),
        )
    return json_response({"refresh_token": session.refresh_token, "access_token": access_token})


async def list_sessions(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("user_id",))
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), current)
    v.done()
    if auth.type == "client":
        if current is None:
            raise known.cannot_get_own_user_without_user()
        if user_id != current:
            raise StatusError(403, "Client can only list sessions for their own user.")
    project = auth.project
    with ctx.services.store.lock:
        sessions = [
            s
            for s in project.sessions.values()
            if s.user_id == user_id and (auth.type == "admin" or not s.is_impersonation)
        ]
        sessions.sort(key=lambda s: s.created_at, reverse=True)
        items = [session_view(s, auth.refresh_token_id) for s in sessions]
    return json_response({"items": items, "is_paginated": False})


async def delete_session(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    session_id = v.uuid("params", "id", ctx.request.params["id"])
    v.unknown("query", q, ("user_id",))
    current = auth.user.id if auth.user is not None else None
    v.user_id_or_me("query", "user_id", q.get("user_id"), current)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        session = project.sessions.get(session_id or "")
        if session is None or (auth.type == "client" and current != session.user_id):
            raise StatusError(404, "Session not found.")
        if auth.refresh_token_id == session.id:
            raise known.cannot_delete_current_session()
        project.delete_session(session.id)
    return success_response()


async def delete_current_session(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    if auth.refresh_token_id is None:
        raise known.access_token_expired(ctx.services.store.clock.now_ms())
    with ctx.services.store.lock:
        if auth.refresh_token_id not in auth.project.sessions:
            raise known.refresh_token_not_found_or_expired()
        auth.project.delete_session(auth.refresh_token_id)
    return success_response()


async def refresh_current_session(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    refresh_token = ctx.request.headers.get("x-stack-refresh-token")
    if refresh_token is None:
        v = ctx.validator()
        v.fail('headers["x-stack-refresh-token"] must be defined')
        v.done()
    assert refresh_token is not None
    token = _refresh(ctx, auth.project, refresh_token)
    return json_response({"access_token": token})


def _refresh(ctx: Ctx, project: Project, refresh_token: str) -> str:
    store = ctx.services.store
    with store.lock:
        session = project.session_by_refresh_token(refresh_token, store.clock.now_ms())
        if session is None:
            raise known.refresh_token_not_found_or_expired()
        return access_token_for(store, ctx.services.tokens, project, session, base_url=ctx.base_url)


# --- OAuth token endpoint ------------------------------------------------------------------------------------------


async def oauth_token(ctx: Ctx) -> Response:
    body = ctx.request.body
    v = ctx.validator()
    if not isinstance(body, dict):
        v.body(body, {})
        v.done()
    assert isinstance(body, dict)
    grant_type = body.get("grant_type")
    if grant_type is None:
        v.fail("body.grant_type must be defined")
    elif grant_type not in _GRANT_TYPES:
        v.fail(f"body.grant_type must be one of the following values: {', '.join(_GRANT_TYPES)}")
    v.done()
    client_id = body.get("client_id") or None
    raw_secret = body.get("client_secret")
    secret = None if not raw_secret or raw_secret == PUBLIC_CLIENT_SECRET else str(raw_secret)
    store = ctx.services.store
    with store.lock:
        project = store.projects.get(str(client_id).split("#")[0]) if client_id else None
    if client_id and secret is None and project is not None and project.config.require_publishable_client_key:
        raise known.publishable_client_key_required_for_project(project.id)
    if project is None:
        raise known.invalid_oauth_client_id_or_secret(client_id)
    if secret is not None and secret != project.config.publishable_client_key:
        # Stack names no client id when the id was right and the secret wrong (samples-wave2.json).
        raise known.invalid_oauth_client_id_or_secret(None)
    if grant_type == "authorization_code":
        return authorization_code_grant(ctx, project, body)
    refresh_token = body.get("refresh_token")
    if not refresh_token:
        return Response(
            400,
            dumps({"error": "invalid_request", "error_description": "Missing parameter: `refresh_token`"}),
            [(b"content-type", b"application/json; charset=utf-8"), (b"cache-control", b"no-store")],
        )
    token = _refresh(ctx, project, str(refresh_token))
    answer: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "legacy",
        "afterCallbackRedirectUrl": None,
        "after_callback_redirect_url": None,
    }
    return json_response(answer, cache_control=b"no-store")


# --- JWKS ----------------------------------------------------------------------------------------------------------


async def jwks(ctx: Ctx) -> Response:
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("include_restricted", "include_anonymous"))
    include_restricted = v.one_of("query", "include_restricted", q.get("include_restricted"), ("true", "false"))
    include_anonymous = v.one_of("query", "include_anonymous", q.get("include_anonymous"), ("true", "false"))
    v.done()
    project_id = ctx.request.params["project_id"]
    with ctx.services.store.lock:
        exists = project_id in ctx.services.store.projects
    if not exists:
        raise StatusError(404, "Project not found")
    keys = ctx.services.tokens.jwks(
        project_id,
        include_restricted=include_restricted == "true",
        include_anonymous=include_anonymous == "true",
    )
    return json_response(keys, cache_control=b"public, max-age=3600")


async def api_root(ctx: Ctx) -> Response:
    return Response(
        200,
        b"Welcome to the Stack API endpoint (emulated)! Please refer to the documentation at "
        b"https://docs.stack-auth.com.",
        [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store, max-age=0")],
    )


ROUTES = [
    ("GET", "/", api_root),
    ("POST", "/auth/sessions", create_session_route),
    ("GET", "/auth/sessions", list_sessions),
    ("DELETE", "/auth/sessions/current", delete_current_session),
    ("POST", "/auth/sessions/current/refresh", refresh_current_session),
    ("DELETE", "/auth/sessions/{id}", delete_session),
    ("POST", "/auth/oauth/token", oauth_token),
    ("GET", "/projects/{project_id}/.well-known/jwks.json", jwks),
]
