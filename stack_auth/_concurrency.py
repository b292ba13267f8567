"""Concurrency primitives the transport uses, in async and sync twins (the generated sync code names the twin).

- :class:`RateGate` is shared by both: pure, thread-safe bookkeeping of when the next request may be sent. It paces
  requests to an optional client-side rate limit and, when any request of the app gets 429, holds every request of
  the app until the wait is over, then lets the waiters go one ``release_interval`` apart (no thundering herd).
- :class:`AsyncLimiter` / :class:`Limiter` bound in-flight requests, so deep queues wait here, cheaply, and never
  inside the HTTP pool. The async one keeps one ``anyio.Semaphore`` per event loop.
- :class:`AsyncLock` / :class:`Lock` serialize single-flight work (token refresh, JWKS fetch).
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from stack_auth._http import current_loop_key, is_asyncio_loop

if TYPE_CHECKING:
    import anyio

# anyio is imported on first use: ``import stack_auth`` stays cheap (see benchmarks, P5).
sleep = time.sleep


async def async_sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


class RateGate:
    """When may the next request of an app go? ``reserve()`` answers with a delay; ``close_for()`` holds all back.

    One gate per app, shared by every task and thread that sends through it. It hands out send times ("slots"):

    - with ``rate_limit`` (requests per second), slots are ``1 / rate_limit`` apart and never bunch up to catch up
      after a quiet spell (a token bucket holding one token), so the server never sees more than the rate;
    - after ``close_for(seconds)`` (a 429), no slot falls before the gate opens, and the requests that were waiting
      get slots one ``release_interval`` (or one rate interval) apart: no thundering herd when it opens.

    Callers hold their in-flight slot (the limiter) while they wait here, so a request that was queued when the gate
    closed cannot slip through afterwards.
    """

    def __init__(self, rate_limit: float | None = None, release_interval: float = 0.01) -> None:
        if rate_limit is not None and not rate_limit > 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second, got {rate_limit!r}")
        if not release_interval >= 0:
            raise ValueError(f"release_interval must be >= 0 seconds, got {release_interval!r}")
        self.rate_limit = rate_limit
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._release_interval = release_interval
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._closed_until = 0.0
        #: How many times a 429 closed (or extended) the gate.
        self.closures = 0

    @property
    def closed_until(self) -> float:
        """``time.monotonic()`` value before which no request is sent."""
        return self._closed_until

    def reserve(self, ticket: float | None = None) -> tuple[float, float]:
        """Return ``(delay, ticket)``: sleep ``delay``, then call again with ``ticket``, until the delay is 0.

        A ticket is the slot this caller was given. It stays valid across wake-ups (waking a little early keeps the
        place in the queue) unless the gate was closed after the ticket was handed out: then the caller takes a new
        slot behind the closure.
        """
        now = time.monotonic()
        with self._lock:
            if ticket is not None and ticket >= self._closed_until:
                wait = ticket - now
                return (wait, ticket) if wait > _EARLY_WAKE_TOLERANCE else (0.0, ticket)
            start = max(now, self._closed_until)
            if start <= now and now >= self._next_slot and not self._interval:
                return 0.0, now  # open gate, no pacing, no queue: the common case costs one lock
            slot = max(start, self._next_slot)
            self._next_slot = slot + (self._interval or self._release_interval)
            return max(0.0, slot - now), slot

    def close_for(self, seconds: float) -> None:
        """Hold every request of the app for ``seconds`` from now (e.g. a 429's ``Retry-After``)."""
        until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            if until > self._closed_until:
                self._closed_until = until
                self.closures += 1


# Timers may fire a hair before the deadline; a sleeper that wakes within this of its slot goes.
_EARLY_WAKE_TOLERANCE = 1e-4


class AsyncLimiter:
    """At most ``limit`` concurrent holders per event loop (``async with limiter:``)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {limit!r}")
        self.limit = limit
        self._by_loop: weakref.WeakKeyDictionary[Any, anyio.Semaphore] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _current(self) -> anyio.Semaphore:
        key = current_loop_key()
        semaphore = self._by_loop.get(key)
        if semaphore is None:
            import anyio

            with self._lock:
                semaphore = self._by_loop.setdefault(key, anyio.Semaphore(self.limit, fast_acquire=True))
        return semaphore

    async def __aenter__(self) -> None:
        await self._current().acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._current().release()


class Limiter:
    """At most ``limit`` concurrent holders across threads (``with limiter:``)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {limit!r}")
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    def __enter__(self) -> None:
        self._semaphore.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._semaphore.release()


class AsyncLock:
    """A mutex for tasks (``async with lock:``), one ``anyio.Lock`` per event loop, so one object can guard work
    that runs on several loops (an app used by two ``asyncio.run`` calls, a test suite, trio and asyncio)."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[Any, anyio.Lock] = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()

    def _current(self) -> anyio.Lock:
        key = current_loop_key()
        lock = self._by_loop.get(key)
        if lock is None:
            import anyio

            with self._guard:
                lock = self._by_loop.setdefault(key, anyio.Lock())
        return lock

    async def __aenter__(self) -> None:
        await self._current().acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._current().release()


class Lock:
    """A mutex for threads (``with lock:``): the sync twin of :class:`AsyncLock`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()


def import_module(name: str) -> ModuleType:
    """Import ``name`` (the sync twin of :func:`async_import_module`)."""
    return importlib.import_module(name)


async def async_import_module(name: str) -> ModuleType:
    """Import ``name`` in a worker thread the first time, so that a slow first import (PyJWT with cryptography:
    tens to hundreds of milliseconds) does not stall the event loop."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    return await in_worker_thread(lambda: importlib.import_module(name))


_T = TypeVar("_T")


async def in_worker_thread(fn: Callable[[], _T]) -> _T:
    """``fn()`` in a worker thread, the loop free meanwhile. On asyncio through the loop's own executor: anyio would
    first import its asyncio backend on the loop (about 60 ms of CPU, a stall asyncio's debug mode reports) when
    nothing has loaded it yet, as at a server's startup."""
    loop = current_loop_key()
    if is_asyncio_loop(loop):
        result: _T = await loop.run_in_executor(None, fn)
        return result
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn)
