"""What every benchmark shares: sizes, the result row, the request headers of a server app."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, USER_ID


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs. ``DEFAULT`` stays well under a minute each on a 2-core machine."""

    name: str
    cpu_calls: int  # P1: sequential calls per client
    batch_users: int  # P2: users created under the server's rate limit
    batch_rate: int  # P2: the server's limit, requests per second
    fanout_calls: int  # P3: concurrent users.get
    fanout_concurrency: int
    fanout_rounds: int
    sequential_calls: int  # P3: calls of the sequential `requests` loop (its rate does not depend on the count)
    page_users: int  # P4: users iterated (and twice as many for the flatness check)
    import_repeats: int  # P5
    queue_small: int  # Q: queued concurrent calls, small and large
    queue_large: int
    evaluate: bool = True  # False: tiny sizes, timings mean nothing; only correctness is judged
    verify_calls: int = 2000  # P6: verifications of one token again, and of as many new tokens


SMOKE = Sizes("smoke", 100, 40, 200, 100, 20, 1, 5, 300, 2, 100, 400, evaluate=False, verify_calls=20)
DEFAULT = Sizes("default", 8000, 2500, 500, 5000, 200, 3, 60, 15_000, 15, 5000, 20_000)
FULL = Sizes("full", 20_000, 10_000, 500, 5000, 200, 5, 150, 100_000, 40, 5000, 20_000, verify_calls=5000)


@dataclass
class Result:
    """One row of the results table. ``met`` is None for context rows (no target)."""

    id: str
    what: str
    measured: str
    target: str = ""
    met: bool | None = None


def headers() -> dict[str, str]:
    """The headers the SDK sends, for the raw clients (same request on the wire)."""
    from stack_auth._async._transport import Credentials

    return Credentials(PROJECT_ID, "server", SECRET_SERVER_KEY).headers()


def user_url(base_url: str) -> str:
    return f"{base_url}/api/v1/users/{USER_ID}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def check(fast_enough: bool, sizes: Sizes) -> bool | None:
    """A timing target: judged at real sizes only (None: not judged)."""
    return fast_enough if sizes.evaluate else None


def judged(correct: bool, fast_enough: bool, sizes: Sizes) -> bool:
    """A target with a correctness part (judged at any size) and a timing part (at real sizes only)."""
    return correct and (fast_enough or not sizes.evaluate)
