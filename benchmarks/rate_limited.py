"""P2: a rate-limited batch. The emulator (in a subprocess) allows ``batch_rate`` requests per second (fixed
one-second windows, 429 with ``Retry-After`` half of the time, like Stack's dev server) and answers 20 ms late.

The SDK creates ``batch_users`` users with ``bulk.create_users`` and ``rate_limit`` set a little under the server's
limit (arrival jitter could otherwise push a window over); the floor is ``batch_users / batch_rate`` seconds. Beside
it, the naive way: raw ``httpx.AsyncClient`` and ``asyncio.gather`` of every create. Users are created without
email auth, so the server does not dedupe emails: a create sent twice would show up as a duplicate.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from benchmarks.common import Result, Sizes, headers, judged
from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, server

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


def count_429(base_url: str) -> int:
    stats = httpx.get(f"{base_url}/__emulator__/stats").json()
    return int(stats["routes"].get("POST /users", {}).get("statuses", {}).get("429", 0))


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
        start = time.perf_counter()
        failed = 0
        async with app.bulk.create_users(rows("sdk", sizes.batch_users)) as results:
            async for result in results:
                failed += not result.ok
        return time.perf_counter() - start, failed


async def naive_batch(base_url: str, sizes: Sizes) -> tuple[float, int]:
    hdrs = headers()
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        start = time.perf_counter()
        responses = await asyncio.gather(
            *(client.post("/api/v1/users", json=row, headers=hdrs) for row in rows("naive", sizes.batch_users)),
            return_exceptions=True,
        )
        seconds = time.perf_counter() - start
    failed = sum(1 for r in responses if not isinstance(r, httpx.Response) or r.status_code != 201)
    return seconds, failed


def run(sizes: Sizes) -> list[Result]:
    n, rate = sizes.batch_users, sizes.batch_rate
    floor = n / rate
    with server("emulator") as base_url:
        configure(base_url, rate)
        sdk_seconds, sdk_failed = asyncio.run(sdk_batch(base_url, sizes))
        sdk_429 = count_429(base_url)
        sdk_users, sdk_dupes = duplicates(base_url, "sdk")
        time.sleep(1.0)  # a fresh rate-limit window for the naive run
        configure(base_url, rate)
        httpx.delete(f"{base_url}/__emulator__/stats").raise_for_status()
        naive_seconds, naive_failed = asyncio.run(naive_batch(base_url, sizes))
        naive_429 = count_429(base_url)
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
            f"{what}: naive httpx gather (no pacing, no retries)",
            f"{naive_seconds:.1f} s; {naive_failed:,} failed ({naive_429:,} x 429), {naive_dupes} duplicates, "
            f"{naive_users:,} users",
        ),
    ]
