"""``app.bulk`` on the sync API: the same jobs, in real threads sharing one ``httpx.Client``."""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stack_auth import StackServerApp
from stack_auth._sync._bulk import WINDOW_PER_WORKER, BulkJob
from stack_auth.errors import UserEmailAlreadyExists, UserNotFound
from stack_auth.testing import Emulator


@pytest.fixture
def sync_app(emulator: Emulator) -> Iterator[StackServerApp]:
    with (
        emulator.serve() as base_url,
        StackServerApp(
            project_id=emulator.project_id,
            secret_server_key=emulator.secret_server_key,
            base_url=base_url,
            max_concurrency=8,
        ) as app,
    ):
        yield app


class Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = self.peak = self.started = self.read = 0
        self.threads: set[str] = set()

    def inputs(self, n: int) -> Iterator[int]:
        for i in range(n):
            self.read += 1
            yield i

    def square(self, i: int) -> int:
        with self.lock:
            self.active += 1
            self.started += 1
            self.peak = max(self.peak, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep((i * 7919 % 5) / 1000)  # finish out of order
            if i % 7 == 3:
                raise ValueError(f"item {i} is bad")
            return i * i
        finally:
            with self.lock:
                self.active -= 1


def test_results_in_input_order_from_real_threads(sync_app: StackServerApp) -> None:
    tracker = Tracker()
    with sync_app.bulk.map(tracker.square, tracker.inputs(100), concurrency=6) as results:
        out = list(results)
    assert [r.index for r in out] == list(range(100))
    assert all(r.value == r.index**2 for r in out if r.ok)
    assert [r.index for r in out if not r.ok] == [i for i in range(100) if i % 7 == 3]
    assert 1 < tracker.peak <= 6
    assert len(tracker.threads) > 1
    assert all(name.startswith("stack-auth-bulk") for name in tracker.threads)


def test_create_users_over_the_shared_client(sync_app: StackServerApp, emulator: Emulator) -> None:
    emulator.create_user(primary_email="u2@example.com", primary_email_auth_enabled=True)
    rows = [{"primary_email": f"u{i}@example.com", "primary_email_auth_enabled": True} for i in range(24)]
    with sync_app.bulk.create_users(rows, concurrency=8) as results:
        out = list(results)
    assert [r.index for r in out if not r.ok] == [2]
    assert isinstance(out[2].error, UserEmailAlreadyExists)
    assert [r.unwrap().primary_email for r in out if r.ok] == [f"u{i}@example.com" for i in range(24) if i != 2]
    assert emulator.user_count() == 24
    assert emulator.stats.count("POST /users") == 24

    ids = [r.unwrap().id for r in out if r.ok]
    updated = sync_app.bulk.update_users({"id": uid, "display_name": "x"} for uid in ids).collect()
    assert all(r.unwrap().display_name == "x" for r in updated)
    deleted = sync_app.bulk.delete_users([*ids[:3], ids[0]], concurrency=1).collect()
    assert [r.ok for r in deleted] == [True, True, True, False]
    assert isinstance(deleted[3].error, UserNotFound)


def test_a_million_inputs_are_streamed_not_materialised(sync_app: StackServerApp) -> None:
    tracker = Tracker()
    window = 4 * WINDOW_PER_WORKER
    most_ahead = 0
    with sync_app.bulk.map(str, tracker.inputs(1_000_000), concurrency=4) as results:
        for result in results:
            most_ahead = max(most_ahead, tracker.read - result.index - 1)
            if result.index == 2_000:
                break
    assert most_ahead <= window
    assert tracker.read <= 2_001 + window


def test_leaving_early_stops_new_work_and_leaves_the_app_usable(sync_app: StackServerApp, emulator: Emulator) -> None:
    user_id = emulator.create_user(primary_email="a@example.com")["id"]
    with sync_app.bulk.map(sync_app.users.get, (user_id for _ in range(100_000)), concurrency=8) as results:
        for result in results:
            assert result.ok
            if result.index == 10:
                break
    sent = emulator.stats.count("GET /users/{user_id}")
    assert sent <= 11 + 8 * WINDOW_PER_WORKER  # queued calls were dropped, running ones finished
    time.sleep(0.1)
    assert emulator.stats.count("GET /users/{user_id}") == sent
    assert not any(t.name.startswith("stack-auth-bulk") for t in threading.enumerate())
    assert all(r.ok for r in sync_app.bulk.map(sync_app.users.get, [user_id] * 20).collect())


def test_consumer_exception_propagates_and_stops_the_job(sync_app: StackServerApp) -> None:
    tracker = Tracker()

    def consume() -> None:
        with sync_app.bulk.map(tracker.square, tracker.inputs(10_000), concurrency=3) as results:
            for result in results:
                if result.index == 5:
                    raise KeyError("consumer failed")

    with pytest.raises(KeyError):
        consume()
    assert tracker.active == 0
    assert tracker.started <= 6 + 3 * WINDOW_PER_WORKER


def test_keyboard_interrupt_in_a_worker_is_not_an_item_error(sync_app: StackServerApp) -> None:
    def interrupt(_: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_app.bulk.map(interrupt, [1]).collect()


def test_sync_bulk_has_the_async_bulk_api() -> None:
    from stack_auth._async._bulk import AsyncBulk, AsyncBulkJob
    from stack_auth._sync._bulk import Bulk

    for async_cls, sync_cls in ((AsyncBulk, Bulk), (AsyncBulkJob, BulkJob)):
        public = {n for n in vars(async_cls) if not n.startswith("_")}
        assert public == {n for n in vars(sync_cls) if not n.startswith("_")}
        for name in public - {"succeeded", "failed", "concurrency"}:
            assert list(inspect.signature(getattr(async_cls, name)).parameters) == list(
                inspect.signature(getattr(sync_cls, name)).parameters
            )
