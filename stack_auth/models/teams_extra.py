"""Models of team invitations (``/team-invitations``) and team member profiles (``/team-member-profiles``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from stack_auth.models._types import ServerUser, _extra, _wire


@attrs.frozen
class TeamInvitation:
    """A pending invitation to join a team, sent to an email (``app.teams.list_invitations``)."""

    id: str
    team_id: str
    recipient_email: str | None = None
    expires_at: datetime | None = attrs.field(default=None, metadata=_wire("expires_at_millis"))
    #: The team's name (the real server sends it though its OpenAPI does not list it).
    team_display_name: str | None = None
    #: Keys of the answer this version of the SDK does not know yet.
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class TeamInvitationDetails:
    """What an invitation code leads to, before it is accepted (``app.team_invitation_details(code)``)."""

    team_id: str
    team_display_name: str | None = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class TeamMemberProfile:
    """A member's profile in one team: its own display name and image, or the user's when it has none.

    ``user`` is the whole user with server access, None with client access.
    """

    team_id: str
    user_id: str
    display_name: str | None = None
    profile_image_url: str | None = None
    user: ServerUser | None = None
    extra: Mapping[str, Any] = _extra
