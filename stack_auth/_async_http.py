"""The async HTTP backend: a fast pool per event loop, or the caller's own ``httpx.AsyncClient``.

On asyncio the requests go through aiohttp, whose per-call CPU cost is a fraction of httpx's default async
transport's and which stays flat at high concurrency (see benchmarks/); on trio, where aiohttp cannot run, through an
``httpx.AsyncClient``. A caller's own ``httpx.AsyncClient`` (proxies, mounts, a test transport) is always used as is
and never closed by us.

Pools are bound to the loop that created them, so each event loop gets its own, created lazily: a module-level app
keeps working when a test suite or a framework runs it in a new loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any

import aiohttp
import httpx

from stack_auth._http import RawResponse, connection_error, current_loop_key


class AsyncHttpBackend:
    """Sends one request and reads the whole answer. Owns its pools unless given ``http_client``."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, max_connections: int = 64) -> None:
        self._user_client = http_client
        self._max_connections = max_connections
        self._pools: weakref.WeakKeyDictionary[Any, aiohttp.ClientSession | httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # pools are looked up from any thread that runs a loop
        self._pid = os.getpid()
        self._closed = False
        self._aiohttp_timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def owns_pools(self) -> bool:
        return self._user_client is None

    def _pool(self) -> aiohttp.ClientSession | httpx.AsyncClient:
        if self._user_client is not None:
            return self._user_client
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
                pool = self._new_pool(key)
                self._pools[key] = pool
            return pool

    def _new_pool(self, key: Any) -> aiohttp.ClientSession | httpx.AsyncClient:
        if isinstance(key, asyncio.AbstractEventLoop):
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=self._max_connections)
            return aiohttp.ClientSession(connector=connector, trust_env=True, raise_for_status=False)
        limits = httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        return httpx.AsyncClient(limits=limits, trust_env=True)

    def _aiohttp_timeout(self, timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
        key = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        cached = self._aiohttp_timeouts.get(key)
        if cached is None:
            cached = aiohttp.ClientTimeout(connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read)
            self._aiohttp_timeouts[key] = cached
        return cached

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: httpx.Timeout
    ) -> RawResponse:
        """Send and read the answer; transport failures become ``APIConnectionError``/``APITimeoutError``."""
        pool = self._pool()
        try:
            if isinstance(pool, aiohttp.ClientSession):
                async with pool.request(
                    method,
                    url,
                    headers=headers,
                    data=content,
                    timeout=self._aiohttp_timeout(timeout),
                    allow_redirects=False,
                ) as resp:
                    body = await resp.read()
                    return RawResponse(resp.status, resp.headers, body)
            response = await pool.request(method, url, headers=headers, content=content, timeout=timeout)
            return RawResponse(response.status_code, response.headers, response.content)
        except (aiohttp.ClientError, httpx.TransportError, asyncio.TimeoutError, OSError) as exc:
            raise connection_error(exc, method, url) from exc

    async def aclose(self) -> None:
        """Close the pool of the current event loop and forget the others (their loops are gone or not ours)."""
        self._closed = True
        if self._user_client is not None:
            return
        with self._lock:
            pools, self._pools = self._pools, weakref.WeakKeyDictionary()
        try:
            key = current_loop_key()
        except RuntimeError:
            key = None
        for pool_key, pool in list(pools.items()):
            if pool_key is key:
                await pool.close() if isinstance(pool, aiohttp.ClientSession) else await pool.aclose()
            else:
                detach_pool(pool)


def detach_pool(pool: aiohttp.ClientSession | httpx.AsyncClient) -> None:
    """Drop a pool whose event loop we cannot run on any more, without I/O and without warnings at exit."""
    if isinstance(pool, aiohttp.ClientSession):
        connector = pool.connector
        if connector is not None:
            for protos in list(getattr(connector, "_conns", {}).values()):
                for proto, _ in protos:
                    transport = getattr(proto, "transport", None)
                    sock = transport.get_extra_info("socket") if transport is not None else None
                    if sock is not None:
                        sock.close()
        pool.detach()
