"""What the HTTP backends hand to the transport, shared by the async and the sync side."""

from __future__ import annotations

import asyncio
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


def connection_error(exc: BaseException, method: str, url: str) -> APIConnectionError:
    """Map a transport exception (httpx or aiohttp) to our typed error, keeping the cause readable."""
    timeouts: tuple[type[BaseException], ...] = (httpx.TimeoutException, TimeoutError)
    kind = APITimeoutError if isinstance(exc, timeouts) else APIConnectionError
    what = "timed out" if kind is APITimeoutError else "failed"
    detail = str(exc) or type(exc).__name__
    return kind(f"{method} {url} {what}: {detail}", method=method, url=url, maybe_sent=not _never_sent(exc))


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never opened, so the server cannot have seen the request."""
    import aiohttp  # the sync side never needs it at import time

    return isinstance(
        exc,
        (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            aiohttp.ClientConnectorError,
            ConnectionRefusedError,
        ),
    )


def current_loop_key() -> Any:
    """The running event loop (asyncio) or trio run (its token): pools and locks are bound to one of these."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        if trio is None:
            raise
        return trio.lowlevel.current_trio_token()
