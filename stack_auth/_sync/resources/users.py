# GENERATED from stack_auth/_async/resources/users.py by scripts/gen_sync.py: edit the source, not this file.
"""Users (server access): ``app.users``."""

from __future__ import annotations

from typing import Any

from stack_auth._sync._pagination import Pager
from stack_auth._sync._transport import Transport
from stack_auth._sync.resources.api_keys import UserApiKeys
from stack_auth._sync.resources.permissions import UserPermissions
from stack_auth._config import DEFAULT_PAGE_SIZE
from stack_auth._exceptions import NotFoundError
from stack_auth._validate import given, page_size, uuid_arg
from stack_auth.models import NOT_GIVEN, NotGiven, Page, ServerUser, structure, structure_page


class Users(UserPermissions):
    """Create, read, list, update and delete the project's users; grant and check their project permissions."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        *,
        primary_email: str | NotGiven | None = NOT_GIVEN,
        password: str | NotGiven | None = NOT_GIVEN,
        display_name: str | NotGiven | None = NOT_GIVEN,
        primary_email_verified: bool | NotGiven = NOT_GIVEN,
        primary_email_auth_enabled: bool | NotGiven = NOT_GIVEN,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
        client_metadata: Any | NotGiven = NOT_GIVEN,
        client_read_only_metadata: Any | NotGiven = NOT_GIVEN,
        server_metadata: Any | NotGiven = NOT_GIVEN,
        password_hash: str | NotGiven | None = NOT_GIVEN,
        otp_auth_enabled: bool | NotGiven = NOT_GIVEN,
        passkey_auth_enabled: bool | NotGiven = NOT_GIVEN,
        totp_secret_base64: str | NotGiven | None = NOT_GIVEN,
        is_anonymous: bool | NotGiven = NOT_GIVEN,
        country_code: str | NotGiven | None = NOT_GIVEN,
        oauth_providers: list[dict[str, Any]] | NotGiven = NOT_GIVEN,
    ) -> ServerUser:
        """Create a user; ``POST /users``. Sent once: a create is never retried after it may have reached Stack.

        ``user = app.users.create(primary_email="a@x.io", password="...", primary_email_auth_enabled=True)``

        As on Stack, an email is only unique (and usable to sign in) with ``primary_email_auth_enabled=True``.

        Raises :class:`~stack_auth.errors.UserEmailAlreadyExists` when the email is taken.
        """
        body = given(
            primary_email=primary_email,
            password=password,
            display_name=display_name,
            primary_email_verified=primary_email_verified,
            primary_email_auth_enabled=primary_email_auth_enabled,
            profile_image_url=profile_image_url,
            client_metadata=client_metadata,
            client_read_only_metadata=client_read_only_metadata,
            server_metadata=server_metadata,
            password_hash=password_hash,
            otp_auth_enabled=otp_auth_enabled,
            passkey_auth_enabled=passkey_auth_enabled,
            totp_secret_base64=totp_secret_base64,
            is_anonymous=is_anonymous,
            country_code=country_code,
            oauth_providers=oauth_providers,
        )
        return structure(self._transport.request("POST", "/users", json=body), ServerUser)

    def get(self, user_id: str) -> ServerUser | None:
        """The user with this id, or None when there is none: ``user = app.users.get(user_id)``."""
        try:
            data = self._transport.request("GET", f"/users/{uuid_arg(user_id, 'user_id')}")
        except NotFoundError as exc:
            if exc.code == "USER_NOT_FOUND":
                return None
            raise
        return structure(data, ServerUser)

    def list(
        self,
        *,
        query: str | None = None,
        order_by: str | None = None,
        desc: bool | None = None,
        team_id: str | None = None,
        include_anonymous: bool | None = None,
        include_restricted: bool | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Pager[ServerUser]:
        """Every matching user, across pages: ``for user in app.users.list(query="example.com"): ...``.

        ``query`` searches emails, display names and exact ids; ``team_id`` lists a team's members;
        ``order_by="signed_up_at"`` with ``desc=True`` gives the newest first. ``limit`` is the page size.
        """
        params = _list_params(query, order_by, desc, team_id, include_anonymous, include_restricted, limit)

        def fetch(page_cursor: str | None) -> Page[ServerUser]:
            data = self._transport.request("GET", "/users", params={**params, "cursor": page_cursor})
            return structure_page(data, ServerUser)

        return Pager(fetch, cursor)

    def list_page(
        self,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
        desc: bool | None = None,
        team_id: str | None = None,
        include_anonymous: bool | None = None,
        include_restricted: bool | None = None,
    ) -> Page[ServerUser]:
        """One page of users; pass the previous page's ``next_cursor`` as ``cursor`` for the next one."""
        params = _list_params(query, order_by, desc, team_id, include_anonymous, include_restricted, limit)
        data = self._transport.request("GET", "/users", params={**params, "cursor": cursor})
        return structure_page(data, ServerUser)

    def update(
        self,
        user_id: str,
        *,
        display_name: str | NotGiven | None = NOT_GIVEN,
        primary_email: str | NotGiven | None = NOT_GIVEN,
        primary_email_verified: bool | NotGiven = NOT_GIVEN,
        primary_email_auth_enabled: bool | NotGiven = NOT_GIVEN,
        profile_image_url: str | NotGiven | None = NOT_GIVEN,
        client_metadata: Any | NotGiven = NOT_GIVEN,
        client_read_only_metadata: Any | NotGiven = NOT_GIVEN,
        server_metadata: Any | NotGiven = NOT_GIVEN,
        password: str | NotGiven | None = NOT_GIVEN,
        password_hash: str | NotGiven | None = NOT_GIVEN,
        otp_auth_enabled: bool | NotGiven = NOT_GIVEN,
        passkey_auth_enabled: bool | NotGiven = NOT_GIVEN,
        totp_secret_base64: str | NotGiven | None = NOT_GIVEN,
        selected_team_id: str | NotGiven | None = NOT_GIVEN,
        is_anonymous: bool | NotGiven = NOT_GIVEN,
        restricted_by_admin: bool | NotGiven = NOT_GIVEN,
        restricted_by_admin_reason: str | NotGiven | None = NOT_GIVEN,
        restricted_by_admin_private_details: str | NotGiven | None = NOT_GIVEN,
        country_code: str | NotGiven | None = NOT_GIVEN,
    ) -> ServerUser:
        """Change the fields you pass: None clears a field, an argument you leave out is left alone.

        ``app.users.update(user_id, display_name=None, server_metadata={"plan": "pro"})``
        """
        body = given(
            display_name=display_name,
            primary_email=primary_email,
            primary_email_verified=primary_email_verified,
            primary_email_auth_enabled=primary_email_auth_enabled,
            profile_image_url=profile_image_url,
            client_metadata=client_metadata,
            client_read_only_metadata=client_read_only_metadata,
            server_metadata=server_metadata,
            password=password,
            password_hash=password_hash,
            otp_auth_enabled=otp_auth_enabled,
            passkey_auth_enabled=passkey_auth_enabled,
            totp_secret_base64=totp_secret_base64,
            selected_team_id=selected_team_id,
            is_anonymous=is_anonymous,
            restricted_by_admin=restricted_by_admin,
            restricted_by_admin_reason=restricted_by_admin_reason,
            restricted_by_admin_private_details=restricted_by_admin_private_details,
            country_code=country_code,
        )
        data = self._transport.request("PATCH", f"/users/{uuid_arg(user_id, 'user_id')}", json=body)
        return structure(data, ServerUser)

    def delete(self, user_id: str) -> None:
        """Delete a user (and their sessions): ``app.users.delete(user_id)``."""
        self._transport.request("DELETE", f"/users/{uuid_arg(user_id, 'user_id')}")

    def get_by_api_key(self, secret: str) -> ServerUser | None:
        """The user a valid user API key belongs to, or None (unknown, revoked or expired key): two requests.

        ``user = app.users.get_by_api_key(request.headers["x-stack-api-key"])``
        """
        key = UserApiKeys(self._transport).check(secret)
        return None if key is None else self.get(key.user_id)


def _list_params(
    query: str | None,
    order_by: str | None,
    desc: bool | None,
    team_id: str | None,
    include_anonymous: bool | None,
    include_restricted: bool | None,
    limit: int,
) -> dict[str, Any]:
    return {
        "query": query,
        "order_by": order_by,
        "desc": desc,
        "team_id": None if team_id is None else uuid_arg(team_id, "team_id"),
        "include_anonymous": include_anonymous,
        "include_restricted": include_restricted,
        "limit": page_size(limit),
    }
