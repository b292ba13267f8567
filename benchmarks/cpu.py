"""P1: client CPU per ``users.get`` call (answer decoded), SDK vs raw clients, server in another process.

Clients take turns in short blocks of ``BLOCK`` sequential calls (the order rotating from block to block), so the
drifts of this noisy, shared machine hit them alike; a ratio is the median of the per-block ratios.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from benchmarks.common import Result, Sizes, check, headers, median, user_url
from benchmarks.servers import PROJECT_ID, SECRET_SERVER_KEY, USER_ID, server

BLOCK = 100


def blocks(sizes: Sizes) -> int:
    return max(1, sizes.cpu_calls // BLOCK)


def rotated(names: list[str], by: int) -> list[str]:
    by %= len(names)
    return names[by:] + names[:by]


def cpu_per_call(calls: int, fn: Callable[[], object]) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


async def async_cpu_per_call(calls: int, fn: Callable[[], Awaitable[object]]) -> float:
    start = time.process_time()
    for _ in range(calls):
        await fn()
    return (time.process_time() - start) / calls


async def async_clients(base_url: str, sizes: Sizes) -> dict[str, list[float]]:
    import aiohttp
    import httpx

    from stack_auth import AsyncStackServerApp

    url, hdrs = user_url(base_url), headers()
    async with (
        aiohttp.ClientSession() as session,
        httpx.AsyncClient() as client,
        AsyncStackServerApp(project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url) as app,
    ):

        async def raw_aiohttp() -> object:
            async with session.get(url, headers=hdrs) as response:
                return json.loads(await response.read())

        async def raw_httpx() -> object:
            return (await client.get(url, headers=hdrs)).json()

        clients = {"aiohttp": raw_aiohttp, "httpx.AsyncClient": raw_httpx, "SDK async": lambda: app.users.get(USER_ID)}
        times: dict[str, list[float]] = {name: [] for name in clients}
        for fn in clients.values():
            await async_cpu_per_call(BLOCK, fn)  # warm up: connections, caches
        for block in range(blocks(sizes)):
            for name in rotated(list(clients), block):
                times[name].append(await async_cpu_per_call(BLOCK, clients[name]))
    return times


def sync_clients(base_url: str, sizes: Sizes) -> dict[str, list[float]]:
    """Raw ``Client`` and the sync SDK on such a client, for httpx and (when installed) httpx2, raw
    ``requests.Session`` and the sync SDK on its own pool (``http.client`` connections), in one rotation."""
    from contextlib import ExitStack

    import requests

    from stack_auth import StackServerApp
    from stack_auth._httpx import installed

    url, hdrs = user_url(base_url), headers()
    clients: dict[str, Callable[[], object]] = {}
    with ExitStack() as stack:
        session = stack.enter_context(requests.Session())
        own = stack.enter_context(
            StackServerApp(project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url)
        )
        clients["requests.Session"] = lambda: session.get(url, headers=hdrs).json()
        clients["SDK sync"] = lambda: own.users.get(USER_ID)
        for lib in installed():
            client = stack.enter_context(lib.Client())
            app = stack.enter_context(
                StackServerApp(
                    project_id=PROJECT_ID, secret_server_key=SECRET_SERVER_KEY, base_url=base_url, http_client=client
                )
            )
            clients[f"{lib.__name__}.Client"] = lambda client=client: client.get(url, headers=hdrs).json()
            clients[f"SDK sync on {lib.__name__}"] = lambda app=app: app.users.get(USER_ID)
        times: dict[str, list[float]] = {name: [] for name in clients}
        for fn in clients.values():
            cpu_per_call(BLOCK, fn)
        for block in range(blocks(sizes)):
            for name in rotated(list(clients), block):
                times[name].append(cpu_per_call(BLOCK, clients[name]))
    return times


def run(sizes: Sizes) -> list[Result]:
    from benchmarks import api_key_check
    from stack_auth._httpx import chosen_name

    with server("trivial") as base_url:
        times = asyncio.run(async_clients(base_url, sizes))
        times.update(sync_clients(base_url, sizes))
        key_rows = api_key_check.rows(base_url, sizes)

    def us(name: str) -> str:
        return f"{median(times[name]) * 1e6:.0f} us"

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(times[a], times[b], strict=True)])

    vs_aiohttp = ratio("SDK async", "aiohttp")
    vs_httpx = ratio("SDK async", "httpx.AsyncClient")
    rows = [
        Result(
            "P1",
            "users.get CPU/call: async SDK vs raw aiohttp",
            f"{vs_aiohttp:.2f}x ({us('SDK async')} vs {us('aiohttp')})",
            "<= 1.5x",
            check(vs_aiohttp <= 1.5, sizes),
        ),
        Result(
            "P1",
            "users.get CPU/call: async SDK vs raw httpx.AsyncClient",
            f"{vs_httpx:.2f}x ({us('SDK async')} vs {us('httpx.AsyncClient')})",
            "< 1x",
            check(vs_httpx < 1, sizes),
        ),
    ]
    for lib in ("httpx", "httpx2"):
        if f"{lib}.Client" not in times:
            continue  # httpx2 is not installed
        sync = ratio(f"SDK sync on {lib}", f"{lib}.Client")
        rows.append(
            Result(
                "P1",
                f"users.get CPU/call: sync SDK on a {lib}.Client (http_client=) vs raw {lib}.Client",
                f"{sync:.2f}x ({us(f'SDK sync on {lib}')} vs {us(f'{lib}.Client')})",
                "<= 1.2x",
                check(sync <= 1.2, sizes),
            )
        )
    for raw in ("requests.Session", f"{chosen_name()}.Client"):
        own = ratio("SDK sync", raw)
        rows.append(
            Result(
                "P1",
                f"users.get CPU/call: sync SDK (own pool) vs raw {raw}",
                f"{own:.2f}x ({us('SDK sync')} vs {us(raw)})",
                "< 1x",
                check(own < 1, sizes),
            )
        )
    if "httpx2.Client" in times:
        libs = ratio("httpx2.Client", "httpx.Client")
        rows.append(
            Result(
                "P1",
                "users.get CPU/call: raw httpx2.Client vs raw httpx.Client",
                f"{libs:.2f}x ({us('httpx2.Client')} vs {us('httpx.Client')})",
            )
        )
    rows += key_rows
    return rows
