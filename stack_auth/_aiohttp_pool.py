"""The aiohttp connection pool behind the async API on asyncio. Imported on first use, not at ``import stack_auth``."""

from __future__ import annotations

import asyncio

import aiohttp
import aiohttp.helpers
import yarl

from stack_auth._http import RawResponse, Timeouts, connection_error


class AiohttpPool:
    """One ``aiohttp.ClientSession`` bound to one event loop."""

    def __init__(self, max_connections: int) -> None:
        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections)
        # Not trust_env=True: aiohttp would then hop to a thread twice per request (netrc, proxy variables), a third
        # of the per-call CPU. The proxy variables are read here instead, once per origin (see _proxy).
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False, raise_for_status=False)
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
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            never_sent = isinstance(exc, aiohttp.ClientConnectorError)
            raise connection_error(exc, method, url, never_sent=never_sent) from exc

    async def aclose(self) -> None:
        await self.session.close()

    def detach(self) -> None:
        """Forget a pool whose event loop has closed. Its sockets cannot be closed without that loop (aiohttp
        closes them with a coroutine); they are released when collected, with at most a ResourceWarning, never an
        "Event loop is closed" error."""
        self.session.detach()
