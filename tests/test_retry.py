"""The retry policy's decisions, without a server (the transport tests exercise it against the emulator)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from stack_auth._exceptions import APIConnectionError, InternalServerError, RateLimitError
from stack_auth._retry import RetryPolicy, parse_retry_after


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    assert parse_retry_after(email.utils.formatdate(now + 10, usegmt=True), now=now) == pytest.approx(10, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0


def rate_limited(retry_after: str | None = None) -> RateLimitError:
    headers = httpx.Headers({"retry-after": retry_after} if retry_after else {})
    return RateLimitError("slow down", status=429, headers=headers)


@pytest.mark.parametrize(
    ("method", "exc", "retried"),
    [
        ("POST", rate_limited(), True),
        ("GET", InternalServerError("x", status=503), True),
        ("DELETE", InternalServerError("x", status=508), True),
        ("POST", InternalServerError("x", status=503), False),
        ("PATCH", InternalServerError("x", status=500), False),
        ("GET", InternalServerError("x", status=501), False),
        ("GET", APIConnectionError("reset", method="GET", url="u"), True),
        ("POST", APIConnectionError("reset", method="POST", url="u"), False),
        ("POST", APIConnectionError("refused", method="POST", url="u", maybe_sent=False), True),
    ],
)
def test_what_is_retried(method: str, exc: Exception, retried: bool) -> None:
    assert RetryPolicy().is_retryable(method, exc) is retried


def test_retry_after_is_honoured_and_capped_and_retries_are_bounded() -> None:
    policy = RetryPolicy(max_retries=3, max_delay=5, max_total_wait=100)
    state = policy.new_state()
    assert policy.next_wait("GET", rate_limited("2"), state) == 2.0
    assert policy.next_wait("GET", rate_limited("3600"), state) == 5.0
    assert 0 <= policy.next_wait("GET", rate_limited(), state) <= 5.0  # type: ignore[operator]
    assert policy.next_wait("GET", rate_limited("1"), state) is None  # a 4th retry: over max_retries
    assert state.attempt_number == 4


def test_total_wait_budget_stops_retries() -> None:
    policy = RetryPolicy(max_retries=100, max_delay=30, max_total_wait=10)
    state = policy.new_state()
    assert policy.next_wait("GET", rate_limited("6"), state) == 6.0
    assert policy.next_wait("GET", rate_limited("6"), state) is None  # 12 s would pass the 10 s budget
