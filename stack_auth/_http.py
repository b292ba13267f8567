"""What the HTTP backends hand to the transport, shared by the async and the sync side.

The HTTP library is never imported here: the types a caller may pass (an ``httpx`` or ``httpx2`` client or
``Timeout``) are protocols, and the library classes are looked up among the loaded ones (:mod:`stack_auth._httpx`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import attrs

from stack_auth._config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT
from stack_auth._exceptions import APIConnectionError, APITimeoutError, ConfigurationError
from stack_auth._httpx import error_classes


@attrs.frozen(slots=True)
class RawResponse:
    """One HTTP answer, fully read. ``headers`` is case-insensitive (httpx or aiohttp headers)."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class TimeoutLike(Protocol):
    """An ``httpx.Timeout`` or an ``httpx2.Timeout``: four limits in seconds, None for none."""

    @property
    def connect(self) -> float | None: ...
    @property
    def read(self) -> float | None: ...
    @property
    def write(self) -> float | None: ...
    @property
    def pool(self) -> float | None: ...


#: What ``timeout=`` accepts: seconds (read/write/pool, with a connect limit of at most 10 s), either library's
#: ``Timeout``, or None for the default (60 s).
TimeoutTypes = float | TimeoutLike | None


class Timeouts(NamedTuple):
    """The limits of one request as the transport sends them. A 4-tuple, which both httpx and httpx2 accept as
    ``timeout=``, so one value serves a client of either library without conversion."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


def to_timeouts(timeout: TimeoutTypes) -> Timeouts:
    """One reading of the timeout option: a number is the read/write/pool limit with a shorter connect limit."""
    if timeout is None or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)):
        seconds = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        if not seconds > 0:
            raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        return Timeouts(min(seconds, DEFAULT_CONNECT_TIMEOUT), seconds, seconds, seconds)
    limits = tuple(getattr(timeout, name, False) for name in Timeouts._fields)
    if not all(limit is None or (isinstance(limit, (int, float)) and not isinstance(limit, bool)) for limit in limits):
        raise ConfigurationError(f"timeout must be seconds or an httpx.Timeout / httpx2.Timeout, got {timeout!r}")
    return Timeouts(*limits)


class HTTPResponse(Protocol):
    """What the SDK reads of an httpx or httpx2 ``Response``."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


class AsyncHTTPClient(Protocol):
    """An ``httpx.AsyncClient`` or an ``httpx2.AsyncClient``, as the async apps' ``http_client=`` takes it."""

    async def request(
        self, method: str, url: str, *, content: bytes | None, headers: Mapping[str, str], timeout: Timeouts
    ) -> HTTPResponse: ...

    async def aclose(self) -> None: ...


class HTTPClient(Protocol):
    """An ``httpx.Client`` or an ``httpx2.Client``, as the sync apps' ``http_client=`` takes it."""

    def request(
        self, method: str, url: str, *, content: bytes | None, headers: Mapping[str, str], timeout: Timeouts
    ) -> HTTPResponse: ...

    def close(self) -> None: ...


def connection_error(exc: BaseException, method: str, url: str, *, never_sent: bool = False) -> APIConnectionError:
    """Map a transport exception (httpx, httpx2 or aiohttp) to our typed error, keeping the cause readable.

    ``never_sent`` (or an httpx connect failure) says the connection was never opened, so the server cannot have
    seen the request and even a POST may be sent again.
    """
    never_sent = never_sent or isinstance(
        exc, (ConnectionRefusedError, *error_classes("ConnectError", "ConnectTimeout", "PoolTimeout"))
    )
    timeouts: tuple[type[Exception], ...] = (TimeoutError, *error_classes("TimeoutException"))
    kind = APITimeoutError if isinstance(exc, timeouts) else APIConnectionError
    what = "timed out" if kind is APITimeoutError else "failed"
    detail = str(exc) or type(exc).__name__
    return kind(f"{method} {url} {what}: {detail}", method=method, url=url, maybe_sent=not never_sent)


def header_refused(method: str, url: str) -> APIConnectionError:
    """The error for a request the HTTP library refused to write for a header that is not valid HTTP (a line break
    in a key or a token). The libraries' own errors quote the value, which may be a secret: raise this outside the
    ``except`` block that caught theirs, so that it is not even its context."""
    refused = ValueError("a request header is not valid HTTP (a line break or another control character?)")
    return connection_error(refused, method, url, never_sent=True)


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
