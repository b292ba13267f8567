"""examples/fastapi_app.py and stack_auth.fastapi, run with FastAPI's and Starlette's test clients on the emulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from apps import load_example, served_with_env, session_for
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stack_auth import AsyncStackServerApp, StackServerApp
from stack_auth.fastapi import authenticate, require_user, stack_lifespan
from stack_auth.testing import Emulator
from stack_auth.testing.tokens import issuer
from stack_auth.tokens import AccessTokenClaims

try:
    from .test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint  # type: ignore[no-redef]

#: A variant: anonymous users welcome.
AnyUser = Annotated[AccessTokenClaims, Depends(require_user(allow_anonymous=True))]


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=SEED)


@pytest.fixture
def served(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with served_with_env(emu, monkeypatch) as url:
        yield url


@pytest.fixture
def web(served: str) -> Iterator[TestClient]:
    with TestClient(load_example("fastapi_app.py").app) as client:  # runs the lifespan: opens and closes the Stack app
        yield client


def assert_refused(response: Any, invalid: bool) -> None:
    assert response.status_code == 401
    headers = response.headers
    assert headers["www-authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in headers["www-authenticate"]) is invalid
    body = response.json()
    assert body == {"detail": "Invalid or expired access token" if invalid else "Not authenticated"}


def test_verified_user(emu: Emulator, served: str, web: TestClient) -> None:
    session = session_for(emu, served)
    token = session["access_token"]
    for headers in (
        {"x-stack-access-token": token},
        {"authorization": f"Bearer {token}"},
        {"x-stack-auth": f'{{"accessToken": "{token}", "refreshToken": "{session["refresh_token"]}"}}'},
    ):
        response = web.get("/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == session["user_id"]
    assert emu.stats.count(JWKS_ROUTE) == 1
    assert emu.stats.count("GET /users/me") == 0  # verified locally


def test_refusals_are_401_without_internals(emu: Emulator, served: str, web: TestClient) -> None:
    assert_refused(web.get("/me"), invalid=False)
    now = int(time.time())
    bad = [
        "garbage",
        alg_none(),
        mint(iss=issuer(served, emu.project_id), iat=now - 700, exp=now - 60),  # expired
        mint(aud="another-project"),
        mint(iss="http://evil.test/api/v1/projects/internal"),
    ]
    for token in bad:
        assert_refused(web.get("/me", headers={"x-stack-access-token": token}), invalid=True)
    assert_refused(web.get("/me", headers={"x-stack-auth": "{broken"}), invalid=True)
    anonymous = emu.create_session(emu.create_user(is_anonymous=True)["id"], base_url=served)["access_token"]
    assert_refused(web.get("/me", headers={"x-stack-access-token": anonymous}), invalid=True)


def test_optional_user(emu: Emulator, served: str, web: TestClient) -> None:
    session = session_for(emu, served)
    assert web.get("/hello").json() == {"greeting": "hello stranger"}
    assert web.get("/hello", headers={"x-stack-access-token": "garbage"}).json() == {"greeting": "hello stranger"}
    signed_in = web.get("/hello", headers={"authorization": f"Bearer {session['access_token']}"})
    assert signed_in.json() == {"greeting": "hello Ada"}


def test_fresh_user(emu: Emulator, served: str, web: TestClient) -> None:
    session = session_for(emu, served, server_metadata={"plan": "free"})
    profile = web.get("/profile", headers={"x-stack-access-token": session["access_token"]}).json()
    assert profile["server_metadata"] == {"plan": "free"}
    with StackServerApp.from_env() as admin:  # a change after the token was issued
        admin.users.update(session["user_id"], server_metadata={"plan": "pro"})
    fresh = web.get("/profile", headers={"x-stack-access-token": session["access_token"]}).json()
    assert fresh["server_metadata"] == {"plan": "pro"}  # fresh from Stack, not from the token
    assert_refused(web.get("/profile"), invalid=False)
    assert_refused(web.get("/profile", headers={"x-stack-access-token": "garbage"}), invalid=True)


def test_stack_unreachable_is_503(emu: Emulator, served: str, web: TestClient) -> None:
    emu.faults.script(JWKS_ROUTE, status=404, body="Project not found")
    response = web.get("/me", headers={"x-stack-access-token": mint()})
    assert response.status_code == 503
    assert response.json() == {"detail": "Authentication is temporarily unavailable"}


def test_variants_and_own_lifespan(emu: Emulator, served: str) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def mine(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("start")
        yield {"greeting": "hi"}
        events.append("stop")

    app = FastAPI(lifespan=stack_lifespan(AsyncStackServerApp.from_env, lifespan=mine))

    @app.get("/any")
    async def any_user(user: AnyUser, request: Request) -> dict[str, object]:
        return {"anonymous": user.is_anonymous, "greeting": request.state.greeting}

    anonymous = emu.create_session(emu.create_user(is_anonymous=True)["id"], base_url=served)["access_token"]
    with TestClient(app) as client:
        answer = client.get("/any", headers={"x-stack-access-token": anonymous}).json()
        assert answer == {"anonymous": True, "greeting": "hi"}
        assert_refused(client.get("/any"), invalid=False)
    assert events == ["start", "stop"]


def test_starlette(emu: Emulator, served: str) -> None:
    async def me(request: Request) -> JSONResponse:
        claims = await authenticate(request)
        return JSONResponse({"id": claims.id if claims else None})

    app = Starlette(routes=[Route("/me", me)], lifespan=stack_lifespan(AsyncStackServerApp.from_env))
    session = session_for(emu, served)
    with TestClient(app) as client:
        assert client.get("/me").json() == {"id": None}
        assert client.get("/me", headers={"x-stack-access-token": session["access_token"]}).json() == {
            "id": session["user_id"]
        }


def test_without_lifespan_the_error_says_what_to_do() -> None:
    app = FastAPI()

    @app.get("/me")
    async def me(user: Annotated[AccessTokenClaims, Depends(require_user())]) -> str:
        return user.id

    with TestClient(app, raise_server_exceptions=True) as client, pytest.raises(RuntimeError, match="stack_lifespan"):
        client.get("/me", headers={"x-stack-access-token": mint()})
