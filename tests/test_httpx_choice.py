"""httpx or httpx2: the SDK's own clients use httpx2 when it is installed, httpx otherwise; a caller's client, timeout
and the errors raised inside either library work the same.

``nox -s tests`` runs the suite twice, with httpx only and with httpx2 installed (``STACK_AUTH_TEST_HTTPX`` names
the library of the run); the tests that take a caller's client run once per installed library, so the httpx2 run also
proves the mixes (an httpx client while the SDK prefers httpx2).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from apps import server_app_kwargs

from stack_auth import (
    APIConnectionError,
    APITimeoutError,
    AsyncStackClientApp,
    AsyncStackServerApp,
    ConfigurationError,
    StackServerApp,
)
from stack_auth._httpx import installed, library
from stack_auth.testing import DroppedConnection, Emulator
from stack_auth.testing.apps import IN_PROCESS_URL
from stack_auth.testing.server import ServerThread

#: The library this run is for: set by the nox session, else the SDK's preference among what is installed.
EXPECTED = os.environ.get("STACK_AUTH_TEST_HTTPX") or ("httpx2" if importlib.util.find_spec("httpx2") else "httpx")
LIBRARIES = {module.__name__: module for module in installed()}
NAMES = sorted(LIBRARIES)


class Recorder:
    """An ASGI wrapper that keeps what the server saw of each request: method, path, user agent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            agent = dict(scope["headers"]).get(b"user-agent", b"").decode()
            self.seen.append((scope["method"], scope["path"], agent))
        await self.app(scope, receive, send)


@contextmanager
def recorded(emu: Emulator) -> Iterator[tuple[str, Recorder]]:
    """The emulator behind uvicorn on 127.0.0.1, recording: the base URL and the recorder."""
    recorder = Recorder(emu.asgi_app)
    server = ServerThread(recorder, "127.0.0.1", 0)
    url = server.start()
    try:
        yield url, recorder
    finally:
        server.stop()


def free_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_this_run_uses_the_library_it_is_for() -> None:
    assert library().__name__ == EXPECTED
    assert EXPECTED in LIBRARIES


#: A host that cannot be reached: a request for it that arrives went through the proxy.
BEHIND_PROXY = "http://stack.invalid"


def test_the_sync_api_sends_with_http_client_and_through_a_proxy_with_the_preferred_library(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with recorded(emulator) as (url, recorder):
        with StackServerApp(**server_app_kwargs(emulator), base_url=url) as app:
            app.users.list_page()
        # The recording server is the proxy too: it answers for the unreachable host it is asked for.
        monkeypatch.setenv("HTTP_PROXY", url)
        with StackServerApp(**server_app_kwargs(emulator), base_url=BEHIND_PROXY) as app:
            app.users.list_page()
    [direct, proxied] = recorder.seen
    assert direct[:2] == proxied[:2] == ("GET", "/api/v1/users")
    assert direct[2].startswith("Python-http.client/")
    assert proxied[2].startswith(f"python-{EXPECTED}/")


@pytest.mark.anyio
async def test_the_async_api_sends_with_aiohttp_on_asyncio_and_the_preferred_library_on_trio(
    emulator: Emulator, anyio_backend: str
) -> None:
    with recorded(emulator) as (url, recorder):
        async with AsyncStackServerApp(**server_app_kwargs(emulator), base_url=url) as app:
            await app.users.list_page()
    [(method, path, agent)] = recorder.seen
    assert (method, path) == ("GET", "/api/v1/users")
    assert ("aiohttp" in agent) if anyio_backend == "asyncio" else agent.startswith(f"python-{EXPECTED}/")


CHOICES = [
    # (STACK_AUTH_HTTPX, hide httpx2 from the interpreter, the library that sends)
    ("", True, "httpx"),
    ("", False, EXPECTED),
    ("httpx", False, "httpx"),
    *([("httpx2", False, "httpx2")] if "httpx2" in LIBRARIES else []),
]


@pytest.mark.parametrize(("choice", "hide_httpx2", "sender"), CHOICES)
def test_choice_in_a_fresh_interpreter(emulator: Emulator, choice: str, hide_httpx2: bool, sender: str) -> None:
    """Through a proxy: the sync API's direct connections are http.client's, whatever the choice."""
    with recorded(emulator) as (url, recorder):
        out = _run_app(url, emulator, choice=choice, hide_httpx2=hide_httpx2)
    assert out == {"httpx loaded at import": False}
    [(_, _, agent)] = recorder.seen
    assert agent.startswith(f"python-{sender}/")


def test_asking_for_a_missing_httpx2_fails_when_the_app_is_created(emulator: Emulator) -> None:
    out = _run_app(free_port_url(), emulator, choice="httpx2", hide_httpx2=True)
    assert out["error"] == (
        "ConfigurationError: STACK_AUTH_HTTPX=httpx2 but httpx2 is not installed: "
        "pip install 'stack-auth[httpx2]', or unset STACK_AUTH_HTTPX"
    )


def test_an_unknown_choice_fails_when_the_app_is_created(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACK_AUTH_HTTPX", "requests")
    with pytest.raises(ConfigurationError, match="STACK_AUTH_HTTPX must be 'httpx2' or 'httpx', got 'requests'"):
        StackServerApp(**server_app_kwargs(emulator))
    with pytest.raises(ConfigurationError, match="STACK_AUTH_HTTPX must be"):
        AsyncStackServerApp(**server_app_kwargs(emulator))


def _run_app(proxy: str, emulator: Emulator, *, choice: str, hide_httpx2: bool) -> dict[str, Any]:
    """Create a sync app in a fresh interpreter and send one request through ``proxy``: what it reports (JSON)."""
    script = textwrap.dedent(
        f"""
        import json, sys
        if {hide_httpx2!r}:
            sys.modules["httpx2"] = None   # as if it were not installed
        from stack_auth import ConfigurationError, StackServerApp
        loaded = any(sys.modules.get(name) is not None for name in ("httpx", "httpx2"))
        try:
            app = StackServerApp(project_id={emulator.project_id!r}, secret_server_key={emulator.secret_server_key!r},
                                 base_url={BEHIND_PROXY!r})
        except ConfigurationError as exc:
            print(json.dumps({{"error": f"{{type(exc).__name__}}: {{exc}}"}}))
        else:
            with app:
                app.users.list_page()
            print(json.dumps({{"httpx loaded at import": loaded}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "STACK_AUTH_HTTPX" and not k.lower().endswith("_proxy")}
    env["HTTP_PROXY"] = proxy
    if choice:
        env["STACK_AUTH_HTTPX"] = choice
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)  # this checkout, not an installed copy
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.stderr == ""
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- a caller's client and timeout, of either library -----------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("timeout_library", NAMES)
@pytest.mark.parametrize("client_library", NAMES)
async def test_a_callers_async_client_of_either_library(
    emulator: Emulator, client_library: str, timeout_library: str
) -> None:
    lib = LIBRARIES[client_library]
    recorder = Recorder(emulator.asgi_app)
    async with lib.AsyncClient(transport=lib.ASGITransport(app=recorder)) as client:
        async with AsyncStackServerApp(
            **server_app_kwargs(emulator),
            base_url=IN_PROCESS_URL,
            http_client=client,
            timeout=LIBRARIES[timeout_library].Timeout(5.0),
        ) as app:
            user = await app.users.create(display_name="Ada")
        assert not client.is_closed  # the caller's client is never closed by the SDK
    assert emulator.get_user(user.id)["display_name"] == "Ada"
    [(method, path, agent)] = recorder.seen
    assert (method, path) == ("POST", "/api/v1/users")
    assert agent.startswith(f"python-{client_library}/")


@pytest.mark.parametrize("timeout_library", NAMES)
@pytest.mark.parametrize("client_library", NAMES)
def test_a_callers_sync_client_of_either_library(emulator: Emulator, client_library: str, timeout_library: str) -> None:
    lib = LIBRARIES[client_library]
    with recorded(emulator) as (url, recorder), lib.Client() as client:
        with StackServerApp(
            **server_app_kwargs(emulator),
            base_url=url,
            http_client=client,
            timeout=LIBRARIES[timeout_library].Timeout(5.0),
        ) as app:
            app.users.create(display_name="Ada")
        assert not client.is_closed
    assert emulator.user_count() == 1
    [(method, path, agent)] = recorder.seen
    assert (method, path) == ("POST", "/api/v1/users")
    assert agent.startswith(f"python-{client_library}/")


@pytest.mark.parametrize("client_library", NAMES)
def test_a_client_of_the_wrong_kind_is_refused_before_anything_is_sent(emulator: Emulator, client_library: str) -> None:
    lib = LIBRARIES[client_library]
    with lib.Client() as sync_client, pytest.raises(ConfigurationError) as info:
        AsyncStackClientApp(project_id=emulator.project_id, http_client=sync_client)  # type: ignore[arg-type]
    assert str(info.value) == (
        "http_client must be an httpx.AsyncClient or an httpx2.AsyncClient for AsyncStackClientApp, got Client"
    )
    with pytest.raises(ConfigurationError, match=r"^http_client must be an httpx.Client or an httpx2.Client for Stack"):
        StackServerApp(**server_app_kwargs(emulator), http_client=lib.AsyncClient())  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", ["5", -1, 0, True, object(), (1, 2, 3, 4)])
def test_a_bad_timeout_is_refused(emulator: Emulator, timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"^timeout must be"):
        StackServerApp(**server_app_kwargs(emulator), timeout=timeout)
    with pytest.raises(ConfigurationError, match=r"^timeout must be"):
        AsyncStackServerApp(**server_app_kwargs(emulator), timeout=timeout)


# --- errors raised inside either library ---------------------------------------------------------------------------


def _other(name: str) -> ModuleType:
    """The other library when both are installed (a client of one, a ``Timeout`` of the other), else the same."""
    return LIBRARIES[next((other for other in NAMES if other != name), name)]


def _async_client(lib: ModuleType, emulator: Emulator | None = None) -> Any:
    if emulator is None:
        return lib.AsyncClient()
    return lib.AsyncClient(transport=lib.ASGITransport(app=emulator.asgi_app))


@pytest.mark.anyio
@pytest.mark.parametrize("client_library", NAMES)
async def test_async_errors_of_either_library_map_to_the_same_types(emulator: Emulator, client_library: str) -> None:
    lib = LIBRARIES[client_library]
    options = {**server_app_kwargs(emulator), "max_retries": 0}

    refused_url = free_port_url()
    async with (
        _async_client(lib) as client,
        AsyncStackServerApp(**options, base_url=refused_url, http_client=client) as app,
    ):
        with pytest.raises(APIConnectionError) as refused:
            await app.users.create(display_name="x")
    assert type(refused.value) is APIConnectionError
    assert refused.value.maybe_sent is False  # the library's ConnectError: even a create may be sent again

    emulator.faults.latency(1.0, route="GET /users")
    with emulator.serve() as url:
        async with (
            _async_client(lib) as client,
            AsyncStackServerApp(
                **options, base_url=url, http_client=client, timeout=_other(client_library).Timeout(5.0, read=0.1)
            ) as app,
        ):
            with pytest.raises(APITimeoutError) as slow:
                await app.users.list_page()
    assert slow.value.maybe_sent is True  # the library's ReadTimeout: an APITimeoutError

    emulator.faults.next_drop("POST /users", when="after")
    async with (
        _async_client(lib, emulator) as client,
        AsyncStackServerApp(**options, base_url=IN_PROCESS_URL, http_client=client) as app,
    ):
        with pytest.raises(APIConnectionError) as dropped:
            await app.users.create(display_name="x")
    assert type(dropped.value) is APIConnectionError
    assert dropped.value.maybe_sent is True
    assert emulator.user_count() == 1  # created, answer lost: the SDK did not send it again


@pytest.mark.parametrize("client_library", NAMES)
def test_sync_errors_of_either_library_map_to_the_same_types(emulator: Emulator, client_library: str) -> None:
    lib = LIBRARIES[client_library]
    options = {**server_app_kwargs(emulator), "max_retries": 0}
    with (
        lib.Client() as client,
        StackServerApp(**options, base_url=free_port_url(), http_client=client) as app,
        pytest.raises(APIConnectionError) as refused,
    ):
        app.users.create(display_name="x")
    assert refused.value.maybe_sent is False

    emulator.faults.latency(1.0, route="GET /users")
    with (
        emulator.serve() as url,
        lib.Client() as client,
        StackServerApp(
            **options, base_url=url, http_client=client, timeout=_other(client_library).Timeout(5.0, read=0.1)
        ) as app,
        pytest.raises(APITimeoutError) as slow,
    ):
        app.users.list_page()
    assert slow.value.maybe_sent is True


@pytest.mark.anyio
@pytest.mark.parametrize("client_library", NAMES)
async def test_an_emulated_drop_is_either_librarys_protocol_error(emulator: Emulator, client_library: str) -> None:
    lib = LIBRARIES[client_library]
    emulator.faults.next_drop("GET /users")
    async with _async_client(lib, emulator) as client:
        with pytest.raises(lib.RemoteProtocolError) as info:
            await client.get(IN_PROCESS_URL + "/api/v1/users", headers=emulator.headers())
    assert isinstance(info.value, DroppedConnection)
    assert all(isinstance(info.value, other.RemoteProtocolError) for other in LIBRARIES.values())
