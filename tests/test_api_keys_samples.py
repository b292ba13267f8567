"""The emulator's API key and OAuth provider routes against the real answers of ``samples-wave2.json``.

The calls below replay the capture run (``tools/capture_wave2.py``) in its order, so that lists hold the same items:
same status, headers, keys, types and nulls (absent stays absent: unset expiry fields, a link's unset email), and the
same error texts, ids aside.
"""

from __future__ import annotations

import time

import httpx
import pytest

from stack_auth.testing import Emulator

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for, sample_differences, samples, sign_in
except ImportError:
    from emulator_helpers import client_for, sample_differences, samples, sign_in  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

MISSING = "d26c85f6-6b54-4f4c-bd4f-82eb27725631"
AREAS = ("oauth-providers.", "user-api-keys.", "team-api-keys.", "users.get with an OAuth provider")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _oauth_calls(emu: Emulator, c: httpx.AsyncClient, alice: str, bob: str) -> dict[str, httpx.Response]:
    server = emu.headers("server")
    client = emu.headers("client", access_token=(await sign_in(c, emu, alice))["access_token"])
    out: dict[str, httpx.Response] = {}
    link = {"provider_config_id": "github", "account_id": "gh-150221-60ee"}
    out["oauth-providers.create (server)"] = r = await c.post(
        "/api/v1/oauth-providers",
        json={
            "user_id": alice,
            **link,
            "email": "alice-gh-150221-60ee@example.com",
            "allow_sign_in": True,
            "allow_connected_accounts": True,
        },
        headers=server,
    )
    path = f"/api/v1/oauth-providers/{alice}/{r.json()['id']}"
    out["oauth-providers.list by user (server)"] = await c.get(
        "/api/v1/oauth-providers", params={"user_id": alice}, headers=server
    )
    out["oauth-providers.list me (client)"] = await c.get(
        "/api/v1/oauth-providers", params={"user_id": "me"}, headers=client
    )
    out["oauth-providers.get (server)"] = await c.get(path, headers=server)
    out["users.get with an OAuth provider (server)"] = await c.get(f"/api/v1/users/{alice}", headers=server)
    out["oauth-providers.update (server)"] = await c.patch(
        path, json={"allow_connected_accounts": False, "email": "alice-gh2-150221-60ee@example.com"}, headers=server
    )
    out["oauth-providers.update me (client)"] = await c.patch(
        path.replace(alice, "me"), json={"allow_connected_accounts": True}, headers=client
    )
    sign_in_link = {"allow_sign_in": True, "allow_connected_accounts": True}
    out["error: oauth-providers.create account_id already used for sign-in"] = await c.post(
        "/api/v1/oauth-providers", json={"user_id": bob, **link, **sign_in_link}, headers=server
    )
    no_sign_in = {"allow_sign_in": False, "allow_connected_accounts": True}
    out["oauth-providers.create same account_id without sign-in (server)"] = await c.post(
        "/api/v1/oauth-providers", json={"user_id": bob, **link, **no_sign_in}, headers=server
    )
    out["error: oauth-providers.create second sign-in provider of same type for user"] = await c.post(
        "/api/v1/oauth-providers",
        json={
            "user_id": alice,
            **link,
            "account_id": "gh-150221-60ee-2",
            "allow_sign_in": True,
            "allow_connected_accounts": False,
        },
        headers=server,
    )
    out["error: oauth-providers.create unknown provider_config_id"] = await c.post(
        "/api/v1/oauth-providers",
        json={"user_id": alice, **link, "provider_config_id": "gitlab-nope", **no_sign_in},
        headers=server,
    )
    out["error: oauth-providers.create (client)"] = await c.post(
        "/api/v1/oauth-providers",
        json={"user_id": alice, **link, "account_id": "gh-150221-60ee-3", **no_sign_in},
        headers=client,
    )
    out["error: oauth-providers.get with the wrong user"] = await c.get(path.replace(alice, bob), headers=server)
    out["oauth-providers.delete (server)"] = await c.delete(path, headers=server)
    out["error: oauth-providers.get after delete"] = await c.get(path, headers=server)
    return out


async def _key_calls(
    emu: Emulator, c: httpx.AsyncClient, kind: str, owner: str, now_ms: int
) -> tuple[dict[str, httpx.Response], dict[str, str]]:
    """The calls of one kind of key; also returns the secrets of its live and its revoked key."""
    server = emu.headers("server")
    base = f"/api/v1/{kind}-api-keys"
    query = {"team_id": owner} if kind == "team" else {}
    out: dict[str, httpx.Response] = {}

    async def create(name: str, **body: object) -> dict[str, str]:
        out[name] = r = await c.post(base, json={f"{kind}_id": owner, **body}, headers=server)
        return dict(r.json())

    plain = await create(
        f"{kind}-api-keys.create no expiry (server)",
        description=f"{kind} key without expiry",
        expires_at_millis=None,
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
    out[f"error: {kind}-api-keys.get missing"] = await c.get(f"{base}/{MISSING}", params=query, headers=server)
    out[f"{kind}-api-keys.update description (server)"] = await c.patch(
        f"{base}/{plain['id']}", params=query, json={"description": f"renamed {kind} key"}, headers=server
    )

    async def check(name: str, secret: str) -> None:
        out[name] = await c.post(f"{base}/check", json={"api_key": secret}, headers=server)

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
    return out, {"live": public["value"], "revoked": plain["value"], "public_id": public["id"]}


async def _sample_calls(emu: Emulator, c: httpx.AsyncClient) -> dict[str, httpx.Response]:
    alice = emu.create_user(display_name="Alice", primary_email="alice@example.com", primary_email_auth_enabled=True)
    bob = emu.create_user(display_name="Bob", primary_email="bob@example.com", primary_email_auth_enabled=True)
    team = emu.create_team("Capture team", creator_user_id=alice["id"])
    out = await _oauth_calls(emu, c, alice["id"], bob["id"])
    now_ms = int(time.time() * 1000)
    user_calls, user_keys = await _key_calls(emu, c, "user", alice["id"], now_ms)
    team_calls, team_keys = await _key_calls(emu, c, "team", team["id"], now_ms)
    out |= user_calls | team_calls
    server = emu.headers("server")
    out["error: user-api-keys.check team key"] = await c.post(
        "/api/v1/user-api-keys/check", json={"api_key": team_keys["live"]}, headers=server
    )
    out["error: team-api-keys.check user key"] = await c.post(
        "/api/v1/team-api-keys/check", json={"api_key": user_keys["live"]}, headers=server
    )
    alice_client = emu.headers("client", access_token=(await sign_in(c, emu, alice["id"]))["access_token"])
    out["user-api-keys.create me (client)"] = await c.post(
        "/api/v1/user-api-keys",
        json={"user_id": "me", "description": "created by the user", "expires_at_millis": None},
        headers=alice_client,
    )
    out["user-api-keys.list me (client)"] = await c.get(
        "/api/v1/user-api-keys", params={"user_id": "me"}, headers=alice_client
    )
    out["error: user-api-keys.list another user (client)"] = await c.get(
        "/api/v1/user-api-keys", params={"user_id": bob["id"]}, headers=alice_client
    )
    # A plain member holds no $manage_api_keys (in project `internal` the team's creator lacks it too).
    emu.add_team_member(team["id"], bob["id"])
    bob_client = emu.headers("client", access_token=(await sign_in(c, emu, bob["id"]))["access_token"])
    out["error: team-api-keys.list without $manage_api_keys (client)"] = await c.get(
        "/api/v1/team-api-keys", params={"team_id": team["id"]}, headers=bob_client
    )
    out["error: team-api-keys.list without team_id (server)"] = await c.get("/api/v1/team-api-keys", headers=server)
    out["error: team-api-keys.get without team_id query (server)"] = await c.get(
        f"/api/v1/team-api-keys/{team_keys['public_id']}", headers=server
    )
    return out


async def test_api_key_and_oauth_provider_answers_match_the_real_samples() -> None:
    real = {
        name: s for name, s in samples("samples-wave2.json").items() if name.removeprefix("error: ").startswith(AREAS)
    }
    assert len(real) == 57
    emu = Emulator(seed=3)
    async with client_for(emu) as c:
        answers = await _sample_calls(emu, c)
    assert sorted(answers) == sorted(real)
    problems = [p for name, sample in real.items() for p in sample_differences(name, sample, answers[name])]
    assert not problems, "\n".join(problems)
