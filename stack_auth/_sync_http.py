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
                _write_requests_whole(self._client)
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


def _write_requests_whole(client: HTTPClient) -> None:
    """Make the client's direct connections send each request in one write instead of one per part.

    httpcore writes a request's head, then its body, each with a system call (a send on loopback costs as much CPU as
    parsing the answer); a request held until the answer is read leaves the socket in one piece. Installed on the
    pool's network backend, httpcore's extension point, reached through ``client._transport._pool`` (private in both
    libraries: ``tests/test_http_backends.py`` checks it is in place, so a library change that moves it fails there).
    Connections through a proxy keep httpcore's own streams.
    """
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None and not isinstance(backend, _WholeRequestBackend):
        pool._network_backend = _WholeRequestBackend(backend)  # type: ignore[union-attr]


class _WholeRequestBackend:
    """httpcore's network backend whose streams hold writes until the next read (:class:`_WholeRequestStream`)."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _WholeRequestStream:
        return _WholeRequestStream(self._backend.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _WholeRequestStream:
        return _WholeRequestStream(self._backend.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _WholeRequestStream:
    """A network stream whose writes are joined and sent when the answer is first read.

    HTTP/1.1 is request then answer, so nothing waits on a held write: httpcore reads right after it has written a
    whole request (or a proxy's CONNECT). A failed send surfaces from that read as httpcore's ``WriteError``.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._held: list[bytes] = []
        self._timeout: float | None = None

    def _flush(self) -> None:
        if self._held:
            data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held.clear()
            self._stream.write(data, self._timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)
            self._timeout = timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._flush()
        result: bytes = self._stream.read(max_bytes, timeout)
        return result

    def close(self) -> None:
        self._held.clear()
        self._stream.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> _WholeRequestStream:
        self._flush()
        return _WholeRequestStream(self._stream.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


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
