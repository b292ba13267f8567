"""What the HTTP backends hand to the transport, shared by the async and the sync side."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from stack_auth._config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT
from stack_auth._exceptions import APIConnectionError, APITimeoutError


@attrs.frozen(slots=True)
class RawResponse:
    """One HTTP answer, fully read. ``headers`` is case-insensitive (httpx or aiohttp headers)."""

    status: int
    headers: Mapping[str, str]
    content: bytes


TimeoutTypes = float | httpx.Timeout | None


def to_httpx_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """One reading of the timeout option: a float is the read/write/pool limit with a shorter connect limit."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, ConnectionRefusedError)


def connection_error(exc: BaseException, method: str, url: str, *, never_sent: bool = False) -> APIConnectionError:
    """Map a transport exception (httpx or aiohttp) to our typed error, keeping the cause readable.

    ``never_sent`` (or an httpx connect failure) says the connection was never opened, so the server cannot have
    seen the request and even a POST may be sent again.
    """
    never_sent = never_sent or isinstance(exc, _NEVER_SENT)
    timeouts: tuple[type[BaseException], ...] = (httpx.TimeoutException, TimeoutError)
    kind = APITimeoutError if isinstance(exc, timeouts) else APIConnectionError
    what = "timed out" if kind is APITimeoutError else "failed"
    detail = str(exc) or type(exc).__name__
    return kind(f"{method} {url} {what}: {detail}", method=method, url=url, maybe_sent=not never_sent)


def current_loop_key() -> Any:
    """The running event loop (asyncio) or trio run (its token): pools and locks are bound to one of these."""
    # Looked up in sys.modules: if a library was never imported, its loop cannot be running, and importing
    # asyncio here would slow down ``import stack_auth`` for sync users.
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            return trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
    raise RuntimeError("no running event loop: call the async API from asyncio or trio, or use the sync API")


def is_asyncio_loop(key: Any) -> bool:
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(key, asyncio.AbstractEventLoop)
