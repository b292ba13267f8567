"""Routes ``/users`` and ``/users/{user_id}`` (server) and ``/users/me`` (client or server, with a user token).

Behaviour follows ``apps/backend/src/app/api/latest/users/crud.tsx``: cursor pagination where ``next_cursor`` is
the first user of the next page and a cursor naming a user that no longer exists gives an empty page (Prisma's
cursor semantics), ``query`` matching the id exactly or display name / email as a case-insensitive substring,
absent-vs-null updates, a personal team on create that the create answer itself does not show yet.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.operations import check_auth_data, check_restriction, create_user, normalize_email
from stack_auth.testing.passwords import hash_password_async, is_supported_hash
from stack_auth.testing.state import Project, User
from stack_auth.testing.validation import Field, Validator, is_uuid
from stack_auth.testing.views import user_server, user_view
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

_COMMON: dict[str, Field] = {
    "display_name": Field("string", nullable=True),
    "profile_image_url": Field("string", nullable=True),
    "client_metadata": Field("json", nullable=True),
    "client_read_only_metadata": Field("json", nullable=True),
    "server_metadata": Field("json", nullable=True),
    "primary_email": Field("email", nullable=True),
    "primary_email_verified": Field("boolean"),
    "primary_email_auth_enabled": Field("boolean"),
    "passkey_auth_enabled": Field("boolean"),
    "password": Field("string", nullable=True),
    "password_hash": Field("string"),
    "otp_auth_enabled": Field("boolean"),
    "totp_secret_base64": Field("string", nullable=True),
    "restricted_by_admin": Field("boolean"),
    "restricted_by_admin_reason": Field("string", nullable=True),
    "restricted_by_admin_private_details": Field("string", nullable=True),
    "country_code": Field("string", nullable=True),
}
CREATE_FIELDS: dict[str, Field] = {
    **_COMMON,
    "oauth_providers": Field("oauth_providers"),
    "is_anonymous": Field("boolean"),
    "risk_scores": Field("json"),
}
SERVER_UPDATE_FIELDS: dict[str, Field] = {
    **_COMMON,
    "selected_team_id": Field("uuid", nullable=True),
    "is_anonymous": Field("boolean", one_of=(False,)),
}
CLIENT_UPDATE_FIELDS: dict[str, Field] = {
    "display_name": Field("string", nullable=True),
    "profile_image_url": Field("string", nullable=True),
    "client_metadata": Field("json", nullable=True),
    "selected_team_id": Field("uuid", nullable=True),
    "totp_secret_base64": Field("string", nullable=True),
    "otp_auth_enabled": Field("boolean"),
    "passkey_auth_enabled": Field("boolean"),
}
#: The users CRUD shares one query schema between list and single-user operations.
USERS_QUERY = (
    "team_id",
    "limit",
    "cursor",
    "order_by",
    "desc",
    "query",
    "include_anonymous",
    "only_anonymous",
    "include_restricted",
)
_BOOL = ("true", "false")


async def password_hash_of(data: dict[str, Any], iterations: int) -> str | None:
    """``password`` hashed (off the loop) or a checked ``password_hash``; None when neither is set."""
    if "password" in data:
        if "password_hash" in data:
            raise StatusError(400, "Cannot set both password and password_hash at the same time.")
        if data["password"] is None:
            return None
        return await hash_password_async(data["password"], iterations)
    if "password_hash" in data:
        if not is_supported_hash(data["password_hash"]):
            raise StatusError(
                400, "Invalid password hash. Make sure it's a supported algorithm in Modular Crypt Format."
            )
        return str(data["password_hash"])
    return None


def _check_users_query(ctx: Ctx, v: Validator) -> int | None:
    """Validate the shared query schema (unknown keys, typed values); returns ``limit`` as yup casts it."""
    q = ctx.request.query
    v.unknown("query", q, USERS_QUERY)
    v.uuid("query", "team_id", q.get("team_id"), required=False)
    limit = v.int_min("query", "limit", q.get("limit"), 1)
    v.uuid("query", "cursor", q.get("cursor"), required=False)
    v.one_of("query", "order_by", q.get("order_by"), ("signed_up_at",))
    for name in ("desc", "include_anonymous", "only_anonymous", "include_restricted"):
        v.one_of("query", name, q.get(name), _BOOL)
    return limit


# --- list and create -----------------------------------------------------------------------------------------------


async def list_users(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    limit = _check_users_query(ctx, v)
    v.done()
    q = ctx.request.query
    if q.get("only_anonymous") == "true" and q.get("include_anonymous") != "true":
        raise StatusError(400, "only_anonymous=true requires include_anonymous=true")
    project = auth.project
    with ctx.services.store.lock:
        if limit is None:  # "limit=120.0" is 120, as yup casts it
            limit = project.config.users_default_limit
        match = _filter(project, q)
        rows = list(_walk(project, q.get("cursor"), q.get("desc") == "true", match, limit))
        items = [user_server(project, u) for u in (rows if limit is None else rows[:limit])]
        next_cursor = rows[limit].id if limit is not None and len(rows) > limit else None
    return json_response({"items": items, "is_paginated": True, "pagination": {"next_cursor": next_cursor}})


def _filter(project: Project, q: dict[str, str]) -> Callable[[User], bool]:
    team_members = project.members.get(q["team_id"], {}) if "team_id" in q else None
    include_anonymous = q.get("include_anonymous") == "true"
    only_anonymous = q.get("only_anonymous") == "true"
    include_restricted = include_anonymous or q.get("include_restricted") == "true"
    search = q.get("query") or None
    needle = search.lower() if search else ""
    id_needle = "".join(c for c in search if c.isalnum() or c in "-_.") if search else ""
    id_needle = id_needle if is_uuid(id_needle) else ""

    def match(user: User) -> bool:
        if team_members is not None and user.id not in team_members:
            return False
        if only_anonymous and not user.is_anonymous:
            return False
        if not include_anonymous and user.is_anonymous:
            return False
        if not include_restricted and user.restricted_by_admin:
            return False
        if search:
            return bool(
                (id_needle and user.id == id_needle.lower())
                or (user.display_name and needle in user.display_name.lower())
                or (user.primary_email and needle in user.primary_email.lower())
            )
        return True

    return match


def _walk(
    project: Project, cursor: str | None, desc: bool, match: Callable[[User], bool], limit: int | None
) -> Iterator[User]:
    """Users in list order from ``cursor`` (inclusive), filtered, at most ``limit + 1`` of them."""
    order = project.order
    if cursor is not None:
        anchor = project.users.get(cursor)
        if anchor is None:
            return
        start = bisect.bisect_left(order, (anchor.signed_up_at, anchor.id))
        indices: range = range(start, -1, -1) if desc else range(start, len(order))
    else:
        indices = range(len(order) - 1, -1, -1) if desc else range(len(order))
    wanted = None if limit is None else limit + 1
    found = 0
    for i in indices:
        user = project.users[order[i][1]]
        if match(user):
            yield user
            found += 1
            if wanted is not None and found >= wanted:
                return


async def create_user_route(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    data = v.body(ctx.request.body, CREATE_FIELDS)
    v.done()
    password_hash = await password_hash_of(data, ctx.services.password_iterations)
    with ctx.services.store.lock:
        _, answer = create_user(ctx.services.store, auth.project, data, password_hash)
    return json_response(answer, 201)


# --- one user ------------------------------------------------------------------------------------------------------


def _user_or_404(project: Project, user_id: str) -> User:
    user = project.users.get(user_id)
    if user is None:
        raise known.user_not_found()
    return user


def _param_user_id(ctx: Ctx, v: Validator) -> str | None:
    return v.uuid("params", "user_id", ctx.request.params["user_id"])


async def get_user(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    user_id = _param_user_id(ctx, v)
    _check_users_query(ctx, v)
    v.done()
    assert user_id is not None
    with ctx.services.store.lock:
        user = _user_or_404(auth.project, user_id)
        return json_response(user_server(auth.project, user))


async def update_user(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    user_id = _param_user_id(ctx, v)
    data = v.body(ctx.request.body, SERVER_UPDATE_FIELDS)
    v.done()
    assert user_id is not None
    return await _apply_update(ctx, auth.project, user_id, data, "server")


async def delete_user(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    user_id = _param_user_id(ctx, v)
    v.done()
    assert user_id is not None
    with ctx.services.store.lock:
        _user_or_404(auth.project, user_id)
        auth.project.delete_user(user_id)
    return success_response()


# --- /users/me -----------------------------------------------------------------------------------------------------


def _me(ctx: Ctx) -> tuple[Project, str, str]:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    if auth.user is None:
        raise known.cannot_get_own_user_without_user()
    return auth.project, auth.user.id, auth.type


async def get_me(ctx: Ctx) -> Response:
    project, user_id, access_type = _me(ctx)
    with ctx.services.store.lock:
        user = _user_or_404(project, user_id)
        return json_response(user_view(project, user, access_type))


async def update_me(ctx: Ctx) -> Response:
    project, user_id, access_type = _me(ctx)
    v = ctx.validator()
    fields = CLIENT_UPDATE_FIELDS if access_type == "client" else SERVER_UPDATE_FIELDS
    data = v.body(ctx.request.body, fields)
    v.done()
    return await _apply_update(ctx, project, user_id, data, access_type)


async def delete_me(ctx: Ctx) -> Response:
    project, user_id, access_type = _me(ctx)
    if access_type == "client" and not project.config.client_user_deletion_enabled:
        raise StatusError(403, "Client user deletion is not enabled for this project")
    with ctx.services.store.lock:
        _user_or_404(project, user_id)
        project.delete_user(user_id)
    return success_response()


# --- updates -------------------------------------------------------------------------------------------------------


async def _apply_update(ctx: Ctx, project: Project, user_id: str, data: dict[str, Any], access_type: str) -> Response:
    password_hash = await password_hash_of(data, ctx.services.password_iterations)
    with ctx.services.store.lock:
        user = _user_or_404(project, user_id)
        apply_user_update(project, user, data, password_hash)
        return json_response(user_view(project, user, access_type))


def apply_user_update(project: Project, user: User, data: dict[str, Any], password_hash: str | None) -> None:
    """Apply validated update data: absent fields stay, null clears. Every check runs before any change."""
    team_id = data.get("selected_team_id")
    if team_id is not None and not project.is_member(team_id, user.id):
        raise known.team_membership_not_found(team_id, user.id)

    email = user.primary_email
    verified = user.primary_email_verified
    auth_enabled = user.primary_email_auth_enabled
    if "primary_email" in data:
        email = normalize_email(data["primary_email"])
    removing = "primary_email" in data and email is None
    auth_enabled = False if removing else data.get("primary_email_auth_enabled", auth_enabled)
    verified = False if removing else data.get("primary_email_verified", verified)
    check_auth_data(email, verified, auth_enabled)

    restricted = data.get("restricted_by_admin", user.restricted_by_admin)
    old_reason = user.restricted_by_admin_reason if restricted else None
    old_details = user.restricted_by_admin_private_details if restricted else None
    check_restriction(
        restricted,
        data.get("restricted_by_admin_reason", old_reason),
        data.get("restricted_by_admin_private_details", old_details),
    )
    project.set_email(user, email, verified, auth_enabled)  # raises USER_EMAIL_ALREADY_EXISTS before any change

    if "selected_team_id" in data:
        user.selected_team_id = team_id
    if "display_name" in data:
        user.display_name = data["display_name"] or None
    for name in (
        "profile_image_url",
        "client_metadata",
        "client_read_only_metadata",
        "server_metadata",
        "totp_secret_base64",
        "country_code",
    ):
        if name in data:
            setattr(user, name, data[name])
    if "totp_secret_base64" in data:
        # Only the update path switches MFA on (Stack's users/crud.tsx sets requiresTotpMfa there, not on create).
        user.totp_required = data["totp_secret_base64"] is not None
    for name in ("otp_auth_enabled", "passkey_auth_enabled"):
        if name in data:
            setattr(user, name, bool(data[name]))
    if "password" in data or "password_hash" in data:
        user.password_hash = password_hash
    if data.get("is_anonymous") is False:
        user.is_anonymous = False
    user.restricted_by_admin = bool(restricted)
    if not restricted:
        user.restricted_by_admin_reason = None
        user.restricted_by_admin_private_details = None
    else:
        if "restricted_by_admin_reason" in data:
            user.restricted_by_admin_reason = data["restricted_by_admin_reason"] or None
        if "restricted_by_admin_private_details" in data:
            user.restricted_by_admin_private_details = data["restricted_by_admin_private_details"] or None
    project.announce("user.updated", lambda: user_server(project, user))


ROUTES = [
    ("GET", "/users", list_users),
    ("POST", "/users", create_user_route),
    ("GET", "/users/me", get_me),
    ("PATCH", "/users/me", update_me),
    ("DELETE", "/users/me", delete_me),
    ("GET", "/users/{user_id}", get_user),
    ("PATCH", "/users/{user_id}", update_user),
    ("DELETE", "/users/{user_id}", delete_user),
]
