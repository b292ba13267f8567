"""examples/django_view.py and stack_auth.django, run with Django's test client on the emulator (sync API).

Django's settings are process-wide: the example configures them once, and the Stack app it makes on first use points
at a module-wide emulator.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from apps import session_for

from stack_auth import StackServerApp
from stack_auth.testing import Emulator

try:
    from .test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint
except ImportError:  # tests/ run as a directory, not a package
    from test_auth_verify import JWKS_ROUTE, SEED, alg_none, mint  # type: ignore[no-redef]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "django_view.py"


@pytest.fixture(scope="module")
def emu() -> Emulator:
    return Emulator(seed=SEED)


@pytest.fixture(scope="module")
def served(emu: Emulator) -> Iterator[str]:
    with emu.serve() as url, pytest.MonkeyPatch.context() as env:
        env.setenv("STACK_PROJECT_ID", emu.project_id)
        env.setenv("STACK_SECRET_SERVER_KEY", emu.secret_server_key)
        env.setenv("STACK_API_URL", url)
        yield url
        from stack_auth.django import get_stack_app, set_stack_app

        get_stack_app().close()
        set_stack_app(None)


@pytest.fixture(scope="module")
def example(served: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("django_view_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["django_view_example"] = module  # ROOT_URLCONF names the module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def web(example: ModuleType, emu: Emulator) -> object:
    from django.test import Client

    emu.faults.clear()
    emu.stats.reset()
    return Client()


def assert_refused(response: Any, invalid: bool) -> None:
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is invalid
    assert json.loads(response.content) == {
        "detail": "Invalid or expired access token" if invalid else "Not authenticated"
    }


def test_stack_login_required(emu: Emulator, served: str, web: object) -> None:
    session = session_for(emu, served, primary_email=f"ada-{os.urandom(4).hex()}@example.com")
    client = web
    for headers in (
        {"x-stack-access-token": session["access_token"]},
        {"authorization": f"Bearer {session['access_token']}"},
        {"x-stack-auth": f'{{"accessToken": "{session["access_token"]}"}}'},
    ):
        response = client.get("/me", headers=headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.content
        assert response.json()["id"] == session["user_id"]
    assert emu.stats.count(JWKS_ROUTE) <= 1  # cached for the process (fetched by the first test that needed it)


def test_refusals(emu: Emulator, served: str, web: object) -> None:
    get = web.get  # type: ignore[attr-defined]
    assert_refused(get("/me"), invalid=False)
    for token in ("garbage", alg_none(), mint(aud="other"), mint()):
        assert_refused(get("/me", headers={"x-stack-access-token": token}), invalid=True)
    assert_refused(get("/me", headers={"x-stack-auth": "{oops"}), invalid=True)


def test_middleware_sets_the_user(emu: Emulator, served: str, web: object) -> None:
    session = session_for(emu, served, primary_email=f"ada-{os.urandom(4).hex()}@example.com")
    get = web.get  # type: ignore[attr-defined]
    assert get("/hello").json() == {"greeting": "hello stranger"}
    assert get("/hello", headers={"x-stack-access-token": "garbage"}).json() == {"greeting": "hello stranger"}
    assert get("/hello", headers={"x-stack-access-token": session["access_token"]}).json() == {"greeting": "hello Ada"}


def test_decorator_without_middleware_and_variants(emu: Emulator, served: str, example: ModuleType) -> None:
    from django.http import JsonResponse
    from django.test import RequestFactory

    from stack_auth.django import get_stack_app, stack_login_required

    assert isinstance(get_stack_app(), StackServerApp)

    @stack_login_required(allow_anonymous=True)
    def view(request: object) -> JsonResponse:
        return JsonResponse({"anonymous": request.stack_user.is_anonymous})  # type: ignore[attr-defined]

    anonymous = emu.create_session(emu.create_user(is_anonymous=True)["id"], base_url=served)["access_token"]
    factory = RequestFactory()
    assert view(factory.get("/", headers={"x-stack-access-token": anonymous})).status_code == 200
    assert_refused(view(factory.get("/")), invalid=False)


def test_stack_unreachable_is_503(emu: Emulator, served: str, web: object) -> None:
    from stack_auth.django import get_stack_app, set_stack_app

    previous = get_stack_app()
    set_stack_app(StackServerApp.from_env())  # a fresh app: nothing cached yet
    try:
        emu.faults.script(JWKS_ROUTE, status=404, body="Project not found")
        response = web.get("/me", headers={"x-stack-access-token": mint()})  # type: ignore[attr-defined]
        assert response.status_code == 503
        assert response.json() == {"detail": "Authentication is temporarily unavailable"}
    finally:
        get_stack_app().close()
        set_stack_app(previous)


def test_permission_and_api_key_decorators(emu: Emulator, served: str, example: ModuleType) -> None:
    from django.http import JsonResponse
    from django.test import RequestFactory

    from stack_auth.django import (
        stack_api_key_required,
        stack_project_permission_required,
        stack_team_permission_required,
    )

    @stack_team_permission_required("$update_team")
    def rename(request: Any, team_id: str) -> JsonResponse:
        return JsonResponse({"by": request.stack_user.id})

    @stack_project_permission_required("admin")
    def admin(request: Any) -> JsonResponse:
        return JsonResponse({"admin": request.stack_user.id})

    @stack_api_key_required(kind="team")
    def deploy(request: Any) -> JsonResponse:
        return JsonResponse({"team": request.stack_api_key.team_id})

    emu.define_permissions(project={"admin": []})
    owner = session_for(emu, served, primary_email=f"ada-{os.urandom(4).hex()}@example.com")
    member = session_for(emu, served, primary_email=f"bob-{os.urandom(4).hex()}@example.com")
    factory = RequestFactory()
    with StackServerApp.from_env() as stack:
        team = stack.teams.create("Ops", creator_user_id=owner["user_id"])
        stack.teams.add_member(team.id, member["user_id"])
        as_owner = {"x-stack-access-token": owner["access_token"]}
        ok = rename(factory.patch("/", headers=as_owner), team_id=team.id)
        assert (ok.status_code, json.loads(ok.content)) == (200, {"by": owner["user_id"]})
        as_member = {"x-stack-access-token": member["access_token"]}
        refused = rename(factory.patch("/", headers=as_member), team_id=team.id)
        assert (refused.status_code, json.loads(refused.content)) == (403, {"detail": "Permission denied"})
        assert_refused(rename(factory.patch("/"), team_id=team.id), invalid=False)

        assert admin(factory.get("/", headers=as_owner)).status_code == 403
        stack.users.grant_permission(owner["user_id"], "admin")
        assert json.loads(admin(factory.get("/", headers=as_owner)).content) == {"admin": owner["user_id"]}

        key = stack.team_api_keys.create(team.id, description="deploy")
        assert key.secret is not None
        deployed = deploy(factory.post("/", headers={"authorization": f"Bearer {key.secret}"}))
        assert (deployed.status_code, json.loads(deployed.content)) == (200, {"team": team.id})
        user_key = stack.user_api_keys.create(owner["user_id"], description="not for teams")
        assert user_key.secret is not None
        assert deploy(factory.post("/", headers={"x-stack-api-key": user_key.secret})).status_code == 401
        assert deploy(factory.post("/")).status_code == 401
