"""API keys of users and teams (server access): ``app.user_api_keys`` and ``app.team_api_keys``.

Stack shows a key's secret once, in the answer of ``create`` (``key.secret``); afterwards only its last four
characters. Keys are never deleted, only revoked (``PATCH {"revoked": true}``, which cannot be undone). Lists are
complete lists: Stack does not paginate them.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timezone
from typing import Any, Generic

from stack_auth._api_key_format import check_api_key_format
from stack_auth._async._transport import AsyncTransport
from stack_auth._exceptions import InvalidArgumentError
from stack_auth._known_errors import ApiKeyExpired, ApiKeyNotFound, ApiKeyRevoked
from stack_auth._validate import bool_arg, given, uuid_arg
from stack_auth.models import NOT_GIVEN, NotGiven, TeamApiKey, UserApiKey, structure, structure_items
from stack_auth.models.api_keys import KeyT

#: ``check`` answers None for these: the key does not (or no longer) authenticate anyone.
REFUSED_KEY = (ApiKeyNotFound, ApiKeyRevoked, ApiKeyExpired)


def create_body(
    owner: dict[str, str], description: str, expires_at: datetime | None, is_public: bool
) -> dict[str, Any]:
    """The body of ``POST /{user,team}-api-keys``, checked: Stack requires ``expires_at_millis`` (null = never)."""
    if not isinstance(description, str):
        raise InvalidArgumentError(f"description must be a string, got {description!r}")
    bool_arg(is_public, "is_public")
    body: dict[str, Any] = {**owner, "description": description, "expires_at_millis": _expiry_millis(expires_at)}
    if is_public:
        body["is_public"] = True
    return body


def _expiry_millis(expires_at: datetime | None) -> int | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise InvalidArgumentError(
            f"expires_at must be a timezone-aware datetime (e.g. datetime.now(timezone.utc) + timedelta(days=30)) "
            f"or None for a key that never expires, got {expires_at!r}"
        )
    if expires_at <= datetime.now(timezone.utc):
        # Stack would accept it and issue a key that is refused from the start.
        raise InvalidArgumentError(f"expires_at is in the past ({expires_at.isoformat()}): the key would never work")
    return round(expires_at.timestamp() * 1000)


class _ApiKeys(Generic[KeyT]):
    """What user and team keys share: the path, the model and ``check``."""

    _kind: str
    _model: type[KeyT]

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self._path = f"/{self._kind}-api-keys"

    async def _post(self, body: dict[str, Any]) -> KeyT:
        return structure(await self._transport.request("POST", self._path, json=body), self._model)

    async def _list(self, owner: str, owner_id: str) -> builtins.list[KeyT]:
        data = await self._transport.request("GET", self._path, params={owner: uuid_arg(owner_id, owner)})
        return structure_items(data, self._model)

    async def _get(self, key_id: str, params: dict[str, str] | None) -> KeyT | None:
        path = f"{self._path}/{uuid_arg(key_id, 'key_id')}"
        try:
            data = await self._transport.request("GET", path, params=params)
        except ApiKeyNotFound:
            return None
        return structure(data, self._model)

    async def _patch(self, key_id: str, params: dict[str, str] | None, body: dict[str, Any]) -> KeyT:
        path = f"{self._path}/{uuid_arg(key_id, 'key_id')}"
        return structure(await self._transport.request("PATCH", path, params=params, json=body), self._model)

    async def check(self, secret: str) -> KeyT | None:
        """The key of this secret if it is valid, None when it is unknown, revoked or expired.

        ``key = await app.user_api_keys.check(request.headers["x-stack-api-key"])``. A string that is not a Stack
        API key at all raises :class:`~stack_auth.errors.InvalidArgumentError` before anything is sent; a key of the
        other kind (a team key given to ``user_api_keys.check``) raises :class:`~stack_auth.errors.WrongApiKeyType`.
        """
        check_api_key_format(secret)
        try:
            data = await self._transport.request("POST", f"{self._path}/check", json={"api_key": secret})
        except REFUSED_KEY:
            return None
        return structure(data, self._model)


class AsyncUserApiKeys(_ApiKeys[UserApiKey]):
    """Issue, list, read, rename, revoke and check users' API keys."""

    _kind = "user"
    _model = UserApiKey

    async def create(
        self, user_id: str, *, description: str, expires_at: datetime | None = None, is_public: bool = False
    ) -> UserApiKey:
        """Issue a key for a user; ``key.secret`` is the full key, shown this once (store it or hand it over now).

        ``key = await app.user_api_keys.create(user.id, description="CI", expires_at=None)``. ``expires_at`` is an
        aware datetime in the future, or None for a key that never expires.
        """
        body = create_body({"user_id": uuid_arg(user_id, "user_id")}, description, expires_at, is_public)
        return await self._post(body)

    async def list(self, user_id: str) -> builtins.list[UserApiKey]:
        """Every key of a user, revoked and expired ones too, newest first."""
        return await self._list("user_id", user_id)

    async def get(self, key_id: str) -> UserApiKey | None:
        """The key with this id (without its secret), or None when there is none."""
        return await self._get(key_id, None)

    async def update(self, key_id: str, *, description: str | NotGiven = NOT_GIVEN) -> UserApiKey:
        """Change a key's description: ``await app.user_api_keys.update(key.id, description="CI (old)")``."""
        return await self._patch(key_id, None, given(description=description))

    async def revoke(self, key_id: str) -> UserApiKey:
        """Revoke a key for good (revoking it again keeps the first revocation time); returns the revoked key."""
        return await self._patch(key_id, None, {"revoked": True})


class AsyncTeamApiKeys(_ApiKeys[TeamApiKey]):
    """Issue, list, read, rename, revoke and check teams' API keys.

    Stack needs the key's ``team_id`` to read or change a key (``?team_id=``), so ``get``, ``update`` and ``revoke``
    take it too.
    """

    _kind = "team"
    _model = TeamApiKey

    async def create(
        self, team_id: str, *, description: str, expires_at: datetime | None = None, is_public: bool = False
    ) -> TeamApiKey:
        """Issue a key for a team; ``key.secret`` is the full key, shown this once.

        ``key = await app.team_api_keys.create(team.id, description="deploy")``
        """
        body = create_body({"team_id": uuid_arg(team_id, "team_id")}, description, expires_at, is_public)
        return await self._post(body)

    async def list(self, team_id: str) -> builtins.list[TeamApiKey]:
        """Every key of a team, revoked and expired ones too, newest first."""
        return await self._list("team_id", team_id)

    async def get(self, key_id: str, *, team_id: str) -> TeamApiKey | None:
        """The key with this id (without its secret), or None when there is none."""
        return await self._get(key_id, _team(team_id))

    async def update(self, key_id: str, *, team_id: str, description: str | NotGiven = NOT_GIVEN) -> TeamApiKey:
        """Change a key's description."""
        return await self._patch(key_id, _team(team_id), given(description=description))

    async def revoke(self, key_id: str, *, team_id: str) -> TeamApiKey:
        """Revoke a key for good; returns the revoked key."""
        return await self._patch(key_id, _team(team_id), {"revoked": True})


def _team(team_id: str) -> dict[str, str]:
    return {"team_id": uuid_arg(team_id, "team_id")}
