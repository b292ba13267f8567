"""``app.bulk`` on the async API (asyncio and trio): order, per-item errors, bounds, streaming, cancelling, progress."""

from __future__ import annotations

import random
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from stack_auth import AsyncStackServerApp, ConfigurationError, InvalidArgumentError
from stack_auth._async._bulk import WINDOW_PER_WORKER
from stack_auth._fanout import BulkResult
from stack_auth._progress import BulkProgress
from stack_auth.errors import UserEmailAlreadyExists, UserNotFound
from stack_auth.models import ServerUser
from stack_auth.testing import Emulator, in_process_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(emulator: Emulator) -> AsyncIterator[AsyncStackServerApp]:
    """An app on the emulator, in-process (no sockets: fast and exact)."""
    async with in_process_app(emulator, AsyncStackServerApp, max_concurrency=16) as app:
        yield app


def rows(n: int, prefix: str = "u") -> list[dict[str, Any]]:
    return [{"primary_email": f"{prefix}{i}@example.com", "primary_email_auth_enabled": True} for i in range(n)]


class Tracker:
    """Counts calls of a fake operation: how many run at once, how many inputs were read."""

    def __init__(self) -> None:
        self.active = self.peak = self.started = self.finished = 0
        self.read = 0

    def inputs(self, n: int) -> Iterator[int]:
        for i in range(n):
            self.read += 1
            yield i

    async def square(self, i: int) -> int:
        self.active += 1
        self.started += 1
        self.peak = max(self.peak, self.active)
        try:
            await anyio.sleep(random.random() / 200)  # finish out of order
            if i % 7 == 3:
                raise ValueError(f"item {i} is bad")
            return i * i
        finally:
            self.active -= 1
            self.finished += 1


async def test_results_come_in_input_order_with_per_item_errors(app: AsyncStackServerApp) -> None:
    tracker = Tracker()
    async with app.bulk.map(tracker.square, tracker.inputs(200), concurrency=10) as results:
        out = [r async for r in results]
    assert [r.index for r in out] == list(range(200))
    assert [r.input for r in out] == list(range(200))
    for r in out:
        if r.index % 7 == 3:
            assert not r.ok
            assert isinstance(r.error, ValueError)
            assert str(r.error) == f"item {r.index} is bad"
        else:
            assert r.ok
            assert r.value == r.index**2
            assert r.unwrap() == r.index**2
    assert 1 < tracker.peak <= 10
    assert tracker.active == 0


async def test_create_users_reports_each_failure_and_keeps_the_rest(
    app: AsyncStackServerApp, emulator: Emulator
) -> None:
    emulator.create_user(primary_email="u3@example.com", primary_email_auth_enabled=True)
    batch: list[Any] = rows(10)
    batch[5] = {"primary_email": "x@example.com", "favourite_colour": "blue"}
    batch[7] = "not a mapping"
    results = await app.bulk.create_users(batch, concurrency=4).collect()
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {3, 5, 7}
    assert isinstance(failed[3], UserEmailAlreadyExists)
    assert isinstance(failed[5], InvalidArgumentError)
    assert "favourite_colour" in str(failed[5])
    assert isinstance(failed[7], InvalidArgumentError)
    created = [r.unwrap() for r in results if r.ok]
    assert all(isinstance(u, ServerUser) for u in created)
    assert [u.primary_email for u in created] == [f"u{i}@example.com" for i in (0, 1, 2, 4, 6, 8, 9)]
    assert emulator.user_count() == 8
    assert emulator.stats.count("POST /users") == 8  # the bad rows never reached the server


async def test_update_and_delete_users(app: AsyncStackServerApp, emulator: Emulator) -> None:
    ids = [emulator.create_user(primary_email=f"u{i}@example.com")["id"] for i in range(6)]
    missing = "00000000-0000-4000-8000-000000000000"
    updates = ({"id": uid, "server_metadata": {"n": n}} for n, uid in enumerate([*ids, missing]))
    async with app.bulk.update_users(updates) as results:
        out = [r async for r in results]
    assert [r.unwrap().server_metadata for r in out[:6]] == [{"n": n} for n in range(6)]
    assert isinstance(out[6].error, UserNotFound)
    no_id = await app.bulk.update_users([{"display_name": "x"}]).collect()
    assert isinstance(no_id[0].error, InvalidArgumentError)

    deleted = await app.bulk.delete_users([ids[0], "not-a-uuid", ids[1]]).collect()
    assert [r.ok for r in deleted] == [True, False, True]
    assert isinstance(deleted[1].error, InvalidArgumentError)
    again = await app.bulk.delete_users([ids[1], ids[2]]).collect()
    assert isinstance(again[0].error, UserNotFound)
    assert again[1].ok
    assert emulator.user_count() == 3


async def test_async_iterable_input(app: AsyncStackServerApp, emulator: Emulator) -> None:
    async def generate() -> AsyncIterator[dict[str, Any]]:
        for row in rows(25):
            await anyio.lowlevel.checkpoint()
            yield row

    results = await app.bulk.create_users(generate(), concurrency=5).collect()
    assert [r.unwrap().primary_email for r in results] == [f"u{i}@example.com" for i in range(25)]
    assert emulator.user_count() == 25


async def test_a_million_inputs_are_streamed_not_materialised(app: AsyncStackServerApp) -> None:
    tracker = Tracker()
    concurrency = 8
    window = concurrency * WINDOW_PER_WORKER
    most_ahead = 0

    async def identity(i: int) -> int:
        return i

    async with app.bulk.map(identity, tracker.inputs(1_000_000), concurrency=concurrency) as results:
        async for result in results:
            assert result.value == result.index
            most_ahead = max(most_ahead, tracker.read - result.index - 1)
            if result.index == 3_000:
                break
    assert most_ahead <= window
    assert tracker.read <= 3_001 + window


async def test_cancellation_stops_new_work_and_leaves_the_app_usable(
    app: AsyncStackServerApp, emulator: Emulator
) -> None:
    ids = [emulator.create_user(primary_email=f"u{i}@example.com")["id"] for i in range(5)]
    emulator.faults.latency(0.05)
    seen = []
    with anyio.CancelScope() as scope:
        async with app.bulk.map(app.users.get, (ids[i % 5] for i in range(10_000)), concurrency=8) as results:
            async for result in results:
                seen.append(result.index)
                if len(seen) == 20:
                    scope.cancel()  # e.g. a timeout or the caller going away
    assert scope.cancelled_caught
    # Cancelling lands at the next checkpoint: results already finished may still come out before it, in order.
    assert seen == list(range(len(seen)))
    assert len(seen) <= 20 + 8 * WINDOW_PER_WORKER
    sent = emulator.stats.count("GET /users/{user_id}")
    assert sent <= len(seen) + 8 * WINDOW_PER_WORKER
    await anyio.sleep(0.2)
    assert emulator.stats.count("GET /users/{user_id}") == sent  # nothing left running in the background

    emulator.faults.clear()
    with anyio.fail_after(10):  # a leaked in-flight slot would hang here
        again = await app.bulk.map(app.users.get, ids * 10).collect()
    assert all(r.ok for r in again)


async def test_breaking_out_or_raising_stops_the_job(app: AsyncStackServerApp) -> None:
    tracker = Tracker()

    async def consume() -> None:
        async with app.bulk.map(tracker.square, tracker.inputs(10_000), concurrency=4) as results:
            async for result in results:
                if result.index == 10:
                    raise KeyError("consumer failed")

    with pytest.raises(KeyError):
        await consume()
    assert tracker.active == 0
    assert tracker.started <= 11 + 4 * WINDOW_PER_WORKER


async def test_progress_callback_and_counts(app: AsyncStackServerApp) -> None:
    tracker = Tracker()
    reports: list[BulkProgress] = []
    job = app.bulk.map(tracker.square, list(range(50)), concurrency=5, on_progress=reports.append)
    results = await job.collect()
    assert [p.done for p in reports] == list(range(1, 51))
    assert reports[-1].total == 50
    assert reports[-1].failed == sum(1 for r in results if not r.ok) == job.failed == 7
    assert reports[-1].succeeded == job.succeeded == 43
    unsized = await app.bulk.map(tracker.square, iter(range(3)), on_progress=reports.append).collect()
    assert len(unsized) == 3
    assert reports[-1].total is None


async def test_progress_bar_draws_on_stderr(app: AsyncStackServerApp, capsys: pytest.CaptureFixture[str]) -> None:
    tracker = Tracker()
    await app.bulk.map(tracker.square, range(20), progress=True).collect()
    err = capsys.readouterr().err
    assert "bulk" in err
    assert "20/20" in err


async def test_progress_bar_without_tqdm_says_what_to_install(
    app: AsyncStackServerApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ConfigurationError, match=r"stack-auth\[progress\]"):
        app.bulk.create_users([], progress=True)


async def test_a_job_runs_once_and_only_inside_its_block(app: AsyncStackServerApp) -> None:
    tracker = Tracker()
    job = app.bulk.map(tracker.square, range(3))
    with pytest.raises(RuntimeError, match="inside its block"):
        async for _ in job:
            pass
    assert len(await job.collect()) == 3
    with pytest.raises(RuntimeError, match="runs once"):
        await job.collect()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
async def test_bad_concurrency(app: AsyncStackServerApp, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        app.bulk.delete_users([], concurrency=bad)


async def test_default_concurrency_is_the_apps_max_concurrency(app: AsyncStackServerApp) -> None:
    assert app.bulk.concurrency == 16
    assert app.with_options(timeout=5).bulk.concurrency == 16


async def test_empty_input(app: AsyncStackServerApp) -> None:
    assert await app.bulk.create_users([]).collect() == []


async def test_over_a_real_socket(emulator: Emulator) -> None:
    with emulator.serve() as base_url:
        async with AsyncStackServerApp(
            project_id=emulator.project_id, secret_server_key=emulator.secret_server_key, base_url=base_url
        ) as app:
            results = await app.bulk.create_users(rows(20), concurrency=10).collect()
    assert all(isinstance(r, BulkResult) and r.ok for r in results)
    assert sorted(emulator.emails()) == sorted(f"u{i}@example.com" for i in range(20))
