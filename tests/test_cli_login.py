"""``cli_login`` (Stack's promptCliLogin), ``complete_cli_login``, and the token stores that keep the session across
runs ("file", "keyring"), against the emulator. The browser is a function that does what the web app's
``cli-auth-confirm`` page does: complete the login with its signed-in user's session."""

from __future__ import annotations

import _thread
import json
import logging
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import keyring
import keyring.backend
import keyring.errors
import pytest
from apps import browser_that_notes_urls, load_example, wait_for_file

from stack_auth import (
    AsyncStackClientApp,
    AsyncStackServerApp,
    FileTokenStore,
    KeyringTokenStore,
    StackClientApp,
    StackServerApp,
    TokenStore,
)
from stack_auth.errors import (
    BadRequestError,
    CliAuthExpiredError,
    CliAuthUsedError,
    CliLoginTimeoutError,
    InvalidArgumentError,
)
from stack_auth.testing import Emulator

try:
    from .test_auth_secrets import assert_clean
    from .test_sign_in import server
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_secrets import assert_clean  # type: ignore[no-redef]
    from test_sign_in import server  # type: ignore[no-redef]

__all__ = ["server"]  # a fixture: an async server app on the emulator, in-process

APP_URL = "https://myapp.example"
CONFIRM = f"{APP_URL}/handler/cli-auth-confirm"
BASE_URL = "http://cli.emulator.test"


def login_code_of(url: str) -> str:
    assert url.startswith(CONFIRM + "?"), url
    return parse_qs(urlsplit(url).query)["login_code"][0]


class Polls:
    """When the SDK sent each ``/auth/cli/poll`` (an httpx request hook)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.paths: list[str] = []
        self.waiting: list[tuple[int, anyio.Event]] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.paths.append(request.url.path.removeprefix("/api/v1"))
        if request.url.path.endswith("/auth/cli/poll"):
            self.times.append(time.monotonic())
            for count, event in self.waiting:
                if len(self.times) >= count:
                    event.set()

    async def wait_for(self, count: int) -> None:
        event = anyio.Event()
        self.waiting.append((count, event))
        await event.wait()


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=3)


@pytest.fixture
def web_user(emu: Emulator) -> str:
    return str(emu.create_user(primary_email="web@example.com", primary_email_auth_enabled=True)["id"])


@pytest.fixture
def polls() -> Polls:
    return Polls()


@pytest.fixture
async def app(emu: Emulator, polls: Polls) -> AsyncIterator[AsyncStackClientApp]:
    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with (
        httpx.AsyncClient(transport=transport, event_hooks={"request": [polls]}) as http,
        AsyncStackClientApp(
            project_id=emu.project_id,
            publishable_client_key=emu.publishable_client_key,
            base_url=BASE_URL,
            http_client=http,
            token_store=TokenStore(),
            max_retries=0,
        ) as client,
    ):
        yield client


class Browser:
    """Opens URLs by remembering them."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)


class AsyncBrowser(Browser):
    """A browser the async web app below waits on (create it inside the event loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = anyio.Event()

    def __call__(self, url: str) -> None:
        super().__call__(url)
        self.opened.set()


async def web_app_completes(browser: AsyncBrowser, server: AsyncStackServerApp, emu: Emulator, user_id: str) -> str:
    """The web app: once the browser shows its confirm page, complete the login with the user's session."""
    await browser.opened.wait()
    session = emu.create_session(user_id)
    await server.complete_cli_login(login_code_of(browser.urls[-1]), session["refresh_token"])
    return session["refresh_token"]


# --- the flow ----------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cli_login_through_the_web_app(
    app: AsyncStackClientApp,
    server: AsyncStackServerApp,
    emu: Emulator,
    web_user: str,
    polls: Polls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = AsyncBrowser()
    refresh: list[str] = []

    async def complete() -> None:
        await anyio.sleep(0.15)  # the user takes a moment: the CLI polls meanwhile
        refresh.append(await web_app_completes(browser, server, emu, web_user))

    async with anyio.create_task_group() as tg:
        tg.start_soon(complete)
        tokens = await app.cli_login(app_url=APP_URL, open_browser=browser, poll_interval=0.05)
    assert len(browser.urls) == 1 and login_code_of(browser.urls[0])
    assert polls.paths[0] == "/auth/cli" and polls.paths.count("/auth/cli/poll") >= 2
    assert tokens.refresh_token == refresh[0]  # Stack hands the CLI the session the web app completed with
    assert app.token_store is not None and app.token_store.snapshot() == (tokens.access_token, tokens.refresh_token)
    user = await app.current_user.get()
    assert user is not None and user.id == web_user

    # A second run with a valid session: no new login, no browser.
    sent = len(polls.paths)
    again = await app.cli_login(app_url=APP_URL, open_browser=browser, poll_interval=0.05)
    assert again.refresh_token == tokens.refresh_token and len(browser.urls) == 1
    assert "/auth/cli" not in polls.paths[sent:]
    secrets = [tokens.access_token, str(tokens.refresh_token), login_code_of(browser.urls[0])]
    assert_clean(caplog.text, secrets)


@pytest.mark.anyio
async def test_an_anonymous_session_offered_to_the_web_app(app: AsyncStackClientApp, emu: Emulator) -> None:
    anonymous = await app.sign_up_anonymously()
    browser = AsyncBrowser()
    seen: list[Any] = []

    async def confirm_page() -> None:
        """The web app sees the login brings an anonymous session, takes it over, and completes with it."""
        await browser.opened.wait()
        login_code = login_code_of(browser.urls[0])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.asgi_app), base_url=BASE_URL) as web:
            url, headers = "/api/v1/auth/cli/complete", emu.headers("client")
            for mode in ("check", "claim-anon-session"):
                r = await web.post(url, json={"login_code": login_code, "mode": mode}, headers=headers)
                seen.append(r.json())
            refresh = seen[-1]["refresh_token"]
            await web.post(url, json={"login_code": login_code, "refresh_token": refresh}, headers=headers)

    async with anyio.create_task_group() as tg:
        tg.start_soon(confirm_page)
        tokens = await app.cli_login(
            app_url=APP_URL, open_browser=browser, poll_interval=0.05, anon_refresh_token=str(anonymous.refresh_token)
        )
    assert seen[0] == {"cli_session_state": "anonymous"}
    assert tokens.refresh_token == anonymous.refresh_token  # the CLI goes on as the same (anonymous) user


@pytest.mark.anyio
async def test_expired_login(app: AsyncStackClientApp, emu: Emulator) -> None:
    def never_signs_in(url: str) -> None:
        emu.advance_time(331)  # the user walks away for longer than the attempt lives (timeout + 30 s)

    with pytest.raises(CliAuthExpiredError):
        await app.cli_login(app_url=APP_URL, open_browser=never_signs_in, timeout=300, poll_interval=0.05)
    assert app.token_store is not None and app.token_store.is_empty


@pytest.mark.anyio
async def test_timeout(app: AsyncStackClientApp, polls: Polls) -> None:
    started = time.monotonic()
    with pytest.raises(CliLoginTimeoutError):
        await app.cli_login(app_url=APP_URL, open_browser=Browser(), timeout=0.3, poll_interval=0.05)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert len(polls.times) >= 3


@pytest.mark.anyio
async def test_polls_less_often_after_a_429(
    app: AsyncStackClientApp, server: AsyncStackServerApp, emu: Emulator, web_user: str, polls: Polls
) -> None:
    emu.faults.next_rate_limited("POST /auth/cli/poll", retry_after=0)
    browser = AsyncBrowser()

    async def complete_after_some_polls() -> None:
        await polls.wait_for(4)
        await web_app_completes(browser, server, emu, web_user)

    async with anyio.create_task_group() as tg:
        tg.start_soon(complete_after_some_polls)
        await app.cli_login(app_url=APP_URL, open_browser=browser, poll_interval=0.05)
    gaps = [b - a for a, b in zip(polls.times, polls.times[1:], strict=False)]
    assert emu.stats.count("POST /auth/cli/poll") == len(polls.times)
    assert min(gaps) >= 0.09  # after the 429 on the first poll, every wait is twice the interval


@pytest.mark.anyio
async def test_cancelling_stops_polling_and_stores_nothing(app: AsyncStackClientApp, polls: Polls) -> None:
    with anyio.move_on_after(0.2):
        await app.cli_login(app_url=APP_URL, open_browser=Browser(), poll_interval=0.05)
    count = len(polls.times)
    await anyio.sleep(0.2)
    assert count >= 2 and len(polls.times) == count
    assert app.token_store is not None and app.token_store.is_empty


@pytest.mark.anyio
async def test_prompt_link_or_printed_link(app: AsyncStackClientApp, capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[tuple[str, str]] = []
    opened = Browser()
    with pytest.raises(CliLoginTimeoutError):
        await app.cli_login(
            app_url=APP_URL + "/", open_browser=opened, prompt_link=lambda u, c: shown.append((u, c)), timeout=0.05
        )
    ((url, code),) = shown
    assert login_code_of(url) == code and opened.urls == []  # the app shows the link itself

    with pytest.raises(CliLoginTimeoutError):
        await app.cli_login(app_url=APP_URL, open_browser=False, timeout=0.05)
    printed = capsys.readouterr().err
    assert CONFIRM + "?login_code=" in printed

    with pytest.raises(CliLoginTimeoutError):  # a browser that could not open: the link is printed too
        await app.cli_login(app_url=APP_URL, open_browser=lambda url: False, timeout=0.05, confirm_path="/cli")
    assert f"{APP_URL}/cli?login_code=" in capsys.readouterr().err


@pytest.mark.anyio
async def test_complete_cli_login_refusals(server: AsyncStackServerApp, emu: Emulator, web_user: str) -> None:
    session = emu.create_session(web_user)
    with pytest.raises(BadRequestError, match="Invalid login code"):
        await server.complete_cli_login("no-such-login-code", session["refresh_token"])
    with pytest.raises(InvalidArgumentError):
        await server.complete_cli_login("", session["refresh_token"])
    with pytest.raises(InvalidArgumentError):
        await server.complete_cli_login("code", "")


# --- sync, over a socket -----------------------------------------------------------------------------------------


@pytest.fixture
def served(emu: Emulator) -> Iterator[str]:
    with emu.serve() as url:
        yield url


class SyncWebApp:
    """The web app's confirm page, for the sync API: completes the login as soon as the browser opens it."""

    def __init__(self, emu: Emulator, base_url: str, user_id: str) -> None:
        self.emu, self.base_url, self.user_id = emu, base_url, user_id
        self.urls: list[str] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        session = self.emu.create_session(self.user_id)
        with StackServerApp(
            project_id=self.emu.project_id, secret_server_key=self.emu.secret_server_key, base_url=self.base_url
        ) as server:
            server.complete_cli_login(login_code_of(url), session["refresh_token"])


def client_kwargs(emu: Emulator, url: str) -> dict[str, Any]:
    return {"project_id": emu.project_id, "publishable_client_key": emu.publishable_client_key, "base_url": url}


def test_sync_file_store_keeps_the_session_across_runs(
    emu: Emulator, served: str, web_user: str, tmp_path: Path
) -> None:
    path = tmp_path / "tool" / "session.json"
    web = SyncWebApp(emu, served, web_user)
    with StackClientApp(**client_kwargs(emu, served), token_store=FileTokenStore(path, base_url=served)) as first:
        tokens = first.cli_login(app_url=APP_URL, open_browser=web, poll_interval=0.05)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == tokens.refresh_token

    with StackClientApp(**client_kwargs(emu, served), token_store=FileTokenStore(path, base_url=served)) as second:
        assert second.cli_login(app_url=APP_URL, open_browser=web).refresh_token == tokens.refresh_token
        assert len(web.urls) == 1  # the second run found the session: no browser
        emu.advance_time(601)
        user = second.current_user.get()  # refreshed, and the refreshed token saved
        assert user is not None and user.id == web_user
        assert json.loads(path.read_text())["access_token"] != tokens.access_token
        second.current_user.sign_out()
    assert not path.exists()

    # Another API URL's session is not this one's.
    path.write_text(json.dumps({"base_url": "http://elsewhere", "refresh_token": "r", "access_token": None}))
    assert FileTokenStore(path, base_url=served).is_empty


def test_sync_file_store_by_name(
    emu: Emulator, served: str, web_user: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with StackClientApp(**client_kwargs(emu, served), token_store="file") as app:
        tokens = app.cli_login(app_url=APP_URL, open_browser=SyncWebApp(emu, served, web_user), poll_interval=0.05)
        assert isinstance(app.token_store, FileTokenStore)
    saved = tmp_path / "stack-auth" / f"session-{emu.project_id}.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    shown = repr(app.token_store)
    assert str(tmp_path) in shown and tokens.access_token not in shown and str(tokens.refresh_token) not in shown


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend that lives in memory (what the OS keychain would hold)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_sync_keyring_store(emu: Emulator, served: str, web_user: str, memory_keyring: MemoryKeyring) -> None:
    web = SyncWebApp(emu, served, web_user)
    with StackClientApp(**client_kwargs(emu, served), token_store="keyring") as app:
        assert isinstance(app.token_store, KeyringTokenStore)
        tokens = app.cli_login(app_url=APP_URL, open_browser=web, poll_interval=0.05)
    ((service, username),) = memory_keyring.items
    assert service == "stack-auth" and username == f"{emu.project_id}@{served}"
    with StackClientApp(**client_kwargs(emu, served), token_store="keyring") as again:
        assert again.cli_login(app_url=APP_URL, open_browser=web).refresh_token == tokens.refresh_token
        assert len(web.urls) == 1
        again.current_user.sign_out()
    assert memory_keyring.items == {}


def test_sync_login_code_used_after_a_lost_answer(emu: Emulator, served: str, web_user: str) -> None:
    # The success answer is lost on the way (the emulator handled the poll, then dropped the connection): polling
    # again reads "used", and the login must be run again.
    emu.faults.next_drop("POST /auth/cli/poll", when="after")
    with (
        StackClientApp(**client_kwargs(emu, served), token_store=TokenStore()) as app,
        pytest.raises(CliAuthUsedError),
    ):
        app.cli_login(app_url=APP_URL, open_browser=SyncWebApp(emu, served, web_user), poll_interval=0.05)
    assert emu.stats.count("POST /auth/cli/poll") == 2


def test_sync_ctrl_c_cancels_cleanly(emu: Emulator, served: str) -> None:
    store = TokenStore()
    with StackClientApp(**client_kwargs(emu, served), token_store=store) as app:
        timer = threading.Timer(0.3, _thread.interrupt_main)  # what Ctrl-C does to the main thread
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                app.cli_login(app_url=APP_URL, open_browser=Browser(), poll_interval=0.05, timeout=10)
        finally:
            timer.cancel()
        count = emu.stats.count("POST /auth/cli/poll")
        time.sleep(0.2)
        assert count >= 2 and emu.stats.count("POST /auth/cli/poll") == count  # nothing polls any more
    assert store.is_empty


def test_example_cli_tool(
    emu: Emulator,
    served: str,
    web_user: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "STACK_PROJECT_ID": emu.project_id,
        "STACK_PUBLISHABLE_CLIENT_KEY": emu.publishable_client_key,
        "STACK_API_URL": served,
        "MYTOOL_APP_URL": APP_URL,
        "XDG_CONFIG_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    tool = load_example("cli_tool.py")
    web = SyncWebApp(emu, served, web_user)
    assert tool.main(["whoami"], browser=web) == 0
    assert tool.main(["login"], browser=web) == 0
    assert tool.main(["whoami"], browser=web) == 0  # a new app, a new run: the session is read from the file
    assert tool.main(["login"], browser=web) == 0  # already signed in: no browser
    assert tool.main(["logout"], browser=web) == 0
    assert tool.main(["whoami"], browser=web) == 0
    assert capsys.readouterr().out.splitlines() == [
        "not signed in",
        "signed in as web@example.com",
        "signed in as web@example.com",
        "signed in as web@example.com",
        "not signed in",
        "not signed in",
    ]
    assert len(web.urls) == 1


def test_sync_opens_the_users_browser(
    emu: Emulator, served: str, web_user: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = browser_that_notes_urls(tmp_path, monkeypatch)
    web = SyncWebApp(emu, served, web_user)

    def user_confirms() -> None:
        web(wait_for_file(opened))

    confirm = threading.Thread(target=user_confirms)
    confirm.start()
    try:
        with StackClientApp(**client_kwargs(emu, served), token_store=TokenStore()) as app:
            tokens = app.cli_login(app_url=APP_URL, poll_interval=0.05, timeout=15)
    finally:
        confirm.join(timeout=15)
    assert login_code_of(opened.read_text())
    assert tokens.access_token and web.urls == [opened.read_text()]
