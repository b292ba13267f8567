"""Routes ``/oauth-providers`` and ``/oauth-providers/{user_id}/{provider_id}``: OAuth accounts linked to users.

Follows ``apps/backend/src/app/api/latest/oauth-providers/crud.tsx`` and the real answers in
``real-samples/samples-wave2.json``: a link has its own UUID; creating answers 201 (server access only); an unknown
``provider_config_id`` and a missing link are plain-text 404s; one user has at most one sign-in link per provider
(400 text) and never the same account twice (400 text); an account id that already signs someone in cannot sign in
again (OAUTH_PROVIDER_ACCOUNT_ID_ALREADY_USED_FOR_SIGN_IN). ``email`` is left out when unset; client reads leave out
``account_id``. Every change is mirrored in the user's ``oauth_providers`` (what ``GET /users/{id}`` shows).
One deliberate difference: an update that turns sign-in on without an ``account_id`` checks the link's own account
id, where Stack compares against every sign-in account of the project.
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import OAuthAccount, Project
from stack_auth.testing.validation import Field, Validator
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

_CREATE_FIELDS: dict[str, Field] = {
    "user_id": Field("user_id_or_me", required=True),
    "provider_config_id": Field("string", required=True),
    "account_id": Field("string", required=True),
    "email": Field("string"),
    "allow_sign_in": Field("boolean", required=True),
    "allow_connected_accounts": Field("boolean", required=True),
}
_UPDATE_FIELDS: dict[str, Field] = {
    "account_id": Field("string"),
    "email": Field("string"),
    "allow_sign_in": Field("boolean"),
    "allow_connected_accounts": Field("boolean"),
}


def account_view(account: OAuthAccount, access_type: str) -> dict[str, Any]:
    """A link as Stack reads it (``email`` left out when unset, ``account_id`` only for server access)."""
    out: dict[str, Any] = {"user_id": account.user_id, "id": account.id}
    if account.email:
        out["email"] = account.email
    out["provider_config_id"] = account.provider_config_id
    out["type"] = account.provider_config_id
    out["allow_sign_in"] = account.allow_sign_in
    out["allow_connected_accounts"] = account.allow_connected_accounts
    if access_type != "client":
        out["account_id"] = account.account_id
    return out


def _ensure_configured(project: Project, provider_config_id: str) -> None:
    if provider_config_id not in project.config.enabled_oauth_providers:
        raise StatusError(404, f"OAuth provider {provider_config_id} not found or not configured")


def _ensure_own(auth: Auth, user_id: str, action: str) -> None:
    if auth.type == "client" and (auth.user is None or auth.user.id != user_id):
        raise StatusError(403, f"Client can only {action} OAuth providers for their own user.")


def _check_links(
    project: Project, user_id: str, provider_config_id: str, account_id: str, allow_sign_in: bool, own_id: str | None
) -> None:
    """Stack's ``checkInputValidity`` (``own_id``: the link being updated, which never conflicts with itself)."""
    others = [a for a in project.oauth_accounts.values() if a.id != own_id]
    mine = [a for a in others if a.user_id == user_id and a.provider_config_id == provider_config_id]
    if allow_sign_in and any(a.allow_sign_in for a in mine):
        raise StatusError(400, "The same provider type with sign-in enabled already exists for this user.")
    if any(a.account_id == account_id for a in mine):
        raise StatusError(400, "The same provider type with the same account ID already exists for this user.")
    if allow_sign_in and any(a.allow_sign_in and a.account_id == account_id for a in others):
        raise known.oauth_provider_account_id_already_used_for_sign_in()


def _link_params(ctx: Ctx, auth: Auth, v: Validator) -> tuple[str, str]:
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("params", "user_id", ctx.request.params["user_id"], current)
    provider_id = v.uuid("params", "provider_id", ctx.request.params["provider_id"])
    return user_id or "", provider_id or ""


def _link_of(project: Project, user_id: str, provider_id: str) -> OAuthAccount:
    """``ensureUserExists`` then ``ensureProviderExists``."""
    if user_id not in project.users:
        raise known.user_not_found()
    account = project.oauth_accounts.get(provider_id)
    if account is None or account.user_id != user_id:
        raise StatusError(404, f"OAuth provider {provider_id} for user {user_id} not found")
    return account


async def create_link(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    data = v.body(ctx.request.body, _CREATE_FIELDS)
    v.done()
    project = auth.project
    store = ctx.services.store
    with store.lock:
        user_id = data["user_id"]
        if user_id == "me":
            if auth.user is None:
                raise known.cannot_get_own_user_without_user()
            user_id = auth.user.id
        _ensure_configured(project, data["provider_config_id"])
        if user_id not in project.users:
            raise known.user_not_found()
        _check_links(project, user_id, data["provider_config_id"], data["account_id"], data["allow_sign_in"], None)
        account = OAuthAccount(
            id=store.ids.uuid(),
            user_id=user_id,
            provider_config_id=data["provider_config_id"],
            account_id=data["account_id"],
            email=data.get("email"),
            allow_sign_in=data["allow_sign_in"],
            allow_connected_accounts=data["allow_connected_accounts"],
        )
        project.link_oauth_account(account)
        return json_response(account_view(account, auth.type), 201)


async def list_links(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    query = ctx.request.query
    v = ctx.validator()
    v.unknown("query", query, ("user_id",))
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("query", "user_id", query.get("user_id"), current, required=False)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            if current is None:
                raise known.cannot_get_own_user_without_user()
            _ensure_own(auth, user_id or "", "list")
        if user_id is not None and user_id not in project.users:
            raise known.user_not_found()
        items = [
            account_view(a, auth.type)
            for a in project.oauth_accounts.values()
            if user_id is None or a.user_id == user_id
        ]
    return json_response({"is_paginated": False, "items": items})


async def read_link(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, provider_id = _link_params(ctx, auth, v)
    v.done()
    with ctx.services.store.lock:
        _ensure_own(auth, user_id, "read")
        return json_response(account_view(_link_of(auth.project, user_id, provider_id), auth.type))


async def update_link(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, provider_id = _link_params(ctx, auth, v)
    data = v.body(ctx.request.body, _UPDATE_FIELDS)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        _ensure_own(auth, user_id, "update")
        account = _link_of(project, user_id, provider_id)
        account_id = data.get("account_id", account.account_id)
        _check_links(
            project, user_id, account.provider_config_id, account_id, bool(data.get("allow_sign_in")), account.id
        )
        for name, value in data.items():
            setattr(account, name, value)
        project.sync_oauth_providers(user_id)
        return json_response(account_view(account, auth.type))


async def delete_link(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, provider_id = _link_params(ctx, auth, v)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        _ensure_own(auth, user_id, "delete")
        project.unlink_oauth_account(_link_of(project, user_id, provider_id).id)
    return success_response()


ROUTES = [
    ("GET", "/oauth-providers", list_links),
    ("POST", "/oauth-providers", create_link),
    ("GET", "/oauth-providers/{user_id}/{provider_id}", read_link),
    ("PATCH", "/oauth-providers/{user_id}/{provider_id}", update_link),
    ("DELETE", "/oauth-providers/{user_id}/{provider_id}", delete_link),
]
