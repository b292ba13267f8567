"""Team member profiles (server access): a member's name and image within one team.

A mixin of :class:`~stack_auth._async.resources.teams.AsyncTeams`.
"""

from __future__ import annotations

import builtins

from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import NotFoundError
from stack_auth._validate import given, uuid_arg
from stack_auth.models import NOT_GIVEN, NotGiven, TeamMemberProfile, structure


class AsyncTeamMemberProfiles:
    """List, read and change the profiles members have in a team."""

    _transport: AsyncTransport

    async def list_member_profiles(self, team_id: str) -> builtins.list[TeamMemberProfile]:
        """The profile of every member, in the order they joined (one complete list; each with its ``user``)."""
        params = {"team_id": uuid_arg(team_id, "team_id")}
        data = await self._transport.request("GET", "/team-member-profiles", params=params)
        return [structure(item, TeamMemberProfile) for item in data["items"]]

    async def get_member_profile(self, team_id: str, user_id: str) -> TeamMemberProfile | None:
        """A member's profile in the team, or None when the user is not a member (or does not exist)."""
        try:
            data = await self._transport.request("GET", _path(team_id, user_id))
        except NotFoundError as exc:
            if exc.code in ("TEAM_MEMBERSHIP_NOT_FOUND", "USER_NOT_FOUND"):
                return None
            raise
        return structure(data, TeamMemberProfile)

    async def update_member_profile(
        self,
        team_id: str,
        user_id: str,
        *,
        display_name: str | NotGiven = NOT_GIVEN,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
    ) -> TeamMemberProfile:
        """Change the member's name or image in this team only (the user's own stay as they are).

        ``await app.teams.update_member_profile(team.id, user.id, display_name="Ada (ops)")``
        """
        body = given(display_name=display_name, profile_image_url=profile_image_url)
        return structure(await self._transport.request("PATCH", _path(team_id, user_id), json=body), TeamMemberProfile)


def _path(team_id: str, user_id: str) -> str:
    return f"/team-member-profiles/{uuid_arg(team_id, 'team_id')}/{uuid_arg(user_id, 'user_id')}"
