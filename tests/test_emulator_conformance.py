"""The emulator against the real API: OpenAPI response schemas (types read as nullable) and recorded answers.

``shared/stack-api/real-samples/samples.json`` holds real answers of a real Stack backend; the same calls on the
emulator must give the same status, headers, keys, types and nulls (ids and times aside), and the same error texts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pyotp
import pytest

from stack_auth.testing import Emulator
from stack_auth.testing.app import ROUTER
from stack_auth.testing.openapi import load_document, shape_differences, validate_response

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import Recorder, client_for, samples, spec_dir
except ImportError:
    from emulator_helpers import Recorder, client_for, samples, spec_dir  # type: ignore[no-redef]

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
    await c.delete(f"/api/v1/team-memberships/{client_team['id']}/me", headers=client)
    await c.delete(f"/api/v1/teams/{team['id']}", headers=client)
    await c.delete("/api/v1/auth/sessions/current", headers=client)
    await c.delete(f"/api/v1/teams/{client_team['id']}", headers=server)
    await c.delete("/api/v1/users/me", headers=emu.headers("client", access_token=signed["access_token"]))
    await c.delete(f"/api/v1/users/{other['id']}", headers=server)


async def _walk_sign_in(emu: Emulator, c: httpx.AsyncClient) -> None:
    """Sign-in flows: password, reset, OTP, anonymous, MFA, CLI and OAuth, each route answering with success."""
    client = emu.headers("client")
    await c.post(
        "/api/v1/auth/password/sign-up", json={"email": "w@example.com", "password": "pw-walk-1"}, headers=client
    )
    signed = (
        await c.post(
            "/api/v1/auth/password/sign-in", json={"email": "w@example.com", "password": "pw-walk-1"}, headers=client
        )
    ).json()
    me = emu.headers("client", access_token=signed["access_token"], refresh_token=signed["refresh_token"])
    await c.post(
        "/api/v1/auth/password/update", json={"old_password": "pw-walk-1", "new_password": "pw-walk-2"}, headers=me
    )
    reset = {"email": "w@example.com", "callback_url": "http://localhost:3000/reset"}
    await c.post("/api/v1/auth/password/send-reset-code", json=reset, headers=client)
    code = emu.last_code("w@example.com")
    await c.post("/api/v1/auth/password/reset/check-code", json={"code": code}, headers=client)
    await c.post("/api/v1/auth/password/reset", json={"code": code, "password": "pw-walk-3"}, headers=client)
    otp = {"email": "o@example.com", "callback_url": "http://localhost:3000/magic"}
    await c.post("/api/v1/auth/otp/send-sign-in-code", json=otp, headers=client)
    code = emu.last_code("o@example.com")
    await c.post("/api/v1/auth/otp/sign-in/check-code", json={"code": code}, headers=client)
    new = (await c.post("/api/v1/auth/otp/sign-in", json={"code": code}, headers=client)).json()
    as_new = emu.headers("client", access_token=new["access_token"])
    await c.post("/api/v1/auth/password/set", json={"password": "pw-walk-4"}, headers=as_new)
    await c.post("/api/v1/auth/anonymous/sign-up", json={}, headers=client)
    secret = base64.b64encode(b"walk-totp-secret-20b").decode()
    await c.patch(f"/api/v1/users/{new['user_id']}", json={"totp_secret_base64": secret}, headers=emu.headers())
    async with client_for(emu) as quiet:  # the MFA refusal (a 400 by design) is checked in the wave-2 samples
        refused = await quiet.post(
            "/api/v1/auth/password/sign-in", json={"email": "o@example.com", "password": "pw-walk-4"}, headers=client
        )
    totp = pyotp.TOTP(base64.b32encode(base64.b64decode(secret)).decode()).now()
    mfa = {"type": "totp", "totp": totp, "code": refused.json()["details"]["attempt_code"]}
    await c.post("/api/v1/auth/mfa/sign-in", json=mfa, headers=client)
    cli = (await c.post("/api/v1/auth/cli", json={}, headers=client)).json()
    await c.post(
        "/api/v1/auth/cli/complete",
        json={"login_code": cli["login_code"], "refresh_token": signed["refresh_token"]},
        headers=emu.headers(),
    )
    await c.post("/api/v1/auth/cli/poll", json={"polling_code": cli["polling_code"]}, headers=client)
    verifier = "walk-verifier-" + "v" * 40
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
        "redirect_uri": "http://localhost:3000/oauth-callback",
        "scope": "legacy",
        "state": "walk-state",
        "grant_type": "authorization_code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
    }
    provider = (await c.get("/api/v1/auth/oauth/authorize/github", params=query)).headers["location"]
    callback = (await c.get(provider)).headers["location"]
    back = (await c.get(callback)).headers["location"]
    grant = {
        "grant_type": "authorization_code",
        "code": dict(parse_qsl(urlsplit(back).query))["code"],
        "redirect_uri": query["redirect_uri"],
        "code_verifier": verifier,
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
    }
    await c.post("/api/v1/auth/oauth/token", data=grant)


#: Routes Stack's OpenAPI documents leave out (their answers are still recorded and must succeed).
UNDOCUMENTED = ("/projects/{project_id}/.well-known/jwks.json", "/auth/oauth/callback/{provider_id}")


async def _walk_permissions(emu: Emulator, c: httpx.AsyncClient) -> None:
    """Project permissions: grant, list (server and client), revoke."""
    server = emu.headers("server")
    emu.define_permissions(project={"admin": [], "owner": ["admin"]})
    user = emu.create_user(display_name="Permitted")["id"]
    await c.post(f"/api/v1/project-permissions/{user}/owner", json={}, headers=server)
    await c.get("/api/v1/project-permissions", params={"user_id": user, "recursive": "true"}, headers=server)
    client = emu.headers("client", access_token=emu.create_session(user)["access_token"])
    await c.get("/api/v1/project-permissions", params={"user_id": "me"}, headers=client)
    await c.delete(f"/api/v1/project-permissions/{user}/owner", headers=server)


async def _walk_api_keys_and_oauth_providers(emu: Emulator, c: httpx.AsyncClient) -> None:
    """User and team API keys (create, list, read, rename, check, revoke; a client's own keys), then OAuth links."""
    server = emu.headers("server")
    user = emu.create_user(display_name="Key holder")["id"]
    team = emu.create_team("Key team", creator_user_id=user)["id"]
    client = emu.headers("client", access_token=emu.create_session(user)["access_token"])
    for kind, owner in (("user", user), ("team", team)):
        base = f"/api/v1/{kind}-api-keys"
        body = {f"{kind}_id": owner, "description": "walk", "expires_at_millis": None}
        key = (await c.post(base, json=body, headers=server)).json()
        query = {"team_id": team} if kind == "team" else {}
        await c.get(base, params={f"{kind}_id": owner}, headers=server)
        await c.get(f"{base}/{key['id']}", params=query, headers=server)
        await c.patch(f"{base}/{key['id']}", params=query, json={"description": "walked"}, headers=server)
        await c.post(f"{base}/check", json={"api_key": key["value"]}, headers=server)
        await c.patch(f"{base}/{key['id']}", params=query, json={"revoked": True}, headers=server)
    mine = {"user_id": "me", "description": "mine", "expires_at_millis": None}
    await c.post("/api/v1/user-api-keys", json=mine, headers=client)
    await c.get("/api/v1/user-api-keys", params={"user_id": "me"}, headers=client)
    link = {"user_id": user, "provider_config_id": "github", "account_id": "walk", "email": "w@gh.example"}
    flags = {"allow_sign_in": False, "allow_connected_accounts": True}
    created = (await c.post("/api/v1/oauth-providers", json={**link, **flags}, headers=server)).json()
    path = f"/api/v1/oauth-providers/{user}/{created['id']}"
    for headers in (server, client):
        await c.get("/api/v1/oauth-providers", params={"user_id": user}, headers=headers)
        await c.get(path, headers=headers)
        await c.patch(path, json={"allow_connected_accounts": False}, headers=headers)
    await c.delete(path, headers=server)


async def _walk_contact_channels(emu: Emulator, c: httpx.AsyncClient) -> None:
    """Contact channels: create, list, get, update, send a code, check and use it, delete."""
    server = emu.headers("server")
    user = emu.create_user(primary_email="walk-cc@example.com")["id"]
    client = emu.headers("client", access_token=emu.create_session(user)["access_token"])
    body = {"user_id": user, "type": "email", "value": "walk-cc2@example.com", "used_for_auth": False}
    channel = (await c.post("/api/v1/contact-channels", json=body, headers=server)).json()["id"]
    await c.get("/api/v1/contact-channels", params={"user_id": "me"}, headers=client)
    one = f"/api/v1/contact-channels/{user}/{channel}"
    await c.get(one, headers=server)
    await c.patch(one, json={"is_primary": True}, headers=server)
    await c.post(f"{one}/send-verification-code", json={"callback_url": "http://localhost:3000/v"}, headers=server)
    code = emu.last_code("walk-cc2@example.com")
    await c.post("/api/v1/contact-channels/verify/check-code", json={"code": code}, headers=client)
    await c.post("/api/v1/contact-channels/verify", json={"code": code}, headers=client)
    await c.delete(one, headers=server)


async def _walk_teams(emu: Emulator, c: httpx.AsyncClient) -> None:
    """Team invitations (send, list, check, details, accept, revoke), member profiles, the current project."""
    server = emu.headers("server")
    owner = emu.create_user(display_name="Owner")["id"]
    guest = emu.create_user(primary_email="guest@example.com", primary_email_verified=True)["id"]
    team = emu.create_team("Walk invitations", creator_user_id=owner)["id"]
    as_guest = emu.headers("client", access_token=emu.create_session(guest)["access_token"])
    join = {"team_id": team, "email": "guest@example.com", "callback_url": "http://localhost:3000/join"}
    await c.post("/api/v1/team-invitations/send-code", json=join, headers=server)
    await c.get("/api/v1/team-invitations", params={"team_id": team}, headers=server)
    await c.get("/api/v1/team-invitations", params={"user_id": "me"}, headers=as_guest)
    code = {"code": emu.last_code("guest@example.com", kind="team_invitation")}
    for path in ("accept/check-code", "accept/details", "accept"):
        await c.post(f"/api/v1/team-invitations/{path}", json=code, headers=as_guest)
    revoked = (await c.post("/api/v1/team-invitations/send-code", json=join, headers=server)).json()["id"]
    await c.delete(f"/api/v1/team-invitations/{revoked}", params={"team_id": team}, headers=server)
    await c.get("/api/v1/team-member-profiles", params={"team_id": team}, headers=server)
    await c.get("/api/v1/team-member-profiles", params={"team_id": team}, headers=as_guest)
    await c.get(f"/api/v1/team-member-profiles/{team}/{owner}", headers=server)
    await c.patch(f"/api/v1/team-member-profiles/{team}/me", json={"display_name": "G"}, headers=as_guest)
    await c.get("/api/v1/projects/current", headers=server)
    await c.get("/api/v1/projects/current", headers=emu.headers("client"))


async def _walk_emails_vault_payments(emu: Emulator, c: httpx.AsyncClient) -> None:
    """Emails, notification preferences, the data vault and payments items."""
    server = emu.headers("server")
    emu.configure_project(
        data_vault_stores=("secrets",),
        items={"credits": {"customer_type": "user", "display_name": "Credits"}},
        products={"pro": {"customer_type": "user", "display_name": "Pro"}},
    )
    user = emu.create_user(primary_email="walk-mail@example.com", display_name="Mailed")["id"]
    await c.post(
        "/api/v1/emails/send-email", json={"user_ids": [user], "subject": "s", "html": "<p>h</p>"}, headers=server
    )
    outbox = (await c.get("/api/v1/emails/outbox", params={"limit": "1"}, headers=server)).json()
    await c.get(f"/api/v1/emails/outbox/{outbox['items'][0]['id']}", headers=server)
    await c.get("/api/v1/emails/delivery-info", headers=server)
    prefs = (await c.get(f"/api/v1/emails/notification-preference/{user}", headers=server)).json()
    marketing = prefs["items"][1]["notification_category_id"]
    await c.patch(f"/api/v1/emails/notification-preference/{user}/{marketing}", json={"enabled": False}, headers=server)
    client = emu.headers("client", access_token=emu.create_session(user)["access_token"])
    await c.get("/api/v1/emails/notification-preference/me", headers=client)
    await c.patch(f"/api/v1/emails/notification-preference/me/{marketing}", json={"enabled": True}, headers=client)
    vault = "/api/v1/data-vault/stores/secrets"
    await c.post(f"{vault}/set", json={"hashed_key": "h", "encrypted_value": "e"}, headers=server)
    await c.post(f"{vault}/get", json={"hashed_key": "h"}, headers=server)
    item = f"/api/v1/payments/items/user/{user}/credits"
    await c.post(f"{item}/update-quantity", params={"allow_negative": "false"}, json={"delta": 3}, headers=server)
    await c.get(item, headers=server)
    await c.get(item, headers=client)
    purchase = {
        "customer_type": "user",
        "customer_id": user,
        "product_id": "pro",
        "return_url": "http://localhost:3000/x",
    }
    await c.post("/api/v1/payments/purchases/create-purchase-url", json=purchase, headers=server)
    await c.post("/api/v1/payments/purchases/create-purchase-url", json=purchase, headers=client)


#: Successful calls to the routes of each area added since ``_exercise_every_route`` (one function per area).
AREA_WALKS: list[Callable[[Emulator, httpx.AsyncClient], Awaitable[None]]] = [
    _walk_permissions,
    _walk_api_keys_and_oauth_providers,
    _walk_contact_channels,
    _walk_teams,
    _walk_sign_in,
    _walk_emails_vault_payments,
]


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
        for walk in AREA_WALKS:
            await walk(emu, c)
    checked: set[tuple[str, str, str]] = set()
    problems: list[str] = []
    for rec in recorder.records:
        if rec.path.startswith("/__emulator__/"):
            continue  # the emulated OAuth provider's page, not a Stack route
        path = rec.path.removeprefix("/api/v1") or "/"
        found = ROUTER.match(rec.method, path)
        assert found is not None, rec.path
        template = found[0].template
        if rec.status == 307 and "location" in rec.headers:  # OAuth redirects: no body to check
            checked.add((rec.access_type or "none", rec.method, template))
            continue
        if not 200 <= rec.status < 300:
            problems.append(f"{rec.method} {rec.path}: unexpected {rec.status} {rec.body[:200]!r}")
            continue
        assert rec.headers["content-type"].startswith("application/json"), rec.path
        doc = docs["client" if rec.access_type == "client" else "server"]
        if template not in doc["paths"]:
            assert template in UNDOCUMENTED, template
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


def _same_header(name: str, ours: str | None, real: str) -> bool:
    """Headers compare exactly, except a redirect's ``location``: the same query parameters (its values are random
    per sign-in, and its host is the real provider or the emulated one)."""
    if name != "location" or ours is None:
        return ours == real
    return [k for k, _ in parse_qsl(urlsplit(ours).query)] == [k for k, _ in parse_qsl(urlsplit(real).query)]


def _sample_differences(
    name: str, answer: httpx.Response, sample: dict[str, Any], ids: dict[str, str] | None = None
) -> list[str]:
    """How an emulator answer differs from a real one: status, headers, shape, and error texts and details.

    ``ids`` maps the emulator's ids to the real run's, so that error texts naming them can be compared.
    """
    if answer.status_code != sample["status"]:
        return [f"{name}: status {answer.status_code}, real {sample['status']}: {answer.text[:300]}"]
    problems = [
        f"{name}: header {header}={answer.headers.get(header)!r}, real {value!r}"
        for header, value in sample["headers"].items()
        if not _same_header(header, answer.headers.get(header), value)
    ]
    text = answer.text
    for ours, theirs in (ids or {}).items():
        text = text.replace(ours, theirs)
    if sample["status"] >= 500:  # the real backend's 500s name a random request id
        text, expected = (re.sub(r"Request ID: \w+", "Request ID: <id>", t) for t in (text, sample["body"]))
        return problems + ([] if text == expected else [f"{name}: text {text!r}, real {expected!r}"])
    if isinstance(sample["body"], str):  # a plain-text refusal
        return problems + ([] if text == sample["body"] else [f"{name}: text {text!r}, real {sample['body']!r}"])
    body = json.loads(text)
    problems += [f"{name}: {d}" for d in shape_differences(body, sample["body"])]
    if "code" in sample["body"]:
        if body.get("error") != sample["body"]["error"]:
            problems.append(f"{name}: error {body.get('error')!r}, real {sample['body']['error']!r}")
        if body.get("details") != sample["body"].get("details"):
            problems.append(f"{name}: details {body.get('details')!r}, real {sample['body'].get('details')!r}")
    return problems


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
        problems += _sample_differences(name, answers[name], sample)
    assert not problems, "\n".join(problems)

    decoded = real["access token (decoded, not verified)"]
    token = answers["sessions.create (server)"].json()["access_token"]
    assert jwt.get_unverified_header(token).keys() == decoded["header"].keys()
    payload = jwt.decode(token, options={"verify_signature": False})
    assert list(payload) == list(decoded["payload"])
    assert not shape_differences(payload, decoded["payload"])
    assert payload["iss"] == decoded["payload"]["iss"]
    assert payload["aud"] == decoded["payload"]["aud"]


# --- wave 2: samples-wave2.json -------------------------------------------------------------------------------------
#
# One function per area reproduces the calls behind that area's samples on a fresh emulator and returns the answers
# by sample name, plus the emulator's ids mapped to the real run's (error texts and details name them).

WaveCalls = Callable[[], Awaitable[tuple[dict[str, httpx.Response], dict[str, str]]]]

W2_RUN = "150221-60ee"  # the suffix of the wave-2 capture's emails (error texts and details show them)
W2_TOTP_SECRET = base64.b64encode(b"wave2-totp-secret-20").decode()
W2_BAD_CODES = {  # the deliberately wrong 45-character codes the capture sent
    "reset/check-code": "zze66caafba29b4efc994a022944579136d3bd08b75e7",
    "reset": "zzcc4c373b3c3a40379fa433a00902c2a9c838da1d45b",
    "otp/check-code": "zza9bc74182c0b4d9d890ba2097120d8ae33e36def1c4",
    "otp": "zz405e128e467d44a0be75ef60b84b6e856fdd956ed41",
    "mfa": "zz008418c8b411420ab7a958248621e163f4fcff5b14a",
}


def _w2_email(name: str) -> str:
    return f"{name}-{W2_RUN}@example.com"


def _authorize_params(emu: Emulator, **changes: str | None) -> dict[str, str]:
    """The query of the capture's ``/auth/oauth/authorize`` calls (``None`` leaves a parameter out)."""
    query: dict[str, str | None] = {
        "client_id": emu.project_id,
        "client_secret": emu.publishable_client_key,
        "redirect_uri": "http://localhost:3000/handler/oauth-callback",
        "scope": "legacy",
        "state": f"state-{W2_RUN}",
        "grant_type": "authorization_code",
        "code_challenge": "HFSDzY11ytLCRIWD4SmeP-4nytfVM1Rx40hrw2nU3uE",
        "code_challenge_method": "S256",
        "response_type": "code",
        "error_redirect_uri": "http://localhost:3000/handler/error",
        "after_callback_redirect_url": "http://localhost:3000/after",
        **changes,
    }
    return {k: v for k, v in query.items() if v is not None}


async def _wave2_sign_in() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = Emulator(seed=2, base_url="http://127.0.0.1:8102")
    server, client = emu.headers("server"), emu.headers("client")
    out: dict[str, httpx.Response] = {}
    dave, alice = _w2_email("dave"), _w2_email("alice")
    password, evil = "pw-wave2-dave", "https://evil.example.org"
    async with client_for(emu) as c:

        async def post(name: str, path: str, body: dict[str, Any], headers: dict[str, str] = client) -> Any:
            out[name] = r = await c.post(f"/api/v1{path}", json=body, headers=headers)
            return r.json() if r.headers.get("content-type", "").startswith("application/json") else None

        # password
        dave_tokens = await post(
            "auth/password/sign-up (client)", "/auth/password/sign-up", {"email": dave, "password": password}
        )
        await post(
            "error: auth/password/sign-up existing email",
            "/auth/password/sign-up",
            {"email": dave, "password": password},
        )
        await post(
            "error: auth/password/sign-up password too short",
            "/auth/password/sign-up",
            {"email": _w2_email("short"), "password": "short"},
        )
        await post(
            "error: auth/password/sign-up untrusted verification_callback_url",
            "/auth/password/sign-up",
            {"email": _w2_email("cb"), "password": password, "verification_callback_url": f"{evil}/verify"},
        )
        await post("auth/password/sign-in (client)", "/auth/password/sign-in", {"email": dave, "password": password})
        await post(
            "error: auth/password/sign-in wrong password",
            "/auth/password/sign-in",
            {"email": dave, "password": "wrong-password"},
        )
        await post(
            "error: auth/password/sign-in unknown email",
            "/auth/password/sign-in",
            {"email": _w2_email("nobody"), "password": password},
        )
        # With its refresh token, as the SDKs send it: a password change keeps that session (and ends the others).
        as_dave = emu.headers(
            "client", access_token=dave_tokens["access_token"], refresh_token=dave_tokens["refresh_token"]
        )
        change = {"old_password": password, "new_password": password + "-2"}
        await post("auth/password/update (client)", "/auth/password/update", change, as_dave)
        await post("error: auth/password/update wrong old password", "/auth/password/update", change, as_dave)
        await post("error: auth/password/update signed out", "/auth/password/update", change)
        bob = emu.create_user(primary_email=_w2_email("bob"), primary_email_auth_enabled=True)["id"]
        as_bob = emu.headers("client", access_token=emu.create_session(bob)["access_token"])
        await post("error: auth/password/update user without password", "/auth/password/update", change, as_bob)
        await post("auth/password/set (client)", "/auth/password/set", {"password": password}, as_bob)
        await post(
            "error: auth/password/set user already has a password", "/auth/password/set", {"password": password}, as_bob
        )
        reset_url = "http://localhost:3000/handler/password-reset"
        await post(
            "auth/password/send-reset-code (client)",
            "/auth/password/send-reset-code",
            {"email": dave, "callback_url": reset_url},
        )
        await post(
            "auth/password/send-reset-code unknown email (client)",
            "/auth/password/send-reset-code",
            {"email": _w2_email("nobody"), "callback_url": reset_url},
        )
        await post(
            "error: auth/password/send-reset-code untrusted callback_url",
            "/auth/password/send-reset-code",
            {"email": dave, "callback_url": f"{evil}/reset"},
        )
        await post(
            "error: auth/password/reset/check-code bad code",
            "/auth/password/reset/check-code",
            {"code": W2_BAD_CODES["reset/check-code"]},
        )
        await post(
            "error: auth/password/reset bad code",
            "/auth/password/reset",
            {"code": W2_BAD_CODES["reset"], "password": password},
        )

        # one-time codes
        magic = "http://localhost:3000/handler/magic-link-callback"
        emu.create_user(primary_email=alice, primary_email_verified=True, primary_email_auth_enabled=True)
        sent = await post(
            "auth/otp/send-sign-in-code new email (client)",
            "/auth/otp/send-sign-in-code",
            {"email": _w2_email("frank"), "callback_url": magic},
        )
        await post(
            "auth/otp/send-sign-in-code verified existing email (client)",
            "/auth/otp/send-sign-in-code",
            {"email": alice, "callback_url": magic},
        )
        await post(
            "error: auth/otp/send-sign-in-code unverified existing email",
            "/auth/otp/send-sign-in-code",
            {"email": dave, "callback_url": magic},
        )
        await post(
            "error: auth/otp/sign-in/check-code bad code",
            "/auth/otp/sign-in/check-code",
            {"code": W2_BAD_CODES["otp/check-code"]},
        )
        await post("error: auth/otp/sign-in bad code", "/auth/otp/sign-in", {"code": W2_BAD_CODES["otp"]})
        wrong = next(d for d in ("000000", "111111") if not emu.last_code(_w2_email("frank")).startswith(d))
        await post(
            "error: auth/otp/sign-in wrong 6 digits + real nonce", "/auth/otp/sign-in", {"code": wrong + sent["nonce"]}
        )

        # anonymous users and their upgrade
        anon = await post("auth/anonymous/sign-up (client)", "/auth/anonymous/sign-up", {})
        as_anon = emu.headers("client", access_token=anon["access_token"])
        out["error: users.me anonymous without x-stack-allow-anonymous-user (client)"] = await c.get(
            "/api/v1/users/me", headers=as_anon
        )
        allow = {**as_anon, "x-stack-allow-anonymous-user": "true"}
        out["users.me anonymous (client, x-stack-allow-anonymous-user)"] = await c.get(
            "/api/v1/users/me", headers=allow
        )
        out["users.get anonymous (server)"] = await c.get(f"/api/v1/users/{anon['user_id']}", headers=server)
        upgraded = await post(
            "auth/password/sign-up while signed in as anonymous (client, upgrade)",
            "/auth/password/sign-up",
            {"email": _w2_email("upgraded"), "password": password},
            allow,
        )
        out["users.me after anonymous upgrade (client)"] = await c.get(
            "/api/v1/users/me", headers=emu.headers("client", access_token=upgraded["access_token"])
        )

        # TOTP MFA
        grace = _w2_email("grace")
        created = await post(
            "users.create with password and totp_secret_base64 (server)",
            "/users",
            {
                "primary_email": grace,
                "primary_email_auth_enabled": True,
                "display_name": "Grace",
                "password": password,
                "totp_secret_base64": W2_TOTP_SECRET,
            },
            server,
        )
        out["users.update totp_secret_base64 (server)"] = await c.patch(
            f"/api/v1/users/{created['id']}", json={"totp_secret_base64": W2_TOTP_SECRET}, headers=server
        )
        refused = await post(
            "error: auth/password/sign-in MFA required",
            "/auth/password/sign-in",
            {"email": grace, "password": password},
        )
        attempt = refused["details"]["attempt_code"]
        totp = pyotp.TOTP(base64.b32encode(base64.b64decode(W2_TOTP_SECRET)).decode())
        right = totp.now()
        wrong_totp = f"{(int(right) + 500_000) % 1_000_000:06d}"
        await post(
            "error: auth/mfa/sign-in wrong TOTP",
            "/auth/mfa/sign-in",
            {"type": "totp", "totp": wrong_totp, "code": attempt},
        )
        await post(
            "auth/mfa/sign-in correct TOTP (client)",
            "/auth/mfa/sign-in",
            {"type": "totp", "totp": right, "code": attempt},
        )
        await post(
            "error: auth/mfa/sign-in attempt code already used",
            "/auth/mfa/sign-in",
            {"type": "totp", "totp": right, "code": attempt},
        )
        await post(
            "error: auth/mfa/sign-in bad attempt code",
            "/auth/mfa/sign-in",
            {"type": "totp", "totp": "123456", "code": W2_BAD_CODES["mfa"]},
        )

        # CLI login
        cli = await post("auth/cli (client)", "/auth/cli", {})
        polling, login = {"polling_code": cli["polling_code"]}, {"login_code": cli["login_code"]}
        await post("auth/cli/poll waiting (client)", "/auth/cli/poll", polling)
        await post("auth/cli/complete mode=check (client)", "/auth/cli/complete", {**login, "mode": "check"})
        await post("error: auth/cli/complete without refresh_token", "/auth/cli/complete", login)
        await post(
            "error: auth/cli/complete unknown refresh_token", "/auth/cli/complete", {**login, "refresh_token": "x" * 45}
        )
        await post(
            "error: auth/cli/complete mode=claim-anon-session without anonymous session",
            "/auth/cli/complete",
            {**login, "mode": "claim-anon-session"},
        )
        browser = {**login, "refresh_token": dave_tokens["refresh_token"]}
        await post("auth/cli/complete (client, browser session's refresh token)", "/auth/cli/complete", browser)
        await post("error: auth/cli/complete login code already completed", "/auth/cli/complete", browser)
        await post("auth/cli/poll success (client)", "/auth/cli/poll", polling)
        await post("auth/cli/poll used (client)", "/auth/cli/poll", polling)
        tiny = await post("auth/cli tiny expires_in_millis (client)", "/auth/cli", {"expires_in_millis": 1})
        emu.advance_time(1)
        await post("auth/cli/poll expired (client)", "/auth/cli/poll", {"polling_code": tiny["polling_code"]})
        await post(
            "error: auth/cli/complete expired login code",
            "/auth/cli/complete",
            {"login_code": tiny["login_code"], "refresh_token": dave_tokens["refresh_token"]},
        )
        await post("error: auth/cli/poll unknown polling code", "/auth/cli/poll", {"polling_code": "x" * 45})
        await post("error: auth/cli expires_in_millis over 24 h", "/auth/cli", {"expires_in_millis": 86400001})
        fresh_anon = (await c.post("/api/v1/auth/anonymous/sign-up", json={}, headers=client)).json()
        with_anon = await post(
            "auth/cli with anon_refresh_token (client)",
            "/auth/cli",
            {"anon_refresh_token": fresh_anon["refresh_token"]},
        )
        anon_login = {"login_code": with_anon["login_code"]}
        await post(
            "auth/cli/complete mode=check, anonymous session (client)",
            "/auth/cli/complete",
            {**anon_login, "mode": "check"},
        )
        await post(
            "auth/cli/complete mode=claim-anon-session (client)",
            "/auth/cli/complete",
            {**anon_login, "mode": "claim-anon-session"},
        )
        await post(
            "error: auth/cli anon_refresh_token of a non-anonymous user",
            "/auth/cli",
            {"anon_refresh_token": dave_tokens["refresh_token"]},
        )
        await post("error: auth/cli unknown anon_refresh_token", "/auth/cli", {"anon_refresh_token": "x" * 45})

        # OAuth
        authorize = "/api/v1/auth/oauth/authorize"
        out["auth/oauth/authorize github (redirect)"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu)
        )
        out["auth/oauth/authorize github stack_response_mode=json"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu, stack_response_mode="json")
        )
        out["error: auth/oauth/authorize unknown provider"] = await c.get(
            f"{authorize}/nope", params=_authorize_params(emu)
        )
        out["error: auth/oauth/authorize wrong publishable key"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu, client_secret="wrong-key")
        )
        out["error: auth/oauth/authorize missing code_challenge"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu, code_challenge=None)
        )
        out["error: auth/oauth/authorize provider_scope with shared keys (google)"] = await c.get(
            f"{authorize}/google",
            params=_authorize_params(emu, provider_scope="https://www.googleapis.com/auth/drive.readonly"),
        )
        out["error: auth/oauth/authorize type=link without token"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu, type="link")
        )
        out["error: auth/oauth/authorize untrusted after_callback_redirect_url"] = await c.get(
            f"{authorize}/github", params=_authorize_params(emu, after_callback_redirect_url=f"{evil}/after")
        )
        grant = {
            "grant_type": "authorization_code",
            "code": "not-a-real-authorization-code",
            "redirect_uri": "http://localhost:3000/handler/oauth-callback",
            "code_verifier": "z90fvljtt2f7z0Nj5PAR44YkYMt6ZnRARGmh09qdZB8",
            "client_id": emu.project_id,
            "client_secret": emu.publishable_client_key,
        }
        token = "/api/v1/auth/oauth/token"
        out["error: auth/oauth/token invalid authorization_code"] = await c.post(token, data=grant)
        out["error: auth/oauth/token wrong client_secret"] = await c.post(
            token, data={**grant, "client_secret": "wrong-key"}
        )
        out["error: auth/oauth/token unsupported grant_type"] = await c.post(
            token,
            data={"grant_type": "password", "client_id": emu.project_id, "client_secret": emu.publishable_client_key},
        )
    # The capture replaced secrets by placeholders; the attempt code shows in an error's details.
    return out, {attempt: "<attempt_code>"}


W2_CREATOR = "746ad539-fd0d-42cc-95b2-6282e84170c6"
W2_MEMBER = "4d152eaf-d9cc-4b34-aca8-0b412507c5f8"
W2_OUTSIDER = "50cdd797-82af-41fe-bab8-06ae2be23b0e"
W2_TEAM = "090ae400-6a90-45e6-9c0c-6489163047d5"
W2_MISSING = "d26c85f6-6b54-4f4c-bd4f-82eb27725631"
W2_CHANNEL = "379b8e23-99a0-427f-bb14-fd298a8baead"
W2_BOB_CHANNEL = "25a2a2c8-5eab-4878-956d-d16af00c887e"


def _wave2_emulator() -> Emulator:
    """An emulator set up as the wave-2 capture set up project ``internal`` (its seeded team permissions too)."""
    return Emulator(
        seed=2,
        base_url="http://127.0.0.1:8102",
        seeded_permissions=True,
        team_permissions={"read_secrets": [], "manage_secrets": ["read_secrets"]},
        project_permissions={"admin": []},
    )


async def _wave2_permissions() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    async with client_for(emu) as c:
        creator, member, outsider = (
            emu.create_user(primary_email=f"{n}@example.com", primary_email_auth_enabled=True)["id"]
            for n in ("creator", "member", "outsider")
        )
        team = emu.create_team("Wave 2", creator_user_id=creator)["id"]
        emu.add_team_member(team, member)
        as_creator = emu.headers("client", access_token=emu.create_session(creator)["access_token"])
        as_member = emu.headers("client", access_token=emu.create_session(member)["access_token"])
        pp = "/api/v1/project-permissions"
        out["project-permissions.list by user, none yet (server)"] = await c.get(
            pp, params={"user_id": creator}, headers=server
        )
        out["project-permissions.grant (server)"] = await c.post(f"{pp}/{creator}/admin", json={}, headers=server)
        out["project-permissions.grant again (server)"] = await c.post(f"{pp}/{creator}/admin", json={}, headers=server)
        for name, extra in (
            ("project-permissions.list by user (server)", {}),
            ("project-permissions.list by user and permission_id (server)", {"permission_id": "admin"}),
            ("project-permissions.list by user, recursive (server)", {"recursive": "true"}),
            ("project-permissions.list unknown permission_id filter (server)", {"permission_id": "no_such_permission"}),
        ):
            out[name] = await c.get(pp, params={"user_id": creator, **extra}, headers=server)
        out["project-permissions.list me (client)"] = await c.get(pp, params={"user_id": "me"}, headers=as_creator)
        out["error: project-permissions.list other user (client)"] = await c.get(
            pp, params={"user_id": member}, headers=as_creator
        )
        out["error: project-permissions.list without user (client)"] = await c.get(
            pp, params={"user_id": "me"}, headers=emu.headers("client")
        )
        out["error: project-permissions.grant unknown permission"] = await c.post(
            f"{pp}/{creator}/no_such_permission", json={}, headers=server
        )
        out["error: project-permissions.grant team-scoped permission"] = await c.post(
            f"{pp}/{creator}/read_secrets", json={}, headers=server
        )
        out["error: project-permissions.grant missing user"] = await c.post(
            f"{pp}/{W2_MISSING}/admin", json={}, headers=server
        )
        out["error: project-permissions.grant (client)"] = await c.post(
            f"{pp}/{creator}/admin", json={}, headers=as_creator
        )
        out["project-permissions.revoke (server)"] = await c.delete(f"{pp}/{creator}/admin", headers=server)
        out["error: project-permissions.revoke not granted"] = await c.delete(f"{pp}/{creator}/admin", headers=server)

        tp = "/api/v1/team-permissions"
        for who, uid in (("team creator", creator), ("plain member", member)):
            out[f"team-permissions.list {who}, direct (server)"] = await c.get(
                tp, params={"team_id": team, "user_id": uid}, headers=server
            )
            out[f"team-permissions.list {who}, recursive (server)"] = await c.get(
                tp, params={"team_id": team, "user_id": uid, "recursive": "true"}, headers=server
            )
        grant = f"{tp}/{team}/{member}"
        out["team-permissions.grant custom (server)"] = await c.post(f"{grant}/manage_secrets", json={}, headers=server)
        out["team-permissions.grant custom again (server)"] = await c.post(
            f"{grant}/manage_secrets", json={}, headers=server
        )
        out["team-permissions.grant system permission (server)"] = await c.post(
            f"{grant}/$invite_members", json={}, headers=server
        )
        contained = {"team_id": team, "user_id": member, "permission_id": "read_secrets"}
        out["team-permissions.list contained permission, direct (server)"] = await c.get(
            tp, params=contained, headers=server
        )
        out["team-permissions.list contained permission, recursive (server)"] = await c.get(
            tp, params={**contained, "recursive": "true"}, headers=server
        )
        out["team-permissions.list whole team (server)"] = await c.get(tp, params={"team_id": team}, headers=server)
        out["team-permissions.list me, recursive (client)"] = await c.get(
            tp, params={"team_id": team, "user_id": "me", "recursive": "true"}, headers=as_member
        )
        out["error: team-permissions.list other user (client)"] = await c.get(
            tp, params={"team_id": team, "user_id": creator}, headers=as_member
        )
        out["error: team-permissions.grant unknown permission"] = await c.post(
            f"{grant}/no_such_permission", json={}, headers=server
        )
        out["error: team-permissions.grant project-scoped permission"] = await c.post(
            f"{grant}/admin", json={}, headers=server
        )
        out["error: team-permissions.grant user not in team"] = await c.post(
            f"{tp}/{team}/{outsider}/read_secrets", json={}, headers=server
        )
        out["error: team-permissions.grant missing team"] = await c.post(
            f"{tp}/{W2_MISSING}/{member}/read_secrets", json={}, headers=server
        )
        out["team-permissions.revoke (server)"] = await c.delete(f"{grant}/manage_secrets", headers=server)
        out["error: team-permissions.revoke not granted"] = await c.delete(f"{grant}/manage_secrets", headers=server)
    ids = {creator: W2_CREATOR, member: W2_MEMBER, outsider: W2_OUTSIDER, team: W2_TEAM}
    return out, ids


W2_LINK = "44c5101c-850d-4731-b4f9-78ac26baf564"
W2_USER_PUBLIC_KEY = "b1628457-c8e8-456c-9ab9-331b188c6cba"
W2_TEAM_PUBLIC_KEY = "37794593-936e-4a6a-ac9a-a229c15fa85e"


async def _wave2_oauth_providers(
    emu: Emulator, c: httpx.AsyncClient, alice: str, bob: str
) -> tuple[dict[str, httpx.Response], str]:
    """The OAuth provider calls (Alice links GitHub; Bob tries her account id); returns the link's id too."""
    server = emu.headers("server")
    client = emu.headers("client", access_token=emu.create_session(alice)["access_token"])
    out: dict[str, httpx.Response] = {}
    op = "/api/v1/oauth-providers"
    gh = {"provider_config_id": "github", "account_id": "gh-150221-60ee"}
    sign_in = {"allow_sign_in": True, "allow_connected_accounts": True}
    no_sign_in = {"allow_sign_in": False, "allow_connected_accounts": True}
    email = {"email": "alice-gh-150221-60ee@example.com"}
    out["oauth-providers.create (server)"] = r = await c.post(
        op, json={"user_id": alice, **gh, **email, **sign_in}, headers=server
    )
    link = r.json()["id"]
    path = f"{op}/{alice}/{link}"
    out["oauth-providers.list by user (server)"] = await c.get(op, params={"user_id": alice}, headers=server)
    out["oauth-providers.list me (client)"] = await c.get(op, params={"user_id": "me"}, headers=client)
    out["oauth-providers.get (server)"] = await c.get(path, headers=server)
    out["users.get with an OAuth provider (server)"] = await c.get(f"/api/v1/users/{alice}", headers=server)
    out["oauth-providers.update (server)"] = await c.patch(
        path, json={"allow_connected_accounts": False, "email": "alice-gh2-150221-60ee@example.com"}, headers=server
    )
    out["oauth-providers.update me (client)"] = await c.patch(
        f"{op}/me/{link}", json={"allow_connected_accounts": True}, headers=client
    )
    out["error: oauth-providers.create account_id already used for sign-in"] = await c.post(
        op, json={"user_id": bob, **gh, **sign_in}, headers=server
    )
    out["oauth-providers.create same account_id without sign-in (server)"] = await c.post(
        op, json={"user_id": bob, **gh, **no_sign_in}, headers=server
    )
    out["error: oauth-providers.create second sign-in provider of same type for user"] = await c.post(
        op,
        json={"user_id": alice, **gh, "account_id": "gh-150221-60ee-2", **sign_in, "allow_connected_accounts": False},
        headers=server,
    )
    out["error: oauth-providers.create unknown provider_config_id"] = await c.post(
        op, json={"user_id": alice, **gh, "provider_config_id": "gitlab-nope", **no_sign_in}, headers=server
    )
    out["error: oauth-providers.create (client)"] = await c.post(
        op, json={"user_id": alice, **gh, "account_id": "gh-150221-60ee-3", **no_sign_in}, headers=client
    )
    out["error: oauth-providers.get with the wrong user"] = await c.get(f"{op}/{bob}/{link}", headers=server)
    out["oauth-providers.delete (server)"] = await c.delete(path, headers=server)
    out["error: oauth-providers.get after delete"] = await c.get(path, headers=server)
    return out, link


async def _wave2_key_calls(
    emu: Emulator, c: httpx.AsyncClient, kind: str, owner: str
) -> tuple[dict[str, httpx.Response], dict[str, str]]:
    """The calls of one kind of API key; returns the secret of its live public key and that key's id too."""
    server = emu.headers("server")
    base = f"/api/v1/{kind}-api-keys"
    query = {"team_id": owner} if kind == "team" else {}
    now_ms = int(emu.now() * 1000)
    out: dict[str, httpx.Response] = {}

    async def create(name: str, **body: object) -> dict[str, str]:
        out[name] = r = await c.post(base, json={f"{kind}_id": owner, **body}, headers=server)
        return dict(r.json())

    async def check(name: str, secret: str) -> None:
        out[name] = await c.post(f"{base}/check", json={"api_key": secret}, headers=server)

    plain = await create(
        f"{kind}-api-keys.create no expiry (server)", description=f"{kind} key without expiry", expires_at_millis=None
    )
    public = await create(
        f"{kind}-api-keys.create public with expiry (server)",
        description=f"{kind} public key",
        expires_at_millis=now_ms + 30 * 86_400_000,
        is_public=True,
    )
    expired = await create(
        f"{kind}-api-keys.create already expired (server)",
        description=f"{kind} expired key",
        expires_at_millis=now_ms - 60_000,
    )
    await create(f"error: {kind}-api-keys.create without expires_at_millis", description="x")
    out[f"{kind}-api-keys.list (server)"] = await c.get(base, params={f"{kind}_id": owner}, headers=server)
    out[f"{kind}-api-keys.get (server)"] = await c.get(f"{base}/{plain['id']}", params=query, headers=server)
    out[f"error: {kind}-api-keys.get missing"] = await c.get(f"{base}/{W2_MISSING}", params=query, headers=server)
    out[f"{kind}-api-keys.update description (server)"] = await c.patch(
        f"{base}/{plain['id']}", params=query, json={"description": f"renamed {kind} key"}, headers=server
    )
    await check(f"{kind}-api-keys.check valid", plain["value"])
    await check(f"{kind}-api-keys.check valid public key", public["value"])
    for again in ("", " again"):
        out[f"{kind}-api-keys.update revoked=true{again} (server)"] = await c.patch(
            f"{base}/{plain['id']}", params=query, json={"revoked": True}, headers=server
        )
    out[f"error: {kind}-api-keys.update revoked=false"] = await c.patch(
        f"{base}/{public['id']}", params=query, json={"revoked": False}, headers=server
    )
    await check(f"error: {kind}-api-keys.check revoked", plain["value"])
    await check(f"error: {kind}-api-keys.check expired", expired["value"])
    await check(f"error: {kind}-api-keys.check garbage", "not-a-real-api-key")
    out[f"error: {kind}-api-keys.check (client)"] = await c.post(
        f"{base}/check", json={"api_key": "not-a-real-api-key"}, headers=emu.headers("client")
    )
    return out, {"secret": public["value"], "id": public["id"]}


async def _wave2_api_keys_and_oauth_providers() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_emulator()
    server = emu.headers("server")
    async with client_for(emu) as c:
        alice, bob = (
            emu.create_user(display_name=n, primary_email=f"{n}@example.com", primary_email_auth_enabled=True)["id"]
            for n in ("Alice", "Bob")
        )
        team = emu.create_team("Wave 2", creator_user_id=alice)["id"]
        emu.add_team_member(team, bob)
        out, link = await _wave2_oauth_providers(emu, c, alice, bob)
        user_calls, user_key = await _wave2_key_calls(emu, c, "user", alice)
        team_calls, team_key = await _wave2_key_calls(emu, c, "team", team)
        out |= user_calls | team_calls
        out["error: user-api-keys.check team key"] = await c.post(
            "/api/v1/user-api-keys/check", json={"api_key": team_key["secret"]}, headers=server
        )
        out["error: team-api-keys.check user key"] = await c.post(
            "/api/v1/team-api-keys/check", json={"api_key": user_key["secret"]}, headers=server
        )
        # Alice created the team: in project `internal` that gives no $manage_api_keys.
        as_alice = emu.headers("client", access_token=emu.create_session(alice)["access_token"])
        out["user-api-keys.create me (client)"] = await c.post(
            "/api/v1/user-api-keys",
            json={"user_id": "me", "description": "created by the user", "expires_at_millis": None},
            headers=as_alice,
        )
        out["user-api-keys.list me (client)"] = await c.get(
            "/api/v1/user-api-keys", params={"user_id": "me"}, headers=as_alice
        )
        out["error: user-api-keys.list another user (client)"] = await c.get(
            "/api/v1/user-api-keys", params={"user_id": bob}, headers=as_alice
        )
        out["error: team-api-keys.list without $manage_api_keys (client)"] = await c.get(
            "/api/v1/team-api-keys", params={"team_id": team}, headers=as_alice
        )
        out["error: team-api-keys.list without team_id (server)"] = await c.get("/api/v1/team-api-keys", headers=server)
        out["error: team-api-keys.get without team_id query (server)"] = await c.get(
            f"/api/v1/team-api-keys/{team_key['id']}", headers=server
        )
    ids = {
        alice: W2_CREATOR,
        bob: W2_MEMBER,
        team: W2_TEAM,
        link: W2_LINK,
        user_key["id"]: W2_USER_PUBLIC_KEY,
        team_key["id"]: W2_TEAM_PUBLIC_KEY,
    }
    return out, ids


async def _wave2_contact_channels() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    cc = "/api/v1/contact-channels"
    verify_url = "http://localhost:3000/handler/email-verification"
    alice_email = "alice-150221-60ee@example.com"
    async with client_for(emu) as c:
        alice = emu.create_user(primary_email=alice_email, primary_email_verified=True, primary_email_auth_enabled=True)
        bob = emu.create_user(primary_email="bob-150221-60ee@example.com", primary_email_auth_enabled=True)
        as_alice = emu.headers("client", access_token=emu.create_session(alice["id"])["access_token"])
        as_bob = emu.headers("client", access_token=emu.create_session(bob["id"])["access_token"])
        work = {"type": "email", "value": "alice-work-150221-60ee@example.com", "used_for_auth": False}
        out["contact-channels.create (server)"] = r = await c.post(
            cc, json={"user_id": alice["id"], **work, "is_verified": False}, headers=server
        )
        channel = r.json()["id"]
        out["contact-channels.create me (client)"] = r = await c.post(
            cc,
            json={
                "user_id": "me",
                "type": "email",
                "value": "bob-work-150221-60ee@example.com",
                "used_for_auth": False,
            },
            headers=as_bob,
        )
        bob_channel = r.json()["id"]
        out["contact-channels.list by user (server)"] = await c.get(cc, params={"user_id": alice["id"]}, headers=server)
        out["contact-channels.list me (client)"] = await c.get(cc, params={"user_id": "me"}, headers=as_alice)
        one = f"{cc}/{alice['id']}/{channel}"
        out["contact-channels.get (server)"] = await c.get(one, headers=server)
        callback = {"callback_url": verify_url}
        out["contact-channels.send-verification-code (server)"] = await c.post(
            f"{one}/send-verification-code", json=callback, headers=server
        )
        out["contact-channels.send-verification-code me (client)"] = await c.post(
            f"{cc}/me/{channel}/send-verification-code", json=callback, headers=as_alice
        )
        out["error: contact-channels.send-verification-code untrusted callback_url"] = await c.post(
            f"{one}/send-verification-code",
            json={"callback_url": "https://evil.example.org/handler/email-verification"},
            headers=server,
        )
        client = emu.headers("client")
        out["error: contact-channels.verify bad code (client)"] = await c.post(
            f"{cc}/verify", json={"code": "zz011346b784504f3f8386ac89ffb06418500fc9b3422"}, headers=client
        )
        out["error: contact-channels.verify/check-code bad code (client)"] = await c.post(
            f"{cc}/verify/check-code", json={"code": "zz11e26e55c3c143ea95d427d70b611cb05f2ee1875e6"}, headers=client
        )
        out["error: contact-channels.verify code of wrong length (client)"] = await c.post(
            f"{cc}/verify", json={"code": "abc123"}, headers=client
        )
        out["contact-channels.update value (server)"] = await c.patch(
            one, json={"value": "alice-work2-150221-60ee@example.com"}, headers=server
        )
        out["contact-channels.update me, used_for_auth (client)"] = await c.patch(
            f"{cc}/me/{channel}", json={"used_for_auth": True}, headers=as_alice
        )
        out["error: contact-channels.update is_verified (client)"] = await c.patch(
            f"{cc}/me/{channel}", json={"is_verified": True}, headers=as_alice
        )
        out["contact-channels.update is_verified (server)"] = await c.patch(
            one, json={"is_verified": True}, headers=server
        )
        out["error: contact-channels.send-verification-code already verified"] = await c.post(
            f"{one}/send-verification-code", json=callback, headers=server
        )
        out["error: contact-channels.create used_for_auth email of another user"] = await c.post(
            cc,
            json={"user_id": bob["id"], "type": "email", "value": alice_email, "used_for_auth": True},
            headers=server,
        )
        out["error: contact-channels.create same channel twice"] = await c.post(
            cc,
            json={"user_id": alice["id"], "type": "email", "value": alice_email, "used_for_auth": False},
            headers=server,
        )
        out["error: contact-channels.create bad type"] = await c.post(
            cc,
            json={"user_id": alice["id"], "type": "phone", "value": "+15555550100", "used_for_auth": False},
            headers=server,
        )
        out["error: contact-channels.create for another user (client)"] = await c.post(
            cc,
            json={"user_id": bob["id"], "type": "email", "value": "x-150221-60ee@example.com", "used_for_auth": False},
            headers=as_alice,
        )
        out["error: contact-channels.get missing"] = await c.get(f"{cc}/{alice['id']}/{W2_MISSING}", headers=server)
        out["error: contact-channels.get of another user's channel id"] = await c.get(
            f"{cc}/{bob['id']}/{channel}", headers=server
        )
        out["contact-channels.delete (server)"] = await c.delete(one, headers=server)
        out["error: contact-channels.delete again"] = await c.delete(one, headers=server)
    ids = {alice["id"]: W2_CREATOR, bob["id"]: W2_MEMBER, channel: W2_CHANNEL, bob_channel: W2_BOB_CHANNEL}
    return out, ids


async def _wave2_teams() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    """Team invitations, member profiles, and the current project."""
    emu = _wave2_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    ti = "/api/v1/team-invitations"
    mp = "/api/v1/team-member-profiles"
    join = "http://localhost:3000/handler/team-invitation"
    async with client_for(emu) as c:
        alice, bob, outsider = (
            emu.create_user(
                display_name=name,
                primary_email=f"{name.lower()}@example.com",
                primary_email_verified=True,
                primary_email_auth_enabled=True,
                password="a-password",
            )["id"]
            for name in ("Alice", "Bob", "Carol")
        )
        team = emu.create_team("Secrets Team 150221-60ee", creator_user_id=alice)["id"]
        emu.add_team_member(team, bob)
        as_alice, as_bob, as_carol = (
            emu.headers("client", access_token=emu.create_session(u)["access_token"]) for u in (alice, bob, outsider)
        )
        invite = {"team_id": team, "email": "invitee-150221-60ee@example.com", "callback_url": join}
        out["team-invitations.send-code (server)"] = r = await c.post(f"{ti}/send-code", json=invite, headers=server)
        invitation = r.json()["id"]
        out["team-invitations.list by team (server)"] = await c.get(ti, params={"team_id": team}, headers=server)
        out["error: team-invitations.list by team without $invite_members (client)"] = await c.get(
            ti, params={"team_id": team}, headers=as_alice
        )
        out["error: team-invitations.send-code without $invite_members (client)"] = await c.post(
            f"{ti}/send-code", json={**invite, "email": "invitee2-150221-60ee@example.com"}, headers=as_alice
        )
        out["error: team-invitations.send-code missing team"] = await c.post(
            f"{ti}/send-code", json={**invite, "team_id": W2_MISSING}, headers=server
        )
        out["error: team-invitations.list without team_id or user_id"] = await c.get(ti, headers=server)
        out["team-invitations.delete (server)"] = await c.delete(
            f"{ti}/{invitation}", params={"team_id": team}, headers=server
        )
        out["team-invitations.list by team after delete (server)"] = await c.get(
            ti, params={"team_id": team}, headers=server
        )
        out["error: team-invitations.delete without team_id"] = await c.delete(f"{ti}/{invitation}", headers=server)
        await c.post(f"{ti}/send-code", json={**invite, "email": "carol@example.com"}, headers=server)
        out["team-invitations.list by recipient user (server)"] = await c.get(
            ti, params={"user_id": outsider}, headers=server
        )
        out["team-invitations.list me as recipient (client)"] = await c.get(
            ti, params={"user_id": "me"}, headers=as_carol
        )
        bad = "zz8783de0d6e594d09902f5287e7658211ab45fda71a9"
        for name, path, headers in (
            ("error: team-invitations.accept/details bad code (client)", "accept/details", as_carol),
            ("error: team-invitations.accept/check-code bad code (client)", "accept/check-code", as_carol),
            ("error: team-invitations.accept bad code (client)", "accept", as_carol),
            ("error: team-invitations.accept bad code, signed out (client)", "accept", emu.headers("client")),
        ):
            out[name] = await c.post(f"{ti}/{path}", json={"code": bad}, headers=headers)

        out["team-member-profiles.list by team (server)"] = await c.get(mp, params={"team_id": team}, headers=server)
        out["team-member-profiles.list by user (server)"] = await c.get(mp, params={"user_id": alice}, headers=server)
        out["team-member-profiles.get (server)"] = await c.get(f"{mp}/{team}/{alice}", headers=server)
        out["team-member-profiles.update (server)"] = await c.patch(
            f"{mp}/{team}/{alice}", json={"display_name": "Alice (Secrets Team)"}, headers=server
        )
        out["team-member-profiles.list by team (client, member with $read_members)"] = await c.get(
            mp, params={"team_id": team}, headers=as_bob
        )
        out["team-member-profiles.get me (client)"] = await c.get(f"{mp}/{team}/me", headers=as_bob)
        out["team-member-profiles.update me (client)"] = await c.patch(
            f"{mp}/{team}/me", json={"display_name": "Bobby"}, headers=as_bob
        )
        out["error: team-member-profiles.update another member (client)"] = await c.patch(
            f"{mp}/{team}/{alice}", json={"display_name": "x"}, headers=as_bob
        )
        out["error: team-member-profiles.list without team_id (client)"] = await c.get(mp, headers=as_bob)
        out["error: team-member-profiles.get non-member"] = await c.get(f"{mp}/{team}/{outsider}", headers=server)
        out["error: team-member-profiles.get missing user"] = await c.get(f"{mp}/{team}/{W2_MISSING}", headers=server)

        emu.configure_project(
            allow_user_api_keys=True,
            allow_team_api_keys=True,
            client_team_creation_enabled=True,
            enabled_oauth_providers=("github", "google", "microsoft", "spotify"),
        )
        out["projects.current (server)"] = await c.get("/api/v1/projects/current", headers=server)
        out["projects.current (client)"] = await c.get("/api/v1/projects/current", headers=emu.headers("client"))
    ids = {alice: W2_CREATOR, bob: W2_MEMBER, outsider: W2_OUTSIDER, team: W2_TEAM}
    return out, ids


#: Samples of owned areas the emulator does not reproduce, and why.
def _wave2_commerce_emulator() -> Emulator:
    """An emulator configured as the wave-2 capture configured project ``internal`` for these areas."""
    return Emulator(
        seed=3,
        base_url="http://127.0.0.1:8102",
        data_vault_stores=["secrets"],
        items={"credits": {"customer_type": "user", "display_name": "Credits"}},
        products={"credits-pack": {"customer_type": "user", "display_name": "Credits Pack"}},
    )


async def _wave2_emails() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_commerce_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    async with client_for(emu) as c:
        creator, member = (
            emu.create_user(primary_email=f"{n}@example.com", primary_email_auth_enabled=True)["id"]
            for n in ("creator", "member")
        )
        as_creator = emu.headers("client", access_token=emu.create_session(creator)["access_token"])
        send = "/api/v1/emails/send-email"
        emu.configure_project(email_server="shared")
        out["error: emails.send-email with the shared email server"] = await c.post(
            send, json={"user_ids": [creator], "html": "<p>Hello</p>", "subject": "Hello"}, headers=server
        )
        emu.configure_project(email_server="custom")
        # The real outbox held a mail from before the capture, so its first page of 3 had a next page.
        await c.post(send, json={"user_ids": [member], "html": "<p>Earlier</p>", "subject": "Earlier"}, headers=server)
        out["emails.send-email html (server)"] = await c.post(
            send,
            json={"user_ids": [creator, member], "html": "<p>Hello from wave 2</p>", "subject": "Hi"},
            headers=server,
        )
        news = {"user_ids": [creator], "html": "<p>News</p>", "subject": "News"}
        out["emails.send-email with notification_category_name (server)"] = await c.post(
            send, json={**news, "notification_category_name": "Marketing"}, headers=server
        )
        out["error: emails.send-email unknown notification_category_name"] = await c.post(
            send, json={**news, "notification_category_name": "Nope"}, headers=server
        )
        out["error: emails.send-email unknown user id"] = await c.post(
            send, json={**news, "user_ids": [W2_MISSING]}, headers=server
        )
        out["error: emails.send-email both user_ids and all_users"] = await c.post(
            send, json={**news, "all_users": True}, headers=server
        )
        out["error: emails.send-email no content"] = await c.post(
            send, json={"user_ids": [creator], "subject": "x"}, headers=server
        )
        out["error: emails.send-email (client)"] = await c.post(send, json=news, headers=as_creator)
        outbox = "/api/v1/emails/outbox"
        out["emails.outbox.list limit=3 (server)"] = r = await c.get(outbox, params={"limit": "3"}, headers=server)
        out["emails.outbox.get (server)"] = await c.get(f"{outbox}/{r.json()['items'][0]['id']}", headers=server)
        out["error: emails.outbox.get missing"] = await c.get(f"{outbox}/{W2_MISSING}", headers=server)
        out["error: emails.outbox.list limit over 100"] = await c.get(outbox, params={"limit": "1000"}, headers=server)
        out["emails.delivery-info (server)"] = await c.get("/api/v1/emails/delivery-info", headers=server)
        prefs = f"/api/v1/emails/notification-preference/{creator}"
        out["emails.notification-preference.list (server)"] = r = await c.get(prefs, headers=server)
        transactional, marketing = (item["notification_category_id"] for item in r.json()["items"])
        off = {"enabled": False}
        out["emails.notification-preference.update marketing off (server)"] = await c.patch(
            f"{prefs}/{marketing}", json=off, headers=server
        )
        out["emails.notification-preference.update transactional off (server)"] = await c.patch(
            f"{prefs}/{transactional}", json=off, headers=server
        )
        out["error: emails.notification-preference.update unknown category"] = await c.patch(
            f"{prefs}/{W2_MISSING}", json=off, headers=server
        )
        mine = "/api/v1/emails/notification-preference/me"
        out["emails.notification-preference.list me (client)"] = await c.get(mine, headers=as_creator)
        out["emails.notification-preference.update me (client)"] = await c.patch(
            f"{mine}/{marketing}", json={"enabled": True}, headers=as_creator
        )
        out["error: emails.notification-preference.list another user (client)"] = await c.get(
            f"/api/v1/emails/notification-preference/{member}", headers=as_creator
        )
    return out, {creator: W2_CREATOR, member: W2_MEMBER}


async def _wave2_data_vault() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_commerce_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    real = samples("samples-wave2.json")
    async with client_for(emu) as c:
        user = emu.create_user(display_name="Vault user")["id"]
        as_user = emu.headers("client", access_token=emu.create_session(user)["access_token"])
        for name in (
            "error: data-vault.get missing key",
            "error: data-vault.get unknown store",
            "error: data-vault.set unknown store",
            "error: data-vault.set empty hashed_key",
            "error: data-vault.get (client)",
        ):
            method, path = real[name]["request"].split(" ", 1)
            headers = as_user if "(client)" in name else server
            out[name] = await c.request(method, path, json=real[name]["request_body"], headers=headers)
    return out, {}


async def _wave2_payments() -> tuple[dict[str, httpx.Response], dict[str, str]]:
    emu = _wave2_commerce_emulator()
    server = emu.headers("server")
    out: dict[str, httpx.Response] = {}
    async with client_for(emu) as c:
        creator, member = (emu.create_user(display_name=n)["id"] for n in ("creator", "member"))
        team = emu.create_team("Wave 2", creator_user_id=creator)["id"]
        as_creator = emu.headers("client", access_token=emu.create_session(creator)["access_token"])
        items = f"/api/v1/payments/items/user/{creator}"
        out["payments.items.get fresh user (server)"] = await c.get(f"{items}/credits", headers=server)
        # The capture granted a product including 100 credits (a hidden route); the same balance, by update-quantity:
        await c.post(
            f"{items}/credits/update-quantity", params={"allow_negative": "false"}, json={"delta": 100}, headers=server
        )
        out["payments.items.get after product grant (server)"] = await c.get(f"{items}/credits", headers=server)
        out["payments.items.get own (client)"] = await c.get(f"{items}/credits", headers=as_creator)
        out["error: payments.items.update-quantity without allow_negative"] = await c.post(
            f"{items}/credits/update-quantity", json={"delta": 1}, headers=server
        )
        out["error: payments.items.update-quantity (client)"] = await c.post(
            f"{items}/credits/update-quantity",
            params={"allow_negative": "false"},
            json={"delta": 1},
            headers=as_creator,
        )
        out["error: payments.items.get unknown item"] = await c.get(f"{items}/no-such-item", headers=server)
        out["error: payments.items.get customer type mismatch"] = await c.get(
            f"/api/v1/payments/items/team/{team}/credits", headers=server
        )
        out["error: payments.items.get missing user"] = await c.get(
            f"/api/v1/payments/items/user/{W2_MISSING}/credits", headers=server
        )
        out["error: payments.items.get another user (client)"] = await c.get(
            f"/api/v1/payments/items/user/{member}/credits", headers=as_creator
        )
    return out, {creator: W2_CREATOR, member: W2_MEMBER, team: W2_TEAM}


WAVE2_NOT_EMULATED = {
    "error: team-invitations.accept by id (server)": "undocumented route; it answered 500 on project internal",
    # The backend's setup failed these (WAVE2-NOTES.md); the emulator follows the Stack source for them instead, and
    # test_data_vault.py / test_payments.py check those answers.
    "error: data-vault.set (server)": "500: no KMS for the vault on that backend",
    "error: payments.items.update-quantity +10 (server)": "500: $replica inside a transaction",
    "error: payments.items.update-quantity would go negative": "500: $replica inside a transaction",
    "error: payments.items.update-quantity -1000 allow_negative=true (server)": "500: $replica inside a transaction",
    "error: payments.purchases.create-purchase-url (server)": "400: Stripe not onboarded",
    "error: payments.purchases.create-purchase-url (client)": "400: Stripe not onboarded",
    "error: payments.purchases.create-purchase-url unknown product": "400: Stripe not onboarded",
    "payments.products.grant credits-pack (server, hidden route)": "hidden route, not emulated",
}

#: Each area's calls and the sample-name prefixes it owns (every sample under them must be reproduced).
WAVE2_AREAS: list[tuple[WaveCalls, tuple[str, ...]]] = [
    (_wave2_permissions, ("project-permissions.", "team-permissions.")),
    (_wave2_contact_channels, ("contact-channels.",)),
    (_wave2_teams, ("team-invitations.", "team-member-profiles.", "projects.current")),
    (
        _wave2_api_keys_and_oauth_providers,
        ("oauth-providers.", "user-api-keys.", "team-api-keys.", "users.get with an OAuth provider"),
    ),
    (_wave2_sign_in, ("auth/",)),
    (_wave2_emails, ("emails.",)),
    (_wave2_data_vault, ("data-vault.",)),
    (_wave2_payments, ("payments.",)),
]


async def test_answers_match_the_real_wave2_samples() -> None:
    real = samples("samples-wave2.json")
    problems: list[str] = []
    for calls, prefixes in WAVE2_AREAS:
        answers, ids = await calls()
        owned = {n for n in real if n.removeprefix("error: ").startswith(prefixes)} - set(WAVE2_NOT_EMULATED)
        assert owned <= set(answers), f"no emulator call for samples {sorted(owned - set(answers))}"
        for name, answer in answers.items():
            problems += _sample_differences(name, answer, real[name], ids)
    assert not problems, "\n".join(problems)
