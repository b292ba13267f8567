"""The async HTTP backend: a fast pool per event loop, or the caller's own ``httpx``/``httpx2`` ``AsyncClient``.

On asyncio the requests go through aiohttp, whose per-call CPU cost is a fraction of httpx's default async
transport's and which stays flat at high concurrency (see benchmarks/); on trio, where aiohttp cannot run, through an
``AsyncClient`` of httpx2 or httpx (:mod:`stack_auth._httpx`). A caller's own client (proxies, mounts, a test
transport) is always used as is and never closed by us.

Pools are bound to the loop that created them, so each event loop gets its own, created lazily: a module-level app
keeps working when a test suite or a framework runs it in a new loop. Pools of loops that have closed are dropped
without I/O when the next loop arrives.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from typing import Any, Protocol

from stack_auth._http import (
    AsyncHTTPClient,
    RawResponse,
    Timeouts,
    connection_error,
    current_loop_key,
    is_asyncio_loop,
)
from stack_auth._httpx import chosen_name, error_classes, library


class _Pool(Protocol):
    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse: ...

    async def aclose(self) -> None: ...

    def detach(self) -> None: ...


class HttpxPool:
    """An httpx or httpx2 ``AsyncClient``: ours on trio, or the caller's (then ``owned`` is False and we never close
    it)."""

    def __init__(self, client: AsyncHTTPClient, *, owned: bool) -> None:
        self.client = client
        self.owned = owned

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        try:
            response = await self.client.request(method, url, headers=headers, content=content, timeout=timeout)
        except error_classes("TransportError") as exc:  # either library's: isinstance does not cross between them
            raise connection_error(exc, method, url) from exc
        return RawResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        if self.owned:
            await self.client.aclose()

    def detach(self) -> None:
        """Nothing to do without the loop: httpcore's connections are closed when collected."""


class AsyncHttpBackend:
    """Sends one request and reads the whole answer. Owns its pools unless given ``http_client``."""

    def __init__(self, *, http_client: AsyncHTTPClient | None = None, max_connections: int = 64) -> None:
        chosen_name()  # a bad STACK_AUTH_HTTPX fails when the app is created, not on its first request
        if http_client is None and "trio" in sys.modules:
            # Trio's pools are httpx clients: import the library now rather than on the loop at the first request.
            library()
        self._user_pool = None if http_client is None else HttpxPool(http_client, owned=False)
        self._max_connections = max_connections
        self._pools: weakref.WeakKeyDictionary[Any, _Pool] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # pools are looked up from any thread that runs a loop
        self._pid = os.getpid()
        self._closed = False

    def _pool(self) -> _Pool:
        if self._user_pool is not None:
            return self._user_pool
        if self._closed:
            raise RuntimeError("this Stack app was closed (aclose() or the end of 'async with'); create a new one")
        key = current_loop_key()
        pool = self._pools.get(key)
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not touch the parent's sockets: forget them without closing (closing would
                # send TLS close_notify on connections the parent still uses).
                self._pools = weakref.WeakKeyDictionary()
                self._pid = os.getpid()
            pool = self._pools.get(key)
            if pool is None:
                self._drop_pools_of_closed_loops()
                pool = self._new_pool(key)
                self._pools[key] = pool
                # If the loop is collected before we see it closed, drop its pool then (without I/O).
                weakref.finalize(key, _detach_if_alive, weakref.ref(pool))
            return pool

    def _new_pool(self, key: Any) -> _Pool:
        if is_asyncio_loop(key):
            from stack_auth._aiohttp_pool import AiohttpPool

            return AiohttpPool(self._max_connections)
        httpx = library()
        limits = httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        client: AsyncHTTPClient = httpx.AsyncClient(limits=limits, trust_env=True)
        return HttpxPool(client, owned=True)

    def _drop_pools_of_closed_loops(self) -> None:
        for loop, pool in list(self._pools.items()):
            if is_asyncio_loop(loop) and loop.is_closed():
                del self._pools[loop]
                pool.detach()

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        """Send and read the answer; transport failures become ``APIConnectionError``/``APITimeoutError``."""
        return await self._pool().send(method, url, headers, content, timeout)

    async def aclose(self) -> None:
        """Close the pool of the current event loop and drop the others (their loops are gone or not ours)."""
        self._closed = True
        with self._lock:
            pools, self._pools = self._pools, weakref.WeakKeyDictionary()
        try:
            current = current_loop_key()
        except RuntimeError:
            current = None
        for key, pool in list(pools.items()):
            if key is current:
                await pool.aclose()
            else:
                pool.detach()


def _detach_if_alive(pool_ref: weakref.ref[_Pool]) -> None:
    pool = pool_ref()
    if pool is not None:
        pool.detach()
