"""The connection pool behind the sync API: keep-alive HTTP/1.1 connections of the standard library's ``http.client``.

An httpx ``Client`` spends about two thirds of a small sync call's CPU on its own layers (request and response
objects, URL parsing, header normalisation) and on httpcore/h11; ``http.client`` does the exchange for a fraction of
it. The SDK's requests are small, in memory, HTTP/1.1: all this pool has to serve. A caller's own ``http_client=``,
and an origin the environment sends through a proxy (``HTTP(S)_PROXY``/``ALL_PROXY``, ``NO_PROXY``, read as the
async API on asyncio reads them), go through an httpx client instead (:mod:`stack_auth._sync_http`).

TLS uses the SSL context of the preferred library (:mod:`stack_auth._httpx`): the same trust store and
``SSL_CERT_FILE``/``SSL_CERT_DIR`` as a client of that library.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from stack_auth._http import RawResponse, Timeouts, connection_error, header_refused
from stack_auth._httpx import library
from stack_auth._version import __version__

USER_AGENT = f"Python-http.client/{sys.version_info[0]}.{sys.version_info[1]} stack-auth/{__version__}"

_Origin = tuple[str, str, int]  # scheme, host, port


class ResponseHeaders(Mapping[str, str]):
    """An answer's headers, case-insensitive; a repeated header's values joined by ``", "`` (as httpx does)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        found: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        self._items = found

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._items!r})"


class _InvalidHeader(Exception):
    """http.client refused a request line or header before anything was sent."""


class _Connection(http.client.HTTPConnection):
    """http.client sends a request's head, then its body, each with a system call (a send on loopback costs as much
    CPU as parsing the answer): held here, they leave in one send at :meth:`flush`."""

    _held: list[bytes]

    def send(self, data: Any) -> None:
        self._held.append(data)

    def flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        self.sock.sendall(data)


class _TLSConnection(_Connection, http.client.HTTPSConnection):
    pass


class StdlibPool:
    """Keep-alive connections per origin, at most ``max_connections`` open at once (a request waits up to its pool
    timeout for one). Thread-safe: a connection serves one request at a time."""

    def __init__(self, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._in_use: set[_Connection] = set()
        self._origins: dict[str, _Origin | None] = {}
        self._ssl_context: ssl.SSLContext | None = None
        self._closed = False

    def serves(self, url: str) -> bool:
        """Whether ``url`` goes straight to its server (not through a proxy of the environment)."""
        return self._origin(url)[0] is not None

    def _origin(self, url: str) -> tuple[_Origin | None, str]:
        path_start = url.find("/", url.find("//") + 2)
        prefix, target = (url, "/") if path_start < 0 else (url[:path_start], url[path_start:])
        try:
            return self._origins[prefix], target
        except KeyError:
            pass
        parts = urllib.parse.urlsplit(prefix)
        scheme, host = parts.scheme, parts.hostname or ""
        origin: _Origin | None = (scheme, host, parts.port or (443 if scheme == "https" else 80))
        if scheme not in ("http", "https") or _proxied(scheme, host):
            origin = None
        self._origins[prefix] = origin
        return origin, target

    def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        """One exchange on a pooled connection (:meth:`serves` must be true of ``url``)."""
        origin, target = self._origin(url)
        assert origin is not None
        if not self._slots.acquire(timeout=-1 if timeout.pool is None else timeout.pool):
            raise connection_error(
                TimeoutError("no connection of the pool became free in time"), method, url, never_sent=True
            )
        try:
            conn = self._checkout(origin, method, url, timeout.connect)
            try:
                status, answer_headers, body = self._exchange(conn, method, target, headers, content, timeout)
            except _InvalidHeader:
                self._discard(conn)
                raise header_refused(method, url) from None
            except BaseException as exc:
                self._discard(conn)
                if isinstance(exc, (OSError, http.client.HTTPException)):
                    raise connection_error(exc, method, url) from exc
                raise
            self._checkin(origin, conn)
        finally:
            self._slots.release()
        return RawResponse(status, answer_headers, body)

    def _exchange(
        self,
        conn: _Connection,
        method: str,
        target: str,
        headers: Mapping[str, str],
        content: bytes | None,
        timeout: Timeouts,
    ) -> tuple[int, ResponseHeaders, bytes]:
        try:
            conn.putrequest(method, target)  # with Host, and Accept-Encoding: identity (nothing to decode)
            conn.putheader("User-Agent", USER_AGENT)
            for name, value in headers.items():
                conn.putheader(name, value)
            invalid = False
        except ValueError:
            invalid = True
        if invalid:  # out here: http.client's error, which quotes the value, must not be its context
            raise _InvalidHeader
        if content is not None:
            conn.putheader("Content-Length", str(len(content)))
        conn.endheaders(content or None)
        conn.sock.settimeout(timeout.write)
        conn.flush()
        conn.sock.settimeout(timeout.read)
        answer = conn.getresponse()
        body = answer.read()
        return answer.status, ResponseHeaders(answer.getheaders()), body

    def _checkout(self, origin: _Origin, method: str, url: str, timeout: float | None) -> _Connection:
        with self._lock:
            if self._closed:
                raise RuntimeError("this Stack app was closed (close() or the end of 'with'); create a new one")
            idle = self._idle.get(origin)
            # Newest first: the idle connection most likely still open on the server's side.
            while idle:
                conn = idle.pop()
                if _dropped(conn.sock):
                    conn.close()  # the server closed it while idle: open another rather than fail on it
                    continue
                self._in_use.add(conn)
                return conn
        conn = self._connect(origin, method, url, timeout)
        with self._lock:
            self._in_use.add(conn)
        return conn

    def _connect(self, origin: _Origin, method: str, url: str, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        conn = (
            _TLSConnection(host, port, timeout=timeout, context=self._tls())
            if scheme == "https"
            else _Connection(host, port, timeout=timeout)
        )
        conn._held = []
        try:
            conn.connect()
        except OSError as exc:  # refused, unreachable, unknown host, timed out, TLS handshake: nothing was sent
            conn.close()
            raise connection_error(exc, method, url, never_sent=True) from exc
        return conn

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = library().create_ssl_context(trust_env=True)
        return self._ssl_context

    def _checkin(self, origin: _Origin, conn: _Connection) -> None:
        with self._lock:
            self._in_use.discard(conn)
            # http.client drops the socket of an answer that ends the connection (Connection: close, HTTP/1.0).
            if conn.sock is not None and not self._closed:
                self._idle.setdefault(origin, []).append(conn)
                return
        conn.close()

    def _discard(self, conn: _Connection) -> None:
        with self._lock:
            self._in_use.discard(conn)
        conn.close()

    def close(self) -> None:
        """Close every idle connection now; one in use is closed when its request ends."""
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def inherited_sockets(self) -> list[socket.socket]:
        """The sockets of every connection, for a forked child to close its copies without taking the lock, which
        the fork may have copied held."""
        conns = [*(conn for conns in list(self._idle.values()) for conn in list(conns)), *list(self._in_use)]
        return [conn.sock for conn in conns if conn.sock is not None]


def _proxied(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host)


if hasattr(select, "poll"):

    def _dropped(sock: socket.socket) -> bool:
        """An idle keep-alive connection has nothing to read: readable means the server closed it (or sent junk)."""
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))

else:  # Windows: no poll(), and select() takes any socket there

    def _dropped(sock: socket.socket) -> bool:
        """An idle keep-alive connection has nothing to read: readable means the server closed it (or sent junk)."""
        return bool(select.select([sock], [], [], 0)[0])
