"""Access tokens already verified, so that verifying one again costs a lookup instead of an ES256 check.

A backend sees the same access token on many requests in a row (one per request of a signed-in user). A signature
check costs about a hundred microseconds of CPU; a lookup costs a few. An entry is served only while all of this
holds, else it is dropped and the token verified afresh:

- the token has not expired: ``exp`` plus the leeway every verification allows (``VERIFY_LEEWAY_SECONDS``), to the
  second, on the same clock as a full verification;
- the key that verified it is still the project's key of that ``kid`` in a JWKS that is still fresh: a key that
  leaves the JWKS (rotation, revocation) takes its tokens' entries with it at the next fetch.

The cache is bounded (least recently used entries go first) and keyed by the exact token and the user types the
caller accepts (``allow_anonymous``/``allow_restricted``), so a token refused for one set is never served for it.
Failures are never cached. Entries hold tokens, which never appear in a repr or a log.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from stack_auth.tokens import VERIFY_LEEWAY_SECONDS, AccessTokenClaims, UserType

if TYPE_CHECKING:
    from jwt import PyJWK

#: Verified tokens kept per app. An entry is about 2 KB (the token and its claims).
VERIFIED_TOKENS_CACHE_SIZE: Final = 2048

_Key = tuple[str, tuple[UserType, ...]]
_Entry = tuple[AccessTokenClaims, float, str, "PyJWK"]


class VerifiedTokens:
    """Verified access tokens of one app: ``get`` answers a repeat, ``put`` records a fresh verification."""

    def __init__(self, capacity: int = VERIFIED_TOKENS_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._entries: collections.OrderedDict[_Key, _Entry] = collections.OrderedDict()
        self._guard = threading.Lock()

    def get(
        self, token: object, types: tuple[UserType, ...], key_is_current: Callable[[str, PyJWK], bool]
    ) -> AccessTokenClaims | None:
        """The claims of ``token`` if it was verified for ``types``, has not expired, and ``key_is_current(kid,
        key)`` says the key that verified it still stands; else None (and the entry, if any, is dropped)."""
        if not isinstance(token, str):
            return None  # not even a token: the full verification says why
        cache_key = (token, types)
        with self._guard:
            entry = self._entries.get(cache_key)
            if entry is None:
                return None
            claims, expires, kid, key = entry
            if time.time() < expires and key_is_current(kid, key):
                self._entries.move_to_end(cache_key)
                return claims
            del self._entries[cache_key]
        return None

    def put(self, token: str, types: tuple[UserType, ...], claims: AccessTokenClaims, kid: str, key: PyJWK) -> None:
        """Record a token that was just verified with ``key`` (the JWKS's key ``kid``)."""
        # The same rule as the full check: PyJWT refuses a token once ``exp <= now - leeway``.
        expires = claims.expires_at.timestamp() + VERIFY_LEEWAY_SECONDS
        with self._guard:
            self._entries[(token, types)] = (claims, expires, kid, key)
            self._entries.move_to_end((token, types))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._entries)} of {self._capacity}>"
