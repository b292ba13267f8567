"""The sync HTTP backend: a pool of ``http.client`` connections per process (:mod:`stack_auth._stdlib_pool`), with
an httpx2 or httpx ``Client`` (see :mod:`stack_auth._httpx`) for origins behind a proxy; or the caller's own client.

Sync calls do real blocking I/O (no event loop, no thread per call), so they work in threads, in a thread that has
a running event loop, and after ``os.fork()``: a forked child gets fresh pools instead of the parent's sockets.
Pools that are never closed are closed when their app is collected, or at exit.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from stack_auth._http import HTTPClient, RawResponse, Timeouts, connection_error, header_refused
from stack_auth._httpx import chosen_name, error_classes, library

if TYPE_CHECKING:
    from stack_auth._stdlib_pool import StdlibPool


class OwnPools:
    """The pools one process of an app owns: direct connections, and an httpx client for origins that the
    environment sends through a proxy (httpx reads the proxy variables itself; made on first use)."""

    def __init__(self, max_connections: int) -> None:
        # Imported with the first request, not with the app class: http.client and urllib.request weigh on start-up.
        from stack_auth._stdlib_pool import StdlibPool

        self.direct: StdlibPool = StdlibPool(max_connections)
        self._max_connections = max_connections
        self._proxied: HTTPClient | None = None
        self._lock = threading.Lock()

    def proxied(self) -> HTTPClient:
        with self._lock:
            if self._proxied is None:
                httpx = library()
                limits = httpx.Limits(
                    max_connections=self._max_connections, max_keepalive_connections=self._max_connections
                )
                self._proxied = httpx.Client(limits=limits, trust_env=True)
            return self._proxied

    def close(self) -> None:
        self.direct.close()
        if self._proxied is not None:
            self._proxied.close()

    def close_inherited(self) -> None:
        """Close a forked child's copies of its parent's sockets. Not through :meth:`close`: the fork may have
        copied a lock of a pool in a held state (a parent thread was using it), and a close could send data on
        connections the parent still uses. Closing a copied socket only closes this process's descriptor."""
        for sock in self.direct.inherited_sockets():
            sock.close()
        if self._proxied is not None:
            _close_inherited_sockets(self._proxied)


class HttpBackend:
    """Sends one request and reads the whole answer. Owns its pools unless given ``http_client``."""

    def __init__(self, *, http_client: HTTPClient | None = None, max_connections: int = 64) -> None:
        chosen_name()  # a bad STACK_AUTH_HTTPX fails when the app is created, not on its first request
        self._user_client = http_client
        self._max_connections = max_connections
        self._pools: OwnPools | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def owns_pools(self) -> bool:
        return self._user_client is None

    def _own_pools(self) -> OwnPools:
        pools = self._pools
        if pools is not None and self._pid == os.getpid():
            return pools
        with self._lock:
            if self._closed:
                raise RuntimeError("this Stack app was closed (close() or the end of 'with'); create a new one")
            if self._pid != os.getpid():
                # Forget the parent's pools: their finalizer (below) closes this process's copies of the sockets.
                self._pools = None
                self._pid = os.getpid()
            if self._pools is None:
                self._pools = OwnPools(self._max_connections)
                # Closed when this backend is collected, or at exit: an app nobody closed leaves no socket for the
                # interpreter to find at exit (a ResourceWarning each, on stderr).
                weakref.finalize(self, _close_pools, self._pools, os.getpid())
            return self._pools

    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        """Send and read the answer; transport failures become ``APIConnectionError``/``APITimeoutError``."""
        client = self._user_client
        if client is None:
            pools = self._own_pools()
            if pools.direct.serves(url):
                return pools.direct.send(method, url, headers, content, timeout)
            client = pools.proxied()
        try:
            response = client.request(method, url, headers=headers, content=content, timeout=timeout)
        except error_classes("LocalProtocolError"):
            response = None
        except error_classes("TransportError") as exc:
            raise connection_error(exc, method, url) from exc
        if response is None:
            raise header_refused(method, url)
        return RawResponse(response.status_code, response.headers, response.content)

    def close(self) -> None:
        """Close our pools (idempotent); a caller's own client is left open."""
        with self._lock:
            self._closed = True
            pools, self._pools = self._pools, None
        if pools is not None and self._pid == os.getpid():
            pools.close()


def _close_pools(pools: OwnPools, pid: int) -> None:
    if os.getpid() == pid:
        pools.close()
    else:
        pools.close_inherited()


def _close_inherited_sockets(client: HTTPClient) -> None:
    """Close a forked child's copies of the sockets of its parent's httpx client (for proxied origins), found
    through httpx's and httpcore's private fields; a field that moved leaves the copies to the garbage collector."""
    transports: list[Any] = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        for connection in getattr(pool, "connections", ()):
            stream = getattr(getattr(connection, "_connection", None), "_network_stream", None)
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                sock.close()
