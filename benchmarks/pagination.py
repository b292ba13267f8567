"""P4: memory of iterating every user with the auto-paginating iterator (``async for user in app.users.list()``).

The emulator (in a subprocess, so its memory is not counted) holds ``page_users`` users, then twice as many. With
tracemalloc on, "one page" is the peak of fetching a single page of 100 users and holding it. Iterating all users
must peak at about one page above what stays allocated afterwards (yarl's and aiohttp's caches of recent URLs: every
page has its own cursor in the URL; they stop growing at 128 URLs), and no higher when the user count doubles.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from benchmarks.common import Result, Sizes, judged
from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, server

PAGE = 100


async def measure(base_url: str) -> tuple[int, int, int, int]:
    """(peak bytes of one page, peak growth while iterating all users, growth still allocated after, users seen)."""
    from stack_auth import AsyncStackServerApp

    async with AsyncStackServerApp(
        project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url
    ) as app:
        await app.users.list_page(limit=PAGE)  # warm up: connections, imports, caches
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            page = await app.users.list_page(limit=PAGE)
            one_page = tracemalloc.get_traced_memory()[1] - base
            del page
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            seen = 0
            async for _ in app.users.list(limit=PAGE):
                seen += 1
            peak = tracemalloc.get_traced_memory()[1] - base
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
    return one_page, peak, retained, seen


def run(sizes: Sizes) -> list[Result]:
    measured = {}
    for n in (sizes.page_users, 2 * sizes.page_users):
        with server("emulator", "--users", str(n)) as base_url:
            measured[n] = asyncio.run(measure(base_url))
    n, n2 = sizes.page_users, 2 * sizes.page_users
    one_page, peak, retained, seen = measured[n]
    _, peak2, _, seen2 = measured[n2]
    pages = (peak - retained) / one_page
    flat = peak2 / peak
    kib = 1024
    return [
        Result(
            "P4",
            f"iterate {n:,} users ({PAGE}/page): peak memory growth vs one page",
            f"{pages:.2f} pages above {retained / kib:,.0f} KiB of URL caches (peak +{peak / kib:,.0f} KiB; "
            f"one page {one_page / kib:,.0f} KiB)",
            "<= ~1.5 pages",
            judged(seen == n, pages <= 1.5, sizes),
        ),
        Result(
            "P4",
            f"iterate {n2:,} vs {n:,} users: peak memory growth",
            f"{flat:.2f}x ({peak2 / kib:,.0f} KiB vs {peak / kib:,.0f} KiB)",
            "<= 1.1x (flat)",
            judged(seen2 == n2, flat <= 1.1, sizes),
        ),
    ]
