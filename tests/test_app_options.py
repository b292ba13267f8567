"""App construction, options, from_env, and what repr() shows (never a key)."""

from __future__ import annotations

import logging

import pytest
from apps import server_app_kwargs

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackServerApp
from stack_auth.errors import ConfigurationError, InvalidSecretServerKey
from stack_auth.testing import Emulator

SECRET = "sk-very-secret-value"


def test_repr_shows_no_key() -> None:
    for cls in (AsyncStackServerApp, StackServerApp):
        app = cls(project_id="p", secret_server_key=SECRET, publishable_client_key="pck-secret")
        text = repr(app) + repr(app._transport) + repr(app.with_options(timeout=1))
        assert SECRET not in text and "pck-secret" not in text
        assert "project_id='p'" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project_id": "", "secret_server_key": "k"}, "project_id must be a non-empty string"),
        ({"project_id": "p", "secret_server_key": ""}, "secret_server_key must be a non-empty string"),
        ({"project_id": "p", "secret_server_key": "k", "base_url": "api.stack-auth.com"}, "base_url must be"),
        ({"project_id": "p", "secret_server_key": "k", "max_retries": -1}, "max_retries"),
        ({"project_id": "p", "secret_server_key": "k", "max_concurrency": 0}, "max_concurrency"),
        ({"project_id": "p", "secret_server_key": "k", "rate_limit": 0}, "rate_limit"),
    ],
)
def test_bad_options_say_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        AsyncStackServerApp(**kwargs)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("name", ["project_id", "secret_server_key", "publishable_client_key"])
@pytest.mark.parametrize("cls", [AsyncStackServerApp, StackServerApp])
def test_a_credential_with_a_line_break_is_refused_unquoted(name: str, cls: type[StackServerApp]) -> None:
    """The usual way to get one: a key read from a file or an env file with its newline. As a header it would
    smuggle another header; it is refused when the app is created, without echoing the key."""
    kwargs = {"project_id": "p", "secret_server_key": "k", "publishable_client_key": "pck", name: SECRET + "\n"}
    with pytest.raises(ConfigurationError, match=f"{name} contains a line break") as info:
        cls(**kwargs)
    assert SECRET not in str(info.value)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACK_PROJECT_ID", "proj")
    monkeypatch.setenv("STACK_SECRET_SERVER_KEY", SECRET)
    monkeypatch.setenv("STACK_API_URL", "http://127.0.0.1:8102/")
    app = StackServerApp.from_env(max_retries=1)
    assert (app.project_id, app.base_url) == ("proj", "http://127.0.0.1:8102")
    assert app._transport.retry.max_retries == 1
    client = AsyncStackClientApp.from_env()
    assert client._transport.credentials.headers().get("x-stack-secret-server-key") is None
    monkeypatch.delenv("STACK_SECRET_SERVER_KEY")
    with pytest.raises(ConfigurationError, match="STACK_SECRET_SERVER_KEY is not set"):
        AsyncStackServerApp.from_env()
    assert AsyncStackServerApp.from_env(secret_server_key=SECRET).project_id == "proj"
    monkeypatch.delenv("STACK_PROJECT_ID")
    with pytest.raises(ConfigurationError, match="STACK_PROJECT_ID is not set"):
        StackServerApp.from_env(secret_server_key=SECRET)


def test_headers_sent(emulator: Emulator, served: str) -> None:
    seen: list[dict[str, str]] = []
    import httpx

    def record(request: httpx.Request) -> None:
        seen.append(dict(request.headers))

    with (
        httpx.Client(event_hooks={"request": [record]}) as client,
        StackServerApp(**server_app_kwargs(emulator), base_url=served + "/", http_client=client) as app,
    ):
        app.users.create(display_name="x")
        app.users.list_page()
    post, get = seen
    assert post["x-stack-access-type"] == "server"
    assert post["x-stack-client-version"].startswith("python@")
    assert post["x-stack-project-id"] == emulator.project_id
    assert post["content-type"] == "application/json"
    assert "content-type" not in get


@pytest.mark.anyio
async def test_wrong_key_error_and_logs_carry_no_secret(
    emulator: Emulator, served: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with AsyncStackServerApp(
        project_id=emulator.project_id, secret_server_key=SECRET, base_url=served, max_retries=0
    ) as app:
        with pytest.raises(InvalidSecretServerKey) as info:
            await app.users.list_page()
    shown = str(info.value) + repr(info.value) + caplog.text + repr(app)
    assert SECRET not in shown
    assert "GET" in caplog.text  # the debug log was on


def test_caller_client_is_never_closed(emulator: Emulator, served: str) -> None:
    import httpx

    client = httpx.Client()
    with StackServerApp(**server_app_kwargs(emulator), base_url=served, http_client=client) as app:
        app.users.list_page()
    assert not client.is_closed
    client.close()
