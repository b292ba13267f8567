"""API keys of users and teams (``app.user_api_keys``, ``app.team_api_keys``, ``get_by_api_key``, the current user's
own keys): async on asyncio and trio, in-process and over a socket, and sync over a socket."""

from __future__ import annotations

import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from emulator_helpers import client_for, known_error, last_request, samples
from model_checks import check_model

from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackServerApp
from stack_auth._api_key_format import format_api_key, parse_api_key
from stack_auth.errors import (
    ApiKeyNotFound,
    ApiKeyNotValid,
    BadRequestError,
    InvalidArgumentError,
    StackAuthApiError,
    WrongApiKeyType,
)
from stack_auth.models import TeamApiKey, UserApiKey, structure
from stack_auth.testing import Emulator, in_process_app

MISSING = "00000000-0000-4000-8000-000000000000"


def _in(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


@pytest.mark.anyio
async def test_user_api_keys(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    key = await app.user_api_keys.create(user.id, description="CI")
    assert last_request(emulator) == (
        "POST",
        "/user-api-keys",
        {},
        {"user_id": user.id, "description": "CI", "expires_at_millis": None},
    )
    assert isinstance(key, UserApiKey) and key.user_id == user.id and key.type == "user"
    assert key.secret is not None and key.secret.startswith("sk_") and key.last_four == key.secret[-4:]
    assert parse_api_key(key.secret).key_id == key.id  # Stack's format: the key's id is inside the secret
    assert (key.expires_at, key.manually_revoked_at, key.is_public) == (None, None, False) and key.is_valid()

    until = _in(30).replace(microsecond=0)
    public = await app.user_api_keys.create(user.id, description="widget", expires_at=until, is_public=True)
    assert last_request(emulator)[3] == {
        "user_id": user.id,
        "description": "widget",
        "expires_at_millis": round(until.timestamp() * 1000),
        "is_public": True,
    }
    assert public.secret is not None and public.secret.startswith("pk_") and public.is_public
    assert public.expires_at == until

    listed = await app.user_api_keys.list(user.id)
    assert last_request(emulator) == ("GET", "/user-api-keys", {"user_id": user.id}, None)
    assert [k.id for k in listed] == [public.id, key.id]  # newest first
    assert all(k.secret is None for k in listed) and listed[1].last_four == key.last_four

    got = await app.user_api_keys.get(key.id)
    assert last_request(emulator) == ("GET", f"/user-api-keys/{key.id}", {}, None)
    assert got is not None and (got.id, got.description, got.secret) == (key.id, "CI", None)
    assert await app.user_api_keys.get(MISSING) is None

    renamed = await app.user_api_keys.update(key.id, description="CI (old)")
    assert last_request(emulator) == ("PATCH", f"/user-api-keys/{key.id}", {}, {"description": "CI (old)"})
    assert renamed.description == "CI (old)"

    checked = await app.user_api_keys.check(key.secret)
    assert last_request(emulator) == ("POST", "/user-api-keys/check", {}, {"api_key": key.secret})
    assert checked is not None and checked.id == key.id and checked.secret is None
    owner = await app.users.get_by_api_key(key.secret)
    assert owner is not None and owner.id == user.id

    revoked = await app.user_api_keys.revoke(key.id)
    assert last_request(emulator) == ("PATCH", f"/user-api-keys/{key.id}", {}, {"revoked": True})
    assert revoked.manually_revoked_at is not None and revoked.why_invalid() == "manually-revoked"
    again = await app.user_api_keys.revoke(key.id)
    assert again.manually_revoked_at == revoked.manually_revoked_at  # the first revocation time stays
    assert await app.user_api_keys.check(key.secret) is None
    assert await app.users.get_by_api_key(key.secret) is None

    unknown = format_api_key(key_id=MISSING, secret_part="a" * 45, type="user", is_public=False)
    assert await app.user_api_keys.check(unknown) is None  # well formed, but Stack never issued it

    await app.users.delete(user.id)  # a user's keys go with them
    assert public.secret is not None and await app.user_api_keys.check(public.secret) is None


@pytest.mark.anyio
async def test_expired_keys_are_refused(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    key = await app.user_api_keys.create(user.id, description="short", expires_at=_in(1))
    assert key.secret is not None and await app.user_api_keys.check(key.secret) is not None
    emulator.advance_time(2 * 86_400)
    assert await app.user_api_keys.check(key.secret) is None
    listed = await app.user_api_keys.list(user.id)
    assert listed[0].why_invalid(datetime.now(timezone.utc) + timedelta(days=2)) == "expired"


@pytest.mark.anyio
async def test_team_api_keys(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    team = await app.teams.create("Deployers", creator_user_id=user.id)
    key = await app.team_api_keys.create(team.id, description="deploy")
    assert last_request(emulator) == (
        "POST",
        "/team-api-keys",
        {},
        {"team_id": team.id, "description": "deploy", "expires_at_millis": None},
    )
    assert isinstance(key, TeamApiKey) and key.team_id == team.id and key.secret is not None

    assert [k.id for k in await app.team_api_keys.list(team.id)] == [key.id]
    assert last_request(emulator) == ("GET", "/team-api-keys", {"team_id": team.id}, None)
    got = await app.team_api_keys.get(key.id, team_id=team.id)
    assert last_request(emulator) == ("GET", f"/team-api-keys/{key.id}", {"team_id": team.id}, None)
    assert got is not None and got.description == "deploy"
    assert await app.team_api_keys.get(MISSING, team_id=team.id) is None
    with pytest.raises(ApiKeyNotFound):
        await app.team_api_keys.update(MISSING, team_id=team.id, description="x")
    updated = await app.team_api_keys.update(key.id, team_id=team.id, description="x")
    assert last_request(emulator) == ("PATCH", f"/team-api-keys/{key.id}", {"team_id": team.id}, {"description": "x"})
    assert updated.description == "x"

    checked = await app.team_api_keys.check(key.secret)
    assert last_request(emulator) == ("POST", "/team-api-keys/check", {}, {"api_key": key.secret})
    assert checked is not None and checked.team_id == team.id
    found = await app.teams.get_by_api_key(key.secret)
    assert found is not None and found.id == team.id

    with pytest.raises(WrongApiKeyType) as wrong:  # a team key is not a user key
        await app.user_api_keys.check(key.secret)
    assert wrong.value.status == 400 and wrong.value.details == {"expected_type": "user", "actual_type": "team"}
    assert isinstance(wrong.value, ApiKeyNotValid)

    await app.team_api_keys.revoke(key.id, team_id=team.id)
    assert last_request(emulator) == ("PATCH", f"/team-api-keys/{key.id}", {"team_id": team.id}, {"revoked": True})
    assert await app.team_api_keys.check(key.secret) is None
    assert await app.teams.get_by_api_key(key.secret) is None


@pytest.mark.anyio
async def test_bad_input_fails_before_sending(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    before = emulator.stats.total
    with pytest.raises(InvalidArgumentError, match="user_id must be a UUID"):
        await app.user_api_keys.create("not-a-uuid", description="x")
    with pytest.raises(InvalidArgumentError, match="timezone-aware"):
        await app.user_api_keys.create(user.id, description="x", expires_at=datetime.now() + timedelta(days=1))
    with pytest.raises(InvalidArgumentError, match="in the past"):
        await app.user_api_keys.create(user.id, description="x", expires_at=_in(-1))
    with pytest.raises(InvalidArgumentError, match="not a Stack API key"):
        await app.user_api_keys.check("not-a-real-api-key")
    with pytest.raises(InvalidArgumentError, match="key_id must be a UUID"):
        await app.team_api_keys.get("nope", team_id=MISSING)
    with pytest.raises(InvalidArgumentError, match="team_id must be a UUID"):
        await app.team_api_keys.revoke(MISSING, team_id="nope")
    key = format_api_key(key_id=MISSING, secret_part="b" * 45, type="user", is_public=False)
    typo = key[:10] + ("c" if key[10] != "c" else "d") + key[11:]
    with pytest.raises(InvalidArgumentError, match="checksum") as bad:
        await app.users.get_by_api_key(typo)
    assert typo not in str(bad.value) and typo[3:48] not in repr(bad.value)
    assert emulator.stats.total == before  # nothing reached Stack


@pytest.mark.anyio
async def test_disabled_api_keys_answer_as_stack_does(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = await app.users.create(display_name="Ada")
    emulator.configure_project(allow_user_api_keys=False)
    with pytest.raises(BadRequestError, match="User API keys are not enabled for this project") as refused:
        await app.user_api_keys.create(user.id, description="x")
    assert refused.value.code is None  # a plain-text refusal, as on Stack


@pytest.mark.anyio
async def test_secrets_stay_out_of_reprs_logs_and_errors(
    app: AsyncStackServerApp, caplog: pytest.LogCaptureFixture
) -> None:
    user = await app.users.create(display_name="Ada")
    team = await app.teams.create("T", creator_user_id=user.id)
    with caplog.at_level(logging.DEBUG, logger="stack_auth"):
        key = await app.user_api_keys.create(user.id, description="CI")
        team_key = await app.team_api_keys.create(team.id, description="deploy")
        assert key.secret is not None and team_key.secret is not None
        await app.user_api_keys.check(key.secret)
        with pytest.raises(StackAuthApiError) as wrong:
            await app.team_api_keys.check(key.secret)
    shown = [repr(key), str(key), repr(team_key), repr(parse_api_key(key.secret)), str(wrong.value), caplog.text]
    for text in shown:
        assert key.secret not in text and key.secret[3:48] not in text and team_key.secret not in text
    assert "last_four='" in repr(key)


def test_models_match_the_schema_and_the_real_answers() -> None:
    real = samples("samples-wave2.json")
    created = real["user-api-keys.create public with expiry (server)"]["body"]
    key = structure(created, UserApiKey)
    assert key.secret == "<api_key_secret>" and key.last_four == "ret>" and key.extra == {}
    read = real["user-api-keys.update revoked=true (server)"]["body"]
    model = check_model(UserApiKey, read, method="PATCH", template="/user-api-keys/{api_key_id}")
    assert (model.last_four, model.secret) == (read["value"]["last_four"], None)
    assert model.manually_revoked_at is not None and model.why_invalid() == "manually-revoked"
    team_read = real["team-api-keys.list (server)"]["body"]["items"][0]
    check_model(TeamApiKey, team_read, method="GET", template="/team-api-keys", item=True)
    decoded = structure(team_read, TeamApiKey)
    assert (decoded.team_id, decoded.last_four, decoded.extra) == (
        team_read["team_id"],
        team_read["value"]["last_four"],
        {},
    )
    assert decoded.expires_at is not None and decoded.manually_revoked_at is None  # absent, not null, on Stack


def test_sync_api_keys(sync_app: StackServerApp, emulator: Emulator) -> None:
    user = sync_app.users.create(display_name="Sync")
    team = sync_app.teams.create("Sync team", creator_user_id=user.id)
    key = sync_app.user_api_keys.create(user.id, description="cron", expires_at=_in(7))
    assert key.secret is not None and sync_app.user_api_keys.check(key.secret) is not None
    assert last_request(emulator) == ("POST", "/user-api-keys/check", {}, {"api_key": key.secret})
    user_found = sync_app.users.get_by_api_key(key.secret)
    assert user_found is not None and user_found.id == user.id
    assert [k.id for k in sync_app.user_api_keys.list(user.id)] == [key.id]
    got = sync_app.user_api_keys.get(key.id)
    assert got is not None and got.expires_at is not None
    assert sync_app.user_api_keys.update(key.id, description="cron 2").description == "cron 2"
    sync_app.user_api_keys.revoke(key.id)
    assert sync_app.user_api_keys.check(key.secret) is None

    team_key = sync_app.team_api_keys.create(team.id, description="ops", is_public=True)
    assert team_key.secret is not None and team_key.secret.startswith("pk_")
    team_found = sync_app.teams.get_by_api_key(team_key.secret)
    assert team_found is not None and team_found.id == team.id
    assert sync_app.team_api_keys.get(team_key.id, team_id=team.id) is not None
    assert sync_app.team_api_keys.update(team_key.id, team_id=team.id, description="ops 2").description == "ops 2"
    assert [k.id for k in sync_app.team_api_keys.list(team.id)] == [team_key.id]
    sync_app.team_api_keys.revoke(team_key.id, team_id=team.id)
    assert sync_app.team_api_keys.check(team_key.secret) is None
    assert last_request(emulator) == ("POST", "/team-api-keys/check", {}, {"api_key": team_key.secret})


def test_sync_checks_from_threads(sync_app: StackServerApp, emulator: Emulator) -> None:
    users = [sync_app.users.create(display_name=f"Worker {n}") for n in range(4)]
    secrets = {}
    for user in users:
        key = sync_app.user_api_keys.create(user.id, description="worker")
        assert key.secret is not None
        secrets[key.secret] = user.id
    before = emulator.stats.count("POST /user-api-keys/check")
    with ThreadPoolExecutor(max_workers=8) as pool:
        owners = list(pool.map(sync_app.users.get_by_api_key, [*secrets] * 5))
    assert [o.id if o else None for o in owners] == [*secrets.values()] * 5
    assert emulator.stats.count("POST /user-api-keys/check") == before + 20


@pytest.mark.anyio
async def test_current_user_api_keys(emulator: Emulator) -> None:
    user = emulator.create_user(display_name="Self-service")
    tokens = emulator.create_session(user["id"])
    async with in_process_app(emulator, AsyncStackClientApp) as app:
        app.token_store.set(tokens["access_token"], tokens["refresh_token"])  # type: ignore[union-attr]
        key = await app.current_user.create_api_key(description="laptop")
        assert last_request(emulator) == (
            "POST",
            "/user-api-keys",
            {},
            {"user_id": "me", "description": "laptop", "expires_at_millis": None},
        )
        assert key.user_id == user["id"] and key.secret is not None
        listed = await app.current_user.list_api_keys()
        assert last_request(emulator) == ("GET", "/user-api-keys", {"user_id": "me"}, None)
        assert [k.id for k in listed] == [key.id]
        emulator.configure_project(allow_user_api_keys=False)
        with pytest.raises(BadRequestError, match="not enabled"):
            await app.current_user.list_api_keys()


def test_demo_shows_an_api_key_check() -> None:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "stack_auth", "demo"], cwd=root, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split("  ")[1].strip(): line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "valid, user " in lines["user_api_keys.check"]
    assert lines["user_api_keys.revoke, then check"].rstrip().endswith("None")
    assert "sk_" not in done.stdout and done.stderr == ""


@pytest.mark.anyio
async def test_clients_manage_only_their_own_keys(emulator: Emulator) -> None:
    owner = emulator.create_user(display_name="Owner")["id"]
    other = emulator.create_user(display_name="Other")["id"]
    team = emulator.create_team("Keys", creator_user_id=owner)["id"]
    emulator.add_team_member(team, other)
    async with in_process_app(emulator, AsyncStackServerApp) as server:
        key = await server.user_api_keys.create(owner, description="owner's")
        team_key = await server.team_api_keys.create(team, description="team's")
    async with client_for(emulator) as c:
        as_other = emulator.headers("client", access_token=emulator.create_session(other)["access_token"])
        stolen = await c.patch(f"/api/v1/user-api-keys/{key.id}", json={"revoked": True}, headers=as_other)
        assert (stolen.status_code, stolen.text) == (403, "Client can only manage their own api keys")
        # A plain member lacks $manage_api_keys: the team's keys look absent (404), as on Stack.
        hidden = await c.get(f"/api/v1/team-api-keys/{team_key.id}", params={"team_id": team}, headers=as_other)
        assert known_error(hidden)[:2] == (404, "API_KEY_NOT_FOUND")
        as_owner = emulator.headers("client", access_token=emulator.create_session(owner)["access_token"])
        revoked = await c.patch(
            f"/api/v1/team-api-keys/{team_key.id}", params={"team_id": team}, json={"revoked": True}, headers=as_owner
        )
        assert revoked.status_code == 200 and "manually_revoked_at_millis" in revoked.json()


@pytest.mark.anyio
async def test_keys_issued_by_the_emulator(app: AsyncStackServerApp, emulator: Emulator) -> None:
    user = emulator.create_user(display_name="Seeded")["id"]
    team = emulator.create_team("Seeded team")["id"]
    issued = emulator.create_api_key(user, description="seeded", expires_at_millis=int(emulator.now() * 1000) + 60_000)
    team_issued = emulator.create_api_key(team, team=True, is_public=True)
    checked = await app.user_api_keys.check(issued["value"])
    assert checked is not None and (checked.id, checked.user_id, checked.description) == (issued["id"], user, "seeded")
    team_key = await app.team_api_keys.check(team_issued["value"])
    assert team_key is not None and team_key.is_public and team_issued["value"].startswith("pk_")
    emulator.advance_time(61)
    assert await app.user_api_keys.check(issued["value"]) is None
    with pytest.raises(KeyError, match="unknown team"):
        emulator.create_api_key(user, team=True)
