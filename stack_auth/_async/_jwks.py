"""The project's JSON Web Key Set, as local token verification needs it.

Fetched on first use, kept for its ``Cache-Control`` max-age, refetched when a token names an unknown ``kid`` (key
rotation) but at most once per ``JWKS_REFETCH_INTERVAL``, so tokens with made-up kids cannot make us hammer the
server. One fetch at a time: concurrent callers wait for the fetch in flight and use its result. When a refetch
fails, the keys already known stay in use (a Stack outage must not log everyone out) and the fetch is retried after
the refetch interval.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from stack_auth._async._transport import AsyncTransport
from stack_auth._concurrency import AsyncLock
from stack_auth._exceptions import APIConnectionError, StackAuthApiError, UnknownSigningKeyError
from stack_auth.tokens import JWKS_REFETCH_INTERVAL, UserType, cache_seconds, parse_jwks

if TYPE_CHECKING:
    from jwt import PyJWK

logger = logging.getLogger("stack_auth")


def jwks_params(types: tuple[UserType, ...]) -> dict[str, Any]:
    """The query that publishes the keys of these user types (Stack: anonymous implies restricted)."""
    if "anonymous" in types:
        return {"include_anonymous": True}
    if "restricted" in types:
        return {"include_restricted": True}
    return {}


class AsyncJwks:
    """The keys of one project for one set of user types, by ``kid``."""

    def __init__(self, project_id: str, types: tuple[UserType, ...]) -> None:
        self._path = f"/projects/{quote(project_id, safe='')}/.well-known/jwks.json"
        self._params = jwks_params(types)
        self._keys: dict[str, PyJWK] = {}
        self._fresh_until = 0.0
        self._last_attempt = float("-inf")
        self._generation = 0
        self._error: StackAuthApiError | APIConnectionError | None = None
        self._lock = AsyncLock()
        #: How many times the JWKS was requested (tests and metrics).
        self.fetches = 0

    def holds(self, kid: str, key: PyJWK) -> bool:
        """Whether ``key`` is still the key ``kid`` of a fresh JWKS (once stale, the next :meth:`key` refetches it,
        and a key the new JWKS lacks is no longer held)."""
        return time.monotonic() < self._fresh_until and self._keys.get(kid) is key

    async def key(self, transport: AsyncTransport, kid: str) -> PyJWK:
        """The key with this ``kid``; fetches the JWKS when the cache is stale or (rate-limited) lacks the kid."""
        now = time.monotonic()
        key = self._keys.get(kid)
        if now < self._fresh_until:
            if key is not None:
                return key
            if now - self._last_attempt < JWKS_REFETCH_INTERVAL:
                raise UnknownSigningKeyError("the access token's key id is not in the project's JWKS")
        seen = self._generation
        async with self._lock:
            if self._generation == seen:
                await self._fetch(transport)
        key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys and self._error is not None:
            raise self._error
        raise UnknownSigningKeyError("the access token's key id is not in the project's JWKS")

    async def _fetch(self, transport: AsyncTransport) -> None:
        """Fetch and store the keys. Bumps the generation when done (success or not): callers that were waiting
        for this fetch then use its outcome instead of fetching again."""
        self._last_attempt = time.monotonic()
        self.fetches += 1
        try:
            response = await transport.send("GET", self._path, params=self._params)
        except (StackAuthApiError, APIConnectionError) as exc:
            self._error = exc
            self._generation += 1
            if not self._keys:
                raise
            # Keep verifying with the keys we have; try again after the refetch interval.
            self._fresh_until = self._last_attempt + JWKS_REFETCH_INTERVAL
            logger.warning("could not refresh the JWKS, still using the %d known keys: %s", len(self._keys), exc)
            return
        self._keys = parse_jwks(response.data)
        self._error = None
        self._fresh_until = self._last_attempt + cache_seconds(response.headers.get("cache-control"))
        self._generation += 1
        logger.debug("fetched the JWKS: %d usable keys", len(self._keys))
