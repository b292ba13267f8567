"""Permission and API-key guards on the emulator over a socket: examples/fastapi_access.py on FastAPI's test client,
and the Flask decorators (the Django ones are in test_frameworks_django.py: Django's settings are process-wide)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apps import load_example, served_with_env, session_for
from fastapi.testclient import TestClient
from flask import Flask, g

from stack_auth import StackServerApp
from stack_auth.flask import StackAuth, api_key_required, project_permission_required, team_permission_required
from stack_auth.testing import Emulator


@pytest.fixture
def emu() -> Emulator:
    return Emulator(project_permissions={"admin": []})


@pytest.fixture
def served(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with served_with_env(emu, monkeypatch) as url:
        yield url


@pytest.fixture
def web(served: str) -> Iterator[TestClient]:
    with TestClient(load_example("fastapi_access.py").app) as client:
        yield client


@pytest.fixture
def stack(served: str) -> Iterator[StackServerApp]:
    with StackServerApp.from_env() as app:
        yield app


def _as(session: dict[str, str]) -> dict[str, str]:
    return {"x-stack-access-token": session["access_token"]}


def test_team_permission(emu: Emulator, served: str, web: TestClient, stack: StackServerApp) -> None:
    owner = session_for(emu, served)
    member = session_for(emu, served, primary_email="bob@example.com", display_name="Bob")
    team = stack.teams.create("Ops", creator_user_id=owner["user_id"])  # the creator holds $update_team
    stack.teams.add_member(team.id, member["user_id"])  # a plain member does not
    path = f"/teams/{team.id}"

    renamed = web.patch(path, json={"display_name": "Ops 2"}, headers=_as(owner))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"id": team.id, "display_name": "Ops 2", "renamed_by": owner["user_id"]}
    (seen,) = [r for r in emu.stats.requests("GET /team-permissions") if r.query["user_id"] == owner["user_id"]]
    assert seen.query == {
        "team_id": team.id,
        "user_id": owner["user_id"],
        "permission_id": "$update_team",
        "recursive": "true",
    }

    refused = web.patch(path, json={"display_name": "Mine"}, headers=_as(member))
    assert (refused.status_code, refused.json()) == (403, {"detail": "Permission denied"})
    assert web.patch(path, json={"display_name": "x"}).status_code == 401  # signed out
    garbage = web.patch(path, json={"display_name": "x"}, headers={"x-stack-access-token": "garbage"})
    assert garbage.status_code == 401
    not_a_team = web.patch("/teams/not-a-uuid", json={"display_name": "x"}, headers=_as(owner))
    assert not_a_team.status_code == 403
    team_now = stack.teams.get(team.id)
    assert team_now is not None and team_now.display_name == "Ops 2"

    stack.teams.grant_permission(team.id, member["user_id"], "$update_team")
    assert web.patch(path, json={"display_name": "Bob's"}, headers=_as(member)).status_code == 200


def test_project_permission(emu: Emulator, served: str, web: TestClient, stack: StackServerApp) -> None:
    admin = session_for(emu, served)
    other = session_for(emu, served, primary_email="eve@example.com", display_name="Eve")
    stack.users.grant_permission(admin["user_id"], "admin")
    answer = web.get("/admin/teams", headers=_as(admin))
    assert answer.status_code == 200, answer.text
    assert {t["display_name"] for t in answer.json()} == {"Ada's Team", "Eve's Team"}
    refused = web.get("/admin/teams", headers=_as(other))
    assert (refused.status_code, refused.json()) == (403, {"detail": "Permission denied"})
    signed_out = web.get("/admin/teams")
    assert signed_out.status_code == 401 and signed_out.headers["www-authenticate"].startswith("Bearer")


def test_api_key(emu: Emulator, served: str, web: TestClient, stack: StackServerApp) -> None:
    user = session_for(emu, served)
    issued = web.post("/me/api-keys", json={"description": "laptop"}, headers=_as(user))
    assert issued.status_code == 200, issued.text
    secret = issued.json()["secret"]
    records = [{"n": 1}, {"n": 2}]
    for headers in ({"x-stack-api-key": secret}, {"authorization": f"Bearer {secret}"}):
        accepted = web.post("/ingest", json=records, headers=headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json() == {"accepted": 2, "owner": user["user_id"], "key": "laptop"}
    assert emu.stats.requests("POST /user-api-keys/check")[-1].body == {"api_key": secret}

    missing = web.post("/ingest", json=records)
    assert (missing.status_code, missing.json()) == (401, {"detail": "API key required"})
    assert missing.headers["www-authenticate"] == 'Bearer realm="stack-auth-api-key"'
    checks = emu.stats.count("POST /user-api-keys/check")
    garbage = web.post("/ingest", json=records, headers={"x-stack-api-key": "not-a-key"})
    assert (garbage.status_code, garbage.json()) == (401, {"detail": "Invalid, revoked or expired API key"})
    assert emu.stats.count("POST /user-api-keys/check") == checks  # refused before asking Stack

    team_key = stack.team_api_keys.create(stack.teams.list(user_id=user["user_id"])[0].id, description="t")
    assert team_key.secret is not None
    wrong_kind = web.post("/ingest", json=records, headers={"x-stack-api-key": team_key.secret})
    assert wrong_kind.status_code == 401

    (key,) = stack.user_api_keys.list(user["user_id"])
    stack.user_api_keys.revoke(key.id)
    revoked = web.post("/ingest", json=records, headers={"x-stack-api-key": secret})
    assert revoked.status_code == 401 and secret not in revoked.text

    emu.faults.script("POST /user-api-keys/check", status=500, body="down")
    assert web.post("/ingest", json=records, headers={"x-stack-api-key": secret}).status_code == 503


def _flask_app() -> Flask:
    app = Flask(__name__)
    StackAuth(app, StackServerApp.from_env())

    @app.patch("/teams/<team_id>")
    @team_permission_required("$update_team", team_id_param="team_id")
    def rename(team_id: str) -> dict[str, Any]:
        return {"team": team_id, "by": g.stack_user.id}

    @app.get("/admin")
    @project_permission_required("admin")
    def admin() -> dict[str, Any]:
        return {"admin": g.stack_user.id}

    @app.post("/ingest")
    @api_key_required()
    def ingest() -> dict[str, Any]:
        return {"owner": g.stack_api_key.user_id}

    return app


def test_flask_decorators(emu: Emulator, served: str, stack: StackServerApp) -> None:
    app = _flask_app()
    web = app.test_client()
    owner = session_for(emu, served)
    member = session_for(emu, served, primary_email="bob@example.com", display_name="Bob")
    team = stack.teams.create("Ops", creator_user_id=owner["user_id"])
    stack.teams.add_member(team.id, member["user_id"])
    assert web.patch(f"/teams/{team.id}", headers=_as(owner)).json == {"team": team.id, "by": owner["user_id"]}
    refused = web.patch(f"/teams/{team.id}", headers=_as(member))
    assert (refused.status_code, refused.json) == (403, {"detail": "Permission denied"})
    assert web.patch(f"/teams/{team.id}").status_code == 401

    assert web.get("/admin", headers=_as(owner)).status_code == 403
    stack.users.grant_permission(owner["user_id"], "admin")
    assert web.get("/admin", headers=_as(owner)).json == {"admin": owner["user_id"]}

    key = stack.user_api_keys.create(owner["user_id"], description="cron")
    assert key.secret is not None
    assert web.post("/ingest", headers={"authorization": f"Bearer {key.secret}"}).json == {"owner": owner["user_id"]}
    assert web.post("/ingest").status_code == 401
    stack.user_api_keys.revoke(key.id)
    assert web.post("/ingest", headers={"x-stack-api-key": key.secret}).status_code == 401
    app.extensions["stack_auth"].stack_app.close()


def test_readme_snippet(emu: Emulator, served: str, stack: StackServerApp) -> None:
    from test_readme_areas import snippet

    namespace: dict[str, Any] = {}
    exec(snippet("## Access checks in FastAPI, Flask and Django"), namespace)
    owner = session_for(emu, served)
    team = stack.teams.create("Readme", creator_user_id=owner["user_id"])
    key = stack.user_api_keys.create(owner["user_id"], description="readme")
    assert key.secret is not None
    with TestClient(namespace["web"]) as web:
        assert web.patch(f"/teams/{team.id}", headers=_as(owner)).json() == {"team": team.id, "by": owner["user_id"]}
        assert web.get("/admin", headers=_as(owner)).status_code == 403
        stack.users.grant_permission(owner["user_id"], "admin")
        assert web.get("/admin", headers=_as(owner)).json() == {"ok": True}
        assert web.post("/ingest", headers={"x-stack-api-key": key.secret}).json() == {"owner": owner["user_id"]}
        assert web.post("/ingest").status_code == 401


def test_guards_refuse_bad_declarations() -> None:
    from stack_auth.django import stack_api_key_required, stack_team_permission_required
    from stack_auth.fastapi import RequireApiKey, RequireProjectPermission

    with pytest.raises(ValueError, match='kind must be "user" or "team"'):
        RequireApiKey("org")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='kind must be "user" or "team"'):
        api_key_required(kind="org")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='kind must be "user" or "team"'):
        stack_api_key_required(kind="org")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="permission_id must be a non-empty string"):
        RequireProjectPermission("")
    with pytest.raises(ValueError, match="permission_id must be a non-empty string"):
        project_permission_required("")
    with pytest.raises(ValueError, match="permission_id must be a non-empty string"):
        stack_team_permission_required("")


def test_where_an_api_key_is_read_from() -> None:
    from stack_auth._api_key_format import format_api_key
    from stack_auth._guards import api_key_from_headers

    key = format_api_key(
        key_id="00000000-0000-4000-8000-000000000000", secret_part="a" * 45, type="user", is_public=False
    )
    assert api_key_from_headers({"X-Stack-Api-Key": f" {key} "}) == key
    assert api_key_from_headers({"Authorization": f"Bearer {key}"}) == key
    assert api_key_from_headers({"authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig"}) is None  # a user's token
    assert api_key_from_headers({"authorization": f"Basic {key}"}) is None
    assert api_key_from_headers({}) is None
