"""The sync HTTP backend: one thread-safe ``Client`` (httpx2 or httpx, see :mod:`stack_auth._httpx`) per process, or
the caller's own client.

Sync calls do real blocking I/O (no event loop, no thread per call), so they work in threads, in a thread that has
a running event loop, and after ``os.fork()``: a forked child gets a fresh pool instead of the parent's sockets.
A pool that is never closed is closed when its app is collected, or at exit.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from stack_auth._http import HTTPClient, RawResponse, Timeouts, connection_error
from stack_auth._httpx import chosen_name, error_classes, library


class HttpBackend:
    """Sends one request and reads the whole answer. Owns its pool unless given ``http_client``."""

    def __init__(self, *, http_client: HTTPClient | None = None, max_connections: int = 64) -> None:
        chosen_name()  # a bad STACK_AUTH_HTTPX fails when the app is created, not on its first request
        self._user_client = http_client
        self._max_connections = max_connections
        self._client: HTTPClient | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def owns_pools(self) -> bool:
        return self._user_client is None

    def _pool(self) -> HTTPClient:
        if self._user_client is not None:
            return self._user_client
        client = self._client
        if client is not None and self._pid == os.getpid():
            return client
        with self._lock:
            if self._closed:
                raise RuntimeError("this Stack app was closed (close() or the end of 'with'); create a new one")
            if self._pid != os.getpid():
                # Forget the parent's pool: its finalizer (below) closes this process's copies of its sockets.
                self._client = None
                self._pid = os.getpid()
            if self._client is None:
                httpx = library()
                limits = httpx.Limits(
                    max_connections=self._max_connections, max_keepalive_connections=self._max_connections
                )
                self._client = httpx.Client(limits=limits, trust_env=True)
                # Closed when this backend is collected, or at exit: an app nobody closed leaves no socket for the
                # interpreter to find at exit (a ResourceWarning each, on stderr).
                weakref.finalize(self, _close_client, self._client, os.getpid())
            return self._client

    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        """Send and read the answer; transport failures become ``APIConnectionError``/``APITimeoutError``."""
        pool = self._pool()
        try:
            response = pool.request(method, url, headers=headers, content=content, timeout=timeout)
        except error_classes("TransportError") as exc:
            raise connection_error(exc, method, url) from exc
        return RawResponse(response.status_code, response.headers, response.content)

    def close(self) -> None:
        """Close our pool (idempotent); a caller's own client is left open."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None and self._pid == os.getpid():
            client.close()


def _close_client(client: HTTPClient, pid: int) -> None:
    if os.getpid() == pid:
        client.close()
    else:
        _close_inherited_sockets(client)


def _close_inherited_sockets(client: HTTPClient) -> None:
    """Close a forked child's copies of its parent's sockets. Not through ``client.close()``: the fork may have
    copied a lock of the pool in a held state (a parent thread was using it), and a close could send data on
    connections the parent still uses. Closing a copied socket only closes this process's descriptor. The sockets
    are found through httpx's and httpcore's private fields (``tests/test_lifecycle.py`` checks it works)."""
    transports: list[Any] = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        for connection in getattr(pool, "connections", ()):
            stream = getattr(getattr(connection, "_connection", None), "_network_stream", None)
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                sock.close()
