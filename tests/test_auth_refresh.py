"""Token stores, current-user calls, and refresh exactly as Stack's spec says (proactive, on 401, single flight)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackClientApp, StackServerApp, TokenStore
from stack_auth.errors import (
    AccessTokenExpired,
    MalformedTokenError,
    RefreshTokenNotFoundOrExpired,
    TokenRequiredError,
)
from stack_auth.models import SessionTokens
from stack_auth.testing import Emulator
from stack_auth.tokens import memory_token_store, tokens_from_headers

try:
    from .test_auth_verify import mint
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_verify import mint  # type: ignore[no-redef]

SEED = 11  # the seed of test_auth_verify's signing keys
REFRESH = "POST /auth/oauth/token"
SESSION_REFRESH = "POST /auth/sessions/current/refresh"
ME = "GET /users/me"


class Req:
    """The smallest request-like object: something with ``headers``."""

    def __init__(self, **headers: str) -> None:
        self.headers = httpx.Headers({k.replace("_", "-"): v for k, v in headers.items()})


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=SEED)


@pytest.fixture
def base_url() -> str:
    # A URL of its own per test: the in-memory store is one per project and URL, process-wide.
    return f"http://{uuid.uuid4().hex[:12]}.emulator.test"


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.asgi_app)) as client:
        yield client


@pytest.fixture
async def client(emu: Emulator, http: httpx.AsyncClient, base_url: str) -> AsyncIterator[AsyncStackClientApp]:
    async with AsyncStackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=base_url,
        http_client=http,
    ) as app:
        yield app


@pytest.fixture
async def server(emu: Emulator, http: httpx.AsyncClient, base_url: str) -> AsyncIterator[AsyncStackServerApp]:
    async with AsyncStackServerApp(
        project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=base_url, http_client=http
    ) as app:
        yield app


def sign_in(emu: Emulator, email: str = "ada@example.com", **fields: Any) -> dict[str, str]:
    """A user and a session: ``{"user_id", "access_token", "refresh_token", "session_id"}``."""
    user = emu.create_user(primary_email=email, primary_email_auth_enabled=True, display_name="Ada", **fields)
    return {"user_id": user["id"], **emu.create_session(user["id"])}


def aged_token(session: dict[str, str], *, issued_ago: float = 100, expires_in: float = 500) -> str:
    """A token the emulator accepts but that is due for a proactive refresh (issued long ago or about to expire)."""
    now = time.time()
    return mint(
        session["user_id"], iat=int(now - issued_ago), exp=int(now + expires_in), refresh_token_id=session["session_id"]
    )


# --- stores ----------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_memory_store_is_one_per_project(emu: Emulator, http: httpx.AsyncClient, base_url: str) -> None:
    kwargs = {"project_id": emu.project_id, "publishable_client_key": emu.publishable_client_key, "http_client": http}
    async with (
        AsyncStackClientApp(**kwargs, base_url=base_url) as one,
        AsyncStackClientApp(**kwargs, base_url=base_url + "/") as two,
        AsyncStackClientApp(**kwargs, base_url=base_url + ":8080") as elsewhere,
    ):
        assert one.token_store is two.token_store is memory_token_store(emu.project_id, base_url)
        assert one.token_store is not elsewhere.token_store
        session = sign_in(emu)
        assert one.token_store is not None
        one.token_store.set(session["access_token"], session["refresh_token"])
        user = await two.current_user.get()
        assert user is not None
        assert user.id == session["user_id"]
        assert await elsewhere.current_user.get() is None


def test_tokens_from_headers() -> None:
    assert tokens_from_headers(Req(x_stack_auth='{"accessToken": "a.b.c", "refreshToken": "r"}').headers) == (
        "a.b.c",
        "r",
    )
    assert tokens_from_headers(Req(x_stack_access_token="a.b.c", x_stack_refresh_token="r").headers) == ("a.b.c", "r")
    assert tokens_from_headers(Req(authorization="Bearer a.b.c").headers) == ("a.b.c", None)
    assert tokens_from_headers({"Authorization": "bearer  a.b.c "}) == ("a.b.c", None)
    assert tokens_from_headers(Req(authorization="Basic dXNlcg==").headers) == (None, None)
    assert tokens_from_headers({}) == (None, None)
    # x-stack-auth wins over the others, and a broken one is an error, never skipped for a weaker header.
    both = Req(x_stack_auth='{"accessToken": "x.y.z"}', authorization="Bearer a.b.c")
    assert tokens_from_headers(both.headers) == ("x.y.z", None)
    for garbage in ("{not json", "[]", '"token"', '{"accessToken": 5}', '{"refreshToken": ["r"]}', "[" * 100_000):
        with pytest.raises(MalformedTokenError) as caught:
            tokens_from_headers(Req(x_stack_auth=garbage, authorization="Bearer a.b.c").headers)
        assert garbage not in str(caught.value)
    store = TokenStore.from_request(Req(x_stack_access_token="a.b.c"))
    assert store.snapshot() == ("a.b.c", None)
    assert "a.b.c" not in repr(store)


@pytest.mark.anyio
async def test_token_store_none_makes_tokens_required(emu: Emulator, http: httpx.AsyncClient, base_url: str) -> None:
    session = sign_in(emu)
    async with AsyncStackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=base_url,
        http_client=http,
        token_store=None,
    ) as app:
        assert app.token_store is None
        for call in (app.current_user.get(), app.current_user.list_teams(), app.current_user.sign_out()):
            with pytest.raises(TokenRequiredError, match="tokens="):
                await call
        ways: list[Any] = [
            Req(x_stack_auth=f'{{"accessToken": "{session["access_token"]}", "refreshToken": "r"}}'),
            Req(x_stack_access_token=session["access_token"]),
            Req(authorization=f"Bearer {session['access_token']}"),
            {"access_token": session["access_token"], "refresh_token": session["refresh_token"]},
            {"accessToken": session["access_token"]},
            SessionTokens(access_token=session["access_token"], refresh_token=session["refresh_token"]),
            TokenStore(session["access_token"]),
            session["access_token"],
        ]
        for tokens in ways:
            user = await app.current_user.get(tokens=tokens)
            assert user is not None
            assert user.id == session["user_id"], tokens
        with pytest.raises(MalformedTokenError):
            await app.current_user.get(tokens=Req(x_stack_auth="{garbage"))


@pytest.mark.anyio
async def test_explicit_store_and_per_call_override(emu: Emulator, http: httpx.AsyncClient, base_url: str) -> None:
    ada, bob = sign_in(emu), sign_in(emu, "bob@example.com")
    store = TokenStore(ada["access_token"], ada["refresh_token"])
    async with AsyncStackClientApp(
        project_id=emu.project_id,
        publishable_client_key=emu.publishable_client_key,
        base_url=base_url,
        http_client=http,
        token_store=store,
    ) as app:
        assert app.token_store is store
        me = await app.current_user.get()
        other = await app.current_user.get(tokens={"access_token": bob["access_token"]})
        assert me is not None
        assert other is not None
        assert (me.id, other.id) == (ada["user_id"], bob["user_id"])
        assert store.access_token == ada["access_token"]


# --- current user ----------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_current_user_operations(emu: Emulator, client: AsyncStackClientApp) -> None:
    assert await client.current_user.get() is None  # signed out: no request at all
    assert emu.stats.total == 0
    with pytest.raises(TokenRequiredError, match="no signed-in user"):
        await client.current_user.update(display_name="x")
    await client.current_user.sign_out()  # nothing to do

    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(session["access_token"], session["refresh_token"])
    user = await client.current_user.get()
    assert user is not None
    assert (user.id, user.display_name) == (session["user_id"], "Ada")
    assert not hasattr(user, "server_metadata")  # client access: the client view of the user

    updated = await client.current_user.update(display_name=None, client_metadata={"theme": "dark"})
    assert (updated.display_name, updated.client_metadata) == (None, {"theme": "dark"})
    assert emu.get_user(session["user_id"])["client_metadata"] == {"theme": "dark"}  # type: ignore[index]

    teams = await client.current_user.list_teams()
    assert [t.id for t in teams] == [user.selected_team_id]
    sessions = await client.current_user.list_sessions()
    assert [(s.id, s.is_current_session) for s in sessions] == [(session["session_id"], True)]

    await client.current_user.sign_out()
    assert client.token_store.is_empty
    assert emu.sessions(session["user_id"]) == []  # the refresh token is revoked server-side
    assert await client.current_user.get() is None


@pytest.mark.anyio
async def test_get_user_from_token(emu: Emulator, server: AsyncStackServerApp) -> None:
    session = sign_in(emu, server_metadata={"plan": "pro"})
    user = await server.get_user_from_token(session["access_token"])
    assert user is not None
    assert (user.id, user.server_metadata) == (session["user_id"], {"plan": "pro"})
    for invalid in (None, "", "garbage", mint(aud="other"), session["refresh_token"]):
        assert await server.get_user_from_token(invalid) is None
    anonymous = emu.create_session(emu.create_user(is_anonymous=True)["id"])["access_token"]
    assert await server.get_user_from_token(anonymous) is None
    anon_user = await server.get_user_from_token(anonymous, allow_anonymous=True)
    assert anon_user is not None
    assert anon_user.is_anonymous
    emu.advance_time(601)
    assert await server.get_user_from_token(session["access_token"]) is None  # expired, and nothing to refresh with
    assert emu.stats.count(REFRESH) + emu.stats.count(SESSION_REFRESH) == 0


# --- refresh ---------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_refresh_on_401_once_then_reuse(emu: Emulator, client: AsyncStackClientApp) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(session["access_token"], session["refresh_token"])
    emu.advance_time(601)  # the server now sees the token as expired; our clock does not
    user = await client.current_user.get()
    assert user is not None
    assert user.id == session["user_id"]
    assert emu.stats.count(REFRESH) == 1
    assert emu.stats.statuses(ME) == {401: 1, 200: 1}
    assert client.token_store.access_token != session["access_token"]
    assert client.token_store.refresh_token == session["refresh_token"]
    await client.current_user.get()
    await client.current_user.list_teams()
    assert emu.stats.count(REFRESH) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("issued_ago", "expires_in"), [(100, 500), (10, 15)], ids=["issued-75s-ago", "expiring"])
async def test_proactive_refresh(
    emu: Emulator, client: AsyncStackClientApp, issued_ago: float, expires_in: float
) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(aged_token(session, issued_ago=issued_ago, expires_in=expires_in), session["refresh_token"])
    assert await client.current_user.get() is not None
    assert emu.stats.count(REFRESH) == 1
    assert emu.stats.statuses(ME) == {200: 1}  # refreshed before the call, not after a 401
    await client.current_user.get()
    assert emu.stats.count(REFRESH) == 1  # the fresh token is young: measured on our clock, not the server's


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["expired-on-server", "due-locally"])
async def test_single_flight_refresh_under_100_concurrent_calls(
    emu: Emulator, client: AsyncStackClientApp, how: str
) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    if how == "expired-on-server":
        client.token_store.set(session["access_token"], session["refresh_token"])
        emu.advance_time(601)
    else:
        client.token_store.set(aged_token(session), session["refresh_token"])
    emu.faults.latency(0.05, route=REFRESH)  # a slow refresh: every caller arrives while it is in flight
    users: list[str] = []

    async def call() -> None:
        user = await client.current_user.get()
        assert user is not None
        users.append(user.id)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(call)
    assert users == [session["user_id"]] * 100
    assert emu.stats.count(REFRESH) == 1


@pytest.mark.anyio
async def test_refused_refresh_token_clears_the_store(
    emu: Emulator, server: AsyncStackServerApp, client: AsyncStackClientApp
) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(session["access_token"], session["refresh_token"])
    await server.sessions.revoke(session["session_id"], user_id=session["user_id"])
    emu.advance_time(601)
    with pytest.raises(RefreshTokenNotFoundOrExpired):
        await client.current_user.update(display_name="x")
    assert client.token_store.is_empty
    assert await client.current_user.get() is None

    client.token_store.set(aged_token(session), session["refresh_token"])  # proactive path, same outcome
    assert await client.current_user.get() is None
    assert client.token_store.is_empty
    assert emu.stats.count(REFRESH) == 2


@pytest.mark.anyio
async def test_retry_only_once_after_refresh(emu: Emulator, client: AsyncStackClientApp) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(session["access_token"], session["refresh_token"])
    emu.faults.next_known_error("PATCH /users/me", code="ACCESS_TOKEN_EXPIRED", status=401, times=3)
    with pytest.raises(AccessTokenExpired):
        await client.current_user.update(display_name="x")
    assert emu.stats.count("PATCH /users/me") == 2
    assert emu.stats.count(REFRESH) == 1
    assert not client.token_store.is_empty  # the refresh token itself was fine


@pytest.mark.anyio
async def test_transient_refresh_failure_keeps_a_valid_token(emu: Emulator, client: AsyncStackClientApp) -> None:
    session = sign_in(emu)
    assert client.token_store is not None
    client.token_store.set(aged_token(session), session["refresh_token"])
    emu.faults.script(REFRESH, status=503, body="maintenance")
    user = await client.with_options(max_retries=0).current_user.get()
    assert user is not None  # the old token still had minutes to live
    assert client.token_store.refresh_token == session["refresh_token"]


@pytest.mark.anyio
async def test_server_app_acts_for_sessions_it_created(emu: Emulator, server: AsyncStackServerApp) -> None:
    user = await server.users.create(primary_email="s@example.com", primary_email_auth_enabled=True)
    tokens = await server.sessions.create(user.id)
    with pytest.raises(TokenRequiredError):
        await server.current_user.get()  # the server app has no token store
    emu.advance_time(601)
    me = await server.current_user.get(tokens=tokens)
    assert me is not None
    assert me.id == user.id
    assert me.primary_email_auth_enabled  # a ServerUser
    # No publishable key: the server-key route refreshes; the refreshed token is kept for the next call.
    assert (emu.stats.count(SESSION_REFRESH), emu.stats.count(REFRESH)) == (1, 0)
    await server.current_user.update(display_name="Sam", tokens=tokens)
    assert [t.id for t in await server.current_user.list_teams(tokens=tokens)] == [me.selected_team_id]
    assert emu.stats.count(SESSION_REFRESH) == 1


# --- sync twin -------------------------------------------------------------------------------------------------------


def test_sync_client_single_flight_with_threads(emu: Emulator) -> None:
    session = sign_in(emu)
    emu.faults.latency(0.05, route=REFRESH)
    with (
        emu.serve() as base_url,
        StackClientApp(
            project_id=emu.project_id, publishable_client_key=emu.publishable_client_key, base_url=base_url
        ) as app,
    ):
        assert app.token_store is not None
        app.token_store.set(session["access_token"], session["refresh_token"])
        emu.advance_time(601)
        start = threading.Barrier(30)
        seen: list[str | None] = []

        def call() -> None:
            start.wait()
            user = app.current_user.get()
            seen.append(user.id if user else None)

        threads = [threading.Thread(target=call) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert seen == [session["user_id"]] * 30
        assert emu.stats.count(REFRESH) == 1
        app.current_user.sign_out()
        assert app.token_store.is_empty


def test_sync_server_get_user_from_token(emu: Emulator) -> None:
    session = sign_in(emu)
    with (
        emu.serve() as base_url,
        StackServerApp(project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=base_url) as app,
    ):
        user = app.get_user_from_token(session["access_token"])
        assert user is not None
        assert user.id == session["user_id"]
        assert app.get_user_from_token("garbage") is None
