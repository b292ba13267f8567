"""API keys of users and teams (``/user-api-keys``, ``/team-api-keys``).

Stack answers a key's ``value`` in two shapes: the full secret (a string) once, in the create answer, and
``{"last_four": "..."}`` everywhere else. The models split it into :attr:`ApiKey.secret` (the create answer only,
never in ``repr``) and :attr:`ApiKey.last_four` (always).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

import attrs

from stack_auth.models._types import _extra, _wire

KeyT = TypeVar("KeyT", bound="ApiKey")


@attrs.frozen
class ApiKey:
    """What user and team API keys share. ``expires_at`` None: never expires; ``manually_revoked_at`` None: live."""

    id: str
    created_at: datetime = attrs.field(metadata=_wire("created_at_millis"))
    description: str | None = None
    is_public: bool = False
    expires_at: datetime | None = attrs.field(default=None, metadata=_wire("expires_at_millis"))
    manually_revoked_at: datetime | None = attrs.field(default=None, metadata=_wire("manually_revoked_at_millis"))
    #: ``"user"`` or ``"team"``.
    type: str | None = None
    #: The last four characters of the secret (shown in dashboards to tell keys apart).
    last_four: str | None = attrs.field(default=None, metadata=_wire("value"))
    #: The full key: only in the answer of ``create`` (Stack never shows it again). Never in ``repr``.
    secret: str | None = attrs.field(default=None, repr=False)
    extra: Mapping[str, Any] = _extra

    @staticmethod
    def _from_wire(data: Mapping[str, Any]) -> Mapping[str, Any]:
        """``value`` is the secret (create answers) or ``{"last_four"}``: both become ``last_four`` (+ ``secret``)."""
        value = data.get("value")
        if isinstance(value, str):
            return {**data, "value": value[-4:], "secret": value}
        if isinstance(value, Mapping):
            return {**data, "value": value.get("last_four")}
        return data

    def why_invalid(self, now: datetime | None = None) -> Literal["manually-revoked", "expired"] | None:
        """Why ``check`` would refuse this key (as of ``now``, default the current time), or None if it is valid."""
        if self.manually_revoked_at is not None:
            return "manually-revoked"
        if self.expires_at is not None and self.expires_at < (now or datetime.now(timezone.utc)):
            return "expired"
        return None

    def is_valid(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired (as of ``now``): ``if key.is_valid(): ...``."""
        return self.why_invalid(now) is None


@attrs.frozen
class UserApiKey(ApiKey):
    """An API key of a user (``app.user_api_keys``)."""

    user_id: str = attrs.field(kw_only=True)


@attrs.frozen
class TeamApiKey(ApiKey):
    """An API key of a team (``app.team_api_keys``)."""

    team_id: str = attrs.field(kw_only=True)
