"""Routes ``/user-api-keys`` and ``/team-api-keys``: create, list, read, update (rename, revoke) and check.

Follows ``apps/backend/src/app/api/latest/(api-keys)/handlers.tsx`` and the real answers in
``real-samples/samples-wave2.json``: create answers 200 with the full key in ``value`` (reads show
``{"last_four"}``); ``expires_at_millis`` must be sent (null = never) and a past time is accepted; unset
``expires_at_millis`` / ``manually_revoked_at_millis`` are left out of answers, not null; revoking twice keeps the
first time and ``revoked: false`` is a schema error; team key reads and updates need ``?team_id=`` (which Stack
requires but does not compare with the key's team). Clients manage only their own user keys (403 text) and team keys
of teams where they hold ``$manage_api_keys`` (404 API_KEY_NOT_FOUND otherwise, so teams do not leak). A project with
API keys turned off answers 400 text. One deliberate difference: reading a user key through the team routes (or the
other way round) answers API_KEY_NOT_FOUND, where Stack fails with a 500 assertion.
"""

from __future__ import annotations

from typing import Any

from stack_auth._api_key_format import KeyType, format_api_key, random_secret_part
from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import ApiKey, Project, Store
from stack_auth.testing.validation import Field, Validator
from stack_auth.testing.wire import KnownError, Response, StatusError, json_response

_UPDATE_FIELDS: dict[str, Field] = {
    "description": Field("string"),
    "revoked": Field("boolean", one_of=(True,)),
}


def _create_fields(key_type: str) -> dict[str, Field]:
    return {
        f"{key_type}_id": Field("user_id_or_me" if key_type == "user" else "uuid", required=True),
        "description": Field("string", required=True),
        "expires_at_millis": Field("number", nullable=True, required=True),
        "is_public": Field("boolean"),
    }


def key_view(key: ApiKey, *, first_view: bool = False) -> dict[str, Any]:
    """An API key as Stack answers it (keys in Stack's order; unset times left out)."""
    out: dict[str, Any] = {f"{key.type}_id": key.owner_id, "type": key.type}
    if not first_view:
        out["value"] = {"last_four": key.secret[-4:]}
    out["is_public"] = key.is_public
    out["created_at_millis"] = key.created_at
    if key.expires_at is not None:
        out["expires_at_millis"] = key.expires_at
    if key.revoked_at is not None:
        out["manually_revoked_at_millis"] = key.revoked_at
    out["description"] = key.description
    out["id"] = key.id
    if first_view:
        out["value"] = key.secret
    return out


def issue_api_key(
    store: Store,
    project: Project,
    key_type: KeyType,
    owner_id: str,
    *,
    description: str,
    is_public: bool = False,
    expires_at: float | None = None,
) -> ApiKey:
    """A new key of a user or team (call with ``store.lock`` held): its secret in Stack's format."""
    key_id = store.ids.uuid()
    secret = format_api_key(
        key_id=key_id, secret_part=random_secret_part(store.ids.rng), type=key_type, is_public=is_public
    )
    key = ApiKey(
        id=key_id,
        type=key_type,
        owner_id=owner_id,
        secret=secret,
        description=description,
        is_public=is_public,
        created_at=store.clock.tick_ms(),
        expires_at=int(expires_at) if expires_at is not None else None,
    )
    project.insert_api_key(key)
    return key


def _ensure_enabled(project: Project, key_type: str) -> None:
    """``throwIfFeatureDisabled``."""
    enabled = project.config.allow_user_api_keys if key_type == "user" else project.config.allow_team_api_keys
    if not enabled:
        raise StatusError(400, f"{key_type.capitalize()} API keys are not enabled for this project.")


def _ensure_can_manage(auth: Auth, key_type: str, owner_id: str) -> None:
    """``ensureUserCanManageApiKeys``: clients manage their own keys and keys of teams they may manage."""
    if auth.type != "client":
        return
    if auth.user is None:
        raise known.user_authentication_required()
    if key_type == "user":
        if owner_id != auth.user.id:
            raise StatusError(403, "Client can only manage their own api keys")
    elif "$manage_api_keys" not in auth.project.permissions_of(owner_id, auth.user.id, recursive=True):
        raise known.api_key_not_found()  # 404, so that the team's existence does not leak


def _owner_id(auth: Auth, key_type: str, value: str) -> str:
    if value == "me":
        if auth.user is None:
            raise known.cannot_get_own_user_without_user()
        return auth.user.id
    return value


def _key_of(project: Project, key_type: str, key_id: str) -> ApiKey:
    key = project.api_keys.get(key_id)
    if key is None or key.type != key_type:
        raise known.api_key_not_found()
    return key


def _key_params(ctx: Ctx, key_type: str, v: Validator) -> str:
    """The key id param, and the ``team_id`` query Stack requires (without using it) on team key routes."""
    key_id = v.uuid("params", "api_key_id", ctx.request.params["api_key_id"])
    query = ctx.request.query
    if key_type == "team":
        v.unknown("query", query, ("team_id",))
        v.uuid("query", "team_id", query.get("team_id"))
    else:
        v.unknown("query", query, ("user_id",))
    return key_id or ""


def _routes(key_type: KeyType) -> list[tuple[str, str, Any]]:
    base = f"/{key_type}-api-keys"
    create_fields = _create_fields(key_type)

    async def create(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
        v = ctx.validator()
        data = v.body(ctx.request.body, create_fields)
        v.done()
        project = auth.project
        store = ctx.services.store
        with store.lock:
            _ensure_enabled(project, key_type)
            owner = _owner_id(auth, key_type, data[f"{key_type}_id"])
            _ensure_can_manage(auth, key_type, owner)
            if key_type == "user" and owner not in project.users:
                raise known.user_not_found()
            if key_type == "team" and owner not in project.teams:
                raise known.team_not_found(owner)
            key = issue_api_key(
                store,
                project,
                key_type,
                owner,
                description=data["description"],
                is_public=bool(data.get("is_public", False)),
                expires_at=data["expires_at_millis"] or None,
            )
            return json_response(key_view(key, first_view=True))

    async def list_keys(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
        query = ctx.request.query
        v = ctx.validator()
        owner_param = f"{key_type}_id"
        v.unknown("query", query, (owner_param,))
        if key_type == "team":
            raw = v.uuid("query", "team_id", query.get("team_id"))
        else:
            raw = v.user_id_or_me("query", "user_id", query.get("user_id"), auth.user.id if auth.user else None)
        v.done()
        project = auth.project
        with ctx.services.store.lock:
            _ensure_enabled(project, key_type)
            if raw is None:
                raise KnownError(
                    "SCHEMA_ERROR",
                    f"{owner_param} is required for {key_type} API keys",
                    {"message": f"{owner_param} is required for {key_type} API keys"},
                )
            _ensure_can_manage(auth, key_type, raw)
            keys = [k for k in project.api_keys.values() if k.type == key_type and k.owner_id == raw]
            keys.sort(key=lambda k: k.created_at, reverse=True)
            return json_response({"is_paginated": False, "items": [key_view(k) for k in keys]})

    async def read(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
        v = ctx.validator()
        key_id = _key_params(ctx, key_type, v)
        v.done()
        with ctx.services.store.lock:
            _ensure_enabled(auth.project, key_type)
            key = _key_of(auth.project, key_type, key_id)
            _ensure_can_manage(auth, key_type, key.owner_id)
            return json_response(key_view(key))

    async def update(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
        v = ctx.validator()
        key_id = _key_params(ctx, key_type, v)
        data = v.body(ctx.request.body, _UPDATE_FIELDS)
        v.done()
        store = ctx.services.store
        with store.lock:
            _ensure_enabled(auth.project, key_type)
            key = _key_of(auth.project, key_type, key_id)
            _ensure_can_manage(auth, key_type, key.owner_id)
            if "description" in data:
                key.description = data["description"]
            if data.get("revoked") and key.revoked_at is None:
                key.revoked_at = store.clock.now_ms()
            return json_response(key_view(key))

    async def check(ctx: Ctx) -> Response:
        auth = require_access(ctx.auth, SERVER_OR_HIGHER)
        v = ctx.validator()
        data = v.body(ctx.request.body, {"api_key": Field("string", required=True)})
        v.done()
        project = auth.project
        store = ctx.services.store
        with store.lock:
            _ensure_enabled(project, key_type)
            key_id = project.api_key_ids.get(data["api_key"])
            if key_id is None:
                raise known.api_key_not_found()
            key = project.api_keys[key_id]
            if key.type != key_type:
                raise known.wrong_api_key_type(key_type, key.type)
            if key.revoked_at is not None:
                raise known.api_key_revoked()
            if key.expires_at is not None and key.expires_at < store.clock.now_ms():
                raise known.api_key_expired()
            return json_response(key_view(key))

    return [
        ("POST", base, create),
        ("GET", base, list_keys),
        ("POST", f"{base}/check", check),
        ("GET", f"{base}/{{api_key_id}}", read),
        ("PATCH", f"{base}/{{api_key_id}}", update),
    ]


ROUTES = [*_routes("user"), *_routes("team")]
