"""Every fault knob, the stats, and the HTTP control API (in-process; drops also over a real socket)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import anyio
import httpx
import pytest

from stack_auth.testing import DroppedConnection, Emulator

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for, new_user
except ImportError:
    from emulator_helpers import client_for, new_user  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=99)


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(emu) as c:
        yield c


async def _statuses(client: httpx.AsyncClient, emu: Emulator, n: int, path: str = "/api/v1/users") -> list[int]:
    return [(await client.get(path, headers=emu.headers())).status_code for _ in range(n)]


# --- rate limit ----------------------------------------------------------------------------------------------------


async def test_rate_limit_answers_429_with_a_message_past_the_limit(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.rate_limit(3, window=60, retry_after="always")
    answers = [await client.get("/api/v1/users", headers=emu.headers()) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    limited = answers[3]
    assert set(limited.json()) == {"message"}
    assert "x-stack-known-error" not in limited.headers
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert emu.stats.faults("GET /users") == {"rate_limit": 2}
    assert emu.stats.count("GET /users", handled=True) == 3


async def test_rate_limit_window_resets(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.rate_limit(1, window=0.2, retry_after="never")
    assert await _statuses(client, emu, 2) == [200, 429]
    assert "retry-after" not in (await client.get("/api/v1/users", headers=emu.headers())).headers
    await anyio.sleep(0.25)
    assert await _statuses(client, emu, 1) == [200]


async def test_rate_limit_half_mode_is_seeded() -> None:
    patterns = []
    for _ in range(2):
        emu = Emulator(seed=4)
        emu.faults.rate_limit(0, window=60, retry_after="half", retry_after_value=2)
        async with client_for(emu) as c:
            answers = [await c.get("/api/v1/users", headers=emu.headers()) for _ in range(30)]
        assert {r.status_code for r in answers} == {429}
        patterns.append([r.headers.get("retry-after") for r in answers])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {"2", None}


async def test_rate_limit_can_target_one_route(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.rate_limit(0, route="POST /users")
    assert (await client.post("/api/v1/users", json={}, headers=emu.headers())).status_code == 429
    assert (await client.get("/api/v1/users", headers=emu.headers())).status_code == 200


# --- latency -------------------------------------------------------------------------------------------------------


async def test_latency_is_an_async_sleep(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.latency(0.5, route="GET /users")
    headers = emu.headers()

    async def one() -> None:
        await client.get("/api/v1/users", headers=headers)

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    elapsed = time.perf_counter() - start
    # Ten concurrent requests overlap (the loop is never blocked): one latency, not ten (5 s), even on a machine
    # so loaded that the requests themselves cost two seconds.
    assert 0.5 <= elapsed < 2.5
    assert emu.faults.plan("POST", "/users", "/users").delay == 0  # other routes are not delayed


async def test_latency_jitter_is_seeded() -> None:
    plans = []
    for _ in range(2):
        emu = Emulator(seed=8)
        emu.faults.latency(0.01, jitter=0.5)
        plans.append([emu.faults.plan("GET", "/users", "/users").delay for _ in range(5)])
    assert plans[0] == plans[1]
    assert all(0.01 <= d < 0.51 for d in plans[0])
    assert len(set(plans[0])) == 5


# --- 5xx -----------------------------------------------------------------------------------------------------------


async def test_server_errors_html_and_text(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.server_errors(1.0, statuses=(502,), html=True, route="GET /users")
    r = await client.get("/api/v1/users", headers=emu.headers())
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in r.text
    emu.faults.clear()
    emu.faults.server_errors(1.0, statuses=(503,))
    r = await client.get("/api/v1/users", headers=emu.headers())
    assert (r.status_code, r.text) == (503, "Service Unavailable")
    assert r.headers["content-type"].startswith("text/plain")


async def test_server_error_rate_is_seeded_and_mixes_statuses() -> None:
    runs = []
    for _ in range(2):
        emu = Emulator(seed=13)
        emu.faults.server_errors(0.5)
        async with client_for(emu) as c:
            runs.append(await _statuses(c, emu, 40))
    assert runs[0] == runs[1]
    assert {200, 500, 502, 503} <= set(runs[0])


async def test_server_error_after_keeps_the_effect(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.server_errors(1.0, statuses=(500,), route="POST /users", when="after")
    r = await client.post("/api/v1/users", json={"display_name": "Kept"}, headers=emu.headers())
    assert r.status_code == 500
    assert emu.user_count() == 1  # the route ran; only the answer was lost
    assert emu.stats.count("POST /users", handled=True) == 1


# --- drops ---------------------------------------------------------------------------------------------------------


async def test_dropped_connection_in_process_raises_an_httpx_protocol_error(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    emu.faults.drop_connections(1.0, route="POST /users", when="after")
    with pytest.raises(httpx.RemoteProtocolError) as info:
        await client.post("/api/v1/users", json={"display_name": "Dropped"}, headers=emu.headers())
    assert isinstance(info.value, DroppedConnection)
    assert emu.user_count() == 1
    assert emu.stats.statuses("POST /users") == {}
    assert emu.stats.count("POST /users") == 1


async def test_dropped_connection_over_a_socket(emu: Emulator) -> None:
    emu.faults.next_drop("GET /users", times=2)
    with emu.serve() as url:
        async with httpx.AsyncClient(base_url=url) as c:
            with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
                await c.get("/api/v1/users", headers=emu.headers())
        async with aiohttp.ClientSession(url) as s:
            async with s.get("/api/v1/users", headers=emu.headers()) as r:
                assert r.status == 200  # the head arrives; the body never does
                with pytest.raises(aiohttp.ClientPayloadError):
                    await r.read()
            async with s.get("/api/v1/users", headers=emu.headers()) as r:
                assert r.status == 200
                assert (await r.json())["items"] == []


# --- malformed bodies ----------------------------------------------------------------------------------------------


async def test_malformed_bodies_only_touch_successful_json(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.malformed_bodies(1.0)
    r = await client.get("/api/v1/users", headers=emu.headers())
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["content-length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    r = await client.get("/api/v1/users/not-a-uuid", headers=emu.headers())
    assert r.json()["code"] == "SCHEMA_ERROR"


# --- scripted answers ----------------------------------------------------------------------------------------------


async def test_exactly_one_429_with_retry_after(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="R")
    emu.faults.next_rate_limited("GET /users/{user_id}", retry_after=1)
    assert emu.faults.pending_scripts() == 1
    first = await client.get(f"/api/v1/users/{user['id']}", headers=emu.headers())
    second = await client.get(f"/api/v1/users/{user['id']}", headers=emu.headers())
    assert (first.status_code, first.headers["retry-after"]) == (429, "1")
    assert second.status_code == 200
    assert emu.faults.pending_scripts() == 0
    assert emu.stats.count("GET /users/{user_id}") == 2
    assert emu.stats.count("GET /users/{user_id}", handled=True) == 1


async def test_scripted_presets(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.next_html_error("GET /users")
    emu.faults.next_empty_body("GET /users")
    emu.faults.next_known_error("GET /users", code="BRAND_NEW_ERROR", status=418, details={"x": 1})
    emu.faults.next_known_error("GET /users", code="USER_NOT_FOUND", header_code="TEAM_NOT_FOUND", status=404)
    emu.faults.next_malformed_body("GET /users")
    html, empty, unknown, mismatch, malformed, normal = [
        await client.get("/api/v1/users", headers=emu.headers()) for _ in range(6)
    ]
    assert html.status_code == 502
    assert "<html>" in html.text
    assert (empty.status_code, empty.content, empty.headers["content-length"]) == (200, b"", "0")
    assert unknown.status_code == 418
    assert unknown.headers["x-stack-known-error"] == "BRAND_NEW_ERROR"
    assert unknown.json() == {"code": "BRAND_NEW_ERROR", "details": {"x": 1}, "error": "Emulated error."}
    assert mismatch.headers["x-stack-known-error"] == "TEAM_NOT_FOUND"
    assert mismatch.json()["code"] == "USER_NOT_FOUND"
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    assert normal.json()["items"] == []


async def test_script_generic_times_and_route_matching(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.script("POST /users", status=503, body={"oops": True}, headers={"x-custom": "1"}, times=2)
    for _ in range(2):
        r = await client.post("/api/v1/users", json={}, headers=emu.headers())
        assert (r.status_code, r.json(), r.headers["x-custom"]) == (503, {"oops": True}, "1")
    assert (await client.get("/api/v1/users", headers=emu.headers())).status_code == 200
    assert (await client.post("/api/v1/users", json={}, headers=emu.headers())).status_code == 201
    assert emu.user_count() == 1  # "before" scripts answer without running the route
    emu.faults.script("/users*", status=500)  # any method, glob on the template
    assert (await client.get("/api/v1/users", headers=emu.headers())).status_code == 500


async def test_exactly_one_post_reached_the_server(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.script("POST /users", status=502, body="bad gateway", when="after")
    r = await client.post("/api/v1/users", json={"display_name": "Once"}, headers=emu.headers())
    assert r.status_code == 502
    assert emu.stats.count("POST /users") == 1
    assert emu.stats.count("POST /users", handled=True) == 1
    assert emu.user_count() == 1
    assert emu.stats.by_route() == {"POST /users": 1}
    record = emu.stats.history[-1]
    assert (record.route, record.status, record.faults) == ("POST /users", 502, ("scripted",))


# --- control API ---------------------------------------------------------------------------------------------------


async def test_http_control_api(emu: Emulator, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/__emulator__/faults",
        json={
            "clear": True,
            "seed": 1,
            "next_rate_limited": {"route": "GET /users", "retry_after": 1},
            "script": [{"route": "POST /users", "status": 500, "body": "x"}],
        },
    )
    assert r.status_code == 200
    assert len(r.json()["scripts"]) == 2
    assert (await client.get("/api/v1/users", headers=emu.headers())).headers["retry-after"] == "1"
    assert (await client.post("/api/v1/users", json={}, headers=emu.headers())).status_code == 500
    stats = (await client.get("/__emulator__/stats")).json()
    assert stats["routes"]["GET /users"]["statuses"] == {"429": 1}
    assert stats["total"] == 2
    assert (await client.post("/__emulator__/faults", json={"nonsense": 1})).status_code == 400
    assert (await client.post("/__emulator__/faults", json={"rate_limit": {"max_requests": -1}})).status_code == 400
    r = await client.post("/__emulator__/projects", json={"project_id": "p2", "secret_server_key": "k2"})
    assert r.status_code == 201
    assert r.json()["secret_server_key"] == "k2"
    assert {p["project_id"] for p in (await client.get("/__emulator__/projects")).json()} == {"internal", "p2"}
    await new_user(client, emu, display_name="Listed")
    assert [u["display_name"] for u in (await client.get("/__emulator__/users")).json()] == ["Listed"]
    before = (await client.post("/__emulator__/time", json={"advance": 0})).json()["now"]
    after = (await client.post("/__emulator__/time", json={"advance": 3600})).json()["now"]
    assert after - before >= 3600
    assert (await client.post("/__emulator__/reset", json={})).json() == {"success": True}
    assert emu.user_count() == 0
    assert emu.stats.total == 0
    assert not emu.faults.active
    assert (await client.get("/__emulator__/health")).json() == {"ok": True}
    assert (await client.delete("/__emulator__/faults")).json()["scripts"] == []


def test_knob_arguments_are_checked() -> None:
    emu = Emulator()
    for bad in (
        lambda: emu.faults.server_errors(1.5),
        lambda: emu.faults.drop_connections(-0.1),
        lambda: emu.faults.malformed_bodies(2),
        lambda: emu.faults.latency(-1),
        lambda: emu.faults.script(times=0),
        lambda: emu.faults.rate_limit(1, window=0),
    ):
        with pytest.raises(ValueError):  # noqa: PT011
            bad()
    assert not emu.faults.active
