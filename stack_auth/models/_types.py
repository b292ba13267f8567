"""The model classes. Field lists follow the real server's read schemas (``packages/stack-shared/.../crud``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Generic, Literal, TypeVar

import attrs

T = TypeVar("T")


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`: "leave this field alone", as opposed to None, "clear this field"."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


def _wire(name: str) -> Any:
    return {"wire": name}


_extra: Any = attrs.field(factory=dict, repr=False, eq=False, kw_only=True)


@attrs.frozen
class Team:
    """A team. ``created_at`` and ``server_metadata`` are None when read with client access."""

    id: str
    display_name: str | None = None
    profile_image_url: str | None = None
    client_metadata: Any = None
    client_read_only_metadata: Any = None
    server_metadata: Any = None
    created_at: datetime | None = attrs.field(default=None, metadata=_wire("created_at_millis"))
    #: Keys of the answer this version of the SDK does not know yet.
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class OAuthProvider:
    """An OAuth account linked to a user."""

    id: str
    account_id: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class ClientUser:
    """A user as client access (the user's own session) sees it."""

    id: str
    primary_email: str | None = None
    primary_email_verified: bool = False
    display_name: str | None = None
    selected_team_id: str | None = None
    selected_team: Team | None = None
    profile_image_url: str | None = None
    signed_up_at: datetime | None = attrs.field(default=None, metadata=_wire("signed_up_at_millis"))
    has_password: bool = False
    otp_auth_enabled: bool = False
    passkey_auth_enabled: bool = False
    client_metadata: Any = None
    client_read_only_metadata: Any = None
    is_anonymous: bool = False
    is_restricted: bool = False
    restricted_reason: Any = None
    restricted_by_admin: bool = False
    restricted_by_admin_reason: str | None = None
    oauth_providers: tuple[OAuthProvider, ...] = ()
    auth_with_email: bool = False
    requires_totp_mfa: bool = False
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class ServerUser(ClientUser):
    """A user with every field the server access type reads (``app.users.get``, ``list``, ``create``...)."""

    primary_email_auth_enabled: bool = False
    server_metadata: Any = None
    last_active_at: datetime | None = attrs.field(default=None, metadata=_wire("last_active_at_millis"))
    restricted_by_admin_private_details: str | None = None
    country_code: str | None = None
    risk_scores: Any = None


@attrs.frozen
class SessionInfo:
    """One of a user's sessions (``app.sessions.list``)."""

    id: str
    user_id: str
    created_at: datetime
    is_impersonation: bool = False
    last_used_at: datetime | None = None
    is_current_session: bool | None = None
    last_used_at_end_user_ip_info: Any = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class SessionTokens:
    """The tokens of a session. ``repr()`` never shows them."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class TeamMembership:
    """A user's membership in a team."""

    team_id: str
    user_id: str
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class TeamPermission:
    """A permission a user holds in a team."""

    id: str
    team_id: str | None = None
    user_id: str | None = None
    extra: Mapping[str, Any] = _extra


@attrs.frozen
class Page(Generic[T]):
    """One page of a list. ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None
