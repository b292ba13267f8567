"""Lifecycle and concurrency safety: the failures users of other Python SDKs keep reporting, reproduced here and
shown not to happen (issue: "Lifecycle and concurrency safety")."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from apps import load_example, server_app_kwargs

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.testing import Emulator

ROOT = Path(__file__).resolve().parents[1]


def established_to(port: int) -> int:
    """Open TCP connections from this machine to ``port`` (client side), read from /proc/net/tcp."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1].rstrip("/"))


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


# 1. "Event loop is closed" at exit or between runs: no __del__ does I/O; closing is explicit and idempotent.
def test_no_event_loop_is_closed_error_at_exit_or_between_loops(served: str, emulator: Emulator) -> None:
    result = run_python(
        f"""
        import asyncio, gc
        from stack_auth import AsyncStackServerApp
        app = AsyncStackServerApp(project_id={emulator.project_id!r}, secret_server_key={emulator.secret_server_key!r},
                                  base_url={served!r})
        async def use():
            await app.users.list_page()
        asyncio.run(use())
        asyncio.run(use())          # a new loop: the first loop's pool is dropped without I/O
        gc.collect()
        forgotten = AsyncStackServerApp(project_id={emulator.project_id!r},
                                        secret_server_key={emulator.secret_server_key!r}, base_url={served!r})
        asyncio.run(forgotten.users.list_page())   # never closed: at most a warning, never an error
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "Event loop is closed" not in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.anyio
async def test_close_is_idempotent_and_a_closed_app_says_so(emulator: Emulator, served: str) -> None:
    app = AsyncStackServerApp(**server_app_kwargs(emulator), base_url=served)
    await app.users.list_page()
    await app.aclose()
    await app.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await app.users.list_page()


# 2. One app used from several event loops (module-level app, a new loop per test).
@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator()
    with emulator.serve() as base_url:
        yield emulator, base_url


@pytest.fixture(scope="module")
def module_level_app(shared_emulator: tuple[Emulator, str]) -> AsyncStackServerApp:
    emulator, base_url = shared_emulator
    return AsyncStackServerApp(**server_app_kwargs(emulator), base_url=base_url)


@pytest.mark.anyio
@pytest.mark.parametrize("round_", [1, 2, 3])
async def test_module_level_app_works_in_each_new_loop(module_level_app: AsyncStackServerApp, round_: int) -> None:
    user = await module_level_app.users.create(display_name=f"round {round_}")
    again = await module_level_app.users.get(user.id)
    assert again is not None and (again.id, again.display_name) == (user.id, f"round {round_}")


def test_one_app_in_loops_run_one_after_another_and_in_parallel_threads(emulator: Emulator, served: str) -> None:
    app = AsyncStackServerApp(**server_app_kwargs(emulator), base_url=served)
    names: list[str] = []

    async def create(name: str) -> None:
        names.append((await app.users.create(display_name=name)).display_name or "")

    anyio.run(create, "asyncio-1")
    anyio.run(create, "trio-1", backend="trio")
    anyio.run(create, "asyncio-2")
    threads = [threading.Thread(target=anyio.run, args=(create, f"thread-{n}")) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(names) == sorted(["asyncio-1", "trio-1", "asyncio-2", *[f"thread-{n}" for n in range(4)]])


# 3. Per-call copies leak nothing: 10,000 with_options() copies open no connection and keep memory flat.
@pytest.mark.anyio
async def test_with_options_copies_share_the_pool_and_leak_nothing(emulator: Emulator, served: str) -> None:
    async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=served) as app:
        await app.users.list_page()
        connections = established_to(port_of(served))
        for _ in range(1000):
            app.with_options(timeout=5, max_retries=1)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(10_000):
            copy = app.with_options(timeout=5 + n % 3, max_retries=n % 4)
            assert copy._transport.http is app._transport.http
        del copy
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        await app.with_options(timeout=3).users.list_page()
        assert growth < 64 * 1024, f"10,000 copies kept {growth} bytes"
        assert established_to(port_of(served)) == connections


# 5. Thread safety of the sync API: 50 threads, one app, 10,000 calls, each answer matches its request.
def test_fifty_threads_share_one_sync_app(emulator: Emulator, served: str) -> None:
    with StackServerApp(**server_app_kwargs(emulator), base_url=served, max_concurrency=16) as app:
        users = [app.users.create(display_name=f"t{n}") for n in range(50)]
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for _ in range(200):
                    got = app.users.get(users[n].id)
                    assert got is not None and got.id == users[n].id and got.display_name == f"t{n}"
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert emulator.stats.count("GET /users/{user_id}") == 10_000
        assert established_to(port_of(served)) <= 16


# 6. After os.fork() an app created in the parent works in the child with fresh connections.
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_app_works_after_fork_with_fresh_connections(emulator: Emulator, served: str) -> None:
    result = run_python(
        f"""
        import asyncio, os
        from stack_auth import StackServerApp, AsyncStackServerApp
        kwargs = dict(project_id={emulator.project_id!r}, secret_server_key={emulator.secret_server_key!r},
                      base_url={served!r})
        app = StackServerApp(**kwargs)
        aapp = AsyncStackServerApp(**kwargs)
        app.users.list_page()
        parent_pool = app._transport.http._client
        pid = os.fork()
        if pid == 0:
            try:
                app.users.create(display_name="child")
                assert app._transport.http._client is not parent_pool
                asyncio.run(aapp.users.create(display_name="child-async"))
            except BaseException as exc:
                print("child failed:", exc)
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        app.users.create(display_name="parent")
        assert app._transport.http._client is parent_pool
        print("child exit", os.waitstatus_to_exitcode(status))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "child exit 0" in result.stdout, result.stdout + result.stderr
    names = sorted(u["display_name"] for u in emulator.users(emulator.project_id))
    assert names == ["child", "child-async", "parent"]


# 7. import stack_auth pulls in nothing optional.
def test_import_pulls_in_nothing_optional() -> None:
    optional = ["stack_auth.testing", "stack_auth.cli", "stack_auth.fastapi", "starlette", "uvicorn", "jwt",
                "fastapi", "tqdm", "aiohttp", "trio", "cattrs", "tenacity", "anyio", "asyncio"]  # fmt: skip
    result = run_python(f"import sys, stack_auth; print([m for m in {optional!r} if m in sys.modules])")
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


# 9. Thousands of queued requests wait in the app's limiter, never inside the HTTP pool.
@pytest.mark.anyio
async def test_twenty_thousand_concurrent_gets_stay_within_the_pool(
    anyio_backend: str, emulator: Emulator, served: str
) -> None:
    n = 20_000 if anyio_backend == "asyncio" else 5_000
    async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=served, max_concurrency=32) as app:
        user = await app.users.create(display_name="hot")
        peak = 0
        done = 0

        async def get() -> None:
            nonlocal done
            assert (await app.users.get(user.id)) is not None
            done += 1

        async def watch() -> None:
            nonlocal peak
            while done < n:
                peak = max(peak, established_to(port_of(served)))
                await anyio.sleep(0.05)

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            for _ in range(n):
                tg.start_soon(get)
    assert done == n
    assert peak <= 32


# 4. One app per process in a web app: 5,000 requests through a FastAPI app with the dependency stay within the pool.
@pytest.mark.anyio
async def test_fastapi_app_serves_thousands_of_requests_on_one_pool(
    anyio_backend: str, emulator: Emulator, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    monkeypatch.setenv("STACK_PROJECT_ID", emulator.project_id)
    monkeypatch.setenv("STACK_SECRET_SERVER_KEY", emulator.secret_server_key)
    monkeypatch.setenv("STACK_API_URL", served)
    web = load_example("fastapi_app.py").app

    user = emulator.create_user(display_name="web user")
    token = emulator.create_session(user["id"], base_url=served)["access_token"]
    n = 5_000 if anyio_backend == "asyncio" else 2_000
    peak = 0
    statuses: dict[int, int] = {}
    limit = anyio.Semaphore(100)

    async def call(client: httpx.AsyncClient) -> None:
        async with limit:
            response = await client.get("/profile", headers={"x-stack-access-token": token})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    async def watch() -> None:
        nonlocal peak
        while sum(statuses.values()) < n:
            peak = max(peak, established_to(port_of(served)))
            await anyio.sleep(0.02)

    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://api.test") as client,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(watch)
            for _ in range(n):
                tg.start_soon(call, client)
    assert statuses == {200: n}
    assert emulator.stats.count("GET /users/me") == n
    assert 0 < peak <= 64  # the Stack app's pool (max_concurrency), not one connection per request
    assert established_to(port_of(served)) == 0  # the lifespan closed the pool at shutdown


# 8. Blocking work stays off the event loop: the emulator's password hashing runs in worker threads.
@pytest.mark.anyio
async def test_password_hashing_does_not_block_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import time

    import httpx

    real_pbkdf2 = hashlib.pbkdf2_hmac
    hashing: list[tuple[float, float]] = []  # (start, end) of each hash, wherever it runs

    def timed_pbkdf2(*args: Any, **kwargs: Any) -> bytes:
        started = time.perf_counter()
        try:
            return real_pbkdf2(*args, **kwargs)
        finally:
            hashing.append((started, time.perf_counter()))

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", timed_pbkdf2)
    emulator = Emulator(password_hash_iterations=300_000)
    ticks: list[float] = []
    finished = False

    async def heartbeat() -> None:
        while not finished:
            await anyio.sleep(0.002)
            ticks.append(time.perf_counter())

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.asgi_app)) as client:
        app = AsyncStackServerApp(**server_app_kwargs(emulator), base_url="http://e", http_client=client)
        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            for n in range(4):
                await app.users.create(primary_email=f"h{n}@example.com", password="a-good-password")
            finished = True
    assert emulator.user_count() == 4
    assert len(hashing) == 4
    # A hash on the loop's thread stops the heartbeat for its whole length: no tick could fall inside any hash.
    # Offloaded, the loop ticks while hashes run. (The longest gap between ticks is no measure: on a loaded machine
    # the scheduler alone stalls the loop for a good part of a hash now and then.)
    ticked_during = [any(start < t < end for t in ticks) for start, end in hashing]
    assert any(ticked_during), (hashing, len(ticks))
