"""The retry policy: which failures are retried, how long to wait, when to give up. One object, built on tenacity.

- 429 is always retried (the server refused the request before doing anything): after ``Retry-After`` (seconds or an
  HTTP date) when the server gives it, else after exponential backoff with full jitter; every wait is capped.
- 5xx, 508 and connection failures are retried only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE). A
  POST or PATCH is re-sent only when it provably never reached the server (the connection could not be opened).
- Retries stop after ``max_retries`` or when the next wait would pass ``max_total_wait`` seconds in all; the error
  raised then says how many retries were made and how long they waited.

The transport makes the first attempt without touching tenacity (its per-call cost is measurable on the hot path);
only after a retryable failure does it create a :class:`tenacity.RetryCallState` and let the strategies decide.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from stack_auth._config import DEFAULT_MAX_RETRIES, RETRY_BASE_DELAY, RETRY_MAX_DELAY, RETRY_MAX_TOTAL_WAIT
from stack_auth._exceptions import APIConnectionError, StackAuthApiError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504, 508})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # rare: only for a Retry-After given as an HTTP date

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


if TYPE_CHECKING:
    import tenacity


@attrs.frozen
class RetryPolicy:
    """How the transport retries. Set per app and per call via ``max_retries`` (``with_options``)."""

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=attrs.validators.ge(0))
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    max_total_wait: float = RETRY_MAX_TOTAL_WAIT
    # tenacity's strategies, built on the first retry: tenacity is not imported until something fails.
    _strategies: Any = attrs.field(init=False, default=None, repr=False, eq=False)

    def _tenacity(self) -> tuple[tenacity.wait.wait_base, tenacity.stop.stop_base]:
        if self._strategies is None:
            import tenacity

            backoff = tenacity.wait_random_exponential(multiplier=self.base_delay, max=self.max_delay)
            budget = tenacity.stop_after_attempt(self.max_retries + 1) | _wait_budget(self.max_total_wait)
            object.__setattr__(self, "_strategies", (backoff, budget))
        return self._strategies  # type: ignore[no-any-return]

    def is_retryable(self, method: str, exc: BaseException) -> bool:
        if isinstance(exc, StackAuthApiError):
            if exc.status == 429:
                return True
            return exc.status in RETRYABLE_SERVER_STATUSES and method in IDEMPOTENT_METHODS
        if isinstance(exc, APIConnectionError):
            return method in IDEMPOTENT_METHODS or not exc.maybe_sent
        return False

    def server_wait(self, headers: Mapping[str, str]) -> float | None:
        """The wait an answer's ``Retry-After`` asks for, capped at ``max_delay``; None when it asks for none."""
        retry_after = parse_retry_after(headers.get("retry-after"))
        return None if retry_after is None else min(retry_after, self.max_delay)

    def wait_seconds(self, state: tenacity.RetryCallState) -> float:
        """Retry-After when the server gave one (capped), else backoff with jitter."""
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, StackAuthApiError):
            server_wait = self.server_wait(exc.headers)
            if server_wait is not None:
                return server_wait
        return float(self._tenacity()[0](state))

    def new_state(self) -> tenacity.RetryCallState:
        import tenacity

        return tenacity.RetryCallState(cast(Any, None), None, (), {})

    def next_wait(self, method: str, exc: BaseException, state: tenacity.RetryCallState) -> float | None:
        """Record a failed attempt; the seconds to wait before the next one, or None to give up."""
        if not self.is_retryable(method, exc):
            return None
        state.set_exception((type(exc), exc, exc.__traceback__))
        state.upcoming_sleep = self.wait_seconds(state)
        if self._tenacity()[1](state):
            return None
        wait = state.upcoming_sleep
        state.idle_for += wait
        state.prepare_for_next_attempt()
        return wait


def _wait_budget(seconds: float) -> tenacity.stop.stop_base:
    """Stop when the next wait would bring the time spent waiting between attempts past ``seconds``."""
    import tenacity

    class WaitBudget(tenacity.stop.stop_base):
        def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
            return retry_state.idle_for + (retry_state.upcoming_sleep or 0.0) > seconds

    return WaitBudget()


def give_up(exc: BaseException, state: tenacity.RetryCallState | None) -> BaseException:
    """The error to raise once retrying stops, annotated with the retries made and the time waited."""
    if state is not None and isinstance(exc, StackAuthApiError):
        return exc.with_retry_info(state.attempt_number - 1, state.idle_for)
    return exc
