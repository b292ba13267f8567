"""Contact channels (a user's emails): ``app.contact_channels`` (server) and ``app.current_user.*_contact_channel``.

Both send the same requests; only the user segment (a user id, or ``me``) and the way they are sent (secret key, or
the user's tokens) differ, so ``AsyncChannelCalls`` holds the calls once for both.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from typing import Any

from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import InvalidArgumentError, NotFoundError
from stack_auth._known_errors import VerificationError
from stack_auth._validate import code_arg, given, text_arg, url_arg, uuid_arg
from stack_auth.models import NOT_GIVEN, ContactChannel, NotGiven, structure

# The API: what an app hands out. AsyncChannelCalls is the helper both sides share.
__all__ = ["AsyncContactChannels"]

#: Sends one request: ``await send(method, path, params=..., json=...)`` -> the decoded answer.
Send = Callable[..., Awaitable[Any]]


def _channel_type(value: object) -> str:
    if value != "email":
        raise InvalidArgumentError(f"type must be 'email' (Stack's only contact channel type), got {value!r}")
    return "email"


class AsyncChannelCalls:
    """The contact-channel requests of one user (``user`` is a user id or ``"me"``)."""

    def __init__(self, send: Send, user: str) -> None:
        self._send = send
        self._user = user

    def _path(self, channel_id: str) -> str:
        return f"/contact-channels/{self._user}/{uuid_arg(channel_id, 'channel_id')}"

    async def create(
        self,
        value: str,
        *,
        type: str,
        used_for_auth: bool,
        is_primary: bool | NotGiven,
        is_verified: bool | NotGiven = NOT_GIVEN,
    ) -> ContactChannel:
        body = {
            "user_id": self._user,
            "type": _channel_type(type),
            "value": text_arg(value, "value"),
            "used_for_auth": bool(used_for_auth),
            **given(is_primary=is_primary, is_verified=is_verified),
        }
        return structure(await self._send("POST", "/contact-channels", json=body), ContactChannel)

    async def list(self) -> builtins.list[ContactChannel]:
        data = await self._send("GET", "/contact-channels", params={"user_id": self._user})
        return [structure(item, ContactChannel) for item in data["items"]]

    async def get(self, channel_id: str) -> ContactChannel | None:
        try:
            data = await self._send("GET", self._path(channel_id))
        except NotFoundError as exc:
            if exc.code is None:  # Stack answers a plain-text 404 "Contact channel not found."
                return None
            raise
        return structure(data, ContactChannel)

    async def update(
        self,
        channel_id: str,
        *,
        value: str | NotGiven,
        used_for_auth: bool | NotGiven,
        is_primary: bool | NotGiven,
        is_verified: bool | NotGiven = NOT_GIVEN,
    ) -> ContactChannel:
        if not isinstance(value, NotGiven):
            text_arg(value, "value")
        body = given(value=value, used_for_auth=used_for_auth, is_primary=is_primary, is_verified=is_verified)
        return structure(await self._send("PATCH", self._path(channel_id), json=body), ContactChannel)

    async def send_verification_code(self, channel_id: str, callback_url: str) -> None:
        body = {"callback_url": url_arg(callback_url, "callback_url")}
        await self._send("POST", f"{self._path(channel_id)}/send-verification-code", json=body)

    async def delete(self, channel_id: str) -> None:
        await self._send("DELETE", self._path(channel_id))


class AsyncContactChannels:
    """A user's emails (server access): add, list, read, change, verify and remove them.

    ``ch = await app.contact_channels.create(user.id, value="b@example.com", used_for_auth=True)``. The primary
    channel is the user's ``primary_email``: making another one primary, or deleting it, changes what
    ``app.users.get`` shows. Lists are complete (Stack does not paginate a user's channels), oldest first.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    def _calls(self, user_id: str) -> AsyncChannelCalls:
        return AsyncChannelCalls(self._transport.request, uuid_arg(user_id, "user_id"))

    async def create(
        self,
        user_id: str,
        *,
        value: str,
        type: str = "email",
        used_for_auth: bool = False,
        is_primary: bool | NotGiven = NOT_GIVEN,
        is_verified: bool | NotGiven = NOT_GIVEN,
    ) -> ContactChannel:
        """Add an email to a user (``POST /contact-channels``; answers 201).

        ``used_for_auth=True`` lets the user sign in with it; raises
        :class:`~stack_auth.errors.ContactChannelAlreadyUsedForAuthBySomeoneElse` when another user of the project
        signs in with that email. ``is_primary=True`` makes it the user's primary email.
        """
        calls = self._calls(user_id)
        return await calls.create(
            value, type=type, used_for_auth=used_for_auth, is_primary=is_primary, is_verified=is_verified
        )

    async def list(self, user_id: str) -> builtins.list[ContactChannel]:
        """Every channel of the user, oldest first (one complete list)."""
        return await self._calls(user_id).list()

    async def get(self, user_id: str, channel_id: str) -> ContactChannel | None:
        """One channel of the user, or None when the user has no such channel."""
        return await self._calls(user_id).get(channel_id)

    async def update(
        self,
        user_id: str,
        channel_id: str,
        *,
        value: str | NotGiven = NOT_GIVEN,
        used_for_auth: bool | NotGiven = NOT_GIVEN,
        is_primary: bool | NotGiven = NOT_GIVEN,
        is_verified: bool | NotGiven = NOT_GIVEN,
    ) -> ContactChannel:
        """Change what you pass: ``await app.contact_channels.update(user.id, ch.id, is_primary=True)``.

        A new ``value`` is unverified again unless you also pass ``is_verified``.
        """
        calls = self._calls(user_id)
        return await calls.update(
            channel_id, value=value, used_for_auth=used_for_auth, is_primary=is_primary, is_verified=is_verified
        )

    async def send_verification_code(self, user_id: str, channel_id: str, *, callback_url: str) -> None:
        """Mail the user a link to ``callback_url`` carrying a code; your page passes it to the client app's
        ``verify_email(code)``. ``callback_url`` must be on the project's trusted domains
        (:class:`~stack_auth.errors.RedirectUrlNotWhitelisted`); a verified email gives
        :class:`~stack_auth.errors.EmailAlreadyVerified`."""
        await self._calls(user_id).send_verification_code(channel_id, callback_url)

    async def delete(self, user_id: str, channel_id: str) -> None:
        """Remove a channel; removing the primary one leaves the user without a primary email."""
        await self._calls(user_id).delete(channel_id)


async def verify_email(transport: AsyncTransport, code: str) -> None:
    """``POST /contact-channels/verify``: mark the email the code was mailed to as verified."""
    await transport.request("POST", "/contact-channels/verify", json={"code": code_arg(code)})


async def check_code(transport: AsyncTransport, path: str, code: str) -> bool:
    """Whether a mailed code is valid, without using it (Stack's ``.../check-code`` routes): False for an unknown,
    expired or used one."""
    try:
        await transport.request("POST", path, json={"code": code_arg(code)})
    except VerificationError:
        return False
    return True
