"""Routes ``/project-permissions`` and ``/project-permissions/{user_id}/{permission_id}``.

Follows ``apps/backend/src/app/api/latest/project-permissions/crud.tsx`` and ``lib/permissions.tsx``: granting checks
the user (USER_NOT_FOUND), then the definition (PERMISSION_NOT_FOUND, or WRONG_PERMISSION_SCOPE for a team
permission) and answers 201 even when the user already holds it; revoking what the user lacks is 404
PERMISSION_NOT_FOUND; lists are not paginated, sorted by user then permission id, and ``permission_id`` filters after
the recursion (so a contained permission is found only with ``recursive=true``).
"""

from __future__ import annotations

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import Project
from stack_auth.testing.validation import Validator
from stack_auth.testing.wire import Response, StatusError, json_response, success_response


def _current_user_id(auth: Auth) -> str | None:
    return auth.user.id if auth.user is not None else None


def check_lists_own(auth: Auth, user_id: str | None, what: str) -> None:
    """A client lists its own user's ``what`` only (teams, project and team permissions alike)."""
    if auth.type != "client":
        return
    current = _current_user_id(auth)
    if current is None:
        raise known.cannot_get_own_user_without_user()
    if user_id != current:
        raise StatusError(
            403,
            f'Client can only list {what} for their own user. user_id must be either "me" or the ID of the '
            "current user",
        )


def check_permission_scope(project: Project, permission_id: str, expected: str) -> None:
    """PERMISSION_NOT_FOUND for an undefined permission, WRONG_PERMISSION_SCOPE for one of the other scope."""
    scope = project.permission_scope(permission_id)
    if scope is None:
        raise known.permission_not_found(permission_id)
    if scope != expected:
        raise known.wrong_permission_scope(permission_id, expected, scope)


def permission_list_query(
    ctx: Ctx, auth: Auth, v: Validator, scope_keys: tuple[str, ...] = ()
) -> tuple[str | None, str | None, bool]:
    """``user_id``, ``permission_id`` and ``recursive`` of a permission list (``scope_keys``: other keys allowed)."""
    q = ctx.request.query
    v.unknown("query", q, (*scope_keys, "user_id", "permission_id", "recursive"))
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), _current_user_id(auth), required=False)
    permission_id = q.get("permission_id")
    if permission_id is not None:
        v.permission_id("query", "permission_id", permission_id)
    recursive = v.one_of("query", "recursive", q.get("recursive"), ("true", "false")) == "true"
    return user_id, permission_id, recursive


async def list_project_permissions(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, permission_id, recursive = permission_list_query(ctx, auth, v)
    v.done()
    check_lists_own(auth, user_id, "permissions")
    project = auth.project
    with ctx.services.store.lock:
        holders = [user_id] if user_id is not None else list(project.project_permissions)
        items = [
            {"id": perm, "user_id": holder}
            for holder in holders
            for perm in project.project_permissions_of(holder, recursive=recursive)
            if permission_id is None or perm == permission_id
        ]
    items.sort(key=lambda p: (p["user_id"], p["id"]))
    return json_response({"items": items, "is_paginated": False})


def _params(ctx: Ctx, v: Validator) -> tuple[str, str]:
    auth = ctx.auth
    user_id = v.user_id_or_me(
        "params", "user_id", ctx.request.params["user_id"], _current_user_id(auth) if auth is not None else None
    )
    permission_id = v.permission_id("params", "permission_id", ctx.request.params["permission_id"])
    return user_id or "", permission_id or ""


async def grant_project_permission(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    user_id, permission_id = _params(ctx, v)
    v.body(ctx.request.body if ctx.request.body is not None else {}, {})
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if user_id not in project.users:
            raise known.user_not_found()
        check_permission_scope(project, permission_id, "project")
        project.project_permissions.setdefault(user_id, set()).add(permission_id)
    return json_response({"id": permission_id, "user_id": user_id}, 201)


async def revoke_project_permission(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    user_id, permission_id = _params(ctx, v)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if user_id not in project.users:
            raise known.user_not_found()
        if permission_id not in project.project_permissions_of(user_id, recursive=False):
            raise known.permission_not_found(permission_id)
        project.project_permissions[user_id].discard(permission_id)
    return success_response()


ROUTES = [
    ("GET", "/project-permissions", list_project_permissions),
    ("POST", "/project-permissions/{user_id}/{permission_id}", grant_project_permission),
    ("DELETE", "/project-permissions/{user_id}/{permission_id}", revoke_project_permission),
]
