"""Routes ``/team-member-profiles`` and ``/team-member-profiles/{team_id}/{user_id}``.

Follows ``apps/backend/src/app/api/latest/team-member-profiles/crud.tsx``: a profile is a membership's own display
name and image, falling back to the user's; the server read carries the whole user, the client read does not;
clients list a team only as members with ``$read_members`` (``team_id`` is required for them), read others with
``$read_members``, and update only their own profile. Lists are complete, in membership order.
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, Auth, require_access
from stack_auth.testing.context import Ctx
from stack_auth.testing.state import Project
from stack_auth.testing.teams_api import ensure_membership, ensure_permission
from stack_auth.testing.validation import Field
from stack_auth.testing.views import user_server
from stack_auth.testing.wire import Response, StatusError, json_response

_UPDATE: dict[str, Field] = {
    "display_name": Field("string"),
    "profile_image_url": Field("string", nullable=True),
}


def profile_view(project: Project, team_id: str, user_id: str, access_type: str) -> dict[str, Any]:
    user = project.users[user_id]
    own = project.member_profiles.get((team_id, user_id), {})
    view: dict[str, Any] = {
        "team_id": team_id,
        "user_id": user_id,
        "display_name": own.get("display_name") or user.display_name,
        "profile_image_url": own.get("profile_image_url") or user.profile_image_url,
    }
    if access_type != "client":
        view["user"] = user_server(project, user)
    return view


def _current(auth: Auth) -> str:
    if auth.user is None:
        raise known.cannot_get_own_user_without_user()
    return auth.user.id


async def list_profiles(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("team_id", "user_id"))
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), current, required=False)
    team_id = v.uuid("query", "team_id", q.get("team_id"), required=False)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            me = _current(auth)
            if team_id is None:
                raise StatusError(400, "team_id is required for access type client")
            ensure_membership(project, team_id, me)
            if user_id != me:
                ensure_permission(project, team_id, me, "$read_members", required=True)
        else:
            if team_id is not None and team_id not in project.teams:
                raise known.team_not_found(team_id)
            if user_id is not None and user_id not in project.users:
                raise known.user_not_found()
        if team_id is not None:
            pairs = [(team_id, u) for u in project.members.get(team_id, {}) if user_id in (None, u)]
        elif user_id is not None:
            pairs = [(t, user_id) for t in project.user_teams.get(user_id, {})]
        else:
            pairs = [(t, u) for t, members in project.members.items() for u in members]
        items = [profile_view(project, t, u, auth.type) for t, u in pairs]
    return json_response({"items": items, "is_paginated": False})


def _params(ctx: Ctx, auth: Auth) -> tuple[str, str]:
    v = ctx.validator()
    team_id = v.uuid("params", "team_id", ctx.request.params["team_id"])
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("params", "user_id", ctx.request.params["user_id"], current)
    v.unknown("query", ctx.request.query, ("team_id", "user_id"))
    v.done()
    return team_id or "", user_id or ""


async def get_profile(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    team_id, user_id = _params(ctx, auth)
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            me = _current(auth)
            if user_id != me:
                ensure_permission(project, team_id, me, "$read_members", required=True)
        ensure_membership(project, team_id, user_id)
        return json_response(profile_view(project, team_id, user_id, auth.type))


async def update_profile(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    team_id, user_id = _params(ctx, auth)
    v = ctx.validator()
    data = v.body(ctx.request.body, _UPDATE)
    v.done()
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client" and user_id != _current(auth):
            raise StatusError(403, "Cannot update another user's profile")
        ensure_membership(project, team_id, user_id)
        project.member_profiles.setdefault((team_id, user_id), {}).update(data)
        return json_response(profile_view(project, team_id, user_id, auth.type))


ROUTES = [
    ("GET", "/team-member-profiles", list_profiles),
    ("GET", "/team-member-profiles/{team_id}/{user_id}", get_profile),
    ("PATCH", "/team-member-profiles/{team_id}/{user_id}", update_profile),
]
