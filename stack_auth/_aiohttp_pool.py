"""The aiohttp connection pool behind the async API on asyncio. Imported on first use, not at ``import stack_auth``."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import aiohttp.helpers
import yarl

from stack_auth._http import RawResponse, Timeouts, connection_error

# Larger bodies take aiohttp's own path, which waits for the socket to drain (flow control) between writes.
INLINE_BODY_LIMIT = 64 * 1024


class InlineBodyRequest(aiohttp.ClientRequest):
    """A request whose small in-memory body leaves with its headers, in one write.

    aiohttp writes any body from a task of its own (before Python 3.12 not even started eagerly): two more turns of
    the event loop per request, a fifth of the CPU of a small POST (``benchmarks``, P1: ``user_api_keys.check`` vs
    ``users.get``). Our bodies are small JSON documents already in memory, so nothing is gained by the task. The
    body is declared by its ``Content-Length`` and aiohttp is given no body, so it writes the headers at once, in
    ``send()``, without yielding to the loop; for that moment the connection's transport is seen through
    :class:`_WithBody`, which adds the body to that write (a second send on the socket costs as much CPU as
    parsing a small answer). ``tests/test_http_backends.py`` shows bodies on both sides of the limit arriving
    whole, once.
    """

    _inline_body: bytes | None = None

    def update_body_from_data(self, body: Any, *args: Any, **kwargs: Any) -> None:
        if type(body) is bytes and 0 < len(body) <= INLINE_BODY_LIMIT and not self.chunked and not self.compress:
            self._inline_body = body
            self.headers[aiohttp.hdrs.CONTENT_LENGTH] = str(len(body))
            body = None
        super().update_body_from_data(body, *args, **kwargs)

    async def send(self, conn: Any) -> aiohttp.ClientResponse:
        body = self._inline_body
        protocol = conn.protocol
        if body is None or protocol is None or protocol.transport is None:
            return await super().send(conn)
        shim = protocol.transport = _WithBody(protocol.transport, body)
        try:
            response = await super().send(conn)
        finally:
            if protocol.transport is shim:  # else the connection was lost meanwhile: leave it as aiohttp set it
                protocol.transport = shim.transport
        if not shim.sent:
            # aiohttp wrote its headers without this transport's write(): as before this shim, the body follows.
            shim.transport.write(body)
        return response


class _WithBody:
    """An asyncio transport whose next write carries a request body after the data it is given."""

    def __init__(self, transport: asyncio.Transport, body: bytes) -> None:
        self.transport = transport
        self.sent = False
        self._body = body

    def write(self, data: bytes) -> None:
        if self.sent:
            self.transport.write(data)
        else:
            self.sent = True
            self.transport.write(bytes(data) + self._body)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class AiohttpPool:
    """One ``aiohttp.ClientSession`` bound to one event loop."""

    def __init__(self, max_connections: int) -> None:
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections)
        # Not trust_env=True: aiohttp would then hop to a thread twice per request (netrc, proxy variables), a third
        # of the per-call CPU. The proxy variables are read here instead, once per origin (see _proxy).
        self.session = aiohttp.ClientSession(
            connector=connector, trust_env=False, raise_for_status=False, request_class=InlineBodyRequest
        )
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._proxies: dict[str, tuple[yarl.URL | None, aiohttp.BasicAuth | None]] = {}

    def _timeout(self, timeout: Timeouts) -> aiohttp.ClientTimeout:
        key = (timeout.connect, timeout.read, timeout.pool)
        cached = self._timeouts.get(key)
        if cached is None:
            cached = aiohttp.ClientTimeout(connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read)
            self._timeouts[key] = cached
        return cached

    def _proxy(self, url: str) -> tuple[yarl.URL | None, aiohttp.BasicAuth | None]:
        """The proxy of ``HTTP(S)_PROXY``/``NO_PROXY`` for the URL's origin, as httpx and ``trust_env`` read them."""
        path_start = url.find("/", url.find("//") + 2)
        origin = url if path_start < 0 else url[:path_start]
        found = self._proxies.get(origin)
        if found is None:
            try:
                found = aiohttp.helpers.get_env_proxy_for_url(yarl.URL(origin))
            except LookupError:
                found = (None, None)
            self._proxies[origin] = found
        return found

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: Timeouts
    ) -> RawResponse:
        proxy, proxy_auth = self._proxy(url)
        try:
            async with self.session.request(
                method,
                url,
                headers=headers,
                data=content,
                timeout=self._timeout(timeout),
                allow_redirects=False,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as resp:
                body = await resp.read()
                return RawResponse(resp.status, resp.headers, body)
        # ValueError: aiohttp refuses a header with a line break (header injection) before writing it.
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            never_sent = isinstance(exc, aiohttp.ClientConnectorError)
            raise connection_error(exc, method, url, never_sent=never_sent) from exc

    async def aclose(self) -> None:
        await self.session.close()

    def close_without_loop(self) -> None:
        """Close the pool without awaiting on its loop: the loop is closed, or this is a forked child and the
        connections are the parent's too.

        aiohttp closes connections through their loop, impossible once it is closed; left alone, the sockets would
        stay open until collected, then be closed with a ResourceWarning each and an "Unclosed connector" report on
        stderr. A socket closes fine without its loop, so that is done here, and the server sees the connections end
        at once. On a loop still alive (a forked child), each connection is aborted instead: its socket is closed on
        the loop's next turn, without a TLS close_notify on a connection the parent still uses. This reaches into
        aiohttp's and asyncio's private fields: tests/test_lifecycle.py counts the server's open connections to show
        it works with the versions we support.
        """
        connector = self.session.connector
        self.session.detach()
        if connector is None or connector.closed:
            return
        protocols = [proto for idle in connector._conns.values() for proto, _ in idle]
        protocols += connector._acquired
        for proto in protocols:
            transport: Any = proto.transport
            if transport is None:
                continue
            if not self._loop.is_closed():
                transport.abort()
                continue
            while hasattr(transport, "_ssl_protocol"):  # TLS: the socket is under the TLS layer's transport
                transport = transport._ssl_protocol._transport
            sock = getattr(transport, "_sock", None)  # asyncio's own transports; uvloop's close themselves
            if sock is not None:
                sock.close()
                transport._sock = None  # else its __del__ warns and closes it again
        connector._close()  # closed loop: only marks the connector closed; else the aborted transports are left
