"""Lifecycle and concurrency safety: the failures users of other Python SDKs keep reporting, reproduced here and
shown not to happen (issue: "Lifecycle and concurrency safety")."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from apps import load_example, server_app_kwargs

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.testing import Emulator
from stack_auth.testing.server import ServerThread

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


# --- Scripts in a fresh interpreter, as strict as Python gets: asyncio's debug mode (a callback that holds the loop
# is reported), every warning shown, a ResourceWarning (an unclosed socket, transport, connector) an error.
# The server counts the connections the script holds open at its checkpoints; idle connections stay open on the
# server for 10 minutes, so a connection that ends was closed by the client.
#
# A callback holds the loop by working: asyncio's own report (100 ms of wall time) fires on a loaded machine for any
# callback the scheduler happened to pause, so the prelude reports callbacks by the CPU they used (50 ms: the lazy
# imports of a first request cost about twice that) and keeps asyncio's wall-time report for stalls of a second.
STRICT = ["-X", "dev", "-W", "error::ResourceWarning"]
CALLBACK_CPU_LIMIT = 0.05
CALLBACK_WALL_LIMIT = 1.0
PRELUDE = """
import sys
KW = {kw!r}

def _report_callbacks_by_cpu():
    import asyncio.base_events, asyncio.events, logging, time
    run = asyncio.events.Handle._run
    describe = asyncio.base_events._format_handle  # what asyncio's own report prints: the task, not its step

    def timed(handle):
        started = time.thread_time()
        try:
            return run(handle)
        finally:
            spent = time.thread_time() - started
            if spent >= {cpu!r}:
                print("Executing %s used %.3f seconds of CPU" % (describe(handle), spent), file=sys.stderr)

    asyncio.events.Handle._run = timed
    slow_wall = lambda record: not (record.getMessage().startswith("Executing ") and record.args[-1] < {wall!r})
    logging.getLogger("asyncio").addFilter(slow_wall)

_report_callbacks_by_cpu()

def checkpoint(name):
    print("checkpoint", name, flush=True)
    sys.stdin.readline()

async def acheckpoint(name):  # on asyncio, without blocking the loop
    import asyncio
    await asyncio.get_running_loop().run_in_executor(None, checkpoint, name)
"""


@dataclass
class Run:
    returncode: int
    stdout: list[str]
    stderr: str
    connections: dict[str, int]


@pytest.fixture
def quiet_server(emulator: Emulator) -> Iterator[ServerThread]:
    server = ServerThread(emulator.asgi_app, keep_alive=600)
    server.start()
    yield server
    server.stop()


def run_strict(code: str, emulator: Emulator, server: ServerThread, expect: dict[str, int]) -> Run:
    """Run ``code`` under STRICT; at each ``checkpoint(name)`` wait (up to 20 s) until the server holds
    ``expect[name]`` connections open, and record what it holds."""
    kw = {**server_app_kwargs(emulator), "base_url": server.url}
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                *STRICT,
                "-c",
                PRELUDE.format(kw=kw, cpu=CALLBACK_CPU_LIMIT, wall=CALLBACK_WALL_LIMIT) + textwrap.dedent(code),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        watchdog = threading.Timer(90, proc.kill)
        watchdog.start()
        stdout: list[str] = []
        connections: dict[str, int] = {}
        try:
            for line in proc.stdout:
                if not line.startswith("checkpoint "):
                    stdout.append(line.rstrip("\n"))
                    continue
                name = line.split(" ", 1)[1].strip()
                deadline = time.monotonic() + 20
                while server.open_connections != expect.get(name) and time.monotonic() < deadline:
                    time.sleep(0.01)
                connections[name] = server.open_connections
                proc.stdin.write("\n")
                proc.stdin.flush()
            returncode = proc.wait()
        finally:
            watchdog.cancel()
            proc.kill()
        stderr.seek(0)
        return Run(returncode, stdout, stderr.read(), connections)


# 1. A module-level app used from several loops, and apps nobody closes: each pool is closed at the end of its loop
# (the server sees its connections end), and nothing is printed: no "Unclosed connector", no "Event loop is closed",
# no slow callback (the HTTP stack is imported when the app is built, not on the loop at its first request).
def test_two_loops_and_a_forgotten_app_leave_nothing_open_and_print_nothing(
    emulator: Emulator, quiet_server: ServerThread
) -> None:
    expect = {
        "first loop": 1,
        "after the first loop": 0,
        "second loop": 1,
        "after the second loop": 0,
        "after the forgotten app's loop": 0,
        "trio": 1,
        "after trio": 0,
    }
    code = """
        import asyncio, gc, trio
        from stack_auth import AsyncStackServerApp
        app = AsyncStackServerApp(**KW)

        async def use(name):
            await app.users.list_page()
            await acheckpoint(name)

        asyncio.run(use("first loop"))
        checkpoint("after the first loop")
        asyncio.run(use("second loop"))
        gc.collect()
        checkpoint("after the second loop")
        forgotten = AsyncStackServerApp(**KW)
        asyncio.run(forgotten.users.list_page())   # never closed
        checkpoint("after the forgotten app's loop")

        async def on_trio():
            await app.users.list_page()
            await trio.to_thread.run_sync(checkpoint, "trio")

        trio.run(on_trio)
        checkpoint("after trio")
        print("ok")
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stdout, run.stderr) == (0, ["ok"], "")
    assert run.connections == expect
    assert emulator.stats.count("GET /users") == 4


def test_the_strict_interpreter_reports_a_callback_that_holds_the_loop(
    emulator: Emulator, quiet_server: ServerThread
) -> None:
    """The control of the scenarios' empty stderr: their interpreter does report a loop held by work or a stall."""
    code = """
        import asyncio, time

        async def work():
            end = time.thread_time() + 0.3
            while time.thread_time() < end:
                pass

        async def stall():
            time.sleep(1.2)

        asyncio.run(work())
        asyncio.run(stall())
    """
    run = run_strict(code, emulator, quiet_server, {})
    assert run.returncode == 0
    used = re.search(r"Executing <Task .* used (\d+\.\d+) seconds of CPU", run.stderr)
    assert used is not None and float(used.group(1)) >= 0.3, run.stderr
    took = re.search(r"Executing <Task .* took (\d+\.\d+) seconds", run.stderr)
    assert took is not None and float(took.group(1)) >= 1.2, run.stderr


def test_the_fastapi_lifespan_builds_the_app_off_the_loop(emulator: Emulator, quiet_server: ServerThread) -> None:
    expect = {"serving": 1, "after shutdown": 0}
    code = """
        import asyncio
        from fastapi import FastAPI
        from stack_auth import AsyncStackServerApp
        from stack_auth.fastapi import stack_lifespan

        web = FastAPI(lifespan=stack_lifespan(lambda: AsyncStackServerApp(**KW)))

        async def main():
            async with web.router.lifespan_context(web) as state:
                await state["stack_app"].users.list_page()
                await acheckpoint("serving")
            await acheckpoint("after shutdown")

        asyncio.run(main())
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.connections == expect


# 2. A loop closed without shutting down (loop.close() alone): nobody can close the pool on it any more, so its
# sockets are closed directly when the next loop comes (or at exit), without a warning.
def test_a_pool_of_a_closed_loop_is_closed_without_its_loop(emulator: Emulator, quiet_server: ServerThread) -> None:
    expect = {"loop closed": 1, "next loop": 1, "after the next loop": 0, "left for exit": 1}
    code = """
        import asyncio
        from stack_auth import AsyncStackServerApp
        app = AsyncStackServerApp(**KW)

        loop = asyncio.new_event_loop()
        loop.run_until_complete(app.users.list_page())
        loop.close()
        checkpoint("loop closed")

        async def next_loop():
            await app.users.list_page()
            await acheckpoint("next loop")     # the closed loop's connection is gone, this loop's is open

        asyncio.run(next_loop())
        checkpoint("after the next loop")
        loop = asyncio.new_event_loop()
        loop.run_until_complete(app.users.list_page())
        loop.close()
        checkpoint("left for exit")
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.connections == expect


# 3. Loops in threads at once (asyncio and trio), and sync apps that are dropped or forgotten.
def test_loops_in_threads_and_sync_apps_leave_nothing_open(emulator: Emulator, quiet_server: ServerThread) -> None:
    expect = {"threads done": 0, "sync app in use": 1, "sync app collected": 0}
    code = """
        import asyncio, gc, threading, trio
        from stack_auth import AsyncStackServerApp, StackServerApp
        app = AsyncStackServerApp(**KW)

        async def create(name):
            await app.users.create(display_name=name)

        async def on_asyncio(name):
            # Loops in parallel threads take turns on the GIL, so a step's wall time is not its own: asyncio's
            # 100 ms slow-callback report is checked by the one-loop scenarios, here it would measure the others.
            asyncio.get_running_loop().slow_callback_duration = 2.0
            await create(name)

        threads = [threading.Thread(target=asyncio.run, args=(on_asyncio(f"thread-{n}"),)) for n in range(4)]
        threads.append(threading.Thread(target=trio.run, args=(create, "trio-thread")))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        checkpoint("threads done")

        sync_app = StackServerApp(**KW)
        sync_app.users.list_page()
        checkpoint("sync app in use")
        del sync_app
        gc.collect()
        checkpoint("sync app collected")
        StackServerApp(**KW).users.list_page()     # never closed: closed at exit
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.connections == expect
    names = sorted(u["display_name"] for u in emulator.users())
    assert names == sorted([*(f"thread-{n}" for n in range(4)), "trio-thread"])


# 4. Requests cancelled in flight, and a task still running when asyncio.run() ends (it cancels it).
def test_cancelled_requests_leave_nothing_open(emulator: Emulator, quiet_server: ServerThread) -> None:
    emulator.faults.latency(1.0, route="POST /users")
    expect = {"in flight": 3, "after the loop": 0}
    code = """
        import asyncio
        from stack_auth import AsyncStackServerApp
        app = AsyncStackServerApp(**KW)

        async def main():
            slow = [asyncio.create_task(app.users.create(display_name=f"c{n}")) for n in range(3)]
            await asyncio.sleep(0.2)
            await acheckpoint("in flight")
            for task in slow:
                task.cancel()
            results = await asyncio.gather(*slow, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results), results
            await app.users.list_page()
            asyncio.create_task(app.users.create(display_name="left running"))
            await asyncio.sleep(0.05)

        asyncio.run(main())
        checkpoint("after the loop")
        print("ok")
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stdout, run.stderr) == (0, ["ok"], "")
    assert run.connections == expect


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


# 6. After os.fork() an app created in the parent works in the child with fresh connections, quietly.
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_app_works_after_fork_with_fresh_connections(emulator: Emulator, quiet_server: ServerThread) -> None:
    expect = {"after fork": 1}
    code = """
        import asyncio, os
        from stack_auth import StackServerApp, AsyncStackServerApp
        app = StackServerApp(**KW)
        aapp = AsyncStackServerApp(**KW)
        app.users.list_page()
        asyncio.run(aapp.users.list_page())
        parent_pool = app._transport.http._pools
        pid = os.fork()
        if pid == 0:
            try:
                app.users.create(display_name="child")
                assert app._transport.http._pools is not parent_pool
                asyncio.run(aapp.users.create(display_name="child-async"))
            except BaseException as exc:
                print("child failed:", exc)
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        checkpoint("after fork")      # the parent's sync connection is still open: the child left it alone
        app.users.create(display_name="parent")
        assert app._transport.http._pools is parent_pool
        print("child exit", os.waitstatus_to_exitcode(status))
    """
    run = run_strict(code, emulator, quiet_server, expect)
    assert (run.returncode, run.stdout, run.stderr) == (0, ["child exit 0"], "")
    assert run.connections == expect
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
