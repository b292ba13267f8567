"""The aiohttp connection pool behind the async API on asyncio. Imported on first use, not at ``import stack_auth``."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx

from stack_auth._http import RawResponse, connection_error


class AiohttpPool:
    """One ``aiohttp.ClientSession`` bound to one event loop."""

    def __init__(self, max_connections: int) -> None:
        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections)
        self.session = aiohttp.ClientSession(connector=connector, trust_env=True, raise_for_status=False)
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _timeout(self, timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
        key = (timeout.connect, timeout.read, timeout.pool)
        cached = self._timeouts.get(key)
        if cached is None:
            cached = aiohttp.ClientTimeout(connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read)
            self._timeouts[key] = cached
        return cached

    async def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, timeout: httpx.Timeout
    ) -> RawResponse:
        try:
            async with self.session.request(
                method, url, headers=headers, data=content, timeout=self._timeout(timeout), allow_redirects=False
            ) as resp:
                body = await resp.read()
                return RawResponse(resp.status, resp.headers, body)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            never_sent = isinstance(exc, aiohttp.ClientConnectorError)
            raise connection_error(exc, method, url, never_sent=never_sent) from exc

    async def aclose(self) -> None:
        await self.session.close()

    def detach(self) -> None:
        """Forget a pool whose event loop is gone: close its sockets without the loop, and silence the
        "Unclosed client session" report (the loop that could have closed it cleanly no longer runs)."""
        connector = self.session.connector
        if connector is not None:
            for protocols in list(getattr(connector, "_conns", {}).values()):
                for protocol, _ in protocols:
                    transport = getattr(protocol, "transport", None)
                    sock = transport.get_extra_info("socket") if transport is not None else None
                    if sock is not None:
                        sock.close()
        self.session.detach()
