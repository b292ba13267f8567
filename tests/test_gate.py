"""One rate-limit gate per app: pacing to ``rate_limit``, and after one 429 nothing is sent until it opens."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
from apps import FakeClock

from stack_auth import AsyncStackServerApp, ConfigurationError, StackServerApp
from stack_auth._concurrency import RateGate
from stack_auth.testing import Emulator, in_process_app

RETRY_AFTER = 0.3
# Timers may fire a hair early; RateGate lets a sleeper go within 0.1 ms of its slot.
CLOCK_SLACK = 0.002
USER = {"id": "f13bb909-5740-4a5e-b96d-1aa1c9c78159", "primary_email": "a@example.com"}
IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(12)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("stack_auth._concurrency.time", fake)
    return fake


# --- RateGate on its own (a fake clock: exact numbers) -----------------------------------------------------------


def test_open_gate_without_rate_limit_never_waits(clock: FakeClock) -> None:
    gate = RateGate()
    assert [gate.reserve()[0] for _ in range(100)] == [0.0] * 100


def test_rate_limit_paces_slots_one_interval_apart(clock: FakeClock) -> None:
    gate = RateGate(rate_limit=10)
    slots = [gate.reserve()[1] for _ in range(5)]
    assert slots == pytest.approx([1000.0, 1000.1, 1000.2, 1000.3, 1000.4])


def test_rate_limit_does_not_burst_to_catch_up_after_idle(clock: FakeClock) -> None:
    gate = RateGate(rate_limit=10)
    gate.reserve()
    clock.now += 60  # a quiet minute: no 600 saved-up tokens
    first, second = gate.reserve(), gate.reserve()
    assert first[0] == 0.0
    assert second[0] == pytest.approx(0.1)


def test_ticket_keeps_its_place_when_woken_early(clock: FakeClock) -> None:
    gate = RateGate(rate_limit=10)
    gate.reserve()
    delay, ticket = gate.reserve()
    clock.now += delay - 0.01  # the timer fired 10 ms early
    again, same = gate.reserve(ticket)
    assert same == ticket
    assert again == pytest.approx(0.01)
    clock.now += again
    assert gate.reserve(ticket) == (0.0, ticket)


def test_closed_gate_holds_everyone_then_releases_them_one_by_one(clock: FakeClock) -> None:
    gate = RateGate(release_interval=0.01)
    gate.close_for(2.0)
    assert gate.closures == 1
    delays = [gate.reserve()[0] for _ in range(5)]
    assert delays == pytest.approx([2.0, 2.01, 2.02, 2.03, 2.04])


def test_closing_invalidates_tickets_handed_out_before(clock: FakeClock) -> None:
    gate = RateGate(rate_limit=100)
    gate.reserve()
    delay, ticket = gate.reserve()  # waits 10 ms for its slot...
    gate.close_for(1.0)  # ... and a 429 closes the gate meanwhile
    clock.now += delay
    again, new_ticket = gate.reserve(ticket)
    assert again >= 1.0 - delay
    assert new_ticket >= gate.closed_until


def test_closure_is_only_ever_extended(clock: FakeClock) -> None:
    gate = RateGate()
    gate.close_for(5.0)
    gate.close_for(1.0)
    assert gate.closed_until == 1005.0
    assert gate.closures == 1


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_bad_rate_limit_is_a_configuration_error(bad: float) -> None:
    with pytest.raises(ConfigurationError, match="rate_limit"):
        AsyncStackServerApp(project_id="p", secret_server_key="k", rate_limit=bad)


# --- Through the transport: after one 429, no other request is sent until the gate opens -------------------------


class Recorder:
    """A fake server: the first request waits a little (so others queue behind it), then answers 429.

    Requests that arrive before the 429 is answered are held until it is: however the threads are scheduled on a
    loaded machine, the ones in flight cannot finish and let the whole queue through before the 429, so some
    requests always come after it and the check below always has something to judge.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[float] = []
        self.answered_429_at: float | None = None
        self.answered_429 = threading.Event()

    def arrive(self) -> bool:
        """Record an arrival; True for the one that gets the 429."""
        with self.lock:
            self.received.append(time.monotonic())
            return len(self.received) == 1

    def answered(self) -> httpx.Response:
        self.answered_429_at = time.monotonic()
        self.answered_429.set()
        return httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": str(RETRY_AFTER)})

    def check(self, closed_until: float) -> None:
        assert self.answered_429_at is not None
        assert closed_until >= self.answered_429_at + RETRY_AFTER - CLOCK_SLACK
        after = [t for t in self.received if t > self.answered_429_at]
        assert after, "the others were sent after the gate opened"
        early = [t for t in after if t < closed_until - CLOCK_SLACK]
        assert early == [], f"{len(early)} request(s) sent while the gate was closed"
        assert len(self.received) == len(IDS) + 1  # everyone once, the rate-limited one twice


def user_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={**USER, "id": request.url.path.rsplit("/", 1)[-1]})


@pytest.mark.anyio
@pytest.mark.parametrize("max_concurrency", [1, 4])
async def test_after_a_429_no_request_is_sent_until_the_gate_opens(max_concurrency: int) -> None:
    recorder = Recorder()
    answered_429 = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if recorder.arrive():
            await anyio.sleep(0.05)  # the others pile up at the limiter (or are in flight) meanwhile
            answered_429.set()
            return recorder.answered()
        with anyio.fail_after(30):
            await answered_429.wait()
        await anyio.sleep(0.02)
        return user_json(request)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        AsyncStackServerApp(
            project_id="p", secret_server_key="k", http_client=client, max_concurrency=max_concurrency
        ) as app,
    ):
        results: dict[str, Any] = {}

        async def get(user_id: str) -> None:
            results[user_id] = await app.users.get(user_id)

        async with anyio.create_task_group() as tg:
            for user_id in IDS:
                tg.start_soon(get, user_id)
        assert sorted(u.id for u in results.values()) == sorted(IDS)
        recorder.check(app._transport.gate.closed_until)


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_after_a_429_no_request_is_sent_until_the_gate_opens_threads(max_concurrency: int) -> None:
    recorder = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        if recorder.arrive():
            time.sleep(0.05)
            return recorder.answered()
        assert recorder.answered_429.wait(30)
        time.sleep(0.02)
        return user_json(request)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        StackServerApp(
            project_id="p", secret_server_key="k", http_client=client, max_concurrency=max_concurrency
        ) as app,
        ThreadPoolExecutor(len(IDS)) as pool,
    ):
        users = list(pool.map(app.users.get, IDS))
        assert [u.id for u in users if u is not None] == IDS
        recorder.check(app._transport.gate.closed_until)


@pytest.mark.anyio
async def test_with_options_copies_share_the_gate() -> None:
    app = AsyncStackServerApp(project_id="p", secret_server_key="k", rate_limit=5)
    assert app.with_options(timeout=1).users._transport.gate is app._transport.gate
    await app.aclose()


@pytest.mark.anyio
async def test_bulk_job_through_a_429_on_the_emulator(emulator: Emulator) -> None:
    """A 429 in the middle of a bulk job: the job waits it out; every item succeeds, one request was refused."""
    users = [emulator.create_user(primary_email=f"u{i}@example.com")["id"] for i in range(30)]
    emulator.faults.next_rate_limited("GET /users/{user_id}", retry_after=0.2)
    async with in_process_app(emulator, AsyncStackServerApp) as app:
        results = await app.bulk.map(app.users.get, users, concurrency=8).collect()
    assert [r.unwrap().id for r in results if r.value is not None] == users
    assert emulator.stats.statuses("GET /users/{user_id}") == {200: 30, 429: 1}
    assert app._transport.gate.closures >= 1


def test_pool_size_agrees_with_max_concurrency() -> None:
    for cls in (AsyncStackServerApp, StackServerApp):
        app: Any = cls(project_id="p", secret_server_key="k", max_concurrency=7)
        assert app._transport.limiter.limit == 7
        assert app._transport.http._max_connections == 7


@pytest.mark.anyio
async def test_max_concurrency_bounds_requests_in_flight_under_a_bigger_bulk_job() -> None:
    active = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.01)
        active -= 1
        return user_json(request)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        AsyncStackServerApp(project_id="p", secret_server_key="k", http_client=client, max_concurrency=3) as app,
    ):
        results = await app.bulk.map(app.users.get, IDS * 3, concurrency=10).collect()
    assert all(r.ok for r in results)
    assert peak == 3
