"""A user's contact channels (emails) in the emulator's state, and how they keep the user's email fields in step.

Stack stores a user's emails as contact channels and reads ``primary_email``, ``primary_email_verified`` and
``primary_email_auth_enabled`` from the primary one; an email used for auth belongs to one user of the project. The
:class:`ContactChannels` mixin of :class:`~stack_auth.testing.state.Project` keeps both views (the channels, the
user's fields) and the project's auth-email index consistent, whichever route changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stack_auth.testing.state import Ids, User


@dataclass
class ContactChannel:
    """One of a user's contact channels (emails). The primary one is what the user's ``primary_email*`` show."""

    id: str
    user_id: str
    value: str
    type: str = "email"
    is_verified: bool = False
    used_for_auth: bool = False
    is_primary: bool = False


class ContactChannels:
    """Channel operations of a project (call them with the store lock held)."""

    # Provided by the project (see :class:`~stack_auth.testing.state.Project`).
    users: dict[str, User]
    auth_emails: dict[str, str]
    channels: dict[str, dict[str, ContactChannel]]
    ids: Ids

    def primary_channel(self, user_id: str) -> ContactChannel | None:
        return next((c for c in self.channels.get(user_id, {}).values() if c.is_primary), None)

    def channel_by_value(self, user_id: str, value: str) -> ContactChannel | None:
        return next((c for c in self.channels.get(user_id, {}).values() if c.value == value), None)

    def add_channel(
        self, user: User, value: str, *, is_verified: bool, used_for_auth: bool, is_primary: bool
    ) -> ContactChannel:
        """A new channel of ``user`` (uniqueness is the caller's check: the error differs per route)."""
        channel = ContactChannel(self.ids.uuid(), user.id, value, "email", is_verified, used_for_auth)
        self.channels[user.id][channel.id] = channel
        if used_for_auth:
            self.auth_emails[value] = user.id
        if is_primary:
            self.change_channel(channel, is_primary=True)
        return channel

    def change_channel(
        self,
        channel: ContactChannel,
        *,
        value: str | None = None,
        is_verified: bool | None = None,
        used_for_auth: bool | None = None,
        is_primary: bool | None = None,
    ) -> None:
        """Change what is given; the auth-email index and the user's ``primary_email*`` fields follow."""
        if channel.used_for_auth and self.auth_emails.get(channel.value) == channel.user_id:
            del self.auth_emails[channel.value]
        if value is not None:
            channel.value = value
        if is_verified is not None:
            channel.is_verified = is_verified
        if used_for_auth is not None:
            channel.used_for_auth = used_for_auth
        if is_primary:
            for other in self.channels[channel.user_id].values():
                other.is_primary = False
        if is_primary is not None:
            channel.is_primary = is_primary
        if channel.used_for_auth:
            self.auth_emails[channel.value] = channel.user_id
        self._sync_primary_email(channel.user_id)

    def delete_channel(self, channel: ContactChannel) -> None:
        """Remove a channel; deleting the primary email leaves the user without one."""
        del self.channels[channel.user_id][channel.id]
        if channel.used_for_auth and self.auth_emails.get(channel.value) == channel.user_id:
            del self.auth_emails[channel.value]
        self._sync_primary_email(channel.user_id)

    def _sync_primary_email(self, user_id: str) -> None:
        """The user's ``primary_email*`` fields as its primary channel says (Stack reads them from it)."""
        user = self.users[user_id]
        primary = self.primary_channel(user_id)
        user.primary_email = primary.value if primary is not None else None
        user.primary_email_verified = primary.is_verified if primary is not None else False
        user.primary_email_auth_enabled = primary.used_for_auth if primary is not None else False
