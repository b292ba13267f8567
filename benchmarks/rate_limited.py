"""P2: a rate-limited batch. The emulator (in a subprocess) allows ``batch_rate`` requests per second (fixed
one-second windows, 429 with ``Retry-After`` half of the time, like Stack's dev server) and answers 20 ms late.

The SDK creates ``batch_users`` users with ``bulk.create_users`` and ``rate_limit`` set a little under the server's
limit (arrival jitter could otherwise push a window over); the floor is ``batch_users / batch_rate`` seconds. Beside
it, the naive way: raw ``httpx.AsyncClient`` and every create at once (``asyncio.gather``), stopped after twice
the floor plus 10 s (it runs in a subprocess: httpx's pool slows down so badly with thousands of queued requests
that its own timeouts and cancellation take minutes). Users are created without
email auth, so the server does not dedupe emails: a create sent twice would show up as a duplicate.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx

from benchmarks.common import Result, Sizes, headers, judged
from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, server

if TYPE_CHECKING:
    from stack_auth import AsyncStackServerApp

LATENCY = 0.02
#: The client-side rate as a share of the server's limit.
HEADROOM = 0.98


def configure(base_url: str, rate: int) -> None:
    faults = {
        "clear": True,
        "rate_limit": {"max_requests": rate, "window": 1.0, "retry_after": "half"},
        "latency": {"seconds": LATENCY},
    }
    httpx.post(f"{base_url}/__emulator__/faults", json=faults).raise_for_status()


def statuses(base_url: str) -> dict[str, int]:
    """Answers the emulator gave to ``POST /users``, by status."""
    stats = httpx.get(f"{base_url}/__emulator__/stats").json()
    return dict(stats["routes"].get("POST /users", {}).get("statuses", {}))


def duplicates(base_url: str, prefix: str) -> tuple[int, int]:
    """(users whose email starts with ``prefix``, how many of them are extra copies)."""
    users = httpx.get(f"{base_url}/__emulator__/users", timeout=60).json()
    emails = Counter(u["primary_email"] for u in users if (u["primary_email"] or "").startswith(prefix))
    return sum(emails.values()), sum(n - 1 for n in emails.values())


def rows(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"primary_email": f"{prefix}{i}@example.com", "display_name": f"User {i}"} for i in range(n)]


async def sdk_batch(base_url: str, sizes: Sizes) -> tuple[float, int]:
    from stack_auth import AsyncStackServerApp

    async with AsyncStackServerApp(
        project_id=PROJECT_ID,
        secret_server_key=SECRET_SERVER_KEY,
        base_url=base_url,
        rate_limit=sizes.batch_rate * HEADROOM,
        max_concurrency=64,
    ) as app:
        await warm_up(app)
        start = time.perf_counter()
        failed = 0
        async with app.bulk.create_users(rows("sdk", sizes.batch_users)) as results:
            async for result in results:
                failed += not result.ok
        return time.perf_counter() - start, failed


async def naive_batch(base_url: str, n: int) -> None:
    """Every create at once, httpx's defaults, no retries: what a quick script does."""
    hdrs = headers()
    async with httpx.AsyncClient(base_url=base_url) as client:
        await asyncio.gather(
            *(client.post("/api/v1/users", json=row, headers=hdrs) for row in rows("naive", n)), return_exceptions=True
        )


def run_naive(base_url: str, n: int, deadline: float) -> tuple[float, bool]:
    """The naive batch in a subprocess, killed after ``deadline`` seconds: (seconds, finished in time)."""
    start = time.perf_counter()
    try:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.rate_limited", base_url, str(n)], timeout=deadline, check=True
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, False
    return time.perf_counter() - start, True


async def warm_up(app: AsyncStackServerApp) -> None:
    """One request first, so the batch is timed warm (imports, connection pool), as in a long-running job."""
    await app.users.list_page(limit=1)


def run(sizes: Sizes) -> list[Result]:
    n, rate = sizes.batch_users, sizes.batch_rate
    floor = n / rate
    with server("emulator") as base_url:
        configure(base_url, rate)
        sdk_seconds, sdk_failed = asyncio.run(sdk_batch(base_url, sizes))
        sdk_429 = statuses(base_url).get("429", 0)
        sdk_users, sdk_dupes = duplicates(base_url, "sdk")
        time.sleep(1.0)  # a fresh rate-limit window for the naive run
        configure(base_url, rate)
        httpx.delete(f"{base_url}/__emulator__/stats").raise_for_status()
        naive_seconds, finished = run_naive(base_url, n, deadline=2 * floor + 10)
        naive = statuses(base_url)
        naive_users, naive_dupes = duplicates(base_url, "naive")
    what = f"{n:,} creates at a server limit of {rate}/s, {LATENCY * 1000:.0f} ms latency (floor {floor:.1f} s)"
    ratio = sdk_seconds / floor
    return [
        Result(
            "P2",
            f"{what}: SDK bulk.create_users, rate_limit={rate * HEADROOM:g}/s",
            f"{ratio:.3f}x floor ({sdk_seconds:.1f} s); {sdk_failed} failed, {sdk_dupes} duplicates, "
            f"{sdk_users:,} users, {sdk_429} x 429",
            "<= 1.05x floor, 0 failed, 0 duplicates",
            judged(sdk_failed == 0 and sdk_dupes == 0 and sdk_users == n, ratio <= 1.05, sizes),
        ),
        Result(
            "P2",
            f"{what}: naive httpx gather (no pacing, no retries, httpx defaults)",
            f"{naive_seconds:.1f} s{'' if finished else ' (killed: not done in time)'}; {n - naive_users:,} failed "
            f"({naive.get('429', 0):,} x 429, {n - sum(naive.values()):,} never reached the server), "
            f"{naive_dupes} duplicates, {naive_users:,} users",
        ),
    ]


if __name__ == "__main__":
    asyncio.run(naive_batch(sys.argv[1], int(sys.argv[2])))
