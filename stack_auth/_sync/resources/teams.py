# GENERATED from stack_auth/_async/resources/teams.py by scripts/gen_sync.py: edit the source, not this file.
"""Teams, memberships and team permissions (server access): ``app.teams``."""

from __future__ import annotations

import builtins
from typing import Any

from stack_auth._sync._transport import Transport
from stack_auth._sync.resources.api_keys import TeamApiKeys
from stack_auth._sync.resources.member_profiles import TeamMemberProfiles
from stack_auth._sync.resources.team_invitations import TeamInvitations
from stack_auth._exceptions import NotFoundError
from stack_auth._validate import given, path_segment, text_arg, uuid_arg
from stack_auth.models import NOT_GIVEN, NotGiven, Team, TeamMembership, TeamPermission, structure, structure_items


class Teams(TeamInvitations, TeamMemberProfiles):
    """Create, read, list, update and delete teams; add and remove members; grant, revoke and check permissions;
    invite people; read and change members' team profiles."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        display_name: str,
        *,
        creator_user_id: str | None = None,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
        client_metadata: Any | NotGiven = NOT_GIVEN,
        client_read_only_metadata: Any | NotGiven = NOT_GIVEN,
        server_metadata: Any | NotGiven = NOT_GIVEN,
    ) -> Team:
        """Create a team; ``creator_user_id`` also makes that user a member.

        ``team = app.teams.create(display_name="Acme", creator_user_id=user.id)``
        """
        body = given(
            display_name=display_name,
            profile_image_url=profile_image_url,
            client_metadata=client_metadata,
            client_read_only_metadata=client_read_only_metadata,
            server_metadata=server_metadata,
        )
        if creator_user_id is not None:
            body["creator_user_id"] = uuid_arg(creator_user_id, "creator_user_id")
        return structure(self._transport.request("POST", "/teams", json=body), Team)

    def get(self, team_id: str) -> Team | None:
        """The team with this id, or None when there is none."""
        try:
            data = self._transport.request("GET", f"/teams/{uuid_arg(team_id, 'team_id')}")
        except NotFoundError as exc:
            if exc.code == "TEAM_NOT_FOUND":
                return None
            raise
        return structure(data, Team)

    def list(self, *, user_id: str | None = None) -> builtins.list[Team]:
        """All teams of the project, or the teams ``user_id`` is a member of (not paginated by Stack).

        Members of a team: ``app.users.list(team_id=team.id)``.
        """
        params = {"user_id": None if user_id is None else uuid_arg(user_id, "user_id")}
        data = self._transport.request("GET", "/teams", params=params)
        return structure_items(data, Team)

    def update(
        self,
        team_id: str,
        *,
        display_name: str | NotGiven = NOT_GIVEN,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
        client_metadata: Any | NotGiven = NOT_GIVEN,
        client_read_only_metadata: Any | NotGiven = NOT_GIVEN,
        server_metadata: Any | NotGiven = NOT_GIVEN,
    ) -> Team:
        """Change the fields you pass (None clears, an omitted argument is left alone)."""
        body = given(
            display_name=display_name,
            profile_image_url=profile_image_url,
            client_metadata=client_metadata,
            client_read_only_metadata=client_read_only_metadata,
            server_metadata=server_metadata,
        )
        data = self._transport.request("PATCH", f"/teams/{uuid_arg(team_id, 'team_id')}", json=body)
        return structure(data, Team)

    def delete(self, team_id: str) -> None:
        """Delete a team and its memberships."""
        self._transport.request("DELETE", f"/teams/{uuid_arg(team_id, 'team_id')}")

    def get_by_api_key(self, secret: str) -> Team | None:
        """The team a valid team API key belongs to, or None (unknown, revoked or expired key): two requests.

        ``team = app.teams.get_by_api_key(request.headers["x-stack-api-key"])``
        """
        key = TeamApiKeys(self._transport).check(secret)
        return None if key is None else self.get(key.team_id)

    def add_member(self, team_id: str, user_id: str) -> TeamMembership:
        """Make a user a member (:class:`~stack_auth.errors.TeamMembershipAlreadyExists` if already one)."""
        path = f"/team-memberships/{uuid_arg(team_id, 'team_id')}/{uuid_arg(user_id, 'user_id')}"
        return structure(self._transport.request("POST", path, json={}), TeamMembership)

    def remove_member(self, team_id: str, user_id: str) -> None:
        """Remove a member (:class:`~stack_auth.errors.TeamMembershipNotFound` if not one)."""
        path = f"/team-memberships/{uuid_arg(team_id, 'team_id')}/{uuid_arg(user_id, 'user_id')}"
        self._transport.request("DELETE", path)

    def grant_permission(self, team_id: str, user_id: str, permission_id: str) -> TeamPermission:
        """Grant a team permission (e.g. ``"$update_team"``) to a member."""
        path = _permission_path(team_id, user_id, permission_id)
        return structure(self._transport.request("POST", path, json={}), TeamPermission)

    def revoke_permission(self, team_id: str, user_id: str, permission_id: str) -> None:
        """Revoke a team permission from a member."""
        self._transport.request("DELETE", _permission_path(team_id, user_id, permission_id))

    def list_permissions(
        self,
        team_id: str,
        user_id: str,
        *,
        permission_id: str | None = None,
        recursive: bool | None = None,
    ) -> builtins.list[TeamPermission]:
        """The permissions ``user_id`` holds in ``team_id`` (``recursive=True`` includes contained ones)."""
        params = {
            "team_id": uuid_arg(team_id, "team_id"),
            "user_id": uuid_arg(user_id, "user_id"),
            "permission_id": None if permission_id is None else text_arg(permission_id, "permission_id"),
            "recursive": recursive,
        }
        data = self._transport.request("GET", "/team-permissions", params=params)
        return structure_items(data, TeamPermission)

    def has_permission(self, team_id: str, user_id: str, permission_id: str) -> bool:
        """Whether ``user_id`` holds ``permission_id`` in ``team_id``, directly or through a permission that
        contains it (as Stack checks it; one request). False when the user is not a member.

        ``if app.teams.has_permission(team.id, user.id, "$update_team"): ...``
        """
        found = self.list_permissions(team_id, user_id, permission_id=permission_id, recursive=True)
        return any(p.id == permission_id for p in found)


def _permission_path(team_id: str, user_id: str, permission_id: str) -> str:
    return (
        f"/team-permissions/{uuid_arg(team_id, 'team_id')}/{uuid_arg(user_id, 'user_id')}/"
        f"{path_segment(permission_id, 'permission_id')}"
    )
