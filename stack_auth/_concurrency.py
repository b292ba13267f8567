"""Concurrency primitives the transport uses, in async and sync twins (the generated sync code names the twin).

- :class:`RateGate` is shared by both: pure, thread-safe bookkeeping of when the next request may be sent. It paces
  requests to an optional client-side rate limit and, when any request of the app gets 429, holds every request of
  the app until the wait is over, then lets the waiters go one ``release_interval`` apart (no thundering herd).
- :class:`AsyncLimiter` / :class:`Limiter` bound in-flight requests, so deep queues wait here, cheaply, and never
  inside the HTTP pool. The async one keeps one ``anyio.Semaphore`` per event loop.
"""

from __future__ import annotations

import threading
import time
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stack_auth._http import current_loop_key

if TYPE_CHECKING:
    import anyio

# anyio is imported on first use: ``import stack_auth`` stays cheap (see benchmarks, P5).
sleep = time.sleep


async def async_sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


class RateGate:
    """When may the next request go? ``reserve()`` answers with a delay; ``close_for()`` holds everyone back."""

    def __init__(self, rate_limit: float | None = None, release_interval: float = 0.01) -> None:
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second, got {rate_limit!r}")
        self.rate_limit = rate_limit
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._release_interval = release_interval
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._closed_until = 0.0
        self.closures = 0

    @property
    def closed_until(self) -> float:
        """``time.monotonic()`` value before which no request is sent."""
        return self._closed_until

    def reserve(self, ticket: float | None = None) -> tuple[float, float]:
        """Return ``(delay, ticket)``: sleep ``delay`` then call again with ``ticket`` until the delay is 0.

        A ticket is the slot this caller was given; waking at it, the caller goes unless the gate was closed
        again meanwhile, in which case it takes a new slot behind the closure.
        """
        now = time.monotonic()
        with self._lock:
            if ticket is not None and now >= ticket - 1e-4 and ticket >= self._closed_until:
                return 0.0, ticket
            start = max(now, self._closed_until)
            if not self._interval and start <= now and now >= self._next_slot:
                return 0.0, now  # open gate, no pacing: the common case costs one lock
            slot = max(start, self._next_slot)
            self._next_slot = slot + (self._interval or self._release_interval)
            return max(0.0, slot - now), slot

    def close_for(self, seconds: float) -> None:
        """Hold every request of the app for ``seconds`` (from now), e.g. after a 429."""
        until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            if until > self._closed_until:
                self._closed_until = until
                self.closures += 1


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
                semaphore = self._by_loop.setdefault(key, anyio.Semaphore(self.limit))
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
