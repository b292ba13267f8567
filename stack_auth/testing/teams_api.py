"""Routes ``/teams``, ``/team-memberships/{team_id}/{user_id}`` and ``/team-permissions``.

Follows ``apps/backend/src/app/api/latest/{teams,team-memberships,team-permissions}/crud.tsx`` and
``lib/request-checks.tsx``: clients only see their own teams, need ``$update_team`` / ``$delete_team`` /
``$remove_members`` (directly or through ``team_admin``) to change a team, and team lists are not paginated.
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, SERVER_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.operations import create_team
from stack_auth.testing.permissions_api import (
    check_lists_own,
    check_permission_scope,
    permission_list_query,
)
from stack_auth.testing.state import Project
from stack_auth.testing.validation import Field, Validator
from stack_auth.testing.views import team_server, team_view
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

SERVER_TEAM_FIELDS: dict[str, Field] = {
    "display_name": Field("string"),
    "profile_image_url": Field("string", nullable=True),
    "client_metadata": Field("json", nullable=True),
    "client_read_only_metadata": Field("json", nullable=True),
    "server_metadata": Field("json", nullable=True),
}
CLIENT_TEAM_FIELDS: dict[str, Field] = {
    "display_name": Field("string"),
    "profile_image_url": Field("string", nullable=True),
    "client_metadata": Field("json", nullable=True),
}


def _current_user_id(auth: Auth) -> str | None:
    return auth.user.id if auth.user is not None else None


def _ensure_user(project: Project, user_id: str) -> None:
    if user_id not in project.users:
        raise known.user_not_found()


def _ensure_membership(project: Project, team_id: str, user_id: str) -> None:
    """``ensureTeamMembershipExists``: USER_NOT_FOUND, then TEAM_MEMBERSHIP_NOT_FOUND."""
    _ensure_user(project, user_id)
    if not project.is_member(team_id, user_id):
        raise known.team_membership_not_found(team_id, user_id)


def _ensure_permission(project: Project, team_id: str, user_id: str, permission_id: str, *, required: bool) -> None:
    """``ensureUserTeamPermissionExists`` (recursive when ``required``: the client checks)."""
    _ensure_membership(project, team_id, user_id)
    if permission_id not in project.permissions_of(team_id, user_id, recursive=required):
        if required:
            raise known.team_permission_required(team_id, user_id, permission_id)
        raise known.team_permission_not_found(team_id, user_id, permission_id)


def _ensure_team(project: Project, team_id: str) -> None:
    if team_id not in project.teams:
        raise known.team_not_found(team_id)


def _client_user(auth: Auth) -> str:
    if auth.user is None:
        raise known.user_authentication_required()
    return auth.user.id


# --- teams ---------------------------------------------------------------------------------------------------------


async def list_teams(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("user_id", "add_current_user"))
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), _current_user_id(auth), required=False)
    v.one_of("query", "add_current_user", q.get("add_current_user"), ("true", "false"))
    v.done()
    check_lists_own(auth, user_id, "teams")
    project = auth.project
    with ctx.services.store.lock:
        teams = list(project.teams.values())
        if user_id is not None:
            mine = project.user_teams.get(user_id, {})
            teams = [t for t in teams if t.id in mine]
        teams.sort(key=lambda t: t.created_at)
        items = [team_view(t, auth.type) for t in teams]
    return json_response({"items": items, "is_paginated": False})


async def create_team_route(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("user_id", "add_current_user"))
    add_current = v.one_of("query", "add_current_user", q.get("add_current_user"), ("true", "false"))
    fields: dict[str, Field] = dict(CLIENT_TEAM_FIELDS if auth.type == "client" else SERVER_TEAM_FIELDS)
    fields = {
        "display_name": Field("string", required=True),
        "creator_user_id": Field("user_id_or_me"),
        **{k: f for k, f in fields.items() if k != "display_name"},
    }
    data = v.body(ctx.request.body, fields)
    v.done()
    creator = data.get("creator_user_id")
    if creator == "me":
        if auth.user is None:
            raise known.cannot_get_own_user_without_user()
        creator = auth.user.id
    if creator and add_current:
        raise StatusError(
            400,
            "Cannot use both creator_user_id and add_current_user. add_current_user is deprecated, please only use "
            "creator_user_id in the body.",
        )
    if auth.type == "client":
        me = _client_user(auth)
        if not auth.project.config.client_team_creation_enabled:
            raise StatusError(403, "Client team creation is disabled for this project")
        if creator is None:
            creator = me
        elif creator != me:
            raise StatusError(
                403,
                "You cannot create a team as a user that is not yourself. Make sure you set the creator_user_id to "
                "'me'.",
            )
    if add_current == "true":
        if auth.user is None:
            raise StatusError(401, "You must be logged in to create a team with the current user as a member.")
        creator = auth.user.id
    with ctx.services.store.lock:
        team = create_team(ctx.services.store, auth.project, data, creator_user_id=creator)
        return json_response(team_view(team, auth.type), 201)


def _team_id(ctx: Ctx, v: Validator) -> str:
    team_id = v.uuid("params", "team_id", ctx.request.params["team_id"])
    return team_id or ""


async def get_team(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    team_id = _team_id(ctx, v)
    v.unknown("query", ctx.request.query, ("user_id", "add_current_user"))
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            _ensure_membership(project, team_id, _client_user(auth))
        team = project.teams.get(team_id)
        if team is None:
            raise known.team_not_found(team_id)
        return json_response(team_view(team, auth.type))


async def update_team(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    team_id = _team_id(ctx, v)
    data = v.body(ctx.request.body, CLIENT_TEAM_FIELDS if auth.type == "client" else SERVER_TEAM_FIELDS)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            _ensure_permission(project, team_id, _client_user(auth), "$update_team", required=True)
        _ensure_team(project, team_id)
        team = project.teams[team_id]
        for name, value in data.items():
            setattr(team, name, value)
        project.announce("team.updated", lambda: team_server(team))
        return json_response(team_view(team, auth.type))


async def delete_team(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    team_id = _team_id(ctx, v)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            _ensure_permission(project, team_id, _client_user(auth), "$delete_team", required=True)
        _ensure_team(project, team_id)
        project.delete_team(team_id)
    return success_response()


# --- memberships ---------------------------------------------------------------------------------------------------


def _membership_params(ctx: Ctx, auth: Auth, v: Validator) -> tuple[str, str]:
    team_id = _team_id(ctx, v)
    user_id = v.user_id_or_me("params", "user_id", ctx.request.params["user_id"], _current_user_id(auth))
    return team_id, user_id or ""


async def add_membership(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    team_id, user_id = _membership_params(ctx, auth, v)
    v.body(ctx.request.body if ctx.request.body is not None else {}, {})
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        _ensure_user(project, user_id)
        _ensure_team(project, team_id)
        if project.is_member(team_id, user_id):
            raise known.team_membership_already_exists()
        project.add_member(team_id, user_id, creator=False)
    return json_response({"team_id": team_id, "user_id": user_id}, 201)


async def remove_membership(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    team_id, user_id = _membership_params(ctx, auth, v)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            current = _current_user_id(auth)
            if current is None:
                raise known.cannot_get_own_user_without_user()
            if user_id != current:
                _ensure_permission(project, team_id, current, "$remove_members", required=True)
        _ensure_membership(project, team_id, user_id)
        project.remove_member(team_id, user_id)
    return success_response()


# --- team permissions ----------------------------------------------------------------------------------------------


async def list_team_permissions(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    user_id, permission_id, recursive = permission_list_query(ctx, auth, v, ("team_id",))
    team_id = v.uuid("query", "team_id", ctx.request.query.get("team_id"), required=False)
    v.done()
    check_lists_own(auth, user_id, "permissions")
    project = auth.project
    items: list[dict[str, Any]] = []
    with ctx.services.store.lock:
        for t_id, u_id in list(project.team_permissions):
            if (team_id is not None and t_id != team_id) or (user_id is not None and u_id != user_id):
                continue
            for perm in project.permissions_of(t_id, u_id, recursive=recursive):
                if permission_id is None or perm == permission_id:
                    items.append({"id": perm, "user_id": u_id, "team_id": t_id})
    items.sort(key=lambda p: (p["team_id"], p["user_id"], p["id"]))
    return json_response({"items": items, "is_paginated": False})


def _permission_params(ctx: Ctx, auth: Auth, v: Validator) -> tuple[str, str, str]:
    team_id, user_id = _membership_params(ctx, auth, v)
    permission_id = v.permission_id("params", "permission_id", ctx.request.params["permission_id"])
    return team_id, user_id, permission_id or ""


async def grant_team_permission(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    team_id, user_id, permission_id = _permission_params(ctx, auth, v)
    v.body(ctx.request.body if ctx.request.body is not None else {}, {})
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        _ensure_membership(project, team_id, user_id)
        check_permission_scope(project, permission_id, "team")
        project.team_permissions.setdefault((team_id, user_id), set()).add(permission_id)
        project.announce_permission("team_permission.created", team_id, user_id, permission_id)
    return json_response({"id": permission_id, "user_id": user_id, "team_id": team_id}, 201)


async def revoke_team_permission(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, SERVER_OR_HIGHER)
    v = ctx.validator()
    team_id, user_id, permission_id = _permission_params(ctx, auth, v)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        _ensure_permission(project, team_id, user_id, permission_id, required=False)
        project.team_permissions[(team_id, user_id)].discard(permission_id)
        project.announce_permission("team_permission.deleted", team_id, user_id, permission_id)
    return success_response()


#: The membership and permission checks, for the other team routes (invitations, member profiles).
ensure_membership = _ensure_membership
ensure_permission = _ensure_permission


ROUTES = [
    ("GET", "/teams", list_teams),
    ("POST", "/teams", create_team_route),
    ("GET", "/teams/{team_id}", get_team),
    ("PATCH", "/teams/{team_id}", update_team),
    ("DELETE", "/teams/{team_id}", delete_team),
    ("POST", "/team-memberships/{team_id}/{user_id}", add_membership),
    ("DELETE", "/team-memberships/{team_id}/{user_id}", remove_membership),
    ("GET", "/team-permissions", list_team_permissions),
    ("POST", "/team-permissions/{team_id}/{user_id}/{permission_id}", grant_team_permission),
    ("DELETE", "/team-permissions/{team_id}/{user_id}/{permission_id}", revoke_team_permission),
]
