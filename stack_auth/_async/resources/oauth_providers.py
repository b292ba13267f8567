"""OAuth accounts linked to users (server access): ``app.oauth_providers``.

A link ties a user to an account at a provider the project configured (``provider_config_id``, e.g. ``"github"``).
Stack refuses a second sign-in link of the same provider for one user, and an account id that already signs someone
in (:class:`~stack_auth.errors.OauthProviderAccountIdAlreadyUsedForSignIn`). Lists are complete (not paginated).
"""

from __future__ import annotations

import builtins

from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import NotFoundError
from stack_auth._validate import bool_arg, given, text_arg, uuid_arg
from stack_auth.models import NOT_GIVEN, NotGiven, ServerOAuthProvider, structure, structure_items


class AsyncOAuthProviders:
    """Link, list, read, change and unlink users' OAuth accounts."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def create(
        self,
        user_id: str,
        *,
        provider_config_id: str,
        account_id: str,
        email: str | None = None,
        allow_sign_in: bool = True,
        allow_connected_accounts: bool = True,
    ) -> ServerOAuthProvider:
        """Link an account at a configured provider to a user (``POST /oauth-providers``).

        ``p = await app.oauth_providers.create(user.id, provider_config_id="github", account_id="1234",
        email="a@example.com")``
        """
        body = {
            "user_id": uuid_arg(user_id, "user_id"),
            "provider_config_id": text_arg(provider_config_id, "provider_config_id"),
            "account_id": text_arg(account_id, "account_id"),
            "allow_sign_in": bool_arg(allow_sign_in, "allow_sign_in"),
            "allow_connected_accounts": bool_arg(allow_connected_accounts, "allow_connected_accounts"),
        }
        if email is not None:
            body["email"] = text_arg(email, "email")
        return structure(await self._transport.request("POST", "/oauth-providers", json=body), ServerOAuthProvider)

    async def list(self, *, user_id: str | None = None) -> builtins.list[ServerOAuthProvider]:
        """The accounts linked to ``user_id`` (every user's without it), oldest first."""
        params = {"user_id": None if user_id is None else uuid_arg(user_id, "user_id")}
        data = await self._transport.request("GET", "/oauth-providers", params=params)
        return structure_items(data, ServerOAuthProvider)

    async def get(self, user_id: str, provider_id: str) -> ServerOAuthProvider | None:
        """The link ``provider_id`` of a user, or None when the user has no such link."""
        try:
            data = await self._transport.request("GET", _path(user_id, provider_id))
        except NotFoundError as exc:
            if exc.code is None:  # Stack answers a missing link with a plain-text 404
                return None
            raise
        return structure(data, ServerOAuthProvider)

    async def update(
        self,
        user_id: str,
        provider_id: str,
        *,
        account_id: str | NotGiven = NOT_GIVEN,
        email: str | NotGiven = NOT_GIVEN,
        allow_sign_in: bool | NotGiven = NOT_GIVEN,
        allow_connected_accounts: bool | NotGiven = NOT_GIVEN,
    ) -> ServerOAuthProvider:
        """Change the fields you pass: ``await app.oauth_providers.update(user.id, p.id, allow_sign_in=False)``."""
        if not isinstance(account_id, NotGiven):
            text_arg(account_id, "account_id")
        if not isinstance(email, NotGiven):
            text_arg(email, "email")
        for name, flag in (("allow_sign_in", allow_sign_in), ("allow_connected_accounts", allow_connected_accounts)):
            if not isinstance(flag, NotGiven):
                bool_arg(flag, name)
        body = given(
            account_id=account_id,
            email=email,
            allow_sign_in=allow_sign_in,
            allow_connected_accounts=allow_connected_accounts,
        )
        data = await self._transport.request("PATCH", _path(user_id, provider_id), json=body)
        return structure(data, ServerOAuthProvider)

    async def delete(self, user_id: str, provider_id: str) -> None:
        """Unlink an account (a missing link raises :class:`~stack_auth.errors.NotFoundError`)."""
        await self._transport.request("DELETE", _path(user_id, provider_id))


def _path(user_id: str, provider_id: str) -> str:
    return f"/oauth-providers/{uuid_arg(user_id, 'user_id')}/{uuid_arg(provider_id, 'provider_id')}"
