"""examples/flask_app.py and stack_auth.flask, run with Flask's test client on the emulator (sync API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apps import load_example, served_with_env, session_for
from flask import Flask, g
from flask.testing import FlaskClient

from stack_auth import StackServerApp
from stack_auth.flask import StackAuth, current_user, login_required
from stack_auth.testing import Emulator

try:
    from .test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint  # type: ignore[no-redef]


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=SEED)


@pytest.fixture
def served(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with served_with_env(emu, monkeypatch) as url:
        yield url


@pytest.fixture
def web(served: str) -> Iterator[FlaskClient]:
    app = load_example("flask_app.py").create_app()
    yield app.test_client()
    app.extensions["stack_auth"].stack_app.close()


def assert_refused(response: Any, invalid: bool) -> None:
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is invalid
    assert response.get_json() == {"detail": "Invalid or expired access token" if invalid else "Not authenticated"}


def test_login_required(emu: Emulator, served: str, web: FlaskClient) -> None:
    session = session_for(emu, served, server_metadata={"plan": "pro"})
    token = session["access_token"]
    for headers in (
        {"x-stack-access-token": token},
        {"Authorization": f"Bearer {token}"},
        {"x-stack-auth": f'{{"accessToken": "{token}", "refreshToken": null}}'},
    ):
        response = web.get("/me", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"id": session["user_id"], "email": "ada@example.com"}
    assert web.get("/profile", headers={"x-stack-access-token": token}).get_json()["server_metadata"] == {"plan": "pro"}
    assert emu.stats.count(JWKS_ROUTE) == 1


def test_refusals(emu: Emulator, served: str, web: FlaskClient) -> None:
    assert_refused(web.get("/me"), invalid=False)
    for token in ("garbage", alg_none(), mint(aud="other"), mint()):  # mint(): issued for another API URL
        assert_refused(web.get("/me", headers={"x-stack-access-token": token}), invalid=True)
    assert_refused(web.get("/me", headers={"x-stack-auth": "not json"}), invalid=True)


def test_optional(emu: Emulator, served: str, web: FlaskClient) -> None:
    session = session_for(emu, served, server_metadata={"plan": "pro"})
    assert web.get("/hello").get_json() == {"greeting": "hello stranger"}
    assert web.get("/hello", headers={"x-stack-access-token": "garbage"}).get_json() == {"greeting": "hello stranger"}
    answer = web.get("/hello", headers={"x-stack-access-token": session["access_token"]}).get_json()
    assert answer == {"greeting": "hello Ada"}


def test_stack_unreachable_is_503(emu: Emulator, served: str, web: FlaskClient) -> None:
    emu.faults.script(JWKS_ROUTE, status=404, body="Project not found")
    response = web.get("/me", headers={"x-stack-access-token": mint()})
    assert response.status_code == 503
    assert response.get_json() == {"detail": "Authentication is temporarily unavailable"}


def test_extension_from_config_and_variants(emu: Emulator, served: str) -> None:
    app = Flask(__name__)
    app.config["STACK_AUTH"] = {
        "project_id": emu.project_id,
        "secret_server_key": emu.secret_server_key,
        "base_url": served,
    }
    extension = StackAuth()
    extension.init_app(app)
    assert isinstance(extension.stack_app, StackServerApp)

    @app.get("/any")
    @login_required(allow_anonymous=True)
    def any_user() -> dict[str, object]:
        user = current_user()
        assert user is g.stack_user
        return {"anonymous": user.is_anonymous if user else None}

    anonymous = emu.create_session(emu.create_user(is_anonymous=True)["id"], base_url=served)["access_token"]
    with app.test_client() as client:
        assert client.get("/any", headers={"x-stack-access-token": anonymous}).get_json() == {"anonymous": True}
        assert_refused(client.get("/any"), invalid=False)
    extension.stack_app.close()
