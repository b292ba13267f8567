"""Behaviour of the emulated routes: users, pagination, teams, memberships, permissions, sessions, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import jwt
import pytest

from stack_auth.testing import Emulator

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for, known_error, new_user, sign_in
except ImportError:
    from emulator_helpers import client_for, known_error, new_user, sign_in  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed=7)


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(emu) as c:
        yield c


# --- users ---------------------------------------------------------------------------------------------------------


async def test_create_answers_201_without_the_personal_team_that_a_later_read_shows(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    created = await new_user(
        client,
        emu,
        primary_email="Ann@Example.com",
        primary_email_auth_enabled=True,
        display_name="Ann",
        password="secret-pass",
    )
    assert created["selected_team"] is None
    assert created["selected_team_id"] is None
    assert created["primary_email"] == "ann@example.com"
    assert created["has_password"] is True
    assert created["auth_with_email"] is True
    r = await client.get(f"/api/v1/users/{created['id']}", headers=emu.headers())
    assert r.status_code == 200
    team = r.json()["selected_team"]
    assert team["display_name"] == "Ann's Team"
    assert r.json()["selected_team_id"] == team["id"]
    assert r.headers["cache-control"] == "no-store, max-age=0"


async def test_personal_team_can_be_switched_off(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.configure_project(create_personal_team=False)
    user = await new_user(client, emu, display_name="Solo")
    assert emu.get_user(user["id"])["selected_team"] is None  # type: ignore[index]
    assert emu.teams() == []


async def test_patch_absent_leaves_alone_null_clears(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="Bob", client_metadata={"a": 1}, server_metadata={"s": 2})
    url = f"/api/v1/users/{user['id']}"
    r = await client.patch(url, json={"display_name": None}, headers=emu.headers())
    assert r.status_code == 200
    body = r.json()
    assert body["display_name"] is None
    assert body["client_metadata"] == {"a": 1}
    assert body["server_metadata"] == {"s": 2}
    r = await client.patch(
        url, json={"client_metadata": None, "primary_email": "bob@example.com"}, headers=emu.headers()
    )
    assert r.json()["client_metadata"] is None
    assert r.json()["primary_email"] == "bob@example.com"
    r = await client.patch(url, json={"primary_email": None}, headers=emu.headers())
    assert r.json()["primary_email"] is None
    assert r.json()["primary_email_auth_enabled"] is False


async def test_patch_email_conflict_changes_nothing(emu: Emulator, client: httpx.AsyncClient) -> None:
    await new_user(client, emu, primary_email="taken@example.com", primary_email_auth_enabled=True)
    other = await new_user(client, emu, display_name="Other")
    r = await client.patch(
        f"/api/v1/users/{other['id']}",
        json={"display_name": "New", "primary_email": "taken@example.com", "primary_email_auth_enabled": True},
        headers=emu.headers(),
    )
    assert known_error(r)[:2] == (409, "USER_EMAIL_ALREADY_EXISTS")
    assert emu.get_user(other["id"])["display_name"] == "Other"  # type: ignore[index]


async def test_same_email_allowed_when_not_used_for_auth(emu: Emulator, client: httpx.AsyncClient) -> None:
    await new_user(client, emu, primary_email="shared@example.com")
    await new_user(client, emu, primary_email="shared@example.com")
    assert emu.emails().count("shared@example.com") == 2


async def test_delete_user_removes_memberships_and_sessions(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="Gone")
    tokens = await sign_in(client, emu, user["id"])
    r = await client.delete(f"/api/v1/users/{user['id']}", headers=emu.headers())
    assert (r.status_code, r.json()) == (200, {"success": True})
    assert emu.sessions(user["id"]) == []
    team_id = emu.teams()[0]["id"]
    assert emu.team_members(team_id) == []
    r = await client.post(
        "/api/v1/auth/sessions/current/refresh", headers=emu.headers("client", refresh_token=tokens["refresh_token"])
    )
    assert known_error(r)[1] == "REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED"


async def test_users_me_client_and_server_views(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="Me", server_metadata={"secret": True})
    tokens = await sign_in(client, emu, user["id"])
    r = await client.get("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))
    assert r.status_code == 200
    client_view = r.json()
    assert "server_metadata" not in client_view
    assert "created_at_millis" not in client_view["selected_team"]
    r = await client.get("/api/v1/users/me", headers=emu.headers("server", access_token=tokens["access_token"]))
    assert r.json()["server_metadata"] == {"secret": True}
    r = await client.patch(
        "/api/v1/users/me",
        json={"server_metadata": {}},
        headers=emu.headers("client", access_token=tokens["access_token"]),
    )
    assert known_error(r)[2]["error"].endswith("body contains unknown properties: server_metadata")
    r = await client.patch(
        "/api/v1/users/me",
        json={"display_name": "Renamed"},
        headers=emu.headers("client", access_token=tokens["access_token"]),
    )
    assert r.json()["display_name"] == "Renamed"
    r = await client.delete("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/plain")
    emu.configure_project(client_user_deletion_enabled=True)
    r = await client.delete("/api/v1/users/me", headers=emu.headers("client", access_token=tokens["access_token"]))
    assert r.status_code == 200
    assert emu.user_count() == 0


async def test_selected_team_must_be_a_membership(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="Sel")
    team = emu.create_team("Other team")
    url = f"/api/v1/users/{user['id']}"
    r = await client.patch(url, json={"selected_team_id": team["id"]}, headers=emu.headers())
    assert known_error(r)[1] == "TEAM_MEMBERSHIP_NOT_FOUND"
    emu.add_team_member(team["id"], user["id"])
    r = await client.patch(url, json={"selected_team_id": team["id"]}, headers=emu.headers())
    assert r.json()["selected_team"]["display_name"] == "Other team"
    r = await client.patch(url, json={"selected_team_id": None}, headers=emu.headers())
    assert r.json()["selected_team"] is None


async def test_concurrent_creates_with_the_same_email_exactly_one_wins(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    body = {"primary_email": "race@example.com", "primary_email_auth_enabled": True, "password": "pw-123456"}
    statuses: list[int] = []

    async def create() -> None:
        statuses.append((await client.post("/api/v1/users", json=body, headers=emu.headers())).status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(create)
    statuses.sort()
    assert statuses == [201] + [409] * 19
    assert emu.emails().count("race@example.com") == 1
    assert emu.stats.count("POST /users") == 20


# --- pagination ----------------------------------------------------------------------------------------------------


async def _page(client: httpx.AsyncClient, emu: Emulator, **params: str) -> tuple[list[str], str | None]:
    r = await client.get("/api/v1/users", params=params, headers=emu.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["is_paginated"] is True
    return [u["id"] for u in body["items"]], body["pagination"]["next_cursor"]


async def test_pagination_empty_exact_and_partial_pages(emu: Emulator, client: httpx.AsyncClient) -> None:
    assert await _page(client, emu) == ([], None)
    assert await _page(client, emu, limit="2") == ([], None)
    ids = [(await new_user(client, emu, display_name=f"U{i}"))["id"] for i in range(3)]
    expected = [u["id"] for u in emu.users()]
    assert sorted(ids) == sorted(expected)
    assert await _page(client, emu, limit="3") == (expected, None)  # exact page size: no next page
    first, cursor = await _page(client, emu, limit="2")
    assert first == expected[:2]
    assert cursor == expected[2]
    assert await _page(client, emu, limit="2", cursor=cursor) == (expected[2:], None)
    assert await _page(client, emu) == (expected, None)  # no limit: everything, like Stack


async def test_pagination_desc_and_cursor_of_a_deleted_user(emu: Emulator, client: httpx.AsyncClient) -> None:
    for i in range(4):
        await new_user(client, emu, display_name=f"D{i}")
    expected = [u["id"] for u in emu.users()]
    page, cursor = await _page(client, emu, limit="2", desc="true")
    assert page == expected[::-1][:2]
    assert cursor == expected[1]
    await client.delete(f"/api/v1/users/{cursor}", headers=emu.headers())
    # Prisma cursor semantics: a cursor naming a row that no longer exists yields an empty page.
    assert await _page(client, emu, limit="2", cursor=str(cursor)) == ([], None)


async def test_list_filters_query_team_and_anonymous(emu: Emulator, client: httpx.AsyncClient) -> None:
    alice = await new_user(client, emu, display_name="Alice Liddell", primary_email="alice@wonder.land")
    bob = await new_user(client, emu, display_name="Bob", primary_email="bob@example.com")
    ghost = await new_user(client, emu, is_anonymous=True)
    assert (await _page(client, emu, query="LIDDELL"))[0] == [alice["id"]]
    assert (await _page(client, emu, query="example.com"))[0] == [bob["id"]]
    assert (await _page(client, emu, query=bob["id"]))[0] == [bob["id"]]
    assert (await _page(client, emu, query="nobody"))[0] == []
    assert ghost["id"] not in (await _page(client, emu))[0]
    assert ghost["id"] in (await _page(client, emu, include_anonymous="true"))[0]
    team = emu.create_team("T", creator_user_id=bob["id"])
    assert (await _page(client, emu, team_id=team["id"]))[0] == [bob["id"]]


# --- teams, memberships, permissions ---------------------------------------------------------------------------------


async def test_team_crud_and_memberships(emu: Emulator, client: httpx.AsyncClient) -> None:
    owner = await new_user(client, emu, display_name="Owner")
    member = await new_user(client, emu, display_name="Member")
    r = await client.post(
        "/api/v1/teams",
        json={"display_name": "Crew", "creator_user_id": owner["id"], "server_metadata": {"tier": 1}},
        headers=emu.headers(),
    )
    assert r.status_code == 201
    team = r.json()
    assert team["server_metadata"] == {"tier": 1}
    assert team["client_metadata"] is None
    url = f"/api/v1/team-memberships/{team['id']}/{member['id']}"
    r = await client.post(url, json={}, headers=emu.headers())
    assert (r.status_code, r.json()) == (201, {"team_id": team["id"], "user_id": member["id"]})
    assert known_error(await client.post(url, json={}, headers=emu.headers()))[1] == "TEAM_MEMBERSHIP_ALREADY_EXISTS"
    r = await client.get("/api/v1/users", params={"team_id": team["id"]}, headers=emu.headers())
    assert {u["id"] for u in r.json()["items"]} == {owner["id"], member["id"]}
    r = await client.get("/api/v1/teams", params={"user_id": member["id"]}, headers=emu.headers())
    assert r.json()["is_paginated"] is False
    assert [t["display_name"] for t in r.json()["items"]] == ["Member's Team", "Crew"]
    r = await client.patch(f"/api/v1/teams/{team['id']}", json={"display_name": "Crew 2"}, headers=emu.headers())
    assert r.json()["display_name"] == "Crew 2"
    r = await client.delete(url, headers=emu.headers())
    assert r.json() == {"success": True}
    assert known_error(await client.delete(url, headers=emu.headers()))[1] == "TEAM_MEMBERSHIP_NOT_FOUND"
    r = await client.delete(f"/api/v1/teams/{team['id']}", headers=emu.headers())
    assert r.json() == {"success": True}
    r = await client.get(f"/api/v1/teams/{team['id']}", headers=emu.headers())
    assert known_error(r)[:2] == (404, "TEAM_NOT_FOUND")


async def test_team_permissions(emu: Emulator, client: httpx.AsyncClient) -> None:
    owner = await new_user(client, emu, display_name="O")
    member = await new_user(client, emu, display_name="M")
    team = emu.create_team("P", creator_user_id=owner["id"])
    emu.add_team_member(team["id"], member["id"])
    r = await client.get("/api/v1/team-permissions", params={"team_id": team["id"]}, headers=emu.headers())
    assert r.json()["is_paginated"] is False
    direct = {(p["user_id"], p["id"]) for p in r.json()["items"]}
    assert direct == {(owner["id"], "team_admin"), (member["id"], "team_member")}
    r = await client.get(
        "/api/v1/team-permissions",
        headers=emu.headers(),
        params={"team_id": team["id"], "user_id": member["id"], "recursive": "true"},
    )
    assert {p["id"] for p in r.json()["items"]} == {"team_member", "$read_members", "$invite_members"}
    grant = f"/api/v1/team-permissions/{team['id']}/{member['id']}/$update_team"
    r = await client.post(grant, json={}, headers=emu.headers())
    assert (r.status_code, r.json()) == (201, {"id": "$update_team", "user_id": member["id"], "team_id": team["id"]})
    r = await client.delete(grant, headers=emu.headers())
    assert r.json() == {"success": True}
    assert known_error(await client.delete(grant, headers=emu.headers()))[1] == "TEAM_PERMISSION_NOT_FOUND"
    r = await client.post(f"/api/v1/team-permissions/{team['id']}/{member['id']}/nope", json={}, headers=emu.headers())
    assert known_error(r)[:2] == (404, "PERMISSION_NOT_FOUND")


async def test_client_team_access_rules(emu: Emulator, client: httpx.AsyncClient) -> None:
    owner = await new_user(client, emu, display_name="Own")
    member = await new_user(client, emu, display_name="Mem")
    team = emu.create_team("C", creator_user_id=owner["id"])
    emu.add_team_member(team["id"], member["id"])
    member_headers = emu.headers("client", access_token=(await sign_in(client, emu, member["id"]))["access_token"])
    owner_headers = emu.headers("client", access_token=(await sign_in(client, emu, owner["id"]))["access_token"])
    r = await client.get("/api/v1/teams", params={"user_id": "me"}, headers=member_headers)
    assert [t["display_name"] for t in r.json()["items"]] == ["Mem's Team", "C"]
    assert "server_metadata" not in r.json()["items"][0]
    r = await client.get("/api/v1/teams", params={"user_id": owner["id"]}, headers=member_headers)
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/teams/{team['id']}", json={"display_name": "X"}, headers=member_headers)
    assert known_error(r)[1] == "TEAM_PERMISSION_REQUIRED"
    r = await client.patch(f"/api/v1/teams/{team['id']}", json={"display_name": "X"}, headers=owner_headers)
    assert r.json()["display_name"] == "X"
    r = await client.delete(f"/api/v1/team-memberships/{team['id']}/{owner['id']}", headers=member_headers)
    assert known_error(r)[1] == "TEAM_PERMISSION_REQUIRED"
    r = await client.delete(f"/api/v1/team-memberships/{team['id']}/me", headers=member_headers)
    assert r.json() == {"success": True}  # leaving is always allowed
    r = await client.post("/api/v1/teams", json={"display_name": "Mine"}, headers=owner_headers)
    assert r.status_code == 403
    emu.configure_project(client_team_creation_enabled=True)
    r = await client.post("/api/v1/teams", json={"display_name": "Mine"}, headers=owner_headers)
    assert r.status_code == 201
    assert set(r.json()) == {"id", "display_name", "profile_image_url", "client_metadata", "client_read_only_metadata"}
    assert owner["id"] in emu.team_members(r.json()["id"])


# --- sessions and tokens -------------------------------------------------------------------------------------------


async def test_access_token_is_a_verifiable_es256_jwt(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, primary_email="jwt@example.com", display_name="J")
    tokens = await sign_in(client, emu, user["id"])
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256"
    assert "typ" not in header
    r = await client.get("/api/v1/projects/internal/.well-known/jwks.json")
    assert r.headers["cache-control"] == "public, max-age=3600"
    keys = {k["kid"]: k for k in r.json()["keys"]}
    key = jwt.PyJWK(keys[header["kid"]])
    claims = jwt.decode(
        tokens["access_token"],
        key,
        algorithms=["ES256"],
        audience="internal",
        issuer="http://testserver/api/v1/projects/internal",
    )
    assert claims["sub"] == user["id"]
    assert claims["email"] == "jwt@example.com"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["role"] == "authenticated"
    assert claims["branch_id"] == "main"


async def test_anonymous_users_get_anonymous_tokens(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, is_anonymous=True)
    tokens = await sign_in(client, emu, user["id"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "internal:anon"
    assert claims["iss"] == "http://testserver/api/v1/projects-anonymous-users/internal"
    r = await client.get("/api/v1/projects/internal/.well-known/jwks.json", params={"include_anonymous": "true"})
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] in {k["kid"] for k in r.json()["keys"]}
    headers = {**emu.headers("client", access_token=tokens["access_token"]), "x-stack-allow-anonymous-user": "true"}
    r = await client.get("/api/v1/users/me", headers=headers)
    assert r.json()["is_anonymous"] is True
    assert r.json()["restricted_reason"] == {"type": "anonymous"}


async def test_token_lifetime_expiry_and_refresh() -> None:
    emu = Emulator(seed=3, access_token_lifetime=30)
    async with client_for(emu) as c:
        user = await new_user(c, emu, display_name="T")
        tokens = await sign_in(c, emu, user["id"])
        me = emu.headers("client", access_token=tokens["access_token"])
        assert (await c.get("/api/v1/users/me", headers=me)).status_code == 200
        emu.advance_time(31)
        status, code, body = known_error(await c.get("/api/v1/users/me", headers=me))
        assert (status, code) == (401, "ACCESS_TOKEN_EXPIRED")
        assert body["details"]["user_id"] == user["id"]
        r = await c.post(
            "/api/v1/auth/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": emu.project_id,
                "client_secret": emu.publishable_client_key,
            },
        )
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert "refresh_token" not in r.json()
        fresh = emu.headers("client", access_token=r.json()["access_token"])
        assert (await c.get("/api/v1/users/me", headers=fresh)).status_code == 200
        r = await c.post(
            "/api/v1/auth/sessions/current/refresh",
            headers=emu.headers("client", refresh_token=tokens["refresh_token"]),
        )
        assert set(r.json()) == {"access_token"}


async def test_sessions_list_revoke_and_sign_out(emu: Emulator, client: httpx.AsyncClient) -> None:
    user = await new_user(client, emu, display_name="S")
    one = await sign_in(client, emu, user["id"])
    two = await sign_in(client, emu, user["id"])
    me_one = emu.headers("client", access_token=one["access_token"])
    r = await client.get("/api/v1/auth/sessions", params={"user_id": "me"}, headers=me_one)
    items = r.json()["items"]
    assert r.json()["is_paginated"] is False
    assert len(items) == 2
    current = [s for s in items if s["is_current_session"]]
    other = [s for s in items if not s["is_current_session"]]
    assert len(current) == 1
    assert len(other) == 1
    r = await client.delete(f"/api/v1/auth/sessions/{current[0]['id']}", params={"user_id": "me"}, headers=me_one)
    assert known_error(r)[1] == "CANNOT_DELETE_CURRENT_SESSION"
    r = await client.delete(f"/api/v1/auth/sessions/{other[0]['id']}", params={"user_id": "me"}, headers=me_one)
    assert r.json() == {"success": True}
    r = await client.post(
        "/api/v1/auth/sessions/current/refresh", headers=emu.headers("client", refresh_token=two["refresh_token"])
    )
    assert known_error(r)[1] == "REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED"  # revoked session: refresh token is dead
    r = await client.delete("/api/v1/auth/sessions/current", headers=me_one)
    assert r.json() == {"success": True}
    assert emu.sessions(user["id"]) == []


async def test_password_sign_up_and_sign_in(emu: Emulator, client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/password/sign-up",
        json={"email": "New@Example.com", "password": "longenough"},
        headers=emu.headers("client"),
    )
    assert r.status_code == 200
    assert set(r.json()) == {"access_token", "refresh_token", "user_id"}
    user = emu.get_user(r.json()["user_id"])
    assert user is not None
    assert user["primary_email"] == "new@example.com"
    assert user["selected_team"] is not None
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["selected_team_id"] == user["selected_team_id"]
    r = await client.post(
        "/api/v1/auth/password/sign-in",
        json={"email": "new@example.com", "password": "longenough"},
        headers=emu.headers("client"),
    )
    assert r.status_code == 200
    assert r.json()["user_id"] == user["id"]
    r = await client.post(
        "/api/v1/auth/password/sign-in",
        json={"email": "new@example.com", "password": "wrong-one"},
        headers=emu.headers("client"),
    )
    assert known_error(r)[1] == "EMAIL_PASSWORD_MISMATCH"


async def test_projects_are_isolated(emu: Emulator, client: httpx.AsyncClient) -> None:
    other = emu.add_project(publishable_client_key="pk2", secret_server_key="sk2", create_personal_team=False)
    assert len(other.project_id) == 36
    await new_user(client, emu, display_name="In internal")
    r = await client.get("/api/v1/users", headers=emu.headers(project_id=other.project_id))
    assert r.json()["items"] == []
    r = await client.get(
        "/api/v1/users",
        headers={**emu.headers(project_id=other.project_id), "x-stack-secret-server-key": emu.secret_server_key},
    )
    assert known_error(r)[1] == "INVALID_SECRET_SERVER_KEY"


async def test_override_error_status_and_plain_text_errors(emu: Emulator, client: httpx.AsyncClient) -> None:
    missing = "60b1838f-7046-48d2-a25b-e6e86f0aa50a"
    r = await client.get(f"/api/v1/users/{missing}", headers={**emu.headers(), "x-stack-override-error-status": "true"})
    assert r.status_code == 200
    assert r.headers["x-stack-actual-status"] == "404"
    assert r.headers["x-stack-known-error"] == "USER_NOT_FOUND"
    r = await client.get("/api/v1/no-such-route", headers=emu.headers())
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/plain")
    r = await client.put("/api/v1/users", headers=emu.headers())
    assert r.status_code == 405


async def test_seed_makes_ids_reproducible() -> None:
    a, b = Emulator(seed=11), Emulator(seed=11)
    assert a.create_user(display_name="x")["id"] == b.create_user(display_name="x")["id"]
    assert a.jwks() == b.jwks()
    assert Emulator(seed=12).jwks() != a.jwks()


async def test_project_default_page_size_and_restricted_users(emu: Emulator, client: httpx.AsyncClient) -> None:
    for i in range(3):
        await new_user(client, emu, display_name=f"L{i}")
    blocked = await new_user(client, emu, restricted_by_admin=True, restricted_by_admin_reason="spam")
    assert blocked["is_restricted"] is True
    assert blocked["restricted_reason"] == {"type": "restricted_by_administrator"}
    assert len((await _page(client, emu))[0]) == 3
    assert blocked["id"] in (await _page(client, emu, include_restricted="true"))[0]
    emu.configure_project(users_default_limit=2)
    page, cursor = await _page(client, emu)
    assert len(page) == 2
    assert cursor is not None


async def test_jwks_of_an_unknown_project_is_a_plain_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/projects/nope/.well-known/jwks.json")
    assert (r.status_code, r.text) == (404, "Project not found")


def test_python_api_checks_fields() -> None:
    emu = Emulator()
    with pytest.raises(ValueError, match="display_name must be a `string` type"):
        emu.create_user(display_name=1)
    with pytest.raises(TypeError, match="unknown project settings"):
        emu.add_project(no_such_setting=True)
    with pytest.raises(ValueError, match="exists already"):
        emu.add_project("internal")


def test_last_code_reads_the_link_of_the_last_mail() -> None:
    emu = Emulator()
    with emu._store.lock:
        project = emu._store.project(emu.project_id)
        project.send_mail("a@example.com", "sign_in_code", "first", "http://localhost:3000/magic?x=1", 1)
        project.send_mail("a@example.com", "password_reset", "second", None, 2)
    assert emu.last_code("a@example.com") == "second"
    assert emu.last_code("a@example.com", kind="sign_in_code") == "first"
    (mail,) = emu.mail("a@example.com", kind="sign_in_code")
    assert mail.link == "http://localhost:3000/magic?x=1&code=first"
    assert "first" not in repr(mail)
    with pytest.raises(LookupError, match=r"no mail was sent to 'b@example\.com'"):
        emu.last_code("b@example.com")
