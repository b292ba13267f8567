"""The async HTTP backend: a fast pool per event loop, or the caller's own ``httpx``/``httpx2`` ``AsyncClient``.

On asyncio the requests go through aiohttp, whose per-call CPU cost is a fraction of httpx's default async
transport's and which stays flat at high concurrency (see benchmarks/); on trio, where aiohttp cannot run, through an
``AsyncClient`` of httpx2 or httpx (:mod:`stack_auth._httpx`). A caller's own client (proxies, mounts, a test
transport) is always used as is and never closed by us.

Pools are bound to the loop that created them, so each event loop gets its own, created lazily: a module-level app
keeps working when a test suite or a framework runs it in a new loop. Each pool is closed on its own loop when that
loop shuts down (see :class:`LoopPool`), so an app that is never closed leaves nothing open and prints nothing.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import logging
import os
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

from stack_auth._http import (
    AsyncHTTPClient,
    RawResponse,
    Timeouts,
    connection_error,
    current_loop_key,
    header_refused,
    is_asyncio_loop,
)
from stack_auth._httpx import chosen_name, error_classes, library

logger = logging.getLogger("stack_auth")


class _Pool(Protocol):
    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse: ...

    async def aclose(self) -> None: ...

    def close_without_loop(self) -> None: ...


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
        except error_classes("LocalProtocolError"):
            response = None
        except error_classes("TransportError") as exc:  # either library's: isinstance does not cross between them
            raise connection_error(exc, method, url) from exc
        if response is None:
            raise header_refused(method, url)
        return RawResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        if self.owned:
            await self.client.aclose()

    def close_without_loop(self) -> None:
        """Nothing to do: ours runs on trio, which always closes it at the end of its run (see LoopPool)."""


class LoopPool:
    """A pool and what closes it on its event loop when that loop shuts down.

    A library is not told when a loop it did not start ends, except in one way: loops close the async generators
    still open when they shut down (``asyncio.run``, ``asyncio.Runner``, anyio and trio do), on the loop, before it
    is gone. So each pool gets one, started at once and suspended until then; when the loop closes it, it closes the
    pool there. A loop closed without that step (``loop.close()`` alone) leaves the pool to
    :meth:`close_without_loop`: when the next loop comes, or at exit.
    """

    def __init__(self, pool: _Pool, loop: Any) -> None:
        self.pool = pool
        self.loop = loop
        # The generator holds the pool, never this object: no reference cycle, so when an app is dropped on a live
        # loop its pools are not collected in one sweep with the generator, before the loop could close them.
        self._closer = _close_at_loop_end(pool, loop, os.getpid())
        default_finalizer = sys.get_asyncgen_hooks().finalizer
        if default_finalizer is not None:
            # If the closer is collected while suspended, the loop's finalizer runs it on the loop; a closed loop
            # cannot, and its finalizer would raise "Event loop is closed" onto stderr: _finalize handles that.
            sys.set_asyncgen_hooks(finalizer=functools.partial(_finalize, default_finalizer))
        try:
            # The first step registers the generator with the loop (its firstiter hook) and ends at the yield: it
            # awaits nothing, so it completes here, synchronously.
            with contextlib.suppress(StopIteration):
                self._closer.asend(None).send(None)
        finally:
            if default_finalizer is not None:
                sys.set_asyncgen_hooks(finalizer=default_finalizer)

    def loop_closed(self) -> bool:
        return is_asyncio_loop(self.loop) and bool(self.loop.is_closed())

    def close_without_loop(self) -> None:
        """For a pool whose loop closed without closing it (or is gone): close its sockets directly."""
        _finish(self._closer)


async def _close_at_loop_end(pool: _Pool, loop: Any, pid: int) -> AsyncGenerator[None, None]:
    """Waits at its ``yield`` until closed: by the loop at its end (then the pool is closed on it), or outside it.
    In a forked child the pool is the parent's: its sockets are closed without a word on the wire (no TLS
    close_notify on connections the parent still uses)."""
    try:
        yield
    finally:
        if _running_loop() is loop and os.getpid() == pid:
            try:
                await pool.aclose()
            except Exception as exc:  # at shutdown, a failed close must not become a traceback
                logger.debug("closing a connection pool at the end of its event loop failed: %r", exc)
        else:
            pool.close_without_loop()


def _running_loop() -> Any:
    try:
        return current_loop_key()
    except RuntimeError:
        return None


def _finish(closer: AsyncGenerator[None, None]) -> None:
    """Run a suspended closer to its end outside its loop: it then closes its pool without the loop."""
    with contextlib.suppress(StopIteration):
        closer.aclose().send(None)


def _finalize(default: Callable[[AsyncGenerator[Any, Any]], object], closer: AsyncGenerator[Any, Any]) -> None:
    """A collected closer: the loop's own finalizer runs it on the loop; if the loop is closed, we finish it here."""
    try:
        default(closer)
    except RuntimeError:  # "Event loop is closed"
        _finish(closer)


class AsyncHttpBackend:
    """Sends one request and reads the whole answer. Owns its pools unless given ``http_client``."""

    def __init__(self, *, http_client: AsyncHTTPClient | None = None, max_connections: int = 64) -> None:
        chosen_name()  # a bad STACK_AUTH_HTTPX fails when the app is created, not on its first request
        if http_client is None and "trio" in sys.modules:
            # Trio's pools are httpx clients: import the library now rather than on the loop at the first request.
            library()
        self._user_pool = None if http_client is None else HttpxPool(http_client, owned=False)
        self._max_connections = max_connections
        self._pools: weakref.WeakKeyDictionary[Any, LoopPool] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # pools are looked up from any thread that runs a loop
        self._pid = os.getpid()
        self._closed = False
        if http_client is None:
            prepare_pools()

    def _pool(self) -> _Pool:
        if self._user_pool is not None:
            return self._user_pool
        if self._closed:
            raise RuntimeError("this Stack app was closed (aclose() or the end of 'async with'); create a new one")
        key = current_loop_key()
        found = self._pools.get(key)
        if found is not None and self._pid == os.getpid():
            return found.pool
        with self._lock:
            if self._pid != os.getpid():
                # The parent's pools: dropped, their closers close this process's copies of the sockets quietly.
                self._pools = weakref.WeakKeyDictionary()
                self._pid = os.getpid()
            found = self._pools.get(key)
            if found is None:
                self._drop_pools_of_closed_loops()
                found = self._pools[key] = LoopPool(self._new_pool(key), key)
                # A loop closed without closing its pool and never followed by another: close it at exit.
                weakref.finalize(key, _close_if_alive, weakref.ref(found))
            return found.pool

    def _new_pool(self, key: Any) -> _Pool:
        if is_asyncio_loop(key):
            from stack_auth._aiohttp_pool import AiohttpPool

            return AiohttpPool(self._max_connections)
        httpx = library()
        limits = httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        client: AsyncHTTPClient = httpx.AsyncClient(limits=limits, trust_env=True)
        return HttpxPool(client, owned=True)

    def _drop_pools_of_closed_loops(self) -> None:
        for loop, found in list(self._pools.items()):
            if found.loop_closed():
                del self._pools[loop]
                found.close_without_loop()

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        """Send and read the answer; transport failures become ``APIConnectionError``/``APITimeoutError``."""
        return await self._pool().send(method, url, headers, content, timeout)

    async def aclose(self) -> None:
        """Close the pool of the current event loop and those of closed loops; a pool of a loop still running in
        another thread is closed when that loop ends."""
        self._closed = True
        with self._lock:
            pools, self._pools = self._pools, weakref.WeakKeyDictionary()
        try:
            current = current_loop_key()
        except RuntimeError:
            current = None
        for key, found in list(pools.items()):
            if key is current:
                await found.pool.aclose()
            elif found.loop_closed():
                found.close_without_loop()


def _close_if_alive(found_ref: weakref.ref[LoopPool]) -> None:
    found = found_ref()
    if found is not None:
        found.close_without_loop()


def prepare_pools() -> None:
    """Do now, when an app is built, what the first request would otherwise do on the event loop, stalling every
    other task of a server (asyncio's debug mode reports such a stall as a slow callback): import the HTTP stack
    (about 100 ms) and build the decoder. Not at ``import stack_auth``, which stays cheap."""
    from stack_auth.models._converter import get_converter

    get_converter()
    if _in_trio() or "stack_auth._aiohttp_pool" in sys.modules:
        return  # on trio the requests go through httpx, imported with the timeout option already
    importlib.import_module("stack_auth._aiohttp_pool")
    # anyio loads its asyncio backend when the first limiter is made, on the loop: load it now (a private module
    # name, but the one anyio itself imports; an ImportError here would only mean a later, slower first request).
    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")
    # The objects those imports made fill the garbage collector's generations: its next full pass (tens of ms)
    # would fall on the first request. Run it here, once per process.
    gc.collect()


def _in_trio() -> bool:
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True
