"""The signed-in user of a token store: ``app.current_user`` (client app, and server app with ``tokens=``)."""

from __future__ import annotations

import builtins
import contextlib
import functools
from datetime import datetime
from typing import Any, Generic, TypeVar

from stack_auth._async._token_session import AsyncTokenSession
from stack_auth._async.resources.api_keys import create_body
from stack_auth._async.resources.contact_channels import AsyncChannelCalls
from stack_auth._known_errors import (
    AnonymousAuthenticationNotAllowed,
    CannotGetOwnUserWithoutUser,
    RefreshTokenError,
    RestrictedUserNotAllowed,
    SessionAuthenticationError,
    UserNotFound,
)
from stack_auth._validate import code_arg, given, text_arg, uuid_arg
from stack_auth.models import (
    NOT_GIVEN,
    ClientUser,
    ContactChannel,
    NotGiven,
    SessionInfo,
    Team,
    UserApiKey,
    structure,
    structure_items,
)
from stack_auth.tokens import TokensInput

UserT = TypeVar("UserT", bound=ClientUser)

#: Answers that mean "there is no (acceptable) signed-in user", not "something broke".
NOT_SIGNED_IN = (
    SessionAuthenticationError,
    RefreshTokenError,
    CannotGetOwnUserWithoutUser,
    AnonymousAuthenticationNotAllowed,
    RestrictedUserNotAllowed,
    UserNotFound,
)


class AsyncCurrentUser(Generic[UserT]):
    """Read and change the user the tokens belong to; list their teams and sessions; sign them out.

    Every method takes ``tokens=``: a request, a :class:`~stack_auth.tokens.TokenStore`, ``SessionTokens``, a
    mapping ``{"access_token", "refresh_token"}`` or a bare access token; without it, the app's token store is used
    (the client app's default is the shared in-memory store). Tokens are refreshed as needed and refreshed tokens
    are saved back into the store.
    """

    def __init__(self, session: AsyncTokenSession, user_cls: type[UserT]) -> None:
        self._session = session
        self._user_cls = user_cls

    async def get(
        self, *, tokens: TokensInput | None = None, allow_anonymous: bool = False, allow_restricted: bool = False
    ) -> UserT | None:
        """The signed-in user, fresh from ``GET /users/me``, or None when signed out or the session is invalid.

        ``user = await app.current_user.get()``; anonymous and restricted users count as signed out unless allowed.
        """
        store = self._session.store(tokens)
        if store.is_empty:
            return None
        try:
            data = await self._session.request(
                "GET", "/users/me", store=store, allow_anonymous=allow_anonymous, allow_restricted=allow_restricted
            )
        except NOT_SIGNED_IN:
            return None
        return structure(data, self._user_cls)

    async def update(
        self,
        *,
        display_name: str | NotGiven | None = NOT_GIVEN,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
        client_metadata: Any | NotGiven = NOT_GIVEN,
        selected_team_id: str | NotGiven | None = NOT_GIVEN,
        tokens: TokensInput | None = None,
    ) -> UserT:
        """Change the user's own profile (``PATCH /users/me``): None clears a field, a left-out argument is kept.

        ``user = await app.current_user.update(display_name="Ada", client_metadata={"theme": "dark"})``
        """
        if isinstance(selected_team_id, str):
            uuid_arg(selected_team_id, "selected_team_id")
        body = given(
            display_name=display_name,
            profile_image_url=profile_image_url,
            client_metadata=client_metadata,
            selected_team_id=selected_team_id,
        )
        data = await self._session.request("PATCH", "/users/me", store=self._session.store(tokens), json=body)
        return structure(data, self._user_cls)

    async def delete(self, *, tokens: TokensInput | None = None) -> None:
        """Delete the signed-in user for good (``DELETE /users/me``), then clear the store: they are signed out.

        ``await app.current_user.delete()``. From a client app, Stack allows it only in projects that enable
        client user deletion (``client_user_deletion_enabled`` in the config of the
        :class:`~stack_auth.models.Project` that ``app.get_project()`` returns); elsewhere it answers 403, raised
        as :class:`~stack_auth.errors.PermissionDeniedError`, and the user and the store stay as they were. A
        server app deletes any user with ``app.users.delete(user_id)``.
        """
        store = self._session.store(tokens)
        await self._session.request("DELETE", "/users/me", store=store)
        store.clear()

    async def list_teams(self, *, tokens: TokensInput | None = None) -> builtins.list[Team]:
        """The teams the user is a member of."""
        store = self._session.store(tokens)
        data = await self._session.request("GET", "/teams", store=store, params={"user_id": "me"})
        return structure_items(data, Team)

    async def list_sessions(self, *, tokens: TokensInput | None = None) -> builtins.list[SessionInfo]:
        """The user's active sessions; ``is_current_session`` marks the one of these tokens."""
        store = self._session.store(tokens)
        data = await self._session.request("GET", "/auth/sessions", store=store, params={"user_id": "me"})
        return structure_items(data, SessionInfo)

    async def list_api_keys(self, *, tokens: TokensInput | None = None) -> builtins.list[UserApiKey]:
        """The user's own API keys (where the project enables user API keys), newest first."""
        store = self._session.store(tokens)
        data = await self._session.request("GET", "/user-api-keys", store=store, params={"user_id": "me"})
        return structure_items(data, UserApiKey)

    async def create_api_key(
        self,
        *,
        description: str,
        expires_at: datetime | None = None,
        is_public: bool = False,
        tokens: TokensInput | None = None,
    ) -> UserApiKey:
        """Issue an API key for the user themselves; ``key.secret`` is the full key, shown this once.

        ``key = await app.current_user.create_api_key(description="my laptop")``
        """
        body = create_body({"user_id": "me"}, description, expires_at, is_public)
        data = await self._session.request("POST", "/user-api-keys", store=self._session.store(tokens), json=body)
        return structure(data, UserApiKey)

    async def update_password(self, old_password: str, new_password: str, *, tokens: TokensInput | None = None) -> None:
        """Change the user's password (``POST /auth/password/update``). Raises
        :class:`~stack_auth.errors.PasswordConfirmationMismatch` when ``old_password`` is wrong,
        :class:`~stack_auth.errors.UserDoesNotHavePassword` for a user without one (use :meth:`set_password`)."""
        body = {
            "old_password": text_arg(old_password, "old_password"),
            "new_password": text_arg(new_password, "new_password"),
        }
        await self._session.request("POST", "/auth/password/update", store=self._session.store(tokens), json=body)

    async def set_password(self, new_password: str, *, tokens: TokensInput | None = None) -> None:
        """Give a password to a user who has none yet (signed up with a code or OAuth): ``POST /auth/password/set``.
        A user who has one gets a 400 :class:`~stack_auth.errors.BadRequestError`; use :meth:`update_password`."""
        body = {"password": text_arg(new_password, "new_password")}
        await self._session.request("POST", "/auth/password/set", store=self._session.store(tokens), json=body)

    # --- contact channels (the user's own emails) ------------------------------------------------------------------

    def _channels(self, tokens: TokensInput | None) -> AsyncChannelCalls:
        return AsyncChannelCalls(functools.partial(self._session.request, store=self._session.store(tokens)), "me")

    async def list_contact_channels(self, *, tokens: TokensInput | None = None) -> builtins.list[ContactChannel]:
        """The user's emails, oldest first (one complete list): ``await app.current_user.list_contact_channels()``."""
        return await self._channels(tokens).list()

    async def create_contact_channel(
        self,
        *,
        value: str,
        type: str = "email",
        used_for_auth: bool = False,
        is_primary: bool | NotGiven = NOT_GIVEN,
        tokens: TokensInput | None = None,
    ) -> ContactChannel:
        """Add an email to the user (unverified; send it a code with :meth:`send_contact_channel_verification_code`).

        ``ch = await app.current_user.create_contact_channel(value="work@example.com")``
        """
        calls = self._channels(tokens)
        return await calls.create(value, type=type, used_for_auth=used_for_auth, is_primary=is_primary)

    async def update_contact_channel(
        self,
        channel_id: str,
        *,
        value: str | NotGiven = NOT_GIVEN,
        used_for_auth: bool | NotGiven = NOT_GIVEN,
        is_primary: bool | NotGiven = NOT_GIVEN,
        tokens: TokensInput | None = None,
    ) -> ContactChannel:
        """Change one of the user's emails (a client cannot mark it verified: that takes the mailed code)."""
        calls = self._channels(tokens)
        return await calls.update(channel_id, value=value, used_for_auth=used_for_auth, is_primary=is_primary)

    async def delete_contact_channel(self, channel_id: str, *, tokens: TokensInput | None = None) -> None:
        """Remove one of the user's emails."""
        await self._channels(tokens).delete(channel_id)

    async def send_contact_channel_verification_code(
        self, channel_id: str, *, callback_url: str, tokens: TokensInput | None = None
    ) -> None:
        """Mail a verification link to ``callback_url`` (a trusted domain) for one of the user's emails."""
        await self._channels(tokens).send_verification_code(channel_id, callback_url)

    async def accept_team_invitation(self, code: str, *, tokens: TokensInput | None = None) -> None:
        """Join the team of an invitation, with the ``code`` from the mailed link (``POST /team-invitations/accept``).

        Accepting as a member already is not an error. Raises a :class:`~stack_auth.errors.VerificationError`
        subclass for an unknown, expired or used code. As on Stack, the code is spent even when the call then
        fails for lack of a (usable) signed-in user.
        """
        store = self._session.store(tokens)
        await self._session.request("POST", "/team-invitations/accept", store=store, json={"code": code_arg(code)})

    async def sign_out(self, *, tokens: TokensInput | None = None) -> None:
        """End the session (``DELETE /auth/sessions/current``: its refresh token stops working) and clear the store.

        Signing out of a session that already ended is not an error. Access tokens already issued stay valid until
        they expire (Stack's access tokens are stateless).
        """
        store = self._session.store(tokens)
        if store.is_empty:
            return
        with contextlib.suppress(*NOT_SIGNED_IN):
            await self._session.request("DELETE", "/auth/sessions/current", store=store)
        store.clear()
