"""Acting for end users: their tokens on each request, refresh as Stack's SDK spec says, local verification.

- Before a user call, an access token that expires within 20 s or was issued more than 75 s ago is refreshed
  (``_config.py``); on a 401 whose code is under ``INVALID_ACCESS_TOKEN``, the token is refreshed once and the call
  retried once.
- Refreshes of one token store are single flight: concurrent callers wait for the refresh in flight and use its
  tokens (a lock per store; after taking it, a caller first checks whether someone else already refreshed).
- A refresh token the server refuses clears the store: the user is signed out.

Per-app state (the default token store, stores for tokens given per call, JWKS caches) is shared by the app's
``with_options`` copies, which share its HTTP backend.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from stack_auth._async._jwks import AsyncJwks
from stack_auth._async._transport import AsyncTransport
from stack_auth._async_http import AsyncHttpBackend
from stack_auth._concurrency import async_import_module
from stack_auth._config import PUBLIC_CLIENT_SECRET
from stack_auth._exceptions import (
    APIConnectionError,
    InternalServerError,
    MalformedResponseError,
    RateLimitError,
    StackAuthApiError,
    TokenRequiredError,
)
from stack_auth._known_errors import InvalidAccessToken, RefreshTokenError, RefreshTokenNotFoundOrExpired
from stack_auth._token_cache import VerifiedTokens
from stack_auth.tokens import (
    AccessTokenClaims,
    StoreResolver,
    TokensInput,
    TokenStore,
    UserType,
    accepted_user_types,
    precheck,
    unverified_times,
    verify_token,
)

logger = logging.getLogger("stack_auth")

#: Failures of a proactive refresh after which a still-valid access token is used anyway.
_TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)


class AsyncAuthState:
    """What an app and its ``with_options`` copies share for user calls and verification."""

    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        #: The app's token store (``token_store=``); None: every user call must pass ``tokens=``.
        self.default_store: TokenStore | None = None
        self.stores = StoreResolver()
        #: Tokens verified already: a repeat costs a lookup (see stack_auth._token_cache).
        self.verified = VerifiedTokens()
        self._jwks: dict[tuple[UserType, ...], AsyncJwks] = {}
        self._guard = threading.Lock()

    def jwks(self, types: tuple[UserType, ...]) -> AsyncJwks:
        """The JWKS cache for tokens of these user types."""
        with self._guard:
            found = self._jwks.get(types)
            if found is None:
                found = self._jwks[types] = AsyncJwks(self.project_id, types)
            return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} project_id={self.project_id!r} default_store={self.default_store!r}>"


_states: weakref.WeakKeyDictionary[AsyncHttpBackend, AsyncAuthState] = weakref.WeakKeyDictionary()
_states_guard = threading.Lock()


def auth_state(transport: AsyncTransport) -> AsyncAuthState:
    """The auth state of the app that owns ``transport`` (created on first use)."""
    with _states_guard:
        state = _states.get(transport.http)
        if state is None:
            state = _states[transport.http] = AsyncAuthState(transport.credentials.project_id)
        return state


def _refused(exc: StackAuthApiError) -> bool:
    """Did the server refuse the refresh token itself (as opposed to our keys, the network, a 5xx)?"""
    if isinstance(exc, RefreshTokenError):
        return True
    # OAuth-style refusals (``{"error": "invalid_grant"}``) come without a Stack code.
    return exc.code is None and exc.status in (400, 401)


class AsyncTokenSession:
    """Sends user calls with the tokens of a store, refreshing them as needed, and verifies access tokens."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self.state = auth_state(transport)

    def store(self, tokens: TokensInput | None) -> TokenStore:
        """The store of the call: the ``tokens=`` argument, else the app's token store."""
        if tokens is not None:
            return self.state.stores.store_for(tokens)
        if self.state.default_store is None:
            raise TokenRequiredError(
                "this app has no token store (token_store=None): pass tokens= (a request, a TokenStore, "
                "SessionTokens, {'access_token': ..., 'refresh_token': ...} or an access token) to user calls"
            )
        return self.state.default_store

    async def request(
        self,
        method: str,
        path: str,
        *,
        store: TokenStore,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        allow_anonymous: bool = True,
        allow_restricted: bool = True,
    ) -> Any:
        """Send a user call with the store's tokens; refresh first if due, and once more after an expired-token 401.

        Raises :class:`~stack_auth.errors.TokenRequiredError` when the store holds no token.
        """
        if store.is_empty:
            raise TokenRequiredError("no signed-in user: the token store holds no tokens")
        flags = {"x-stack-allow-anonymous-user": allow_anonymous, "x-stack-allow-restricted-user": allow_restricted}
        extra = {name: "true" for name, on in flags.items() if on}
        access = await self._usable_access_token(store)
        try:
            return await self._send(method, path, store, access, params, json, extra)
        except InvalidAccessToken:
            if store.snapshot()[1] is None:
                raise
            logger.debug("%s %s: access token refused, refreshing once", method, path)
            access = await self._refresh(store, stale=access)
            return await self._send(method, path, store, access, params, json, extra)

    async def _send(
        self,
        method: str,
        path: str,
        store: TokenStore,
        access: str | None,
        params: Mapping[str, Any] | None,
        json: Any,
        extra: dict[str, str],
    ) -> Any:
        headers = dict(extra)
        refresh = store.snapshot()[1]
        if access is not None:
            headers["x-stack-access-token"] = access
        if refresh is not None:
            headers["x-stack-refresh-token"] = refresh
        return await self._transport.request(method, path, params=params, json=json, headers=headers)

    async def usable_access_token(self, store: TokenStore) -> str | None:
        """The access token a user call would send now: the store's, refreshed first when due."""
        return await self._usable_access_token(store)

    async def refresh_with(self, refresh_token: str) -> tuple[str, str | None]:
        """A new access token (and the refresh token, if Stack rotated it) for ``refresh_token``; stores nothing."""
        return await self._call_refresh(refresh_token)

    async def _usable_access_token(self, store: TokenStore) -> str | None:
        access, refresh = store.snapshot()
        if refresh is None or not store.needs_refresh(access):
            return access
        try:
            return await self._refresh(store, stale=access)
        except _TRANSIENT as exc:
            times = unverified_times(access) if access is not None else None
            if times is None or times[1] <= time.time():
                raise
            logger.info("token refresh failed, using the current access token until it expires: %s", exc)
            return access

    async def _refresh(self, store: TokenStore, *, stale: str | None) -> str:
        """A new access token for the store, unless another caller refreshed it meanwhile (then theirs)."""
        async with store.async_refresh_lock:
            access, refresh = store.snapshot()
            if access is not None and access != stale:
                return access
            if refresh is None:
                raise RefreshTokenNotFoundOrExpired(
                    "the session has ended: its refresh token was refused",
                    status=401,
                    code=RefreshTokenNotFoundOrExpired.code_for_class,
                )
            try:
                new_access, new_refresh = await self._call_refresh(refresh)
            except StackAuthApiError as exc:
                if _refused(exc):
                    store.clear()
                raise
            store.store_refreshed(new_access, new_refresh)
            return new_access

    async def _call_refresh(self, refresh_token: str) -> tuple[str, str | None]:
        credentials = self._transport.credentials
        if credentials.access_type == "client" or credentials.publishable_client_key is not None:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": credentials.project_id,
                "client_secret": credentials.publishable_client_key or PUBLIC_CLIENT_SECRET,
            }
            path = "/auth/oauth/token"
            data = await self._transport.request("POST", path, form=form)
        else:
            # A server app without a publishable key cannot use the OAuth endpoint of a project that requires one;
            # this route is authenticated by the server key instead.
            path = "/auth/sessions/current/refresh"
            data = await self._transport.request("POST", path, headers={"x-stack-refresh-token": refresh_token})
        access = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(access, str) or not access:
            raise MalformedResponseError(
                "the token refresh answer has no access_token", status=200, method="POST", url=self._transport.url(path)
            )
        new_refresh = data.get("refresh_token")
        return access, new_refresh if isinstance(new_refresh, str) and new_refresh else None

    async def verify(self, token: str, *, allow_anonymous: bool, allow_restricted: bool) -> AccessTokenClaims:
        """Verify ``token`` locally against the project's JWKS (see :meth:`AsyncStackServerApp.verify_access_token`)."""
        types = accepted_user_types(allow_anonymous, allow_restricted)
        jwks = self.state.jwks(types)
        cached = self.state.verified.get(token, types, jwks.holds)
        if cached is not None:
            return cached
        kid = precheck(token, self._transport.credentials.project_id, types)
        await async_import_module("jwt")
        key = await jwks.key(self._transport, kid)
        claims = verify_token(
            token,
            key,
            project_id=self._transport.credentials.project_id,
            base_url=self._transport.token_issuer_url,
            allow_anonymous=allow_anonymous,
            allow_restricted=allow_restricted,
        )
        self.state.verified.put(token, types, claims, kid, key)
        return claims
