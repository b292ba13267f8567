"""The README's sign-in and command-line login snippets run against the emulator, as written."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from apps import browser_that_notes_urls, wait_for_file

from stack_auth import AsyncStackClientApp, StackServerApp, TokenStore
from stack_auth.testing import Emulator

try:
    from .test_readme_areas import snippet
except ImportError:  # tests/ run as a directory, not a package
    from test_readme_areas import snippet  # type: ignore[no-redef]

APP = "https://myapp.example"


class Browser:
    """``webbrowser`` for the snippet: follows the redirects of the authorization URL (the provider, Stack's
    callback) and leaves the URL the app's redirect URI received in the snippet's ``callback_url``."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def open(self, url: str) -> bool:
        with httpx.Client() as browser:
            while not url.startswith("http://localhost:8765/callback"):
                url = browser.get(url).headers["location"]
        self.namespace["callback_url"] = url
        return True


@pytest.mark.anyio
async def test_sign_in_snippet_runs(anyio_backend: str) -> None:
    emu = Emulator(seed=4)
    emu.configure_project(trusted_domains=(APP,))
    email = "otp@example.com"
    emu.create_user(primary_email=email, primary_email_verified=True, primary_email_auth_enabled=True)
    with emu.serve() as url:
        async with AsyncStackClientApp(
            project_id=emu.project_id,
            publishable_client_key=emu.publishable_client_key,
            base_url=url,
            token_store=TokenStore(),
        ) as app:
            # A reset link mailed earlier: the one whose page the snippet's last lines stand for.
            await app.send_password_reset_code(email, callback_url=f"{APP}/reset")
            namespace: dict[str, Any] = {
                "app": app,
                "email": email,
                "code": emu.last_code(email),
                "new_password": "a new password",
                "input": lambda prompt: emu.last_code(email)[:6],  # what the user reads in the mail
            }
            namespace["webbrowser"] = Browser(namespace)
            exec(
                f"async def run():\n{textwrap.indent(snippet('### Signing users in (client app)'), '    ')}", namespace
            )
            await namespace["run"]()
            user = await app.current_user.get()
    assert user is not None and [p.id for p in user.oauth_providers] == ["github"]  # signed in by the last step
    ada = next(u for u in emu.users() if u["primary_email"] == "ada@example.com")
    assert not ada["is_anonymous"] and ada["has_password"]
    assert emu.stats.statuses().keys() <= {200, 201, 307}, emu.stats.statuses()


def test_cli_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    emu = Emulator(seed=5)
    web_user = emu.create_user(primary_email="web@example.com", primary_email_auth_enabled=True)["id"]
    opened = browser_that_notes_urls(tmp_path, monkeypatch)  # the user's browser: notes the page it opens
    with emu.serve() as url:
        for name, value in {
            "STACK_PROJECT_ID": emu.project_id,
            "STACK_PUBLISHABLE_CLIENT_KEY": emu.publishable_client_key,
            "STACK_API_URL": url,
            "XDG_CONFIG_HOME": str(tmp_path),
        }.items():
            monkeypatch.setenv(name, value)

        def web_app_confirms() -> None:  # the user signs in on the confirm page; the web app completes the login
            login_code = parse_qs(urlsplit(wait_for_file(opened)).query)["login_code"][0]
            with StackServerApp(
                project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=url
            ) as server:
                server.complete_cli_login(login_code, emu.create_session(web_user)["refresh_token"])

        confirm = threading.Thread(target=web_app_confirms)
        confirm.start()
        try:
            exec(snippet("### Command-line tools: sign in through the browser"), {})
        finally:
            confirm.join(timeout=15)
        assert capsys.readouterr().out == "web@example.com\n"
        assert opened.read_text().startswith(f"{APP}/handler/cli-auth-confirm?login_code=")
        exec(snippet("### Command-line tools: sign in through the browser"), {})  # the next run: no browser
    assert capsys.readouterr().out == "web@example.com\n"
    assert emu.stats.count("POST /auth/cli") == 1
