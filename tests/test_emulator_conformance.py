"""The emulator against the real API: OpenAPI response schemas (types read as nullable) and recorded answers.

``shared/stack-api/real-samples/samples.json`` holds real answers of a real Stack backend; the same calls on the
emulator must give the same status, headers, keys, types and nulls (ids and times aside), and the same error texts.
"""

from __future__ import annotations

import json

import httpx
import jwt
import pytest

from stack_auth.testing import Emulator
from stack_auth.testing.app import ROUTER
from stack_auth.testing.openapi import load_document, shape_differences, validate_response

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import Recorder, client_for, sample_differences, samples, spec_dir
except ImportError:
    from emulator_helpers import Recorder, client_for, sample_differences, samples, spec_dir  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

SAMPLE_TEAM_MISSING = "69d16e0e-d5b4-42af-b31a-ef81e790cc54"
SAMPLE_PROJECT_MISSING = "01216594-c2c5-4c8a-8af7-c4be75ec0936"
SAMPLE_USER_MISSING = "2929d1df-5f34-4f31-b98d-06bdc40ce09a"
SAMPLE_OVERRIDE_MISSING = "60b1838f-7046-48d2-a25b-e6e86f0aa50a"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _exercise_every_route(emu: Emulator, c: httpx.AsyncClient) -> None:
    """One call (or more) to every emulated route, with server and client access."""
    server = emu.headers("server")
    emu.configure_project(client_team_creation_enabled=True, client_user_deletion_enabled=True)
    assert (await c.get("/api/v1/users", headers=server)).status_code == 200
    r = await c.post(
        "/api/v1/users",
        headers=server,
        json={
            "primary_email": "walk@example.com",
            "primary_email_auth_enabled": True,
            "password": "walk-password",
            "display_name": "Walker",
            "client_metadata": {"a": 1},
            "oauth_providers": [{"id": "github", "account_id": "walker", "email": None}],
        },
    )
    user = r.json()
    other = (await c.post("/api/v1/users", headers=server, json={"display_name": "Other"})).json()
    await c.get("/api/v1/users", params={"limit": "1"}, headers=server)
    await c.get(f"/api/v1/users/{user['id']}", headers=server)
    await c.patch(f"/api/v1/users/{user['id']}", json={"display_name": None}, headers=server)
    team = (
        await c.post("/api/v1/teams", json={"display_name": "Walk team", "creator_user_id": user["id"]}, headers=server)
    ).json()
    await c.get("/api/v1/teams", params={"user_id": user["id"]}, headers=server)
    await c.get(f"/api/v1/teams/{team['id']}", headers=server)
    await c.patch(f"/api/v1/teams/{team['id']}", json={"server_metadata": {"x": 1}}, headers=server)
    await c.post(f"/api/v1/team-memberships/{team['id']}/{other['id']}", json={}, headers=server)
    await c.get("/api/v1/team-permissions", params={"team_id": team["id"]}, headers=server)
    await c.post(f"/api/v1/team-permissions/{team['id']}/{other['id']}/$update_team", json={}, headers=server)
    await c.delete(f"/api/v1/team-permissions/{team['id']}/{other['id']}/$update_team", headers=server)
    tokens = (await c.post("/api/v1/auth/sessions", json={"user_id": user["id"]}, headers=server)).json()
    await c.post("/api/v1/auth/sessions", json={"user_id": user["id"], "expires_in_millis": 60_000}, headers=server)
    sessions = (await c.get("/api/v1/auth/sessions", params={"user_id": user["id"]}, headers=server)).json()
    me_server = emu.headers("server", access_token=tokens["access_token"])
    await c.get("/api/v1/users/me", headers=me_server)
    await c.patch("/api/v1/users/me", json={"client_read_only_metadata": {"r": 1}}, headers=me_server)

    client = emu.headers("client", access_token=tokens["access_token"])
    await c.get("/api/v1/users/me", headers=client)
    await c.patch("/api/v1/users/me", json={"display_name": "Walker 2"}, headers=client)
    await c.get("/api/v1/teams", params={"user_id": "me"}, headers=client)
    client_team = (await c.post("/api/v1/teams", json={"display_name": "Client team"}, headers=client)).json()
    await c.get(f"/api/v1/teams/{client_team['id']}", headers=client)
    await c.patch(f"/api/v1/teams/{client_team['id']}", json={"display_name": "Client team 2"}, headers=client)
    await c.get("/api/v1/team-permissions", params={"user_id": "me"}, headers=client)
    await c.get("/api/v1/auth/sessions", params={"user_id": "me"}, headers=client)
    current_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["refresh_token_id"]
    not_current = next(s for s in sessions["items"] if s["id"] != current_id)
    await c.delete(f"/api/v1/auth/sessions/{not_current['id']}", params={"user_id": "me"}, headers=client)
    await c.post(
        "/api/v1/auth/sessions/current/refresh", headers=emu.headers("client", refresh_token=tokens["refresh_token"])
    )
    await c.post(
        "/api/v1/auth/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": emu.project_id,
            "client_secret": emu.publishable_client_key,
        },
    )
    await c.post(
        "/api/v1/auth/password/sign-up",
        json={"email": "new@example.com", "password": "new-password"},
        headers=emu.headers("client"),
    )
    signed = (
        await c.post(
            "/api/v1/auth/password/sign-in",
            json={"email": "new@example.com", "password": "new-password"},
            headers=emu.headers("client"),
        )
    ).json()
    await c.get("/api/v1/projects/internal/.well-known/jwks.json")
    await _exercise_api_keys_and_oauth_providers(c, server, client, user["id"], team["id"])
    await c.delete(f"/api/v1/team-memberships/{client_team['id']}/me", headers=client)
    await c.delete(f"/api/v1/teams/{team['id']}", headers=client)
    await c.delete("/api/v1/auth/sessions/current", headers=client)
    await c.delete(f"/api/v1/teams/{client_team['id']}", headers=server)
    await c.delete("/api/v1/users/me", headers=emu.headers("client", access_token=signed["access_token"]))
    await c.delete(f"/api/v1/users/{other['id']}", headers=server)


async def _exercise_api_keys_and_oauth_providers(
    c: httpx.AsyncClient, server: dict[str, str], client: dict[str, str], user_id: str, team_id: str
) -> None:
    """Every API key and OAuth provider route (``client``: the headers of ``user_id``'s session)."""
    for kind, owner in (("user", user_id), ("team", team_id)):
        base = f"/api/v1/{kind}-api-keys"
        body = {f"{kind}_id": owner, "description": "walk", "expires_at_millis": None}
        key = (await c.post(base, json=body, headers=server)).json()
        query = {"team_id": team_id} if kind == "team" else {}
        await c.get(base, params={f"{kind}_id": owner}, headers=server)
        await c.get(f"{base}/{key['id']}", params=query, headers=server)
        await c.patch(f"{base}/{key['id']}", params=query, json={"description": "walked"}, headers=server)
        await c.post(f"{base}/check", json={"api_key": key["value"]}, headers=server)
        await c.patch(f"{base}/{key['id']}", params=query, json={"revoked": True}, headers=server)
    mine = {"user_id": "me", "description": "mine", "expires_at_millis": None}
    await c.post("/api/v1/user-api-keys", json=mine, headers=client)
    await c.get("/api/v1/user-api-keys", params={"user_id": "me"}, headers=client)
    link_body = {"user_id": user_id, "provider_config_id": "github", "account_id": "walk-gh", "email": "w@gh.example"}
    link = (
        await c.post(
            "/api/v1/oauth-providers",
            json={**link_body, "allow_sign_in": False, "allow_connected_accounts": True},
            headers=server,
        )
    ).json()
    path = f"/api/v1/oauth-providers/{user_id}/{link['id']}"
    for headers in (server, client):
        await c.get("/api/v1/oauth-providers", params={"user_id": user_id}, headers=headers)
        await c.get(path, headers=headers)
        await c.patch(path, json={"allow_connected_accounts": False}, headers=headers)
    await c.delete(path, headers=server)


async def test_every_answer_matches_the_openapi_response_schemas() -> None:
    folder = spec_dir()
    docs = {
        "server": load_document(folder / "openapi-server.json"),
        "client": load_document(folder / "openapi-client.json"),
    }
    emu = Emulator(seed=21)
    recorder = Recorder()
    async with client_for(emu, recorder) as c:
        await _exercise_every_route(emu, c)
    checked: set[tuple[str, str, str]] = set()
    problems: list[str] = []
    for rec in recorder.records:
        path = rec.path.removeprefix("/api/v1") or "/"
        found = ROUTER.match(rec.method, path)
        assert found is not None, rec.path
        template = found[0].template
        if not 200 <= rec.status < 300:
            problems.append(f"{rec.method} {rec.path}: unexpected {rec.status} {rec.body[:200]!r}")
            continue
        assert rec.headers["content-type"].startswith("application/json"), rec.path
        doc = docs["client" if rec.access_type == "client" else "server"]
        if template not in doc["paths"]:
            assert template in ("/projects/{project_id}/.well-known/jwks.json",), template
            continue
        assert str(rec.status) in doc["paths"][template][rec.method.lower()]["responses"], (rec.method, template)
        for error in validate_response(doc, rec.method, template, rec.status, json.loads(rec.body)):
            problems.append(f"{rec.access_type} {rec.method} {template}: {error}")
        checked.add((rec.access_type or "none", rec.method, template))
    assert not problems, "\n".join(problems)
    emulated = {
        (r.method, r.template) for routes in (ROUTER._static.values(), *ROUTER._dynamic.values()) for r in routes
    }
    covered = {(m, t) for _, m, t in checked} | {("GET", "/projects/{project_id}/.well-known/jwks.json"), ("GET", "/")}
    assert emulated <= covered, sorted(emulated - covered)


async def _sample_calls(emu: Emulator, c: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """The calls behind ``samples.json``, in the order they were recorded."""
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    # The seed script's admin (OAuth, no email, no team) and one more user, listed before the sample user.
    emu.create_user(
        display_name="Administrator (created by seed script)",
        personal_team=False,
        oauth_providers=[{"id": "github", "account_id": "admin@example.com", "email": None}],
    )
    emu.create_user(
        primary_email="check-1796034474162883562@example.com",
        primary_email_auth_enabled=True,
        password="check-password",
    )
    out["users.create (server)"] = r = await c.post(
        "/api/v1/users",
        headers=server,
        json={
            "primary_email": "sample-164024@example.com",
            "primary_email_auth_enabled": True,
            "password": "pw-sample-1",
            "display_name": "Sample User",
            "client_metadata": {"theme": "dark"},
            "server_metadata": {"plan": "pro"},
        },
    )
    user_id = r.json()["id"]
    out["users.get (server)"] = await c.get(f"/api/v1/users/{user_id}", headers=server)
    out["users.list (server, limit=2)"] = await c.get("/api/v1/users", params={"limit": "2"}, headers=server)
    out["users.list (server, query, no match)"] = await c.get(
        "/api/v1/users", params={"query": "no-such-user-164024"}, headers=server
    )
    out["users.update null display_name (server)"] = await c.patch(
        f"/api/v1/users/{user_id}", json={"display_name": None}, headers=server
    )
    out["error: users.get missing"] = await c.get(f"/api/v1/users/{SAMPLE_USER_MISSING}", headers=server)
    out["error: users.get not a uuid"] = await c.get("/api/v1/users/not-a-uuid", headers=server)
    out["error: users.create duplicate email"] = await c.post(
        "/api/v1/users",
        headers=server,
        json={"primary_email": "sample-164024@example.com", "primary_email_auth_enabled": True},
    )
    out["error: users.create bad body"] = await c.post(
        "/api/v1/users", headers=server, json={"display_name": {"x": 1}, "primary_email": "not-an-email"}
    )
    out["error: wrong secret key"] = await c.get(
        "/api/v1/users", headers={**server, "x-stack-secret-server-key": "wrong-key"}
    )
    out["error: missing access type"] = await c.get(
        "/api/v1/users", headers={k: v for k, v in server.items() if k != "x-stack-access-type"}
    )
    out["error: client access on server route"] = await c.get("/api/v1/users", headers=emu.headers("client"))
    out["error: unknown project"] = await c.get(
        "/api/v1/users", headers={**server, "x-stack-project-id": SAMPLE_PROJECT_MISSING}
    )
    out["error: override-error-status"] = await c.get(
        f"/api/v1/users/{SAMPLE_OVERRIDE_MISSING}", headers={**server, "x-stack-override-error-status": "true"}
    )
    out["teams.create (server)"] = r = await c.post(
        "/api/v1/teams", json={"display_name": "Sample Team", "server_metadata": {"tier": 1}}, headers=server
    )
    team_id = r.json()["id"]
    membership = f"/api/v1/team-memberships/{team_id}/{user_id}"
    out["team-memberships.add"] = await c.post(membership, json={}, headers=server)
    out["error: team-memberships.add duplicate"] = await c.post(membership, json={}, headers=server)
    out["teams.list by user (server)"] = await c.get("/api/v1/teams", params={"user_id": user_id}, headers=server)
    out["error: teams.get missing"] = await c.get(f"/api/v1/teams/{SAMPLE_TEAM_MISSING}", headers=server)
    out["sessions.create (server)"] = r = await c.post(
        "/api/v1/auth/sessions", json={"user_id": user_id}, headers=server
    )
    tokens = r.json()
    out["sessions.list (server)"] = await c.get("/api/v1/auth/sessions", params={"user_id": user_id}, headers=server)
    out["users.me (client, access token)"] = await c.get(
        "/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"])
    )
    out["users.me (server, access token)"] = await c.get(
        "/api/v1/users/me", headers=emu.headers("server", access_token=tokens["access_token"])
    )
    out["error: users.me (client, garbage token)"] = await c.get(
        "/api/v1/users/me", headers=emu.headers("client", access_token="garbage")
    )
    out["error: users.me (client, no token)"] = await c.get("/api/v1/users/me", headers=emu.headers("client"))
    grant = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
    }
    out["auth/oauth/token refresh grant"] = await c.post("/api/v1/auth/oauth/token", data=grant)
    out["auth/sessions/current/refresh"] = await c.post(
        "/api/v1/auth/sessions/current/refresh", headers=emu.headers("client", refresh_token=tokens["refresh_token"])
    )
    out["error: auth/oauth/token bad refresh token"] = await c.post(
        "/api/v1/auth/oauth/token", data={**grant, "refresh_token": "bad"}
    )
    out["jwks"] = await c.get("/api/v1/projects/internal/.well-known/jwks.json")
    out["teams.delete"] = await c.delete(f"/api/v1/teams/{team_id}", headers=server)
    out["users.delete"] = await c.delete(f"/api/v1/users/{user_id}", headers=server)
    return out


async def test_answers_match_the_real_samples() -> None:
    real = samples()
    emu = Emulator(seed=1, base_url="http://127.0.0.1:8102")
    async with client_for(emu) as c:
        answers = await _sample_calls(emu, c)
    problems: list[str] = []
    for name, sample in real.items():
        if "status" not in sample:
            continue
        assert name in answers, f"no emulator call for sample {name!r}"
        problems += sample_differences(name, sample, answers[name])
    assert not problems, "\n".join(problems)

    decoded = real["access token (decoded, not verified)"]
    token = answers["sessions.create (server)"].json()["access_token"]
    assert jwt.get_unverified_header(token).keys() == decoded["header"].keys()
    payload = jwt.decode(token, options={"verify_signature": False})
    assert list(payload) == list(decoded["payload"])
    assert not shape_differences(payload, decoded["payload"])
    assert payload["iss"] == decoded["payload"]["iss"]
    assert payload["aud"] == decoded["payload"]["aud"]
