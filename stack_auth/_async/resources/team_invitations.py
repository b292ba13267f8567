"""Team invitations (server access): ``app.teams.invite``, ``list_invitations``, ``revoke_invitation``.

A mixin of :class:`~stack_auth._async.resources.teams.AsyncTeams`. The invited person accepts with the client app:
``await client.current_user.accept_team_invitation(code)`` (the code from the mailed link).
"""

from __future__ import annotations

import builtins

from stack_auth._async._transport import AsyncTransport
from stack_auth._validate import text_arg, url_arg, uuid_arg
from stack_auth.models import TeamInvitation, structure


class AsyncTeamInvitations:
    """Invite people to a team by email, list the pending invitations, revoke one."""

    _transport: AsyncTransport

    async def invite(self, team_id: str, email: str, *, callback_url: str) -> str:
        """Mail ``email`` a link to ``callback_url`` (on a trusted domain) that invites them to the team; the id of
        the invitation (``POST /team-invitations/send-code``).

        ``inv_id = await app.teams.invite(team.id, "c@example.com", callback_url="https://app.example/join")``.
        Raises :class:`~stack_auth.errors.RedirectUrlNotWhitelisted` for an untrusted URL. (Stack answers a team
        that does not exist with a 500, raised as :class:`~stack_auth.errors.InternalServerError`.)
        """
        body = {
            "team_id": uuid_arg(team_id, "team_id"),
            "email": text_arg(email, "email"),
            "callback_url": url_arg(callback_url, "callback_url"),
        }
        data = await self._transport.request("POST", "/team-invitations/send-code", json=body)
        return str(data["id"])

    async def list_invitations(self, team_id: str) -> builtins.list[TeamInvitation]:
        """The team's pending (unused, unexpired) invitations, as one complete list (Stack does not paginate it)."""
        params = {"team_id": uuid_arg(team_id, "team_id")}
        data = await self._transport.request("GET", "/team-invitations", params=params)
        return [structure(item, TeamInvitation) for item in data["items"]]

    async def revoke_invitation(self, team_id: str, invitation_id: str) -> None:
        """Revoke an invitation: its link stops working (``DELETE /team-invitations/{id}?team_id=``; Stack needs the
        team id, though its OpenAPI does not say so)."""
        path = f"/team-invitations/{uuid_arg(invitation_id, 'invitation_id')}"
        await self._transport.request("DELETE", path, params={"team_id": uuid_arg(team_id, "team_id")})
