"""P3: unthrottled fan-out (``users.get`` at concurrency 200, 20 ms server latency), and Q: deep queues.

P3 compares throughput (calls per second of wall time) of the SDK, raw aiohttp at the same concurrency and a
sequential ``requests`` loop (whose rate does not depend on how many calls it makes, so it runs fewer).

Q (issue 4): ``queue_small`` and ``queue_large`` concurrent ``users.get`` queued at once (``asyncio.gather``) behind
the app's default ``max_concurrency``: the time per call must not grow with the depth of the queue.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Awaitable, Callable

from benchmarks.common import Result, Sizes, check, headers, median, user_url
from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, USER_ID, server

LATENCY = 0.02


async def throughput(calls: int, one_call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(one_call() for _ in range(calls)))
    return calls / (time.perf_counter() - start)


async def fan_out(base_url: str, sizes: Sizes) -> dict[str, list[float]]:
    import aiohttp

    from stack_auth import AsyncStackServerApp

    url, hdrs, concurrency = user_url(base_url), headers(), sizes.fanout_concurrency
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        AsyncStackServerApp(
            project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url, max_concurrency=concurrency
        ) as app,
    ):

        async def raw_aiohttp() -> object:
            async with session.get(url, headers=hdrs) as response:
                return json.loads(await response.read())

        async def sdk_bulk() -> None:
            async with app.bulk.map(app.users.get, [USER_ID] * sizes.fanout_calls, concurrency=concurrency) as results:
                async for result in results:
                    result.unwrap()

        async def bulk_rate(calls: int, _: object) -> float:
            start = time.perf_counter()
            await sdk_bulk()
            return calls / (time.perf_counter() - start)

        clients: dict[str, Callable[[], Awaitable[object]]] = {
            "aiohttp": raw_aiohttp,
            "SDK gather": lambda: app.users.get(USER_ID),
        }
        rates: dict[str, list[float]] = {name: [] for name in [*clients, "SDK bulk.map"]}
        for fn in clients.values():
            await throughput(concurrency, fn)  # warm up: open the connections
        for _ in range(sizes.fanout_rounds):
            for name, fn in clients.items():
                rates[name].append(await throughput(sizes.fanout_calls, fn))
            rates["SDK bulk.map"].append(await bulk_rate(sizes.fanout_calls, None))
    return rates


def sequential_requests(base_url: str, calls: int) -> float:
    import requests

    url, hdrs = user_url(base_url), headers()
    with requests.Session() as session:
        session.get(url, headers=hdrs).json()
        start = time.perf_counter()
        for _ in range(calls):
            session.get(url, headers=hdrs).json()
        return calls / (time.perf_counter() - start)


async def queued(base_url: str, sizes: Sizes) -> dict[int, list[float]]:
    """Seconds per call at each queue depth, in alternating rounds (this machine's load drifts)."""
    from stack_auth import AsyncStackServerApp

    async with AsyncStackServerApp(
        project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url
    ) as app:
        await throughput(100, lambda: app.users.get(USER_ID))
        per_call: dict[int, list[float]] = {sizes.queue_small: [], sizes.queue_large: []}
        for _ in range(sizes.fanout_rounds):
            for n in per_call:
                gc.collect()
                per_call[n].append(1 / await throughput(n, lambda: app.users.get(USER_ID)))
    return per_call


def run_fanout(sizes: Sizes) -> list[Result]:
    with server("trivial", "--latency", str(LATENCY)) as base_url:
        rates = asyncio.run(fan_out(base_url, sizes))
        sequential = sequential_requests(base_url, sizes.sequential_calls)
    sdk, raw, bulk = median(rates["SDK gather"]), median(rates["aiohttp"]), median(rates["SDK bulk.map"])
    what = f"{sizes.fanout_calls} users.get, concurrency {sizes.fanout_concurrency}, {LATENCY * 1000:.0f} ms latency"
    return [
        Result(
            "P3",
            f"{what}: SDK vs raw aiohttp throughput",
            f"{sdk / raw:.2f}x ({sdk:,.0f} vs {raw:,.0f} calls/s)",
            ">= 0.8x",
            check(sdk / raw >= 0.8, sizes),
        ),
        Result(
            "P3",
            f"{what}: SDK vs sequential requests loop",
            f"{sdk / sequential:.0f}x ({sdk:,.0f} vs {sequential:,.0f} calls/s)",
            ">= 10x",
            check(sdk / sequential >= 10, sizes),
        ),
        Result("P3", f"{what}: SDK bulk.map (ordered results)", f"{bulk:,.0f} calls/s ({bulk / raw:.2f}x aiohttp)"),
    ]


def run_queue(sizes: Sizes) -> list[Result]:
    with server("trivial") as base_url:
        per_call = asyncio.run(queued(base_url, sizes))
    small, large = sizes.queue_small, sizes.queue_large
    growth = median([b / a for a, b in zip(per_call[small], per_call[large], strict=True)])
    small_us, large_us = median(per_call[small]) * 1e6, median(per_call[large]) * 1e6
    return [
        Result(
            "Q",
            f"{small:,} vs {large:,} queued concurrent users.get: time per call",
            f"{growth:.2f}x ({small_us:.0f} vs {large_us:.0f} us/call; {small * small_us / 1e6:.2f} s vs "
            f"{large * large_us / 1e6:.2f} s)",
            "<= 1.2x (time proportional to N)",
            check(growth <= 1.2, sizes),
        )
    ]
