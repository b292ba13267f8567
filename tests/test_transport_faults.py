"""Every fault of the issue's list gets its behaviour: retried or not, typed, readable, never duplicated."""

from __future__ import annotations

import httpx
import pytest
from apps import server_app_kwargs

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.errors import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    StackAuthApiError,
    UserNotFound,
)
from stack_auth.testing import Emulator

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"


def posts(emulator: Emulator) -> int:
    return emulator.stats.count("POST /users")


async def test_429_with_retry_after_is_waited_then_retried(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_rate_limited("POST /users", retry_after=0.2)
    user = await app.users.create(display_name="x")
    assert user.display_name == "x"
    assert posts(emulator) == 2
    assert len(emulator.users(emulator.project_id)) == 1


async def test_429_without_retry_after_backs_off_then_retries(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_rate_limited("GET /users/{user_id}", retry_after=None, times=2)
    assert await app.users.get(MISSING) is None
    assert emulator.stats.count("GET /users/{user_id}") == 3


async def test_429_that_never_ends_gives_up_with_counts(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_rate_limited("*", retry_after=0.01, times=100)
    with pytest.raises(RateLimitError) as info:
        await app.with_options(max_retries=3).users.get(MISSING)
    assert info.value.retry_attempts == 3
    assert "gave up after 3 retries" in str(info.value)
    assert emulator.stats.count("*") == 4


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_on_get_is_retried(app: AsyncStackServerApp, emulator: Emulator, status: int) -> None:
    emulator.faults.script("GET /users/{user_id}", status=status, body="oops")
    assert await app.users.get(MISSING) is None
    assert emulator.stats.count("GET /users/{user_id}") == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_on_post_is_not_retried_and_creates_once(
    app: AsyncStackServerApp, emulator: Emulator, status: int
) -> None:
    emulator.faults.script("POST /users", status=status, body="lost answer", when="after")
    with pytest.raises(InternalServerError) as info:
        await app.users.create(display_name="once")
    assert info.value.status == status and info.value.retry_attempts == 0
    assert posts(emulator) == 1
    assert [u["display_name"] for u in emulator.users(emulator.project_id)] == ["once"]


async def test_dropped_connection_retried_on_get_not_on_post(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_drop("GET /users/{user_id}")
    assert await app.users.get(MISSING) is None
    assert emulator.stats.count("GET /users/{user_id}") == 2
    emulator.faults.next_drop("POST /users", when="after")
    with pytest.raises(APIConnectionError) as info:
        await app.users.create(display_name="maybe")
    assert info.value.maybe_sent and "POST" in str(info.value)
    assert posts(emulator) == 1 and len(emulator.users(emulator.project_id)) == 1


async def test_read_timeout(emulator: Emulator, served: str) -> None:
    # Over a real socket: httpx.ASGITransport (in-process) has no notion of timeouts.
    emulator.faults.latency(1.0)
    async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=served, timeout=0.2, max_retries=0) as app:
        with pytest.raises(APITimeoutError, match="timed out"):
            await app.users.get(MISSING)
        with pytest.raises(APITimeoutError):
            await app.with_options(timeout=0.3).users.get(MISSING)


async def test_html_502_page(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_html_error("POST /users", status=502)
    with pytest.raises(InternalServerError) as info:
        await app.users.create(display_name="x")
    assert info.value.message == "502 Bad Gateway 502 Bad Gateway nginx"
    assert info.value.code is None


async def test_empty_body(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_empty_body("POST /users", status=200)
    with pytest.raises(MalformedResponseError, match="empty body"):
        await app.users.create(display_name="x")
    emulator.faults.next_empty_body("GET /users/{user_id}", status=404)
    with pytest.raises(NotFoundError, match="empty body"):
        await app.users.get(MISSING)


async def test_malformed_json_on_success(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_malformed_body("POST /users")
    with pytest.raises(MalformedResponseError, match="expected a JSON body"):
        await app.users.create(display_name="x")


async def test_unknown_error_code(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_known_error("GET /users/{user_id}", code="BRAND_NEW_CODE", status=403, details={"a": 1})
    with pytest.raises(StackAuthApiError) as info:
        await app.users.get(MISSING)
    assert (info.value.status, info.value.code, info.value.details) == (403, "BRAND_NEW_CODE", {"a": 1})


async def test_header_body_code_mismatch(app: AsyncStackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_known_error(
        "GET /users/{user_id}", code="TEAM_NOT_FOUND", header_code="USER_NOT_FOUND", status=404
    )
    with pytest.raises(MalformedResponseError, match=r"USER_NOT_FOUND.*TEAM_NOT_FOUND"):
        await app.users.get(MISSING)


async def test_override_error_status_answers(emulator: Emulator) -> None:
    # Sent on every request by a client that wants 200s: the SDK must read x-stack-actual-status.
    transport = httpx.ASGITransport(app=emulator.asgi_app)
    headers = {"x-stack-override-error-status": "true"}
    async with httpx.AsyncClient(transport=transport, headers=headers) as client:
        app = AsyncStackServerApp(**server_app_kwargs(emulator), base_url="http://e", http_client=client)
        assert await app.users.get(MISSING) is None
        with pytest.raises(UserNotFound) as info:
            await app.users.update(MISSING, display_name="x")
        assert info.value.status == 404


async def test_connection_refused_is_a_typed_error() -> None:
    async with AsyncStackServerApp(
        project_id="p", secret_server_key="k", base_url="http://127.0.0.1:9", max_retries=0
    ) as app:
        with pytest.raises(APIConnectionError) as info:
            await app.users.get(MISSING)
    assert not info.value.maybe_sent
    # The library's own exception (aiohttp's, httpx's or httpx2's) is kept as the cause, for whoever debugs it.
    assert info.value.__cause__ is not None
    assert not isinstance(info.value.__cause__, APIConnectionError)


def test_sync_faults(sync_app: StackServerApp, emulator: Emulator) -> None:
    emulator.faults.next_rate_limited("POST /users", retry_after=0.1)
    emulator.faults.next_drop("GET /users/{user_id}")
    assert sync_app.users.create(display_name="x").display_name == "x"
    assert sync_app.users.get(MISSING) is None
    emulator.faults.script("POST /users", status=503, body="x", when="after")
    with pytest.raises(InternalServerError):
        sync_app.users.create(display_name="y")
    assert len(emulator.users(emulator.project_id)) == 2
