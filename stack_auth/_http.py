"""What the HTTP backends hand to the transport, shared by the async and the sync side."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from stack_auth._config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT
from stack_auth._exceptions import APIConnectionError, APITimeoutError

if TYPE_CHECKING:
    import httpx


@attrs.frozen(slots=True)
class RawResponse:
    """One HTTP answer, fully read. ``headers`` is case-insensitive (httpx or aiohttp headers)."""

    status: int
    headers: Mapping[str, str]
    content: bytes


TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"


def to_httpx_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """One reading of the timeout option: a float is the read/write/pool limit with a shorter connect limit."""
    # httpx is imported here, when an app is built, not with the package: `from stack_auth import
    # AsyncStackServerApp` stays cheaper than `import httpx` (see benchmarks, P5).
    import httpx

    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


def connection_error(exc: BaseException, method: str, url: str, *, never_sent: bool = False) -> APIConnectionError:
    """Map a transport exception (httpx or aiohttp) to our typed error, keeping the cause readable.

    ``never_sent`` (or an httpx connect failure) says the connection was never opened, so the server cannot have
    seen the request and even a POST may be sent again.
    """
    never: tuple[type[BaseException], ...] = (ConnectionRefusedError,)
    timeouts: tuple[type[BaseException], ...] = (TimeoutError,)
    httpx = sys.modules.get("httpx")  # not imported: the failure cannot be one of its exceptions
    if httpx is not None:
        never += (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        timeouts += (httpx.TimeoutException,)
    never_sent = never_sent or isinstance(exc, never)
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
