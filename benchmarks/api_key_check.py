"""P1 for API keys: client CPU per ``user_api_keys.check`` call against per ``users.get`` call, both through the SDK.

A service checks a machine client's key on every request, so a check must cost no more than reading a user. Both
calls go to the trivial server (real answers: ``user-api-keys.check valid`` and ``users.get (server)``), taking turns
in blocks as in :mod:`benchmarks.cpu`; a ratio is the median of the per-block ratios.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from benchmarks.common import Result, Sizes, check, median
from benchmarks.cpu import BLOCK, async_cpu_per_call, blocks, cpu_per_call, rotated
from benchmarks.servers import API_KEY_BODY, PROJECT_ID, SECRET_SERVER_KEY, USER_ID

CREDENTIALS = {"project_id": PROJECT_ID, "secret_server_key": SECRET_SERVER_KEY}


def api_key() -> str:
    """A well-formed key (Stack's format and checksum) of the key the server's ``check`` answer describes."""
    from stack_auth._api_key_format import format_api_key

    return format_api_key(key_id=API_KEY_BODY["id"], secret_part="k" * 45, type="user", is_public=False)


async def async_times(base_url: str, sizes: Sizes) -> dict[str, list[float]]:
    from stack_auth import AsyncStackServerApp

    key = api_key()
    async with AsyncStackServerApp(**CREDENTIALS, base_url=base_url) as app:
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "users.get": lambda: app.users.get(USER_ID),
            "check": lambda: app.user_api_keys.check(key),
        }
        for fn in calls.values():
            await async_cpu_per_call(BLOCK, fn)  # warm up: connections, caches
        times: dict[str, list[float]] = {name: [] for name in calls}
        for block in range(blocks(sizes)):
            for name in rotated(list(calls), block):
                times[name].append(await async_cpu_per_call(BLOCK, calls[name]))
    return times


def sync_times(base_url: str, sizes: Sizes) -> dict[str, list[float]]:
    from stack_auth import StackServerApp

    key = api_key()
    with StackServerApp(**CREDENTIALS, base_url=base_url) as app:
        calls: dict[str, Callable[[], object]] = {
            "users.get": lambda: app.users.get(USER_ID),
            "check": lambda: app.user_api_keys.check(key),
        }
        for fn in calls.values():
            cpu_per_call(BLOCK, fn)
        times: dict[str, list[float]] = {name: [] for name in calls}
        for block in range(blocks(sizes)):
            for name in rotated(list(calls), block):
                times[name].append(cpu_per_call(BLOCK, calls[name]))
    return times


def rows(base_url: str, sizes: Sizes) -> list[Result]:
    """The two P1 rows (async and sync SDK), measured on the trivial server at ``base_url``."""
    out = []
    for kind, times in (("async", asyncio.run(async_times(base_url, sizes))), ("sync", sync_times(base_url, sizes))):
        ratio = median([c / g for c, g in zip(times["check"], times["users.get"], strict=True)])
        us = {name: f"{median(values) * 1e6:.0f} us" for name, values in times.items()}
        out.append(
            Result(
                "P1",
                f"user_api_keys.check CPU/call vs users.get: {kind} SDK",
                f"{ratio:.2f}x ({us['check']} vs {us['users.get']})",
                "<= 1x",
                check(ratio <= 1, sizes),
            )
        )
    return out
