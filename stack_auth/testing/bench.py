"""Throughput of the emulator itself: authenticated ``GET /users/{id}`` per second.

``python -m stack_auth.testing.bench [--requests 5000] [--concurrency 32]`` measures, with bounded loops:

* ``asgi``: the ASGI app called directly (the emulator's own cost, no HTTP client);
* ``in-process httpx``: ``httpx.AsyncClient`` over ``httpx.ASGITransport``;
* ``loopback aiohttp`` / ``loopback httpx``: clients against ``python -m stack_auth.testing`` in a subprocess
  (uvicorn; httptools when installed);
* ``in-thread aiohttp``: the same client against ``Emulator.serve()`` in this process (shares the GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def _rate(n: int, concurrency: int, call: Callable[[], Awaitable[None]]) -> float:
    per_worker = max(1, n // concurrency)

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    await asyncio.gather(*(worker() for _ in range(min(10, concurrency))))  # warm-up
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - start)


async def _asgi(app: Any, path: str, headers: dict[str, str], n: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"bench")],
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return n / (time.perf_counter() - start)


def _start_subprocess() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stack_auth.testing", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


async def main(n: int, concurrency: int) -> dict[str, float]:
    import aiohttp
    import httpx

    from stack_auth.testing.emulator import Emulator

    results: dict[str, float] = {}
    emu = Emulator(seed=1)
    user = emu.create_user(display_name="Bench", primary_email="bench@example.com", primary_email_auth_enabled=True)
    headers = emu.headers("server")
    path = f"/api/v1/users/{user['id']}"

    results["asgi (no client)"] = await _asgi(emu.asgi_app, path, headers, n)

    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def in_process() -> None:
            r = await client.get(path, headers=headers)
            assert r.status_code == 200

        results["in-process httpx.ASGITransport"] = await _rate(n, concurrency, in_process)

    async def aiohttp_rate(base: str, user_path: str) -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base, connector=connector) as session:

            async def call() -> None:
                async with session.get(user_path, headers=headers) as r:
                    await r.read()
                    assert r.status == 200

            return await _rate(n, concurrency, call)

    async def httpx_rate(base: str, user_path: str) -> float:
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits) as client:

            async def call() -> None:
                r = await client.get(user_path, headers=headers)
                assert r.status_code == 200

            return await _rate(n, concurrency, call)

    proc, base = _start_subprocess()
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            created = await client.post("/api/v1/users", json={"display_name": "Bench"}, headers=headers)
        remote_path = f"/api/v1/users/{created.json()['id']}"
        results["loopback aiohttp (subprocess uvicorn)"] = await aiohttp_rate(base, remote_path)
        results["loopback httpx (subprocess uvicorn)"] = await httpx_rate(base, remote_path)
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    with emu.serve() as base:
        results["in-thread aiohttp (Emulator.serve)"] = await aiohttp_rate(base, path)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m stack_auth.testing.bench")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    for name, rate in asyncio.run(main(args.requests, args.concurrency)).items():
        print(f"{name:42s} {rate:8.0f} req/s")
