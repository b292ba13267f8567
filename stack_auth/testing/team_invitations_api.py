"""Routes ``/team-invitations...``: invite by email, list and revoke invitations, accept them with the mailed code.

Follows ``apps/backend/src/app/api/latest/team-invitations/`` at the captured version: an invitation is a verification
code (type TEAM_INVITATION, bound to the team and the email) mailed as a link to ``callback_url`` (a trusted domain);
clients need ``$invite_members`` to send and ``$read_members`` + ``$invite_members`` to list; listing takes
``team_id`` or ``user_id`` (invitations to that user's verified emails) and is not paginated; revoking needs
``team_id`` in the query; accepting needs a signed-in user and makes them a member (once). A missing team on
``send-code`` answers 500, as the real backend does (TEAM_NOT_FOUND escapes from its email step). Not emulated:
the ``dashboard_admins`` seat check Stack runs on accept in project ``internal`` only, and the undocumented
``POST /team-invitations/{id}/accept``.
"""

from __future__ import annotations

from typing import Any

from stack_auth.testing import known
from stack_auth.testing.auth import CLIENT_OR_HIGHER, Auth, require_access
from stack_auth.testing.codes import (
    VerificationCode,
    check_code_route,
    code_from_body,
    create_code,
    find_code,
    live_codes,
    use_code,
)
from stack_auth.testing.context import Ctx
from stack_auth.testing.redirects import check_redirect_url
from stack_auth.testing.state import Project
from stack_auth.testing.teams_api import ensure_membership, ensure_permission
from stack_auth.testing.validation import Field
from stack_auth.testing.wire import Response, StatusError, json_response, success_response

TEAM_INVITATION = "TEAM_INVITATION"
#: The real backend's answer to an unexpected failure (its request id differs per request).
_SOMETHING_WENT_WRONG = "Something went wrong. Please make sure the data you entered is correct.\n\nRequest ID: {}"


def _invitation_view(project: Project, code: VerificationCode) -> dict[str, Any]:
    team = project.teams.get(code.data["team_id"])
    return {
        "id": code.id,
        "team_id": code.data["team_id"],
        "team_display_name": team.display_name if team is not None else None,
        "expires_at_millis": code.expires_at,
        "recipient_email": code.data["email"],
    }


def _signed_in(auth: Auth) -> str:
    if auth.user is None:
        raise known.cannot_get_own_user_without_user()
    return auth.user.id


async def send_code(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    data = v.body(
        ctx.request.body,
        {
            "team_id": Field("uuid", required=True),
            "email": Field("email", required=True),
            "callback_url": Field("string", required=True),
        },
    )
    v.done()
    store = ctx.services.store
    project = auth.project
    with store.lock:
        if auth.type == "client":
            if auth.user is None:
                raise known.user_authentication_required()
            ensure_permission(project, data["team_id"], auth.user.id, "$invite_members", required=True)
        check_redirect_url(project, data["callback_url"])
        if data["team_id"] not in project.teams:
            raise StatusError(500, _SOMETHING_WENT_WRONG.format(store.ids.secret(16)))
        code = create_code(
            store,
            project,
            TEAM_INVITATION,
            {"team_id": data["team_id"], "email": data["email"]},
            callback_url=data["callback_url"],
        )
        project.send_mail(data["email"], "team_invitation", code.code, code.callback_url, store.clock.now_ms())
    return json_response({"success": True, "id": code.id})


def _verified_emails(project: Project, user_id: str) -> set[str]:
    return {c.value for c in project.channels.get(user_id, {}).values() if c.is_verified}


async def list_invitations(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    q = ctx.request.query
    v = ctx.validator()
    v.unknown("query", q, ("team_id", "user_id"))
    team_id = v.uuid("query", "team_id", q.get("team_id"), required=False)
    current = auth.user.id if auth.user is not None else None
    user_id = v.user_id_or_me("query", "user_id", q.get("user_id"), current, required=False)
    v.done()
    if team_id is None and user_id is None:
        raise StatusError(400, "Must specify either team_id or user_id")
    store = ctx.services.store
    project = auth.project
    with store.lock:
        if team_id is not None:
            if auth.type == "client":
                me = _signed_in(auth)
                ensure_membership(project, team_id, me)
                for permission in ("$read_members", "$invite_members"):
                    ensure_permission(project, team_id, me, permission, required=True)
            elif team_id not in project.teams:
                raise known.team_not_found(team_id)
        if user_id is not None:
            if auth.type == "client" and user_id != _signed_in(auth):
                raise StatusError(403, "Client can only list invitations for their own user.")
            if user_id not in project.users:
                raise known.user_not_found()
            emails = _verified_emails(project, user_id)
        codes = [
            c
            for c in live_codes(store, project, TEAM_INVITATION)
            if (team_id is None or c.data["team_id"] == team_id) and (user_id is None or c.data["email"] in emails)
        ]
        items = [_invitation_view(project, c) for c in codes]
    return json_response({"items": items, "is_paginated": False})


async def revoke_invitation(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    v = ctx.validator()
    invitation_id = v.uuid("params", "id", ctx.request.params["id"]) or ""
    team_id = v.uuid("query", "team_id", ctx.request.query.get("team_id"), required=False)
    v.done()
    if team_id is None:
        raise StatusError(400, "team_id is required for deleting a team invitation")
    project = auth.project
    with ctx.services.store.lock:
        if auth.type == "client":
            me = _signed_in(auth)
            ensure_membership(project, team_id, me)
            ensure_permission(project, team_id, me, "$remove_members", required=True)
        elif team_id not in project.teams:
            raise known.team_not_found(team_id)
        for key, code in list(project.codes.items()):
            if code.id == invitation_id and code.type == TEAM_INVITATION and code.data["team_id"] == team_id:
                del project.codes[key]
    return success_response()


def _accepting_user(auth: Auth) -> str:
    """The signed-in, unrestricted user accepting (or looking at) an invitation."""
    if auth.user is None:
        raise known.user_authentication_required()
    reason = auth.user.restricted_reason
    if reason is not None:
        raise known.restricted_user_not_allowed(reason)
    return auth.user.id


async def accept(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    raw = code_from_body(ctx)
    store = ctx.services.store
    project = auth.project
    with store.lock:
        # As on Stack, the code is spent before the user is checked (a signed-out accept uses it up).
        code = use_code(store, project, TEAM_INVITATION, raw)
        user_id = _accepting_user(auth)
        team_id = code.data["team_id"]
        if team_id not in project.teams:
            raise known.team_not_found(team_id)
        if not project.is_member(team_id, user_id):
            project.add_member(team_id, user_id, creator=False)
    return json_response({})


async def details(ctx: Ctx) -> Response:
    auth = require_access(ctx.auth, CLIENT_OR_HIGHER)
    raw = code_from_body(ctx)
    project = auth.project
    with ctx.services.store.lock:
        code = find_code(ctx.services.store, project, TEAM_INVITATION, raw)
        _accepting_user(auth)
        team = project.teams.get(code.data["team_id"])
        if team is None:
            raise known.team_not_found(code.data["team_id"])
        return json_response({"team_id": team.id, "team_display_name": team.display_name})


ROUTES = [
    ("POST", "/team-invitations/send-code", send_code),
    ("GET", "/team-invitations", list_invitations),
    ("POST", "/team-invitations/accept", accept),
    ("POST", "/team-invitations/accept/check-code", check_code_route(TEAM_INVITATION)),
    ("POST", "/team-invitations/accept/details", details),
    ("DELETE", "/team-invitations/{id}", revoke_invitation),
]
